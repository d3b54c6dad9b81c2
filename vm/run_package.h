// `tvm-run model.pkg`: the standalone runner's work, apart from flag parsing (vm/main.cpp), so
// that tvm-run, tvm-pack --disasm and the tests share it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "program.h"

namespace tvm {

struct RunOptions {
  std::vector<std::string> inputs;  // "NAME=VALUE": VALUE a .npy/.npz/.safetensors file or a literal
  bool random = false;              // random tensors of the declared shapes for inputs not given
  std::vector<std::string> dims;    // "B=32": binds a symbolic dimension for --random
  std::string output;               // -o: write the result to .npy (a tensor) or .npz (a tuple)
  long bench = 0;                   // --bench N: time N calls after a warm-up
  std::string device = "auto";      // cpu | cuda | auto
  bool disasm = false;              // print the manifest and the register code
  std::vector<std::string> argv;    // a script package's arguments (argv()[1:])
};

struct Device;
class Placement;

// The device `name` (cpu, cuda or auto) asks for, or null after printing why it cannot be had
// ("tvm-run: --device cuda: no CUDA-capable GPU"); the caller then exits with kExitDevice.
const Device* device_for(const std::string& name);

// Loads, verifies and runs the package at `path` as RunOptions say; prints the result or the
// error and returns the exit code (DESIGN.md: 1 program error, 2 usage or inputs, 3 the file,
// 4 the device).
int run_package(const std::string& path, const RunOptions& options);

class RegisterVM;

// Readies a loaded function package for its first call, so that it costs what later calls do
// (the goal is within 2x), once the device is prepared (prepare_device): when the entry is
// straight-line code (no calls, no backward jumps: it cannot print, loop or recurse), `vm`
// calls it once on zeros of the declared shapes (named dimensions 1; numbers 0, strs ""),
// which brings in the code, the registers and the tensor pool's first buffers. The warm-up's
// result or error is dropped. tvm-run --bench and the C API's load call it, through the
// placement: on a GPU the warm-up is also the first call's CUDA-graph recording.
void warm_up(const Program& program, Placement& placement, RegisterVM& vm);

// The manifest and every code object's register listing (what --disasm prints).
std::string describe_program(const Program& program);

// "x: Tensor[B, 512], k: int": what a function package expects, for messages and --disasm.
std::string describe_inputs(const Manifest& manifest);
// "forward(x: Tensor[B, 512]) -> Tensor[B, 2]".
std::string describe_signature(const Manifest& manifest);

// Checks n values against a function package's inputs before a call: "" when they fit, else
// the reason ("missing input 'x'", "input 'x': expected Tensor[B, 512], got Tensor[1, 256]").
// `bound` (manifest.dim_names.size() entries, -1 = unbound) gets the named dimensions' sizes.
std::string check_inputs(const Manifest& manifest, const Value* values, size_t n, int64_t* bound);
// One input: "" or the reason.
std::string check_input(const Manifest::Input& input, Value v, int64_t* bound);

}  // namespace tvm
