// The register VM: runs a package's register bytecode (vm/reg_opcodes.h) — Lua's lvm.c shape.
//
// Frames sit over one contiguous register array: a frame's registers are R[0..nregs) at
// `base`; a call's callee and arguments are in a block R[A..A+B] at the top of the caller's
// live registers, and the callee's frame starts at R[A+1], so its parameters are already in
// place. Scalar work runs inline; tensor work goes through one kernel-call door (KCALL, and the
// tensor builtins). One RegisterVM belongs to one thread; many may run one Program at once.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "program.h"
#include "stack_vm.h"  // ProgramError
#include "vm.h"

namespace tvm {

class RegisterVM final : public VM {
 public:
  static constexpr int kMaxFrames = 10000;  // LANGUAGE.md section 4's recursion limit

  explicit RegisterVM(const Program& program);
  ~RegisterVM() override;

  // A script package: runs the main module's top level (a fresh module, __name__ "__main__").
  // Throws ProgramError on a runtime error.
  void run_script();
  // A function package: calls the entry with its inputs in manifest order (borrowed) and
  // returns its result (a new reference). Annotations are checked as on any call. Throws
  // ProgramError on a runtime error.
  Value call_entry(const Value* inputs, size_t n);

  using VM::call;
  Value call(Value callee, const CallArgs& args) override;

 private:
  struct Frame {
    const RInstr* ip;   // past the instruction running (saved while a callee runs)
    const RInstr* code; // the function's instructions (jump targets count from here)
    Value* base;        // R[0]; the callee sits at base[-1] and owns the function's reference
    Value* end;         // past R[nregs - 1]
    // The end of every live frame's registers, this one's included: the registers from here
    // up own nothing (they are Undefined, or were never written).
    Value* live_end;
    FunctionObj* func;
  };

  // Runs the innermost frame (pushed by call_value) until it returns; its result.
  Value execute();
  // Calls the callee at block[0] with the arguments at block[1..] (owned references; the last
  // nkw are keywords). A TL function gets a frame at block + 1 (true); a native's result
  // replaces the callee in block[0] (false).
  bool call_value(Value* block, uint32_t npos, uint32_t nkw, StrObj* const* kwnames);
  bool call_keywords(Value* block, uint32_t n, const TupleObj* names);
  bool call_spread(Value* block, bool has_kw);
  bool call_method(Value* recv, uint32_t n, StrObj* name);
  void push_frame(FunctionObj* fn, Value* base, uint32_t nargs);
  // Places callee and arguments above every live frame's registers and runs the call to its end.
  Value call_here(Value callee, const Value* args, uint32_t npos, const Value* kwvals, uint32_t nkw, StrObj* const* kwnames);
  ModuleObj* new_module(const std::string& name, const std::string& path, const ModuleObj* layout, const CodeObj* code);
  Value import(const std::string& name);
  [[noreturn]] void fail_with_current_exception();
  // After an error that ended a run: releases every register and forgets the frames.
  void reset();
  template <typename F>
  Value run_outermost(F&& run);

  const Program& program_;
  std::unordered_map<std::string, ModuleObj*> modules_;  // imported this run (owned)
  Value* regs_;
  Value* regs_limit_;
  // Registers that calls from native code, *args spreading and keyword binding wrote beyond
  // the live frames' registers end below this (what reset() must release besides the frames').
  Value* regs_used_;
  Frame* frames_;
  Frame* frames_end_;  // frames_ + kMaxFrames
  Frame* top_;         // the innermost frame (frames_ - 1 when none), written back by execute()
  int native_depth_ = 0;
  std::vector<int64_t> dim_bindings_;  // Tensor[B, ...] names bound by the calls in progress
};

// The listing of a register CodeObj and every code constant nested in it: one line per
// instruction with its index, source line, opcode, operands (constants shown by value, fused
// kernels spelled out by describe_kernel) — what `--disasm` prints.
// Global slots are named from `module` when given, else from a module top level's slot_names.
std::string disassemble_register(const CodeObj* code, const ModuleObj* module = nullptr);

}  // namespace tvm
