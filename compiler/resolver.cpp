// Python's scoping rules, in two walks per function: first the declarations (what the function
// assigns, and its global/nonlocal statements), then every name use, which is bound to a slot,
// a closure cell or a global. A local that an inner function captures becomes a cell; since
// that is only known once the inner function has been walked, bindings to locals are fixed up
// when the function's walk ends.
#include "resolver.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace tvm {
namespace {

using namespace ast;

struct Scope {
  Scope* parent = nullptr;
  FunctionDef* fn = nullptr;  // null: the module's top level
  std::unordered_set<std::string> globals, nonlocals;
  std::unordered_map<std::string, int> slots;
  std::vector<std::string> slot_names;
  std::unordered_set<int> cells;
  std::unordered_map<std::string, int> free_index;
  std::vector<ScopeInfo::FreeVar> freevars;
  std::vector<Binding*> local_refs;

  bool is_module() const { return fn == nullptr; }
  int add_slot(const std::string& name) {
    auto [it, inserted] = slots.emplace(name, int(slot_names.size()));
    if (inserted) slot_names.push_back(name);
    return it->second;
  }
};

class Resolver {
 public:
  explicit Resolver(Diagnostics& diag) : diag_(diag) {}

  void run(Module& m) {
    Scope scope;
    declare_block(scope, m.body);
    Context ctx;
    walk_block(scope, m.body, ctx);
  }

 private:
  struct Context {
    int loop_depth = 0;
    bool in_function = false;
  };

  // ------------------------------------------------------------ declarations

  void declare_target(Scope& s, Expr& e) {
    switch (e.kind) {
      case ExprKind::Name: note_assigned(s, as<NameExpr>(e).id); break;
      case ExprKind::Tuple: for (auto& x : as<TupleExpr>(e).elts) declare_target(s, *x); break;
      case ExprKind::List: for (auto& x : as<ListExpr>(e).elts) declare_target(s, *x); break;
      case ExprKind::Starred: declare_target(s, *as<StarredExpr>(e).value); break;
      default: break;  // attribute and subscript targets bind no name
    }
  }

  void note_assigned(Scope& s, const std::string& name) {
    if (s.is_module() || s.globals.count(name) || s.nonlocals.count(name)) return;
    s.add_slot(name);
  }

  void declare_block(Scope& s, StmtList& body) {
    for (auto& st : body) declare_stmt(s, *st);
  }

  void declare_stmt(Scope& s, Stmt& st) {
    switch (st.kind) {
      case StmtKind::Assign:
        for (auto& t : as<AssignStmt>(st).targets) declare_target(s, *t);
        break;
      case StmtKind::AugAssign: declare_target(s, *as<AugAssignStmt>(st).target); break;
      case StmtKind::For: {
        auto& f = as<ForStmt>(st);
        declare_target(s, *f.target);
        declare_block(s, f.body);
        declare_block(s, f.orelse);
        break;
      }
      case StmtKind::If: {
        auto& i = as<IfStmt>(st);
        declare_block(s, i.body);
        declare_block(s, i.orelse);
        break;
      }
      case StmtKind::While: {
        auto& w = as<WhileStmt>(st);
        declare_block(s, w.body);
        declare_block(s, w.orelse);
        break;
      }
      case StmtKind::FunctionDef: note_assigned(s, as<FunctionDef>(st).name); break;
      case StmtKind::Import:
        for (auto& a : as<ImportStmt>(st).names) note_assigned(s, a.asname.empty() ? a.name : a.asname);
        break;
      case StmtKind::ImportFrom:
        for (auto& a : as<ImportFromStmt>(st).names) note_assigned(s, a.asname.empty() ? a.name : a.asname);
        break;
      case StmtKind::Global:
      case StmtKind::Nonlocal: declare_names(s, as<NamesStmt>(st)); break;
      default: break;
    }
  }

  void declare_names(Scope& s, NamesStmt& st) {
    bool global = st.kind == StmtKind::Global;
    for (size_t i = 0; i < st.names.size(); ++i) {
      const std::string& name = st.names[i];
      Loc loc = i < st.locs.size() ? st.locs[i] : st.loc;
      if (s.is_module()) {
        if (!global) diag_.error(loc, "nonlocal declaration not allowed at module level");
        continue;
      }
      bool is_param = false;
      for (auto& p : s.fn->params) is_param |= p.name == name;
      is_param |= s.fn->vararg == name;
      if (is_param) {
        diag_.error(loc, "name '" + name + "' is parameter and " + (global ? "global" : "nonlocal"));
        continue;
      }
      if (s.slots.count(name)) {
        diag_.error(loc, "name '" + name + "' is assigned to before " + (global ? "global" : "nonlocal") + " declaration");
        continue;
      }
      if (global ? s.nonlocals.count(name) : s.globals.count(name)) {
        diag_.error(loc, "name '" + name + "' is nonlocal and global");
        continue;
      }
      (global ? s.globals : s.nonlocals).insert(name);
    }
  }

  // ------------------------------------------------------------ uses

  int find_free(Scope& s, const std::string& name) {
    if (auto it = s.free_index.find(name); it != s.free_index.end()) return it->second;
    Scope* p = s.parent;
    if (!p || p->is_module() || p->globals.count(name)) return -1;
    ScopeInfo::FreeVar fv{name, true, -1};
    if (auto it = p->slots.find(name); it != p->slots.end()) {
      p->cells.insert(it->second);
      fv.index = it->second;
    } else {
      int r = find_free(*p, name);
      if (r < 0) return -1;
      fv.from_parent_cell = false;
      fv.index = r;
    }
    int idx = int(s.freevars.size());
    s.freevars.push_back(fv);
    s.free_index.emplace(name, idx);
    return idx;
  }

  void bind(Scope& s, const std::string& name, Binding& b) {
    if (s.is_module() || s.globals.count(name)) {
      b = {BindingKind::Global, -1};
      return;
    }
    if (auto it = s.slots.find(name); it != s.slots.end()) {
      b = {BindingKind::Local, it->second};
      s.local_refs.push_back(&b);
      return;
    }
    int f = find_free(s, name);
    b = f >= 0 ? Binding{BindingKind::Free, f} : Binding{BindingKind::Global, -1};
  }

  void walk_block(Scope& s, StmtList& body, Context& ctx) {
    for (auto& st : body) walk_stmt(s, *st, ctx);
  }

  void walk_stmt(Scope& s, Stmt& st, Context& ctx) {
    switch (st.kind) {
      case StmtKind::Expr: walk_expr(s, *as<ExprStmt>(st).value); break;
      case StmtKind::Assign: {
        auto& a = as<AssignStmt>(st);
        walk_expr(s, *a.value);
        for (auto& t : a.targets) walk_expr(s, *t);
        break;
      }
      case StmtKind::AugAssign: {
        auto& a = as<AugAssignStmt>(st);
        walk_expr(s, *a.target);
        walk_expr(s, *a.value);
        break;
      }
      case StmtKind::If: {
        auto& i = as<IfStmt>(st);
        walk_expr(s, *i.cond);
        walk_block(s, i.body, ctx);
        walk_block(s, i.orelse, ctx);
        break;
      }
      case StmtKind::While: {
        auto& w = as<WhileStmt>(st);
        walk_expr(s, *w.cond);
        ++ctx.loop_depth;
        walk_block(s, w.body, ctx);
        --ctx.loop_depth;
        walk_block(s, w.orelse, ctx);
        break;
      }
      case StmtKind::For: {
        auto& f = as<ForStmt>(st);
        walk_expr(s, *f.iter);
        walk_expr(s, *f.target);
        ++ctx.loop_depth;
        walk_block(s, f.body, ctx);
        --ctx.loop_depth;
        walk_block(s, f.orelse, ctx);
        break;
      }
      case StmtKind::Break:
        if (ctx.loop_depth == 0) diag_.error(st.loc, "'break' outside loop");
        break;
      case StmtKind::Continue:
        if (ctx.loop_depth == 0) diag_.error(st.loc, "'continue' not properly in loop");
        break;
      case StmtKind::Return: {
        auto& r = as<ReturnStmt>(st);
        if (!ctx.in_function) diag_.error(st.loc, "'return' outside function");
        if (r.value) walk_expr(s, *r.value);
        break;
      }
      case StmtKind::FunctionDef: {
        auto& f = as<FunctionDef>(st);
        walk_function(s, f);
        bind(s, f.name, f.binding);
        break;
      }
      case StmtKind::Import:
        for (auto& a : as<ImportStmt>(st).names) bind(s, a.asname.empty() ? a.name : a.asname, a.binding);
        break;
      case StmtKind::ImportFrom:
        for (auto& a : as<ImportFromStmt>(st).names) bind(s, a.asname.empty() ? a.name : a.asname, a.binding);
        break;
      case StmtKind::Assert: {
        auto& a = as<AssertStmt>(st);
        walk_expr(s, *a.test);
        if (a.msg) walk_expr(s, *a.msg);
        break;
      }
      case StmtKind::Nonlocal: {
        auto& n = as<NamesStmt>(st);
        if (s.is_module()) break;
        for (size_t i = 0; i < n.names.size(); ++i)
          if (s.nonlocals.count(n.names[i]) && find_free(s, n.names[i]) < 0)
            diag_.error(n.loc, "no binding for nonlocal '" + n.names[i] + "' found");
        break;
      }
      case StmtKind::Global:
      case StmtKind::Pass: break;
    }
  }

  // Defaults and annotations belong to the enclosing scope; the body gets a scope of its own.
  void walk_function(Scope& outer, FunctionDef& f) {
    for (auto& p : f.params) {
      if (p.default_value) walk_expr(outer, *p.default_value);
      if (p.annotation) walk_annotation(outer, *p.annotation);
    }
    if (f.vararg_annotation) walk_annotation(outer, *f.vararg_annotation);
    if (f.returns) walk_annotation(outer, *f.returns);

    Scope s;
    s.parent = &outer;
    s.fn = &f;
    for (auto& p : f.params) s.add_slot(p.name);
    if (!f.vararg.empty()) s.add_slot(f.vararg);
    declare_block(s, f.body);
    Context ctx;
    ctx.in_function = true;
    walk_block(s, f.body, ctx);
    finish(s, f.scope);
  }

  // Annotation names (int, Tensor, B) are not variables; only a non-annotation expression
  // would need resolving, and annotations are interpreted by the emitter, not evaluated.
  void walk_annotation(Scope&, Expr&) {}

  // A comprehension is a function of one argument (the first iterable's iterator, slot 0);
  // slot 1 holds the result being built.
  void walk_comprehension(Scope& outer, CompExpr& c) {
    walk_expr(outer, *c.generators.front().iter);
    FunctionDef& f = *c.scope;
    Scope s;
    s.parent = &outer;
    s.fn = &f;
    s.add_slot(".0");
    s.add_slot(".r");
    for (auto& g : c.generators) declare_target(s, *g.target);
    for (size_t i = 0; i < c.generators.size(); ++i) {
      auto& g = c.generators[i];
      if (i > 0) walk_expr(s, *g.iter);
      walk_expr(s, *g.target);
      for (auto& cond : g.ifs) walk_expr(s, *cond);
    }
    walk_expr(s, *c.elt);
    if (c.value) walk_expr(s, *c.value);
    finish(s, f.scope);
  }

  void finish(Scope& s, ScopeInfo& info) {
    for (Binding* b : s.local_refs)
      if (s.cells.count(b->index)) b->kind = BindingKind::Cell;
    info.nslots = int(s.slot_names.size());
    info.slot_names = s.slot_names;
    info.cell_slots.assign(s.cells.begin(), s.cells.end());
    std::sort(info.cell_slots.begin(), info.cell_slots.end());
    info.freevars = s.freevars;
  }

  void walk_exprs(Scope& s, ExprList& l) {
    for (auto& e : l) walk_expr(s, *e);
  }

  void walk_expr(Scope& s, Expr& e) {
    switch (e.kind) {
      case ExprKind::Name: {
        auto& n = as<NameExpr>(e);
        bind(s, n.id, n.binding);
        break;
      }
      case ExprKind::Int: case ExprKind::Float: case ExprKind::Str:
      case ExprKind::True: case ExprKind::False: case ExprKind::None: break;
      case ExprKind::FString:
        for (auto& p : as<FStringExpr>(e).parts)
          if (p.expr) walk_expr(s, *p.expr);
        break;
      case ExprKind::List: walk_exprs(s, as<ListExpr>(e).elts); break;
      case ExprKind::Tuple: walk_exprs(s, as<TupleExpr>(e).elts); break;
      case ExprKind::Dict: {
        auto& d = as<DictExpr>(e);
        for (size_t i = 0; i < d.keys.size(); ++i) {
          walk_expr(s, *d.keys[i]);
          walk_expr(s, *d.values[i]);
        }
        break;
      }
      case ExprKind::ListComp:
      case ExprKind::DictComp: walk_comprehension(s, as<CompExpr>(e)); break;
      case ExprKind::BinOp: {
        auto& b = as<BinOpExpr>(e);
        walk_expr(s, *b.left);
        walk_expr(s, *b.right);
        break;
      }
      case ExprKind::Unary: walk_expr(s, *as<UnaryExpr>(e).operand); break;
      case ExprKind::BoolOp: {
        auto& b = as<BoolOpExpr>(e);
        walk_expr(s, *b.left);
        walk_expr(s, *b.right);
        break;
      }
      case ExprKind::Compare: {
        auto& c = as<CompareExpr>(e);
        walk_expr(s, *c.left);
        walk_exprs(s, c.comparators);
        break;
      }
      case ExprKind::IfExp: {
        auto& i = as<IfExpExpr>(e);
        walk_expr(s, *i.cond);
        walk_expr(s, *i.then);
        walk_expr(s, *i.orelse);
        break;
      }
      case ExprKind::Lambda: walk_function(s, *as<LambdaExpr>(e).fn); break;
      case ExprKind::Call: {
        auto& c = as<CallExpr>(e);
        walk_expr(s, *c.func);
        walk_exprs(s, c.args);
        for (auto& k : c.keywords) walk_expr(s, *k.value);
        break;
      }
      case ExprKind::Attribute: walk_expr(s, *as<AttributeExpr>(e).value); break;
      case ExprKind::Subscript: {
        auto& x = as<SubscriptExpr>(e);
        walk_expr(s, *x.value);
        walk_expr(s, *x.index);
        break;
      }
      case ExprKind::Slice: {
        auto& x = as<SliceExpr>(e);
        if (x.lower) walk_expr(s, *x.lower);
        if (x.upper) walk_expr(s, *x.upper);
        if (x.step) walk_expr(s, *x.step);
        break;
      }
      case ExprKind::Starred: walk_expr(s, *as<StarredExpr>(e).value); break;
    }
  }

  Diagnostics& diag_;
};

}  // namespace

void resolve(ast::Module& module, Diagnostics& diag) { Resolver(diag).run(module); }

}  // namespace tvm
