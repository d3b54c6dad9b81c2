// The stack VM end to end: source -> resolver -> emitter -> VM, output captured.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "../../vm/stack_vm.h"
#include "run_tl.h"

using namespace tvm;

namespace {

using test::first_line;
using test::Run;
using test::run;

}  // namespace

BOOST_AUTO_TEST_SUITE(vm)

BOOST_AUTO_TEST_CASE(arithmetic_and_print) {
  BOOST_TEST(run("print(1 + 2 * 3, 7 // 2, -7 // 2, 7 % -3, 2 ** 10, 1 / 4)").out == "7 3 -4 -2 1024 0.25\n");
}

BOOST_AUTO_TEST_CASE(int_fast_path_overflows_into_boxed_ints) {
  // 2**47 leaves the inline range; results must stay exact up to int64.
  BOOST_TEST(run("x = 140737488355327\nprint(x + 1, x * 2, -x - 2)").out == "140737488355328 281474976710654 -140737488355329\n");
  BOOST_TEST(first_line(run("x = 9223372036854775807\ny = x + 1").err) == "t.tl:2:5: runtime error: integer overflow");
}

BOOST_AUTO_TEST_CASE(functions_defaults_varargs_keywords) {
  auto r = run(
      "def f(a, b=2, *rest):\n    return (a, b, rest)\n"
      "print(f(1), f(1, 3), f(1, 3, 4, 5), f(b=7, a=0), f(*[9, 8, 7]))\n");
  BOOST_TEST(r.out == "(1, 2, ()) (1, 3, ()) (1, 3, (4, 5)) (0, 7, ()) (9, 8, (7,))\n");
}

BOOST_AUTO_TEST_CASE(closures_share_cells_by_reference) {
  auto r = run(
      "def counter():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n    return inc\n"
      "c = counter()\nc()\nc()\nprint(c())\n");
  BOOST_TEST(r.out == "3\n");
}

BOOST_AUTO_TEST_CASE(loops_break_continue_else) {
  auto r = run(
      "t = 0\nfor i in range(10):\n    if i == 7:\n        break\n    if i % 2:\n        continue\n    t += i\nelse:\n    t = -1\n"
      "print(t)\nwhile False:\n    pass\nelse:\n    print('else')\n");
  BOOST_TEST(r.out == "12\nelse\n");
}

BOOST_AUTO_TEST_CASE(comprehensions_have_their_own_scope) {
  auto r = run("x = 'outer'\nys = [x * 2 for x in range(4) if x != 2]\nd = {k: k * k for k in ys}\nprint(x, ys, d)\n");
  BOOST_TEST(r.out == "outer [0, 2, 6] {0: 0, 2: 4, 6: 36}\n");
}

BOOST_AUTO_TEST_CASE(chained_comparisons_evaluate_once) {
  auto r = run("def f(x):\n    print('f')\n    return x\nprint(1 < f(2) < 3, 1 < f(0) < 3)\n");
  BOOST_TEST(r.out == "f\nf\nTrue False\n");
}

BOOST_AUTO_TEST_CASE(runtime_error_has_location_and_traceback) {
  auto r = run("def g(x):\n    return 1 // x\ndef f():\n    return g(0)\nf()\n");
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(r.err ==
             "t.tl:2:12: runtime error: division by zero\n"
             "traceback (most recent call first):\n"
             "  in g at t.tl:2\n  in f at t.tl:4\n  in <module> at t.tl:5\n");
}

BOOST_AUTO_TEST_CASE(recursion_limit_is_an_error) {
  auto r = run("def f(n):\n    return f(n + 1)\nf(0)\n");
  BOOST_TEST(first_line(r.err) == "t.tl:2:12: runtime error: maximum recursion depth exceeded");
}

BOOST_AUTO_TEST_CASE(unassigned_local) {
  auto r = run("x = 1\ndef f():\n    print(x)\n    x = 2\nf()\n");
  BOOST_TEST(first_line(r.err) == "t.tl:3:11: runtime error: local variable 'x' referenced before assignment");
}

BOOST_AUTO_TEST_CASE(annotations_checked_at_the_call) {
  auto r = run("def f(x: int) -> str:\n    return x\nf(1)\n");
  BOOST_TEST(first_line(r.err) == "t.tl:2:5: runtime error: f: return value: expected str, got int");
  r = run("def f(x: float):\n    return x\nprint(f(1))\nf('a')\n");
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(first_line(r.err) == "t.tl:4:1: runtime error: f: argument x: expected float, got str");
}

BOOST_AUTO_TEST_CASE(list_inplace_add_is_seen_by_aliases) {
  BOOST_TEST(run("a = [1]\nb = a\na += [2]\nprint(b)\n").out == "[1, 2]\n");
}

BOOST_AUTO_TEST_CASE(fstrings_and_methods) {
  BOOST_TEST(run("x = 3.14159\nprint(f'{x:.2f}|{\"a\"!r}|{12:>4}|', 'a,b'.split(','))").out == "3.14|'a'|  12| ['a', 'b']\n");
}

BOOST_AUTO_TEST_CASE(native_calls_back_into_tl) {
  BOOST_TEST(run("print(sorted([3, 1, 2], key=lambda v: -v))").out == "[3, 2, 1]\n");
}

BOOST_AUTO_TEST_CASE(compile_errors_stop_before_running) {
  auto r = run("print('no')\nbreak\n");
  BOOST_TEST(r.out == "");
  BOOST_TEST(first_line(r.err) == "t.tl:2:1: error: 'break' outside loop");
}

BOOST_AUTO_TEST_CASE(disassembly_names_operands) {
  StackVM vm;
  SourceFile file("t.tl", "def f(a):\n    return a + 1\n");
  auto* m = new ModuleObj(intern("__main__"));
  Diagnostics diag(file);
  CodeObj* code = compile_source(file, m, diag);
  BOOST_REQUIRE(code);
  std::string text = disassemble(code, &file, m);
  BOOST_TEST(text.find("STORE_GLOBAL") != std::string::npos);
  BOOST_TEST(text.find("(f)") != std::string::npos);
  BOOST_TEST(text.find("LOAD_LOCAL_ADD_INT  0 1 (a)\n") != std::string::npos);
  BOOST_TEST(text.find("2:     return a + 1") != std::string::npos);
  decref(code);
  decref(m);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gc)

BOOST_AUTO_TEST_CASE(self_referencing_list_is_collected) {
  collect_cycles();
  Value l = make_list({});
  incref(l);
  as_obj<ListObj>(l)->items.push_back(l);  // l contains itself
  decref(l);                               // unreachable now, but its count is 1
  BOOST_TEST(collect_cycles() == 1u);
}

BOOST_AUTO_TEST_CASE(reachable_cycles_survive) {
  collect_cycles();
  Value l = make_list({});
  incref(l);
  as_obj<ListObj>(l)->items.push_back(l);
  BOOST_TEST(collect_cycles() == 0u);  // still held from here
  BOOST_TEST(as_obj<ListObj>(l)->items.size() == 1u);
  decref(l);
  BOOST_TEST(collect_cycles() == 1u);
}

BOOST_AUTO_TEST_CASE(recursive_closures_made_in_a_loop_are_freed) {
  // Each call leaves a cell <-> closure cycle behind; the periodic collector must free them
  // while the loop runs (the ASan build's leak check confirms nothing is left at the end).
  auto r = run(
      "def make():\n    def rec(n):\n        return rec if n == 0 else rec(n - 1)\n    return rec(3)\n"
      "for i in range(30000):\n    make()\nprint('ok')\n");
  BOOST_TEST(r.out == "ok\n");
  BOOST_TEST(collect_cycles() == 0u);  // nothing left over once the VM is gone
}

// Each thread collects only what it made; immortal (shared) objects are in no thread's list.
BOOST_AUTO_TEST_CASE(each_thread_collects_its_own_cycles) {
  collect_cycles();
  Value shared = make_list({});
  as_obj<ListObj>(shared)->items.push_back(make_list({}));
  make_immortal(shared);
  Value mine = make_list({});
  incref(mine);
  as_obj<ListObj>(mine)->items.push_back(mine);  // a cycle this thread made and still holds
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&failures, shared] {
      for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 10; ++i) {
          Value l = make_list({});
          incref(l);
          as_obj<ListObj>(l)->items.push_back(l);
          incref(shared);  // immortal: counts are never written
          as_obj<ListObj>(l)->items.push_back(shared);
          decref(l);
        }
        if (collect_cycles() != 10) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(collect_cycles() == 0u);  // this thread's cycle is still held; the others' are gone
  BOOST_TEST(as_obj<ListObj>(shared)->items.size() == 1u);
  decref(mine);
  BOOST_TEST(collect_cycles() == 1u);
  // Immortal objects are never freed by counting; their owner frees them (here, the test).
  as_obj<ListObj>(shared)->items[0].as_obj()->refcount = 1;
  shared.as_obj()->refcount = 1;
  decref(shared);
}

BOOST_AUTO_TEST_SUITE_END()
