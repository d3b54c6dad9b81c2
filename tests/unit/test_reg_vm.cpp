// The register VM on hand-assembled register code: calls, closures and cells, keywords,
// methods, loops, unpacking, f-strings, imports, frozen values, errors (compared with what the
// stack VM says for the same program), the disassembler, a Program's lifetime, and many
// threads running one Program.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "../../vm/call_support.h"
#include "../../vm/error.h"
#include "../../vm/ops.h"
#include "../../vm/program.h"
#include "../../vm/reg_vm.h"
#include "../../vm/tensor.h"
#include "run_tl.h"

using namespace tvm;

namespace {

using test::first_line;

// A register CodeObj assembled by hand: the test's own little lcode.c.
struct Asm {
  CodeObj* c = new CodeObj();

  Asm(const char* name, int nregs, std::vector<const char*> params = {}) {
    c->name = name;
    c->filename = "t.tl";
    c->is_register = true;
    c->nregs = nregs;
    c->nparams = int(params.size());
    for (const char* p : params) c->slot_names.push_back(intern(p));
  }
  // A constant (adopts a new reference), as an index and as an RK operand.
  uint32_t k(Value v) {
    c->consts.push_back(v);
    return uint32_t(c->consts.size() - 1);
  }
  uint32_t rk(Value v) { return rk_const(k(v)); }
  uint32_t name(const char* s) { return k(Value::object(intern(s))); }
  uint32_t str(const char* s) { return k(make_str(s)); }
  // Appends an instruction at line:col; returns its index.
  size_t op(int line, ROp o, uint32_t a = 0, uint32_t b = 0, uint32_t cc = 0, int col = 1) {
    c->rcode.push_back(rencode(o, a, b, cc));
    c->locs.push_back({line, col});
    return c->rcode.size() - 1;
  }
  size_t here() const { return c->rcode.size(); }
  void set_jump(size_t at, size_t target) {
    RInstr i = c->rcode[at];
    c->rcode[at] = rencode(rop(i), ra(i), uint32_t(target), rc(i));
  }
  // The finished code (a new reference).
  CodeObj* done() { return std::exchange(c, nullptr); }
  ~Asm() {
    if (c) decref(c);
  }
};

Value tuple_of(std::vector<Value> items) { return make_tuple(std::move(items)); }
Value kwnames(std::initializer_list<const char*> names) {
  std::vector<Value> v;
  for (const char* n : names) v.push_back(Value::object(intern(n)));
  return make_tuple(std::move(v));
}

struct Result {
  int rc = 0;
  std::string out;
  std::string err;
};

// A script package: `main` is the top level; globals are the layout's slots.
struct Script {
  Program program;
  ModuleObj* layout = new ModuleObj(intern("__main__"));

  Script() { program.manifest.is_script = true; }
  ~Script() { decref(layout); }
  uint32_t global(const char* name) { return uint32_t(layout->slot(name)); }
  void set_main(CodeObj* main) {
    incref(layout);
    auto* fn = new FunctionObj(main, layout);
    program.entry = Value::object(fn);
    program.holds.push_back(Ref::steal(program.entry));
  }
  void add_module(const char* name, CodeObj* code) {
    program.modules.push_back({name, std::string(name) + ".tl", code});
    program.holds.push_back(Ref::steal(Value::object(code)));
  }
  Result run() {
    RegisterVM vm(program);
    Result r;
    vm.capture = &r.out;
    try {
      vm.run_script();
    } catch (const ProgramError& e) {
      r.rc = e.exit_code;
      r.err = e.message;
    }
    return r;
  }
};

// CLOSURE with no defaults and no cells: R[free] and R[free + 1] are set to None first.
void closure(Asm& a, int line, uint32_t dst, CodeObj* code, uint32_t free) {
  uint32_t none = a.rk(Value::none());
  a.op(line, ROp::LOADK, free, rk_index(none));
  a.op(line, ROp::LOADK, free + 1, rk_index(none));
  a.op(line, ROp::CLOSURE, dst, a.k(Value::object(code)), free);
}

// def fib(n): if n < 2: return n / return fib(n - 1) + fib(n - 2)
CodeObj* fib_code(uint32_t g_fib) {
  Asm f("fib", 4, {"n"});
  f.op(3, ROp::IFLT, 0, 0, f.rk(Value::small_int(2)));
  size_t j = f.op(3, ROp::JMP);
  f.op(4, ROp::RETURN, 0, 0);
  f.set_jump(j, f.here());
  f.op(5, ROp::GETGLOBAL, 1, g_fib);
  f.op(5, ROp::SUB, 2, 0, f.rk(Value::small_int(1)));
  f.op(5, ROp::CALL, 1, 1);
  f.op(5, ROp::GETGLOBAL, 2, g_fib);
  f.op(5, ROp::SUB, 3, 0, f.rk(Value::small_int(2)));
  f.op(5, ROp::CALL, 2, 1);
  f.op(5, ROp::ADD, 1, 1, 2);
  f.op(5, ROp::RETURN, 0, 1);
  return f.done();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reg_vm)

BOOST_AUTO_TEST_CASE(recursive_fib) {
  Script s;
  uint32_t g_fib = s.global("fib"), g_print = s.global("print");
  Asm m("<module>", 3);
  closure(m, 2, 0, fib_code(g_fib), 1);
  m.op(2, ROp::SETGLOBAL, 0, g_fib);
  m.op(7, ROp::GETGLOBAL, 0, g_print);
  m.op(7, ROp::GETGLOBAL, 1, g_fib);
  m.op(7, ROp::LOADK, 2, m.k(Value::small_int(20)));
  m.op(7, ROp::CALL, 1, 1);
  m.op(7, ROp::CALL, 0, 1);
  m.op(7, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "6765\n");
}

// total = 0.0; for i in range(10): total += i * 0.5 (an int times a float: the mixed fast path)
BOOST_AUTO_TEST_CASE(loop_summing_floats) {
  Script s;
  uint32_t g_range = s.global("range"), g_print = s.global("print");
  Asm m("<module>", 6);
  m.op(1, ROp::LOADK, 0, m.k(Value::from_double(0.0)));
  m.op(2, ROp::GETGLOBAL, 1, g_range);
  m.op(2, ROp::LOADK, 2, m.k(Value::small_int(10)));
  m.op(2, ROp::CALL, 1, 1);
  m.op(2, ROp::GETITER, 1, 1);
  size_t loop = m.op(2, ROp::FORITER, 2, 1);
  size_t exit = m.op(2, ROp::JMP);
  m.op(3, ROp::MUL, 3, 2, m.rk(Value::from_double(0.5)));
  m.op(3, ROp::ADD, 0, 0, 3);
  m.op(3, ROp::DIV, 4, 3, m.rk(Value::small_int(4)));  // an int divisor: a float result still
  m.op(3, ROp::JMP, 0, uint32_t(loop));
  m.set_jump(exit, m.here());
  m.op(4, ROp::GETGLOBAL, 3, g_print);
  m.op(4, ROp::MOVE, 4, 0);
  m.op(4, ROp::CALL, 3, 1);
  m.op(4, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "22.5\n");
}

// def counter(): n = 0; def inc(): nonlocal n; n += 1; return n; return inc
// c = counter(); c(); c(); print(c())
BOOST_AUTO_TEST_CASE(closures_share_cells) {
  Script s;
  uint32_t g_print = s.global("print"), g_c = s.global("c");
  Asm inc("inc", 2);
  inc.c->nfree = 1;
  inc.c->free_names.push_back(intern("n"));
  inc.op(4, ROp::GETFREE, 0, 0);
  inc.op(5, ROp::ADD, 0, 0, inc.rk(Value::small_int(1)));
  inc.op(5, ROp::SETFREE, 0, 0);
  inc.op(6, ROp::GETFREE, 1, 0);
  inc.op(6, ROp::RETURN, 0, 1);

  Asm counter("counter", 5);
  counter.op(2, ROp::LOADK, 0, counter.k(Value::small_int(0)));
  counter.op(2, ROp::MAKECELL, 0);
  counter.op(3, ROp::LOADK, 1, counter.k(Value::none()));
  counter.op(3, ROp::NEWTUPLE, 2, 0, 1);  // the cells: (cell n,)
  counter.op(3, ROp::CLOSURE, 3, counter.k(Value::object(inc.done())), 1);
  counter.op(3, ROp::GETCELL, 4, 0, counter.name("n"));  // n is still 0 here
  counter.op(3, ROp::SETCELL, 0, 4);
  counter.op(7, ROp::RETURN, 0, 3);

  Asm m("<module>", 4);
  closure(m, 1, 0, counter.done(), 1);
  m.op(8, ROp::CALL, 0, 0);
  m.op(8, ROp::SETGLOBAL, 0, g_c);
  for (int i = 0; i < 2; ++i) {
    m.op(9, ROp::GETGLOBAL, 0, g_c);
    m.op(9, ROp::CALL, 0, 0);
  }
  m.op(10, ROp::GETGLOBAL, 0, g_print);
  m.op(10, ROp::GETGLOBAL, 1, g_c);
  m.op(10, ROp::CALL, 1, 0);
  m.op(10, ROp::CALL, 0, 1);
  m.op(10, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "3\n");
}

// print(1, 2, sep='-', end='!\n'); def f(a, b=2, *rest); print(f(b=5, a=1), f(1, 2, 3, 4), f(*[7]))
BOOST_AUTO_TEST_CASE(keywords_defaults_varargs_and_spread) {
  Script s;
  uint32_t g_print = s.global("print"), g_f = s.global("f");
  Asm f("f", 4, {"a", "b"});
  f.c->has_varargs = true;
  f.c->slot_names.push_back(intern("rest"));
  f.op(2, ROp::NEWTUPLE, 3, 0, 3);
  f.op(2, ROp::RETURN, 0, 3);

  Asm m("<module>", 12);
  m.op(1, ROp::GETGLOBAL, 0, g_print);
  m.op(1, ROp::LOADK, 1, m.k(Value::small_int(1)));
  m.op(1, ROp::LOADK, 2, m.k(Value::small_int(2)));
  m.op(1, ROp::LOADK, 3, m.str("-"));
  m.op(1, ROp::LOADK, 4, m.str("!\n"));
  m.op(1, ROp::CALL, 0, 4, m.k(kwnames({"sep", "end"})) + 1);
  // f with the default b = 2
  m.op(2, ROp::LOADK, 1, m.k(tuple_of({Value::small_int(2)})));
  m.op(2, ROp::LOADK, 2, m.k(Value::none()));
  m.op(2, ROp::CLOSURE, 0, m.k(Value::object(f.done())), 1);
  m.op(2, ROp::SETGLOBAL, 0, g_f);
  m.op(3, ROp::GETGLOBAL, 0, g_print);
  m.op(3, ROp::GETGLOBAL, 1, g_f);
  m.op(3, ROp::LOADK, 2, m.k(Value::small_int(5)));
  m.op(3, ROp::LOADK, 3, m.k(Value::small_int(1)));
  m.op(3, ROp::CALL, 1, 2, m.k(kwnames({"b", "a"})) + 1);
  m.op(3, ROp::GETGLOBAL, 2, g_f);
  for (int i = 0; i < 4; ++i) m.op(3, ROp::LOADK, 3 + i, m.k(Value::small_int(i + 1)));
  m.op(3, ROp::CALL, 2, 4);
  m.op(3, ROp::GETGLOBAL, 3, g_f);
  m.op(3, ROp::LOADK, 5, m.k(Value::small_int(7)));
  m.op(3, ROp::NEWLIST, 4, 5, 1);
  m.op(3, ROp::CALLEX, 3, 0);
  m.op(3, ROp::CALL, 0, 3);
  m.op(3, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "1-2!\n(1, 5, ()) (1, 2, (3, 4)) (7, 2, ())\n");
}

// l = [1, 2]; l.append(3); l += [4]; print(l.pop(), l, sorted(l, key=neg)) with neg a TL function
BOOST_AUTO_TEST_CASE(methods_inplace_add_and_native_reentry) {
  Script s;
  uint32_t g_print = s.global("print"), g_sorted = s.global("sorted"), g_neg = s.global("neg");
  Asm neg("neg", 1, {"x"});
  neg.op(1, ROp::NEG, 0, 0);
  neg.op(1, ROp::RETURN, 0, 0);

  Asm m("<module>", 9);
  closure(m, 1, 0, neg.done(), 1);
  m.op(1, ROp::SETGLOBAL, 0, g_neg);
  m.op(2, ROp::LOADK, 1, m.k(Value::small_int(1)));
  m.op(2, ROp::LOADK, 2, m.k(Value::small_int(2)));
  m.op(2, ROp::NEWLIST, 0, 1, 2);
  m.op(3, ROp::MOVE, 1, 0);
  m.op(3, ROp::LOADK, 2, m.k(Value::small_int(3)));
  m.op(3, ROp::CALLMETHOD, 1, 1, m.name("append"));
  m.op(4, ROp::LOADK, 2, m.k(Value::small_int(4)));
  m.op(4, ROp::NEWLIST, 1, 2, 1);
  m.op(4, ROp::INPLACE_ADD, 1, 0, 1);  // R1 is R0's list itself
  m.op(5, ROp::GETGLOBAL, 2, g_print);
  m.op(5, ROp::MOVE, 3, 1);
  m.op(5, ROp::CALLMETHOD, 3, 0, m.name("pop"));
  m.op(5, ROp::MOVE, 4, 0);
  m.op(5, ROp::GETGLOBAL, 5, g_sorted);
  m.op(5, ROp::MOVE, 6, 0);
  m.op(5, ROp::GETGLOBAL, 7, g_neg);
  m.op(5, ROp::CALL, 5, 2, m.k(kwnames({"key"})) + 1);
  m.op(5, ROp::CALL, 2, 3);
  m.op(5, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "4 [1, 2, 3] [3, 2, 1]\n");
}

// for x in [10, 20]: print(x); for k in {'a': 1, 'b': 2}: print(k); for c in 'hé': print(c)
BOOST_AUTO_TEST_CASE(foriter_over_list_dict_and_str) {
  Script s;
  uint32_t g_print = s.global("print");
  Asm m("<module>", 7);
  m.op(1, ROp::LOADK, 1, m.k(Value::small_int(10)));
  m.op(1, ROp::LOADK, 2, m.k(Value::small_int(20)));
  m.op(1, ROp::NEWLIST, 0, 1, 2);
  m.op(2, ROp::LOADK, 1, m.str("a"));
  m.op(2, ROp::LOADK, 2, m.k(Value::small_int(1)));
  m.op(2, ROp::LOADK, 3, m.str("b"));
  m.op(2, ROp::LOADK, 4, m.k(Value::small_int(2)));
  m.op(2, ROp::NEWDICT, 1, 1, 2);
  m.op(3, ROp::LOADK, 2, m.str("h\xc3\xa9"));
  for (uint32_t seq = 0; seq < 3; ++seq) {
    m.op(4, ROp::GETITER, 3, seq);
    size_t loop = m.op(4, ROp::FORITER, 4, 3);
    size_t exit = m.op(4, ROp::JMP);
    m.op(5, ROp::GETGLOBAL, 5, g_print);
    m.op(5, ROp::MOVE, 6, 4);
    m.op(5, ROp::CALL, 5, 1);
    m.op(5, ROp::JMP, 0, uint32_t(loop));
    m.set_jump(exit, m.here());
  }
  m.op(6, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.err == "");
  BOOST_TEST(r.out == "10\n20\na\nb\nh\n\xc3\xa9\n");
}

// a, b, c = (1, 'x', 2.5); print(f"{c:>6.2f}|{b!r}|{a}"); then a, b = [1] fails as in the stack VM
BOOST_AUTO_TEST_CASE(unpack_format_and_unpack_error) {
  Script s;
  uint32_t g_print = s.global("print");
  Asm m("<module>", 8);
  m.op(1, ROp::LOADK, 0, m.k(tuple_of({Value::small_int(1), make_str("x"), Value::from_double(2.5)})));
  m.op(1, ROp::UNPACK, 0, 0, 3);  // the sequence's own register is a target too
  m.op(2, ROp::GETGLOBAL, 3, g_print);
  m.op(2, ROp::MOVE, 5, 2);
  m.op(2, ROp::LOADK, 6, m.str(">6.2f"));
  m.op(2, ROp::FORMAT, 4, 5, 4);
  m.op(2, ROp::LOADK, 5, m.str("|"));
  m.op(2, ROp::FORMAT, 6, 1, 2);
  m.op(2, ROp::LOADK, 7, m.str("|"));
  m.op(2, ROp::CONCAT, 4, 4, 4);
  m.op(2, ROp::FORMAT, 5, 0, 0);
  m.op(2, ROp::CONCAT, 4, 4, 2);
  m.op(2, ROp::CALL, 3, 1);
  m.op(3, ROp::LOADK, 1, m.k(Value::small_int(1)));
  m.op(3, ROp::NEWLIST, 0, 1, 1);
  m.op(3, ROp::UNPACK, 1, 0, 2, 1);
  m.op(3, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.out == "  2.50|'x'|1\n");
  std::string expected = test::run("a, b, c = (1, 'x', 2.5)\nprint(f\"{c:>6.2f}|{b!r}|{a}\")\na, b = [1]\n").err;
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(r.err == expected);
}

// The stack VM's message and traceback for the same program, line for line.
BOOST_AUTO_TEST_CASE(division_by_zero_traceback_matches_the_stack_vm) {
  const char* src = "def g(x):\n    return 1 // x\ndef f():\n    return g(0)\nf()\n";
  Script s;
  uint32_t g_g = s.global("g"), g_f = s.global("f");
  Asm g("g", 2, {"x"});
  g.op(2, ROp::FLOORDIV, 1, g.rk(Value::small_int(1)), 0, 12);
  g.op(2, ROp::RETURN, 0, 1);
  Asm f("f", 2);
  f.op(4, ROp::GETGLOBAL, 0, g_g);
  f.op(4, ROp::LOADK, 1, f.k(Value::small_int(0)));
  f.op(4, ROp::CALL, 0, 1, 0, 12);
  f.op(4, ROp::RETURN, 0, 0);
  Asm m("<module>", 3);
  closure(m, 1, 0, g.done(), 1);
  m.op(1, ROp::SETGLOBAL, 0, g_g);
  closure(m, 3, 0, f.done(), 1);
  m.op(3, ROp::SETGLOBAL, 0, g_f);
  m.op(5, ROp::GETGLOBAL, 0, g_f);
  m.op(5, ROp::CALL, 0, 0);
  m.op(5, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(r.err ==
             "t.tl:2:12: runtime error: division by zero\n"
             "traceback (most recent call first):\n"
             "  in g at t.tl:2\n  in f at t.tl:4\n  in <module> at t.tl:5\n");
  BOOST_TEST(r.err == test::run(src).err);
}

BOOST_AUTO_TEST_CASE(recursion_limit_is_an_error) {
  Script s;
  uint32_t g_f = s.global("f");
  Asm f("f", 3, {"n"});
  f.op(2, ROp::GETGLOBAL, 1, g_f);
  f.op(2, ROp::ADD, 2, 0, f.rk(Value::small_int(1)), 14);
  f.op(2, ROp::CALL, 1, 1, 0, 12);
  f.op(2, ROp::RETURN, 0, 1);
  Asm m("<module>", 3);
  closure(m, 1, 0, f.done(), 1);
  m.op(1, ROp::SETGLOBAL, 0, g_f);
  m.op(3, ROp::GETGLOBAL, 0, g_f);
  m.op(3, ROp::LOADK, 1, m.k(Value::small_int(0)));
  m.op(3, ROp::CALL, 0, 1);
  m.op(3, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(first_line(r.err) == "t.tl:2:12: runtime error: maximum recursion depth exceeded");
  BOOST_TEST(r.err == test::run("def f(n):\n    return f(n + 1)\nf(0)\n").err);
}

BOOST_AUTO_TEST_CASE(unassigned_local_and_undefined_global) {
  Script s;
  uint32_t g_f = s.global("f"), g_nope = s.global("nope");
  Asm f("f", 3);
  f.c->slot_names.push_back(intern("x"));  // a local, not a parameter
  f.op(3, ROp::CHECKDEF, 0, f.name("x"), 0, 11);
  f.op(4, ROp::RETURN, 0, 0);
  Asm m("<module>", 3);
  closure(m, 2, 0, f.done(), 1);
  m.op(2, ROp::SETGLOBAL, 0, g_f);
  m.op(5, ROp::GETGLOBAL, 0, g_f);
  m.op(5, ROp::CALL, 0, 0);
  m.op(6, ROp::GETGLOBAL, 0, g_nope, 0, 1);
  m.op(6, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(first_line(r.err) == "t.tl:3:11: runtime error: local variable 'x' referenced before assignment");
  BOOST_TEST(r.err == test::run("x = 1\ndef f():\n    print(x)\n    x = 2\nf()\n").err);
}

// import m (m.x = 42, and m's __name__ is 'm'), from m import x, and a module not in the package.
BOOST_AUTO_TEST_CASE(imports_come_from_the_package) {
  Script s;
  uint32_t g_print = s.global("print");
  Asm mod("<module>", 1);
  mod.c->filename = "m.tl";
  mod.c->slot_names = {intern("__name__"), intern("x")};
  mod.op(1, ROp::LOADK, 0, mod.k(Value::small_int(42)));
  mod.op(1, ROp::SETGLOBAL, 0, 1);
  mod.op(1, ROp::RETURN, 0, mod.rk(Value::none()));
  s.add_module("m", mod.done());

  Asm m("<module>", 5);
  m.op(1, ROp::IMPORT, 0, m.name("m"));
  m.op(2, ROp::GETGLOBAL, 1, g_print);
  m.op(2, ROp::GETATTR, 2, 0, m.name("x"));
  m.op(2, ROp::GETATTR, 3, 0, m.name("__name__"));
  m.op(2, ROp::IMPORT, 4, m.name("m"));  // cached: the same module
  m.op(2, ROp::IS, 4, 4, 0);
  m.op(2, ROp::CALL, 1, 3);
  m.op(3, ROp::IMPORTFROM, 1, 0, m.name("x"));
  m.op(4, ROp::IMPORT, 0, m.name("zz"), 0, 1);
  m.op(4, ROp::RETURN, 0, m.rk(Value::none()));
  s.set_main(m.done());
  Result r = s.run();
  BOOST_TEST(r.out == "42 m True\n");
  BOOST_TEST(first_line(r.err) == "t.tl:4:1: runtime error: no module named 'zz'");
}

// A function package whose entry changes frozen values: a list, a dict and a closure's cell.
BOOST_AUTO_TEST_CASE(frozen_values_cannot_change) {
  Ref layers_ref = Ref::steal(make_list({Value::small_int(1)}));
  Value layers = layers_ref.get();
  Value table = make_dict();
  auto* cell = new CellObj();
  cell->value = Value::small_int(0);
  freeze_value(layers, "layers");
  freeze_value(table, "table");
  freeze_value(Value::object(cell), "count");

  auto* module = new ModuleObj(intern("model"));
  Asm f("forward", 4, {"what"});
  f.c->nfree = 1;
  f.c->free_names.push_back(intern("count"));
  f.op(2, ROp::IFEQ, 0, 0, f.rk(Value::small_int(0)));  // what == 0: layers.append(what)
  size_t to_dict = f.op(2, ROp::JMP);
  f.op(3, ROp::LOADK, 1, f.k(Ref::borrow(layers).release()));
  f.op(3, ROp::MOVE, 2, 0);
  f.op(3, ROp::CALLMETHOD, 1, 1, f.name("append"), 5);
  f.op(3, ROp::RETURN, 0, 1);
  f.set_jump(to_dict, f.here());
  f.op(4, ROp::IFEQ, 0, 0, f.rk(Value::small_int(1)));  // what == 1: table['k'] = what
  size_t to_cell = f.op(4, ROp::JMP);
  f.op(5, ROp::LOADK, 1, f.k(table));
  f.op(5, ROp::SETITEM, 1, f.rk(make_str("k")), 0, 5);
  f.op(5, ROp::RETURN, 0, 0);
  f.set_jump(to_cell, f.here());
  f.op(6, ROp::IFEQ, 0, 0, f.rk(Value::small_int(2)));  // what == 2: count += 1 (nonlocal)
  size_t to_read = f.op(6, ROp::JMP);
  f.op(7, ROp::SETFREE, 0, 0, 0, 5);
  f.set_jump(to_read, f.here());
  f.op(8, ROp::LOADK, 1, f.k(Ref::borrow(layers).release()));  // reading is fine: layers[0] + len(table)
  f.op(8, ROp::GETITEM, 1, 1, f.rk(Value::small_int(0)));
  f.op(8, ROp::RETURN, 0, 1);
  auto* fn = new FunctionObj(f.done(), module);
  fn->cells.push_back(cell);

  Program p;
  p.entry = Value::object(fn);
  p.holds.push_back(Ref::steal(p.entry));
  RegisterVM vm(p);
  auto call = [&](int64_t what) -> std::string {
    Value arg = Value::small_int(what);
    try {
      Value r = vm.call_entry(&arg, 1);
      std::string s = repr(r);
      decref(r);
      return s;
    } catch (const ProgramError& e) {
      return first_line(e.message);
    }
  };
  BOOST_TEST(call(0) == "t.tl:3:5: runtime error: cannot modify frozen value 'layers'");
  BOOST_TEST(call(1) == "t.tl:5:5: runtime error: cannot modify frozen value 'table'");
  BOOST_TEST(call(2) == "t.tl:7:5: runtime error: cannot modify frozen value 'count'");
  BOOST_TEST(call(3) == "1");  // and the VM runs again after errors
  BOOST_TEST(as_obj<ListObj>(layers)->items.size() == 1u);
  // The interpreter's own `+=` on a list checks too.
  BOOST_CHECK_THROW(list_extend(layers, layers), RuntimeError);
}

// The entry's CHECKARGS: a mismatch is the caller's error; with no caller there is no location.
BOOST_AUTO_TEST_CASE(entry_annotations_are_checked) {
  auto* module = new ModuleObj(intern("model"));
  Asm f("forward", 2, {"x"});
  f.c->annotated = true;
  Annotation a;
  a.kind = Annotation::Int;
  a.text = "int";
  f.c->param_annotations.push_back(a);
  f.c->return_annotation = a;
  f.op(1, ROp::CHECKARGS);
  f.op(2, ROp::MUL, 1, 0, f.rk(Value::small_int(3)));
  f.op(2, ROp::CHECKRETURN, 1);
  f.op(2, ROp::RETURN, 0, 1);
  Program p;
  p.entry = Value::object(new FunctionObj(f.done(), module));
  p.holds.push_back(Ref::steal(p.entry));
  RegisterVM vm(p);
  Value good = Value::small_int(7);
  Value r = vm.call_entry(&good, 1);
  BOOST_TEST(r.as_int() == 21);
  Ref bad = Ref::steal(make_str("no"));
  Value arg = bad.get();
  try {
    vm.call_entry(&arg, 1);
    BOOST_FAIL("expected an error");
  } catch (const ProgramError& e) {
    BOOST_TEST(e.message == "runtime error: forward: argument x: expected int, got str\n");
  }
  Value none = Value::none();
  BOOST_CHECK_THROW(vm.call_entry(&none, 0), ProgramError);  // missing argument
}

BOOST_AUTO_TEST_CASE(disassembly_lists_operands_and_constants) {
  Script s;
  uint32_t g_fib = s.global("fib");
  CodeObj* fib = fib_code(g_fib);
  std::string text = disassemble_register(fib, s.layout);
  BOOST_TEST(text.find("function fib <t.tl> (11 instructions)") != std::string::npos, text);
  BOOST_TEST(text.find("1 params, 4 registers") != std::string::npos, text);
  BOOST_TEST(text.find("\t0\t[3]\tIFLT        0 R0 K0\t; 2\n") != std::string::npos, text);
  BOOST_TEST(text.find("JMP         3\t; to 3") != std::string::npos, text);
  BOOST_TEST(text.find("GETGLOBAL   R1 G0\t; fib") != std::string::npos, text);
  BOOST_TEST(text.find("CALL        R1 1 0\n") != std::string::npos, text);
  decref(fib);
}

// KCALL: R0 := relu(x * 2) as one fused elementwise kernel; the listing spells it out.
BOOST_AUTO_TEST_CASE(kcall_runs_a_fused_kernel) {
  auto* module = new ModuleObj(intern("model"));
  Asm f("forward", 2, {"x"});
  KernelDesc d;
  d.kind = KernelDesc::Elementwise;
  d.arity = 1;
  EwStep mul;
  mul.kind = EwStep::Binary;
  mul.op = uint8_t(BinaryKind::Mul);
  mul.a = 0;
  mul.b = EwStep::kImmediate;
  mul.imm = 2.0f;
  EwStep relu;
  relu.kind = EwStep::Unary;
  relu.op = uint8_t(UnaryKind::Relu);
  relu.a = 1;
  d.steps = {mul, relu};
  f.c->kernels.push_back(d);
  f.op(1, ROp::KCALL, 1, 0, 0);
  f.op(1, ROp::RETURN, 0, 1);
  Program p;
  p.entry = Value::object(new FunctionObj(f.done(), module));
  p.holds.push_back(Ref::steal(p.entry));
  const CodeObj* code = as_obj<FunctionObj>(p.entry)->code;
  BOOST_TEST(disassemble_register(code).find("KCALL       R1 R0 KD0\t; " + describe_kernel(d)) != std::string::npos);
  RegisterVM vm(p);
  int64_t shape[] = {3};
  TensorObj* t = new_tensor(shape);
  t->data[0] = -1.0f;
  t->data[1] = 0.5f;
  t->data[2] = 2.0f;
  Ref x = Ref::steal(Value::object(t));
  Value arg = x.get();
  Ref r = Ref::steal(vm.call_entry(&arg, 1));
  BOOST_TEST(repr(r.get()) == "tensor([0., 1., 4.])");
}

// A loaded package's shape: immortal objects in `objects` (a cycle through a module, a tensor
// whose data is in weight_storage), freed by the destructor without leaks.
BOOST_AUTO_TEST_CASE(program_frees_its_immortal_objects) {
  auto* p = new Program();
  auto* storage = static_cast<float*>(std::aligned_alloc(64, 64));
  for (int i = 0; i < 4; ++i) storage[i] = float(i);
  p->weight_storage = std::shared_ptr<void>(storage, std::free);
  int64_t shape[] = {2, 2};
  TensorObj* t = new_tensor_external(shape, storage);
  auto* module = new ModuleObj(intern("model"));
  size_t w = size_t(module->slot("w")), forward = size_t(module->slot("forward"));
  Asm f("forward", 2, {"i"});
  f.op(1, ROp::GETGLOBAL, 1, uint32_t(w));
  f.op(1, ROp::GETITEM, 1, 1, 0);
  f.op(1, ROp::RETURN, 0, 1);
  auto* fn = new FunctionObj(f.done(), module);
  module->slots[w] = Value::object(t);
  module->slots[forward] = Value::object(fn);  // a cycle
  incref(module);
  Value list = make_list({Value::object(module), make_str("not interned")});
  freeze_value(list, "stuff");
  make_immortal(Value::object(fn));
  make_immortal(list);
  std::vector<Obj*> all;
  std::vector<Value> work{Value::object(fn), list};
  while (!work.empty()) {
    Value v = work.back();
    work.pop_back();
    if (!v.is_obj() || std::find(all.begin(), all.end(), v.as_obj()) != all.end()) continue;
    Obj* o = v.as_obj();
    if (o->type == ObjType::Str && static_cast<StrObj*>(o)->interned) continue;
    if (o->type == ObjType::Dict) continue;  // left out: found by the destructor all the same
    all.push_back(o);
    for_each_ref(o, [&](Value c) { work.push_back(c); });
  }
  p->objects = all;
  p->entry = Value::object(fn);
  {
    RegisterVM vm(*p);
    Value one = Value::small_int(1);
    Value row = vm.call_entry(&one, 1);
    BOOST_TEST(repr(row) == "tensor([2., 3.])");
    decref(row);
  }
  BOOST_TEST(frozen_name(list.as_obj()) != nullptr);
  const Obj* gone = list.as_obj();
  delete p;
  BOOST_TEST(frozen_name(gone) == nullptr);
}

// Many threads run one Program at once, each with its own VM.
BOOST_AUTO_TEST_CASE(threads_share_one_program) {
  auto* module = new ModuleObj(intern("model"));
  uint32_t g_fib = uint32_t(module->slot("fib"));
  CodeObj* fib = fib_code(g_fib);
  auto* fn = new FunctionObj(fib, module);
  module->slots[g_fib] = Value::object(fn);
  Program p;
  p.entry = Value::object(fn);
  make_immortal(p.entry);
  p.objects = {fn, fib, module, module->names};
  for (Value k : fib->consts)
    if (k.is_obj()) p.objects.push_back(k.as_obj());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&p, &failures, t] {
      RegisterVM vm(p);
      for (int i = 0; i < 20; ++i) {
        Value n = Value::small_int(15 + (t + i) % 5);
        Value r = vm.call_entry(&n, 1);
        static const int64_t kFib[] = {610, 987, 1597, 2584, 4181};
        if (r.as_int() != kFib[(t + i) % 5]) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  BOOST_TEST(failures.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
