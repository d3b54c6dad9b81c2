// The interpreter state shared by native code: calling back into TL, output, imports.
// (The stack VM's loop and frames are in vm/stack_vm.h.)
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"
#include "object.h"

namespace tvm {

// The random generator behind rand/randn (PCG32 XSH RR; the algorithm is documented in tl(7),
// so every machine and every later package gives the same numbers). Seeded with 0 at start.
struct Rng {
  uint64_t state = 0;
  uint64_t inc = 0;
  Rng() { seed(0); }
  void seed(uint64_t s) {  // pcg32_srandom_r(s, kStream)
    constexpr uint64_t kStream = 0xda3e39cb94b95bdbull;
    state = 0;
    inc = (kStream << 1) | 1;
    next();
    state += s;
    next();
  }
  uint32_t next() {
    uint64_t old = state;
    state = old * 6364136223846793005ull + inc;
    uint32_t xorshifted = uint32_t(((old >> 18) ^ old) >> 27);
    uint32_t rot = uint32_t(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }
};

class VM {
 public:
  virtual ~VM() = default;
  // Calls any callable (function, builtin, bound method) with borrowed arguments.
  virtual Value call(Value callee, const CallArgs& args) = 0;
  Value call(Value callee, std::initializer_list<Value> args) {
    CallArgs a;
    a.pos = args.begin();
    a.npos = uint32_t(args.size());
    return call(callee, a);
  }
  // Program output: stdout (buffered; flushed before any error is printed), or `capture`
  // when an embedder or a test sets it.
  void write(std::string_view s) {
    not_while_recording("output");
    if (capture) capture->append(s);
    else std::fwrite(s.data(), 1, s.size(), stdout);
  }
  std::string* capture = nullptr;
  // Set while a call is recorded as a CUDA graph (vm/placement.cpp): what a replay would not
  // repeat (output, the clock, the random generator, writing a file) ends the recording before
  // it happens, and the call then runs plainly.
  bool recording = false;
  void not_while_recording(const char* what) const {
    if (recording) throw RuntimeError(std::string(what) + " cannot be recorded in a CUDA graph");
  }
  // The script's name and its arguments, for argv().
  std::vector<std::string> argv;
  Rng rng;
};

}  // namespace tvm
