// The value model and operator semantics (vm/value.h, vm/object.cpp, vm/ops.cpp). Expected
// results in values_table.inc come from CPython (tests/unit/gen_tables.py).
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string_view>

#include "code.h"
#include "error.h"
#include "object.h"
#include "ops.h"
#include "py_literal.h"

using namespace tvm;
using namespace std::literals;
using tvm_test::py_value;

namespace {

// Builders: each returns an owning Ref.
Ref N() { return Ref::steal(Value::none()); }
Ref B(bool b) { return Ref::steal(Value::boolean(b)); }
Ref I(int64_t i) { return Ref::steal(Value::integer(i)); }
Ref D(double d) { return Ref::steal(Value::number(d)); }
Ref S(std::string_view s) { return Ref::steal(make_str(s)); }
std::vector<Value> values_of(std::initializer_list<Ref> items) {
  std::vector<Value> v;
  for (const Ref& r : items) {
    incref(r.get());
    v.push_back(r.get());
  }
  return v;
}
Ref L(std::initializer_list<Ref> items) { return Ref::steal(make_list(values_of(items))); }
Ref T(std::initializer_list<Ref> items) { return Ref::steal(make_tuple(values_of(items))); }
Ref Sl(Ref lower, Ref upper, Ref step) {
  auto* s = new SliceObj();
  s->lower = lower.release();
  s->upper = upper.release();
  s->step = step.release();
  return Ref::steal(Value::object(s));
}

// repr of what f returns, or "!" and the error message.
template <typename Fn>
std::string outcome(Fn f) {
  try {
    Ref r = Ref::steal(f());
    return repr(r.get());
  } catch (const RuntimeError& e) {
    return std::string("!") + e.what();
  }
}

// The error message f throws ("" when it does not throw).
template <typename Fn>
std::string error_of(Fn f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

uint32_t count(Value v) { return v.as_obj()->refcount; }

// Operands and expected results in Python's repr syntax (py_literal.h).
struct OpCase {
  const char *a, *op, *b, *expected;
};
struct IndexCase {
  const char *seq, *index, *expected;
};
struct RangeCase {
  int64_t start, stop, step;
  const char* items;
  int64_t length;
};
struct StrReprCase {
  std::string_view text;  // may hold a NUL
  const char* expected;
};

#include "values_table.inc"

BinaryOp binary_op_named(std::string_view s) {
  static const std::pair<std::string_view, BinaryOp> ops[] = {
      {"+", BinaryOp::Add},     {"-", BinaryOp::Sub},     {"*", BinaryOp::Mul},     {"/", BinaryOp::Div},
      {"//", BinaryOp::FloorDiv}, {"%", BinaryOp::Mod},   {"**", BinaryOp::Pow},    {"<<", BinaryOp::LShift},
      {">>", BinaryOp::RShift}, {"&", BinaryOp::And},     {"|", BinaryOp::Or},      {"^", BinaryOp::Xor},
      {"@", BinaryOp::MatMul}};
  for (auto& [name, op] : ops)
    if (name == s) return op;
  throw std::logic_error("no operator " + std::string(s));
}

CompareOp compare_op_named(std::string_view s) {
  static const std::pair<std::string_view, CompareOp> ops[] = {
      {"<", CompareOp::Lt}, {"<=", CompareOp::Le}, {">", CompareOp::Gt},
      {">=", CompareOp::Ge}, {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}};
  for (auto& [name, op] : ops)
    if (name == s) return op;
  throw std::logic_error("no comparison " + std::string(s));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(values)

// ---------------------------------------------------------------- NaN-boxing

BOOST_AUTO_TEST_CASE(doubles_round_trip) {
  const double ds[] = {0.0, -0.0, 1.0, -1.5, 1e308, -1e-308, 5e-324, std::numeric_limits<double>::max(),
                       std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (double d : ds) {
    Value v = Value::number(d);
    BOOST_TEST(v.is_double());
    BOOST_TEST(!v.is_int());
    BOOST_TEST(!v.is_obj());
    BOOST_TEST(std::bit_cast<uint64_t>(v.as_double()) == std::bit_cast<uint64_t>(d));
    BOOST_TEST(v.is_number());
  }
  BOOST_TEST(std::signbit(Value::number(-0.0).as_double()));
}

BOOST_AUTO_TEST_CASE(nans_are_canonical_doubles) {
  // Quiet, signalling, negative and tag-colliding NaN payloads all stay floats.
  const uint64_t nans[] = {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000001ull,
                           0xFFFC000000000001ull, 0xFFFE123456789ABCull, 0xFFFFFFFFFFFFFFFFull};
  for (uint64_t bits : nans) {
    Value v = Value::number(std::bit_cast<double>(bits));
    BOOST_TEST(v.is_double());
    BOOST_TEST(std::isnan(v.as_double()));
    BOOST_TEST(repr(v) == "nan");
  }
  Value hw = Value::from_double(std::numeric_limits<double>::infinity() - std::numeric_limits<double>::infinity());
  BOOST_TEST(hw.is_double());  // the hardware's default NaN is below the tags
}

BOOST_AUTO_TEST_CASE(ints_round_trip) {
  const int64_t ints[] = {0, 1, -1, 42, Value::kSmallIntMax, Value::kSmallIntMin, Value::kSmallIntMax + 1,
                          Value::kSmallIntMin - 1, INT64_MAX, INT64_MIN, int64_t(1) << 53, -(int64_t(1) << 62)};
  for (int64_t i : ints) {
    Ref r = I(i);
    Value v = r.get();
    BOOST_TEST(v.is_int());
    BOOST_TEST(!v.is_double());
    BOOST_TEST(!v.is_bool());
    BOOST_TEST(v.as_int() == i);
    BOOST_TEST(v.is_small_int() == Value::fits_small(i));
    BOOST_TEST(type_name(v) == "int"sv);
    BOOST_TEST(repr(v) == std::to_string(i));
    BOOST_TEST(v.to_double() == double(i));
  }
  BOOST_TEST(Value::small_int((int64_t(1) << 47) - 1).as_small_int() == (int64_t(1) << 47) - 1);
  BOOST_TEST(Value::small_int(-(int64_t(1) << 47)).as_small_int() == -(int64_t(1) << 47));
  BOOST_TEST(!Value::fits_small(int64_t(1) << 47));
  BOOST_TEST(is_type(I(int64_t(1) << 47).get(), ObjType::BigInt));
}

BOOST_AUTO_TEST_CASE(specials) {
  BOOST_TEST(Value::none().is_none());
  BOOST_TEST(Value().is_undefined());
  BOOST_TEST(Value::boolean(true).is_true());
  BOOST_TEST(Value::boolean(false).is_false());
  BOOST_TEST(Value::boolean(true).is_number());
  BOOST_TEST(!Value::boolean(true).is_int());
  BOOST_TEST(!Value::none().is_number());
  BOOST_TEST(Value::boolean(true).to_double() == 1.0);
  BOOST_TEST(repr(Value::none()) == "None");
  BOOST_TEST(repr(Value::boolean(true)) == "True");
  BOOST_TEST(repr(Value::boolean(false)) == "False");
}

// ---------------------------------------------------------------- reference counting

BOOST_AUTO_TEST_CASE(containers_release_their_items) {
  Ref s = S("payload");
  BOOST_TEST(count(s.get()) == 1u);
  {
    Ref l = L({s, s});
    Ref t = T({s});
    Ref d = Ref::steal(make_dict());
    as_obj<DictObj>(d.get())->set(s.get(), s.get());
    BOOST_TEST(count(s.get()) == 6u);
  }
  BOOST_TEST(count(s.get()) == 1u);
  {
    auto* cell = new CellObj();
    incref(cell->value = s.get());
    auto* bm = new BoundMethodObj(s.get(), nullptr);
    incref(s.get());
    Ref it = Ref::steal(make_iter(s.get()));
    BOOST_TEST(count(s.get()) == 4u);
    decref(cell);
    decref(bm);
  }
  BOOST_TEST(count(s.get()) == 1u);
}

BOOST_AUTO_TEST_CASE(ref_handles) {
  Ref a = S("x");
  Ref b = a;
  BOOST_TEST(count(a.get()) == 2u);
  Ref c = std::move(b);
  BOOST_TEST(count(a.get()) == 2u);
  BOOST_TEST(!b);
  Value v = c.release();
  BOOST_TEST(count(a.get()) == 2u);
  decref(v);
  BOOST_TEST(count(a.get()) == 1u);
}

BOOST_AUTO_TEST_CASE(freeing_a_deep_chain_does_not_recurse) {
  Value v = make_list({});
  for (int i = 0; i < 200000; ++i) v = make_list({v});
  decref(v);  // frees 200,001 lists without a stack overflow (ASan checks they are all freed)
}

BOOST_AUTO_TEST_CASE(immortal_objects) {
  Value l = make_list({make_str("a")});
  as_obj<ListObj>(l)->items.push_back(l);  // a cycle
  incref(l);
  make_immortal(l);
  BOOST_TEST(count(l) == Obj::kImmortal);
  Value item = as_obj<ListObj>(l)->items[0];
  BOOST_TEST(count(item) == Obj::kImmortal);
  BOOST_TEST(as_obj<StrObj>(item)->hash != 0u);  // caches filled before sharing
  BOOST_TEST(as_obj<StrObj>(item)->length == 1);
  incref(l);
  decref(l);
  decref(l);
  BOOST_TEST(count(l) == Obj::kImmortal);
  BOOST_TEST(repr(l) == "['a', [...]]");
  // Mortal again, so the test frees what it made (LeakSanitizer cannot see NaN-boxed pointers).
  as_obj<ListObj>(l)->items.pop_back();
  l.as_obj()->refcount = 1;
  item.as_obj()->refcount = 1;
  decref(l);
}

BOOST_AUTO_TEST_CASE(immortal_functions_reach_their_code) {
  auto* code = new CodeObj();
  code->consts.push_back(make_str("constant"));
  auto* f = new FunctionObj(code, nullptr);
  f->defaults.push_back(make_list({}));
  f->cells.push_back(new CellObj());
  make_immortal(Value::object(f));
  Obj* made[] = {f, code, code->consts[0].as_obj(), f->defaults[0].as_obj(), f->cells[0]};
  for (Obj* o : made) BOOST_TEST(o->refcount == Obj::kImmortal);
  for (Obj* o : made) o->refcount = 1;  // mortal again, so the test frees what it made
  decref(f);
}

// ---------------------------------------------------------------- strings

BOOST_AUTO_TEST_CASE(string_lengths) {
  BOOST_TEST(length(S("").get()) == 0);
  BOOST_TEST(length(S("hello").get()) == 5);
  Ref s = S("h\xc3\xa9llo \xe4\xb8\xad \xf0\x9f\x98\x80");
  BOOST_TEST(length(s.get()) == 9);
  BOOST_TEST(!as_obj<StrObj>(s.get())->ascii);
  BOOST_TEST(as_obj<StrObj>(S("abc").get())->len() == 3);
  // Invalid UTF-8 bytes count one each.
  BOOST_TEST(length(S("a\xff\xc3").get()) == 3);
}

BOOST_AUTO_TEST_CASE(interning) {
  StrObj* a = intern("name");
  StrObj* b = intern(std::string("na") + "me");
  BOOST_TEST(a == b);
  BOOST_TEST(a->interned);
  BOOST_TEST(a->refcount == Obj::kImmortal);
  BOOST_TEST(intern("other") != a);
  BOOST_TEST(equal(Value::object(a), S("name").get()));
  BOOST_TEST(hash_value(Value::object(a)) == hash_value(S("name").get()));
  BOOST_TEST(hash_str("name") == hash_value(Value::object(a)));
}

BOOST_AUTO_TEST_CASE(string_repr_table) {
  for (const auto& c : kStrReprCases) {
    Ref s = S(c.text);
    BOOST_TEST(repr(s.get()) == c.expected);
    BOOST_TEST(to_str(s.get()) == c.text);
  }
}

// ---------------------------------------------------------------- dicts

BOOST_AUTO_TEST_CASE(dict_order_and_growth) {
  Ref d = Ref::steal(make_dict());
  auto* dict = as_obj<DictObj>(d.get());
  for (int i = 0; i < 10000; ++i) {
    int k = (i * 7919) % 10000;  // not in hash order
    Ref key = i % 2 ? I(k) : S("k" + std::to_string(k));
    dict->set(key.get(), I(i).get());
  }
  BOOST_TEST(dict->size() == 10000u);
  BOOST_TEST((dict->index.size() & (dict->index.size() - 1)) == 0u);
  BOOST_TEST(dict->size() * 3 <= dict->index.size() * 2);
  for (int i = 0; i < 10000; ++i) {
    int k = (i * 7919) % 10000;
    Ref key = i % 2 ? I(k) : S("k" + std::to_string(k));
    BOOST_TEST(equal(dict->entries[i].key, key.get()));
    BOOST_TEST(dict->get(key.get()).as_int() == i);
  }
  BOOST_TEST(dict->get(S("missing").get()).is_undefined());
  BOOST_TEST(dict->get(I(10000).get()).is_undefined());
  // Overwriting keeps the order and the size.
  dict->set(S("k0").get(), S("new").get());
  BOOST_TEST(dict->size() == 10000u);
  BOOST_TEST(repr(dict->entries[0].value) == "'new'");
}

BOOST_AUTO_TEST_CASE(numeric_keys_are_one_key) {
  Ref d = Ref::steal(make_dict());
  auto* dict = as_obj<DictObj>(d.get());
  dict->set(I(1).get(), S("int").get());
  dict->set(D(1.0).get(), S("float").get());
  dict->set(B(true).get(), S("bool").get());
  BOOST_TEST(dict->size() == 1u);
  BOOST_TEST(repr(d.get()) == "{1: 'bool'}");  // the first key stays, as in Python
  dict->set(D(-0.0).get(), S("zero").get());
  BOOST_TEST(dict->get(I(0).get()).is_obj());
  BOOST_TEST(dict->get(B(false).get()).is_obj());
  BOOST_TEST(dict->size() == 2u);
  dict->set(T({I(1), S("a")}).get(), I(5).get());
  BOOST_TEST(dict->get(T({D(1.0), S("a")}).get()).as_int() == 5);
  dict->set(N().get(), I(6).get());
  BOOST_TEST(dict->get(N().get()).as_int() == 6);
  dict->set(I(INT64_MIN).get(), I(7).get());
  BOOST_TEST(dict->get(D(-9223372036854775808.0).get()).as_int() == 7);
  BOOST_TEST(repr(d.get()) == "{1: 'bool', -0.0: 'zero', (1, 'a'): 5, None: 6, -9223372036854775808: 7}");
  BOOST_TEST(error_of([&] { dict->set(L({}).get(), I(1).get()); }) == "unhashable type: 'list'");
  BOOST_TEST(error_of([&] { dict->get(Ref::steal(make_dict()).get()); }) == "unhashable type: 'dict'");
  BOOST_TEST(error_of([&] { hash_value(T({I(1), L({})}).get()); }) == "unhashable type: 'list'");
}

BOOST_AUTO_TEST_CASE(hash_consistent_with_equal) {
  const Ref vals[] = {I(0), I(1), I(-1), I(2), B(true), B(false), D(0.0), D(-0.0), D(1.0), D(2.0), D(-1.0),
                      D(0.5), I(INT64_MAX), I(INT64_MIN), D(9007199254740992.0), I(9007199254740992),
                      I(9007199254740993), S(""), S("a"), T({}), T({I(1)}), T({D(1.0)}), N(), D(1e300),
                      Ref::steal(Value::object(new RangeObj(0, 3, 1))), Ref::steal(Value::object(new RangeObj(0, 3, 1))),
                      Ref::steal(Value::object(new RangeObj(0, 0, 5))), Ref::steal(Value::object(new RangeObj(4, 2, 1)))};
  for (const Ref& a : vals)
    for (const Ref& b : vals)
      if (equal(a.get(), b.get())) BOOST_TEST(hash_value(a.get()) == hash_value(b.get()));
}

// ---------------------------------------------------------------- arithmetic

BOOST_AUTO_TEST_CASE(binary_op_table) {
  for (const auto& c : kBinopCases) {
    Ref a = py_value(c.a), b = py_value(c.b);
    std::string got = outcome([&] { return binary_op(binary_op_named(c.op), a.get(), b.get()); });
    BOOST_TEST(got == c.expected, c.a << ' ' << c.op << ' ' << c.b);
  }
}

BOOST_AUTO_TEST_CASE(overflow) {
  const std::string overflow = "!integer overflow";
  auto op = [](BinaryOp o, int64_t a, int64_t b) { return outcome([&] { return binary_op(o, I(a).get(), I(b).get()); }); };
  BOOST_TEST(op(BinaryOp::Add, INT64_MAX, 1) == overflow);
  BOOST_TEST(op(BinaryOp::Add, INT64_MIN, -1) == overflow);
  BOOST_TEST(op(BinaryOp::Sub, INT64_MIN, 1) == overflow);
  BOOST_TEST(op(BinaryOp::Sub, 0, INT64_MIN) == overflow);
  BOOST_TEST(op(BinaryOp::Mul, INT64_MAX, 2) == overflow);
  BOOST_TEST(op(BinaryOp::Mul, INT64_MIN, -1) == overflow);
  BOOST_TEST(op(BinaryOp::Mul, int64_t(1) << 32, int64_t(1) << 31) == overflow);
  BOOST_TEST(op(BinaryOp::Mul, int64_t(1) << 32, -(int64_t(1) << 31)) == "-9223372036854775808");
  BOOST_TEST(op(BinaryOp::FloorDiv, INT64_MIN, -1) == overflow);
  BOOST_TEST(op(BinaryOp::Mod, INT64_MIN, -1) == "0");
  BOOST_TEST(op(BinaryOp::Pow, 2, 63) == overflow);
  BOOST_TEST(op(BinaryOp::Pow, -2, 63) == "-9223372036854775808");
  BOOST_TEST(op(BinaryOp::Pow, 2, 62) == "4611686018427387904");
  BOOST_TEST(op(BinaryOp::Pow, 3, 39) == "4052555153018976267");
  BOOST_TEST(op(BinaryOp::Pow, 3, 40) == overflow);
  BOOST_TEST(op(BinaryOp::Pow, 10, 19) == overflow);
  BOOST_TEST(op(BinaryOp::Pow, -1, INT64_MAX) == "-1");
  BOOST_TEST(op(BinaryOp::Pow, 2, INT64_MAX) == overflow);
  BOOST_TEST(op(BinaryOp::LShift, 1, 63) == overflow);
  BOOST_TEST(op(BinaryOp::LShift, -1, 63) == "-9223372036854775808");
  BOOST_TEST(op(BinaryOp::LShift, 1, 64) == overflow);
  BOOST_TEST(op(BinaryOp::LShift, 0, 1000) == "0");
  BOOST_TEST(op(BinaryOp::LShift, 3, 62) == overflow);
  BOOST_TEST(op(BinaryOp::LShift, 1, -1) == "!negative shift count");
  BOOST_TEST(op(BinaryOp::RShift, 1, -1) == "!negative shift count");
  BOOST_TEST(op(BinaryOp::RShift, -5, 1000) == "-1");
  BOOST_TEST(outcome([] { return unary_neg(I(INT64_MIN).get()); }) == overflow);
  BOOST_TEST(outcome([] { return unary_neg(I(INT64_MAX).get()); }) == "-9223372036854775807");
  BOOST_TEST(error_of([] { int_add(INT64_MAX, 1); }) == "integer overflow");
  BOOST_TEST(error_of([] { int_sub(INT64_MIN, 1); }) == "integer overflow");
  BOOST_TEST(error_of([] { int_mul(INT64_MIN, -1); }) == "integer overflow");
  BOOST_TEST(int_mul(-3, 7) == -21);
  // Results crossing the inline range box and unbox transparently.
  BOOST_TEST(op(BinaryOp::Add, Value::kSmallIntMax, 1) == "140737488355328");
  BOOST_TEST(op(BinaryOp::Sub, -(int64_t(1) << 47), 1) == "-140737488355329");
}

BOOST_AUTO_TEST_CASE(floor_division_signs) {
  // Python's a // b and a % b for every sign combination, ints and floats.
  struct Case {
    double a, b, floordiv, mod;
  };
  const Case cases[] = {{7, 3, 2, 1},    {-7, 3, -3, 2},    {7, -3, -3, -2},  {-7, -3, 2, -1},
                        {6, 3, 2, 0},    {-6, 3, -2, 0},    {6, -3, -2, -0.0}, {-6, -3, 2, -0.0},
                        {0, 3, 0, 0},    {-0.0, 3, -0.0, 0}, {0, -3, -0.0, -0.0}, {7.5, 2, 3, 1.5},
                        {-7.5, 2, -4, 0.5}, {7.5, -2, -4, -0.5}, {-7.5, -2, 3, -1.5}};
  for (const Case& c : cases) {
    Ref fa = D(c.a), fb = D(c.b);
    BOOST_TEST(repr(Ref::steal(binary_op(BinaryOp::FloorDiv, fa.get(), fb.get())).get()) == float_repr(c.floordiv));
    BOOST_TEST(repr(Ref::steal(binary_op(BinaryOp::Mod, fa.get(), fb.get())).get()) == float_repr(c.mod));
    if (c.a == std::trunc(c.a) && !std::signbit(c.a)) {
      int64_t ia = int64_t(c.a), ib = int64_t(c.b);
      Ref q = Ref::steal(binary_op(BinaryOp::FloorDiv, I(ia).get(), I(ib).get()));
      Ref m = Ref::steal(binary_op(BinaryOp::Mod, I(ia).get(), I(ib).get()));
      BOOST_TEST(q.get().as_int() == int64_t(c.floordiv));
      BOOST_TEST(m.get().as_int() == int64_t(c.mod));
    }
  }
  BOOST_TEST(outcome([] { return binary_op(BinaryOp::FloorDiv, I(-7).get(), I(3).get()); }) == "-3");
  BOOST_TEST(outcome([] { return binary_op(BinaryOp::Mod, I(-7).get(), I(3).get()); }) == "2");
  BOOST_TEST(outcome([] { return binary_op(BinaryOp::Mod, I(7).get(), I(-3).get()); }) == "-2");
  for (BinaryOp o : {BinaryOp::Div, BinaryOp::FloorDiv, BinaryOp::Mod}) {
    BOOST_TEST(outcome([&] { return binary_op(o, I(1).get(), I(0).get()); }) == "!division by zero");
    BOOST_TEST(outcome([&] { return binary_op(o, D(1.5).get(), D(-0.0).get()); }) == "!division by zero");
    BOOST_TEST(outcome([&] { return binary_op(o, I(1).get(), B(false).get()); }) == "!division by zero");
  }
}

BOOST_AUTO_TEST_CASE(unary_ops) {
  BOOST_TEST(outcome([] { return unary_neg(B(true).get()); }) == "-1");
  BOOST_TEST(outcome([] { return unary_pos(B(true).get()); }) == "1");
  BOOST_TEST(outcome([] { return unary_invert(B(true).get()); }) == "-2");
  BOOST_TEST(outcome([] { return unary_neg(D(0.0).get()); }) == "-0.0");
  BOOST_TEST(outcome([] { return unary_pos(D(-2.5).get()); }) == "-2.5");
  BOOST_TEST(outcome([] { return unary_pos(I(INT64_MIN).get()); }) == "-9223372036854775808");
  BOOST_TEST(outcome([] { return unary_invert(I(0).get()); }) == "-1");
  BOOST_TEST(outcome([] { return unary_invert(I(INT64_MIN).get()); }) == "9223372036854775807");
  BOOST_TEST(outcome([] { return unary_neg(S("a").get()); }) == "!bad operand type for unary -: 'str'");
  BOOST_TEST(outcome([] { return unary_pos(N().get()); }) == "!bad operand type for unary +: 'NoneType'");
  BOOST_TEST(outcome([] { return unary_invert(D(1.0).get()); }) == "!bad operand type for unary ~: 'float'");
}

// ---------------------------------------------------------------- comparison

BOOST_AUTO_TEST_CASE(compare_table) {
  for (const auto& c : kCompareCases) {
    CompareOp op = compare_op_named(c.op);
    Ref a = py_value(c.a), b = py_value(c.b);
    std::string got = outcome([&] { return compare(op, a.get(), b.get()); });
    BOOST_TEST(got == c.expected, c.a << ' ' << c.op << ' ' << c.b);
    if (op == CompareOp::Lt && c.expected[0] != '!') BOOST_TEST(less(a.get(), b.get()) == (std::string_view(c.expected) == "True"));
  }
}

BOOST_AUTO_TEST_CASE(comparison_messages_and_recursion) {
  BOOST_TEST(error_of([] { less(S("a").get(), I(1).get()); }) == "'<' not supported between 'str' and 'int'");
  BOOST_TEST(outcome([] { return compare(CompareOp::Ge, L({}).get(), T({}).get()); }) ==
             "!'>=' not supported between 'list' and 'tuple'");
  BOOST_TEST(outcome([] { return compare(CompareOp::Lt, L({I(1)}).get(), L({S("a")}).get()); }) ==
             "!'<' not supported between 'int' and 'str'");
  BOOST_TEST(!equal(N().get(), I(0).get()));
  BOOST_TEST(equal(N().get(), N().get()));
  BOOST_TEST(!equal(D(NAN).get(), D(NAN).get()));
  // A list holding itself is equal to itself (Python's identity shortcut on elements).
  Value l = make_list({});
  as_obj<ListObj>(l)->items.push_back(l);
  incref(l);
  BOOST_TEST(equal(l, l));
  as_obj<ListObj>(l)->items.clear();
  decref(l);
  decref(l);
  // Deep nesting is an error, not a crash.
  Ref a = L({}), b = L({});
  for (int i = 0; i < 5000; ++i) {
    a = Ref::steal(make_list({a.release()}));
    b = Ref::steal(make_list({b.release()}));
  }
  BOOST_TEST(error_of([&] { equal(a.get(), b.get()); }) == "maximum recursion depth exceeded");
  BOOST_TEST(error_of([&] { repr(a.get()); }) == "maximum recursion depth exceeded");
  BOOST_TEST(error_of([&] { less(a.get(), b.get()); }) == "maximum recursion depth exceeded");
  BOOST_TEST(repr(L({I(1)}).get()) == "[1]");  // the depth count recovered
}

BOOST_AUTO_TEST_CASE(truthiness_and_types) {
  const std::pair<Ref, bool> cases[] = {
      {I(0), false},  {I(3), true},   {I(INT64_MIN), true}, {D(0.0), false}, {D(-0.0), false}, {D(NAN), true},
      {S(""), false}, {S("a"), true}, {L({}), false},       {L({N()}), true}, {T({}), false},   {T({I(0)}), true},
      {N(), false},   {B(false), false}, {B(true), true},
      {Ref::steal(make_dict()), false},
      {Ref::steal(Value::object(new RangeObj(0, 0, 1))), false},
      {Ref::steal(Value::object(new RangeObj(5, 0, -1))), true},
      {Ref::steal(Value::object(new RangeObj(0, 5, -1))), false}};
  for (const auto& [v, t] : cases) BOOST_TEST(truthy(v.get()) == t, repr(v.get()));
  BOOST_TEST(type_name(D(1.0).get()) == "float"sv);
  BOOST_TEST(type_name(B(true).get()) == "bool"sv);
  BOOST_TEST(type_name(N().get()) == "NoneType"sv);
  BOOST_TEST(type_name(S("").get()) == "str"sv);
  BOOST_TEST(type_name(L({}).get()) == "list"sv);
  BOOST_TEST(type_name(T({}).get()) == "tuple"sv);
  BOOST_TEST(type_name(Ref::steal(make_dict()).get()) == "dict"sv);
  BOOST_TEST(type_name(Ref::steal(Value::object(new RangeObj(0, 1, 1))).get()) == "range"sv);
  BOOST_TEST(type_name(Sl(N(), N(), N()).get()) == "slice"sv);
  BOOST_TEST(type_name(Ref::steal(make_iter(L({}).get())).get()) == "iterator"sv);
  BOOST_TEST(type_name(Ref::steal(Value::object(new CellObj())).get()) == "cell"sv);
  static const BuiltinDef def{"len", nullptr, 1, 1, ""};
  BOOST_TEST(type_name(Ref::steal(Value::object(new BuiltinObj(&def))).get()) == "builtin"sv);
  BOOST_TEST(repr(Ref::steal(Value::object(new BuiltinObj(&def))).get()) == "<function len>");
  Ref bm = Ref::steal(Value::object(new BoundMethodObj(L({}).release(), &def)));
  BOOST_TEST(type_name(bm.get()) == "builtin"sv);
  BOOST_TEST(repr(bm.get()) == "<method len>");
}

// ---------------------------------------------------------------- containers

BOOST_AUTO_TEST_CASE(index_and_slice_table) {
  for (const auto& c : kIndexCases) {
    Ref seq = py_value(c.seq), index = py_value(c.index);
    BOOST_TEST(repr(seq.get()) == c.seq);  // the literal parser round-trips
    std::string got = outcome([&] { return get_item(seq.get(), index.get()); });
    BOOST_TEST(got == c.expected, c.seq << '[' << c.index << ']');
  }
}

BOOST_AUTO_TEST_CASE(indexing_errors) {
  Ref l = L({I(1), I(2)});
  Ref t = T({I(1)});
  Ref s = S("ab");
  BOOST_TEST(outcome([&] { return get_item(l.get(), S("x").get()); }) == "!list indices must be integers or slices, not str");
  BOOST_TEST(outcome([&] { return get_item(t.get(), D(1.0).get()); }) == "!tuple indices must be integers or slices, not float");
  BOOST_TEST(outcome([&] { return get_item(s.get(), N().get()); }) == "!string indices must be integers, not 'NoneType'");
  BOOST_TEST(outcome([&] { return get_item(l.get(), T({I(0), I(1)}).get()); }) ==
             "!list indices must be integers or slices, not tuple");
  BOOST_TEST(outcome([&] { return get_item(l.get(), I(2).get()); }) == "!index out of range");
  BOOST_TEST(outcome([&] { return get_item(l.get(), I(-3).get()); }) == "!index out of range");
  BOOST_TEST(outcome([&] { return get_item(I(5).get(), I(0).get()); }) == "!'int' object is not subscriptable");
  BOOST_TEST(outcome([&] { return get_item(l.get(), Sl(N(), N(), I(0)).get()); }) == "!slice step cannot be zero");
  BOOST_TEST(outcome([&] { return get_item(l.get(), Sl(D(1.0), N(), N()).get()); }) ==
             "!slice indices must be integers or None");
  BOOST_TEST(outcome([&] { return get_item(l.get(), Sl(B(true), N(), N()).get()); }) == "[2]");
  BOOST_TEST(outcome([&] { return get_item(l.get(), Sl(I(INT64_MIN), I(INT64_MAX), I(INT64_MIN)).get()); }) == "[]");
  BOOST_TEST(outcome([&] { return get_item(l.get(), Sl(N(), N(), I(INT64_MIN)).get()); }) == "[2]");
  BOOST_TEST(normalize_index(-1, 3) == 2);
  BOOST_TEST(error_of([] { normalize_index(3, 3); }) == "index out of range");
  BOOST_TEST(error_of([] { normalize_index(-1, 0); }) == "index out of range");
}

BOOST_AUTO_TEST_CASE(dict_items) {
  Ref d = Ref::steal(make_dict());
  set_item(d.get(), S("k").get(), D(1.5).get());
  set_item(d.get(), I(2).get(), L({}).get());
  BOOST_TEST(repr(d.get()) == "{'k': 1.5, 2: []}");
  BOOST_TEST(outcome([&] { return get_item(d.get(), S("k").get()); }) == "1.5");
  BOOST_TEST(outcome([&] { return get_item(d.get(), D(2.0).get()); }) == "[]");
  BOOST_TEST(outcome([&] { return get_item(d.get(), S("x").get()); }) == "!key 'x' not found");
  BOOST_TEST(outcome([&] { return get_item(d.get(), T({I(1), S("a")}).get()); }) == "!key (1, 'a') not found");
  BOOST_TEST(outcome([&] { return get_item(d.get(), L({}).get()); }) == "!unhashable type: 'list'");
  BOOST_TEST(length(d.get()) == 2);
  BOOST_TEST(contains(d.get(), S("k").get()));
  BOOST_TEST(!contains(d.get(), S("v").get()));
}

BOOST_AUTO_TEST_CASE(item_assignment) {
  Ref l = L({I(0), I(1), I(2), I(3), I(4)});
  set_item(l.get(), I(-1).get(), S("x").get());
  BOOST_TEST(repr(l.get()) == "[0, 1, 2, 3, 'x']");
  set_item(l.get(), Sl(I(1), I(3), N()).get(), T({S("a"), S("b"), S("c")}).get());
  BOOST_TEST(repr(l.get()) == "[0, 'a', 'b', 'c', 3, 'x']");
  set_item(l.get(), Sl(N(), N(), I(2)).get(), L({I(7), I(8), I(9)}).get());
  BOOST_TEST(repr(l.get()) == "[7, 'a', 8, 'c', 9, 'x']");
  set_item(l.get(), Sl(I(4), I(1), N()).get(), S("hé").get());  // an empty slice: inserts
  BOOST_TEST(repr(l.get()) == "[7, 'a', 8, 'c', 'h', 'é', 9, 'x']");
  set_item(l.get(), Sl(N(), N(), N()).get(), l.get());
  BOOST_TEST(length(l.get()) == 8);
  BOOST_TEST(error_of([&] { set_item(l.get(), Sl(N(), N(), I(-3)).get(), L({}).get()); }) ==
             "attempt to assign sequence of size 0 to extended slice of size 3");
  BOOST_TEST(error_of([&] { set_item(l.get(), Sl(N(), N(), N()).get(), I(1).get()); }) == "can only assign an iterable");
  BOOST_TEST(error_of([&] { set_item(l.get(), I(8).get(), I(1).get()); }) == "index out of range");
  BOOST_TEST(error_of([&] { set_item(l.get(), S("0").get(), I(1).get()); }) ==
             "list indices must be integers or slices, not str");
  BOOST_TEST(error_of([] { set_item(T({I(1)}).get(), I(0).get(), I(1).get()); }) ==
             "'tuple' object does not support item assignment");
  BOOST_TEST(error_of([] { set_item(S("ab").get(), I(0).get(), S("c").get()); }) ==
             "'str' object does not support item assignment");
  BOOST_TEST(error_of([] { set_item(I(1).get(), I(0).get(), I(1).get()); }) ==
             "'int' object does not support item assignment");
}

BOOST_AUTO_TEST_CASE(ranges) {
  for (const auto& c : kRangeCases) {
    Ref r = Ref::steal(Value::object(new RangeObj(c.start, c.stop, c.step)));
    std::vector<Value> items = collect(r.get());
    Ref list = Ref::steal(make_list(items));
    BOOST_TEST(repr(list.get()) == c.items);
    BOOST_TEST(length(r.get()) == c.length);
    if (c.length > 0) {
      BOOST_TEST(repr(Ref::steal(get_item(r.get(), I(-1).get())).get()) ==
                 repr(as_obj<ListObj>(list.get())->items.back()));
      BOOST_TEST(contains(r.get(), as_obj<ListObj>(list.get())->items.back()));
    }
  }
  Ref r = Ref::steal(Value::object(new RangeObj(0, 10, 2)));
  BOOST_TEST(repr(r.get()) == "range(0, 10, 2)");
  BOOST_TEST(repr(Ref::steal(Value::object(new RangeObj(0, 5, 1))).get()) == "range(0, 5)");
  BOOST_TEST(contains(r.get(), I(4).get()));
  BOOST_TEST(contains(r.get(), D(4.0).get()));
  BOOST_TEST(!contains(r.get(), D(4.5).get()));
  BOOST_TEST(!contains(r.get(), I(5).get()));
  BOOST_TEST(!contains(r.get(), I(10).get()));
  BOOST_TEST(!contains(r.get(), S("4").get()));
  BOOST_TEST(contains(r.get(), B(false).get()));
  BOOST_TEST(repr(Ref::steal(get_item(r.get(), Sl(I(1), N(), N()).get())).get()) == "range(2, 10, 2)");
  BOOST_TEST(repr(Ref::steal(get_item(r.get(), Sl(N(), N(), I(-1)).get())).get()) == "range(8, -2, -2)");
  BOOST_TEST(equal(r.get(), Ref::steal(Value::object(new RangeObj(0, 9, 2))).get()));
  BOOST_TEST(outcome([&] { return get_item(r.get(), I(5).get()); }) == "!index out of range");
  Ref huge = Ref::steal(Value::object(new RangeObj(INT64_MIN, INT64_MAX, 1)));
  BOOST_TEST(error_of([&] { length(huge.get()); }) == "integer overflow");
  BOOST_TEST(truthy(huge.get()));
}

BOOST_AUTO_TEST_CASE(membership) {
  Ref s = S("héllo");
  BOOST_TEST(contains(s.get(), S("éll").get()));
  BOOST_TEST(contains(s.get(), S("").get()));
  BOOST_TEST(!contains(s.get(), S("x").get()));
  BOOST_TEST(error_of([&] { contains(s.get(), I(1).get()); }) == "'in <string>' requires string as left operand, not int");
  Ref l = L({I(1), S("a"), T({I(2)})});
  BOOST_TEST(contains(l.get(), D(1.0).get()));
  BOOST_TEST(contains(l.get(), B(true).get()));
  BOOST_TEST(contains(l.get(), T({D(2.0)}).get()));
  BOOST_TEST(!contains(l.get(), S("b").get()));
  BOOST_TEST(contains(T({N()}).get(), N().get()));
  BOOST_TEST(error_of([] { contains(I(3).get(), I(1).get()); }) == "argument of type 'int' is not iterable");
}

BOOST_AUTO_TEST_CASE(iteration) {
  auto drain = [](Value v) {
    Ref it = Ref::steal(make_iter(v));
    std::string out;
    for (;;) {
      Ref x = Ref::steal(iter_next(as_obj<IterObj>(it.get())));
      if (!x) break;
      out += repr(x.get()) + ";";
    }
    return out;
  };
  BOOST_TEST(drain(S("aé中😀").get()) == "'a';'é';'中';'😀';");
  BOOST_TEST(drain(L({I(1), N()}).get()) == "1;None;");
  BOOST_TEST(drain(T({}).get()) == "");
  Ref d = Ref::steal(make_dict());
  set_item(d.get(), S("b").get(), I(1).get());
  set_item(d.get(), S("a").get(), I(2).get());
  BOOST_TEST(drain(d.get()) == "'b';'a';");
  BOOST_TEST(drain(Ref::steal(Value::object(new RangeObj(INT64_MAX - 4, INT64_MAX, 3))).get()) ==
             "9223372036854775803;9223372036854775806;");
  BOOST_TEST(drain(Ref::steal(Value::object(new RangeObj(INT64_MIN + 2, INT64_MIN, -1))).get()) ==
             "-9223372036854775806;-9223372036854775807;");
  BOOST_TEST(error_of([] { make_iter(I(1).get()); }) == "'int' object is not iterable");
  BOOST_TEST(error_of([] { make_iter(N().get()); }) == "'NoneType' object is not iterable");
  // An iterator iterates itself; a dict that grows while iterated is an error.
  Ref it = Ref::steal(make_iter(d.get()));
  Ref again = Ref::steal(make_iter(it.get()));
  BOOST_TEST(again.get().same(it.get()));
  Ref first = Ref::steal(iter_next(as_obj<IterObj>(it.get())));
  set_item(d.get(), S("c").get(), I(3).get());
  BOOST_TEST(error_of([&] { decref(iter_next(as_obj<IterObj>(it.get()))); }) == "dictionary changed size during iteration");
  // A list iterator sees appends, as in Python.
  Ref l = L({I(1)});
  Ref lit = Ref::steal(make_iter(l.get()));
  decref(iter_next(as_obj<IterObj>(lit.get())));
  as_obj<ListObj>(l.get())->items.push_back(Value::small_int(2));
  BOOST_TEST(repr(Ref::steal(iter_next(as_obj<IterObj>(lit.get()))).get()) == "2");
}

BOOST_AUTO_TEST_CASE(unpack_and_collect) {
  Value out[3];
  unpack(T({I(1), S("a"), N()}).get(), 3, out);
  BOOST_TEST(repr(out[1]) == "'a'");
  for (Value v : out) decref(v);
  unpack(S("xyz").get(), 3, out);
  BOOST_TEST(repr(out[2]) == "'z'");
  for (Value v : out) decref(v);
  unpack(Ref::steal(Value::object(new RangeObj(0, 3, 1))).get(), 3, out);
  BOOST_TEST(out[2].as_int() == 2);
  BOOST_TEST(error_of([&] { unpack(L({I(1), I(2)}).get(), 3, out); }) == "not enough values to unpack (expected 3, got 2)");
  BOOST_TEST(error_of([&] { unpack(L({I(1), I(2), I(3)}).get(), 2, out); }) == "too many values to unpack (expected 2)");
  BOOST_TEST(error_of([&] { unpack(S("abcd").get(), 2, out); }) == "too many values to unpack (expected 2)");
  BOOST_TEST(error_of([&] { unpack(S("a").get(), 2, out); }) == "not enough values to unpack (expected 2, got 1)");
  BOOST_TEST(error_of([&] { unpack(I(5).get(), 2, out); }) == "cannot unpack non-iterable int object");
  BOOST_TEST(error_of([&] { unpack(N().get(), 2, out); }) == "cannot unpack non-iterable NoneType object");
  Ref d = Ref::steal(make_dict());
  set_item(d.get(), S("k").get(), I(1).get());
  std::vector<Value> keys = collect(d.get());
  BOOST_TEST(keys.size() == 1u);
  BOOST_TEST(repr(keys[0]) == "'k'");
  decref(keys[0]);
  BOOST_TEST(error_of([] { collect(D(1.0).get()); }) == "'float' object is not iterable");
  Ref it = Ref::steal(make_iter(L({I(1), I(2)}).get()));
  BOOST_TEST(repr(Ref::steal(make_list(collect(it.get()))).get()) == "[1, 2]");
  BOOST_TEST(collect(it.get()).empty());  // drained
}

BOOST_AUTO_TEST_CASE(printing) {
  BOOST_TEST(repr(L({I(1), S("a"), T({I(2), I(3)})}).get()) == "[1, 'a', (2, 3)]");
  BOOST_TEST(repr(T({I(1)}).get()) == "(1,)");
  BOOST_TEST(repr(T({}).get()) == "()");
  BOOST_TEST(to_str(S("it's").get()) == "it's");
  BOOST_TEST(to_str(L({S("it's")}).get()) == "[\"it's\"]");
  BOOST_TEST(repr(D(0.1).get()) == "0.1");
  BOOST_TEST(repr(D(1e-05).get()) == "1e-05");
  BOOST_TEST(to_str(D(1.0).get()) == "1.0");
  BOOST_TEST(repr(Sl(I(1), N(), I(-1)).get()) == "slice(1, None, -1)");
  std::string out = "x=";
  append_str(out, S("a").get());
  append_repr(out, S("a").get());
  BOOST_TEST(out == "x=a'a'");
  // Self-containing containers, as Python prints them.
  Value l = make_list({Value::small_int(1)});
  Value d = make_dict();
  Value t = make_tuple({l});
  incref(l);
  as_obj<ListObj>(l)->items.push_back(t);
  as_obj<ListObj>(l)->items.push_back(d);
  incref(d);
  as_obj<DictObj>(d)->set(S("me").get(), d);
  BOOST_TEST(repr(l) == "[1, ([...],), {'me': {...}}]");
  BOOST_TEST(repr(t) == "([1, (...), {'me': {...}}],)");
  // Break the cycles so the objects are freed: the references l held to t and d become ours.
  as_obj<ListObj>(l)->items.resize(1);
  as_obj<DictObj>(d)->set(S("me").get(), Value::none());
  decref(t);
  decref(d);
  decref(d);
  decref(l);
}

BOOST_AUTO_TEST_CASE(modules_and_attributes) {
  Ref m = Ref::steal(Value::object(new ModuleObj(intern("m"))));
  auto* mod = as_obj<ModuleObj>(m.get());
  int x = mod->slot("x");
  BOOST_TEST(mod->slot("x") == x);
  int p = mod->slot("print");
  BOOST_TEST(p == x + 1);
  BOOST_TEST(mod->slot_names[x] == intern("x"));
  BOOST_TEST(mod->slot_builtin.size() == mod->slots.size());
  BOOST_TEST(mod->get("x").is_undefined());
  BOOST_TEST(mod->get("nope").is_undefined());
  mod->slots[x] = make_str("value");
  BOOST_TEST(repr(mod->get("x")) == "'value'");
  Ref got = Ref::steal(get_attr(m.get(), intern("x")));
  BOOST_TEST(repr(got.get()) == "'value'");
  BOOST_TEST(error_of([&] { get_attr(m.get(), intern("print")); }) == "module 'm' has no attribute 'print'");
  BOOST_TEST(error_of([&] { get_attr(m.get(), intern("y")); }) == "module 'm' has no attribute 'y'");
  BOOST_TEST(repr(m.get()) == "<module m>");
  BOOST_TEST(type_name(m.get()) == "module"sv);
  for (int i = 0; i < 100; ++i) BOOST_TEST(mod->slot("v" + std::to_string(i)) == p + 1 + i);
  BOOST_TEST(mod->slot("v50") == p + 51);
  BOOST_TEST(error_of([] { get_attr(I(1).get(), intern("foo")); }) == "'int' has no attribute 'foo'");
  BOOST_TEST(error_of([] { get_attr(D(1.0).get(), intern("real")); }) == "'float' has no attribute 'real'");
}

BOOST_AUTO_TEST_CASE(call_args_keywords) {
  Value vals[] = {Value::small_int(1), Value::small_int(2)};
  StrObj* names[] = {intern("axis"), intern("keepdims")};
  CallArgs args;
  args.kwvals = vals;
  args.kwnames = names;
  args.nkw = 2;
  BOOST_TEST(args.kw("keepdims").as_int() == 2);
  BOOST_TEST(args.kw("axis").as_int() == 1);
  BOOST_TEST(args.kw("dim").is_undefined());
}

BOOST_AUTO_TEST_SUITE_END()
