// Scope resolution (LANGUAGE.md §4): binds every name to a frame slot, a closure cell or a
// global, lays out each function's frame, and checks the placement of break/continue/return
// and global/nonlocal declarations.
#pragma once

#include "ast.h"
#include "diag.h"

namespace tvm {

// Annotates `module` in place; scope errors are reported to diag.
void resolve(ast::Module& module, Diagnostics& diag);

}  // namespace tvm
