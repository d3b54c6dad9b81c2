// Scope resolution: slots, cells, free variables, globals, and placement errors.
#include <boost/test/unit_test.hpp>

#include "../../compiler/parse.h"
#include "../../compiler/resolver.h"

using namespace tvm;
using namespace tvm::ast;

namespace {

struct Resolved {
  SourceFile src;
  Diagnostics diag;
  std::unique_ptr<Module> m;
  explicit Resolved(const std::string& text) : src("t.tl", text), diag(src) {
    m = parse_module(src, diag);
    BOOST_REQUIRE(!diag.has_errors());
    resolve(*m, diag);
  }
  FunctionDef& fn(size_t i) { return as<FunctionDef>(*m->body.at(i)); }
  std::string first_error() { return diag.has_errors() ? diag.errors().front().message : ""; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(resolver)

BOOST_AUTO_TEST_CASE(params_then_locals_in_order) {
  Resolved r("def f(a, b, *rest):\n    c = a\n    for d in rest:\n        pass\n");
  auto& info = r.fn(0).scope;
  BOOST_TEST(info.nslots == 5);
  BOOST_TEST((info.slot_names == std::vector<std::string>{"a", "b", "rest", "c", "d"}));
  BOOST_TEST(info.cell_slots.empty());
}

BOOST_AUTO_TEST_CASE(captured_locals_become_cells) {
  Resolved r("def f(x):\n    y = 1\n    def g():\n        return x + y\n    return g\n");
  auto& f = r.fn(0);
  BOOST_TEST((f.scope.cell_slots == std::vector<int>{0, 1}));
  auto& g = as<FunctionDef>(*f.body.at(1));
  BOOST_TEST(g.scope.freevars.size() == 2u);
  BOOST_TEST(g.scope.freevars[0].from_parent_cell);
}

BOOST_AUTO_TEST_CASE(free_variables_pass_through_middle_functions) {
  Resolved r("def a():\n    v = 1\n    def b():\n        def c():\n            return v\n        return c\n    return b\n");
  auto& b = as<FunctionDef>(*r.fn(0).body.at(1));
  BOOST_TEST(b.scope.freevars.size() == 1u);
  auto& c = as<FunctionDef>(*b.body.at(0));
  BOOST_TEST(c.scope.freevars.size() == 1u);
  BOOST_TEST(!c.scope.freevars[0].from_parent_cell);
}

BOOST_AUTO_TEST_CASE(global_declaration_binds_globally) {
  Resolved r("n = 0\ndef f():\n    global n\n    n = 1\n");
  BOOST_TEST(r.fn(1).scope.nslots == 0);
}

BOOST_AUTO_TEST_CASE(module_names_are_global) {
  Resolved r("x = 1\nfor i in range(3):\n    x = i\n");
  BOOST_TEST(!r.diag.has_errors());
  auto& a = as<AssignStmt>(*r.m->body.at(0));
  BOOST_TEST(int(as<NameExpr>(*a.targets[0]).binding.kind) == int(BindingKind::Global));
}

BOOST_AUTO_TEST_CASE(placement_errors) {
  BOOST_TEST(Resolved("break\n").first_error() == "'break' outside loop");
  BOOST_TEST(Resolved("while 1:\n    def f():\n        continue\n").first_error() == "'continue' not properly in loop");
  BOOST_TEST(Resolved("return 1\n").first_error() == "'return' outside function");
  BOOST_TEST(Resolved("def f():\n    nonlocal q\n").first_error() == "no binding for nonlocal 'q' found");
  BOOST_TEST(Resolved("nonlocal q\n").first_error() == "nonlocal declaration not allowed at module level");
  BOOST_TEST(Resolved("def f(a):\n    global a\n").first_error() == "name 'a' is parameter and global");
}

BOOST_AUTO_TEST_CASE(comprehension_scope_and_first_iterable) {
  Resolved r("def f(xs):\n    return [x + y for x in xs for y in xs]\n");
  auto& f = r.fn(0);
  BOOST_TEST((f.scope.cell_slots == std::vector<int>{0}));  // xs is used by the inner `for`
}

BOOST_AUTO_TEST_SUITE_END()
