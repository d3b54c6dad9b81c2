// The TL front end's entry points: source text to AST (lexer.l, parser.y).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ast.h"
#include "diag.h"

namespace tvm {

// Parses a whole file. Always returns a Module; after errors (reported to `diag`, several
// per file) it holds the statements that parsed, and must not be compiled.
std::unique_ptr<ast::Module> parse_module(const SourceFile& src, Diagnostics& diag);

// The token stream of a file, for tests and debugging: "NAME(x)", "INT(1)", "FLOAT(0.5)",
// "STRING(\"a\\n\")", "FSTRING(\"a\" {x!r:>4})", keywords and operators as spelled
// ("if", "**="), "NEWLINE", "INDENT", "DEDENT", "ERROR" (after a lexical error), "EOF".
std::vector<std::string> token_names(const SourceFile& src, Diagnostics& diag);

}  // namespace tvm
