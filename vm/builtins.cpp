// The builtin functions (LANGUAGE.md §7): one table of BuiltinDef rows, which is the registry —
// the compiler resolves names through builtin_index, the VMs call through the rows, and the
// tensor builtins join as more rows. Semantics are Python 3's unless a comment says otherwise.
#include "builtins.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>
#include <unordered_map>

#include "error.h"
#include "ops.h"
#include "tensor_ops.h"
#include "vm.h"

namespace tvm {

// ---------------------------------------------------------------- helpers for native functions

Value native_arg(const CallArgs& args, uint32_t i, std::string_view name, const char* fn) {
  Value kw = args.kw(name);
  if (i < args.npos) {
    if (!kw.is_undefined())
      throw_error(std::string(fn) + "() got multiple values for argument '" + std::string(name) + "'");
    return args.pos[i];
  }
  return kw;
}

int64_t int_arg(Value v) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  throw_error(std::string("'") + type_name(v) + "' object cannot be interpreted as an integer");
}

int64_t float_to_int(double d) {
  if (std::isinf(d)) throw_error("cannot convert float infinity to integer");
  if (std::isnan(d)) throw_error("cannot convert float NaN to integer");
  double t = std::trunc(d);
  // [-2^63, 2^63): both bounds are exact doubles.
  if (t < -9223372036854775808.0 || t >= 9223372036854775808.0) throw_error("integer overflow");
  return int64_t(t);
}

void sort_values(VM& vm, std::vector<Value>& items, Value key, bool reverse) {
  size_t n = items.size();
  OwnedValues computed;  // the keys, when there is a key function
  if (!key.is_undefined() && !key.is_none()) {
    computed.items.reserve(n);
    for (Value v : items) computed.items.push_back(vm.call(key, {v}));
  }
  const std::vector<Value>& keys = computed.items.empty() ? items : computed.items;

  // Sort a permutation rather than the values themselves, so a throwing comparison cannot
  // lose or duplicate a reference.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  auto sort_by = [&](auto lt) {
    if (reverse)
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return lt(keys[b], keys[a]); });
    else
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return lt(keys[a], keys[b]); });
  };
  // Fast paths for keys all of one common type; less() handles everything else.
  auto all = [&](auto pred) { return std::all_of(keys.begin(), keys.end(), pred); };
  if (all([](Value v) { return v.is_int(); }))
    sort_by([](Value a, Value b) { return a.as_int() < b.as_int(); });
  else if (all([](Value v) { return v.is_double(); }))
    sort_by([](Value a, Value b) { return a.as_double() < b.as_double(); });
  else if (all([](Value v) { return is_type(v, ObjType::Str); }))
    sort_by([](Value a, Value b) { return str_view(a) < str_view(b); });  // UTF-8 order = code point order
  else
    sort_by([](Value a, Value b) { return less(a, b); });

  std::vector<Value> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = items[order[i]];
  items.swap(sorted);
}

namespace {

// ---------------------------------------------------------------- small helpers

bool is_str(Value v) { return is_type(v, ObjType::Str); }
Value new_ref(Value v) {
  incref(v);
  return v;
}
bool given(Value v) { return !v.is_undefined() && !v.is_none(); }  // an optional argument, not None

// repr(v) cut to `max` code points, as CPython's %.200R in some messages.
std::string short_repr(Value v, size_t max) {
  std::string r = repr(v);
  size_t count = 0;
  for (size_t i = 0; i < r.size(); ++i)
    if ((static_cast<unsigned char>(r[i]) & 0xC0) != 0x80 && count++ == max) return r.substr(0, i);
  return r;
}

// ---------------------------------------------------------------- output and conversions

Value bi_print(VM& vm, const CallArgs& a) {
  auto text_arg = [&](const char* name, std::string_view dflt) {
    Value v = a.kw(name);
    if (v.is_undefined() || v.is_none()) return dflt;
    if (!is_str(v)) throw_error(std::string(name) + " must be None or a string, not " + type_name(v));
    return str_view(v);
  };
  std::string_view sep = text_arg("sep", " "), end = text_arg("end", "\n");
  std::string out;
  for (uint32_t i = 0; i < a.npos; ++i) {
    if (i) out += sep;
    append_str(out, a.pos[i]);
  }
  out += end;
  vm.write(out);
  return Value::none();
}

Value bi_len(VM&, const CallArgs& a) { return Value::integer(length(a.pos[0])); }

Value bi_range(VM&, const CallArgs& a) {
  int64_t start = 0, stop, step = 1;
  if (a.npos == 1) {
    stop = int_arg(a.pos[0]);
  } else {
    start = int_arg(a.pos[0]);
    stop = int_arg(a.pos[1]);
    if (a.npos == 3) step = int_arg(a.pos[2]);
  }
  if (step == 0) throw_error("range() arg 3 must not be zero");
  return Value::object(new RangeObj(start, stop, step));
}

Value bi_str(VM&, const CallArgs& a) {
  if (a.npos == 0) return make_str("");
  if (is_str(a.pos[0])) return new_ref(a.pos[0]);
  return make_str(to_str(a.pos[0]));
}

Value bi_repr(VM&, const CallArgs& a) { return make_str(repr(a.pos[0])); }

// int(str, base) as Python: whitespace around, a sign, a 0x/0o/0b prefix where the base allows
// it (base 0 takes the base from it), and single underscores between digits.
Value parse_int(Value str, int base) {
  const int shown_base = base;
  auto invalid = [&]() {
    throw_error("invalid literal for int() with base " + std::to_string(shown_base) + ": " +
                short_repr(str, 200));
  };
  std::string_view s = strip_whitespace(str_view(str));
  size_t i = 0, n = s.size();
  bool negative = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i + 1 < n && s[i] == '0') {
    char p = char(s[i + 1] | 0x20);
    int prefix_base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefix_base && (base == 0 || base == prefix_base)) {
      base = prefix_base;
      i += 2;
      if (i < n && s[i] == '_') ++i;  // "0x_1f"
    }
  }
  // Base 0 without a prefix is decimal, where a leading zero is allowed only in zero itself.
  const bool zeros_only_if_leading_zero = base == 0;
  if (base == 0) base = 10;
  bool any = false, nonzero = false, overflow = false, leading_zero = false;
  int64_t acc = 0;  // accumulated negatively, so INT64_MIN fits
  for (; i < n; ++i) {
    char c = s[i];
    if (c == '_') {
      if (!any || i + 1 >= n || s[i + 1] == '_') invalid();
      continue;
    }
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) invalid();
    if (!any) leading_zero = d == 0;
    any = true;
    nonzero |= d != 0;
    if (__builtin_mul_overflow(acc, int64_t(base), &acc) || __builtin_sub_overflow(acc, int64_t(d), &acc))
      overflow = true;
  }
  if (!any || (zeros_only_if_leading_zero && leading_zero && nonzero)) invalid();
  if (overflow || (!negative && acc == INT64_MIN)) throw_error("integer overflow");
  return Value::integer(negative ? acc : -acc);
}

Value bi_int(VM&, const CallArgs& a) {
  Value x = a.npos > 0 ? a.pos[0] : Value::undefined();
  Value base = native_arg(a, 1, "base", "int");
  if (!base.is_undefined()) {
    if (x.is_undefined()) throw_error("int() missing string argument");
    int64_t b = int_arg(base);
    if (b != 0 && (b < 2 || b > 36)) throw_error("int() base must be >= 2 and <= 36, or 0");
    if (!is_str(x)) throw_error("int() can't convert non-string with explicit base");
    return parse_int(x, int(b));
  }
  if (x.is_undefined()) return Value::small_int(0);
  if (x.is_int()) return new_ref(x);
  if (x.is_bool()) return Value::small_int(x.as_bool());
  if (x.is_double()) return Value::integer(float_to_int(x.as_double()));
  if (is_str(x)) return parse_int(x, 10);
  if (is_tensor(x)) return Value::integer(float_to_int(tensor_item(as_tensor(x), "int")));
  throw_error(std::string("int() argument must be a string, a bytes-like object or a real number, not '") +
              type_name(x) + "'");
}

// float(str) as Python: whitespace around, a sign, decimal digits with single underscores
// between digits, an optional exponent, or inf / infinity / nan in any case.
Value parse_float(Value str) {
  auto invalid = [&]() { throw_error("could not convert string to float: " + repr(str)); };
  std::string_view s = strip_whitespace(str_view(str));
  std::string clean;
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') clean += '-';
    ++i;
  }
  auto lower_equals = [](std::string_view t, std::string_view word) {
    return t.size() == word.size() &&
           std::equal(t.begin(), t.end(), word.begin(), [](char c, char w) { return (c | 0x20) == w; });
  };
  std::string_view rest = s.substr(i);
  bool negative = !clean.empty();
  if (lower_equals(rest, "inf") || lower_equals(rest, "infinity"))
    return Value::from_double(negative ? -HUGE_VAL : HUGE_VAL);
  if (lower_equals(rest, "nan")) return Value::number(std::nan(""));

  auto is_digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  // Digits with single underscores between them; returns how many digits.
  auto digits = [&]() {
    size_t count = 0;
    while (i < n) {
      if (is_digit(i)) {
        clean += s[i++];
        ++count;
      } else if (s[i] == '_' && count > 0 && is_digit(i + 1)) {
        ++i;
      } else {
        break;
      }
    }
    return count;
  };
  size_t mantissa = digits();
  if (i < n && s[i] == '.') {
    clean += s[i++];
    mantissa += digits();
  }
  if (mantissa == 0) invalid();
  if (i < n && (s[i] | 0x20) == 'e') {
    clean += s[i++];
    if (i < n && (s[i] == '+' || s[i] == '-')) clean += s[i++];
    if (digits() == 0) invalid();
  }
  if (i != n) invalid();
  double d = 0;
  auto [end, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), d);
  if (ec == std::errc::result_out_of_range) d = std::strtod(clean.c_str(), nullptr);  // ±inf or 0 as Python
  else if (ec != std::errc() || end != clean.data() + clean.size()) invalid();
  return Value::number(d);
}

Value bi_float(VM&, const CallArgs& a) {
  if (a.npos == 0) return Value::from_double(0.0);
  Value x = a.pos[0];
  if (x.is_double()) return x;
  if (x.is_number()) return Value::from_double(x.to_double());
  if (is_str(x)) return parse_float(x);
  if (is_tensor(x)) return Value::number(tensor_item(as_tensor(x), "float"));
  throw_error(std::string("float() argument must be a string or a real number, not '") + type_name(x) + "'");
}

Value bi_bool(VM&, const CallArgs& a) { return Value::boolean(a.npos > 0 && truthy(a.pos[0])); }

Value bi_type(VM&, const CallArgs& a) { return Value::object(intern(type_name(a.pos[0]))); }

// The names isinstance() accepts: the names type() gives.
constexpr std::string_view kTypeNames[] = {"NoneType", "bool",     "int",     "float",  "str",
                                           "list",     "tuple",    "dict",    "range",  "function",
                                           "builtin",  "module",   "tensor"};

bool is_instance(Value x, Value names) {
  if (is_type(names, ObjType::Tuple)) {
    for (Value name : as_obj<TupleObj>(names)->items)
      if (is_instance(x, name)) return true;
    return false;
  }
  if (!is_str(names)) throw_error("isinstance() arg 2 must be a type name or a tuple of type names");
  std::string_view name = str_view(names);
  if (std::find(std::begin(kTypeNames), std::end(kTypeNames), name) == std::end(kTypeNames))
    throw_error("isinstance: unknown type name '" + std::string(name) + "'");
  return name == type_name(x) || (name == "int" && x.is_bool());
}

Value bi_isinstance(VM&, const CallArgs& a) { return Value::boolean(is_instance(a.pos[0], a.pos[1])); }

// ---------------------------------------------------------------- numbers

Value bi_abs(VM&, const CallArgs& a) {
  Value x = a.pos[0];
  if (x.is_int()) return x.as_int() >= 0 ? new_ref(x) : Value::integer(int_sub(0, x.as_int()));
  if (x.is_bool()) return Value::small_int(x.as_bool());
  if (x.is_double()) return Value::from_double(std::fabs(x.as_double()));
  if (is_tensor(x)) return tensor_unary(UnaryKind::Abs, as_tensor(x));
  throw_error(std::string("bad operand type for abs(): '") + type_name(x) + "'");
}

// min() and max(): one iterable or several arguments; `better` is Lt or Gt. The first of
// equal items wins, as Python.
Value min_max(VM& vm, const CallArgs& a, CompareOp better, const char* name) {
  Value key = a.kw("key"), dflt = a.kw("default");
  OwnedValues collected;
  const Value* items = a.pos;
  size_t n = a.npos;
  if (n == 1) {
    collected.items = collect(a.pos[0]);
    items = collected.items.data();
    n = collected.items.size();
  } else if (!dflt.is_undefined()) {
    throw_error(std::string("Cannot specify a default for ") + name + "() with multiple positional arguments");
  }
  if (n == 0) {
    if (!dflt.is_undefined()) return new_ref(dflt);
    throw_error(std::string(name) + "() arg is an empty sequence");
  }
  auto key_of = [&](Value v) { return given(key) ? Ref::steal(vm.call(key, {v})) : Ref::borrow(v); };
  Value best = items[0];
  Ref best_key = key_of(best);
  for (size_t i = 1; i < n; ++i) {
    Ref k = key_of(items[i]);
    Ref is_better = Ref::steal(compare(better, k.get(), best_key.get()));
    if (truthy(is_better.get())) {
      best = items[i];
      best_key = std::move(k);
    }
  }
  return new_ref(best);
}

// A tensor first: a reduction (or torch.maximum of two tensors), see tensor_min_max_call.
bool tensor_first(const CallArgs& a) { return a.npos > 0 && is_tensor(a.pos[0]); }
// Keywords only a tensor's reduction takes.
bool reduction_keywords(const CallArgs& a) {
  for (const char* k : {"axis", "dim", "keepdims", "keepdim"})
    if (given(a.kw(k))) return true;
  return false;
}

Value bi_min(VM& vm, const CallArgs& a) {
  if (tensor_first(a)) return tensor_min_max_call(a, false);
  if (reduction_keywords(a)) throw_error("min() of a non-tensor takes no axis or keepdims");
  return min_max(vm, a, CompareOp::Lt, "min");
}
Value bi_max(VM& vm, const CallArgs& a) {
  if (tensor_first(a)) return tensor_min_max_call(a, true);
  if (reduction_keywords(a)) throw_error("max() of a non-tensor takes no axis or keepdims");
  return min_max(vm, a, CompareOp::Gt, "max");
}

// sum() as CPython 3.11: an int running total while the items are ints (overflow is an error
// in TL), a float one once a float appears, and `+` on values for anything else.
Value bi_sum(VM&, const CallArgs& a) {
  if (tensor_first(a)) {
    if (given(a.kw("start"))) throw_error("sum() of a tensor takes no start");
    return tensor_reduce_call(ReduceKind::Sum, a, "sum");
  }
  if (reduction_keywords(a)) throw_error("sum() of a non-tensor takes no axis or keepdims");
  if (a.npos > 2) throw_error("sum() takes at most 2 arguments (" + std::to_string(a.npos) + " given)");
  Value start = native_arg(a, 1, "start", "sum");
  if (is_str(start)) throw_error("sum() can't sum strings [use ''.join(seq) instead]");
  Ref iter = Ref::steal(make_iter(a.pos[0]));
  IterObj* it = as_obj<IterObj>(iter.get());
  Ref total = Ref::borrow(start.is_undefined() ? Value::small_int(0) : start);
  Ref item;
  auto next = [&]() {
    item = Ref::steal(iter_next(it));
    return bool(item);
  };
  if (total.get().is_int() || total.get().is_bool()) {
    int64_t acc = int_arg(total.get());
    bool done = true;
    while (next()) {
      Value v = item.get();
      if (!v.is_int() && !v.is_bool()) {
        total = Ref::steal(binary_op(BinaryOp::Add, Ref::steal(Value::integer(acc)).get(), v));
        done = false;
        break;
      }
      acc = int_add(acc, int_arg(v));
    }
    if (done) return Value::integer(acc);
  }
  if (total.get().is_double()) {
    double acc = total.get().as_double();
    bool done = true;
    while (next()) {
      Value v = item.get();
      if (v.is_double()) {
        acc += v.as_double();
      } else if (v.is_int() || v.is_bool()) {
        acc += v.to_double();
      } else {
        total = Ref::steal(binary_op(BinaryOp::Add, Value::from_double(acc), v));
        done = false;
        break;
      }
    }
    if (done) return Value::from_double(acc);
  }
  while (next()) total = Ref::steal(binary_op(BinaryOp::Add, total.get(), item.get()));
  return total.release();
}

// round(int, n) for n < 0: to a multiple of 10^-n, half to even.
int64_t round_int(int64_t x, int64_t ndigits) {
  if (ndigits >= 0) return x;
  if (ndigits < -19) return 0;  // |x| < 2^63 < 10^20 / 2
  if (ndigits == -19) {         // 10^19 is past int64: the result is 0 or does not fit
    constexpr int64_t half = 5'000'000'000'000'000'000;
    if (x > half || x < -half) throw_error("integer overflow");
    return 0;
  }
  int64_t p = 1;
  for (int64_t k = 0; k < -ndigits; ++k) p *= 10;
  int64_t q = x / p, r = x % p;
  if (r < 0) r += p, --q;  // floor division
  if (2 * r > p || (2 * r == p && (q & 1))) ++q;
  return int_mul(q, p);
}

// round(float, n) as CPython: the correctly rounded decimal with n digits after the point
// (half to even on the exact binary value), read back as the nearest double.
double round_float(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits > 323) return x;         // every double is exact to this many digits
  if (ndigits < -308) return 0.0 * x;  // rounds to zero, keeping the sign
  std::string text;
  if (ndigits >= 0) {
    char buf[400 + 330];
    auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, int(ndigits));
    text.assign(buf, res.ptr);
  } else {
    // The decimal digits of the integer part (exact), rounded at 10^-ndigits; the fraction
    // only breaks ties.
    double whole = std::trunc(std::fabs(x));
    char buf[400];
    auto res = std::to_chars(buf, buf + sizeof buf, whole, std::chars_format::fixed, 0);
    std::string digits(buf, res.ptr);
    size_t k = size_t(-ndigits);
    std::string head = digits.size() > k ? digits.substr(0, digits.size() - k) : "0";
    std::string tail = digits.size() > k ? digits.substr(digits.size() - k) : std::string(k - digits.size(), '0') + digits;
    // Compare the dropped part with half of 10^k.
    int cmp = tail[0] < '5' ? -1 : tail[0] > '5' ? 1 : 0;
    if (cmp == 0) {
      bool rest = tail.find_first_not_of('0', 1) != std::string::npos || whole != std::fabs(x);
      cmp = rest ? 1 : 0;
    }
    if (cmp > 0 || (cmp == 0 && (head.back() - '0') % 2 == 1)) {
      int j = int(head.size()) - 1;
      while (j >= 0 && head[j] == '9') head[j--] = '0';
      if (j < 0) head.insert(head.begin(), '1');
      else ++head[j];
    }
    text = (std::signbit(x) ? "-" : "") + head + std::string(k, '0');
  }
  double rounded = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rounded);
  if (ec == std::errc::result_out_of_range) {
    rounded = std::strtod(text.c_str(), nullptr);
    if (std::isinf(rounded)) throw_error("rounded value too large to represent");
  }
  return rounded;
}

Value bi_round(VM&, const CallArgs& a) {
  Value x = a.pos[0];
  Value nd = native_arg(a, 1, "ndigits", "round");
  if (is_tensor(x)) {
    if (given(nd)) throw_error("round() of a tensor takes no ndigits");
    return tensor_unary(UnaryKind::Round, as_tensor(x));
  }
  if (!x.is_number()) throw_error(std::string("type ") + type_name(x) + " doesn't define __round__ method");
  if (!given(nd)) {
    if (!x.is_double()) return Value::integer(int_arg(x));
    double d = x.as_double(), r = std::round(d);
    if (std::fabs(d - r) == 0.5) r = 2.0 * std::round(d / 2.0);  // halfway: to even
    return Value::integer(float_to_int(r));
  }
  int64_t ndigits = int_arg(nd);
  if (!x.is_double()) return Value::integer(round_int(int_arg(x), ndigits));
  return Value::number(round_float(x.as_double(), ndigits));
}

// Math on a number, or elementwise on a tensor.
// Errors as CPython's math module: a NaN from a non-NaN is a domain error; an infinity from a
// finite argument is a range error where the function can overflow, else a domain error.
Value unary_math(const CallArgs& a, double (*f)(double), bool can_overflow, UnaryKind elementwise) {
  Value x = a.pos[0];
  if (is_tensor(x)) return tensor_unary(elementwise, as_tensor(x));
  if (!x.is_number()) throw_error(std::string("must be real number, not ") + type_name(x));
  double d = x.to_double(), r = f(d);
  if (std::isnan(r) && !std::isnan(d)) throw_error("math domain error");
  if (std::isinf(r) && std::isfinite(d)) throw_error(can_overflow ? "math range error" : "math domain error");
  return Value::number(r);
}

// floor and ceil: an int, as math.floor/math.ceil (a tensor stays a tensor).
Value int_math(const CallArgs& a, double (*f)(double), UnaryKind elementwise) {
  Value x = a.pos[0];
  if (is_tensor(x)) return tensor_unary(elementwise, as_tensor(x));
  if (x.is_int()) return new_ref(x);
  if (x.is_bool()) return Value::small_int(x.as_bool());
  if (x.is_double()) return Value::integer(float_to_int(f(x.as_double())));
  throw_error(std::string("must be real number, not ") + type_name(x));
}

Value bi_sqrt(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::sqrt(x); }, false, UnaryKind::Sqrt); }
Value bi_exp(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::exp(x); }, true, UnaryKind::Exp); }
Value bi_log(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::log(x); }, false, UnaryKind::Log); }
Value bi_sin(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::sin(x); }, false, UnaryKind::Sin); }
Value bi_cos(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::cos(x); }, false, UnaryKind::Cos); }
Value bi_tanh(VM&, const CallArgs& a) { return unary_math(a, [](double x) { return std::tanh(x); }, false, UnaryKind::Tanh); }
Value bi_floor(VM&, const CallArgs& a) { return int_math(a, [](double x) { return std::floor(x); }, UnaryKind::Floor); }
Value bi_ceil(VM&, const CallArgs& a) { return int_math(a, [](double x) { return std::ceil(x); }, UnaryKind::Ceil); }

// ---------------------------------------------------------------- sequences

Value bi_sorted(VM& vm, const CallArgs& a) {
  OwnedValues items(collect(a.pos[0]));
  Value reverse = a.kw("reverse");
  sort_values(vm, items.items, a.kw("key"), !reverse.is_undefined() && int_arg(reverse) != 0);
  return make_list(items.take());
}

// reversed() gives a list in TL (Python gives an iterator).
Value bi_reversed(VM&, const CallArgs& a) {
  Value seq = a.pos[0];
  if (is_tensor(seq)) {  // as torch's Tensor.__reversed__: flipped along the first dimension
    if (as_tensor(seq)->ndim == 0) {
      incref(seq);
      return seq;
    }
    Ref flip = Ref::steal(Value::object(new SliceObj()));
    auto* s = as_obj<SliceObj>(flip.get());
    s->lower = s->upper = Value::none();
    s->step = Value::small_int(-1);
    return get_item(seq, flip.get());
  }
  bool reversible = seq.is_obj() && (seq.as_obj()->type == ObjType::List || seq.as_obj()->type == ObjType::Tuple ||
                                     seq.as_obj()->type == ObjType::Str || seq.as_obj()->type == ObjType::Range ||
                                     seq.as_obj()->type == ObjType::Dict);
  if (!reversible) throw_error(std::string("'") + type_name(seq) + "' object is not reversible");
  std::vector<Value> items = collect(seq);
  std::reverse(items.begin(), items.end());
  return make_list(std::move(items));
}

// enumerate() gives a list of (index, item) tuples in TL.
Value bi_enumerate(VM&, const CallArgs& a) {
  Value start_arg = native_arg(a, 1, "start", "enumerate");
  int64_t start = start_arg.is_undefined() ? 0 : int_arg(start_arg);
  OwnedValues items(collect(a.pos[0]));
  OwnedValues pairs;
  pairs.items.reserve(items.items.size());
  for (size_t i = 0; i < items.items.size(); ++i)
    pairs.items.push_back(make_tuple({Value::integer(int_add(start, int64_t(i))), new_ref(items.items[i])}));
  return make_list(pairs.take());
}

// zip() gives a list of tuples in TL, as long as the shortest argument.
Value bi_zip(VM&, const CallArgs& a) {
  std::vector<Ref> iters;
  for (uint32_t i = 0; i < a.npos; ++i) iters.push_back(Ref::steal(make_iter(a.pos[i])));
  OwnedValues rows;
  while (!iters.empty()) {
    OwnedValues row;
    for (Ref& it : iters) {
      Value v = iter_next(as_obj<IterObj>(it.get()));
      if (v.is_undefined()) return make_list(rows.take());
      row.items.push_back(v);
    }
    rows.items.push_back(make_tuple(row.take()));
  }
  return make_list(rows.take());
}

Value bi_list(VM&, const CallArgs& a) { return make_list(a.npos ? collect(a.pos[0]) : std::vector<Value>{}); }

Value bi_tuple(VM&, const CallArgs& a) {
  if (a.npos && is_type(a.pos[0], ObjType::Tuple)) return new_ref(a.pos[0]);
  return make_tuple(a.npos ? collect(a.pos[0]) : std::vector<Value>{});
}

// dict(), dict(mapping), dict(iterable of pairs), each then updated with name=value keywords.
Value bi_dict(VM&, const CallArgs& a) {
  Ref result = Ref::steal(make_dict());
  DictObj* d = as_obj<DictObj>(result.get());
  if (a.npos == 1 && is_type(a.pos[0], ObjType::Dict)) {
    for (const DictObj::Entry& e : as_obj<DictObj>(a.pos[0])->entries) d->set(e.key, e.value);
  } else if (a.npos == 1) {
    OwnedValues elements(collect(a.pos[0]));
    for (size_t i = 0; i < elements.items.size(); ++i) {
      Value e = elements.items[i];
      bool sequence = e.is_obj() && (e.as_obj()->type == ObjType::List || e.as_obj()->type == ObjType::Tuple ||
                                     e.as_obj()->type == ObjType::Str || e.as_obj()->type == ObjType::Dict ||
                                     e.as_obj()->type == ObjType::Range);
      if (!sequence)
        throw_error("cannot convert dictionary update sequence element #" + std::to_string(i) + " to a sequence");
      OwnedValues pair(collect(e));
      if (pair.items.size() != 2)
        throw_error("dictionary update sequence element #" + std::to_string(i) + " has length " +
                    std::to_string(pair.items.size()) + "; 2 is required");
      d->set(pair.items[0], pair.items[1]);
    }
  }
  for (uint32_t k = 0; k < a.nkw; ++k) d->set(Value::object(a.kwnames[k]), a.kwvals[k]);
  return result.release();
}

// ---------------------------------------------------------------- the environment

Value bi_clock(VM& vm, const CallArgs&) {
  vm.not_while_recording("clock()");
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return Value::from_double(std::chrono::duration<double>(now).count());
}

Value bi_argv(VM& vm, const CallArgs&) {
  OwnedValues items;
  for (const std::string& s : vm.argv) items.items.push_back(make_str(s));
  return make_list(items.take());
}

// ---------------------------------------------------------------- the table

// The keyword list "**" takes any keyword (dict(a=1)).
constexpr BuiltinDef kBuiltins[] = {
    // name         fn             min max  keywords
    {"print",      bi_print,      0, -1, "sep end"},
    {"len",        bi_len,        1, 1,  ""},
    {"range",      bi_range,      1, 3,  ""},
    {"str",        bi_str,        0, 1,  ""},
    {"repr",       bi_repr,       1, 1,  ""},
    {"int",        bi_int,        0, 2,  "base"},
    {"float",      bi_float,      0, 1,  ""},
    {"bool",       bi_bool,       0, 1,  ""},
    {"type",       bi_type,       1, 1,  ""},
    {"abs",        bi_abs,        1, 1,  ""},
    {"min",        bi_min,        1, -1, "key default axis keepdims dim keepdim"},
    {"max",        bi_max,        1, -1, "key default axis keepdims dim keepdim"},
    {"sum",        bi_sum,        1, 3,  "start axis keepdims dim keepdim"},
    {"round",      bi_round,      1, 2,  "ndigits"},
    {"sorted",     bi_sorted,     1, 1,  "key reverse"},
    {"reversed",   bi_reversed,   1, 1,  ""},
    {"enumerate",  bi_enumerate,  1, 2,  "start"},
    {"zip",        bi_zip,        0, -1, ""},
    {"list",       bi_list,       0, 1,  ""},
    {"tuple",      bi_tuple,      0, 1,  ""},
    {"dict",       bi_dict,       0, 1,  "**"},
    {"isinstance", bi_isinstance, 2, 2,  ""},
    {"clock",      bi_clock,      0, 0,  ""},
    {"argv",       bi_argv,       0, 0,  ""},
    {"sqrt",       bi_sqrt,       1, 1,  ""},
    {"exp",        bi_exp,        1, 1,  ""},
    {"log",        bi_log,        1, 1,  ""},
    {"sin",        bi_sin,        1, 1,  ""},
    {"cos",        bi_cos,        1, 1,  ""},
    {"tanh",       bi_tanh,       1, 1,  ""},
    {"floor",      bi_floor,      1, 1,  ""},
    {"ceil",       bi_ceil,       1, 1,  ""},
};

bool accepts_keyword(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    size_t space = list.find(' ');
    std::string_view word = list.substr(0, space);
    if (word == name || word == "**") return true;
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return false;
}

std::string plural(int64_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

// The general rows, then the tensor rows (vm/tensor_ops.cpp): one table, one index space.
std::span<const BuiltinDef> builtins() {
  static const std::vector<BuiltinDef> table = [] {
    std::vector<BuiltinDef> t(std::begin(kBuiltins), std::end(kBuiltins));
    for (const BuiltinDef& d : tensor_builtin_rows()) t.push_back(d);
    return t;
  }();
  return table;
}

int builtin_index(std::string_view name) {
  static const std::unordered_map<std::string_view, int> index = [] {
    std::unordered_map<std::string_view, int> m;
    std::span<const BuiltinDef> table = builtins();
    for (size_t i = 0; i < table.size(); ++i) m.emplace(table[i].name, int(i));
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

Value builtin_value(int index) {
  // Created once and never freed: immortal, shared by every VM and thread.
  static const std::vector<BuiltinObj*>* objects = [] {
    auto* v = new std::vector<BuiltinObj*>;
    for (const BuiltinDef& def : builtins()) {
      auto* o = new BuiltinObj(&def);
      o->refcount = Obj::kImmortal;
      v->push_back(o);
    }
    return v;
  }();
  return Value::object((*objects)[size_t(index)]);
}

void check_native_call(const BuiltinDef& def, const CallArgs& args, bool is_method) {
  const int self = is_method ? 1 : 0;
  const int npos = int(args.npos), lo = def.min_args, hi = def.max_args;
  if (npos < lo || (hi >= 0 && npos > hi)) {
    // Messages count the arguments the caller wrote, so a method's receiver is left out.
    const int n = npos - self, min = lo - self, max = hi - self;
    std::string msg = std::string(def.name) + "() takes ";
    if (lo == hi)
      msg += plural(min, "positional argument") + " but " + std::to_string(n) + (n == 1 ? " was" : " were") + " given";
    else if (npos < lo)
      msg += "at least " + plural(min, "positional argument") + " (" + std::to_string(n) + " given)";
    else
      msg += "from " + std::to_string(min) + " to " + std::to_string(max) + " positional arguments but " +
             std::to_string(n) + (n == 1 ? " was" : " were") + " given";
    throw_error(msg);
  }
  for (uint32_t k = 0; k < args.nkw; ++k) {
    std::string_view name = args.kwnames[k]->data;
    if (!accepts_keyword(def.keywords, name))
      throw_error(std::string(def.name) + "() got an unexpected keyword argument '" + std::string(name) + "'");
  }
}

}  // namespace tvm
