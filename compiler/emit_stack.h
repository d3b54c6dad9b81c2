// The stack-bytecode back end: a resolved AST becomes CodeObjs for the stack VM.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ast.h"
#include "diag.h"
#include "../vm/code.h"

namespace tvm {

// Compiles a resolved module's top level (and, as constants, every function in it).
// Global names get their slots in `module`. Returns a new reference, or null after
// reporting errors to diag.
CodeObj* emit_module(ast::Module& m, ModuleObj* module, Diagnostics& diag);

// Parses, resolves and compiles one source file for `module`: the whole front end.
// Returns a new reference, or null when diag has errors. With keep_ast, the resolved tree is
// handed to the caller (the packager compiles it again); every CodeObj's `ast` points into it.
CodeObj* compile_source(const SourceFile& src, ModuleObj* module, Diagnostics& diag,
                        std::unique_ptr<ast::Module>* keep_ast = nullptr);

// An annotation as written (int, Tensor[B, 512], ...) read into an Annotation; a named
// dimension gets its index in dim_names (added there on first use). Errors go to diag.
Annotation read_annotation(const ast::Expr* e, std::vector<std::string>& dim_names, Diagnostics& diag);

// The bytecode listing of `code` and every function nested in it, with source lines.
std::string disassemble(const CodeObj* code, const SourceFile* src, const ModuleObj* module);

}  // namespace tvm
