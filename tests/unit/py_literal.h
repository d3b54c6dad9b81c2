// Test helper: builds a TL value from Python literal syntax (what repr() prints) — None,
// True, False, ints, floats (also inf and nan), quoted strings with Python's escapes, lists,
// tuples and slice(a, b, c). The generated tables (tests/unit/gen_tables.py) spell their
// operands this way, which keeps them plain data that compiles fast.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "object.h"

namespace tvm_test {

class PyLiteral {
 public:
  explicit PyLiteral(std::string_view text) : s_(text) {}

  tvm::Ref parse() {
    tvm::Ref v = value();
    skip_space();
    if (pos_ != s_.size()) fail("trailing text");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw std::logic_error(std::string("bad literal (") + what + "): " + std::string(s_));
  }
  void skip_space() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool eat(std::string_view word) {
    skip_space();
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  tvm::Ref value() {
    using tvm::Ref;
    using tvm::Value;
    skip_space();
    if (eat("None")) return Ref::steal(Value::none());
    if (eat("True")) return Ref::steal(Value::boolean(true));
    if (eat("False")) return Ref::steal(Value::boolean(false));
    if (eat("[")) return Ref::steal(tvm::make_list(items("]")));
    if (eat("(")) return Ref::steal(tvm::make_tuple(items(")")));
    if (eat("slice(")) {
      std::vector<Value> parts = items(")");
      if (parts.size() != 3) fail("slice");
      auto* sl = new tvm::SliceObj();
      sl->lower = parts[0];
      sl->upper = parts[1];
      sl->step = parts[2];
      return Ref::steal(Value::object(sl));
    }
    if (s_[pos_] == '\'' || s_[pos_] == '"') return Ref::steal(tvm::make_str(string()));
    return number();
  }

  // Items up to `close` as new references (a trailing comma is allowed).
  std::vector<tvm::Value> items(std::string_view close) {
    std::vector<tvm::Value> out;
    while (!eat(close)) {
      out.push_back(value().release());
      if (!eat(",")) {
        if (!eat(close)) fail("missing close");
        break;
      }
    }
    return out;
  }

  std::string string() {
    char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'x': tvm::append_utf8(out, hex(2)); break;
        case 'u': tvm::append_utf8(out, hex(4)); break;
        case 'U': tvm::append_utf8(out, hex(8)); break;
        default: out += e; break;  // \\ \' \"
      }
    }
    if (pos_++ >= s_.size()) fail("unterminated string");
    return out;
  }

  char32_t hex(int digits) {
    unsigned v = 0;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + pos_ + digits, v, 16);
    if (r.ptr != s_.data() + pos_ + digits) fail("escape");
    pos_ += size_t(digits);
    return char32_t(v);
  }


  tvm::Ref number() {
    size_t start = pos_;
    while (pos_ < s_.size() && std::string_view("0123456789+-.einfa").find(s_[pos_]) != std::string_view::npos) ++pos_;
    std::string text(s_.substr(start, pos_ - start));
    if (text.empty()) fail("value");
    if (text.find_first_of(".eina") == std::string::npos) {
      int64_t i = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), i);
      if (r.ptr != text.data() + text.size()) fail("int");
      return tvm::Ref::steal(tvm::Value::integer(i));
    }
    double d = text == "nan" ? NAN : text == "inf" ? INFINITY : text == "-inf" ? -INFINITY : std::strtod(text.c_str(), nullptr);
    return tvm::Ref::steal(tvm::Value::number(d));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

inline tvm::Ref py_value(std::string_view text) { return PyLiteral(text).parse(); }

}  // namespace tvm_test
