// Internals of the front end shared by the lexer (lexer.l) and the parser (parser.y).
// The public API is parse.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ast.h"
#include "diag.h"
#include "parser.hpp"

namespace tvm {

using TokenKind = Parser::token::token_kind_type;

struct Token {
  Token() = default;
  Token(TokenKind k, ast::Loc l) : kind(k), loc(l) {}
  TokenKind kind = Parser::token::TOK_YYEOF;
  ast::Loc loc;
  std::string text;      // NAME, STRING
  int64_t ival = 0;      // INT
  double fval = 0;       // FLOAT
  FStringFields fields;  // FSTRING
};

// Turns source text into the parser's tokens: INDENT/DEDENT from an indent stack, NEWLINE
// only outside brackets, adjacent string literals joined into one token. Lexical errors go
// to `diag`; the lexer then carries on with a best guess (or an error token that makes the
// parser skip the line), except after a fatal error, when it stops.
class Lexer {
 public:
  // File: a whole module. Expr: an f-string replacement field, as if in parentheses.
  enum class Mode { File, Expr };
  static constexpr int kMaxBrackets = 200;
  static constexpr int kMaxIndentLevels = 100;

  Lexer(std::string_view text, ast::Loc start, Mode mode, Diagnostics& diag);
  std::vector<Token> tokenize();

  // ---- called from the Flex rules (lexer.l)
  void advance(const char* text, size_t len);  // every match: sets the token's location
  void whitespace(const char* text, size_t len);
  void newline();
  void simple(TokenKind kind);
  void open_bracket(TokenKind kind);
  void close_bracket(TokenKind kind);
  void word(std::string_view text);
  void integer(std::string_view text);
  void floating(std::string_view text);
  void bad_number(std::string_view text);
  void string(std::string_view text, bool terminated, bool triple);
  void stray_backslash();
  void invalid_char(std::string_view text);
  bool stopped() const { return stopped_; }

 private:
  void begin_token();  // indentation, at the first token of a logical line
  void end_line(ast::Loc loc);  // a NEWLINE token
  void missing_block(ast::Loc loc);
  void push(Token t);
  void push_string(Token t);
  void error(ast::Loc loc, std::string message);
  void indent_error(ast::Loc loc, std::string message);
  void error_token();  // a LEXERROR token: the parser skips the rest of the line
  void fatal(ast::Loc loc, std::string message);
  void check_utf8();
  bool decode(std::string_view raw, ast::Loc loc, std::string& out);
  FStringFields fstring_fields(std::string_view body, ast::Loc loc, bool raw);

  std::string_view text_;
  Mode mode_;
  Diagnostics& diag_;
  std::vector<Token> out_;
  ast::Loc cur_;       // where the next match starts
  ast::Loc tok_;       // where the current match starts
  ast::Loc last_end_;  // just past the last real token
  bool at_line_start_ = true;
  int pending_indent_ = 0;
  bool pending_tab_ = false;
  // Whether an indented block may follow the last logical line: it ended with ':', or it
  // starts a compound statement whose header lacks its ':' (the parser reports that, and
  // skips the block). Any other indent is reported as unexpected and otherwise ignored.
  bool block_may_follow_ = false;
  bool block_expected_ = false;  // the last line was a compound statement's header, ':' included
  bool line_is_header_ = false;  // the current line starts with if/elif/else/while/for/def
  bool line_has_colon_ = false;  // ... and has a ':' outside brackets
  struct Level {
    int width;
    bool real;  // false: an unexpected indent, reported, that makes no INDENT/DEDENT
  };
  std::vector<Level> indents_;
  int brackets_ = 0;       // open (, [ and {; inside them newlines are insignificant
  int base_brackets_ = 0;  // 1 in Expr mode: a replacement field's implicit parentheses
  bool stopped_ = false;
  // Errors that follow from an earlier one are not reported: a second lexical error in one
  // logical line, or any indentation error after the first in the file.
  bool line_has_error_ = false;
  bool indent_error_seen_ = false;
};

// Shared by a file's parse and the nested parses of its f-string fields.
struct ParseShared {
  explicit ParseShared(Diagnostics& d) : diag(d) {}
  Diagnostics& diag;
  // Nesting depth of the nodes built but not yet attached to a parent (see finish()).
  std::unordered_map<const void*, int> depth;
  int syntax_errors = 0;
};

// The parser's state and its node-building helpers (the grammar actions stay one-liners).
struct ParseCtx {
  static constexpr int kMaxExprDepth = 1000;
  static constexpr int kMaxBlockDepth = 1000;
  static constexpr size_t kMaxStackDepth = 10000;
  static constexpr int kMaxSyntaxErrors = 100;

  ParseCtx(ParseShared& s, std::vector<Token> toks, Lexer::Mode m, ast::Module* mod)
      : shared(s), diag(s.diag), tokens(std::move(toks)), mode(m), module(mod) {}

  ParseShared& shared;
  Diagnostics& diag;
  std::vector<Token> tokens;
  size_t pos = 0;
  bool started = false;
  bool stopped = false;
  bool lookahead_is_lex_error = false;
  Lexer::Mode mode;
  ast::Module* module;  // File mode: where top-level statements go
  ast::ExprPtr expr;    // Expr mode: the result

  void syntax_error(ast::Loc loc);
  void add_to_module(ast::StmtList stmts);

  // Every node goes through finish(), which records its depth and replaces a node nested
  // deeper than the limits by a placeholder (reporting it once), so no tree that leaves
  // the parser is deep enough to overflow a recursive walk — or a recursive destructor.
  ast::ExprPtr finish(ast::ExprPtr e);
  ast::StmtPtr finish(ast::StmtPtr s);

  ast::ExprPtr binop(ast::Loc loc, ast::BinOp op, ast::ExprPtr a, ast::ExprPtr b);
  ast::ExprPtr sequence(ast::Loc loc, ast::ExprList items, bool trailing_comma);
  ast::ExprPtr list(ast::Loc loc, ast::ExprList items);
  ast::ExprPtr dict(ast::Loc loc, pt::DictItems items);
  ast::ExprPtr comprehension(ast::ExprKind kind, ast::Loc loc, ast::ExprPtr elt, ast::ExprPtr value,
                             pt::Generators gens);
  ast::ExprPtr call(ast::Loc loc, ast::ExprPtr func, pt::Args args);
  ast::ExprPtr subscript(ast::Loc loc, ast::ExprPtr value, ast::Loc index_loc, ast::ExprList items,
                         bool trailing_comma);
  ast::ExprPtr slice(ast::Loc loc, ast::ExprPtr lower, ast::ExprPtr upper, ast::ExprPtr step);
  ast::ExprPtr lambda(ast::Loc loc, pt::Params params, ast::ExprPtr body);
  ast::ExprPtr fstring(ast::Loc loc, FStringFields fields);

  ast::StmtPtr if_stmt(pt::IfChain chain, ast::StmtList orelse);
  ast::StmtPtr names_stmt(ast::StmtKind kind, ast::Loc loc, pt::NameLocs names);
  ast::StmtPtr import_from(ast::Loc loc, std::string module, pt::Aliases names);
  void set_params(ast::FunctionDef& fn, pt::Params params);

  void check_target(const ast::Expr& e);
  void check_aug_target(const ast::Expr& e);

 private:
  int take_depth(const void* node);
  ast::ExprPtr parse_field(const FStringField& f);
};

// The parser's token source (defined in parser.y).
Parser::symbol_type next_token(ParseCtx& ctx, size_t stack_depth);

}  // namespace tvm
