// Number and value formatting: Python's float repr and its format mini-language
// (format(value, spec), the `{expr:spec}` of f-strings). The digits come from std::to_chars,
// which rounds correctly; the layout rules are CPython's (Python/pystrtod.c,
// Python/formatter_unicode.c).
#include <algorithm>
#include <charconv>
#include <cmath>

#include "error.h"
#include "ops.h"
#include "tensor_ops.h"

namespace tvm {

namespace {

// ---------------------------------------------------------------- digits and layout

// A non-negative finite double as significant digits D and a decimal point position:
// value = 0.D × 10^decpt.
struct Digits {
  std::string digits;
  int decpt;
};

// The digits of to_chars' scientific form: shortest round-trip when precision < 0, else
// precision digits after the first.
Digits scientific_digits(double mag, int precision) {
  std::string buf(size_t(std::max(precision, 17)) + 16, '\0');
  auto r = precision < 0 ? std::to_chars(buf.data(), buf.data() + buf.size(), mag, std::chars_format::scientific)
                         : std::to_chars(buf.data(), buf.data() + buf.size(), mag, std::chars_format::scientific,
                                         precision);
  std::string_view text(buf.data(), size_t(r.ptr - buf.data()));  // "d.ddde+XX" or "de-XX"
  size_t e = text.find('e');
  Digits d;
  for (char c : text.substr(0, e))
    if (c != '.') d.digits += c;
  int exp = 0;
  std::string_view exp_text = text.substr(e + 1);
  if (exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  d.decpt = exp + 1;
  return d;
}

// CPython's format_float_short layout of digits: positional, or with an exponent, padded with
// zeros to `min_end` digit positions; the decimal point is dropped when nothing follows it
// unless `alt`; `add_dot_0` keeps at least one digit after the point of a positional integer.
std::string layout(const Digits& d, bool use_exp, int min_end, bool alt, bool add_dot_0) {
  int decpt = d.decpt, exp = 0;
  if (use_exp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const std::string& digits = d.digits;
  int n = int(digits.size());
  int end = std::max(min_end, !use_exp && add_dot_0 ? decpt + 1 : decpt);
  std::string out;
  if (decpt <= 0) {
    out += "0.";
    out.append(size_t(-decpt), '0');
    out += digits;
    out.append(size_t(std::max(0, end - n)), '0');
  } else if (decpt <= n) {
    out.append(digits, 0, size_t(decpt));
    out += '.';
    out.append(digits, size_t(decpt));
    out.append(size_t(std::max(0, end - n)), '0');
  } else {
    out += digits;
    out.append(size_t(decpt - n), '0');
    out += '.';
    out.append(size_t(end - decpt), '0');
  }
  if (out.back() == '.' && !alt) out.pop_back();
  if (use_exp) {
    char buf[8];
    auto r = std::to_chars(buf, buf + sizeof buf, exp < 0 ? -exp : exp);
    out += exp < 0 ? "e-" : "e+";
    if (r.ptr - buf < 2) out += '0';
    out.append(buf, r.ptr);
  }
  return out;
}

// Python's repr (format code 'r') of a non-negative finite double.
std::string repr_digits(double mag, bool alt) {
  Digits d = scientific_digits(mag, -1);
  bool use_exp = d.decpt <= -4 || d.decpt > 16;
  return layout(d, use_exp, int(d.digits.size()), alt, true);
}

// ---------------------------------------------------------------- the format spec

struct Spec {
  std::string fill = " ";  // one code point
  bool fill_given = false;
  char align = 0;          // '<' '>' '^' '=', or 0 for the type's default
  char sign = 0;           // '+' '-' ' ', or 0
  bool no_neg_zero = false;
  bool alt = false;
  int64_t width = -1;
  char grouping = 0;       // ',' or '_'
  int group_size = 3;      // 4 for '_' with b o x X
  int64_t precision = -1;
  char type = 0;
};

bool is_align(char c) { return c == '<' || c == '>' || c == '=' || c == '^'; }

[[noreturn]] void spec_error(std::string message) { throw_error(std::move(message)); }

// CPython's parse_internal_render_format_spec; default_type is the type a spec without one
// gets ('s' for str, 'd' for int, none for float).
Spec parse_spec(std::string_view spec, char default_type, const char* type_name_for_errors) {
  Spec s;
  s.type = default_type;
  size_t pos = 0, end = spec.size();
  size_t after_first = 0;
  utf8_decode(spec, after_first);
  if (after_first < end && is_align(spec[after_first])) {
    s.fill = std::string(spec.substr(0, after_first));
    s.fill_given = true;
    s.align = spec[after_first];
    pos = after_first + 1;
  } else if (is_align(spec[0])) {
    s.align = spec[0];
    pos = 1;
  }
  if (pos < end && (spec[pos] == '+' || spec[pos] == '-' || spec[pos] == ' ')) s.sign = spec[pos++];
  if (pos < end && spec[pos] == 'z') s.no_neg_zero = true, ++pos;
  if (pos < end && spec[pos] == '#') s.alt = true, ++pos;
  if (!s.fill_given && pos < end && spec[pos] == '0') {
    s.fill = "0";
    if (!s.align && default_type != 's') s.align = '=';
    ++pos;
  }
  auto integer = [&](int64_t& out) {
    size_t start = pos;
    int64_t v = 0;
    for (; pos < end && spec[pos] >= '0' && spec[pos] <= '9'; ++pos)
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, spec[pos] - '0', &v))
        spec_error("Too many decimal digits in format string");
    if (pos > start) out = v;
    return pos > start;
  };
  integer(s.width);
  if (pos < end && spec[pos] == ',') s.grouping = ',', ++pos;
  if (pos < end && spec[pos] == '_') {
    if (s.grouping) spec_error("Cannot specify both ',' and '_'.");
    s.grouping = '_', ++pos;
  }
  if (pos < end && spec[pos] == ',' && s.grouping == '_') spec_error("Cannot specify both ',' and '_'.");
  if (pos < end && spec[pos] == '.') {
    ++pos;
    if (!integer(s.precision)) spec_error("Format specifier missing precision");
  }
  if (end - pos > 1)
    spec_error("Invalid format specifier '" + std::string(spec) + "' for object of type '" + type_name_for_errors + "'");
  if (end - pos == 1) s.type = spec[pos];
  if (s.grouping) {
    switch (s.type) {
      case 'd': case 'e': case 'f': case 'g': case 'E': case 'G': case '%': case 'F': case 0:
        break;
      case 'b': case 'o': case 'x': case 'X':
        if (s.grouping == '_') {
          s.group_size = 4;
          break;
        }
        [[fallthrough]];
      default:
        spec_error(std::string("Cannot specify '") + s.grouping + "' with '" + s.type + "'.");
    }
  }
  return s;
}

[[noreturn]] void unknown_code(char type, const char* type_name) {
  spec_error(std::string("Unknown format code '") + type + "' for object of type '" + type_name + "'");
}

int64_t code_points(std::string_view s) {
  int64_t n = 0;
  for (size_t pos = 0; pos < s.size(); ++n) utf8_decode(s, pos);
  return n;
}

// Pads body (of `len` code points) to the spec's width with its fill; `sign_end` is where '='
// alignment puts the padding.
std::string pad(const Spec& s, std::string body, int64_t len, char default_align, size_t sign_end) {
  if (s.width <= len) return body;
  int64_t n = s.width - len;
  char align = s.align ? s.align : default_align;
  int64_t left = align == '>' || align == '=' ? n : align == '^' ? n / 2 : 0;
  auto fill = [&s](int64_t k) {
    std::string f;
    f.reserve(size_t(k) * s.fill.size());
    for (int64_t i = 0; i < k; ++i) f += s.fill;
    return f;
  };
  if (align == '=') return body.substr(0, sign_end) + fill(n) + body.substr(sign_end);
  return fill(left) + body + fill(n - left);
}

// CPython's _PyUnicode_InsertThousandsGrouping: digits grouped from the right, and when the
// fill is '0' with '=' alignment, zero-padded (grouping the zeros too) to min_width.
std::string group_digits(std::string_view digits, char sep, int size, int64_t min_width) {
  std::string out;  // built reversed
  int64_t remaining = int64_t(digits.size());
  bool first = true;
  for (;;) {
    int64_t len = std::min<int64_t>(size, std::max<int64_t>({remaining, min_width, 1}));
    int64_t zeros = std::max<int64_t>(0, len - remaining);
    int64_t chars = std::max<int64_t>(0, std::min(remaining, len));
    if (!first) out += sep;
    first = false;
    for (int64_t i = 0; i < chars; ++i) out += digits[size_t(remaining - 1 - i)];
    out.append(size_t(zeros), '0');
    remaining -= chars;
    min_width -= len;
    if (remaining <= 0 && min_width <= 0) break;
    min_width -= 1;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// Sign, prefix, grouped integer digits and the rest (fraction, exponent, '%'), padded.
// body starts with n_digits digits.
std::string finish_number(const Spec& s, bool negative, std::string_view prefix, std::string_view body,
                          size_t n_digits) {
  std::string head = negative ? "-" : s.sign == '+' ? "+" : s.sign == ' ' ? " " : "";
  head += prefix;
  std::string_view digits = body.substr(0, n_digits), rest = body.substr(n_digits);
  std::string out = head;
  if (s.grouping && n_digits > 0) {
    bool zero_pad = s.fill == "0" && s.align == '=';
    int64_t min_width = zero_pad ? s.width - int64_t(head.size() + rest.size()) : 0;
    out += group_digits(digits, s.grouping, s.group_size, min_width);
  } else {
    out += digits;
  }
  out += rest;
  int64_t len = code_points(out);
  return pad(s, std::move(out), len, '>', head.size());
}

// ---------------------------------------------------------------- by type

std::string format_str(std::string_view text, const Spec& s) {
  if (s.type != 's') unknown_code(s.type, "str");
  if (s.sign) spec_error("Sign not allowed in string format specifier");
  if (s.no_neg_zero) spec_error("Negative zero coercion (z) not allowed in string format specifier");
  if (s.alt) spec_error("Alternate form (#) not allowed in string format specifier");
  if (s.align == '=') spec_error("'=' alignment not allowed in string format specifier");
  std::string body(text);
  if (s.precision >= 0) {
    size_t pos = 0;
    for (int64_t k = 0; k < s.precision && pos < body.size(); ++k) utf8_decode(body, pos);
    body.resize(pos);
  }
  int64_t len = code_points(body);
  return pad(s, std::move(body), len, '<', 0);
}

std::string format_float(double value, Spec s) {
  bool add_dot_0 = false;
  if (s.type == 0) {  // like repr without a precision, else like 'g' keeping a ".0"
    add_dot_0 = true;
    s.type = s.precision < 0 ? 'r' : 'g';
  }
  if (s.type == 'n') s.type = 'g';
  bool percent = s.type == '%';
  if (percent) {
    value *= 100;
    s.type = 'f';
  }
  int precision = s.precision < 0 ? 6 : int(std::min<int64_t>(s.precision, 1000000));
  bool upper = s.type == 'E' || s.type == 'F' || s.type == 'G';
  char type = char(std::tolower(s.type));
  bool negative = std::signbit(value) && !std::isnan(value);
  double mag = std::fabs(value);
  std::string body;
  if (!std::isfinite(mag)) {
    body = std::isnan(mag) ? "nan" : "inf";
  } else if (type == 'r') {
    body = repr_digits(mag, s.alt);
  } else if (type == 'f' || type == 'e') {
    std::string buf(size_t(precision) + 330, '\0');
    auto fmt = type == 'f' ? std::chars_format::fixed : std::chars_format::scientific;
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), mag, fmt, precision);
    body.assign(buf.data(), r.ptr);
    if (s.alt && precision == 0) body.insert(type == 'f' ? body.size() : body.find('e'), ".");
  } else {  // 'g'
    int p = precision == 0 ? 1 : precision;
    Digits d = scientific_digits(mag, p - 1);
    if (!s.alt) {
      size_t last = d.digits.find_last_not_of('0');
      d.digits.resize(last == std::string::npos ? 1 : last + 1);
    }
    bool use_exp = d.decpt <= -4 || d.decpt > (add_dot_0 ? p - 1 : p);
    body = layout(d, use_exp, s.alt ? p : int(d.digits.size()), s.alt, add_dot_0);
  }
  if (percent) body += '%';
  if (upper) std::transform(body.begin(), body.end(), body.begin(), [](char c) { return char(std::toupper(c)); });
  // 'z': a negative value that rounds to zero loses its sign.
  if (negative && s.no_neg_zero && std::isfinite(mag) &&
      body.find_first_of("123456789") >= body.find_first_of("eE%"))
    negative = false;
  size_t n_digits = body.find_first_not_of("0123456789");
  return finish_number(s, negative, "", body, n_digits == std::string::npos ? body.size() : n_digits);
}

std::string format_int(int64_t value, const Spec& s, const char* type_name) {
  if (s.precision >= 0) spec_error("Precision not allowed in integer format specifier");
  if (s.no_neg_zero) spec_error("Negative zero coercion (z) not allowed in integer format specifier");
  bool negative = value < 0;
  uint64_t mag = negative ? uint64_t(0) - uint64_t(value) : uint64_t(value);
  if (s.type == 'c') {
    if (s.sign) spec_error("Sign not allowed with integer format specifier 'c'");
    if (s.alt) spec_error("Alternate form (#) not allowed with integer format specifier 'c'");
    if (negative || mag > 0x10FFFF) spec_error("%c arg not in range(0x110000)");
    char32_t c = char32_t(mag);
    std::string ch;
    append_utf8(ch, c);
    return pad(s, ch, 1, '>', 0);
  }
  int base = 10;
  const char* prefix = "";
  switch (s.type) {
    case 'd': case 'n': break;
    case 'b': base = 2, prefix = "0b"; break;
    case 'o': base = 8, prefix = "0o"; break;
    case 'x': base = 16, prefix = "0x"; break;
    case 'X': base = 16, prefix = "0X"; break;
    default: unknown_code(s.type, type_name);
  }
  char buf[72];
  auto r = std::to_chars(buf, buf + sizeof buf, mag, base);
  std::string digits(buf, r.ptr);
  if (s.type == 'X') std::transform(digits.begin(), digits.end(), digits.begin(), [](char c) { return char(std::toupper(c)); });
  return finish_number(s, negative, s.alt ? prefix : "", digits, digits.size());
}

bool is_float_type(char t) {
  return t == 'e' || t == 'E' || t == 'f' || t == 'F' || t == 'g' || t == 'G' || t == '%';
}

}  // namespace

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  std::string body = repr_digits(std::fabs(d), false);
  return std::signbit(d) ? "-" + body : body;
}

std::string format_value(Value v, std::string_view spec) {
  if (is_tensor(v)) return format_tensor_value(as_tensor(v), spec);
  if (spec.empty()) return to_str(v);
  if (is_type(v, ObjType::Str)) return format_str(str_view(v), parse_spec(spec, 's', "str"));
  if (v.is_int() || v.is_bool()) {
    const char* name = type_name(v);
    Spec s = parse_spec(spec, 'd', name);
    int64_t i = v.is_bool() ? int64_t(v.as_bool()) : v.as_int();
    if (is_float_type(s.type)) return format_float(double(i), s);
    return format_int(i, s, name);
  }
  if (v.is_double()) {
    Spec s = parse_spec(spec, 0, "float");
    if (s.type != 0 && s.type != 'n' && !is_float_type(s.type)) unknown_code(s.type, "float");
    return format_float(v.as_double(), s);
  }
  throw_error(std::string("unsupported format string passed to ") + type_name(v) + ".__format__");
}

}  // namespace tvm
