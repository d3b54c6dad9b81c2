// The TL grammar (LANGUAGE.md §3-§5): a Bison LALR(1) parser building the AST of ast.h.
//
// The lexer (lexer.l) turns the whole file into tokens first, INDENT/DEDENT and adjacent
// string concatenation included; this parser pulls them from ParseCtx. The same grammar
// parses an f-string's replacement fields: a second start token selects "one expression".
//
// Errors: every syntax error is `invalid syntax` at the offending token. Recovery is at
// statement level (`error NEWLINE`, which also takes in the block and the elif/else clauses
// of a broken compound statement header), so each bad line is reported once and the lines
// after it are still checked. After a lexical error (reported by the lexer) the lexer sends
// LEXERROR, which fails the line silently; the lexer keeps the indent structure intact on its
// own (a missing or unexpected block is its error), so recovery never unbalances blocks.
// Limits protect the recursive passes that walk the AST after us: nesting depth of
// expressions and of statements is capped while the tree is built (ParseCtx::finish), and
// the parser's own stack is capped where the lexer hands it tokens (see yylex below).

%require "3.8"
%language "c++"
%skeleton "lalr1.cc"
%define api.namespace {tvm}
%define api.parser.class {Parser}
%define api.value.type variant
%define api.token.constructor
%define api.token.prefix {TOK_}
%define api.location.type {tvm::ast::Loc}
%locations
%param {tvm::ParseCtx& ctx}
%expect 0

%code requires {
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ast.h"

namespace tvm {

class Diagnostics;
struct ParseCtx;

// One piece of an f-string token: literal text (escapes decoded) or a replacement field,
// whose expression is kept as source text and parsed by the parser (ParseCtx::fstring).
struct FStringField {
  bool is_expr = false;
  std::string text;      // the literal, or the expression's source text
  ast::Loc loc;          // where the text starts in the file
  char conversion = 0;   // 0, 'r' or 's'
  std::string spec;
};
using FStringFields = std::vector<FStringField>;

// Values that live only while a construct is being parsed.
namespace pt {
struct Arg {  // one call argument: positional, *starred, or name=value
  ast::Loc loc;
  ast::ExprPtr value;
  ast::ExprPtr keyword;  // the expression left of `=` (must be a plain name)
};
using Args = std::vector<Arg>;
struct DictItems {
  ast::ExprList keys, values;
};
struct IfClause {  // `if cond: body` or `elif cond: body`
  ast::Loc loc;
  ast::ExprPtr cond;
  ast::StmtList body;
};
using IfChain = std::vector<IfClause>;
struct Params {
  std::vector<ast::Param> params;
  bool has_vararg = false;
  ast::Param vararg;  // name, loc and annotation of *args
};
using NameLocs = std::vector<std::pair<std::string, ast::Loc>>;
using Aliases = std::vector<ast::ImportAlias>;
using Generators = std::vector<ast::CompFor>;
}  // namespace pt

}  // namespace tvm

// A node's location is its first token's (ast.h). An empty rule takes the location of the
// symbol before it; the few actions where that matters set their location themselves.
#define YYLLOC_DEFAULT(Cur, Rhs, N) \
  do { (Cur) = (N) ? YYRHSLOC(Rhs, 1) : YYRHSLOC(Rhs, 0); } while (0)
}

%code {
#include "lexer.h"

namespace tvm {

// The parser reads its tokens through this. It also watches the parser's stack: right-
// recursive constructs (`- - - x`, `not not x`, `a if b else c if ...`, `lambda: lambda: x`)
// grow it by one entry per token, so a hostile input could grow it without bound; past
// ParseCtx::kMaxStackDepth the parse stops with an error instead.
Parser::symbol_type next_token(ParseCtx& ctx, size_t stack_depth);

}  // namespace tvm

// Bison calls `yylex(ctx)` only from inside Parser::parse(), where `yystack_` is in scope.
#define yylex(c) ::tvm::next_token(c, yystack_.size())
}

%token <std::string> NAME STRING
%token <int64_t> INT
%token <double> FLOAT
%token <tvm::FStringFields> FSTRING
%token NEWLINE INDENT DEDENT
%token LEXERROR  // after a lexical error (already reported): never valid, so the parser skips the line
%token START_FILE START_EXPR
%token AND AS ASSERT BREAK CONTINUE DEF ELIF ELSE FALSE FOR FROM GLOBAL IF IMPORT IN IS
%token LAMBDA NONE NONLOCAL NOT OR PASS RETURN TRUE WHILE
%token PLUS "+" MINUS "-" STAR "*" SLASH "/" DSLASH "//" PERCENT "%" POW "**" AT "@"
%token LSHIFT "<<" RSHIFT ">>" AMP "&" PIPE "|" CARET "^" TILDE "~"
%token LT "<" GT ">" LE "<=" GE ">=" EQ "==" NE "!="
%token LPAR "(" RPAR ")" LSQB "[" RSQB "]" LBRACE "{" RBRACE "}"
%token COMMA "," COLON ":" DOT "." SEMI ";" ASSIGN "=" ARROW "->"
%token PLUSEQ "+=" MINUSEQ "-=" STAREQ "*=" SLASHEQ "/=" DSLASHEQ "//=" PERCENTEQ "%="
%token POWEQ "**=" ATEQ "@=" AMPEQ "&=" PIPEEQ "|=" CARETEQ "^=" LSHIFTEQ "<<=" RSHIFTEQ ">>="

%type <tvm::ast::StmtList> stmt stmts simple_stmt small_stmts suite block
%type <tvm::ast::StmtPtr> small_stmt expr_stmt return_stmt global_stmt nonlocal_stmt
%type <tvm::ast::StmtPtr> import_stmt import_from assert_stmt compound_stmt
%type <tvm::ast::StmtPtr> if_stmt while_stmt for_stmt funcdef
%type <tvm::pt::IfChain> if_chain
%type <tvm::ast::ExprList> assign_values star_items target_items subscript_items
%type <tvm::ast::ExprPtr> testlist_star_expr test_or_star target_list expr_or_star
%type <tvm::ast::ExprPtr> test or_test and_test not_test comparison comp_chain
%type <tvm::ast::ExprPtr> expr xor_expr and_expr shift_expr arith term factor power primary atom
%type <tvm::ast::ExprPtr> lambdef subscript slice opt_test opt_step return_annot
%type <tvm::ast::BinOp> augassign
%type <tvm::ast::CmpOp> comp_op
%type <tvm::pt::Args> arg_items
%type <tvm::pt::Arg> arg
%type <tvm::pt::DictItems> dict_items
%type <tvm::pt::Generators> comp_clauses
%type <tvm::ast::CompFor> comp_for
%type <tvm::pt::Params> parameters lambda_params
%type <std::vector<tvm::ast::Param>> plain_params lambda_plain
%type <tvm::ast::Param> param lambda_param star_param
%type <tvm::pt::NameLocs> name_list
%type <tvm::pt::Aliases> import_aliases
%type <tvm::ast::ImportAlias> import_alias

%%

start:
    START_FILE file_input
  | START_EXPR testlist_star_expr { ctx.expr = std::move($2); }
  ;

/* Top-level statements go straight into the module, so that a parse that has to stop
   early (a fatal lexical error) still returns everything before it. */
file_input:
    %empty
  | file_input stmt { ctx.add_to_module(std::move($2)); }
  ;

stmts:
    stmt { $$ = std::move($1); }
  | stmts stmt { $$ = std::move($1); for (auto& s : $2) $$.push_back(std::move(s)); }
  ;

stmt:
    simple_stmt { $$ = std::move($1); }
  | compound_stmt { $$.push_back(std::move($1)); }
  | error NEWLINE orphan_clauses { yyerrok; }
  | error NEWLINE block orphan_clauses { yyerrok; }  // a broken header's block
  ;

/* The elif/else clauses of a compound statement whose header was broken: parsed (and
   checked), then dropped, rather than reported as stray. */
orphan_clauses:
    %empty
  | orphan_clauses ELIF test ":" suite
  | orphan_clauses ELSE ":" suite
  ;

simple_stmt:
    small_stmts NEWLINE { $$ = std::move($1); }
  | small_stmts ";" NEWLINE { $$ = std::move($1); }
  ;

small_stmts:
    small_stmt { $$.push_back(std::move($1)); }
  | small_stmts ";" small_stmt { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

small_stmt:
    expr_stmt { $$ = std::move($1); }
  | PASS { $$ = ctx.finish(std::make_unique<ast::SimpleStmt>(ast::StmtKind::Pass, @1)); }
  | BREAK { $$ = ctx.finish(std::make_unique<ast::SimpleStmt>(ast::StmtKind::Break, @1)); }
  | CONTINUE { $$ = ctx.finish(std::make_unique<ast::SimpleStmt>(ast::StmtKind::Continue, @1)); }
  | return_stmt { $$ = std::move($1); }
  | global_stmt { $$ = std::move($1); }
  | nonlocal_stmt { $$ = std::move($1); }
  | import_stmt { $$ = std::move($1); }
  | import_from { $$ = std::move($1); }
  | assert_stmt { $$ = std::move($1); }
  ;

expr_stmt:
    testlist_star_expr {
      $$ = ctx.finish(std::make_unique<ast::ExprStmt>(@1, std::move($1)));
    }
  | testlist_star_expr augassign testlist_star_expr {
      ctx.check_aug_target(*$1);
      $$ = ctx.finish(std::make_unique<ast::AugAssignStmt>(@1, std::move($1), $2, std::move($3)));
    }
  | testlist_star_expr assign_values {
      auto s = std::make_unique<ast::AssignStmt>(@1);
      s->value = std::move($2.back());
      $2.pop_back();
      s->targets.push_back(std::move($1));
      for (auto& t : $2) s->targets.push_back(std::move(t));
      for (auto& t : s->targets) ctx.check_target(*t);
      $$ = ctx.finish(std::move(s));
    }
  ;

assign_values:
    "=" testlist_star_expr { $$.push_back(std::move($2)); }
  | assign_values "=" testlist_star_expr { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

augassign:
    "+=" { $$ = ast::BinOp::Add; }
  | "-=" { $$ = ast::BinOp::Sub; }
  | "*=" { $$ = ast::BinOp::Mul; }
  | "/=" { $$ = ast::BinOp::Div; }
  | "//=" { $$ = ast::BinOp::FloorDiv; }
  | "%=" { $$ = ast::BinOp::Mod; }
  | "**=" { $$ = ast::BinOp::Pow; }
  | "@=" { $$ = ast::BinOp::MatMul; }
  | "&=" { $$ = ast::BinOp::BitAnd; }
  | "|=" { $$ = ast::BinOp::BitOr; }
  | "^=" { $$ = ast::BinOp::BitXor; }
  | "<<=" { $$ = ast::BinOp::LShift; }
  | ">>=" { $$ = ast::BinOp::RShift; }
  ;

return_stmt:
    RETURN { $$ = ctx.finish(std::make_unique<ast::ReturnStmt>(@1)); }
  | RETURN testlist_star_expr {
      auto s = std::make_unique<ast::ReturnStmt>(@1);
      s->value = std::move($2);
      $$ = ctx.finish(std::move(s));
    }
  ;

global_stmt:
    GLOBAL name_list { $$ = ctx.names_stmt(ast::StmtKind::Global, @1, std::move($2)); }
  ;

nonlocal_stmt:
    NONLOCAL name_list { $$ = ctx.names_stmt(ast::StmtKind::Nonlocal, @1, std::move($2)); }
  ;

name_list:
    NAME { $$.emplace_back(std::move($1), @1); }
  | name_list "," NAME { $$ = std::move($1); $$.emplace_back(std::move($3), @3); }
  ;

import_stmt:
    IMPORT import_aliases {
      auto s = std::make_unique<ast::ImportStmt>(@1);
      s->names = std::move($2);
      $$ = ctx.finish(std::move(s));
    }
  ;

import_from:
    FROM NAME IMPORT import_aliases { $$ = ctx.import_from(@1, std::move($2), std::move($4)); }
  | FROM NAME IMPORT "(" import_aliases ")" { $$ = ctx.import_from(@1, std::move($2), std::move($5)); }
  | FROM NAME IMPORT "(" import_aliases "," ")" { $$ = ctx.import_from(@1, std::move($2), std::move($5)); }
  ;

import_aliases:
    import_alias { $$.push_back(std::move($1)); }
  | import_aliases "," import_alias { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

import_alias:
    NAME { $$.loc = @1; $$.name = std::move($1); }
  | NAME AS NAME { $$.loc = @1; $$.name = std::move($1); $$.asname = std::move($3); }
  ;

assert_stmt:
    ASSERT test {
      auto s = std::make_unique<ast::AssertStmt>(@1);
      s->test = std::move($2);
      $$ = ctx.finish(std::move(s));
    }
  | ASSERT test "," test {
      auto s = std::make_unique<ast::AssertStmt>(@1);
      s->test = std::move($2);
      s->msg = std::move($4);
      $$ = ctx.finish(std::move(s));
    }
  ;

compound_stmt:
    if_stmt { $$ = std::move($1); }
  | while_stmt { $$ = std::move($1); }
  | for_stmt { $$ = std::move($1); }
  | funcdef { $$ = std::move($1); }
  ;

/* elif chains are collected left-recursively (the parser stack stays flat however long
   the chain) and nested from the end by ParseCtx::if_stmt. */
if_stmt:
    if_chain { $$ = ctx.if_stmt(std::move($1), {}); }
  | if_chain ELSE ":" suite { $$ = ctx.if_stmt(std::move($1), std::move($4)); }
  ;

if_chain:
    IF test ":" suite { $$.push_back({@1, std::move($2), std::move($4)}); }
  | if_chain ELIF test ":" suite { $$ = std::move($1); $$.push_back({@2, std::move($3), std::move($5)}); }
  ;

while_stmt:
    WHILE test ":" suite {
      auto s = std::make_unique<ast::WhileStmt>(@1);
      s->cond = std::move($2);
      s->body = std::move($4);
      $$ = ctx.finish(std::move(s));
    }
  | WHILE test ":" suite ELSE ":" suite {
      auto s = std::make_unique<ast::WhileStmt>(@1);
      s->cond = std::move($2);
      s->body = std::move($4);
      s->orelse = std::move($7);
      $$ = ctx.finish(std::move(s));
    }
  ;

for_stmt:
    FOR target_list IN testlist_star_expr ":" suite {
      auto s = std::make_unique<ast::ForStmt>(@1);
      s->target = std::move($2);
      s->iter = std::move($4);
      s->body = std::move($6);
      $$ = ctx.finish(std::move(s));
    }
  | FOR target_list IN testlist_star_expr ":" suite ELSE ":" suite {
      auto s = std::make_unique<ast::ForStmt>(@1);
      s->target = std::move($2);
      s->iter = std::move($4);
      s->body = std::move($6);
      s->orelse = std::move($9);
      $$ = ctx.finish(std::move(s));
    }
  ;

funcdef:
    DEF NAME "(" parameters ")" return_annot ":" suite {
      auto f = std::make_unique<ast::FunctionDef>(@1);
      f->name = std::move($2);
      ctx.set_params(*f, std::move($4));
      f->returns = std::move($6);
      f->body = std::move($8);
      $$ = ctx.finish(std::move(f));
    }
  ;

return_annot:
    %empty { }
  | "->" test { $$ = std::move($2); }
  ;

parameters:
    %empty { }
  | plain_params opt_comma { $$.params = std::move($1); }
  | plain_params "," star_param opt_comma {
      $$.params = std::move($1);
      $$.has_vararg = true;
      $$.vararg = std::move($3);
    }
  | star_param opt_comma { $$.has_vararg = true; $$.vararg = std::move($1); }
  ;

opt_comma:
    %empty
  | ","
  ;

plain_params:
    param { $$.push_back(std::move($1)); }
  | plain_params "," param { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

param:
    NAME { $$.loc = @1; $$.name = std::move($1); }
  | NAME ":" test { $$.loc = @1; $$.name = std::move($1); $$.annotation = std::move($3); }
  | NAME "=" test { $$.loc = @1; $$.name = std::move($1); $$.default_value = std::move($3); }
  | NAME ":" test "=" test {
      $$.loc = @1;
      $$.name = std::move($1);
      $$.annotation = std::move($3);
      $$.default_value = std::move($5);
    }
  ;

star_param:
    "*" NAME { $$.loc = @2; $$.name = std::move($2); }
  | "*" NAME ":" test { $$.loc = @2; $$.name = std::move($2); $$.annotation = std::move($4); }
  ;

suite:
    simple_stmt { $$ = std::move($1); }
  | NEWLINE block { $$ = std::move($2); }
  ;

/* An empty block is the lexer's doing, after it reported `expected an indented block`. */
block:
    INDENT stmts DEDENT { $$ = std::move($2); }
  | INDENT DEDENT { }
  ;

/* ---------------------------------------------------------------- expressions */

/* `a, b` as a bare tuple; a lone `*a` is not an expression. */
testlist_star_expr:
    star_items { $$ = ctx.sequence(@1, std::move($1), false); }
  | star_items "," { $$ = ctx.sequence(@1, std::move($1), true); }
  ;

star_items:
    test_or_star { $$.push_back(std::move($1)); }
  | star_items "," test_or_star { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

test_or_star:
    test { $$ = std::move($1); }
  | "*" expr { $$ = ctx.finish(std::make_unique<ast::StarredExpr>(@1, std::move($2))); }
  ;

/* Targets of `for` are parsed at the `|` level, so that `in` is not taken as an operator. */
target_list:
    target_items { $$ = ctx.sequence(@1, std::move($1), false); ctx.check_target(*$$); }
  | target_items "," { $$ = ctx.sequence(@1, std::move($1), true); ctx.check_target(*$$); }
  ;

target_items:
    expr_or_star { $$.push_back(std::move($1)); }
  | target_items "," expr_or_star { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

expr_or_star:
    expr { $$ = std::move($1); }
  | "*" expr { $$ = ctx.finish(std::make_unique<ast::StarredExpr>(@1, std::move($2))); }
  ;

test:
    or_test { $$ = std::move($1); }
  | or_test IF or_test ELSE test {
      auto e = std::make_unique<ast::IfExpExpr>(@1);
      e->then = std::move($1);
      e->cond = std::move($3);
      e->orelse = std::move($5);
      $$ = ctx.finish(std::move(e));
    }
  | lambdef { $$ = std::move($1); }
  ;

lambdef:
    LAMBDA lambda_params ":" test { $$ = ctx.lambda(@1, std::move($2), std::move($4)); }
  ;

lambda_params:
    %empty { }
  | lambda_plain opt_comma { $$.params = std::move($1); }
  | lambda_plain "," "*" NAME opt_comma {
      $$.params = std::move($1);
      $$.has_vararg = true;
      $$.vararg.loc = @4;
      $$.vararg.name = std::move($4);
    }
  | "*" NAME opt_comma { $$.has_vararg = true; $$.vararg.loc = @2; $$.vararg.name = std::move($2); }
  ;

lambda_plain:
    lambda_param { $$.push_back(std::move($1)); }
  | lambda_plain "," lambda_param { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

lambda_param:
    NAME { $$.loc = @1; $$.name = std::move($1); }
  | NAME "=" test { $$.loc = @1; $$.name = std::move($1); $$.default_value = std::move($3); }
  ;

or_test:
    and_test { $$ = std::move($1); }
  | or_test OR and_test {
      $$ = ctx.finish(std::make_unique<ast::BoolOpExpr>(@1, false, std::move($1), std::move($3)));
    }
  ;

and_test:
    not_test { $$ = std::move($1); }
  | and_test AND not_test {
      $$ = ctx.finish(std::make_unique<ast::BoolOpExpr>(@1, true, std::move($1), std::move($3)));
    }
  ;

not_test:
    NOT not_test { $$ = ctx.finish(std::make_unique<ast::UnaryExpr>(@1, ast::UnaryOp::Not, std::move($2))); }
  | comparison { $$ = std::move($1); }
  ;

/* a < b <= c is one CompareExpr; a parenthesized comparison is an operand, not a link. */
comparison:
    expr { $$ = std::move($1); }
  | comp_chain { $$ = ctx.finish(std::move($1)); }
  ;

comp_chain:
    expr comp_op expr {
      auto e = std::make_unique<ast::CompareExpr>(@1);
      e->left = std::move($1);
      e->ops.push_back($2);
      e->comparators.push_back(std::move($3));
      $$ = std::move(e);
    }
  | comp_chain comp_op expr {
      $$ = std::move($1);
      auto& e = ast::as<ast::CompareExpr>(*$$);
      e.ops.push_back($2);
      e.comparators.push_back(std::move($3));
    }
  ;

comp_op:
    "<" { $$ = ast::CmpOp::Lt; }
  | "<=" { $$ = ast::CmpOp::Le; }
  | ">" { $$ = ast::CmpOp::Gt; }
  | ">=" { $$ = ast::CmpOp::Ge; }
  | "==" { $$ = ast::CmpOp::Eq; }
  | "!=" { $$ = ast::CmpOp::Ne; }
  | IN { $$ = ast::CmpOp::In; }
  | NOT IN { $$ = ast::CmpOp::NotIn; }
  | IS { $$ = ast::CmpOp::Is; }
  | IS NOT { $$ = ast::CmpOp::IsNot; }
  ;

expr:
    xor_expr { $$ = std::move($1); }
  | expr "|" xor_expr { $$ = ctx.binop(@1, ast::BinOp::BitOr, std::move($1), std::move($3)); }
  ;

xor_expr:
    and_expr { $$ = std::move($1); }
  | xor_expr "^" and_expr { $$ = ctx.binop(@1, ast::BinOp::BitXor, std::move($1), std::move($3)); }
  ;

and_expr:
    shift_expr { $$ = std::move($1); }
  | and_expr "&" shift_expr { $$ = ctx.binop(@1, ast::BinOp::BitAnd, std::move($1), std::move($3)); }
  ;

shift_expr:
    arith { $$ = std::move($1); }
  | shift_expr "<<" arith { $$ = ctx.binop(@1, ast::BinOp::LShift, std::move($1), std::move($3)); }
  | shift_expr ">>" arith { $$ = ctx.binop(@1, ast::BinOp::RShift, std::move($1), std::move($3)); }
  ;

arith:
    term { $$ = std::move($1); }
  | arith "+" term { $$ = ctx.binop(@1, ast::BinOp::Add, std::move($1), std::move($3)); }
  | arith "-" term { $$ = ctx.binop(@1, ast::BinOp::Sub, std::move($1), std::move($3)); }
  ;

term:
    factor { $$ = std::move($1); }
  | term "*" factor { $$ = ctx.binop(@1, ast::BinOp::Mul, std::move($1), std::move($3)); }
  | term "/" factor { $$ = ctx.binop(@1, ast::BinOp::Div, std::move($1), std::move($3)); }
  | term "//" factor { $$ = ctx.binop(@1, ast::BinOp::FloorDiv, std::move($1), std::move($3)); }
  | term "%" factor { $$ = ctx.binop(@1, ast::BinOp::Mod, std::move($1), std::move($3)); }
  | term "@" factor { $$ = ctx.binop(@1, ast::BinOp::MatMul, std::move($1), std::move($3)); }
  ;

/* -2**2 is -(2**2); 2**-1 is allowed: the exponent is a factor. */
factor:
    "+" factor { $$ = ctx.finish(std::make_unique<ast::UnaryExpr>(@1, ast::UnaryOp::Pos, std::move($2))); }
  | "-" factor { $$ = ctx.finish(std::make_unique<ast::UnaryExpr>(@1, ast::UnaryOp::Neg, std::move($2))); }
  | "~" factor { $$ = ctx.finish(std::make_unique<ast::UnaryExpr>(@1, ast::UnaryOp::Invert, std::move($2))); }
  | power { $$ = std::move($1); }
  ;

power:
    primary { $$ = std::move($1); }
  | primary "**" factor { $$ = ctx.binop(@1, ast::BinOp::Pow, std::move($1), std::move($3)); }
  ;

primary:
    atom { $$ = std::move($1); }
  | primary "." NAME {
      $$ = ctx.finish(std::make_unique<ast::AttributeExpr>(@1, std::move($1), std::move($3)));
    }
  | primary "(" ")" { $$ = ctx.call(@1, std::move($1), {}); }
  | primary "(" arg_items opt_comma ")" { $$ = ctx.call(@1, std::move($1), std::move($3)); }
  | primary "(" test comp_clauses ")" {
      // f(x for x in xs): TL has no generators; the argument is built eagerly as a list.
      pt::Args args(1);
      args[0].loc = @3;
      args[0].value = ctx.comprehension(ast::ExprKind::ListComp, @3, std::move($3), nullptr, std::move($4));
      $$ = ctx.call(@1, std::move($1), std::move(args));
    }
  | primary "[" subscript_items "]" { $$ = ctx.subscript(@1, std::move($1), @3, std::move($3), false); }
  | primary "[" subscript_items "," "]" { $$ = ctx.subscript(@1, std::move($1), @3, std::move($3), true); }
  ;

arg_items:
    arg { $$.push_back(std::move($1)); }
  | arg_items "," arg { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

arg:
    test { $$.loc = @1; $$.value = std::move($1); }
  | "*" test { $$.loc = @1; $$.value = ctx.finish(std::make_unique<ast::StarredExpr>(@1, std::move($2))); }
  | test "=" test { $$.loc = @1; $$.keyword = std::move($1); $$.value = std::move($3); }
  ;

subscript_items:
    subscript { $$.push_back(std::move($1)); }
  | subscript_items "," subscript { $$ = std::move($1); $$.push_back(std::move($3)); }
  ;

subscript:
    test { $$ = std::move($1); }
  | slice { $$ = std::move($1); }
  ;

slice:
    ":" opt_test opt_step { $$ = ctx.slice(@1, nullptr, std::move($2), std::move($3)); }
  | test ":" opt_test opt_step { $$ = ctx.slice(@1, std::move($1), std::move($3), std::move($4)); }
  ;

opt_step:
    %empty { }
  | ":" opt_test { $$ = std::move($2); }
  ;

opt_test:
    %empty { }
  | test { $$ = std::move($1); }
  ;

atom:
    NAME { $$ = ctx.finish(std::make_unique<ast::NameExpr>(@1, std::move($1))); }
  | INT { $$ = ctx.finish(std::make_unique<ast::IntExpr>(@1, $1)); }
  | FLOAT { $$ = ctx.finish(std::make_unique<ast::FloatExpr>(@1, $1)); }
  | STRING { $$ = ctx.finish(std::make_unique<ast::StrExpr>(@1, std::move($1))); }
  | FSTRING { $$ = ctx.fstring(@1, std::move($1)); }
  | TRUE { $$ = ctx.finish(std::make_unique<ast::ConstExpr>(ast::ExprKind::True, @1)); }
  | FALSE { $$ = ctx.finish(std::make_unique<ast::ConstExpr>(ast::ExprKind::False, @1)); }
  | NONE { $$ = ctx.finish(std::make_unique<ast::ConstExpr>(ast::ExprKind::None, @1)); }
  | "(" ")" { $$ = ctx.finish(std::make_unique<ast::TupleExpr>(@1)); }
  | "(" star_items ")" { $$ = ctx.sequence(@1, std::move($2), false); }
  | "(" star_items "," ")" { $$ = ctx.sequence(@1, std::move($2), true); }
  | "(" test comp_clauses ")" {
      $$ = ctx.comprehension(ast::ExprKind::ListComp, @1, std::move($2), nullptr, std::move($3));
    }
  | "[" "]" { $$ = ctx.finish(std::make_unique<ast::ListExpr>(@1)); }
  | "[" star_items "]" { $$ = ctx.list(@1, std::move($2)); }
  | "[" star_items "," "]" { $$ = ctx.list(@1, std::move($2)); }
  | "[" test comp_clauses "]" {
      $$ = ctx.comprehension(ast::ExprKind::ListComp, @1, std::move($2), nullptr, std::move($3));
    }
  | "{" "}" { $$ = ctx.finish(std::make_unique<ast::DictExpr>(@1)); }
  | "{" dict_items "}" { $$ = ctx.dict(@1, std::move($2)); }
  | "{" dict_items "," "}" { $$ = ctx.dict(@1, std::move($2)); }
  | "{" test ":" test comp_clauses "}" {
      $$ = ctx.comprehension(ast::ExprKind::DictComp, @1, std::move($2), std::move($4), std::move($5));
    }
  ;

dict_items:
    test ":" test { $$.keys.push_back(std::move($1)); $$.values.push_back(std::move($3)); }
  | dict_items "," test ":" test {
      $$ = std::move($1);
      $$.keys.push_back(std::move($3));
      $$.values.push_back(std::move($5));
    }
  ;

/* The iterables are or_tests, so that `if` starts a condition, not a conditional expression. */
comp_clauses:
    comp_for { $$.push_back(std::move($1)); }
  | comp_clauses comp_for { $$ = std::move($1); $$.push_back(std::move($2)); }
  | comp_clauses IF or_test { $$ = std::move($1); $$.back().ifs.push_back(std::move($3)); }
  ;

comp_for:
    FOR target_list IN or_test { $$.target = std::move($2); $$.iter = std::move($4); }
  ;

%%

namespace tvm {

void Parser::error(const location_type& loc, const std::string&) {
  ctx.syntax_error(loc);
}

}  // namespace tvm

#include <algorithm>
#include <unordered_set>

#include "parse.h"

namespace tvm {

namespace {

constexpr int kPoison = 1 << 30;  // depth of a placeholder that replaced a too-deep node

// Calls f(const Expr*) on each direct child expression of e (some may be null).
template <typename F>
void for_each_child(const ast::Expr& e, F&& f) {
  using K = ast::ExprKind;
  switch (e.kind) {
    case K::Name: case K::Int: case K::Float: case K::Str: case K::True: case K::False: case K::None:
      return;
    case K::FString:
      for (auto& p : ast::as<ast::FStringExpr>(e).parts) f(p.expr.get());
      return;
    case K::List:
      for (auto& x : ast::as<ast::ListExpr>(e).elts) f(x.get());
      return;
    case K::Tuple:
      for (auto& x : ast::as<ast::TupleExpr>(e).elts) f(x.get());
      return;
    case K::Dict: {
      auto& d = ast::as<ast::DictExpr>(e);
      for (auto& x : d.keys) f(x.get());
      for (auto& x : d.values) f(x.get());
      return;
    }
    case K::ListComp: case K::DictComp: {
      auto& c = ast::as<ast::CompExpr>(e);
      f(c.elt.get());
      f(c.value.get());
      for (auto& g : c.generators) {
        f(g.target.get());
        f(g.iter.get());
        for (auto& x : g.ifs) f(x.get());
      }
      return;
    }
    case K::BinOp: {
      auto& b = ast::as<ast::BinOpExpr>(e);
      f(b.left.get());
      f(b.right.get());
      return;
    }
    case K::Unary:
      f(ast::as<ast::UnaryExpr>(e).operand.get());
      return;
    case K::BoolOp: {
      auto& b = ast::as<ast::BoolOpExpr>(e);
      f(b.left.get());
      f(b.right.get());
      return;
    }
    case K::Compare: {
      auto& c = ast::as<ast::CompareExpr>(e);
      f(c.left.get());
      for (auto& x : c.comparators) f(x.get());
      return;
    }
    case K::IfExp: {
      auto& i = ast::as<ast::IfExpExpr>(e);
      f(i.cond.get());
      f(i.then.get());
      f(i.orelse.get());
      return;
    }
    case K::Lambda: {
      auto& fn = *ast::as<ast::LambdaExpr>(e).fn;
      for (auto& p : fn.params) {
        f(p.annotation.get());
        f(p.default_value.get());
      }
      f(fn.vararg_annotation.get());
      for (auto& s : fn.body)
        if (s->kind == ast::StmtKind::Return) f(ast::as<ast::ReturnStmt>(*s).value.get());
      return;
    }
    case K::Call: {
      auto& c = ast::as<ast::CallExpr>(e);
      f(c.func.get());
      for (auto& x : c.args) f(x.get());
      for (auto& k : c.keywords) f(k.value.get());
      return;
    }
    case K::Attribute:
      f(ast::as<ast::AttributeExpr>(e).value.get());
      return;
    case K::Subscript: {
      auto& s = ast::as<ast::SubscriptExpr>(e);
      f(s.value.get());
      f(s.index.get());
      return;
    }
    case K::Slice: {
      auto& s = ast::as<ast::SliceExpr>(e);
      f(s.lower.get());
      f(s.upper.get());
      f(s.step.get());
      return;
    }
    case K::Starred:
      f(ast::as<ast::StarredExpr>(e).value.get());
      return;
  }
}

// Calls fe(const Expr*) on a statement's own expressions and fs(StmtList&) on its blocks.
template <typename FE, typename FS>
void for_each_part(ast::Stmt& s, FE&& fe, FS&& fs) {
  using K = ast::StmtKind;
  switch (s.kind) {
    case K::Expr: fe(ast::as<ast::ExprStmt>(s).value.get()); return;
    case K::Assign: {
      auto& a = ast::as<ast::AssignStmt>(s);
      for (auto& t : a.targets) fe(t.get());
      fe(a.value.get());
      return;
    }
    case K::AugAssign: {
      auto& a = ast::as<ast::AugAssignStmt>(s);
      fe(a.target.get());
      fe(a.value.get());
      return;
    }
    case K::If: {
      auto& i = ast::as<ast::IfStmt>(s);
      fe(i.cond.get());
      fs(i.body);
      fs(i.orelse);
      return;
    }
    case K::While: {
      auto& w = ast::as<ast::WhileStmt>(s);
      fe(w.cond.get());
      fs(w.body);
      fs(w.orelse);
      return;
    }
    case K::For: {
      auto& w = ast::as<ast::ForStmt>(s);
      fe(w.target.get());
      fe(w.iter.get());
      fs(w.body);
      fs(w.orelse);
      return;
    }
    case K::Return: fe(ast::as<ast::ReturnStmt>(s).value.get()); return;
    case K::FunctionDef: {
      auto& fn = ast::as<ast::FunctionDef>(s);
      for (auto& p : fn.params) {
        fe(p.annotation.get());
        fe(p.default_value.get());
      }
      fe(fn.vararg_annotation.get());
      fe(fn.returns.get());
      fs(fn.body);
      return;
    }
    case K::Assert: {
      auto& a = ast::as<ast::AssertStmt>(s);
      fe(a.test.get());
      fe(a.msg.get());
      return;
    }
    case K::Break: case K::Continue: case K::Pass: case K::Global: case K::Nonlocal:
    case K::Import: case K::ImportFrom:
      return;
  }
}

}  // namespace

int ParseCtx::take_depth(const void* node) {
  auto it = shared.depth.find(node);
  if (it == shared.depth.end()) return 1;
  int d = it->second;
  shared.depth.erase(it);
  return d;
}

ast::ExprPtr ParseCtx::finish(ast::ExprPtr e) {
  int depth = 0;
  for_each_child(*e, [&](const ast::Expr* c) {
    if (c) depth = std::max(depth, take_depth(c));
  });
  if (depth >= kPoison || depth + 1 > kMaxExprDepth) {
    if (depth < kPoison) diag.error(e->loc, "expression too deeply nested");
    // The node is dropped here, before it gets any deeper; destroying it recurses at most
    // kMaxExprDepth levels.
    auto placeholder = std::make_unique<ast::ConstExpr>(ast::ExprKind::None, e->loc);
    shared.depth[placeholder.get()] = kPoison;
    return placeholder;
  }
  shared.depth[e.get()] = depth + 1;
  return e;
}

ast::StmtPtr ParseCtx::finish(ast::StmtPtr s) {
  int depth = 0;
  // Expressions have their own limit; here they are only detached from the depth table.
  auto expr = [&](const ast::Expr* e) {
    if (e) take_depth(e);
  };
  auto block = [&](ast::StmtList& body) {
    for (auto& c : body) depth = std::max(depth, take_depth(c.get()));
  };
  for_each_part(*s, expr, block);
  if (depth >= kPoison || depth + 1 > kMaxBlockDepth) {
    if (depth < kPoison) diag.error(s->loc, "too many nested blocks");
    for_each_part(*s, [](const ast::Expr*) {}, [](ast::StmtList& body) { body.clear(); });
    shared.depth[s.get()] = kPoison;
    return s;
  }
  shared.depth[s.get()] = depth + 1;
  return s;
}

void ParseCtx::syntax_error(ast::Loc loc) {
  if (lookahead_is_lex_error) return;  // the lexer has said what is wrong
  if (++shared.syntax_errors > kMaxSyntaxErrors) {
    stopped = true;  // enough: the lexer now ends the input
    return;
  }
  diag.error(loc, "invalid syntax");
}

void ParseCtx::add_to_module(ast::StmtList stmts) {
  for (auto& s : stmts) {
    take_depth(s.get());
    module->body.push_back(std::move(s));
  }
}

ast::ExprPtr ParseCtx::binop(ast::Loc loc, ast::BinOp op, ast::ExprPtr a, ast::ExprPtr b) {
  return finish(std::make_unique<ast::BinOpExpr>(loc, op, std::move(a), std::move(b)));
}

ast::ExprPtr ParseCtx::sequence(ast::Loc loc, ast::ExprList items, bool trailing_comma) {
  if (items.size() == 1 && !trailing_comma) {
    if (items[0]->kind == ast::ExprKind::Starred) {
      diag.error(items[0]->loc, "can't use starred expression here");
      // Reported once: what is left is the operand, not another lone starred expression.
      auto value = std::move(ast::as<ast::StarredExpr>(*items[0]).value);
      int depth = take_depth(items[0].get());
      shared.depth[value.get()] = depth >= kPoison ? kPoison : std::max(1, depth - 1);
      return value;
    }
    return std::move(items[0]);
  }
  auto t = std::make_unique<ast::TupleExpr>(loc);
  t->elts = std::move(items);
  return finish(std::move(t));
}

ast::ExprPtr ParseCtx::list(ast::Loc loc, ast::ExprList items) {
  auto l = std::make_unique<ast::ListExpr>(loc);
  l->elts = std::move(items);
  return finish(std::move(l));
}

ast::ExprPtr ParseCtx::dict(ast::Loc loc, pt::DictItems items) {
  auto d = std::make_unique<ast::DictExpr>(loc);
  d->keys = std::move(items.keys);
  d->values = std::move(items.values);
  return finish(std::move(d));
}

ast::ExprPtr ParseCtx::comprehension(ast::ExprKind kind, ast::Loc loc, ast::ExprPtr elt, ast::ExprPtr value,
                                     pt::Generators gens) {
  auto c = std::make_unique<ast::CompExpr>(kind, loc);
  c->elt = std::move(elt);
  c->value = std::move(value);
  c->generators = std::move(gens);
  c->scope = std::make_shared<ast::FunctionDef>(loc);
  c->scope->name = kind == ast::ExprKind::ListComp ? "<listcomp>" : "<dictcomp>";
  return finish(std::move(c));
}

ast::ExprPtr ParseCtx::call(ast::Loc loc, ast::ExprPtr func, pt::Args args) {
  auto c = std::make_unique<ast::CallExpr>(loc);
  c->func = std::move(func);
  std::unordered_set<std::string> seen;
  for (auto& a : args) {
    if (a.keyword) {
      take_depth(a.keyword.get());
      if (a.keyword->kind != ast::ExprKind::Name) {
        diag.error(a.loc, "keyword can't be an expression");
        take_depth(a.value.get());
        continue;
      }
      const std::string& name = ast::as<ast::NameExpr>(*a.keyword).id;
      if (!seen.insert(name).second) diag.error(a.loc, "keyword argument repeated: '" + name + "'");
      c->keywords.push_back(ast::Keyword{a.loc, name, std::move(a.value)});
    } else {
      if (!c->keywords.empty() && a.value->kind != ast::ExprKind::Starred)
        diag.error(a.loc, "positional argument follows keyword argument");
      c->args.push_back(std::move(a.value));
    }
  }
  return finish(std::move(c));
}

ast::ExprPtr ParseCtx::subscript(ast::Loc loc, ast::ExprPtr value, ast::Loc index_loc, ast::ExprList items,
                                 bool trailing_comma) {
  ast::ExprPtr index;
  if (items.size() == 1 && !trailing_comma) {
    index = std::move(items[0]);
  } else {
    auto t = std::make_unique<ast::TupleExpr>(index_loc);
    t->elts = std::move(items);
    index = finish(std::move(t));
  }
  return finish(std::make_unique<ast::SubscriptExpr>(loc, std::move(value), std::move(index)));
}

ast::ExprPtr ParseCtx::slice(ast::Loc loc, ast::ExprPtr lower, ast::ExprPtr upper, ast::ExprPtr step) {
  auto s = std::make_unique<ast::SliceExpr>(loc);
  s->lower = std::move(lower);
  s->upper = std::move(upper);
  s->step = std::move(step);
  return finish(std::move(s));
}

void ParseCtx::set_params(ast::FunctionDef& fn, pt::Params params) {
  std::unordered_set<std::string> seen;
  bool seen_default = false;
  for (auto& p : params.params) {
    if (!seen.insert(p.name).second)
      diag.error(p.loc, "duplicate argument '" + p.name + "' in function definition");
    if (p.default_value) seen_default = true;
    else if (seen_default) diag.error(p.loc, "non-default argument follows default argument");
  }
  if (params.has_vararg) {
    if (!seen.insert(params.vararg.name).second)
      diag.error(params.vararg.loc, "duplicate argument '" + params.vararg.name + "' in function definition");
    fn.vararg = std::move(params.vararg.name);
    fn.vararg_loc = params.vararg.loc;
    fn.vararg_annotation = std::move(params.vararg.annotation);
  }
  fn.params = std::move(params.params);
}

ast::ExprPtr ParseCtx::lambda(ast::Loc loc, pt::Params params, ast::ExprPtr body) {
  auto fn = std::make_shared<ast::FunctionDef>(loc);
  fn->name = "<lambda>";
  fn->is_lambda = true;
  set_params(*fn, std::move(params));
  auto ret = std::make_unique<ast::ReturnStmt>(body->loc);
  ret->value = std::move(body);
  fn->body.push_back(std::move(ret));
  auto e = std::make_unique<ast::LambdaExpr>(loc);
  e->fn = std::move(fn);
  return finish(std::move(e));
}

ast::ExprPtr ParseCtx::parse_field(const FStringField& f) {
  Lexer lexer(f.text, f.loc, Lexer::Mode::Expr, diag);
  ParseCtx sub(shared, lexer.tokenize(), Lexer::Mode::Expr, nullptr);
  Parser parser(sub);
  parser.parse();
  if (sub.expr) return std::move(sub.expr);
  // The error is reported; a placeholder keeps the part an expression.
  return finish(std::make_unique<ast::ConstExpr>(ast::ExprKind::None, f.loc));
}

ast::ExprPtr ParseCtx::fstring(ast::Loc loc, FStringFields fields) {
  auto e = std::make_unique<ast::FStringExpr>(loc);
  for (auto& f : fields) {
    if (!f.is_expr) {
      if (f.text.empty()) continue;
      if (!e->parts.empty() && !e->parts.back().expr) e->parts.back().literal += f.text;
      else e->parts.push_back(ast::FStringPart{std::move(f.text), nullptr, 0, {}});
      continue;
    }
    ast::FStringPart p;
    p.expr = parse_field(f);
    p.conversion = f.conversion;
    p.spec = std::move(f.spec);
    e->parts.push_back(std::move(p));
  }
  return finish(std::move(e));
}

ast::StmtPtr ParseCtx::if_stmt(pt::IfChain chain, ast::StmtList orelse) {
  for (size_t i = chain.size(); i-- > 0;) {
    auto s = std::make_unique<ast::IfStmt>(chain[i].loc);
    s->cond = std::move(chain[i].cond);
    s->body = std::move(chain[i].body);
    s->orelse = std::move(orelse);
    orelse.clear();
    orelse.push_back(finish(std::move(s)));
  }
  return std::move(orelse[0]);
}

ast::StmtPtr ParseCtx::names_stmt(ast::StmtKind kind, ast::Loc loc, pt::NameLocs names) {
  auto s = std::make_unique<ast::NamesStmt>(kind, loc);
  for (auto& [name, at] : names) {
    s->names.push_back(std::move(name));
    s->locs.push_back(at);
  }
  return finish(std::move(s));
}

ast::StmtPtr ParseCtx::import_from(ast::Loc loc, std::string module_name, pt::Aliases names) {
  auto s = std::make_unique<ast::ImportFromStmt>(loc);
  s->module = std::move(module_name);
  s->names = std::move(names);
  return finish(std::move(s));
}

void ParseCtx::check_target(const ast::Expr& e) {
  using K = ast::ExprKind;
  switch (e.kind) {
    case K::Name: case K::Attribute: case K::Subscript:
      return;
    case K::Tuple:
      for (auto& x : ast::as<ast::TupleExpr>(e).elts) check_target(*x);
      return;
    case K::List:
      for (auto& x : ast::as<ast::ListExpr>(e).elts) check_target(*x);
      return;
    case K::Starred:
      diag.error(e.loc, "starred assignment target is not supported in TL");
      return;
    case K::Int: case K::Float: case K::Str: case K::FString: case K::True: case K::False: case K::None:
      diag.error(e.loc, "cannot assign to literal");
      return;
    case K::Call:
      diag.error(e.loc, "cannot assign to function call");
      return;
    default:
      diag.error(e.loc, "cannot assign to expression");
      return;
  }
}

void ParseCtx::check_aug_target(const ast::Expr& e) {
  using K = ast::ExprKind;
  if (e.kind != K::Name && e.kind != K::Attribute && e.kind != K::Subscript)
    diag.error(e.loc, "illegal expression for augmented assignment");
}

Parser::symbol_type next_token(ParseCtx& ctx, size_t stack_depth) {
  using T = Parser::token;
  if (!ctx.started) {
    ctx.started = true;
    ast::Loc at = ctx.tokens.empty() ? ast::Loc{1, 1} : ctx.tokens[0].loc;
    return ctx.mode == Lexer::Mode::File ? Parser::make_START_FILE(at) : Parser::make_START_EXPR(at);
  }
  if (ctx.pos >= ctx.tokens.size()) return Parser::make_YYEOF(ctx.tokens.empty() ? ast::Loc{1, 1} : ctx.tokens.back().loc);
  Token& t = ctx.tokens[ctx.pos];
  if (ctx.stopped) return Parser::make_YYEOF(t.loc);
  if (stack_depth > ParseCtx::kMaxStackDepth) {
    ctx.diag.error(t.loc, "expression too deeply nested");
    ctx.stopped = true;
    return Parser::make_YYerror(t.loc);
  }
  if (t.kind != T::TOK_YYEOF) ++ctx.pos;
  ctx.lookahead_is_lex_error = t.kind == T::TOK_LEXERROR;
  switch (t.kind) {
    case T::TOK_NAME: return Parser::make_NAME(std::move(t.text), t.loc);
    case T::TOK_STRING: return Parser::make_STRING(std::move(t.text), t.loc);
    case T::TOK_INT: return Parser::make_INT(t.ival, t.loc);
    case T::TOK_FLOAT: return Parser::make_FLOAT(t.fval, t.loc);
    case T::TOK_FSTRING: return Parser::make_FSTRING(std::move(t.fields), t.loc);
    default: return Parser::symbol_type(t.kind, t.loc);
  }
}

std::unique_ptr<ast::Module> parse_module(const SourceFile& src, Diagnostics& diag) {
  auto module = std::make_unique<ast::Module>();
  module->filename = src.name();
  ParseShared shared(diag);
  Lexer lexer(src.text(), ast::Loc{1, 1}, Lexer::Mode::File, diag);
  ParseCtx ctx(shared, lexer.tokenize(), Lexer::Mode::File, module.get());
  Parser parser(ctx);
  parser.parse();
  return module;
}

namespace {

const char* token_spelling(TokenKind k) {
  using T = Parser::token;
  switch (k) {
    case T::TOK_YYEOF: return "EOF";
    case T::TOK_YYerror: return "FATAL";
    case T::TOK_LEXERROR: return "ERROR";
    case T::TOK_NEWLINE: return "NEWLINE";
    case T::TOK_INDENT: return "INDENT";
    case T::TOK_DEDENT: return "DEDENT";
    case T::TOK_AND: return "and";
    case T::TOK_AS: return "as";
    case T::TOK_ASSERT: return "assert";
    case T::TOK_BREAK: return "break";
    case T::TOK_CONTINUE: return "continue";
    case T::TOK_DEF: return "def";
    case T::TOK_ELIF: return "elif";
    case T::TOK_ELSE: return "else";
    case T::TOK_FALSE: return "False";
    case T::TOK_FOR: return "for";
    case T::TOK_FROM: return "from";
    case T::TOK_GLOBAL: return "global";
    case T::TOK_IF: return "if";
    case T::TOK_IMPORT: return "import";
    case T::TOK_IN: return "in";
    case T::TOK_IS: return "is";
    case T::TOK_LAMBDA: return "lambda";
    case T::TOK_NONE: return "None";
    case T::TOK_NONLOCAL: return "nonlocal";
    case T::TOK_NOT: return "not";
    case T::TOK_OR: return "or";
    case T::TOK_PASS: return "pass";
    case T::TOK_RETURN: return "return";
    case T::TOK_TRUE: return "True";
    case T::TOK_WHILE: return "while";
    case T::TOK_PLUS: return "+";
    case T::TOK_MINUS: return "-";
    case T::TOK_STAR: return "*";
    case T::TOK_SLASH: return "/";
    case T::TOK_DSLASH: return "//";
    case T::TOK_PERCENT: return "%";
    case T::TOK_POW: return "**";
    case T::TOK_AT: return "@";
    case T::TOK_LSHIFT: return "<<";
    case T::TOK_RSHIFT: return ">>";
    case T::TOK_AMP: return "&";
    case T::TOK_PIPE: return "|";
    case T::TOK_CARET: return "^";
    case T::TOK_TILDE: return "~";
    case T::TOK_LT: return "<";
    case T::TOK_GT: return ">";
    case T::TOK_LE: return "<=";
    case T::TOK_GE: return ">=";
    case T::TOK_EQ: return "==";
    case T::TOK_NE: return "!=";
    case T::TOK_LPAR: return "(";
    case T::TOK_RPAR: return ")";
    case T::TOK_LSQB: return "[";
    case T::TOK_RSQB: return "]";
    case T::TOK_LBRACE: return "{";
    case T::TOK_RBRACE: return "}";
    case T::TOK_COMMA: return ",";
    case T::TOK_COLON: return ":";
    case T::TOK_DOT: return ".";
    case T::TOK_SEMI: return ";";
    case T::TOK_ASSIGN: return "=";
    case T::TOK_ARROW: return "->";
    case T::TOK_PLUSEQ: return "+=";
    case T::TOK_MINUSEQ: return "-=";
    case T::TOK_STAREQ: return "*=";
    case T::TOK_SLASHEQ: return "/=";
    case T::TOK_DSLASHEQ: return "//=";
    case T::TOK_PERCENTEQ: return "%=";
    case T::TOK_POWEQ: return "**=";
    case T::TOK_ATEQ: return "@=";
    case T::TOK_AMPEQ: return "&=";
    case T::TOK_PIPEEQ: return "|=";
    case T::TOK_CARETEQ: return "^=";
    case T::TOK_LSHIFTEQ: return "<<=";
    case T::TOK_RSHIFTEQ: return ">>=";
    default: return "?";
  }
}

}  // namespace

std::vector<std::string> token_names(const SourceFile& src, Diagnostics& diag) {
  using T = Parser::token;
  Lexer lexer(src.text(), ast::Loc{1, 1}, Lexer::Mode::File, diag);
  std::vector<std::string> names;
  for (Token& t : lexer.tokenize()) {
    switch (t.kind) {
      case T::TOK_NAME: names.push_back("NAME(" + t.text + ")"); break;
      case T::TOK_INT: names.push_back("INT(" + std::to_string(t.ival) + ")"); break;
      case T::TOK_FLOAT: names.push_back("FLOAT(" + ast::dump(ast::FloatExpr(t.loc, t.fval)) + ")"); break;
      case T::TOK_STRING: names.push_back("STRING(" + ast::dump(ast::StrExpr(t.loc, t.text)) + ")"); break;
      case T::TOK_FSTRING: {
        // The fields as the parser will see them, expressions still as source text.
        ast::FStringExpr f(t.loc);
        for (auto& field : t.fields) {
          ast::FStringPart p;
          if (field.is_expr) p.expr = std::make_unique<ast::NameExpr>(field.loc, field.text);
          else p.literal = field.text;
          p.conversion = field.conversion;
          p.spec = field.spec;
          f.parts.push_back(std::move(p));
        }
        names.push_back("FSTRING(" + ast::dump(f).substr(3));  // "(f ...)" -> "FSTRING(...)"
        break;
      }
      default: names.push_back(token_spelling(t.kind)); break;
    }
  }
  return names;
}

}  // namespace tvm
