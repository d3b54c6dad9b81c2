// Compile-time diagnostics: `FILE:LINE:COL: error: MESSAGE`, the source line, and a caret.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ast.h"

namespace tvm {

// A source file's text with a line index, for carets.
class SourceFile {
 public:
  SourceFile(std::string name, std::string text);
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  // The text of 1-based line `line` without its newline ("" when out of range).
  std::string_view line(int line) const;

 private:
  std::string name_;
  std::string text_;
  std::vector<size_t> line_starts_;
};

struct Diagnostic {
  ast::Loc loc;
  std::string message;
};

// Collects compile errors; several per file are reported, in source order.
class Diagnostics {
 public:
  explicit Diagnostics(const SourceFile& src) : src_(src) {}
  void error(ast::Loc loc, std::string message);
  bool has_errors() const { return !errors_.empty(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  // Writes every error (sorted by position, duplicates at one position dropped) to stderr.
  void print() const;
  // One error as text: "FILE:LINE:COL: error: MSG\n<line>\n<caret>\n".
  std::string format(const Diagnostic& d) const;
  const SourceFile& source() const { return src_; }

 private:
  const SourceFile& src_;
  std::vector<Diagnostic> errors_;
};

}  // namespace tvm
