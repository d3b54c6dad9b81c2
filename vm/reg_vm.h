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
  struct Frame;
  Value execute(Frame* entry);
  Value import(const std::string& name);

  const Program& program_;
  std::unordered_map<std::string, ModuleObj*> modules_;  // imported this run (owned)
  // ... register array, frames, dim-binding stack: the implementation's.
  struct State;
  State* state_;
};

// The listing of a register CodeObj and every code constant nested in it: one line per
// instruction with its index, source line, opcode, operands (constants shown by value, fused
// kernels spelled out by describe_kernel) — what `--disasm` prints.
std::string disassemble_register(const CodeObj* code);

}  // namespace tvm
