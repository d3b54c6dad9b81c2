// Compile-time diagnostics (diag.h).
#include "diag.h"

#include <algorithm>
#include <cstdio>

namespace tvm {

SourceFile::SourceFile(std::string name, std::string text) : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string_view SourceFile::line(int line) const {
  if (line < 1 || size_t(line) > line_starts_.size()) return {};
  size_t start = line_starts_[size_t(line) - 1];
  size_t end = size_t(line) < line_starts_.size() ? line_starts_[size_t(line)] - 1 : text_.size();
  std::string_view s(text_.data() + start, end - start);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

void Diagnostics::error(ast::Loc loc, std::string message) {
  errors_.push_back(Diagnostic{loc, std::move(message)});
}

std::string Diagnostics::format(const Diagnostic& d) const {
  std::string out = src_.name() + ':' + std::to_string(d.loc.line) + ':' + std::to_string(d.loc.col) +
                    ": error: " + d.message + '\n';
  std::string_view line = src_.line(d.loc.line);
  out += line;
  out += '\n';
  // The caret sits under column `col` (code points); a tab before it is copied so that the
  // caret lines up with the line above on any terminal.
  int col = 1;
  for (size_t i = 0; i < line.size() && col < d.loc.col; ++i) {
    unsigned char c = line[i];
    if ((c & 0xC0) == 0x80) continue;
    out += c == '\t' ? '\t' : ' ';
    ++col;
  }
  for (; col < d.loc.col; ++col) out += ' ';
  out += "^\n";
  return out;
}

void Diagnostics::print() const {
  std::vector<Diagnostic> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.loc.line != b.loc.line ? a.loc.line < b.loc.line : a.loc.col < b.loc.col;
  });
  // One error per position: the first one reported there (usually the root cause).
  const Diagnostic* prev = nullptr;
  for (const Diagnostic& d : sorted) {
    if (prev && prev->loc.line == d.loc.line && prev->loc.col == d.loc.col) continue;
    std::string text = format(d);
    std::fwrite(text.data(), 1, text.size(), stderr);
    prev = &d;
  }
}

}  // namespace tvm
