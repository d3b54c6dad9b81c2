// The parser: precedence and associativity, every statement form, f-strings,
// comprehensions, tensor syntax, locations, every parser error, recovery and limits.
#include <boost/test/unit_test.hpp>

#include <string>

#include "../../compiler/parse.h"

namespace {

std::string errors_of(const tvm::Diagnostics& diag) {
  std::string errs;
  for (auto& d : diag.errors())
    errs += std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message + "\n";
  return errs;
}

// The dump of a text that must parse without errors.
std::string parse(const std::string& text) {
  tvm::SourceFile src("t.tl", text);
  tvm::Diagnostics diag(src);
  auto m = tvm::parse_module(src, diag);
  BOOST_CHECK_MESSAGE(!diag.has_errors(), "unexpected errors in <" + text + ">: " + errors_of(diag));
  return tvm::ast::dump(*m);
}

// The errors of a text, "LINE:COL: MESSAGE" one per line, in the order reported.
std::string parse_errors(const std::string& text) {
  tvm::SourceFile src("t.tl", text);
  tvm::Diagnostics diag(src);
  auto m = tvm::parse_module(src, diag);
  return errors_of(diag);
}

std::unique_ptr<tvm::ast::Module> parse_module(const std::string& text) {
  tvm::SourceFile src("t.tl", text);
  tvm::Diagnostics diag(src);
  auto m = tvm::parse_module(src, diag);
  BOOST_CHECK_MESSAGE(!diag.has_errors(), "unexpected errors: " + errors_of(diag));
  return m;
}

using namespace tvm::ast;

}  // namespace

BOOST_AUTO_TEST_SUITE(parser)

// ---------------------------------------------------------------- precedence

BOOST_AUTO_TEST_CASE(arithmetic_precedence) {
  BOOST_TEST(parse("1 + 2 * 3 - 4") == "(- (+ 1 (* 2 3)) 4)");
  BOOST_TEST(parse("(1 + 2) * 3") == "(* (+ 1 2) 3)");
  BOOST_TEST(parse("a / b // c % d @ e") == "(@ (% (// (/ a b) c) d) e)");
  BOOST_TEST(parse("a - b - c") == "(- (- a b) c)");
}

BOOST_AUTO_TEST_CASE(power_binds_right_and_tighter_than_unary) {
  BOOST_TEST(parse("-2**2") == "(- (** 2 2))");
  BOOST_TEST(parse("2**-1") == "(** 2 (- 1))");
  BOOST_TEST(parse("2**3**2") == "(** 2 (** 3 2))");
  BOOST_TEST(parse("-x.y**2") == "(- (** (. x y) 2))");
  BOOST_TEST(parse("~-+x") == "(~ (- (+ x)))");
}

BOOST_AUTO_TEST_CASE(bitwise_and_shift_precedence) {
  BOOST_TEST(parse("a | b ^ c & d << e + f") == "(| a (^ b (& c (<< d (+ e f)))))");
  BOOST_TEST(parse("a << b >> c") == "(>> (<< a b) c)");
  BOOST_TEST(parse("a & b | c & d") == "(| (& a b) (& c d))");
}

BOOST_AUTO_TEST_CASE(boolean_precedence) {
  BOOST_TEST(parse("a or b and not c") == "(or a (and b (not c)))");
  BOOST_TEST(parse("not a == b") == "(not (cmp a == b))");
  BOOST_TEST(parse("a or b or c") == "(or (or a b) c)");
  BOOST_TEST(parse("not not a") == "(not (not a))");
}

BOOST_AUTO_TEST_CASE(comparisons_chain) {
  BOOST_TEST(parse("a < b <= c") == "(cmp a < b <= c)");
  BOOST_TEST(parse("a == b != c > d >= e") == "(cmp a == b != c > d >= e)");
  BOOST_TEST(parse("a in b not in c is d is not e") == "(cmp a in b not in c is d is not e)");
  BOOST_TEST(parse("(a < b) < c") == "(cmp (cmp a < b) < c)");
  BOOST_TEST(parse("a | b < c + d") == "(cmp (| a b) < (+ c d))");
}

BOOST_AUTO_TEST_CASE(conditional_and_lambda_precedence) {
  BOOST_TEST(parse("a if b else c") == "(ifexp b a c)");
  BOOST_TEST(parse("a if b else c if d else e") == "(ifexp b a (ifexp d c e))");
  BOOST_TEST(parse("a or b if c and d else e") == "(ifexp (and c d) (or a b) e)");
  BOOST_TEST(parse("lambda: a if b else c") == "(lambda () (ifexp b a c))");
  BOOST_TEST(parse("f = lambda x, y=1, *r: x + y") == "(= f (lambda (x (y = 1) *r) (+ x y)))");
  BOOST_TEST(parse("lambda x: lambda y: x") == "(lambda (x) (lambda (y) x))");
}

BOOST_AUTO_TEST_CASE(postfix_operations) {
  BOOST_TEST(parse("a.b(c)[d].e") == "(. ([] (call (. a b) c) d) e)");
  BOOST_TEST(parse("f()()") == "(call (call f))");
  BOOST_TEST(parse("-a[0]") == "(- ([] a 0))");
}

// ---------------------------------------------------------------- atoms

BOOST_AUTO_TEST_CASE(literals) {
  BOOST_TEST(parse("1; 2.5; 'a'; True; False; None") == "1\n2.5\n\"a\"\nTrue\nFalse\nNone");
}

BOOST_AUTO_TEST_CASE(tuples) {
  BOOST_TEST(parse("()") == "(tuple)");
  BOOST_TEST(parse("(1,)") == "(tuple 1)");
  BOOST_TEST(parse("(1)") == "1");
  BOOST_TEST(parse("1, 2") == "(tuple 1 2)");
  BOOST_TEST(parse("1,") == "(tuple 1)");
  BOOST_TEST(parse("(1, 2, *a)") == "(tuple 1 2 (* a))");
  BOOST_TEST(parse("x = 1, 2") == "(= x (tuple 1 2))");
}

BOOST_AUTO_TEST_CASE(lists_and_dicts) {
  BOOST_TEST(parse("[]") == "(list)");
  BOOST_TEST(parse("[1, 2,]") == "(list 1 2)");
  BOOST_TEST(parse("[*a, 1]") == "(list (* a) 1)");
  BOOST_TEST(parse("{}") == "(dict)");
  BOOST_TEST(parse("{'a': 1, 2: [3],}") == "(dict (\"a\" 1) (2 (list 3)))");
}

BOOST_AUTO_TEST_CASE(list_comprehensions) {
  BOOST_TEST(parse("[x * x for x in xs]") == "(listcomp (* x x) (for x xs))");
  BOOST_TEST(parse("[e for x in it if c for y in it2]") == "(listcomp e (for x it (if c)) (for y it2))");
  BOOST_TEST(parse("[a for a, b in p if a if b]") == "(listcomp a (for (tuple a b) p (if a) (if b)))");
  BOOST_TEST(parse("[a if b else c for x in y]") == "(listcomp (ifexp b a c) (for x y))");
  BOOST_TEST(parse("[x for x in a or b if x]") == "(listcomp x (for x (or a b) (if x)))");
}

BOOST_AUTO_TEST_CASE(dict_comprehensions) {
  BOOST_TEST(parse("{k: v for k, v in d.items()}") == "(dictcomp k v (for (tuple k v) (call (. d items))))");
}

BOOST_AUTO_TEST_CASE(comprehension_scope) {
  auto m = parse_module("[x for x in y]\n{k: 1 for k in y}");
  auto& l = as<CompExpr>(*as<ExprStmt>(*m->body[0]).value);
  BOOST_REQUIRE(l.scope);
  BOOST_TEST(l.scope->name == "<listcomp>");
  BOOST_TEST(l.scope->params.empty());
  BOOST_TEST(l.scope->body.empty());
  auto& d = as<CompExpr>(*as<ExprStmt>(*m->body[1]).value);
  BOOST_REQUIRE(d.scope);
  BOOST_TEST(d.scope->name == "<dictcomp>");
  BOOST_TEST(int(d.kind) == int(ExprKind::DictComp));
}

BOOST_AUTO_TEST_CASE(generator_argument_is_a_list_comprehension) {
  BOOST_TEST(parse("sum(x*x for x in xs)") == "(call sum (listcomp (* x x) (for x xs)))");
  BOOST_TEST(parse("sum((x for x in xs), 1)") == "(call sum (listcomp x (for x xs)) 1)");
}

// ---------------------------------------------------------------- calls, subscripts

BOOST_AUTO_TEST_CASE(calls) {
  BOOST_TEST(parse("f(a, *b, c, k=1, m=2)") == "(call f a (* b) c (kw k 1) (kw m 2))");
  BOOST_TEST(parse("f(x, axis=1,)") == "(call f x (kw axis 1))");
  BOOST_TEST(parse("f(a=1, *b)") == "(call f (* b) (kw a 1))");
  BOOST_TEST(parse("print(*args, sep='')") == "(call print (* args) (kw sep \"\"))");
}

BOOST_AUTO_TEST_CASE(subscripts_and_slices) {
  BOOST_TEST(parse("x[i]") == "([] x i)");
  BOOST_TEST(parse("x[i:j:k]") == "([] x (: i j k))");
  BOOST_TEST(parse("x[:]") == "([] x (: _ _ _))");
  BOOST_TEST(parse("x[::2]") == "([] x (: _ _ 2))");
  BOOST_TEST(parse("x[1:]") == "([] x (: 1 _ _))");
  BOOST_TEST(parse("x[:-1]") == "([] x (: _ (- 1) _))");
  BOOST_TEST(parse("x[a:b:]") == "([] x (: a b _))");
  BOOST_TEST(parse("x[i, j:k]") == "([] x (tuple i (: j k _)))");
  BOOST_TEST(parse("x[i,]") == "([] x (tuple i))");
}

BOOST_AUTO_TEST_CASE(tensor_syntax) {
  BOOST_TEST(parse("y = x @ w.T + b") == "(= y (+ (@ x (. w T)) b))");
  BOOST_TEST(parse("x[1:, 0]") == "([] x (tuple (: 1 _ _) 0))");
  BOOST_TEST(parse("relu(x @ w.T + b).sum(axis=1)") == "(call (. (call relu (+ (@ x (. w T)) b)) sum) (kw axis 1))");
  BOOST_TEST(parse("a @= b") == "(@= a b)");
  BOOST_TEST(parse("def forward(x: Tensor[B, 512], k: int) -> Tensor[B, 2]:\n    return x") ==
             "(def forward ((x : ([] Tensor (tuple B 512))) (k : int)) -> ([] Tensor (tuple B 2)) (return x))");
}

// ---------------------------------------------------------------- strings

BOOST_AUTO_TEST_CASE(fstrings) {
  BOOST_TEST(parse("f'a{x + 1}b{y!r}{z:>10}'") == "(f \"a\" {(+ x 1)} \"b\" {y!r} {z:>10})");
  BOOST_TEST(parse("f'{a, b}'") == "(f {(tuple a b)})");
  BOOST_TEST(parse("f'{x if c else y}{d[\"k\"]}'") == "(f {(ifexp c x y)} {([] d \"k\")})");
  BOOST_TEST(parse("f''") == "(f)");
  BOOST_TEST(parse("f'{{}}'") == "(f \"{}\")");
  BOOST_TEST(parse("f'{f\"{x}\"}'") == "(f {(f {x})})");
  BOOST_TEST(parse("f'''{a\n   + b}'''") == "(f {(+ a b)})");  // newlines inside a field are ignored
}

BOOST_AUTO_TEST_CASE(fstring_concatenation) {
  BOOST_TEST(parse("'a' f'{x}' 'b'") == "(f \"a\" {x} \"b\")");
  BOOST_TEST(parse("('a'\n 'b')") == "\"ab\"");
  BOOST_TEST(parse("x = ('a'\n f'{y}'\n 'c')") == "(= x (f \"a\" {y} \"c\"))");
}

BOOST_AUTO_TEST_CASE(fstring_expression_locations) {
  auto m = parse_module("s = 1\nt = f'ab{xy + 1}'\nu = f'''\n  {z}'''");
  auto& f = as<FStringExpr>(*as<AssignStmt>(*m->body[1]).value);
  BOOST_REQUIRE(f.parts.size() == 2);
  auto& add = as<BinOpExpr>(*f.parts[1].expr);
  BOOST_TEST(add.loc.line == 2);
  BOOST_TEST(add.loc.col == 10);
  BOOST_TEST(add.right->loc.col == 15);
  auto& g = as<FStringExpr>(*as<AssignStmt>(*m->body[2]).value);
  BOOST_REQUIRE(g.parts.size() == 2);
  BOOST_TEST(g.parts[1].expr->loc.line == 4);
  BOOST_TEST(g.parts[1].expr->loc.col == 4);
}

BOOST_AUTO_TEST_CASE(fstring_errors) {
  BOOST_TEST(parse_errors("x = f'{a b}'") == "1:10: invalid syntax\n");
  BOOST_TEST(parse_errors("x = f'}'") == "1:7: f-string: single '}' is not allowed\n");
  BOOST_TEST(parse_errors("x = f'{}'") == "1:7: f-string: empty expression not allowed\n");
  BOOST_TEST(parse_errors("x = f'{)}'") == "1:8: invalid syntax\n");
  BOOST_TEST(parse_errors("x = f'{a'") == "1:7: f-string: expecting '}'\n");
}

// ---------------------------------------------------------------- statements

BOOST_AUTO_TEST_CASE(assignments) {
  BOOST_TEST(parse("x = 1") == "(= x 1)");
  BOOST_TEST(parse("a = b = 1") == "(= a b 1)");
  BOOST_TEST(parse("a, b = b, a") == "(= (tuple a b) (tuple b a))");
  BOOST_TEST(parse("(a, b) = [c, d] = e") == "(= (tuple a b) (list c d) e)");
  BOOST_TEST(parse("a, (b, [c, d]) = e") == "(= (tuple a (tuple b (list c d))) e)");
  BOOST_TEST(parse("l[i] = v; o.a = v; d[k][j] = 0") == "(= ([] l i) v)\n(= (. o a) v)\n(= ([] ([] d k) j) 0)");
  BOOST_TEST(parse("x = *a, b") == "(= x (tuple (* a) b))");
}

BOOST_AUTO_TEST_CASE(augmented_assignments) {
  BOOST_TEST(parse("a += 1; a -= 1; a *= 1; a /= 1; a //= 1; a %= 1; a **= 1") ==
             "(+= a 1)\n(-= a 1)\n(*= a 1)\n(/= a 1)\n(//= a 1)\n(%= a 1)\n(**= a 1)");
  BOOST_TEST(parse("a @= 1; a &= 1; a |= 1; a ^= 1; a <<= 1; a >>= 1") ==
             "(@= a 1)\n(&= a 1)\n(|= a 1)\n(^= a 1)\n(<<= a 1)\n(>>= a 1)");
  BOOST_TEST(parse("x[i] += 1, 2") == "(+= ([] x i) (tuple 1 2))");
  BOOST_TEST(parse("o.n -= 1") == "(-= (. o n) 1)");
}

BOOST_AUTO_TEST_CASE(if_elif_else) {
  BOOST_TEST(parse("if a:\n    x\nelif b:\n    y\nelif c:\n    z\nelse:\n    w") ==
             "(if a x else (if b y else (if c z else w)))");
  BOOST_TEST(parse("if a:\n    pass\n") == "(if a (pass))");
  BOOST_TEST(parse("if a: x = 1; y = 2\nelse: z = 3") == "(if a (= x 1) (= y 2) else (= z 3))");
}

BOOST_AUTO_TEST_CASE(elif_location) {
  auto m = parse_module("if a:\n    x\nelif b:\n    y");
  auto& outer = as<IfStmt>(*m->body[0]);
  BOOST_REQUIRE(outer.orelse.size() == 1);
  BOOST_TEST(outer.orelse[0]->loc.line == 3);
  BOOST_TEST(outer.orelse[0]->loc.col == 1);
}

BOOST_AUTO_TEST_CASE(while_loops) {
  BOOST_TEST(parse("while x < 10:\n    x += 1\n    if x: break\n    continue") ==
             "(while (cmp x < 10) (+= x 1) (if x (break)) (continue))");
  BOOST_TEST(parse("while a: pass\nelse: b") == "(while a (pass) else b)");
}

BOOST_AUTO_TEST_CASE(for_loops) {
  BOOST_TEST(parse("for i in range(10):\n    print(i)") == "(for i (call range 10) (call print i))");
  BOOST_TEST(parse("for a, b in x, y: pass") == "(for (tuple a b) (tuple x y) (pass))");
  BOOST_TEST(parse("for (a, b), c in z: pass\nelse: pass") == "(for (tuple (tuple a b) c) z (pass) else (pass))");
  BOOST_TEST(parse("for x in a if c else b: pass") == "(for x (ifexp c a b) (pass))");
  BOOST_TEST(parse("for x[0] in y: pass") == "(for ([] x 0) y (pass))");
}

BOOST_AUTO_TEST_CASE(function_definitions) {
  BOOST_TEST(parse("def f(): pass") == "(def f () (pass))");
  BOOST_TEST(parse("def f(a, b=1, *args,):\n    return a") == "(def f (a (b = 1) *args) (return a))");
  BOOST_TEST(parse("def f(*args: int) -> None: return") == "(def f ((*args : int)) -> None (return))");
  BOOST_TEST(parse("def f(x: float = 1.0): return x, 1") == "(def f ((x : float = 1.0)) (return (tuple x 1)))");
  BOOST_TEST(parse("def f():\n    def g():\n        nonlocal x\n    global y, z") ==
             "(def f () (def g () (nonlocal x)) (global y z))");
}

BOOST_AUTO_TEST_CASE(function_fields) {
  auto m = parse_module("def f(a, *rest: int):\n    return a");
  auto& f = as<FunctionDef>(*m->body[0]);
  BOOST_TEST(f.name == "f");
  BOOST_TEST(!f.is_lambda);
  BOOST_TEST(f.vararg == "rest");
  BOOST_TEST(f.vararg_loc.col == 11);
  BOOST_TEST(f.vararg_annotation != nullptr);
  BOOST_TEST(f.params.size() == 1u);
  BOOST_TEST(f.params[0].loc.col == 7);
}

BOOST_AUTO_TEST_CASE(lambda_fields) {
  auto m = parse_module("g = lambda a, b=2: a");
  auto& l = as<LambdaExpr>(*as<AssignStmt>(*m->body[0]).value);
  BOOST_REQUIRE(l.fn);
  BOOST_TEST(l.fn->is_lambda);
  BOOST_TEST(l.fn->name == "<lambda>");
  BOOST_TEST(l.fn->params.size() == 2u);
  BOOST_REQUIRE(l.fn->body.size() == 1u);
  BOOST_TEST(int(l.fn->body[0]->kind) == int(StmtKind::Return));
}

BOOST_AUTO_TEST_CASE(simple_statements) {
  BOOST_TEST(parse("pass; return; return 1, 2") == "(pass)\n(return)\n(return (tuple 1 2))");
  BOOST_TEST(parse("assert x\nassert x > 0, 'msg'") == "(assert x)\n(assert (cmp x > 0) \"msg\")");
  BOOST_TEST(parse("global a\nnonlocal b, c") == "(global a)\n(nonlocal b c)");
}

BOOST_AUTO_TEST_CASE(imports) {
  BOOST_TEST(parse("import a") == "(import a)");
  BOOST_TEST(parse("import a as b, c") == "(import (a as b) c)");
  BOOST_TEST(parse("from m import a, b as c") == "(from m a (b as c))");
  BOOST_TEST(parse("from m import (a,\n    b as c,\n)") == "(from m a (b as c))");
}

BOOST_AUTO_TEST_CASE(blank_lines_comments_and_semicolons) {
  BOOST_TEST(parse("\n# c\nx = 1;\n\n   # indented comment\ny = 2  # trailing\n") == "(= x 1)\n(= y 2)");
  BOOST_TEST(parse("") == "");
}

// ---------------------------------------------------------------- locations

BOOST_AUTO_TEST_CASE(node_locations_are_first_tokens) {
  auto m = parse_module("x = 1\nif y:\n    z = (a + b) * c\n");
  BOOST_TEST(m->body[0]->loc.line == 1);
  BOOST_TEST(m->body[0]->loc.col == 1);
  auto& i = as<IfStmt>(*m->body[1]);
  auto& a = as<AssignStmt>(*i.body[0]);
  BOOST_TEST(a.loc.line == 3);
  BOOST_TEST(a.loc.col == 5);
  auto& mul = as<BinOpExpr>(*a.value);
  BOOST_TEST(mul.loc.col == 9);         // the '('
  BOOST_TEST(mul.left->loc.col == 10);  // a + b starts at 'a'
  BOOST_TEST(mul.right->loc.col == 19);
}

BOOST_AUTO_TEST_CASE(call_and_keyword_locations) {
  auto m = parse_module("print(x, sep='')");
  auto& c = as<CallExpr>(*as<ExprStmt>(*m->body[0]).value);
  BOOST_TEST(c.loc.col == 1);
  BOOST_TEST(c.args[0]->loc.col == 7);
  BOOST_TEST(c.keywords[0].loc.col == 10);
  BOOST_TEST(c.keywords[0].name == "sep");
}

// ---------------------------------------------------------------- errors

BOOST_AUTO_TEST_CASE(invalid_syntax_at_offending_token) {
  BOOST_TEST(parse_errors("x = = 1") == "1:5: invalid syntax\n");
  BOOST_TEST(parse_errors("x = (1 2)") == "1:8: invalid syntax\n");
  BOOST_TEST(parse_errors("if x\n    y") == "1:5: invalid syntax\n");  // and no "unexpected indent"
  BOOST_TEST(parse_errors("if x: pass\n    y\nz = 1 1") == "2:5: unexpected indent\n3:7: invalid syntax\n");
  BOOST_TEST(parse_errors("def f(**k): pass") == "1:7: invalid syntax\n");
  BOOST_TEST(parse_errors("{1, 2}") == "1:3: invalid syntax\n");
  BOOST_TEST(parse_errors("x = [1, 2") == "1:10: invalid syntax\n");
  BOOST_TEST(parse_errors("f(x for x in y, 1)") == "1:15: invalid syntax\n");
  BOOST_TEST(parse_errors("x: int = 1") == "1:2: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(missing_indented_block) {
  BOOST_TEST(parse_errors("if x:\npass") == "2:1: expected an indented block\n");
  BOOST_TEST(parse_errors("def f():") == "1:9: expected an indented block\n");
  BOOST_TEST(parse_errors("while x:\n# nothing\n") == "1:9: expected an indented block\n");
  // The blocks around it still close where they should: no error at the end of the file.
  BOOST_TEST(parse_errors("def f():\n    def g():\n    return g\nx = f(\n) 1\n") ==
             "3:5: expected an indented block\n5:3: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(orphan_clauses_of_a_broken_header_are_skipped) {
  BOOST_TEST(parse_errors("if x y:\n    a\nelif z:\n    b\nelse:\n    c\nd = = 1\n") ==
             "1:6: invalid syntax\n7:5: invalid syntax\n");
  BOOST_TEST(parse_errors("while x y: pass\nelse: pass\n") == "1:9: invalid syntax\n");
  // A stray else after a complete statement is an error of its own.
  BOOST_TEST(parse_errors("x = 1\nelse: pass\n") == "2:1: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(lexical_error_keeps_the_statement_before_it) {
  tvm::SourceFile src("t.tl", "if a:\n    b = 1\n'open\nc = 2\n");
  tvm::Diagnostics diag(src);
  auto m = tvm::parse_module(src, diag);
  BOOST_TEST(errors_of(diag) == "3:1: unterminated string literal\n");
  BOOST_TEST(tvm::ast::dump(*m) == "(if a (= b 1))\n(= c 2)");
}

BOOST_AUTO_TEST_CASE(several_errors_per_file) {
  BOOST_TEST(parse_errors("x = = 1\ny = 2\nz = )\nw = 3 3\nok = 1\n") ==
             "1:5: invalid syntax\n3:5: invalid syntax\n4:7: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(recovery_skips_the_block_of_a_broken_header) {
  // One error for the header; the block under it is still checked, and nothing cascades.
  BOOST_TEST(parse_errors("if x y:\n    a = 1\n    b = = 2\nc = 1\n") == "1:6: invalid syntax\n3:9: invalid syntax\n");
  BOOST_TEST(parse_errors("class A:\n    def f(self):\n        pass\nx = 1\n") == "1:1: 'class' is not supported in TL\n");
}

BOOST_AUTO_TEST_CASE(recovery_keeps_good_statements) {
  tvm::SourceFile src("t.tl", "a = 1\nb = = 2\nc = 3\n");
  tvm::Diagnostics diag(src);
  auto m = tvm::parse_module(src, diag);
  BOOST_TEST(diag.errors().size() == 1u);
  BOOST_TEST(tvm::ast::dump(*m) == "(= a 1)\n(= c 3)");
}

BOOST_AUTO_TEST_CASE(errors_inside_blocks) {
  BOOST_TEST(parse_errors("def f():\n    x = )\n    return 1\ndef g(a b):\n    pass\ny = 2 2\n") ==
             "2:9: invalid syntax\n4:9: invalid syntax\n6:7: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(unclosed_bracket_is_one_error) {
  BOOST_TEST(parse_errors("x = (1,\ny = 2\nz = 3\n") == "2:3: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(lexical_errors_do_not_cascade) {
  BOOST_TEST(parse_errors("x = $ + 1\ny = 'abc\nz = 1 2\n") ==
             "1:5: invalid character '$'\n2:5: unterminated string literal\n3:7: invalid syntax\n");
  BOOST_TEST(parse_errors("a\n    b\nc\n") == "2:5: unexpected indent\n");
  BOOST_TEST(parse_errors("if a:\n\tb\nc\n") == "2:1: tabs are not allowed in indentation\n");
}

BOOST_AUTO_TEST_CASE(assignment_target_errors) {
  BOOST_TEST(parse_errors("1 = x") == "1:1: cannot assign to literal\n");
  BOOST_TEST(parse_errors("x = 'a' = y") == "1:5: cannot assign to literal\n");
  BOOST_TEST(parse_errors("None = 1") == "1:1: cannot assign to literal\n");
  BOOST_TEST(parse_errors("f() = 1") == "1:1: cannot assign to function call\n");
  BOOST_TEST(parse_errors("a + b = 1") == "1:1: cannot assign to expression\n");
  BOOST_TEST(parse_errors("a, (b, 2) = x") == "1:8: cannot assign to literal\n");
  BOOST_TEST(parse_errors("[a, f(x)] = y") == "1:5: cannot assign to function call\n");
  BOOST_TEST(parse_errors("for 1 in x: pass") == "1:5: cannot assign to literal\n");
  BOOST_TEST(parse_errors("[x for f() in y]") == "1:8: cannot assign to function call\n");
  BOOST_TEST(parse_errors("a, *b = c") == "1:4: starred assignment target is not supported in TL\n");
}

BOOST_AUTO_TEST_CASE(augmented_assignment_target_errors) {
  BOOST_TEST(parse_errors("a, b += 1") == "1:1: illegal expression for augmented assignment\n");
  BOOST_TEST(parse_errors("[a] += 1") == "1:1: illegal expression for augmented assignment\n");
  BOOST_TEST(parse_errors("f() += 1") == "1:1: illegal expression for augmented assignment\n");
}

BOOST_AUTO_TEST_CASE(starred_expression_errors) {
  BOOST_TEST(parse_errors("*a") == "1:1: can't use starred expression here\n");
  BOOST_TEST(parse_errors("x = (*a)") == "1:6: can't use starred expression here\n");
}

BOOST_AUTO_TEST_CASE(call_argument_errors) {
  BOOST_TEST(parse_errors("f(a=1, b)") == "1:8: positional argument follows keyword argument\n");
  BOOST_TEST(parse_errors("f(a=1, a=2)") == "1:8: keyword argument repeated: 'a'\n");
  BOOST_TEST(parse_errors("f(a.b=1)") == "1:3: keyword can't be an expression\n");
  BOOST_TEST(parse_errors("f(1=2)") == "1:3: keyword can't be an expression\n");
}

BOOST_AUTO_TEST_CASE(parameter_errors) {
  BOOST_TEST(parse_errors("def f(a=1, b): pass") == "1:12: non-default argument follows default argument\n");
  BOOST_TEST(parse_errors("def f(a, b, a): pass") == "1:13: duplicate argument 'a' in function definition\n");
  BOOST_TEST(parse_errors("def f(a, *a): pass") == "1:11: duplicate argument 'a' in function definition\n");
  BOOST_TEST(parse_errors("g = lambda x=1, y: 0") == "1:17: non-default argument follows default argument\n");
  BOOST_TEST(parse_errors("g = lambda x, x: 0") == "1:15: duplicate argument 'x' in function definition\n");
  BOOST_TEST(parse_errors("def f(*a, b): pass") == "1:11: invalid syntax\n");
}

// ---------------------------------------------------------------- limits

BOOST_AUTO_TEST_CASE(long_left_chains_are_capped) {
  std::string ok = "x = 1";
  for (int i = 0; i < 900; ++i) ok += "+1";
  BOOST_TEST(parse_errors(ok) == "");
  std::string deep = "x = 1";
  for (int i = 0; i < 100000; ++i) deep += "+1";
  BOOST_TEST(parse_errors(deep + "\ny = 1 1\n") == "1:5: expression too deeply nested\n2:7: invalid syntax\n");
}

BOOST_AUTO_TEST_CASE(long_right_chains_are_capped) {
  for (const std::string prefix : {"-", "not ", "lambda: ", "2**", "a if b else ", "~"}) {
    std::string deep = "x = ";
    for (int i = 0; i < 50000; ++i) deep += prefix;
    std::string errs = parse_errors(deep + "1\n");
    BOOST_TEST(errs.find("expression too deeply nested") != std::string::npos, prefix << ": " << errs);
    BOOST_TEST(errs.find('\n') == errs.size() - 1, prefix << ": " << errs);  // exactly one error
  }
  std::string ok = "x = " + std::string(500, '-') + "1";
  BOOST_TEST(parse_errors(ok) == "");
}

BOOST_AUTO_TEST_CASE(long_elif_chains_are_capped) {
  std::string ok = "if a: pass\n";
  for (int i = 0; i < 500; ++i) ok += "elif b: pass\n";
  BOOST_TEST(parse_errors(ok) == "");
  std::string deep = "if a: pass\n";
  for (int i = 0; i < 5000; ++i) deep += "elif b: pass\n";
  std::string errs = parse_errors(deep);
  BOOST_TEST(errs.find("too many nested blocks") != std::string::npos, errs);
  BOOST_TEST(errs.find('\n') == errs.size() - 1, errs);
}

BOOST_AUTO_TEST_CASE(flat_sequences_are_not_limited) {
  std::string t = "x = [";
  for (int i = 0; i < 20000; ++i) t += "1, ";
  t += "]\ny = a";
  for (int i = 0; i < 20000; ++i) t += " < a";
  t += "\n";
  BOOST_TEST(parse_errors(t) == "");
}

BOOST_AUTO_TEST_CASE(error_count_is_capped) {
  std::string t;
  for (int i = 0; i < 1000; ++i) t += "x = = 1\n";
  tvm::SourceFile src("t.tl", t);
  tvm::Diagnostics diag(src);
  tvm::parse_module(src, diag);
  BOOST_TEST(diag.errors().size() == 100u);
}

// ---------------------------------------------------------------- diagnostics

BOOST_AUTO_TEST_CASE(diagnostic_format) {
  tvm::SourceFile src("prog.tl", "x = 1\ny = = 2\n");
  tvm::Diagnostics diag(src);
  tvm::parse_module(src, diag);
  BOOST_REQUIRE(diag.errors().size() == 1u);
  BOOST_TEST(diag.format(diag.errors()[0]) == "prog.tl:2:5: error: invalid syntax\ny = = 2\n    ^\n");
}

BOOST_AUTO_TEST_CASE(diagnostic_format_keeps_tabs_and_counts_code_points) {
  tvm::SourceFile src("p.tl", "s = '\xC3\xA9'\t$\n");
  tvm::Diagnostics diag(src);
  tvm::parse_module(src, diag);
  BOOST_REQUIRE(diag.errors().size() == 1u);
  BOOST_TEST(diag.format(diag.errors()[0]) ==
             "p.tl:1:9: error: invalid character '$'\ns = '\xC3\xA9'\t$\n       \t^\n");
}

BOOST_AUTO_TEST_CASE(diagnostic_at_end_of_file) {
  tvm::SourceFile src("p.tl", "x = (1,\n");
  tvm::Diagnostics diag(src);
  tvm::parse_module(src, diag);
  BOOST_REQUIRE(diag.errors().size() == 1u);
  BOOST_TEST(diag.format(diag.errors()[0]) == "p.tl:1:8: error: invalid syntax\nx = (1,\n       ^\n");
}

BOOST_AUTO_TEST_CASE(source_lines) {
  tvm::SourceFile src("p.tl", "a\r\nbc\n\nd");
  BOOST_TEST(src.line(1) == "a");
  BOOST_TEST(src.line(2) == "bc");
  BOOST_TEST(src.line(3) == "");
  BOOST_TEST(src.line(4) == "d");
  BOOST_TEST(src.line(5) == "");
  BOOST_TEST(src.line(0) == "");
}

BOOST_AUTO_TEST_SUITE_END()
