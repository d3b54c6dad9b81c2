// Operator semantics on values (LANGUAGE.md §2–§3): Python 3's rules with 64-bit ints.
#include "ops.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "error.h"
#include "program.h"
#include "tensor_ops.h"

namespace tvm {

// Defined with its type (vm/stack_vm.cpp).
const char* function_name(const FunctionObj* f);

namespace {

// ---------------------------------------------------------------- small helpers

// bool acts as an int in arithmetic, indexing and bitwise operators.
bool int_like(Value v) { return v.is_int() || v.is_bool(); }
int64_t int_of(Value v) { return v.is_bool() ? int64_t(v.as_bool()) : v.as_int(); }

bool is_str(Value v) { return is_type(v, ObjType::Str); }
StrObj* str_obj(Value v) { return as_obj<StrObj>(v); }

std::string quoted(const char* s) { return std::string("'") + s + "'"; }

[[noreturn]] void unsupported(BinaryOp op, Value a, Value b) {
  throw_error(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": " +
              quoted(type_name(a)) + " and " + quoted(type_name(b)));
}

[[noreturn]] void bad_unary(const char* op, Value v) {
  throw_error(std::string("bad operand type for unary ") + op + ": " + quoted(type_name(v)));
}

[[noreturn]] void division_by_zero() { throw_error("division by zero"); }
[[noreturn]] void integer_overflow() { throw_error("integer overflow"); }

// Comparisons, hashing and printing recurse into containers: a nesting deeper than this is an
// error rather than a C++ stack overflow.
constexpr int kMaxNesting = 2000;
thread_local int nesting = 0;

struct NestingGuard {
  NestingGuard() {
    if (++nesting > kMaxNesting) {
      --nesting;
      throw_error("maximum recursion depth exceeded");
    }
  }
  ~NestingGuard() { --nesting; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
};

// ---------------------------------------------------------------- int arithmetic

int64_t int_floordiv(int64_t x, int64_t y) {
  if (y == 0) division_by_zero();
  if (x == INT64_MIN && y == -1) integer_overflow();
  int64_t q = x / y;
  if (x % y != 0 && ((x < 0) != (y < 0))) --q;
  return q;
}

int64_t int_mod(int64_t x, int64_t y) {
  if (y == 0) division_by_zero();
  if (y == -1) return 0;  // INT64_MIN % -1 traps in C++
  int64_t r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

// Exponentiation by squaring. Squaring the base overflows only when a later bit of the
// exponent needs that square, so the result would overflow too.
int64_t int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = int_mul(result, base);
    exp >>= 1;
    if (exp > 0) base = int_mul(base, base);
  }
  return result;
}

int64_t int_lshift(int64_t x, int64_t n) {
  if (n < 0) throw_error("negative shift count");
  if (x == 0) return 0;
  if (n >= 64) integer_overflow();
  int64_t r = int64_t(uint64_t(x) << n);
  if ((r >> n) != x) integer_overflow();
  return r;
}

int64_t int_rshift(int64_t x, int64_t n) {
  if (n < 0) throw_error("negative shift count");
  if (n >= 63) return x < 0 ? -1 : 0;
  return x >> n;
}

int bit_length(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

// x / y correctly rounded, as Python's int true division (double(x) / double(y) rounds twice
// when an operand has more than 53 bits).
double int_true_div(int64_t x, int64_t y) {
  if (y == 0) division_by_zero();
  constexpr int64_t kExact = int64_t(1) << 53;
  if (x >= -kExact && x <= kExact && y >= -kExact && y <= kExact) return double(x) / double(y);
  bool negative = (x < 0) != (y < 0);
  uint64_t a = x < 0 ? uint64_t(0) - uint64_t(x) : uint64_t(x);
  uint64_t b = y < 0 ? uint64_t(0) - uint64_t(y) : uint64_t(y);
  // Scale so the quotient has at least 55 bits: 53 kept, a rounding bit, and bit 0 free to
  // carry the "inexact" flag, which the hardware's uint64 -> double conversion then rounds.
  int shift = std::max(0, 55 + bit_length(b) - bit_length(a));
  unsigned __int128 n = static_cast<unsigned __int128>(a) << shift;
  uint64_t q = uint64_t(n / b);
  if (n % b != 0) q |= 1;
  double r = std::ldexp(double(q), -shift);
  return negative ? -r : r;
}

// ---------------------------------------------------------------- float arithmetic

bool is_odd_integer(double d) { return std::fmod(d, 2.0) == 1.0 || std::fmod(d, 2.0) == -1.0; }

// Python's float_divmod: the remainder has the divisor's sign, and the quotient is floored.
void float_divmod(double x, double y, double* floordiv, double* mod) {
  if (y == 0.0) division_by_zero();
  double m = std::fmod(x, y);
  double div = (x - m) / y;
  if (m != 0.0) {
    if ((y < 0) != (m < 0)) {
      m += y;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, y);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, x / y);
  }
  *floordiv = fd;
  *mod = m;
}

// Python's float_pow, except that a negative base with a fractional exponent (a complex
// result in Python) is an error.
double float_pow(double x, double y) {
  if (y == 0.0) return 1.0;
  if (std::isnan(x)) return x;
  if (std::isnan(y)) return x == 1.0 ? 1.0 : y;
  if (std::isinf(y)) {
    double ax = std::fabs(x);
    if (ax == 1.0) return 1.0;
    return (y > 0.0) == (ax > 1.0) ? std::fabs(y) : 0.0;
  }
  if (std::isinf(x)) {
    bool odd = is_odd_integer(y);
    if (y > 0.0) return odd ? x : std::fabs(x);
    return odd ? std::copysign(0.0, x) : 0.0;
  }
  if (x == 0.0) {
    if (y < 0.0) division_by_zero();
    return is_odd_integer(y) ? x : 0.0;
  }
  bool negate = false;
  if (x < 0.0) {
    if (y != std::floor(y)) {
      // A complex result in Python, which TL does not have; an overflowing one is Python's
      // OverflowError.
      if (std::isinf(std::pow(-x, y))) throw_error("numeric result out of range");
      throw_error("negative number cannot be raised to a fractional power");
    }
    x = -x;
    negate = is_odd_integer(y);
  }
  if (x == 1.0) return negate ? -1.0 : 1.0;
  double r = std::pow(x, y);
  if (std::isinf(r)) throw_error("numeric result out of range");
  return negate ? -r : r;
}

Value float_binary(BinaryOp op, Value a, Value b) {
  double x = a.to_double(), y = b.to_double();
  double q, m;
  switch (op) {
    case BinaryOp::Add: return Value::from_double(x + y);
    case BinaryOp::Sub: return Value::from_double(x - y);
    case BinaryOp::Mul: return Value::from_double(x * y);
    case BinaryOp::Div:
      if (y == 0.0) division_by_zero();
      return Value::from_double(x / y);
    case BinaryOp::FloorDiv:
      float_divmod(x, y, &q, &m);
      return Value::from_double(q);
    case BinaryOp::Mod:
      float_divmod(x, y, &q, &m);
      return Value::from_double(m);
    case BinaryOp::Pow: return Value::number(float_pow(x, y));
    default: unsupported(op, a, b);
  }
}

Value int_binary(BinaryOp op, Value a, Value b) {
  int64_t x = int_of(a), y = int_of(b);
  switch (op) {
    case BinaryOp::Add: return Value::integer(int_add(x, y));
    case BinaryOp::Sub: return Value::integer(int_sub(x, y));
    case BinaryOp::Mul: return Value::integer(int_mul(x, y));
    case BinaryOp::Div: return Value::from_double(int_true_div(x, y));
    case BinaryOp::FloorDiv: return Value::integer(int_floordiv(x, y));
    case BinaryOp::Mod: return Value::integer(int_mod(x, y));
    case BinaryOp::Pow:
      if (y < 0) return Value::number(float_pow(double(x), double(y)));
      return Value::integer(int_pow(x, y));
    case BinaryOp::LShift: return Value::integer(int_lshift(x, y));
    case BinaryOp::RShift: return Value::integer(int_rshift(x, y));
    case BinaryOp::And:
    case BinaryOp::Or:
    case BinaryOp::Xor: {
      int64_t r = op == BinaryOp::And ? (x & y) : op == BinaryOp::Or ? (x | y) : (x ^ y);
      if (a.is_bool() && b.is_bool()) return Value::boolean(r != 0);
      return Value::integer(r);
    }
    case BinaryOp::MatMul: break;
  }
  unsupported(op, a, b);
}

// ---------------------------------------------------------------- sequence arithmetic

const std::vector<Value>& seq_items(Value v) {
  return is_type(v, ObjType::List) ? as_obj<ListObj>(v)->items : as_obj<TupleObj>(v)->items;
}

Value make_like(Value kind, std::vector<Value> items) {
  return is_type(kind, ObjType::List) ? make_list(std::move(items)) : make_tuple(std::move(items));
}

Value concat(Value a, Value b) {
  if (is_str(a)) {
    std::string s;
    s.reserve(str_view(a).size() + str_view(b).size());
    s += str_view(a);
    s += str_view(b);
    return make_str(s);
  }
  const auto& x = seq_items(a);
  const auto& y = seq_items(b);
  std::vector<Value> items;
  items.reserve(x.size() + y.size());
  for (Value v : x) incref(v), items.push_back(v);
  for (Value v : y) incref(v), items.push_back(v);
  return make_like(a, std::move(items));
}

// Results bigger than this are refused as Python's MemoryError would.
constexpr uint64_t kMaxRepeatBytes = uint64_t(1) << 40;

Value repeat(Value seq, int64_t n) {
  if (n < 0) n = 0;
  size_t unit = is_str(seq) ? str_view(seq).size() : seq_items(seq).size() * sizeof(Value);
  uint64_t total;
  if (__builtin_mul_overflow(uint64_t(unit), uint64_t(n), &total) || total > kMaxRepeatBytes)
    throw_error("out of memory");
  if (is_str(seq)) {
    std::string_view s = str_view(seq);
    std::string out;
    out.reserve(total);
    for (int64_t i = 0; i < n; ++i) out += s;
    return make_str(out);
  }
  const auto& src = seq_items(seq);
  std::vector<Value> items;
  items.reserve(src.size() * size_t(n));
  for (int64_t i = 0; i < n; ++i)
    for (Value v : src) incref(v), items.push_back(v);
  return make_like(seq, std::move(items));
}

bool is_sequence(Value v) {
  return is_str(v) || is_type(v, ObjType::List) || is_type(v, ObjType::Tuple);
}

// ---------------------------------------------------------------- comparison

// Three-way comparison of two numbers: -1, 0, 1, or 2 when unordered (a NaN).
int compare_int_double(int64_t i, double d) {
  if (d != d) return 2;
  if (d >= 9223372036854775808.0) return -1;  // 2^63
  if (d < -9223372036854775808.0) return 1;
  double t = std::trunc(d);  // exact, and |t| <= 2^63 so it converts exactly
  int64_t ti = int64_t(t);
  if (i != ti) return i < ti ? -1 : 1;
  double frac = d - t;
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int compare_numbers(Value a, Value b) {
  bool ai = int_like(a), bi = int_like(b);
  if (ai && bi) {
    int64_t x = int_of(a), y = int_of(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ai) return compare_int_double(int_of(a), b.as_double());
  if (bi) {
    int c = compare_int_double(int_of(b), a.as_double());
    return c == 2 ? 2 : -c;
  }
  double x = a.as_double(), y = b.as_double();
  return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
}

bool apply_order(CompareOp op, int c) {
  switch (op) {
    case CompareOp::Lt: return c < 0;
    case CompareOp::Le: return c <= 0;
    case CompareOp::Gt: return c > 0;
    case CompareOp::Ge: return c >= 0;
    case CompareOp::Eq: return c == 0;
    case CompareOp::Ne: return c != 0;
  }
  return false;
}

// Elements of containers: an object is equal to itself (Python's identity shortcut).
bool element_equal(Value a, Value b) { return (a.is_obj() && a.same(b)) || equal(a, b); }

bool ordered(CompareOp op, Value a, Value b) {
  if (a.is_number() && b.is_number()) {
    int c = compare_numbers(a, b);
    return c != 2 && apply_order(op, c);
  }
  if (is_str(a) && is_str(b)) {
    int c = str_view(a).compare(str_view(b));  // UTF-8 byte order is code point order
    return apply_order(op, c);
  }
  if (is_tensor(a) || is_tensor(b)) {  // sorted() of one-element tensors, as Python with torch
    Value r = tensor_compare(op, a, b);
    if (!r.is_undefined()) return truthy_consume(r);
  }
  bool lists = is_type(a, ObjType::List) && is_type(b, ObjType::List);
  bool tuples = is_type(a, ObjType::Tuple) && is_type(b, ObjType::Tuple);
  if (lists || tuples) {
    NestingGuard guard;
    const auto& x = seq_items(a);
    const auto& y = seq_items(b);
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i)
      if (!element_equal(x[i], y[i])) return ordered(op, x[i], y[i]);
    return apply_order(op, x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0);
  }
  throw_error(std::string("'") + op_symbol(op) + "' not supported between " + quoted(type_name(a)) +
              " and " + quoted(type_name(b)));
}

bool range_equal(const RangeObj* a, const RangeObj* b) {
  // As sequences: same length, and the same first element and step where they matter.
  int64_t n = a->length();
  if (n != b->length()) return false;
  if (n == 0) return true;
  if (a->start != b->start) return false;
  return n == 1 || a->step == b->step;
}

// ---------------------------------------------------------------- hashing

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

uint64_t hash_int(int64_t i) { return mix(uint64_t(i)); }

uint64_t hash_double(double d) {
  // Integral doubles hash as the int they equal (1.0 and 1, -0.0 and 0).
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d))
    return hash_int(int64_t(d));
  return mix(std::bit_cast<uint64_t>(d) ^ 0x5bd1e9955bd1e995ull);
}

// ---------------------------------------------------------------- strings

bool printable(char32_t c) {
  // Python's str.isprintable for code points: not Cc, Cf, Zl, Zp, Zs (but space), Co, Cs.
  // (Unassigned code points, also unprintable in Python, are not tabled here.)
  if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
  if (c < 0x600) return true;
  static constexpr char32_t kRanges[][2] = {
      {0x600, 0x605},     {0x61C, 0x61C},     {0x6DD, 0x6DD},     {0x70F, 0x70F},
      {0x890, 0x891},     {0x8E2, 0x8E2},     {0x1680, 0x1680},   {0x180E, 0x180E},
      {0x2000, 0x200F},   {0x2028, 0x202F},   {0x205F, 0x206F},   {0x3000, 0x3000},
      {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF0, 0xFFFB},   {0xFFFE, 0xFFFF},
      {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
      {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
  };
  for (const auto& r : kRanges)
    if (c >= r[0] && c <= r[1]) return false;
  return true;
}

void append_hex(std::string& out, char32_t c, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += kHex[(c >> (4 * i)) & 0xF];
}

// Python's repr of a str.
void append_quoted(std::string& out, std::string_view s) {
  char quote = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    char32_t c = utf8_decode(s, pos);
    if (c == char32_t(quote) || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c >= 0x80 && pos - start == 1) {
      out += "\\x";  // a byte that is not UTF-8
      append_hex(out, c, 2);
    } else if (!printable(c)) {
      if (c < 0x100) {
        out += "\\x";
        append_hex(out, c, 2);
      } else if (c < 0x10000) {
        out += "\\u";
        append_hex(out, c, 4);
      } else {
        out += "\\U";
        append_hex(out, c, 8);
      }
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  out += quote;
}

void append_int(std::string& out, int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

// Containers being printed, so a container that holds itself prints as [...].
thread_local std::vector<const Obj*> printing;

struct PrintingGuard {
  explicit PrintingGuard(const Obj* o) { printing.push_back(o); }
  ~PrintingGuard() { printing.pop_back(); }
  PrintingGuard(const PrintingGuard&) = delete;
  PrintingGuard& operator=(const PrintingGuard&) = delete;
};

bool being_printed(const Obj* o) { return std::find(printing.begin(), printing.end(), o) != printing.end(); }

void append_items(std::string& out, const std::vector<Value>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, items[i]);
  }
}

// The byte offset of code point i (0 <= i <= len) of s.
size_t cp_offset(StrObj* s, int64_t i) {
  if (s->len() == int64_t(s->data.size())) return size_t(i);
  size_t pos = 0;
  for (int64_t k = 0; k < i; ++k) utf8_decode(s->data, pos);
  return pos;
}

// ---------------------------------------------------------------- indexing

struct SliceBounds {
  int64_t start, stop, step, length;
};

int64_t slice_part(Value v, int64_t if_none) {
  if (v.is_none()) return if_none;
  if (!int_like(v)) throw_error("slice indices must be integers or None");
  return int_of(v);
}

// Python's PySlice_Unpack + PySlice_AdjustIndices against a sequence of length len.
SliceBounds slice_bounds(const SliceObj* s, int64_t len) {
  int64_t step = slice_part(s->step, 1);
  if (step == 0) throw_error("slice step cannot be zero");
  if (step < -INT64_MAX) step = -INT64_MAX;  // so -step is defined
  int64_t start = slice_part(s->lower, step < 0 ? INT64_MAX : 0);
  int64_t stop = slice_part(s->upper, step < 0 ? INT64_MIN : INT64_MAX);
  auto adjust = [&](int64_t& i) {
    if (i < 0) {
      i += len;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
      i = step < 0 ? len - 1 : len;
    }
  };
  adjust(start);
  adjust(stop);
  int64_t n = 0;
  if (step < 0) {
    if (stop < start) n = (start - stop - 1) / -step + 1;
  } else if (start < stop) {
    n = (stop - start - 1) / step + 1;
  }
  return {start, stop, step, n};
}

Value slice_sequence(Value seq, const SliceObj* s) {
  if (is_str(seq)) {
    StrObj* str = str_obj(seq);
    SliceBounds b = slice_bounds(s, str->len());
    if (b.length <= 0) return make_str("");
    if (b.step == 1) {
      size_t from = cp_offset(str, b.start);
      size_t to = cp_offset(str, b.start + b.length);
      return make_str(std::string_view(str->data).substr(from, to - from));
    }
    std::vector<size_t> offsets;  // code point boundaries
    offsets.reserve(str->len() + 1);
    for (size_t pos = 0; pos < str->data.size();) {
      offsets.push_back(pos);
      utf8_decode(str->data, pos);
    }
    offsets.push_back(str->data.size());
    std::string out;
    for (int64_t k = 0, i = b.start; k < b.length; ++k, i += b.step)
      out.append(str->data, offsets[i], offsets[i + 1] - offsets[i]);
    return make_str(out);
  }
  const auto& items = seq_items(seq);
  SliceBounds b = slice_bounds(s, int64_t(items.size()));
  std::vector<Value> out;
  out.reserve(size_t(b.length));
  for (int64_t k = 0, i = b.start; k < b.length; ++k, i += b.step) {
    incref(items[i]);
    out.push_back(items[i]);
  }
  return make_like(seq, std::move(out));
}

Value slice_range(const RangeObj* r, const SliceObj* s) {
  SliceBounds b = slice_bounds(s, r->length());
  int64_t start = int_add(r->start, int_mul(b.start, r->step));
  int64_t stop = int_add(r->start, int_mul(b.stop, r->step));
  int64_t step = int_mul(r->step, b.step);
  return Value::object(new RangeObj(start, stop, step));
}

[[noreturn]] void bad_index_type(Value obj, Value index) {
  if (is_str(obj)) throw_error(std::string("string indices must be integers, not ") + quoted(type_name(index)));
  throw_error(std::string(type_name(obj)) + " indices must be integers or slices, not " + type_name(index));
}

void list_set_slice(ListObj* list, const SliceObj* s, Value value) {
  if (!value.is_obj() || !(is_sequence(value) || is_type(value, ObjType::Dict) ||
                           is_type(value, ObjType::Range) || is_type(value, ObjType::Iter)))
    throw_error("can only assign an iterable");
  std::vector<Value> values = collect(value);  // a copy first: `l[:] = l` works
  auto& items = list->items;
  SliceBounds b = slice_bounds(s, int64_t(items.size()));
  if (b.step == 1) {
    int64_t stop = std::max(b.start, b.stop);
    std::vector<Value> old(items.begin() + b.start, items.begin() + stop);
    items.erase(items.begin() + b.start, items.begin() + stop);
    items.insert(items.begin() + b.start, values.begin(), values.end());
    for (Value v : old) decref(v);
    return;
  }
  if (int64_t(values.size()) != b.length) {
    size_t n = values.size();
    for (Value v : values) decref(v);
    throw_error("attempt to assign sequence of size " + std::to_string(n) +
                " to extended slice of size " + std::to_string(b.length));
  }
  for (int64_t k = 0, i = b.start; k < b.length; ++k, i += b.step) decref(std::exchange(items[i], values[k]));
}

bool is_iterable(Value v) {
  return is_sequence(v) || is_type(v, ObjType::Dict) || is_type(v, ObjType::Range) || is_type(v, ObjType::Iter);
}

}  // namespace

// ---------------------------------------------------------------- operator names

const char* op_symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::FloorDiv: return "//";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Pow: return "**";
    case BinaryOp::MatMul: return "@";
    case BinaryOp::LShift: return "<<";
    case BinaryOp::RShift: return ">>";
    case BinaryOp::And: return "&";
    case BinaryOp::Or: return "|";
    case BinaryOp::Xor: return "^";
  }
  return "?";
}

const char* op_symbol(CompareOp op) {
  switch (op) {
    case CompareOp::Lt: return "<";
    case CompareOp::Le: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Ge: return ">=";
    case CompareOp::Eq: return "==";
    case CompareOp::Ne: return "!=";
  }
  return "?";
}

// ---------------------------------------------------------------- types and truth

const char* type_name(Value v) {
  if (v.is_double()) return "float";
  if (v.is_small_int()) return "int";
  if (v.is_bool()) return "bool";
  if (v.is_none()) return "NoneType";
  if (v.is_undefined()) return "undefined";
  switch (v.as_obj()->type) {
    case ObjType::Str: return "str";
    case ObjType::BigInt: return "int";
    case ObjType::List: return "list";
    case ObjType::Tuple: return "tuple";
    case ObjType::Dict: return "dict";
    case ObjType::Range: return "range";
    case ObjType::Slice: return "slice";
    case ObjType::Iter: return "iterator";
    case ObjType::Function: return "function";
    case ObjType::Builtin: return "builtin";
    case ObjType::BoundMethod: return "builtin";
    case ObjType::Cell: return "cell";
    case ObjType::Code: return "code";
    case ObjType::Module: return "module";
    case ObjType::Tensor: return "tensor";
  }
  return "object";
}

bool truthy(Value v) {
  if (v.is_double()) return v.as_double() != 0.0;  // NaN is true, as in Python
  if (v.is_small_int()) return v.as_small_int() != 0;
  if (v.is_bool()) return v.as_bool();
  if (!v.is_obj()) return false;  // None (and Undefined)
  Obj* o = v.as_obj();
  switch (o->type) {
    case ObjType::Str: return !static_cast<StrObj*>(o)->data.empty();
    case ObjType::BigInt: return true;  // never 0
    case ObjType::List: return !static_cast<ListObj*>(o)->items.empty();
    case ObjType::Tuple: return !static_cast<TupleObj*>(o)->items.empty();
    case ObjType::Dict: return static_cast<DictObj*>(o)->size() != 0;
    case ObjType::Range: {
      auto* r = static_cast<RangeObj*>(o);
      return r->step > 0 ? r->start < r->stop : r->start > r->stop;
    }
    case ObjType::Tensor: return tensor_truthy(static_cast<TensorObj*>(o));
    default: return true;
  }
}

bool truthy_consume(Value v) {
  Ref r = Ref::steal(v);
  return truthy(v);
}

// ---------------------------------------------------------------- arithmetic

int64_t int_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) integer_overflow();
  return r;
}

int64_t int_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) integer_overflow();
  return r;
}

int64_t int_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) integer_overflow();
  return r;
}

Value binary_op(BinaryOp op, Value a, Value b) {
  if (int_like(a) && int_like(b)) return int_binary(op, a, b);
  if (a.is_number() && b.is_number()) return float_binary(op, a, b);
  if (is_tensor(a) || is_tensor(b)) {
    Value r = tensor_binary(op, a, b);
    if (!r.is_undefined()) return r;
  }
  if (op == BinaryOp::Add && is_sequence(a) && b.is_obj() && a.as_obj()->type == b.as_obj()->type) return concat(a, b);
  if (op == BinaryOp::Mul) {
    if (is_sequence(a) && int_like(b)) return repeat(a, int_of(b));
    if (int_like(a) && is_sequence(b)) return repeat(b, int_of(a));
  }
  unsupported(op, a, b);
}

Value unary_neg(Value v) {
  if (int_like(v)) return Value::integer(int_sub(0, int_of(v)));
  if (v.is_double()) return Value::from_double(-v.as_double());
  if (is_tensor(v)) return tensor_unary(UnaryKind::Neg, as_tensor(v));
  bad_unary("-", v);
}

Value unary_pos(Value v) {
  if (v.is_bool()) return Value::small_int(v.as_bool());
  if (v.is_int() || v.is_double() || is_tensor(v)) {
    incref(v);
    return v;
  }
  bad_unary("+", v);
}

Value unary_invert(Value v) {
  if (int_like(v)) return Value::integer(~int_of(v));
  bad_unary("~", v);
}

// ---------------------------------------------------------------- comparison

bool equal(Value a, Value b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.same(b)) return true;
  if (is_tensor(a) || is_tensor(b)) {  // as Python's == on containers: the truth of the tensor ==
    Value r = tensor_compare(CompareOp::Eq, a, b);
    return !r.is_undefined() && truthy_consume(r);
  }
  if (!a.is_obj() || !b.is_obj() || a.as_obj()->type != b.as_obj()->type) return false;
  switch (a.as_obj()->type) {
    case ObjType::Str: {
      auto *x = str_obj(a), *y = str_obj(b);
      if (x->hash && y->hash && x->hash != y->hash) return false;
      return x->data == y->data;
    }
    case ObjType::List:
    case ObjType::Tuple: {
      const auto& x = seq_items(a);
      const auto& y = seq_items(b);
      if (x.size() != y.size()) return false;
      NestingGuard guard;
      for (size_t i = 0; i < x.size(); ++i)
        if (!element_equal(x[i], y[i])) return false;
      return true;
    }
    case ObjType::Dict: {
      auto *x = as_obj<DictObj>(a), *y = as_obj<DictObj>(b);
      if (x->size() != y->size()) return false;
      NestingGuard guard;
      for (const DictObj::Entry& e : x->entries) {
        Value other = y->get(e.key);
        if (other.is_undefined() || !element_equal(e.value, other)) return false;
      }
      return true;
    }
    case ObjType::Range: return range_equal(as_obj<RangeObj>(a), as_obj<RangeObj>(b));
    default: return false;  // identity, checked above
  }
}

bool less(Value a, Value b) { return ordered(CompareOp::Lt, a, b); }

Value compare(CompareOp op, Value a, Value b) {
  if (is_tensor(a) || is_tensor(b)) {
    Value r = tensor_compare(op, a, b);
    if (!r.is_undefined()) return r;
  }
  if (op == CompareOp::Eq) return Value::boolean(equal(a, b));
  if (op == CompareOp::Ne) return Value::boolean(!equal(a, b));
  return Value::boolean(ordered(op, a, b));
}

// ---------------------------------------------------------------- hashing

uint64_t hash_str(std::string_view text) {
  // FNV-1a over 8-byte words, then a full mix.
  uint64_t h = 0xcbf29ce484222325ull ^ text.size();
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  for (; i < text.size(); ++i) h = (h ^ static_cast<unsigned char>(text[i])) * 0x100000001b3ull;
  h = mix(h);
  return h ? h : 1;  // 0 means "not computed yet" in StrObj
}

uint64_t hash_value(Value v) {
  if (v.is_double()) return hash_double(v.as_double());
  if (int_like(v)) return hash_int(int_of(v));
  if (!v.is_obj()) return mix(v.bits());  // None
  Obj* o = v.as_obj();
  switch (o->type) {
    case ObjType::Str: {
      auto* s = static_cast<StrObj*>(o);
      if (!s->hash) s->hash = hash_str(s->data);
      return s->hash;
    }
    case ObjType::Tuple: {
      NestingGuard guard;
      uint64_t h = 0x27d4eb2f165667c5ull;
      for (Value item : static_cast<TupleObj*>(o)->items) h = mix(h ^ hash_value(item)) * 0x9e3779b97f4a7c15ull;
      return h;
    }
    case ObjType::Range: {  // consistent with range_equal
      auto* r = static_cast<RangeObj*>(o);
      int64_t n = r->length();
      uint64_t h = hash_int(n);
      if (n > 0) h = mix(h ^ hash_int(r->start));
      if (n > 1) h = mix(h ^ hash_int(r->step));
      return h;
    }
    case ObjType::List:
    case ObjType::Dict:
    case ObjType::Slice:
      throw_error(std::string("unhashable type: ") + quoted(type_name(v)));
    default:
      return mix(reinterpret_cast<uintptr_t>(o));  // by identity
  }
}

// ---------------------------------------------------------------- membership

bool contains(Value container, Value item) {
  if (container.is_obj()) {
    Obj* o = container.as_obj();
    switch (o->type) {
      case ObjType::Str:
        if (!is_str(item))
          throw_error(std::string("'in <string>' requires string as left operand, not ") + type_name(item));
        return str_view(container).find(str_view(item)) != std::string_view::npos;
      case ObjType::List:
      case ObjType::Tuple:
        for (Value v : seq_items(container))
          if (element_equal(v, item)) return true;
        return false;
      case ObjType::Dict: return !static_cast<DictObj*>(o)->get(item).is_undefined();
      case ObjType::Tensor: return tensor_contains(static_cast<TensorObj*>(o), item);
      case ObjType::Range: {
        auto* r = static_cast<RangeObj*>(o);
        int64_t x;
        if (int_like(item)) {
          x = int_of(item);
        } else if (item.is_double()) {
          double d = item.as_double();
          if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d))) return false;
          x = int64_t(d);
        } else {
          return false;
        }
        bool inside = r->step > 0 ? (r->start <= x && x < r->stop) : (r->stop < x && x <= r->start);
        return inside && (__int128(x) - r->start) % r->step == 0;
      }
      case ObjType::Iter: {  // consumes the iterator up to the match, as Python does
        auto* it = static_cast<IterObj*>(o);
        for (;;) {
          Ref v = Ref::steal(iter_next(it));
          if (!v) return false;
          if (element_equal(v.get(), item)) return true;
        }
      }
      default: break;
    }
  }
  throw_error(std::string("argument of type ") + quoted(type_name(container)) + " is not iterable");
}

// ---------------------------------------------------------------- printing

void append_repr(std::string& out, Value v) {
  if (v.is_double()) {
    out += float_repr(v.as_double());
    return;
  }
  if (v.is_small_int()) return append_int(out, v.as_small_int());
  if (v.is_bool()) {
    out += v.as_bool() ? "True" : "False";
    return;
  }
  if (v.is_none()) {
    out += "None";
    return;
  }
  if (v.is_undefined()) {
    out += "<undefined>";
    return;
  }
  Obj* o = v.as_obj();
  switch (o->type) {
    case ObjType::Str: return append_quoted(out, str_view(v));
    case ObjType::BigInt: return append_int(out, v.as_int());
    case ObjType::List: {
      if (being_printed(o)) {
        out += "[...]";
        return;
      }
      NestingGuard nest;
      PrintingGuard guard(o);
      out += '[';
      append_items(out, static_cast<ListObj*>(o)->items);
      out += ']';
      return;
    }
    case ObjType::Tuple: {
      if (being_printed(o)) {
        out += "(...)";
        return;
      }
      NestingGuard nest;
      PrintingGuard guard(o);
      const auto& items = static_cast<TupleObj*>(o)->items;
      out += '(';
      append_items(out, items);
      out += items.size() == 1 ? ",)" : ")";
      return;
    }
    case ObjType::Dict: {
      if (being_printed(o)) {
        out += "{...}";
        return;
      }
      NestingGuard nest;
      PrintingGuard guard(o);
      out += '{';
      bool first = true;
      for (const DictObj::Entry& e : static_cast<DictObj*>(o)->entries) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, e.key);
        out += ": ";
        append_repr(out, e.value);
      }
      out += '}';
      return;
    }
    case ObjType::Range: {
      auto* r = static_cast<RangeObj*>(o);
      out += "range(";
      append_int(out, r->start);
      out += ", ";
      append_int(out, r->stop);
      if (r->step != 1) {
        out += ", ";
        append_int(out, r->step);
      }
      out += ')';
      return;
    }
    case ObjType::Slice: {
      auto* s = static_cast<SliceObj*>(o);
      out += "slice(";
      append_repr(out, s->lower);
      out += ", ";
      append_repr(out, s->upper);
      out += ", ";
      append_repr(out, s->step);
      out += ')';
      return;
    }
    case ObjType::Iter: out += "<iterator>"; return;
    case ObjType::Function:
      out += "<function ";
      out += function_name(static_cast<FunctionObj*>(o));
      out += '>';
      return;
    case ObjType::Builtin:
      out += "<function ";
      out += static_cast<BuiltinObj*>(o)->def->name;
      out += '>';
      return;
    case ObjType::BoundMethod:
      out += "<method ";
      out += static_cast<BoundMethodObj*>(o)->def->name;
      out += '>';
      return;
    case ObjType::Cell: out += "<cell>"; return;
    case ObjType::Code: out += "<code>"; return;
    case ObjType::Module:
      out += "<module ";
      out += static_cast<ModuleObj*>(o)->name->data;
      out += '>';
      return;
    case ObjType::Tensor: return append_tensor_repr(out, static_cast<TensorObj*>(o));
  }
}

void append_str(std::string& out, Value v) {
  if (is_str(v))
    out += str_view(v);
  else
    append_repr(out, v);
}

std::string repr(Value v) {
  std::string out;
  append_repr(out, v);
  return out;
}

std::string to_str(Value v) {
  if (is_str(v)) return std::string(str_view(v));
  return repr(v);
}

// ---------------------------------------------------------------- containers

int64_t normalize_index(int64_t i, int64_t len) {
  if (i < 0) i += len;
  if (i < 0 || i >= len) throw_error("index out of range");
  return i;
}

Value get_item(Value obj, Value index) {
  if (obj.is_obj()) {
    Obj* o = obj.as_obj();
    bool slice = is_type(index, ObjType::Slice);
    switch (o->type) {
      case ObjType::List:
      case ObjType::Tuple: {
        if (slice) return slice_sequence(obj, as_obj<SliceObj>(index));
        if (!int_like(index)) bad_index_type(obj, index);
        const auto& items = seq_items(obj);
        Value v = items[normalize_index(int_of(index), int64_t(items.size()))];
        incref(v);
        return v;
      }
      case ObjType::Str: {
        if (slice) return slice_sequence(obj, as_obj<SliceObj>(index));
        if (!int_like(index)) bad_index_type(obj, index);
        auto* s = static_cast<StrObj*>(o);
        int64_t i = normalize_index(int_of(index), s->len());
        size_t from = cp_offset(s, i), to = from;
        utf8_decode(s->data, to);
        return make_str(std::string_view(s->data).substr(from, to - from));
      }
      case ObjType::Dict: {
        Value v = static_cast<DictObj*>(o)->get(index);
        if (v.is_undefined()) throw_error("key " + repr(index) + " not found");
        incref(v);
        return v;
      }
      case ObjType::Tensor: return tensor_get_item(static_cast<TensorObj*>(o), index);
      case ObjType::Range: {
        auto* r = static_cast<RangeObj*>(o);
        if (slice) return slice_range(r, as_obj<SliceObj>(index));
        if (!int_like(index)) bad_index_type(obj, index);
        int64_t i = normalize_index(int_of(index), r->length());
        // A member of the range, so it fits; the product alone may not.
        return Value::integer(int64_t(uint64_t(r->start) + uint64_t(i) * uint64_t(r->step)));
      }
      default: break;
    }
  }
  throw_error(quoted(type_name(obj)) + " object is not subscriptable");
}

void set_item(Value obj, Value index, Value value) {
  if (obj.is_obj()) check_not_frozen(obj.as_obj());
  if (is_type(obj, ObjType::List)) {
    auto* list = as_obj<ListObj>(obj);
    if (is_type(index, ObjType::Slice)) return list_set_slice(list, as_obj<SliceObj>(index), value);
    if (!int_like(index)) bad_index_type(obj, index);
    int64_t i = normalize_index(int_of(index), int64_t(list->items.size()));
    incref(value);
    decref(std::exchange(list->items[i], value));
    return;
  }
  if (is_type(obj, ObjType::Dict)) return as_obj<DictObj>(obj)->set(index, value);
  throw_error(quoted(type_name(obj)) + " object does not support item assignment");
}

int64_t length(Value v) {
  if (v.is_obj()) {
    Obj* o = v.as_obj();
    switch (o->type) {
      case ObjType::Str: return static_cast<StrObj*>(o)->len();
      case ObjType::List: return int64_t(static_cast<ListObj*>(o)->items.size());
      case ObjType::Tuple: return int64_t(static_cast<TupleObj*>(o)->items.size());
      case ObjType::Dict: return int64_t(static_cast<DictObj*>(o)->size());
      case ObjType::Range: return static_cast<RangeObj*>(o)->length();
      case ObjType::Tensor: {
        auto* t = static_cast<TensorObj*>(o);
        if (t->ndim == 0) throw_error("len() of a 0-d tensor");
        return t->shape[0];
      }
      default: break;
    }
  }
  throw_error("object of type " + quoted(type_name(v)) + " has no len()");
}

// ---------------------------------------------------------------- attributes

Value get_attr(Value obj, StrObj* name) {
  if (is_type(obj, ObjType::Module)) {
    auto* m = as_obj<ModuleObj>(obj);
    Value v = m->get(name->data);
    if (v.is_undefined())
      throw_error("module " + quoted(m->name->data.c_str()) + " has no attribute " + quoted(name->data.c_str()));
    incref(v);
    return v;
  }
  if (is_tensor(obj)) {
    Value v = tensor_attr(as_tensor(obj), name->data);
    if (!v.is_undefined()) return v;
  }
  if (const BuiltinDef* def = find_method(obj, name->data)) {
    incref(obj);
    return Value::object(new BoundMethodObj(obj, def));
  }
  throw_error(quoted(type_name(obj)) + " has no attribute " + quoted(name->data.c_str()));
}

// ---------------------------------------------------------------- unpacking and iteration

void unpack(Value v, size_t n, Value* out) {
  auto check = [n](size_t got) {
    if (got < n)
      throw_error("not enough values to unpack (expected " + std::to_string(n) + ", got " + std::to_string(got) + ")");
    if (got > n) throw_error("too many values to unpack (expected " + std::to_string(n) + ")");
  };
  if (is_type(v, ObjType::List) || is_type(v, ObjType::Tuple)) {
    const auto& items = seq_items(v);
    check(items.size());
    for (size_t i = 0; i < n; ++i) incref(out[i] = items[i]);
    return;
  }
  if (!is_iterable(v)) throw_error(std::string("cannot unpack non-iterable ") + type_name(v) + " object");
  std::vector<Value> items = collect(v);
  if (items.size() != n) {
    size_t got = items.size();
    for (Value x : items) decref(x);
    check(got);
  }
  std::copy(items.begin(), items.end(), out);
}

std::vector<Value> collect(Value iterable) {
  if (is_type(iterable, ObjType::List) || is_type(iterable, ObjType::Tuple)) {
    std::vector<Value> items = seq_items(iterable);
    for (Value v : items) incref(v);
    return items;
  }
  if (is_type(iterable, ObjType::Dict)) {
    std::vector<Value> keys;
    keys.reserve(as_obj<DictObj>(iterable)->size());
    for (const DictObj::Entry& e : as_obj<DictObj>(iterable)->entries) incref(keys.emplace_back(e.key));
    return keys;
  }
  Ref it = Ref::steal(make_iter(iterable));  // throws "'int' object is not iterable"
  std::vector<Value> items;
  if (is_type(iterable, ObjType::Range)) items.reserve(size_t(as_obj<RangeObj>(iterable)->length()));
  try {
    for (;;) {
      Value v = iter_next(as_obj<IterObj>(it.get()));
      if (v.is_undefined()) break;
      items.push_back(v);
    }
  } catch (...) {
    for (Value v : items) decref(v);
    throw;
  }
  return items;
}

}  // namespace tvm
