// The register back end (DESIGN.md, Pipelines): a resolved AST becomes an IR of basic blocks
// (compiler/ir.h), the passes run over it (constant folding of frozen values, inlining of frozen
// closures, unrolling over frozen sequences, dead-code removal, fusion of tensor ops), registers
// are allocated, and register bytecode comes out as CodeObjs with is_register set.
#pragma once

#include <functional>
#include <string>

#include "../vm/code.h"
#include "ast.h"
#include "diag.h"

namespace tvm {

// What pack time knows, for compiling against frozen values.
struct RegCompileEnv {
  // A function package: module globals are frozen. A global read of a name the module (or a
  // module of a frozen function) holds at pack time becomes that value as a constant; a read of
  // an unset name falls back to the builtin, or is the runtime error "name 'x' is not defined";
  // a global assignment is the pack-time error "cannot assign global 'x' in a package entry".
  // A script package: globals are live module slots (GETGLOBAL/SETGLOBAL), as in the stack VM.
  bool frozen_globals = false;
  // Inline calls of frozen functions whose bodies are small, and unroll `for` over frozen lists
  // and tuples (function packages). Off: every call is a CALL (used by tests of the plain path).
  bool specialise = true;
  // Fuse GEMM epilogues and elementwise chains.
  bool fuse = true;
};

// Register code for a script's or module's top level (a script package), with every function
// nested in it compiled as a constant. Global names use `module`'s slots, as emit_module does.
// Returns a new reference, or null after reporting errors to diag.
CodeObj* emit_register_module(const ast::Module& m, ModuleObj* module, const RegCompileEnv& env, Diagnostics& diag);

// Register code for a function value made at pack time by the stack VM (fn->code->ast is its
// ast::FunctionDef or ast::CompExpr), specialised to that closure: its closure cells and its
// module's globals are frozen, so reading them gives constants (env.frozen_globals must be set).
// The result's constants may hold pack-time values (tensors, lists, other stack-VM functions);
// the packager converts those when it freezes the graph. `diag_for` gives the Diagnostics of a
// function's source file for pack-time errors. Returns a new reference, or null after errors.
CodeObj* emit_register_function(FunctionObj* fn, const RegCompileEnv& env,
                                const std::function<Diagnostics&(const CodeObj* stack_code)>& diag_for);

}  // namespace tvm
