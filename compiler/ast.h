// The TL abstract syntax tree: what the parser builds, the resolver annotates and the
// emitters walk. Nodes are plain structs with a kind tag (switch-dispatched, LLVM-style);
// children are owned through unique_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tvm::ast {

// 1-based line and column (columns count code points) of a node's first token.
struct Loc {
  int line = 0;
  int col = 0;
};

// ---------------------------------------------------------------- expressions

enum class ExprKind : uint8_t {
  Name, Int, Float, Str, FString, True, False, None,
  List, Tuple, Dict, ListComp, DictComp,
  BinOp, Unary, BoolOp, Compare, IfExp, Lambda,
  Call, Attribute, Subscript, Slice, Starred,
};

enum class BinOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, MatMul, LShift, RShift, BitAnd, BitOr, BitXor };
enum class UnaryOp : uint8_t { Neg, Pos, Invert, Not };
enum class CmpOp : uint8_t { Lt, Le, Gt, Ge, Eq, Ne, In, NotIn, Is, IsNot };

const char* binop_symbol(BinOp op);   // "+", "//", "@", ...
const char* cmpop_symbol(CmpOp op);   // "<", "not in", ...

struct Expr {
  ExprKind kind;
  Loc loc;
  Expr(ExprKind k, Loc l) : kind(k), loc(l) {}
  virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;
using ExprList = std::vector<ExprPtr>;

struct FunctionDef;  // shared by `def` and `lambda`

// How the resolver bound a name (filled in by compiler/resolver.cpp; the parser leaves Unresolved).
enum class BindingKind : uint8_t { Unresolved, Local, Cell, Free, Global };
struct Binding {
  BindingKind kind = BindingKind::Unresolved;
  int index = -1;  // Local/Cell: frame slot; Free: index into the closure's cells; Global: unused
};

struct NameExpr : Expr {
  std::string id;
  Binding binding;
  NameExpr(Loc l, std::string i) : Expr(ExprKind::Name, l), id(std::move(i)) {}
};
struct IntExpr : Expr {
  int64_t value;
  IntExpr(Loc l, int64_t v) : Expr(ExprKind::Int, l), value(v) {}
};
struct FloatExpr : Expr {
  double value;
  FloatExpr(Loc l, double v) : Expr(ExprKind::Float, l), value(v) {}
};
struct StrExpr : Expr {
  std::string value;  // UTF-8, escapes already decoded, adjacent literals already joined
  StrExpr(Loc l, std::string v) : Expr(ExprKind::Str, l), value(std::move(v)) {}
};
// True, False, None: an Expr with that kind and no payload.
struct ConstExpr : Expr {
  using Expr::Expr;
};

// f"text {expr!r:spec} more": a sequence of literal text and replacement fields.
struct FStringPart {
  std::string literal;  // used when expr is null
  ExprPtr expr;         // the replacement field's expression
  char conversion = 0;  // 0, 'r' or 's'
  std::string spec;     // the format spec after ':' (may be empty)
};
struct FStringExpr : Expr {
  std::vector<FStringPart> parts;
  explicit FStringExpr(Loc l) : Expr(ExprKind::FString, l) {}
};

// List/Tuple elements may be StarredExpr (`[*a, 1]`).
struct ListExpr : Expr {
  ExprList elts;
  explicit ListExpr(Loc l) : Expr(ExprKind::List, l) {}
};
struct TupleExpr : Expr {
  ExprList elts;
  explicit TupleExpr(Loc l) : Expr(ExprKind::Tuple, l) {}
};
struct DictExpr : Expr {
  ExprList keys, values;
  explicit DictExpr(Loc l) : Expr(ExprKind::Dict, l) {}
};

// One `for target in iter if cond ...` clause of a comprehension.
struct CompFor {
  ExprPtr target;
  ExprPtr iter;
  ExprList ifs;
};
// [elt for ...] (ListComp, value null) or {key: value for ...} (DictComp; elt is the key).
// Like Python 3, a comprehension has its own scope: `scope` is a synthetic function whose
// body the resolver analyses; the first iterable is evaluated in the enclosing scope.
struct CompExpr : Expr {
  ExprPtr elt;
  ExprPtr value;
  std::vector<CompFor> generators;
  std::shared_ptr<FunctionDef> scope;  // set by the parser: name "<listcomp>"/"<dictcomp>", no params
  CompExpr(ExprKind k, Loc l) : Expr(k, l) {}
};

struct BinOpExpr : Expr {
  BinOp op;
  ExprPtr left, right;
  BinOpExpr(Loc l, BinOp o, ExprPtr a, ExprPtr b) : Expr(ExprKind::BinOp, l), op(o), left(std::move(a)), right(std::move(b)) {}
};
struct UnaryExpr : Expr {
  UnaryOp op;
  ExprPtr operand;
  UnaryExpr(Loc l, UnaryOp o, ExprPtr e) : Expr(ExprKind::Unary, l), op(o), operand(std::move(e)) {}
};
struct BoolOpExpr : Expr {
  bool is_and;
  ExprPtr left, right;
  BoolOpExpr(Loc l, bool a, ExprPtr x, ExprPtr y) : Expr(ExprKind::BoolOp, l), is_and(a), left(std::move(x)), right(std::move(y)) {}
};
// a < b <= c: left=a, ops={Lt, Le}, comparators={b, c}
struct CompareExpr : Expr {
  ExprPtr left;
  std::vector<CmpOp> ops;
  ExprList comparators;
  explicit CompareExpr(Loc l) : Expr(ExprKind::Compare, l) {}
};
struct IfExpExpr : Expr {
  ExprPtr cond, then, orelse;
  explicit IfExpExpr(Loc l) : Expr(ExprKind::IfExp, l) {}
};
struct LambdaExpr : Expr {
  std::shared_ptr<FunctionDef> fn;  // name "<lambda>", body = one Return statement
  explicit LambdaExpr(Loc l) : Expr(ExprKind::Lambda, l) {}
};

struct Keyword {
  Loc loc;
  std::string name;
  ExprPtr value;
};
// args may contain StarredExpr for `*seq` spreading; keywords follow positionals.
struct CallExpr : Expr {
  ExprPtr func;
  ExprList args;
  std::vector<Keyword> keywords;
  explicit CallExpr(Loc l) : Expr(ExprKind::Call, l) {}
};
struct AttributeExpr : Expr {
  ExprPtr value;
  std::string attr;
  AttributeExpr(Loc l, ExprPtr v, std::string a) : Expr(ExprKind::Attribute, l), value(std::move(v)), attr(std::move(a)) {}
};
// x[i], x[i:j], x[i, j:k]: index is an expression, a SliceExpr, or a TupleExpr of them.
struct SubscriptExpr : Expr {
  ExprPtr value;
  ExprPtr index;
  SubscriptExpr(Loc l, ExprPtr v, ExprPtr i) : Expr(ExprKind::Subscript, l), value(std::move(v)), index(std::move(i)) {}
};
struct SliceExpr : Expr {
  ExprPtr lower, upper, step;  // each may be null
  explicit SliceExpr(Loc l) : Expr(ExprKind::Slice, l) {}
};
struct StarredExpr : Expr {
  ExprPtr value;
  StarredExpr(Loc l, ExprPtr v) : Expr(ExprKind::Starred, l), value(std::move(v)) {}
};

// ---------------------------------------------------------------- statements

enum class StmtKind : uint8_t {
  Expr, Assign, AugAssign, If, While, For, Break, Continue, Pass, Return,
  FunctionDef, Global, Nonlocal, Import, ImportFrom, Assert,
};

struct Stmt {
  StmtKind kind;
  Loc loc;
  Stmt(StmtKind k, Loc l) : kind(k), loc(l) {}
  virtual ~Stmt() = default;
};
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct ExprStmt : Stmt {
  ExprPtr value;
  ExprStmt(Loc l, ExprPtr v) : Stmt(StmtKind::Expr, l), value(std::move(v)) {}
};
// a = b = value: targets {a, b}. A target is a Name, Attribute, Subscript, or a
// Tuple/List of targets (unpacking).
struct AssignStmt : Stmt {
  ExprList targets;
  ExprPtr value;
  explicit AssignStmt(Loc l) : Stmt(StmtKind::Assign, l) {}
};
struct AugAssignStmt : Stmt {
  ExprPtr target;  // Name, Attribute or Subscript
  BinOp op;
  ExprPtr value;
  AugAssignStmt(Loc l, ExprPtr t, BinOp o, ExprPtr v) : Stmt(StmtKind::AugAssign, l), target(std::move(t)), op(o), value(std::move(v)) {}
};
// elif chains become nested IfStmts in orelse.
struct IfStmt : Stmt {
  ExprPtr cond;
  StmtList body, orelse;
  explicit IfStmt(Loc l) : Stmt(StmtKind::If, l) {}
};
struct WhileStmt : Stmt {
  ExprPtr cond;
  StmtList body, orelse;  // orelse: Python's while-else
  explicit WhileStmt(Loc l) : Stmt(StmtKind::While, l) {}
};
struct ForStmt : Stmt {
  ExprPtr target;
  ExprPtr iter;
  StmtList body, orelse;
  explicit ForStmt(Loc l) : Stmt(StmtKind::For, l) {}
};
// Break, Continue, Pass: a Stmt with that kind and no payload.
struct SimpleStmt : Stmt {
  using Stmt::Stmt;
};
struct ReturnStmt : Stmt {
  ExprPtr value;  // may be null
  explicit ReturnStmt(Loc l) : Stmt(StmtKind::Return, l) {}
};

struct Param {
  Loc loc;
  std::string name;
  ExprPtr annotation;  // may be null; Name (int, float, ...) or Subscript Tensor[...]
  ExprPtr default_value;  // may be null
};

// How the resolver laid out a function's frame.
struct ScopeInfo {
  int nslots = 0;                 // params first (positional, then *args), then other locals
  std::vector<std::string> slot_names;
  std::vector<int> cell_slots;    // slots whose variable is captured by an inner function
  // For each free variable (index = Binding::index of Free names): where the enclosing
  // function keeps it when this function is created — its cell slot, or its own free index.
  struct FreeVar {
    std::string name;
    bool from_parent_cell;  // true: parent's frame slot `index`; false: parent's free `index`
    int index;
  };
  std::vector<FreeVar> freevars;
};

struct FunctionDef : Stmt {
  std::string name;
  std::vector<Param> params;
  std::string vararg;            // name of *args, empty if none
  Loc vararg_loc;
  ExprPtr vararg_annotation;     // may be null
  ExprPtr returns;               // return annotation, may be null
  StmtList body;
  bool is_lambda = false;
  Binding binding;               // where the def's name is stored (unused for lambdas)
  ScopeInfo scope;               // filled by the resolver
  explicit FunctionDef(Loc l) : Stmt(StmtKind::FunctionDef, l) {}
};

struct NamesStmt : Stmt {  // global / nonlocal
  std::vector<std::string> names;
  std::vector<Loc> locs;
  NamesStmt(StmtKind k, Loc l) : Stmt(k, l) {}
};

struct ImportAlias {
  Loc loc;
  std::string name;    // module name (Import) or imported attribute (ImportFrom)
  std::string asname;  // empty if none
  Binding binding;     // where the bound name is stored
};
struct ImportStmt : Stmt {  // import a, b as c
  std::vector<ImportAlias> names;
  explicit ImportStmt(Loc l) : Stmt(StmtKind::Import, l) {}
};
struct ImportFromStmt : Stmt {  // from m import a, b as c
  std::string module;
  std::vector<ImportAlias> names;
  explicit ImportFromStmt(Loc l) : Stmt(StmtKind::ImportFrom, l) {}
};
struct AssertStmt : Stmt {
  ExprPtr test;
  ExprPtr msg;  // may be null
  explicit AssertStmt(Loc l) : Stmt(StmtKind::Assert, l) {}
};

// A parsed source file.
struct Module {
  std::string filename;
  StmtList body;
  ScopeInfo scope;  // unused slots; module-level names are globals
};

// A compact S-expression of a tree, for tests and debugging: `(= x (+ 1 (* 2 y)))`,
// `(if c (pass) else (return))`, `(def f (x (y = 1) *args) -> int (return x))`. A Module is
// its top-level statements, one per line.
std::string dump(const Expr& e);
std::string dump(const Stmt& s);
std::string dump(const Module& m);

template <typename T, typename B>
T& as(B& node) { return static_cast<T&>(node); }
template <typename T, typename B>
const T& as(const B& node) { return static_cast<const T&>(node); }

}  // namespace tvm::ast
