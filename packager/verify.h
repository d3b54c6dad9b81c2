// The bytecode verifier: what makes a loaded package safe to run (DESIGN.md, Package file;
// the rules are listed in tvm-pkg(5), VERIFICATION).
//
// The register VM trusts its code: it indexes registers, constants, globals, closure cells,
// kernel descriptors and annotations without bounds checks. verify_code checks once, before
// anything runs, every index an instruction or the frame layout holds, against the operand
// kinds of vm/reg_opcodes.h's table, so a corrupt or hostile package is refused with a reason
// instead of reading outside an array. What the verifier cannot know statically — the type of
// a register's value at run time — the VM checks as it runs.
#pragma once

#include <cstddef>
#include <string>

#include "../vm/code.h"

namespace tvm::pkg {

// Limits on a frame: the registers the 16-bit A field can name, and the instructions a
// 20-bit jump target can reach.
constexpr int kMaxRegisters = int(kMaxA) + 1;
constexpr size_t kMaxInstructions = size_t(kMaxBC) + 1;

struct VerifyContext {
  // The global slots of the module(s) the code runs in: GETGLOBAL/SETGLOBAL's bound.
  size_t nglobals = 0;
  // Name operands and CALL's keyword names must be interned strs (the VM compares keyword
  // names by pointer). A loaded package's are; the writer, which interns them when it writes
  // them, checks only that they are strs.
  bool require_interned = true;
};

// "" when an annotation can be checked against values (a known kind, dimensions only on a
// Tensor and at most 8 of them, each named dimension's index below ndim_names), else the
// reason, starting with `what`.
std::string check_annotation(const Annotation& a, size_t ndim_names, const std::string& what);

// "" when `code` is well formed, else the reason: "instruction 3 (ADD): register 9 out of
// range (the frame has 8)". Checks the frame layout (register and parameter counts, names,
// annotations, line table, kernels) and every instruction.
std::string verify_code(const CodeObj& code, const VerifyContext& ctx);

}  // namespace tvm::pkg
