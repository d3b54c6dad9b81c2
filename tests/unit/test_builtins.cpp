// The builtins table and the str/list/dict methods, called directly through their rows with a
// small VM that can call natives. Results are compared by repr; errors by their message.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <string>
#include <vector>

#include "builtins.h"
#include "error.h"
#include "ops.h"
#include "vm.h"

using namespace tvm;

namespace {

// A VM that calls builtins and bound methods (no TL code), and captures output.
class TestVM : public VM {
 public:
  TestVM() { capture = &out; }
  std::string out;

  using VM::call;

  Value call(Value callee, const CallArgs& args) override {
    if (is_type(callee, ObjType::Builtin)) {
      const BuiltinDef& def = *as_obj<BuiltinObj>(callee)->def;
      check_native_call(def, args, false);
      return def.fn(*this, args);
    }
    if (is_type(callee, ObjType::BoundMethod)) {
      auto* m = as_obj<BoundMethodObj>(callee);
      std::vector<Value> pos{m->self};
      pos.insert(pos.end(), args.pos, args.pos + args.npos);
      CallArgs with_self = args;
      with_self.pos = pos.data();
      with_self.npos = uint32_t(pos.size());
      check_native_call(*m->def, with_self, true);
      return m->def->fn(*this, with_self);
    }
    throw_error(std::string("'") + type_name(callee) + "' object is not callable");
  }
};

struct Kw {
  const char* name;
  Value value;
};

// Builds values for one test and releases them at its end.
struct Fixture {
  TestVM vm;
  std::vector<Ref> arena;

  Value keep(Value v) {
    arena.push_back(Ref::steal(v));
    return v;
  }
  Value s(std::string_view text) { return keep(make_str(text)); }
  static Value i(int64_t v) { return Value::integer(v); }  // tests use only inline ints or keep() big ones
  static Value f(double v) { return Value::number(v); }
  static Value b(bool v) { return Value::boolean(v); }
  static Value none() { return Value::none(); }
  Value big(int64_t v) { return keep(Value::integer(v)); }
  Value list(std::initializer_list<Value> items) {
    for (Value v : items) incref(v);
    return keep(make_list(std::vector<Value>(items)));
  }
  Value tuple(std::initializer_list<Value> items) {
    for (Value v : items) incref(v);
    return keep(make_tuple(std::vector<Value>(items)));
  }
  Value dict(std::initializer_list<std::pair<Value, Value>> entries) {
    Value d = keep(make_dict());
    for (auto& [k, v] : entries) as_obj<DictObj>(d)->set(k, v);
    return d;
  }
  static Value builtin(const char* name) { return builtin_value(builtin_index(name)); }
  Value bound(Value self, const char* name) {
    incref(self);
    return keep(Value::object(new BoundMethodObj(self, find_method(self, name))));
  }

  // The repr of what `fn` returns, or "error: MESSAGE".
  template <typename F>
  std::string run(F fn) {
    try {
      Ref result = Ref::steal(fn());
      return repr(result.get());
    } catch (const RuntimeError& e) {
      return std::string("error: ") + e.what();
    }
  }
  std::string call(const char* name, std::initializer_list<Value> pos, std::initializer_list<Kw> kw = {}) {
    int index = builtin_index(name);
    BOOST_REQUIRE_MESSAGE(index >= 0, name);
    return invoke(builtin_value(index), pos, kw);
  }
  std::string method(Value self, const char* name, std::initializer_list<Value> pos, std::initializer_list<Kw> kw = {}) {
    const BuiltinDef* def = find_method(self, name);
    BOOST_REQUIRE_MESSAGE(def, name);
    std::vector<Value> all{self};
    all.insert(all.end(), pos.begin(), pos.end());
    std::vector<Value> kwvals;
    std::vector<StrObj*> kwnames;
    for (const Kw& k : kw) {
      kwnames.push_back(intern(k.name));
      kwvals.push_back(k.value);
    }
    CallArgs args{all.data(), uint32_t(all.size()), kwvals.data(), kwnames.data(), uint32_t(kw.size())};
    return run([&] {
      check_native_call(*def, args, true);
      return def->fn(vm, args);
    });
  }
  std::string invoke(Value callee, std::initializer_list<Value> pos, std::initializer_list<Kw> kw) {
    std::vector<Value> kwvals;
    std::vector<StrObj*> kwnames;
    for (const Kw& k : kw) {
      kwnames.push_back(intern(k.name));
      kwvals.push_back(k.value);
    }
    CallArgs args{pos.begin(), uint32_t(pos.size()), kwvals.data(), kwnames.data(), uint32_t(kw.size())};
    return run([&] { return vm.call(callee, args); });
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(builtins)

// ---------------------------------------------------------------- the table and calls

BOOST_AUTO_TEST_CASE(table_is_the_registry) {
  auto table = tvm::builtins();
  BOOST_TEST(table.size() >= 32u);
  for (size_t k = 0; k < table.size(); ++k) {
    BOOST_TEST(builtin_index(table[k].name) == int(k));
    Value v = builtin_value(int(k));
    BOOST_TEST(v.same(builtin_value(int(k))));  // created once
    BOOST_TEST(as_obj<BuiltinObj>(v)->def == &table[k]);
    BOOST_TEST(v.as_obj()->refcount >= Obj::kImmortal);
  }
  BOOST_TEST(builtin_index("nope") == -1);
  BOOST_TEST(builtin_index("") == -1);
  for (const char* name : {"print", "len", "range", "str", "repr", "int", "float", "bool", "type", "abs", "min",
                           "max", "sum", "round", "sorted", "reversed", "enumerate", "zip", "list", "tuple", "dict",
                           "isinstance", "clock", "argv", "sqrt", "exp", "log", "sin", "cos", "tanh", "floor", "ceil"})
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(builtin_index(name) >= 0); }
}

BOOST_AUTO_TEST_CASE(arity_messages) {
  Fixture t;
  BOOST_TEST(t.call("len", {t.s("a"), t.s("b")}) == "error: len() takes 1 positional argument but 2 were given");
  BOOST_TEST(t.call("len", {}) == "error: len() takes 1 positional argument but 0 were given");
  BOOST_TEST(t.call("range", {}) == "error: range() takes at least 1 positional argument (0 given)");
  BOOST_TEST(t.call("range", {t.i(1), t.i(2), t.i(3), t.i(4)}) ==
             "error: range() takes from 1 to 3 positional arguments but 4 were given");
  BOOST_TEST(t.call("int", {t.i(1), t.i(2), t.i(3)}) ==
             "error: int() takes from 0 to 2 positional arguments but 3 were given");
  BOOST_TEST(t.call("clock", {t.i(1)}) == "error: clock() takes 0 positional arguments but 1 was given");
  BOOST_TEST(t.call("isinstance", {t.i(1)}) == "error: isinstance() takes 2 positional arguments but 1 was given");
  BOOST_TEST(t.call("min", {}) == "error: min() takes at least 1 positional argument (0 given)");
}

BOOST_AUTO_TEST_CASE(keyword_messages) {
  Fixture t;
  BOOST_TEST(t.call("print", {}, {{"x", t.i(1)}}) == "error: print() got an unexpected keyword argument 'x'");
  BOOST_TEST(t.call("len", {t.s("a")}, {{"sep", t.i(1)}}) == "error: len() got an unexpected keyword argument 'sep'");
  BOOST_TEST(t.call("sorted", {t.list({})}, {{"keys", t.none()}}) ==
             "error: sorted() got an unexpected keyword argument 'keys'");
  BOOST_TEST(t.call("int", {t.s("1"), t.i(2)}, {{"base", t.i(3)}}) ==
             "error: int() got multiple values for argument 'base'");
  BOOST_TEST(t.call("sum", {t.list({}), t.i(1)}, {{"start", t.i(3)}}) ==
             "error: sum() got multiple values for argument 'start'");
}

BOOST_AUTO_TEST_CASE(method_arity_leaves_out_the_receiver) {
  Fixture t;
  Value l = t.list({});
  BOOST_TEST(t.method(l, "append", {t.i(1), t.i(2)}) == "error: append() takes 1 positional argument but 2 were given");
  BOOST_TEST(t.method(l, "append", {}) == "error: append() takes 1 positional argument but 0 were given");
  BOOST_TEST(t.method(l, "pop", {t.i(1), t.i(2)}) ==
             "error: pop() takes from 0 to 1 positional arguments but 2 were given");
  BOOST_TEST(t.method(l, "sort", {t.i(1)}) == "error: sort() takes 0 positional arguments but 1 was given");
  BOOST_TEST(t.method(l, "sort", {}, {{"x", t.i(1)}}) == "error: sort() got an unexpected keyword argument 'x'");
  BOOST_TEST(t.method(t.s("a"), "upper", {t.i(1)}) == "error: upper() takes 0 positional arguments but 1 was given");
  BOOST_TEST(t.method(t.s("a"), "split", {t.s("a"), t.i(1), t.i(2)}) ==
             "error: split() takes from 0 to 2 positional arguments but 3 were given");
  BOOST_TEST(t.method(t.s("a"), "replace", {t.s("a")}) ==
             "error: replace() takes at least 2 positional arguments (1 given)");
}

BOOST_AUTO_TEST_CASE(find_method_by_receiver_type) {
  Fixture t;
  BOOST_TEST(find_method(t.s("x"), "split") != nullptr);
  BOOST_TEST(find_method(t.list({}), "append") != nullptr);
  BOOST_TEST(find_method(t.dict({}), "items") != nullptr);
  BOOST_TEST(find_method(t.s("x"), "append") == nullptr);
  BOOST_TEST(find_method(t.list({}), "split") == nullptr);
  BOOST_TEST(find_method(t.dict({}), "pop") == nullptr);  // no deletion in TL v1
  BOOST_TEST(find_method(t.i(1), "split") == nullptr);
  BOOST_TEST(find_method(t.tuple({}), "index") == nullptr);
  BOOST_TEST(std::string(find_method(t.list({}), "count")->name) == "count");
  BOOST_TEST(std::string(find_method(t.s(""), "count")->name) == "count");
}

BOOST_AUTO_TEST_CASE(bound_methods_call_through_the_vm) {
  Fixture t;
  Value l = t.list({});
  Value append = t.bound(l, "append");
  BOOST_TEST(t.invoke(append, {t.i(1)}, {}) == "None");
  BOOST_TEST(t.invoke(append, {}, {}) == "error: append() takes 1 positional argument but 0 were given");
  BOOST_TEST(repr(l) == "[1]");
  BOOST_TEST(t.call("sorted", {t.list({t.s("B"), t.s("a"), t.s("C")})}, {{"key", t.bound(t.s(""), "join")}}) ==
             "['B', 'C', 'a']");
}

BOOST_AUTO_TEST_CASE(argument_helpers) {
  Fixture t;
  BOOST_TEST(int_arg(t.i(-4)) == -4);
  BOOST_TEST(int_arg(t.b(true)) == 1);
  BOOST_TEST(int_arg(t.big(INT64_MIN)) == INT64_MIN);
  BOOST_CHECK_EXCEPTION(int_arg(t.none()), RuntimeError, [](const RuntimeError& e) {
    return std::string(e.what()) == "'NoneType' object cannot be interpreted as an integer";
  });
  BOOST_TEST(float_to_int(-2.9) == -2);
  BOOST_TEST(float_to_int(-9223372036854775808.0) == INT64_MIN);
  BOOST_CHECK_THROW(float_to_int(9223372036854775808.0), RuntimeError);
  Value pos[] = {t.i(1), t.i(2)};
  StrObj* names[] = {intern("b")};
  Value vals[] = {t.i(3)};
  CallArgs only_pos{pos, 2};
  CallArgs with_kw{pos, 1, vals, names, 1};
  BOOST_TEST(native_arg(only_pos, 1, "b", "f").same(t.i(2)));
  BOOST_TEST(native_arg(with_kw, 1, "b", "f").same(t.i(3)));
  BOOST_TEST(native_arg(with_kw, 2, "c", "f").is_undefined());
  CallArgs both{pos, 2, vals, names, 1};
  BOOST_CHECK_EXCEPTION(native_arg(both, 1, "b", "f"), RuntimeError, [](const RuntimeError& e) {
    return std::string(e.what()) == "f() got multiple values for argument 'b'";
  });
}

BOOST_AUTO_TEST_CASE(whitespace_helpers) {
  BOOST_TEST(strip_whitespace(" \t a b \n") == "a b");
  BOOST_TEST(strip_whitespace("\u2003x\u2029") == "x");
  BOOST_TEST(strip_whitespace("   ") == "");
  BOOST_TEST(strip_whitespace("") == "");
  BOOST_TEST(strip_whitespace("\xff ") == "\xff");  // malformed UTF-8 survives
  BOOST_TEST(is_space(0x1F));
  BOOST_TEST(is_space(0x85));
  BOOST_TEST(!is_space(0x200B));  // zero-width space is not whitespace in Python
  BOOST_TEST(!is_space('x'));
}

// ---------------------------------------------------------------- output and conversions

BOOST_AUTO_TEST_CASE(print_writes_through_the_vm) {
  Fixture t;
  BOOST_TEST(t.call("print", {t.i(1), t.s("a"), t.f(0.1), t.none(), t.b(true)}) == "None");
  BOOST_TEST(t.call("print", {}) == "None");
  BOOST_TEST(t.call("print", {t.list({t.s("a"), t.tuple({t.i(2), t.i(3)})})}) == "None");
  BOOST_TEST(t.vm.out == "1 a 0.1 None True\n\n['a', (2, 3)]\n");
}

BOOST_AUTO_TEST_CASE(print_sep_and_end) {
  Fixture t;
  t.call("print", {t.i(1), t.i(2), t.i(3)}, {{"sep", t.s(", ")}, {"end", t.s("!")}});
  t.call("print", {t.i(4), t.i(5)}, {{"sep", t.none()}, {"end", t.none()}});
  t.call("print", {t.s("x")}, {{"end", t.s("")}});
  BOOST_TEST(t.vm.out == "1, 2, 3!4 5\nx");
  BOOST_TEST(t.call("print", {}, {{"sep", t.i(1)}}) == "error: sep must be None or a string, not int");
  BOOST_TEST(t.call("print", {}, {{"end", t.list({})}}) == "error: end must be None or a string, not list");
}

BOOST_AUTO_TEST_CASE(len_of_containers) {
  Fixture t;
  BOOST_TEST(t.call("len", {t.s("héllo")}) == "5");
  BOOST_TEST(t.call("len", {t.list({t.i(1), t.i(2)})}) == "2");
  BOOST_TEST(t.call("len", {t.dict({{t.i(1), t.i(2)}})}) == "1");
  BOOST_TEST(t.call("len", {t.tuple({})}) == "0");
  BOOST_TEST(t.call("len", {t.i(5)}) == "error: object of type 'int' has no len()");
}

BOOST_AUTO_TEST_CASE(range_forms) {
  Fixture t;
  auto range_list = [&](std::initializer_list<Value> args) {
    std::vector<Value> a(args);
    try {
      CallArgs ca{a.data(), uint32_t(a.size())};
      Ref r = Ref::steal(t.vm.call(Fixture::builtin("range"), ca));
      Ref l = Ref::steal(make_list(collect(r.get())));
      return repr(l.get());
    } catch (const RuntimeError& e) {
      return std::string("error: ") + e.what();
    }
  };
  BOOST_TEST(range_list({t.i(3)}) == "[0, 1, 2]");
  BOOST_TEST(range_list({t.i(2), t.i(5)}) == "[2, 3, 4]");
  BOOST_TEST(range_list({t.i(5), t.i(0), t.i(-2)}) == "[5, 3, 1]");
  BOOST_TEST(range_list({t.i(-2)}) == "[]");
  BOOST_TEST(range_list({t.b(true)}) == "[0]");
  BOOST_TEST(range_list({t.i(1), t.i(2), t.i(0)}) == "error: range() arg 3 must not be zero");
  BOOST_TEST(range_list({t.f(1.5)}) == "error: 'float' object cannot be interpreted as an integer");
  BOOST_TEST(range_list({t.i(0), t.s("3")}) == "error: 'str' object cannot be interpreted as an integer");
}

BOOST_AUTO_TEST_CASE(str_and_repr) {
  Fixture t;
  BOOST_TEST(t.call("str", {}) == "''");
  BOOST_TEST(t.call("str", {t.f(1.5)}) == "'1.5'");
  BOOST_TEST(t.call("str", {t.list({t.s("a"), t.i(1)})}) == "\"['a', 1]\"");
  BOOST_TEST(t.call("str", {t.none()}) == "'None'");
  BOOST_TEST(t.call("repr", {t.s("a'b")}) == "'\"a\\'b\"'");
  BOOST_TEST(t.call("repr", {t.f(1e-5)}) == "'1e-05'");
  Value s = t.s("same");
  Ref r = Ref::steal(t.vm.call(Fixture::builtin("str"), {s}));
  BOOST_TEST(r.get().same(s));  // str(str) is the string itself
}

BOOST_AUTO_TEST_CASE(int_from_numbers) {
  Fixture t;
  BOOST_TEST(t.call("int", {}) == "0");
  BOOST_TEST(t.call("int", {t.i(-7)}) == "-7");
  BOOST_TEST(t.call("int", {t.b(true)}) == "1");
  BOOST_TEST(t.call("int", {t.f(3.99)}) == "3");
  BOOST_TEST(t.call("int", {t.f(-3.99)}) == "-3");
  BOOST_TEST(t.call("int", {t.f(1e18)}) == "1000000000000000000");
  BOOST_TEST(t.call("int", {t.f(INFINITY)}) == "error: cannot convert float infinity to integer");
  BOOST_TEST(t.call("int", {t.f(-INFINITY)}) == "error: cannot convert float infinity to integer");
  BOOST_TEST(t.call("int", {t.f(NAN)}) == "error: cannot convert float NaN to integer");
  BOOST_TEST(t.call("int", {t.f(1e19)}) == "error: integer overflow");
  BOOST_TEST(t.call("int", {t.f(-9223372036854775808.0)}) == "-9223372036854775808");
  BOOST_TEST(t.call("int", {t.list({})}) ==
             "error: int() argument must be a string, a bytes-like object or a real number, not 'list'");
}

BOOST_AUTO_TEST_CASE(int_from_strings) {
  Fixture t;
  BOOST_TEST(t.call("int", {t.s(" 42\n")}) == "42");
  BOOST_TEST(t.call("int", {t.s("-7")}) == "-7");
  BOOST_TEST(t.call("int", {t.s("+3")}) == "3");
  BOOST_TEST(t.call("int", {t.s("1_000")}) == "1000");
  BOOST_TEST(t.call("int", {t.s("\u00a012\u3000")}) == "12");  // Unicode whitespace
  BOOST_TEST(t.call("int", {t.s("007")}) == "7");
  BOOST_TEST(t.call("int", {t.s("abc")}) == "error: invalid literal for int() with base 10: 'abc'");
  BOOST_TEST(t.call("int", {t.s("")}) == "error: invalid literal for int() with base 10: ''");
  BOOST_TEST(t.call("int", {t.s(" 1__0")}) == "error: invalid literal for int() with base 10: ' 1__0'");
  BOOST_TEST(t.call("int", {t.s("_1")}) == "error: invalid literal for int() with base 10: '_1'");
  BOOST_TEST(t.call("int", {t.s("1_")}) == "error: invalid literal for int() with base 10: '1_'");
  BOOST_TEST(t.call("int", {t.s("1.5")}) == "error: invalid literal for int() with base 10: '1.5'");
  BOOST_TEST(t.call("int", {t.s("- 1")}) == "error: invalid literal for int() with base 10: '- 1'");
  BOOST_TEST(t.call("int", {t.s("9223372036854775807")}) == "9223372036854775807");
  BOOST_TEST(t.call("int", {t.s("-9223372036854775808")}) == "-9223372036854775808");
  BOOST_TEST(t.call("int", {t.s("9223372036854775808")}) == "error: integer overflow");
  // CPython shows at most 200 characters of the repr.
  BOOST_TEST(t.call("int", {t.s(std::string(300, 'x'))}) ==
             "error: invalid literal for int() with base 10: '" + std::string(199, 'x'));
}

BOOST_AUTO_TEST_CASE(int_with_base) {
  Fixture t;
  BOOST_TEST(t.call("int", {t.s("ff"), t.i(16)}) == "255");
  BOOST_TEST(t.call("int", {t.s("0xFF"), t.i(16)}) == "255");
  BOOST_TEST(t.call("int", {t.s("0x_1f"), t.i(0)}) == "31");
  BOOST_TEST(t.call("int", {t.s("0b101"), t.i(0)}) == "5");
  BOOST_TEST(t.call("int", {t.s("-0o17"), t.i(0)}) == "-15");
  BOOST_TEST(t.call("int", {t.s("0_0"), t.i(0)}) == "0");
  BOOST_TEST(t.call("int", {t.s("0b1"), t.i(16)}) == "177");
  BOOST_TEST(t.call("int", {t.s("Zz"), t.i(36)}) == "1295");
  BOOST_TEST(t.call("int", {t.s("101")}, {{"base", t.i(2)}}) == "5");
  BOOST_TEST(t.call("int", {t.s("010"), t.i(0)}) == "error: invalid literal for int() with base 0: '010'");
  BOOST_TEST(t.call("int", {t.s("0x"), t.i(16)}) == "error: invalid literal for int() with base 16: '0x'");
  BOOST_TEST(t.call("int", {t.s("2"), t.i(2)}) == "error: invalid literal for int() with base 2: '2'");
  BOOST_TEST(t.call("int", {t.s("1"), t.i(1)}) == "error: int() base must be >= 2 and <= 36, or 0");
  BOOST_TEST(t.call("int", {t.s("1"), t.i(37)}) == "error: int() base must be >= 2 and <= 36, or 0");
  BOOST_TEST(t.call("int", {t.i(1), t.i(10)}) == "error: int() can't convert non-string with explicit base");
  BOOST_TEST(t.call("int", {t.s("1"), t.f(2.0)}) == "error: 'float' object cannot be interpreted as an integer");
}

BOOST_AUTO_TEST_CASE(float_conversions) {
  Fixture t;
  BOOST_TEST(t.call("float", {}) == "0.0");
  BOOST_TEST(t.call("float", {t.i(3)}) == "3.0");
  BOOST_TEST(t.call("float", {t.b(true)}) == "1.0");
  BOOST_TEST(t.call("float", {t.s(" 1.5 ")}) == "1.5");
  BOOST_TEST(t.call("float", {t.s("1e-3")}) == "0.001");
  BOOST_TEST(t.call("float", {t.s("-.5")}) == "-0.5");
  BOOST_TEST(t.call("float", {t.s("5.")}) == "5.0");
  BOOST_TEST(t.call("float", {t.s("1_0.2_5")}) == "10.25");
  BOOST_TEST(t.call("float", {t.s("-0")}) == "-0.0");
  BOOST_TEST(t.call("float", {t.s("+InFinity")}) == "inf");
  BOOST_TEST(t.call("float", {t.s(" -inf")}) == "-inf");
  BOOST_TEST(t.call("float", {t.s("NaN")}) == "nan");
  BOOST_TEST(t.call("float", {t.s("1e400")}) == "inf");
  BOOST_TEST(t.call("float", {t.s("-1e400")}) == "-inf");
  BOOST_TEST(t.call("float", {t.s("1e-400")}) == "0.0");
  BOOST_TEST(t.call("float", {t.s("abc")}) == "error: could not convert string to float: 'abc'");
  BOOST_TEST(t.call("float", {t.s("1__0")}) == "error: could not convert string to float: '1__0'");
  BOOST_TEST(t.call("float", {t.s("nan(1)")}) == "error: could not convert string to float: 'nan(1)'");
  BOOST_TEST(t.call("float", {t.s("0x10")}) == "error: could not convert string to float: '0x10'");
  BOOST_TEST(t.call("float", {t.s("1e")}) == "error: could not convert string to float: '1e'");
  BOOST_TEST(t.call("float", {t.s(".")}) == "error: could not convert string to float: '.'");
  BOOST_TEST(t.call("float", {t.list({})}) ==
             "error: float() argument must be a string or a real number, not 'list'");
}

BOOST_AUTO_TEST_CASE(bool_and_type) {
  Fixture t;
  BOOST_TEST(t.call("bool", {}) == "False");
  BOOST_TEST(t.call("bool", {t.s("")}) == "False");
  BOOST_TEST(t.call("bool", {t.list({t.i(0)})}) == "True");
  BOOST_TEST(t.call("bool", {t.f(0.0)}) == "False");
  BOOST_TEST(t.call("type", {t.i(1)}) == "'int'");
  BOOST_TEST(t.call("type", {t.big(int64_t(1) << 60)}) == "'int'");
  BOOST_TEST(t.call("type", {t.b(false)}) == "'bool'");
  BOOST_TEST(t.call("type", {t.f(1)}) == "'float'");
  BOOST_TEST(t.call("type", {t.none()}) == "'NoneType'");
  BOOST_TEST(t.call("type", {t.dict({})}) == "'dict'");
  BOOST_TEST(t.call("type", {Fixture::builtin("len")}) == "'builtin'");
}

BOOST_AUTO_TEST_CASE(isinstance_by_name) {
  Fixture t;
  BOOST_TEST(t.call("isinstance", {t.i(1), t.s("int")}) == "True");
  BOOST_TEST(t.call("isinstance", {t.b(true), t.s("int")}) == "True");  // bool is an int
  BOOST_TEST(t.call("isinstance", {t.b(true), t.s("bool")}) == "True");
  BOOST_TEST(t.call("isinstance", {t.i(1), t.s("bool")}) == "False");
  BOOST_TEST(t.call("isinstance", {t.i(1), t.s("float")}) == "False");
  BOOST_TEST(t.call("isinstance", {t.none(), t.s("NoneType")}) == "True");
  BOOST_TEST(t.call("isinstance", {t.s("x"), t.tuple({t.s("int"), t.s("str")})}) == "True");
  BOOST_TEST(t.call("isinstance", {t.list({}), t.tuple({t.s("tuple"), t.s("dict")})}) == "False");
  BOOST_TEST(t.call("isinstance", {t.i(1), t.s("foo")}) == "error: isinstance: unknown type name 'foo'");
  BOOST_TEST(t.call("isinstance", {t.i(1), t.i(3)}) ==
             "error: isinstance() arg 2 must be a type name or a tuple of type names");
}

// ---------------------------------------------------------------- numbers

BOOST_AUTO_TEST_CASE(abs_values) {
  Fixture t;
  BOOST_TEST(t.call("abs", {t.i(-3)}) == "3");
  BOOST_TEST(t.call("abs", {t.i(3)}) == "3");
  BOOST_TEST(t.call("abs", {t.f(-2.5)}) == "2.5");
  BOOST_TEST(t.call("abs", {t.f(-0.0)}) == "0.0");
  BOOST_TEST(t.call("abs", {t.b(true)}) == "1");
  BOOST_TEST(t.call("abs", {t.big(INT64_MIN + 1)}) == "9223372036854775807");
  BOOST_TEST(t.call("abs", {t.big(INT64_MIN)}) == "error: integer overflow");
  BOOST_TEST(t.call("abs", {t.s("a")}) == "error: bad operand type for abs(): 'str'");
}

BOOST_AUTO_TEST_CASE(min_and_max) {
  Fixture t;
  BOOST_TEST(t.call("min", {t.i(3), t.i(1), t.i(2)}) == "1");
  BOOST_TEST(t.call("max", {t.list({t.i(3), t.f(4.5), t.i(2)})}) == "4.5");
  BOOST_TEST(t.call("max", {t.s("abc")}) == "'c'");
  BOOST_TEST(t.call("max", {t.list({t.i(1), t.f(1.0)})}) == "1");  // the first of equals
  BOOST_TEST(t.call("min", {t.list({t.f(1.0), t.i(1)})}) == "1.0");
  BOOST_TEST(t.call("min", {t.list({t.i(-5), t.i(3), t.i(5)})}, {{"key", Fixture::builtin("abs")}}) == "3");
  BOOST_TEST(t.call("max", {t.list({t.i(-5), t.i(3), t.i(5)})}, {{"key", Fixture::builtin("abs")}}) == "-5");
  BOOST_TEST(t.call("max", {t.i(1), t.i(2)}, {{"key", t.none()}}) == "2");
  BOOST_TEST(t.call("min", {t.list({})}, {{"default", t.i(7)}}) == "7");
  BOOST_TEST(t.call("min", {t.list({})}) == "error: min() arg is an empty sequence");
  BOOST_TEST(t.call("max", {t.tuple({})}) == "error: max() arg is an empty sequence");
  BOOST_TEST(t.call("max", {t.i(1), t.i(2)}, {{"default", t.i(3)}}) ==
             "error: Cannot specify a default for max() with multiple positional arguments");
  BOOST_TEST(t.call("max", {t.i(1), t.s("a")}) == "error: '>' not supported between 'str' and 'int'");
  BOOST_TEST(t.call("max", {t.i(5)}) == "error: 'int' object is not iterable");
}

BOOST_AUTO_TEST_CASE(sum_values) {
  Fixture t;
  BOOST_TEST(t.call("sum", {t.list({t.i(1), t.i(2), t.i(3)})}) == "6");
  BOOST_TEST(t.call("sum", {t.list({})}) == "0");
  BOOST_TEST(t.call("sum", {t.list({t.i(1), t.f(0.5), t.i(2)})}) == "3.5");
  BOOST_TEST(t.call("sum", {t.list({t.b(true), t.b(true)})}) == "2");
  BOOST_TEST(t.call("sum", {t.list({t.i(1)}), t.f(0.5)}) == "1.5");
  BOOST_TEST(t.call("sum", {t.list({t.i(1)})}, {{"start", t.i(10)}}) == "11");
  // Plain left-to-right float addition, as CPython 3.11.
  Value tenth = t.f(0.1);
  BOOST_TEST(t.call("sum", {t.list({tenth, tenth, tenth, tenth, tenth, tenth, tenth, tenth, tenth, tenth})}) ==
             "0.9999999999999999");
  BOOST_TEST(t.call("sum", {t.list({t.list({t.i(1)}), t.list({t.i(2)})}), t.list({})}) == "[1, 2]");
  BOOST_TEST(t.call("sum", {t.list({t.big(INT64_MAX), t.i(1)})}) == "error: integer overflow");
  BOOST_TEST(t.call("sum", {t.list({t.s("a")}), t.s("")}) ==
             "error: sum() can't sum strings [use ''.join(seq) instead]");
  BOOST_TEST(t.call("sum", {t.list({t.i(1), t.s("a")})}).starts_with("error: unsupported operand type(s) for +"));
  BOOST_TEST(t.call("sum", {t.i(3)}) == "error: 'int' object is not iterable");
}

BOOST_AUTO_TEST_CASE(round_half_even) {
  Fixture t;
  BOOST_TEST(t.call("round", {t.f(2.5)}) == "2");
  BOOST_TEST(t.call("round", {t.f(3.5)}) == "4");
  BOOST_TEST(t.call("round", {t.f(-0.5)}) == "0");
  BOOST_TEST(t.call("round", {t.f(-1.6)}) == "-2");
  BOOST_TEST(t.call("round", {t.f(1.5), t.none()}) == "2");
  BOOST_TEST(t.call("round", {t.i(7)}) == "7");
  BOOST_TEST(t.call("round", {t.b(true)}) == "1");
  BOOST_TEST(t.call("round", {t.f(INFINITY)}) == "error: cannot convert float infinity to integer");
  BOOST_TEST(t.call("round", {t.f(NAN)}) == "error: cannot convert float NaN to integer");
  BOOST_TEST(t.call("round", {t.f(1e300)}) == "error: integer overflow");
  BOOST_TEST(t.call("round", {t.s("a")}) == "error: type str doesn't define __round__ method");
}

BOOST_AUTO_TEST_CASE(round_to_digits) {
  Fixture t;
  BOOST_TEST(t.call("round", {t.f(2.675), t.i(2)}) == "2.67");  // 2.675 is below the tie in binary
  BOOST_TEST(t.call("round", {t.f(0.125), t.i(2)}) == "0.12");   // an exact tie: to even
  BOOST_TEST(t.call("round", {t.f(0.375), t.i(2)}) == "0.38");
  BOOST_TEST(t.call("round", {t.f(2.5), t.i(0)}) == "2.0");
  BOOST_TEST(t.call("round", {t.f(-0.4), t.i(0)}) == "-0.0");
  BOOST_TEST(t.call("round", {t.f(1234.5), t.i(-2)}) == "1200.0");
  BOOST_TEST(t.call("round", {t.f(1250.0), t.i(-2)}) == "1200.0");
  BOOST_TEST(t.call("round", {t.f(1350.0), t.i(-2)}) == "1400.0");
  BOOST_TEST(t.call("round", {t.f(1250.0001), t.i(-2)}) == "1300.0");
  BOOST_TEST(t.call("round", {t.f(-4.0), t.i(-1)}) == "-0.0");
  BOOST_TEST(t.call("round", {t.f(95.0), t.i(-2)}) == "100.0");
  BOOST_TEST(t.call("round", {t.f(5e-324), t.i(400)}) == "5e-324");
  BOOST_TEST(t.call("round", {t.f(1e300), t.i(-400)}) == "0.0");
  BOOST_TEST(t.call("round", {t.f(INFINITY), t.i(2)}) == "inf");
  BOOST_TEST(t.call("round", {t.f(1.7976931348623157e308), t.i(-308)}) ==
             "error: rounded value too large to represent");
  BOOST_TEST(t.call("round", {t.f(1.23456), t.i(3)}) == "1.235");
  BOOST_TEST(t.call("round", {t.f(1.5)}, {{"ndigits", t.i(1)}}) == "1.5");
  BOOST_TEST(t.call("round", {t.i(15), t.i(-1)}) == "20");
  BOOST_TEST(t.call("round", {t.i(25), t.i(-1)}) == "20");
  BOOST_TEST(t.call("round", {t.i(-25), t.i(-1)}) == "-20");
  BOOST_TEST(t.call("round", {t.i(-26), t.i(-1)}) == "-30");
  BOOST_TEST(t.call("round", {t.i(123), t.i(2)}) == "123");
  BOOST_TEST(t.call("round", {t.big(INT64_MAX), t.i(-30)}) == "0");
  BOOST_TEST(t.call("round", {t.big(INT64_MAX), t.i(-18)}) == "9000000000000000000");
  BOOST_TEST(t.call("round", {t.big(INT64_MAX), t.i(-1)}) == "error: integer overflow");
  BOOST_TEST(t.call("round", {t.big(INT64_MAX), t.i(-19)}) == "error: integer overflow");
  BOOST_TEST(t.call("round", {t.big(5'000'000'000'000'000'000), t.i(-19)}) == "0");
  BOOST_TEST(t.call("round", {t.big(-5'000'000'000'000'000'000), t.i(-19)}) == "0");
  BOOST_TEST(t.call("round", {t.big(INT64_MIN), t.i(-18)}) == "-9000000000000000000");
  BOOST_TEST(t.call("round", {t.f(1.5), t.s("a")}) == "error: 'str' object cannot be interpreted as an integer");
}

BOOST_AUTO_TEST_CASE(math_functions) {
  Fixture t;
  BOOST_TEST(t.call("sqrt", {t.i(16)}) == "4.0");
  BOOST_TEST(t.call("sqrt", {t.f(2.0)}) == "1.4142135623730951");
  BOOST_TEST(t.call("exp", {t.i(0)}) == "1.0");
  BOOST_TEST(t.call("exp", {t.i(1)}) == "2.718281828459045");
  BOOST_TEST(t.call("log", {t.f(std::numbers::e)}) == "1.0");
  BOOST_TEST(t.call("log", {t.b(true)}) == "0.0");
  BOOST_TEST(t.call("sin", {t.i(0)}) == "0.0");
  BOOST_TEST(t.call("cos", {t.i(0)}) == "1.0");
  BOOST_TEST(t.call("tanh", {t.f(INFINITY)}) == "1.0");
  BOOST_TEST(t.call("exp", {t.f(-INFINITY)}) == "0.0");
  BOOST_TEST(t.call("log", {t.f(INFINITY)}) == "inf");
  BOOST_TEST(t.call("sqrt", {t.f(NAN)}) == "nan");
  BOOST_TEST(t.call("sqrt", {t.i(-1)}) == "error: math domain error");
  BOOST_TEST(t.call("log", {t.i(0)}) == "error: math domain error");
  BOOST_TEST(t.call("log", {t.f(-1.0)}) == "error: math domain error");
  BOOST_TEST(t.call("sin", {t.f(INFINITY)}) == "error: math domain error");
  BOOST_TEST(t.call("exp", {t.i(1000)}) == "error: math range error");
  BOOST_TEST(t.call("sqrt", {t.s("4")}) == "error: must be real number, not str");
}

BOOST_AUTO_TEST_CASE(floor_and_ceil_give_ints) {
  Fixture t;
  BOOST_TEST(t.call("floor", {t.f(2.5)}) == "2");
  BOOST_TEST(t.call("floor", {t.f(-2.5)}) == "-3");
  BOOST_TEST(t.call("ceil", {t.f(2.1)}) == "3");
  BOOST_TEST(t.call("ceil", {t.f(-2.9)}) == "-2");
  BOOST_TEST(t.call("floor", {t.i(7)}) == "7");
  BOOST_TEST(t.call("ceil", {t.b(true)}) == "1");
  BOOST_TEST(t.call("floor", {t.f(INFINITY)}) == "error: cannot convert float infinity to integer");
  BOOST_TEST(t.call("ceil", {t.f(NAN)}) == "error: cannot convert float NaN to integer");
  BOOST_TEST(t.call("floor", {t.f(1e20)}) == "error: integer overflow");
  BOOST_TEST(t.call("ceil", {t.none()}) == "error: must be real number, not NoneType");
}

// ---------------------------------------------------------------- sequences

BOOST_AUTO_TEST_CASE(sorted_values) {
  Fixture t;
  BOOST_TEST(t.call("sorted", {t.list({t.i(3), t.i(1), t.i(2)})}) == "[1, 2, 3]");
  BOOST_TEST(t.call("sorted", {t.list({t.f(2.5), t.i(1), t.b(true), t.f(-1)})}) == "[-1.0, 1, True, 2.5]");
  BOOST_TEST(t.call("sorted", {t.s("cab")}) == "['a', 'b', 'c']");
  BOOST_TEST(t.call("sorted", {t.list({t.s("é"), t.s("z"), t.s("a")})}) == "['a', 'z', 'é']");
  BOOST_TEST(t.call("sorted", {t.list({t.tuple({t.i(2), t.s("a")}), t.tuple({t.i(1), t.s("b")})})}) ==
             "[(1, 'b'), (2, 'a')]");
  BOOST_TEST(t.call("sorted", {t.list({t.i(3), t.i(1)})}, {{"reverse", t.b(true)}}) == "[3, 1]");
  BOOST_TEST(t.call("sorted", {t.dict({{t.s("b"), t.i(1)}, {t.s("a"), t.i(2)}})}) == "['a', 'b']");
  BOOST_TEST(t.call("sorted", {t.list({})}) == "[]");
  BOOST_TEST(t.call("sorted", {t.list({t.i(1), t.s("a")})}) ==
             "error: '<' not supported between 'str' and 'int'");
  BOOST_TEST(t.call("sorted", {t.i(1)}) == "error: 'int' object is not iterable");
  BOOST_TEST(t.call("sorted", {t.list({})}, {{"reverse", t.s("x")}}) ==
             "error: 'str' object cannot be interpreted as an integer");
}

BOOST_AUTO_TEST_CASE(sorted_is_stable_with_key_and_reverse) {
  Fixture t;
  Value abs = Fixture::builtin("abs");
  Value items = t.list({t.i(-2), t.i(1), t.i(2), t.i(-1), t.f(2.0), t.i(0)});
  BOOST_TEST(t.call("sorted", {items}, {{"key", abs}}) == "[0, 1, -1, -2, 2, 2.0]");
  // reverse keeps equal items in their original order, as Python.
  BOOST_TEST(t.call("sorted", {items}, {{"key", abs}, {"reverse", t.b(true)}}) == "[-2, 2, 2.0, 1, -1, 0]");
  BOOST_TEST(t.call("sorted", {t.list({t.s("bb"), t.s("a"), t.s("cc"), t.s("d")})}, {{"key", Fixture::builtin("len")}}) ==
             "['a', 'd', 'bb', 'cc']");
  // The key is called once per item, and errors in it propagate.
  BOOST_TEST(t.call("sorted", {t.list({t.s("a"), t.i(1)})}, {{"key", Fixture::builtin("len")}}) ==
             "error: object of type 'int' has no len()");
}

BOOST_AUTO_TEST_CASE(sort_values_on_large_mixed_input) {
  // Beyond std::stable_sort's insertion-sort cutoff, with every fast path and the general one.
  Fixture t;
  std::vector<Value> ints, floats, mixed;
  for (int k = 0; k < 200; ++k) {
    int64_t v = (k * 7919) % 101 - 50;
    ints.push_back(Value::integer(v));
    floats.push_back(Value::number(double(v) / 4));
    mixed.push_back(k % 2 ? Value::integer(v) : Value::number(double(v) + 0.5));
  }
  for (auto* values : {&ints, &floats, &mixed}) {
    std::vector<Value> sorted = *values;
    sort_values(t.vm, sorted, Value::undefined(), false);
    for (size_t k = 1; k < sorted.size(); ++k) BOOST_TEST(!less(sorted[k], sorted[k - 1]));
    sort_values(t.vm, sorted, Value::undefined(), true);
    for (size_t k = 1; k < sorted.size(); ++k) BOOST_TEST(!less(sorted[k - 1], sorted[k]));
  }
}

BOOST_AUTO_TEST_CASE(reversed_gives_a_list) {
  Fixture t;
  BOOST_TEST(t.call("reversed", {t.list({t.i(1), t.i(2), t.i(3)})}) == "[3, 2, 1]");
  BOOST_TEST(t.call("reversed", {t.s("añb")}) == "['b', 'ñ', 'a']");
  BOOST_TEST(t.call("reversed", {t.tuple({t.i(1), t.i(2)})}) == "[2, 1]");
  BOOST_TEST(t.call("reversed", {t.dict({{t.s("a"), t.i(1)}, {t.s("b"), t.i(2)}})}) == "['b', 'a']");
  BOOST_TEST(t.call("reversed", {t.i(5)}) == "error: 'int' object is not reversible");
}

BOOST_AUTO_TEST_CASE(enumerate_gives_pairs) {
  Fixture t;
  BOOST_TEST(t.call("enumerate", {t.s("ab")}) == "[(0, 'a'), (1, 'b')]");
  BOOST_TEST(t.call("enumerate", {t.list({t.i(7)}), t.i(5)}) == "[(5, 7)]");
  BOOST_TEST(t.call("enumerate", {t.list({t.i(7), t.i(8)})}, {{"start", t.i(-1)}}) == "[(-1, 7), (0, 8)]");
  BOOST_TEST(t.call("enumerate", {t.list({})}) == "[]");
  BOOST_TEST(t.call("enumerate", {t.list({}), t.s("a")}) == "error: 'str' object cannot be interpreted as an integer");
  BOOST_TEST(t.call("enumerate", {t.i(1)}) == "error: 'int' object is not iterable");
}

BOOST_AUTO_TEST_CASE(zip_stops_at_the_shortest) {
  Fixture t;
  BOOST_TEST(t.call("zip", {t.list({t.i(1), t.i(2), t.i(3)}), t.s("ab")}) == "[(1, 'a'), (2, 'b')]");
  BOOST_TEST(t.call("zip", {t.list({t.i(1)})}) == "[(1,)]");
  BOOST_TEST(t.call("zip", {}) == "[]");
  BOOST_TEST(t.call("zip", {t.list({}), t.s("ab")}) == "[]");
  BOOST_TEST(t.call("zip", {t.list({t.i(1)}), t.i(2)}) == "error: 'int' object is not iterable");
}

BOOST_AUTO_TEST_CASE(list_and_tuple) {
  Fixture t;
  BOOST_TEST(t.call("list", {}) == "[]");
  BOOST_TEST(t.call("list", {t.s("ab")}) == "['a', 'b']");
  BOOST_TEST(t.call("list", {t.tuple({t.i(1), t.i(2)})}) == "[1, 2]");
  BOOST_TEST(t.call("tuple", {}) == "()");
  BOOST_TEST(t.call("tuple", {t.list({t.i(1)})}) == "(1,)");
  BOOST_TEST(t.call("list", {t.i(1)}) == "error: 'int' object is not iterable");
  BOOST_TEST(t.call("tuple", {t.none()}) == "error: 'NoneType' object is not iterable");
  Value l = t.list({t.i(1)});
  Ref copy = Ref::steal(t.vm.call(Fixture::builtin("list"), {l}));
  BOOST_TEST(!copy.get().same(l));  // list() copies
  Value tup = t.tuple({t.i(1)});
  Ref same = Ref::steal(t.vm.call(Fixture::builtin("tuple"), {tup}));
  BOOST_TEST(same.get().same(tup));  // tuple(tuple) is the tuple itself
}

BOOST_AUTO_TEST_CASE(dict_constructor) {
  Fixture t;
  BOOST_TEST(t.call("dict", {}) == "{}");
  BOOST_TEST(t.call("dict", {t.list({t.tuple({t.s("a"), t.i(1)}), t.list({t.s("b"), t.i(2)})})}) ==
             "{'a': 1, 'b': 2}");
  BOOST_TEST(t.call("dict", {t.list({t.s("ab")})}) == "{'a': 'b'}");
  BOOST_TEST(t.call("dict", {t.dict({{t.i(1), t.i(2)}})}) == "{1: 2}");
  BOOST_TEST(t.call("dict", {}, {{"x", t.i(1)}, {"y", t.i(2)}}) == "{'x': 1, 'y': 2}");
  BOOST_TEST(t.call("dict", {t.list({t.tuple({t.s("x"), t.i(0)})})}, {{"x", t.i(1)}}) == "{'x': 1}");
  BOOST_TEST(t.call("dict", {t.list({t.tuple({t.i(1), t.i(2), t.i(3)})})}) ==
             "error: dictionary update sequence element #0 has length 3; 2 is required");
  BOOST_TEST(t.call("dict", {t.list({t.tuple({t.i(1), t.i(2)}), t.i(1)})}) ==
             "error: cannot convert dictionary update sequence element #1 to a sequence");
  BOOST_TEST(t.call("dict", {t.list({t.tuple({t.list({}), t.i(2)})})}) == "error: unhashable type: 'list'");
  BOOST_TEST(t.call("dict", {t.i(3)}) == "error: 'int' object is not iterable");
}

// ---------------------------------------------------------------- the environment

BOOST_AUTO_TEST_CASE(clock_and_argv) {
  Fixture t;
  Ref a = Ref::steal(t.vm.call(Fixture::builtin("clock"), {}));
  Ref b = Ref::steal(t.vm.call(Fixture::builtin("clock"), {}));
  BOOST_TEST(a.get().is_double());
  BOOST_TEST(b.get().as_double() >= a.get().as_double());
  BOOST_TEST(t.call("argv", {}) == "[]");
  t.vm.argv = {"prog.tl", "x", "ü"};
  BOOST_TEST(t.call("argv", {}) == "['prog.tl', 'x', 'ü']");
}

// ---------------------------------------------------------------- str methods

BOOST_AUTO_TEST_CASE(str_split) {
  Fixture t;
  BOOST_TEST(t.method(t.s("a,b,,c"), "split", {t.s(",")}) == "['a', 'b', '', 'c']");
  BOOST_TEST(t.method(t.s(""), "split", {t.s(",")}) == "['']");
  BOOST_TEST(t.method(t.s("a--b--c"), "split", {t.s("--")}) == "['a', 'b', 'c']");
  BOOST_TEST(t.method(t.s("a,b,c"), "split", {t.s(","), t.i(1)}) == "['a', 'b,c']");
  BOOST_TEST(t.method(t.s("  one two\t\nthree  "), "split", {}) == "['one', 'two', 'three']");
  BOOST_TEST(t.method(t.s("   "), "split", {}) == "[]");
  BOOST_TEST(t.method(t.s(" a b  c "), "split", {t.none(), t.i(1)}) == "['a', 'b  c ']");
  BOOST_TEST(t.method(t.s("a b c"), "split", {}, {{"maxsplit", t.i(1)}}) == "['a', 'b c']");
  BOOST_TEST(t.method(t.s("a\u3000b\u00a0c"), "split", {}) == "['a', 'b', 'c']");
  BOOST_TEST(t.method(t.s("a b"), "split", {t.s(" "), t.i(0)}) == "['a b']");
  BOOST_TEST(t.method(t.s("a"), "split", {t.s("")}) == "error: empty separator");
  BOOST_TEST(t.method(t.s("a"), "split", {t.i(3)}) == "error: must be str or None, not int");
}

BOOST_AUTO_TEST_CASE(str_join) {
  Fixture t;
  BOOST_TEST(t.method(t.s(", "), "join", {t.list({t.s("a"), t.s("b")})}) == "'a, b'");
  BOOST_TEST(t.method(t.s("-"), "join", {t.s("xyz")}) == "'x-y-z'");
  BOOST_TEST(t.method(t.s("-"), "join", {t.list({})}) == "''");
  BOOST_TEST(t.method(t.s("-"), "join", {t.list({t.s("a"), t.i(1)})}) ==
             "error: sequence item 1: expected str instance, int found");
  BOOST_TEST(t.method(t.s("-"), "join", {t.i(1)}) == "error: 'int' object is not iterable");
}

BOOST_AUTO_TEST_CASE(str_strip_family) {
  Fixture t;
  BOOST_TEST(t.method(t.s("  padded \t\n"), "strip", {}) == "'padded'");
  BOOST_TEST(t.method(t.s("  x  "), "lstrip", {}) == "'x  '");
  BOOST_TEST(t.method(t.s("  x  "), "rstrip", {}) == "'  x'");
  BOOST_TEST(t.method(t.s("   "), "strip", {}) == "''");
  BOOST_TEST(t.method(t.s("--==title==--"), "strip", {t.s("-=")}) == "'title'");
  BOOST_TEST(t.method(t.s("xxhixx"), "lstrip", {t.s("x")}) == "'hixx'");
  BOOST_TEST(t.method(t.s("éaé"), "strip", {t.s("é")}) == "'a'");
  BOOST_TEST(t.method(t.s("\u3000a\u00a0"), "strip", {}) == "'a'");
  BOOST_TEST(t.method(t.s(" a "), "strip", {t.none()}) == "'a'");
  BOOST_TEST(t.method(t.s("a"), "strip", {t.i(1)}) == "error: strip arg must be None or str");
  BOOST_TEST(t.method(t.s("a"), "rstrip", {t.i(1)}) == "error: rstrip arg must be None or str");
  Value s = t.s("same");
  Ref r = Ref::steal(find_method(s, "strip")->fn(t.vm, CallArgs{&s, 1}));
  BOOST_TEST(r.get().same(s));  // nothing stripped: the string itself
}

BOOST_AUTO_TEST_CASE(str_startswith_endswith) {
  Fixture t;
  Value s = t.s("Hello, World");
  BOOST_TEST(t.method(s, "startswith", {t.s("Hello")}) == "True");
  BOOST_TEST(t.method(s, "startswith", {t.s("World")}) == "False");
  BOOST_TEST(t.method(s, "endswith", {t.s("World")}) == "True");
  BOOST_TEST(t.method(s, "startswith", {t.s("")}) == "True");
  BOOST_TEST(t.method(s, "startswith", {t.tuple({t.s("x"), t.s("He")})}) == "True");
  BOOST_TEST(t.method(s, "endswith", {t.tuple({})}) == "False");
  BOOST_TEST(t.method(s, "startswith", {t.s("World"), t.i(7)}) == "True");
  BOOST_TEST(t.method(s, "endswith", {t.s("Hello"), t.i(0), t.i(5)}) == "True");
  BOOST_TEST(t.method(s, "endswith", {t.s("o"), t.i(0), t.i(-7)}) == "True");
  BOOST_TEST(t.method(t.s("abc"), "startswith", {t.s(""), t.i(3)}) == "True");
  BOOST_TEST(t.method(t.s("abc"), "startswith", {t.s(""), t.i(4)}) == "False");
  BOOST_TEST(t.method(t.s("héllo"), "startswith", {t.s("llo"), t.i(2)}) == "True");
  BOOST_TEST(t.method(s, "startswith", {t.i(3)}) ==
             "error: startswith first arg must be str or a tuple of str, not int");
  BOOST_TEST(t.method(s, "endswith", {t.tuple({t.i(3)})}) ==
             "error: tuple for endswith must only contain str, not int");
  BOOST_TEST(t.method(s, "startswith", {t.s("a"), t.s("x")}) ==
             "error: slice indices must be integers or None or have an __index__ method");
}

BOOST_AUTO_TEST_CASE(str_find_and_count) {
  Fixture t;
  Value s = t.s("Hello, World");
  BOOST_TEST(t.method(s, "find", {t.s("o")}) == "4");
  BOOST_TEST(t.method(s, "find", {t.s("World")}) == "7");
  BOOST_TEST(t.method(s, "find", {t.s("xyz")}) == "-1");
  BOOST_TEST(t.method(s, "find", {t.s("")}) == "0");
  BOOST_TEST(t.method(s, "find", {t.s("o"), t.i(5)}) == "8");
  BOOST_TEST(t.method(s, "find", {t.s("o"), t.i(-4)}) == "8");
  BOOST_TEST(t.method(s, "find", {t.s("o"), t.i(-3)}) == "-1");
  BOOST_TEST(t.method(s, "find", {t.s("o"), t.i(0), t.i(4)}) == "-1");
  BOOST_TEST(t.method(s, "find", {t.s("o"), t.none(), t.i(5)}) == "4");
  BOOST_TEST(t.method(t.s("abc"), "find", {t.s(""), t.i(3)}) == "3");
  BOOST_TEST(t.method(t.s("abc"), "find", {t.s(""), t.i(4)}) == "-1");
  BOOST_TEST(t.method(t.s("héllo wörld"), "find", {t.s("w")}) == "6");  // code points, not bytes
  BOOST_TEST(t.method(t.s("日本語日本"), "find", {t.s("日"), t.i(1)}) == "3");
  BOOST_TEST(t.method(s, "find", {t.i(1)}) == "error: must be str, not int");
  BOOST_TEST(t.method(t.s("banana"), "count", {t.s("a")}) == "3");
  BOOST_TEST(t.method(t.s("aaaa"), "count", {t.s("aa")}) == "2");
  BOOST_TEST(t.method(t.s("abc"), "count", {t.s("")}) == "4");
  BOOST_TEST(t.method(t.s("abc"), "count", {t.s(""), t.i(4)}) == "0");
  BOOST_TEST(t.method(t.s("éaéa"), "count", {t.s("a"), t.i(2)}) == "1");
}

BOOST_AUTO_TEST_CASE(str_replace) {
  Fixture t;
  Value s = t.s("Hello, World");
  BOOST_TEST(t.method(s, "replace", {t.s("l"), t.s("L")}) == "'HeLLo, WorLd'");
  BOOST_TEST(t.method(s, "replace", {t.s("l"), t.s("")}) == "'Heo, Word'");
  BOOST_TEST(t.method(s, "replace", {t.s("l"), t.s("L"), t.i(2)}) == "'HeLLo, World'");
  BOOST_TEST(t.method(t.s("abc"), "replace", {t.s(""), t.s("-")}) == "'-a-b-c-'");
  BOOST_TEST(t.method(t.s("añc"), "replace", {t.s(""), t.s("-"), t.i(2)}) == "'-a-ñc'");
  BOOST_TEST(t.method(t.s("wörld"), "replace", {t.s("ö"), t.s("o")}) == "'world'");
  BOOST_TEST(t.method(s, "replace", {t.i(1), t.s("x")}) == "error: replace() argument 1 must be str, not int");
  BOOST_TEST(t.method(s, "replace", {t.s("x"), t.i(1)}) == "error: replace() argument 2 must be str, not int");
}

BOOST_AUTO_TEST_CASE(str_case) {
  Fixture t;
  BOOST_TEST(t.method(t.s("Hello, World 1"), "upper", {}) == "'HELLO, WORLD 1'");
  BOOST_TEST(t.method(t.s("Hello, World 1"), "lower", {}) == "'hello, world 1'");
  BOOST_TEST(t.method(t.s("héllo wörld"), "upper", {}) == "'HÉLLO WÖRLD'");
  BOOST_TEST(t.method(t.s("ÀÉÎÕÜ"), "lower", {}) == "'àéîõü'");
  BOOST_TEST(t.method(t.s("straße"), "upper", {}) == "'STRASSE'");
  BOOST_TEST(t.method(t.s("αβγ Привет"), "upper", {}) == "'ΑΒΓ ПРИВЕТ'");
  BOOST_TEST(t.method(t.s("ΑΒΓ ПРИВЕТ"), "lower", {}) == "'αβγ привет'");
  BOOST_TEST(t.method(t.s("日本"), "upper", {}) == "'日本'");
}

BOOST_AUTO_TEST_CASE(str_classification) {
  Fixture t;
  BOOST_TEST(t.method(t.s("123"), "isdigit", {}) == "True");
  BOOST_TEST(t.method(t.s("12a"), "isdigit", {}) == "False");
  BOOST_TEST(t.method(t.s(""), "isdigit", {}) == "False");
  BOOST_TEST(t.method(t.s("abcXYZ"), "isalpha", {}) == "True");
  BOOST_TEST(t.method(t.s("héllo"), "isalpha", {}) == "True");
  BOOST_TEST(t.method(t.s("ab c"), "isalpha", {}) == "False");
  BOOST_TEST(t.method(t.s(""), "isalpha", {}) == "False");
  BOOST_TEST(t.method(t.s(" \t\n"), "isspace", {}) == "True");
  BOOST_TEST(t.method(t.s(" a"), "isspace", {}) == "False");
  BOOST_TEST(t.method(t.s(""), "isspace", {}) == "False");
}

// ---------------------------------------------------------------- list methods

BOOST_AUTO_TEST_CASE(list_append_pop) {
  Fixture t;
  Value l = t.list({t.i(1), t.i(2), t.i(3)});
  BOOST_TEST(t.method(l, "append", {t.s("x")}) == "None");
  BOOST_TEST(repr(l) == "[1, 2, 3, 'x']");
  BOOST_TEST(t.method(l, "pop", {}) == "'x'");
  BOOST_TEST(t.method(l, "pop", {t.i(0)}) == "1");
  BOOST_TEST(t.method(l, "pop", {t.i(-1)}) == "3");
  BOOST_TEST(repr(l) == "[2]");
  BOOST_TEST(t.method(l, "pop", {t.i(1)}) == "error: pop index out of range");
  BOOST_TEST(t.method(l, "pop", {t.i(-2)}) == "error: pop index out of range");
  BOOST_TEST(t.method(l, "pop", {t.s("a")}) == "error: 'str' object cannot be interpreted as an integer");
  BOOST_TEST(t.method(l, "pop", {}) == "2");
  BOOST_TEST(t.method(l, "pop", {}) == "error: pop from empty list");
}

BOOST_AUTO_TEST_CASE(list_extend_insert) {
  Fixture t;
  Value l = t.list({t.i(1)});
  t.method(l, "extend", {t.tuple({t.i(2)})});
  t.method(l, "extend", {t.s("ab")});
  t.method(l, "extend", {l});  // a snapshot: doubles the list
  BOOST_TEST(repr(l) == "[1, 2, 'a', 'b', 1, 2, 'a', 'b']");
  BOOST_TEST(t.method(l, "extend", {t.i(1)}) == "error: 'int' object is not iterable");
  Value m = t.list({t.i(1), t.i(2)});
  t.method(m, "insert", {t.i(0), t.s("first")});
  t.method(m, "insert", {t.i(100), t.s("last")});
  t.method(m, "insert", {t.i(-1), t.s("before last")});
  t.method(m, "insert", {t.i(-100), t.s("front")});
  BOOST_TEST(repr(m) == "['front', 'first', 1, 2, 'before last', 'last']");
  BOOST_TEST(t.method(m, "insert", {t.f(1.0), t.i(1)}) == "error: 'float' object cannot be interpreted as an integer");
}

BOOST_AUTO_TEST_CASE(list_index_count_remove) {
  Fixture t;
  Value l = t.list({t.i(5), t.i(6), t.i(5), t.s("a")});
  BOOST_TEST(t.method(l, "index", {t.i(5)}) == "0");
  BOOST_TEST(t.method(l, "index", {t.f(5.0)}) == "0");  // compared with ==
  BOOST_TEST(t.method(l, "index", {t.i(5), t.i(1)}) == "2");
  BOOST_TEST(t.method(l, "index", {t.i(5), t.i(-2)}) == "2");
  BOOST_TEST(t.method(l, "index", {t.i(5), t.i(1), t.i(2)}) == "error: 5 is not in list");
  BOOST_TEST(t.method(l, "index", {t.s("b")}) == "error: 'b' is not in list");
  BOOST_TEST(t.method(l, "count", {t.i(5)}) == "2");
  BOOST_TEST(t.method(l, "count", {t.i(7)}) == "0");
  BOOST_TEST(t.method(l, "remove", {t.i(5)}) == "None");
  BOOST_TEST(repr(l) == "[6, 5, 'a']");
  BOOST_TEST(t.method(l, "remove", {t.i(9)}) == "error: list.remove(x): x not in list");
}

BOOST_AUTO_TEST_CASE(list_reverse_copy) {
  Fixture t;
  Value l = t.list({t.i(1), t.s("b"), t.i(3)});
  BOOST_TEST(t.method(l, "reverse", {}) == "None");
  BOOST_TEST(repr(l) == "[3, 'b', 1]");
  BOOST_TEST(t.method(l, "copy", {}) == "[3, 'b', 1]");
  Ref copy = Ref::steal(find_method(l, "copy")->fn(t.vm, CallArgs{&l, 1}));
  BOOST_TEST(!copy.get().same(l));
  as_obj<ListObj>(copy.get())->items.push_back(Value::none());
  BOOST_TEST(repr(l) == "[3, 'b', 1]");
}

BOOST_AUTO_TEST_CASE(list_sort) {
  Fixture t;
  Value l = t.list({t.i(3), t.i(-1), t.i(2), t.i(-3)});
  BOOST_TEST(t.method(l, "sort", {}) == "None");
  BOOST_TEST(repr(l) == "[-3, -1, 2, 3]");
  t.method(l, "sort", {}, {{"key", Fixture::builtin("abs")}});
  BOOST_TEST(repr(l) == "[-1, 2, -3, 3]");
  t.method(l, "sort", {}, {{"key", Fixture::builtin("abs")}, {"reverse", t.b(true)}});
  BOOST_TEST(repr(l) == "[-3, 3, 2, -1]");
  t.method(l, "sort", {}, {{"reverse", t.i(1)}});
  BOOST_TEST(repr(l) == "[3, 2, -1, -3]");
  // A failed sort leaves every item in the list.
  Value mixed = t.list({t.i(1), t.s("a"), t.i(0)});
  BOOST_TEST(t.method(mixed, "sort", {}) == "error: '<' not supported between 'str' and 'int'");
  BOOST_TEST(t.call("len", {mixed}) == "3");
}

BOOST_AUTO_TEST_CASE(list_modified_during_sort) {
  Fixture t;
  Value l = t.list({t.i(1)});
  Value append = t.bound(l, "append");  // the key appends to the list being sorted
  BOOST_TEST(t.method(l, "sort", {}, {{"key", append}}) == "error: list modified during sort");
  BOOST_TEST(repr(l) == "[1]");
}

// ---------------------------------------------------------------- dict methods

BOOST_AUTO_TEST_CASE(dict_views_are_lists) {
  Fixture t;
  Value d = t.dict({{t.s("a"), t.i(1)}, {t.s("b"), t.i(2)}, {t.i(3), t.none()}});
  BOOST_TEST(t.method(d, "keys", {}) == "['a', 'b', 3]");
  BOOST_TEST(t.method(d, "values", {}) == "[1, 2, None]");
  BOOST_TEST(t.method(d, "items", {}) == "[('a', 1), ('b', 2), (3, None)]");
  BOOST_TEST(t.method(t.dict({}), "items", {}) == "[]");
}

BOOST_AUTO_TEST_CASE(dict_get) {
  Fixture t;
  Value d = t.dict({{t.s("a"), t.i(1)}, {t.i(1), t.s("one")}});
  BOOST_TEST(t.method(d, "get", {t.s("a")}) == "1");
  BOOST_TEST(t.method(d, "get", {t.s("z")}) == "None");
  BOOST_TEST(t.method(d, "get", {t.s("z"), t.i(0)}) == "0");
  BOOST_TEST(t.method(d, "get", {t.f(1.0)}) == "'one'");  // 1 and 1.0 are the same key
  BOOST_TEST(t.method(d, "get", {t.b(true)}) == "'one'");
  BOOST_TEST(t.method(d, "get", {t.list({})}) == "error: unhashable type: 'list'");
  BOOST_TEST(t.method(d, "get", {}) == "error: get() takes at least 1 positional argument (0 given)");
}

BOOST_AUTO_TEST_SUITE_END()
