// The stack VM: frames over one contiguous value stack, a computed-goto dispatch loop
// (stack_vm.cpp), and the call path shared by bytecode and native callers.
//
// A frame's slots (parameters, then locals) sit at `base`; the callee itself sits just below
// base and owns the function's reference while the frame runs; the operand stack grows above
// the slots. A CALL of a TL function therefore copies nothing: the arguments already pushed
// become the callee's first slots (as in clox and Lua).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "code.h"
#include "vm.h"

namespace tvm {

// A runtime error with its location and traceback already formatted; what tvm-run prints.
struct ProgramError {
  std::string message;  // "FILE:LINE:COL: runtime error: MSG\ntraceback ...\n"
  int exit_code;
};

class StackVM final : public VM {
 public:
  static constexpr int kMaxFrames = 10000;  // LANGUAGE.md §4's recursion limit

  StackVM();
  ~StackVM() override;

  // Finds, compiles and runs a module by name (set by the embedder: the front end lives in
  // compiler/, which the runtime does not depend on). Returns a new reference.
  using Importer = std::function<ModuleObj*(StackVM& vm, const std::string& name, const std::string& from_path)>;
  Importer importer;

  // Runs a module's top-level code. Throws ProgramError on a runtime error.
  void run_module(ModuleObj* module, CodeObj* code);

  using VM::call;
  Value call(Value callee, const CallArgs& args) override;

  // Loaded modules by name (owned references).
  std::unordered_map<std::string, ModuleObj*> modules;

 private:
  struct Frame {
    const uint32_t* ip;
    Value* base;
    FunctionObj* func;
    bool native_entry;  // returning from this frame returns from execute()
  };

  Value execute();
  // Sets up the call of the callee at sp[-nargs-1]. For a TL function, pushes its frame and
  // returns true; for native code, leaves the result in the callee's place and returns false.
  bool call_value(uint32_t npos, uint32_t nkw, StrObj* const* kwnames, bool native_entry);
  void push_frame(FunctionObj* fn, Value* base, bool native_entry);
  bool call_keywords(uint32_t n, const TupleObj* names);
  bool call_spread(bool has_kw);
  void check_args(const Frame& f);
  void check_return(const Frame& f, Value result);
  Value import(const std::string& name);
  [[noreturn]] void fail_with_current_exception();

  Value* stack_;
  Value* stack_limit_;
  Value* sp_;
  Frame* frames_;
  Frame* frames_end_;  // frames_ + kMaxFrames
  // The innermost frame (frames_ - 1 when none). execute() keeps it in a register and
  // writes it back before anything that may look at the frames.
  Frame* top_;
  int native_depth_ = 0;
  std::vector<int64_t> dim_bindings_;  // Tensor[B, ...] names bound by the calls in progress
};

// Names for messages and printing.
const char* function_name(const FunctionObj* f);

}  // namespace tvm
