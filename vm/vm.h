// The interpreter state shared by native code: calling back into TL, output, imports.
// (The stack VM's loop and frames are in vm/stack_vm.h.)
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "object.h"

namespace tvm {

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
    if (capture) capture->append(s);
    else std::fwrite(s.data(), 1, s.size(), stdout);
  }
  std::string* capture = nullptr;
  // The script's name and its arguments, for argv().
  std::vector<std::string> argv;
};

}  // namespace tvm
