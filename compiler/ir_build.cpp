// Resolved AST -> IR, one walk per function, with the same evaluation order, error locations
// and runtime checks as the stack emitter (compiler/emit_stack.cpp is the model for every
// construct).
//
// The walk is also where pack time's knowledge is used (a partial evaluator): it tracks, for
// each local variable, whether it is definitely assigned (reads of those need no CHECKDEF) and
// what it currently holds when that is known (a constant or another vreg); frozen closure
// cells and globals read as constants; calls of small frozen functions are inlined; `for` over
// a frozen list or tuple is unrolled; operations on constants that cannot raise are folded.
// At a join of control flow the facts of the incoming edges are intersected; a loop's head
// forgets what the loop body assigns.
#include <algorithm>
#include <map>
#include <optional>

#include "../vm/builtins.h"
#include "../vm/error.h"
#include "../vm/ops.h"
#include "../vm/tensor_ops.h"
#include "emit_reg.h"
#include "emit_stack.h"
#include "ir.h"

namespace tvm::ir {
namespace {

using namespace ast;

constexpr int kMaxInlineNodes = 40;
constexpr int kMaxInlineDepth = 8;
constexpr size_t kMaxUnroll = 64;

SourceLoc sl(Loc l) { return {l.line, l.col}; }

struct State {
  std::vector<char> assigned;         // per vreg
  std::map<int, Opd> known;           // home vreg -> what it holds now
  bool is_assigned(int v) const { return size_t(v) < assigned.size() && assigned[size_t(v)]; }
  void set_assigned(int v) {
    if (size_t(v) >= assigned.size()) assigned.resize(size_t(v) + 1, 0);
    assigned[size_t(v)] = 1;
  }
  // v is being assigned: facts about it, and facts that name it, end.
  void forget(int v) {
    known.erase(v);
    std::erase_if(known, [v](const auto& kv) { return kv.second.is_reg() && kv.second.v == v; });
  }
};

State merge(const std::vector<State>& in) {
  State s = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    const State& o = in[i];
    for (size_t v = 0; v < s.assigned.size(); ++v)
      if (s.assigned[v] && !o.is_assigned(int(v))) s.assigned[v] = 0;
    std::erase_if(s.known, [&](const auto& kv) {
      auto it = o.known.find(kv.first);
      return it == o.known.end() || it->second != kv.second;
    });
  }
  return s;
}

struct Loop {
  int break_block;
  int continue_block;
};

// One function body being built: the compiled function itself, or a callee inlined into it.
struct Scope {
  const FunctionDef* def = nullptr;    // null: a module's top level
  const CompExpr* comp = nullptr;      // a comprehension's body
  const ScopeInfo* info = nullptr;
  FunctionObj* frozen = nullptr;       // its closure is a pack-time value: free reads are constants
  ModuleObj* module = nullptr;
  Diagnostics* diag = nullptr;
  std::vector<int> slot_vreg;          // home vreg of each frame slot (a cell slot: the cell's)
  std::vector<char> slot_is_cell;
  std::vector<Loop> loops;
  bool check_return = false;
  // Inlined callees: where `return` goes.
  bool inlined = false;
  int ret_block = -1;
  int ret_vreg = -1;
  std::vector<Opd> ret_values;
  bool needs_checkdef = false;         // a local may be read unassigned: the inlining is undone
  // A callee from another source file: a CodeObj has one file name, so its instructions take
  // the location of the call in this one.
  std::optional<SourceLoc> call_site;
};

bool is_comp_code(const CodeObj* c) { return c->name == "<listcomp>" || c->name == "<dictcomp>"; }

// ------------------------------------------------------------------ AST scans

// Counts nodes and notes what an inlined body may not contain.
struct InlineScan {
  int nodes = 0;
  bool ok = true;
  std::vector<const NameExpr*> globals;  // global reads, to check they resolve

  void expr(const Expr* e) {
    if (!e || !ok) return;
    ++nodes;
    switch (e->kind) {
      case ExprKind::Name:
        if (as<NameExpr>(*e).binding.kind == BindingKind::Global || as<NameExpr>(*e).binding.kind == BindingKind::Unresolved)
          globals.push_back(&as<NameExpr>(*e));
        break;
      case ExprKind::FString:
        for (auto& p : as<FStringExpr>(*e).parts) expr(p.expr.get());
        break;
      case ExprKind::List: for (auto& x : as<ListExpr>(*e).elts) expr(x.get()); break;
      case ExprKind::Tuple: for (auto& x : as<TupleExpr>(*e).elts) expr(x.get()); break;
      case ExprKind::Dict:
        for (auto& x : as<DictExpr>(*e).keys) expr(x.get());
        for (auto& x : as<DictExpr>(*e).values) expr(x.get());
        break;
      case ExprKind::ListComp:
      case ExprKind::DictComp:
      case ExprKind::Lambda: ok = false; break;
      case ExprKind::BinOp: expr(as<BinOpExpr>(*e).left.get()); expr(as<BinOpExpr>(*e).right.get()); break;
      case ExprKind::Unary: expr(as<UnaryExpr>(*e).operand.get()); break;
      case ExprKind::BoolOp: expr(as<BoolOpExpr>(*e).left.get()); expr(as<BoolOpExpr>(*e).right.get()); break;
      case ExprKind::Compare:
        expr(as<CompareExpr>(*e).left.get());
        for (auto& x : as<CompareExpr>(*e).comparators) expr(x.get());
        break;
      case ExprKind::IfExp:
        expr(as<IfExpExpr>(*e).cond.get());
        expr(as<IfExpExpr>(*e).then.get());
        expr(as<IfExpExpr>(*e).orelse.get());
        break;
      case ExprKind::Call:
        expr(as<CallExpr>(*e).func.get());
        for (auto& x : as<CallExpr>(*e).args) expr(x.get());
        for (auto& k : as<CallExpr>(*e).keywords) expr(k.value.get());
        break;
      case ExprKind::Attribute: expr(as<AttributeExpr>(*e).value.get()); break;
      case ExprKind::Subscript: expr(as<SubscriptExpr>(*e).value.get()); expr(as<SubscriptExpr>(*e).index.get()); break;
      case ExprKind::Slice:
        expr(as<SliceExpr>(*e).lower.get());
        expr(as<SliceExpr>(*e).upper.get());
        expr(as<SliceExpr>(*e).step.get());
        break;
      case ExprKind::Starred: expr(as<StarredExpr>(*e).value.get()); break;
      default: break;
    }
  }
  void block(const StmtList& b) {
    for (auto& s : b) stmt(*s);
  }
  void stmt(const Stmt& s) {
    if (!ok) return;
    ++nodes;
    switch (s.kind) {
      case StmtKind::Expr: expr(as<ExprStmt>(s).value.get()); break;
      case StmtKind::Assign:
        for (auto& t : as<AssignStmt>(s).targets) expr(t.get());
        expr(as<AssignStmt>(s).value.get());
        break;
      case StmtKind::AugAssign: expr(as<AugAssignStmt>(s).target.get()); expr(as<AugAssignStmt>(s).value.get()); break;
      case StmtKind::If:
        expr(as<IfStmt>(s).cond.get());
        block(as<IfStmt>(s).body);
        block(as<IfStmt>(s).orelse);
        break;
      case StmtKind::While:
        expr(as<WhileStmt>(s).cond.get());
        block(as<WhileStmt>(s).body);
        block(as<WhileStmt>(s).orelse);
        break;
      case StmtKind::For:
        expr(as<ForStmt>(s).target.get());
        expr(as<ForStmt>(s).iter.get());
        block(as<ForStmt>(s).body);
        block(as<ForStmt>(s).orelse);
        break;
      case StmtKind::Return: expr(as<ReturnStmt>(s).value.get()); break;
      case StmtKind::Assert: expr(as<AssertStmt>(s).test.get()); expr(as<AssertStmt>(s).msg.get()); break;
      case StmtKind::FunctionDef:
      case StmtKind::Global:
      case StmtKind::Nonlocal:
      case StmtKind::Import:
      case StmtKind::ImportFrom: ok = false; break;
      default: break;
    }
  }
};

// The local slots a loop body assigns (their facts do not hold at the loop's head).
void assigned_slots(const Expr& t, std::vector<int>& out) {
  switch (t.kind) {
    case ExprKind::Name:
      if (as<NameExpr>(t).binding.kind == BindingKind::Local) out.push_back(as<NameExpr>(t).binding.index);
      break;
    case ExprKind::Tuple: for (auto& x : as<TupleExpr>(t).elts) assigned_slots(*x, out); break;
    case ExprKind::List: for (auto& x : as<ListExpr>(t).elts) assigned_slots(*x, out); break;
    default: break;
  }
}
void assigned_slots(const StmtList& body, std::vector<int>& out) {
  for (auto& sp : body) {
    const Stmt& s = *sp;
    switch (s.kind) {
      case StmtKind::Assign:
        for (auto& t : as<AssignStmt>(s).targets) assigned_slots(*t, out);
        break;
      case StmtKind::AugAssign: assigned_slots(*as<AugAssignStmt>(s).target, out); break;
      case StmtKind::If:
        assigned_slots(as<IfStmt>(s).body, out);
        assigned_slots(as<IfStmt>(s).orelse, out);
        break;
      case StmtKind::While:
        assigned_slots(as<WhileStmt>(s).body, out);
        assigned_slots(as<WhileStmt>(s).orelse, out);
        break;
      case StmtKind::For:
        assigned_slots(*as<ForStmt>(s).target, out);
        assigned_slots(as<ForStmt>(s).body, out);
        assigned_slots(as<ForStmt>(s).orelse, out);
        break;
      case StmtKind::FunctionDef:
        if (as<FunctionDef>(s).binding.kind == BindingKind::Local) out.push_back(as<FunctionDef>(s).binding.index);
        break;
      case StmtKind::Import:
        for (auto& a : as<ImportStmt>(s).names)
          if (a.binding.kind == BindingKind::Local) out.push_back(a.binding.index);
        break;
      case StmtKind::ImportFrom:
        for (auto& a : as<ImportFromStmt>(s).names)
          if (a.binding.kind == BindingKind::Local) out.push_back(a.binding.index);
        break;
      default: break;
    }
  }
}

bool has_starred(const ExprList& l) {
  return std::any_of(l.begin(), l.end(), [](const ExprPtr& e) { return e->kind == ExprKind::Starred; });
}

ROp binop(BinOp op) {
  switch (op) {
    case BinOp::Add: return ROp::ADD;
    case BinOp::Sub: return ROp::SUB;
    case BinOp::Mul: return ROp::MUL;
    case BinOp::Div: return ROp::DIV;
    case BinOp::FloorDiv: return ROp::FLOORDIV;
    case BinOp::Mod: return ROp::MOD;
    case BinOp::Pow: return ROp::POW;
    case BinOp::MatMul: return ROp::MATMUL;
    case BinOp::LShift: return ROp::LSHIFT;
    case BinOp::RShift: return ROp::RSHIFT;
    case BinOp::BitAnd: return ROp::BITAND;
    case BinOp::BitOr: return ROp::BITOR;
    case BinOp::BitXor: return ROp::BITXOR;
  }
  return ROp::NOP;
}

ROp cmpop(CmpOp op) {
  switch (op) {
    case CmpOp::Lt: return ROp::LT;
    case CmpOp::Le: return ROp::LE;
    case CmpOp::Gt: return ROp::GT;
    case CmpOp::Ge: return ROp::GE;
    case CmpOp::Eq: return ROp::EQ;
    case CmpOp::Ne: return ROp::NE;
    case CmpOp::In: return ROp::IN;
    case CmpOp::NotIn: return ROp::NOTIN;
    case CmpOp::Is: return ROp::IS;
    case CmpOp::IsNot: return ROp::ISNOT;
  }
  return ROp::NOP;
}

bool is_ordering(CmpOp op) { return op <= CmpOp::Ne; }

// ------------------------------------------------------------------ the builder

class Builder {
 public:
  Builder(const BuildEnv& env) : env_(env), f_(std::make_unique<Function>()) {
    f_->code = new CodeObj();
    f_->code->is_register = true;
  }

  std::unique_ptr<Function> module_body(const Module& m, ModuleObj* module, Diagnostics& diag) {
    CodeObj* c = f_->code;
    c->name = "<module>";
    c->filename = m.filename;
    c->ast = &m;
    Scope s;
    s.module = module;
    s.diag = &diag;
    scopes_.push_back(&s);
    start_entry();
    block(m.body);
    emit_return(Opd::konst(f_->add_const(Value::none())), last_loc_, false);
    scopes_.pop_back();
    return std::move(f_);
  }

  std::unique_ptr<Function> function_body(const FunctionDef& fd, const std::string& filename, FunctionObj* frozen,
                                          ModuleObj* module, Diagnostics& diag) {
    CodeObj* c = f_->code;
    c->name = fd.name;
    c->filename = filename;
    c->ast = &fd;
    Scope s;
    s.def = &fd;
    s.info = &fd.scope;
    s.frozen = frozen;
    s.module = module;
    s.diag = &diag;
    scopes_.push_back(&s);
    setup_frame(s, fd.params.size(), !fd.vararg.empty());
    annotations(fd);
    start_entry();
    prologue(s);
    block(fd.body);
    emit_return(Opd::konst(f_->add_const(Value::none())), sl(fd.loc), true);
    scopes_.pop_back();
    return std::move(f_);
  }

  std::unique_ptr<Function> comprehension_body(const CompExpr& ce, const std::string& filename, FunctionObj* frozen,
                                               ModuleObj* module, Diagnostics& diag) {
    const FunctionDef& fd = *ce.scope;
    CodeObj* c = f_->code;
    c->name = fd.name;
    c->filename = filename;
    c->ast = &ce;
    Scope s;
    s.def = &fd;
    s.comp = &ce;
    s.info = &fd.scope;
    s.frozen = frozen;
    s.module = module;
    s.diag = &diag;
    scopes_.push_back(&s);
    setup_frame(s, 1, false);
    start_entry();
    prologue(s);
    bool is_dict = ce.kind == ExprKind::DictComp;
    Opd r = temp(is_dict ? Op::NewDict : Op::NewList, {}, sl(ce.loc));
    assign_local(s.slot_vreg[1], r);
    comp_loop(ce, 0, Opd::reg(s.slot_vreg[0]));
    emit_return(Opd::reg(s.slot_vreg[1]), sl(ce.loc), false);
    scopes_.pop_back();
    return std::move(f_);
  }

 private:
  // ------------------------------------------------------------ plumbing

  Scope& scope() { return *scopes_.back(); }
  Function& fn() { return *f_; }
  bool reachable() const { return cur_ >= 0; }

  int new_block() {
    f_->blocks.emplace_back();
    incoming_.emplace_back();
    fixed_.emplace_back();
    return int(f_->blocks.size() - 1);
  }

  void start_entry() {
    cur_ = new_block();
    // Parameters are assigned on entry.
    for (int p = 0; p < f_->nparams; ++p) state_.set_assigned(p);
  }

  // Continues building in block b, with the facts of the edges into it.
  void start_block(int b) {
    if (fixed_[size_t(b)]) {
      state_ = *fixed_[size_t(b)];
      cur_ = b;
    } else if (!incoming_[size_t(b)].empty()) {
      state_ = merge(incoming_[size_t(b)]);
      cur_ = b;
    } else {
      cur_ = -1;  // nothing reaches it
    }
    incoming_[size_t(b)].clear();
  }

  void edge_to(int b) {
    if (!fixed_[size_t(b)]) incoming_[size_t(b)].push_back(state_);
  }

  void emit(Instr in) {
    if (!reachable()) return;
    bool term = is_terminator(in.op);
    if (term) {
      if (in.t0 >= 0) edge_to(in.t0);
      if (in.t1 >= 0 && in.t1 != in.t0) edge_to(in.t1);
    }
    f_->blocks[size_t(cur_)].instrs.push_back(std::move(in));
    if (term) cur_ = -1;
  }

  Instr make(Op op, std::vector<Opd> args, SourceLoc loc, ROp sub = ROp::NOP, int imm = 0) {
    Instr in;
    in.op = op;
    in.args = std::move(args);
    in.loc = scope().call_site ? *scope().call_site : loc;
    in.sub = sub;
    in.imm = imm;
    return in;
  }

  // An instruction with a fresh destination; its value as an operand.
  Opd temp(Op op, std::vector<Opd> args, SourceLoc loc, ROp sub = ROp::NOP, int imm = 0) {
    if (!reachable()) return none();
    Instr in = make(op, std::move(args), loc, sub, imm);
    in.dst = f_->new_vreg();
    int d = in.dst;
    emit(std::move(in));
    return Opd::reg(d);
  }

  void effect(Op op, std::vector<Opd> args, SourceLoc loc, ROp sub = ROp::NOP, int imm = 0) {
    emit(make(op, std::move(args), loc, sub, imm));
  }

  void jump(int target) {
    Instr in;
    in.op = Op::Jmp;
    in.t0 = target;
    emit(std::move(in));
  }

  Opd konst(Value v) { return Opd::konst(f_->add_const(v)); }
  Opd adopt(Value v) { return Opd::konst(f_->adopt_const(v)); }
  Opd none() { return konst(Value::none()); }
  Value value_of(const Opd& o) { return f_->konst(o.v); }

  void move_to(int v, Opd src, SourceLoc loc = {0, 0}) {
    if (src.is_reg() && src.v == v) return;
    Instr in = make(Op::Move, {src}, loc);
    in.dst = v;
    emit(std::move(in));
  }

  void assign_local(int v, Opd value, SourceLoc loc = {0, 0}) {
    if (!reachable()) return;
    move_to(v, value, loc);
    state_.forget(v);
    state_.set_assigned(v);
    if (!(value.is_reg() && value.v == v)) state_.known[v] = value;
  }

  void error(Loc loc, const std::string& msg) { scope().diag->error(loc, msg); }

  // ------------------------------------------------------------ frames and annotations

  // Parameters are vregs 0..n-1 (in R[0..n) on entry); every other slot gets a home vreg.
  void setup_frame(Scope& s, size_t nparams, bool varargs) {
    int n = int(nparams) + (varargs ? 1 : 0);
    f_->nparams = n;
    f_->nvregs = n;
    CodeObj* c = f_->code;
    c->nparams = int(nparams);
    c->has_varargs = varargs;
    c->nslots = s.info->nslots;
    c->nfree = int(s.info->freevars.size());
    for (auto& name : s.info->slot_names) c->slot_names.push_back(intern(name));
    for (auto& fv : s.info->freevars) c->free_names.push_back(intern(fv.name));
    f_->param_rank.assign(size_t(n), -1);
    s.slot_vreg.resize(size_t(s.info->nslots));
    s.slot_is_cell.assign(size_t(s.info->nslots), 0);
    for (int slot : s.info->cell_slots) s.slot_is_cell[size_t(slot)] = 1;
    for (int i = 0; i < s.info->nslots; ++i)
      s.slot_vreg[size_t(i)] = (i < n && !s.slot_is_cell[size_t(i)]) ? i : f_->new_vreg();
  }

  // CHECKARGS, then a cell for each captured variable (holding the parameter's value for
  // parameters), as the stack emitter's setup_frame.
  void prologue(Scope& s) {
    CodeObj* c = f_->code;
    bool any_param = std::any_of(c->param_annotations.begin(), c->param_annotations.end(),
                                 [](const Annotation& a) { return a.kind != Annotation::Any; });
    SourceLoc loc = sl(s.def ? s.def->loc : Loc{});
    if (s.comp) loc = sl(s.comp->loc);
    if (c->annotated && any_param) effect(Op::CheckArgs, {}, loc);
    for (int slot : s.info->cell_slots) {
      Instr in = make(Op::MakeCell, {}, loc);
      if (slot < f_->nparams) in.args.push_back(Opd::reg(slot));
      in.dst = s.slot_vreg[size_t(slot)];
      emit(std::move(in));
    }
    s.check_return = c->annotated && c->return_annotation.kind != Annotation::Any;
  }

  void annotations(const FunctionDef& fd) {
    CodeObj* c = f_->code;
    bool annotated = fd.returns != nullptr || fd.vararg_annotation != nullptr;
    for (auto& p : fd.params) annotated |= p.annotation != nullptr;
    if (!annotated || fd.is_lambda) return;
    c->annotated = true;
    for (auto& p : fd.params) c->param_annotations.push_back(annotation(p.annotation.get()));
    if (c->has_varargs) c->param_annotations.push_back(annotation(fd.vararg_annotation.get()));
    c->return_annotation = annotation(fd.returns.get());
    bool any_param = std::any_of(c->param_annotations.begin(), c->param_annotations.end(),
                                 [](const Annotation& a) { return a.kind != Annotation::Any; });
    const auto& ret = c->return_annotation.dims;
    c->keep_dim_bindings = any_param && std::any_of(ret.begin(), ret.end(), [](const Annotation::Dim& d) { return d.size < 0; });
    for (size_t i = 0; i < c->param_annotations.size() && i < f_->param_rank.size(); ++i) {
      const Annotation& a = c->param_annotations[i];
      if (a.kind == Annotation::Tensor) f_->param_rank[i] = a.has_dims ? int(a.dims.size()) : -2;
    }
  }

  // The stack emitter's reading of an annotation, for the same CodeObj fields and messages.
  Annotation annotation(const Expr* e) { return read_annotation(e, f_->code->dim_names, *scope().diag); }

  void emit_return(Opd v, SourceLoc loc, bool check) {
    if (!reachable()) return;
    Scope& s = scope();
    if (s.inlined) {
      s.ret_values.push_back(v);
      move_to(s.ret_vreg, v, loc);
      jump(s.ret_block);
      return;
    }
    if (check && s.check_return) effect(Op::CheckReturn, {v}, loc);
    effect(Op::Return, {v}, loc);
  }

  // ------------------------------------------------------------ statements

  void block(const StmtList& body) {
    for (auto& s : body) {
      if (!reachable()) return;
      stmt(*s);
    }
  }

  void stmt(const Stmt& s) {
    stmt_loc_ = s.loc;
    last_loc_ = sl(s.loc);
    SourceLoc loc = sl(s.loc);
    switch (s.kind) {
      case StmtKind::Expr: expr(*as<ExprStmt>(s).value); break;
      case StmtKind::Assign: {
        auto& a = as<AssignStmt>(s);
        Opd v = expr(*a.value);
        for (auto& t : a.targets) store(*t, v);
        break;
      }
      case StmtKind::AugAssign: augassign(as<AugAssignStmt>(s)); break;
      case StmtKind::If: {
        auto& i = as<IfStmt>(s);
        int then_b = new_block(), else_b = new_block(), end = new_block();
        cond_branch(*i.cond, then_b, i.orelse.empty() ? end : else_b);
        start_block(then_b);
        block(i.body);
        jump(end);
        if (!i.orelse.empty()) {
          start_block(else_b);
          block(i.orelse);
          jump(end);
        }
        start_block(end);
        break;
      }
      case StmtKind::While: {
        auto& w = as<WhileStmt>(s);
        int head = new_block(), body = new_block(), exit = new_block(), after = new_block();
        enter_loop_head(head, w.body);
        jump(head);
        start_block(head);
        cond_branch(*w.cond, body, exit);
        start_block(body);
        scope().loops.push_back({after, head});
        block(w.body);
        jump(head);
        scope().loops.pop_back();
        start_block(exit);
        block(w.orelse);
        jump(after);
        start_block(after);
        break;
      }
      case StmtKind::For: for_stmt(as<ForStmt>(s)); break;
      case StmtKind::Break: jump(scope().loops.back().break_block); break;
      case StmtKind::Continue: jump(scope().loops.back().continue_block); break;
      case StmtKind::Pass:
      case StmtKind::Global:
      case StmtKind::Nonlocal: break;
      case StmtKind::Return: {
        auto& r = as<ReturnStmt>(s);
        Opd v = r.value ? expr(*r.value) : none();
        emit_return(v, loc, true);
        break;
      }
      case StmtKind::FunctionDef: {
        auto& fd = as<FunctionDef>(s);
        Opd fnv = make_function(fd, loc);
        store_binding(fd.name, fd.binding, fnv, loc);
        break;
      }
      case StmtKind::Import:
        if (env_.in_entry) {
          error(s.loc, "import inside a package entry is not supported");
          break;
        }
        for (auto& a : as<ImportStmt>(s).names) {
          Opd m = temp(Op::Import, {}, loc, ROp::NOP, f_->name_const(a.name));
          store_binding(a.asname.empty() ? a.name : a.asname, a.binding, m, loc);
        }
        break;
      case StmtKind::ImportFrom: {
        if (env_.in_entry) {
          error(s.loc, "import inside a package entry is not supported");
          break;
        }
        auto& im = as<ImportFromStmt>(s);
        Opd m = temp(Op::Import, {}, loc, ROp::NOP, f_->name_const(im.module));
        for (auto& a : im.names) {
          Opd v = temp(Op::ImportFrom, {m}, sl(a.loc), ROp::NOP, f_->name_const(a.name));
          store_binding(a.asname.empty() ? a.name : a.asname, a.binding, v, sl(a.loc));
        }
        break;
      }
      case StmtKind::Assert: {
        auto& a = as<AssertStmt>(s);
        int fail = new_block(), ok = new_block();
        cond_branch(*a.test, ok, fail);
        start_block(fail);
        if (reachable()) {
          std::vector<Opd> args;
          if (a.msg) args.push_back(expr(*a.msg));
          effect(Op::AssertFail, std::move(args), loc);
        }
        start_block(ok);
        break;
      }
    }
  }

  // A loop's head holds the facts of the code before the loop, less those about what the
  // body assigns.
  void enter_loop_head(int head, const StmtList& body, const Expr* target = nullptr) {
    if (!reachable()) return;
    std::vector<int> slots;
    assigned_slots(body, slots);
    if (target) assigned_slots(*target, slots);
    State s = state_;
    for (int slot : slots) s.forget(scope().slot_vreg[size_t(slot)]);
    fixed_[size_t(head)] = std::move(s);
  }

  void for_stmt(const ForStmt& f) {
    SourceLoc loc = sl(f.loc);
    Opd it = expr(*f.iter);
    if (!reachable()) return;
    if (env_.specialise && it.is_const() && unroll(f, value_of(it))) return;
    Opd iter = temp(Op::GetIter, {it}, loc);
    int head = new_block(), body = new_block(), exit = new_block(), after = new_block();
    enter_loop_head(head, f.body, f.target.get());
    jump(head);
    start_block(head);
    int item = -1;
    if (reachable()) {
      Instr in = make(Op::ForIter, {iter}, loc);
      in.dst = item = f_->new_vreg();
      in.t0 = body;
      in.t1 = exit;
      emit(std::move(in));
    }
    start_block(body);
    store(*f.target, Opd::reg(item));
    scope().loops.push_back({after, head});
    block(f.body);
    jump(head);
    scope().loops.pop_back();
    start_block(exit);
    block(f.orelse);
    jump(after);
    start_block(after);
  }

  // `for v in <frozen list or tuple>`: the body once per item, v bound to the item.
  bool unroll(const ForStmt& f, Value seq) {
    std::vector<Value>* items = nullptr;
    if (is_type(seq, ObjType::Tuple)) items = &as_obj<TupleObj>(seq)->items;
    else if (is_type(seq, ObjType::List) && env_.frozen_globals) items = &as_obj<ListObj>(seq)->items;
    if (!items || items->size() > kMaxUnroll) return false;
    if (f.target->kind != ExprKind::Name || as<NameExpr>(*f.target).binding.kind != BindingKind::Local) return false;
    std::vector<Value> held(items->begin(), items->end());  // the sequence is frozen; hold nothing extra
    int after = new_block();
    scope().loops.push_back({after, -1});
    for (Value item : held) {
      int next = new_block();
      scope().loops.back().continue_block = next;
      store(*f.target, konst(item));
      block(f.body);
      jump(next);
      start_block(next);
    }
    scope().loops.pop_back();
    block(f.orelse);
    jump(after);
    start_block(after);
    return true;
  }

  void augassign(const AugAssignStmt& a) {
    ROp op = a.op == BinOp::Add ? ROp::INPLACE_ADD : binop(a.op);
    SourceLoc loc = sl(a.loc);
    const Expr& t = *a.target;
    switch (t.kind) {
      case ExprKind::Name: {
        Opd cur = expr(t);
        Opd v = expr(*a.value);
        store(t, binary(op, cur, v, loc));
        break;
      }
      case ExprKind::Attribute: {
        auto& at = as<AttributeExpr>(t);
        Opd obj = expr(*at.value);
        int name = f_->name_const(at.attr);
        Opd cur = temp(Op::GetAttr, {obj}, loc, ROp::NOP, name);
        Opd v = expr(*a.value);
        Opd r = binary(op, cur, v, loc);
        effect(Op::SetAttr, {obj, r}, loc, ROp::NOP, name);
        break;
      }
      case ExprKind::Subscript: {
        auto& sub = as<SubscriptExpr>(t);
        Opd obj = expr(*sub.value);
        Opd idx = index(*sub.index);
        Opd cur = temp(Op::GetItem, {obj, idx}, loc);
        Opd v = expr(*a.value);
        Opd r = binary(op, cur, v, loc);
        effect(Op::SetItem, {obj, idx, r}, loc);
        break;
      }
      default: error(t.loc, "illegal expression for augmented assignment");
    }
  }

  void store_binding(const std::string& name, const Binding& b, Opd v, SourceLoc loc) {
    if (!reachable()) return;
    Scope& s = scope();
    switch (b.kind) {
      case BindingKind::Local: assign_local(s.slot_vreg[size_t(b.index)], v, loc); break;
      case BindingKind::Cell: effect(Op::SetCell, {Opd::reg(s.slot_vreg[size_t(b.index)]), v}, loc); break;
      case BindingKind::Free:
        if (s.frozen) {
          error(stmt_loc_, "cannot modify frozen value '" + name + "'");
          break;
        }
        effect(Op::SetFree, {v}, loc, ROp::NOP, b.index);
        break;
      case BindingKind::Global:
      case BindingKind::Unresolved:
        if (env_.frozen_globals) {
          error(stmt_loc_, "cannot assign global '" + name + "' in a package entry");
          break;
        }
        effect(Op::SetGlobal, {v}, loc, ROp::NOP, global_slot(s, name));
        break;
    }
  }

  int global_slot(Scope& s, const std::string& name) {
    int slot = s.module->slot(name);
    if (slot > int(kMaxBC)) error(stmt_loc_, "too many global names");
    return slot;
  }

  void store(const Expr& t, Opd v) {
    SourceLoc loc = sl(t.loc);
    switch (t.kind) {
      case ExprKind::Name: {
        auto& n = as<NameExpr>(t);
        store_binding(n.id, n.binding, v, loc);
        break;
      }
      case ExprKind::Attribute: {
        auto& at = as<AttributeExpr>(t);
        Opd obj = expr(*at.value);
        effect(Op::SetAttr, {obj, v}, loc, ROp::NOP, f_->name_const(at.attr));
        break;
      }
      case ExprKind::Subscript: {
        auto& sub = as<SubscriptExpr>(t);
        Opd obj = expr(*sub.value);
        Opd idx = index(*sub.index);
        effect(Op::SetItem, {obj, idx, v}, loc);
        break;
      }
      case ExprKind::Tuple:
      case ExprKind::List: {
        const ExprList& elts = t.kind == ExprKind::Tuple ? as<TupleExpr>(t).elts : as<ListExpr>(t).elts;
        if (!reachable()) return;
        Instr in = make(Op::Unpack, {v}, loc);
        for (size_t i = 0; i < elts.size(); ++i) in.dsts.push_back(f_->new_vreg());
        std::vector<int> parts = in.dsts;
        emit(std::move(in));
        for (size_t i = 0; i < elts.size(); ++i) store(*elts[i], Opd::reg(parts[i]));
        break;
      }
      default: error(t.loc, "cannot assign to expression");
    }
  }

  // ------------------------------------------------------------ conditions

  // Evaluates e as a condition and goes to t when it is true, to f when false.
  void cond_branch(const Expr& e, int t, int f) {
    if (!reachable()) return;
    SourceLoc loc = sl(e.loc);
    if (e.kind == ExprKind::Unary && as<UnaryExpr>(e).op == UnaryOp::Not) {
      cond_branch(*as<UnaryExpr>(e).operand, f, t);
      return;
    }
    if (e.kind == ExprKind::BoolOp) {
      auto& b = as<BoolOpExpr>(e);
      int mid = new_block();
      if (b.is_and) cond_branch(*b.left, mid, f);
      else cond_branch(*b.left, t, mid);
      start_block(mid);
      cond_branch(*b.right, t, f);
      return;
    }
    if (e.kind == ExprKind::Compare && as<CompareExpr>(e).ops.size() == 1 && is_ordering(as<CompareExpr>(e).ops[0])) {
      auto& c = as<CompareExpr>(e);
      Opd l = expr(*c.left);
      Opd r = expr(*c.comparators[0]);
      ROp op = cmpop(c.ops[0]);
      Value out;
      if (l.is_const() && r.is_const() && fold_compare(op, value_of(l), value_of(r), out)) {
        bool truth;
        bool ok = const_truth(out, truth);
        decref(out);
        if (ok) {
          jump(truth ? t : f);
          return;
        }
      }
      Instr in = make(Op::CmpBranch, {l, r}, loc, op);
      in.t0 = t;
      in.t1 = f;
      emit(std::move(in));
      return;
    }
    Opd v = expr(e);
    bool truth;
    if (v.is_const() && const_truth(value_of(v), truth)) {
      jump(truth ? t : f);
      return;
    }
    Instr in = make(Op::Branch, {v}, loc);
    in.t0 = t;
    in.t1 = f;
    emit(std::move(in));
  }

  // ------------------------------------------------------------ expressions

  Opd binary(ROp op, Opd l, Opd r, SourceLoc loc) {
    Value out;
    if (l.is_const() && r.is_const() && fold_binary(op, value_of(l), value_of(r), out)) return adopt(out);
    return temp(Op::Binary, {l, r}, loc, op);
  }

  Opd read_local(int slot, Loc loc) {
    Scope& s = scope();
    int v = s.slot_vreg[size_t(slot)];
    if (!reachable()) return none();
    if (auto it = state_.known.find(v); it != state_.known.end()) return it->second;
    if (!state_.is_assigned(v)) {
      if (s.inlined) s.needs_checkdef = true;
      effect(Op::CheckDef, {Opd::reg(v)}, sl(loc), ROp::NOP, f_->name_const(s.info->slot_names[size_t(slot)]));
      state_.set_assigned(v);
    }
    return Opd::reg(v);
  }

  Opd read_name(const NameExpr& n) {
    Scope& s = scope();
    SourceLoc loc = sl(n.loc);
    switch (n.binding.kind) {
      case BindingKind::Local: return read_local(n.binding.index, n.loc);
      case BindingKind::Cell:
        return temp(Op::GetCell, {Opd::reg(s.slot_vreg[size_t(n.binding.index)])}, loc, ROp::NOP, f_->name_const(n.id));
      case BindingKind::Free:
        if (s.frozen) {
          Value v = s.frozen->cells[size_t(n.binding.index)]->value;
          if (!v.is_undefined()) return konst(v);
        }
        return temp(Op::GetFree, {}, loc, ROp::NOP, n.binding.index);
      case BindingKind::Global:
      case BindingKind::Unresolved:
        if (env_.frozen_globals) {
          Value v = s.module->get(n.id);
          if (!v.is_undefined()) return konst(v);
          int b = builtin_index(n.id);
          if (b >= 0) return konst(builtin_value(b));
        }
        return temp(Op::GetGlobal, {}, loc, ROp::NOP, global_slot(s, n.id));
    }
    return none();
  }

  Opd str_const(const std::string& s) { return adopt(make_str(s)); }

  Opd expr(const Expr& e) {
    if (!reachable()) return none();
    SourceLoc loc = sl(e.loc);
    switch (e.kind) {
      case ExprKind::Name: return read_name(as<NameExpr>(e));
      case ExprKind::Int: return adopt(Value::integer(as<IntExpr>(e).value));
      case ExprKind::Float: return adopt(Value::number(as<FloatExpr>(e).value));
      case ExprKind::Str: return str_const(as<StrExpr>(e).value);
      case ExprKind::True: return konst(Value::boolean(true));
      case ExprKind::False: return konst(Value::boolean(false));
      case ExprKind::None: return none();
      case ExprKind::FString: {
        auto& fs = as<FStringExpr>(e);
        std::vector<Opd> parts;
        for (auto& p : fs.parts) {
          if (!p.expr) {
            if (p.literal.empty()) continue;
            parts.push_back(str_const(p.literal));
            continue;
          }
          Opd v = expr(*p.expr);
          int flags = p.conversion == 's' ? 1 : p.conversion == 'r' ? 2 : 0;
          std::vector<Opd> args{v};
          if (!p.spec.empty()) {
            args.push_back(str_const(p.spec));
            flags |= 4;
          }
          parts.push_back(temp(Op::Format, std::move(args), sl(p.expr->loc), ROp::NOP, flags));
        }
        if (parts.empty()) return str_const("");
        if (parts.size() == 1) return parts[0];
        return temp(Op::Concat, std::move(parts), loc);
      }
      case ExprKind::List: return sequence(as<ListExpr>(e).elts, false, loc);
      case ExprKind::Tuple: return sequence(as<TupleExpr>(e).elts, true, loc);
      case ExprKind::Dict: {
        auto& d = as<DictExpr>(e);
        std::vector<Opd> kv;
        for (size_t i = 0; i < d.keys.size(); ++i) {
          kv.push_back(expr(*d.keys[i]));
          kv.push_back(expr(*d.values[i]));
        }
        return temp(Op::NewDict, std::move(kv), loc);
      }
      case ExprKind::ListComp:
      case ExprKind::DictComp: {
        auto& c = as<CompExpr>(e);
        CodeObj* code = compile_child([&](Builder& b) {
          return b.comprehension_body(c, f_->code->filename, nullptr, scope().module, *scope().diag);
        });
        Opd cells = closure_cells(c.scope->scope, loc);
        Opd fnv = code ? temp(Op::Closure, {none(), cells}, loc, ROp::NOP, f_->adopt_const(Value::object(code))) : none();
        Opd it = expr(*c.generators.front().iter);
        return temp(Op::Call, {fnv, it}, loc);
      }
      case ExprKind::BinOp: {
        auto& b = as<BinOpExpr>(e);
        Opd l = expr(*b.left);
        Opd r = expr(*b.right);
        return binary(binop(b.op), l, r, loc);
      }
      case ExprKind::Unary: {
        auto& u = as<UnaryExpr>(e);
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::Int) return adopt(Value::integer(-as<IntExpr>(*u.operand).value));
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::Float) return adopt(Value::number(-as<FloatExpr>(*u.operand).value));
        Opd v = expr(*u.operand);
        ROp op = u.op == UnaryOp::Neg ? ROp::NEG : u.op == UnaryOp::Pos ? ROp::POS : u.op == UnaryOp::Invert ? ROp::INVERT : ROp::NOT;
        Value out;
        if (v.is_const() && fold_unary(op, value_of(v), out)) return adopt(out);
        return temp(Op::Unary, {v}, loc, op);
      }
      case ExprKind::BoolOp: {
        auto& b = as<BoolOpExpr>(e);
        Opd l = expr(*b.left);
        bool truth;
        if (l.is_const() && const_truth(value_of(l), truth)) {
          if (truth != b.is_and) return l;  // `and` of a falsy, `or` of a truthy left operand
          return expr(*b.right);
        }
        if (!reachable()) return none();
        int r = f_->new_vreg();
        int rhs = new_block(), end = new_block();
        move_to(r, l, loc);
        Instr in = make(Op::Branch, {l}, loc);
        in.t0 = b.is_and ? rhs : end;
        in.t1 = b.is_and ? end : rhs;
        emit(std::move(in));
        start_block(rhs);
        move_to(r, expr(*b.right), loc);
        jump(end);
        start_block(end);
        return Opd::reg(r);
      }
      case ExprKind::Compare: return compare(as<CompareExpr>(e));
      case ExprKind::IfExp: {
        auto& i = as<IfExpExpr>(e);
        int r = f_->new_vreg();
        int then_b = new_block(), else_b = new_block(), end = new_block();
        cond_branch(*i.cond, then_b, else_b);
        // A condition known at pack time: only one arm is built, and its value is the result.
        bool then_live = !incoming_[size_t(then_b)].empty(), else_live = !incoming_[size_t(else_b)].empty();
        if (then_live != else_live) {
          start_block(then_live ? then_b : else_b);
          return expr(then_live ? *i.then : *i.orelse);
        }
        start_block(then_b);
        move_to(r, expr(*i.then), loc);
        jump(end);
        start_block(else_b);
        move_to(r, expr(*i.orelse), loc);
        jump(end);
        start_block(end);
        return Opd::reg(r);
      }
      case ExprKind::Lambda: return make_function(*as<LambdaExpr>(e).fn, loc);
      case ExprKind::Call: return call(as<CallExpr>(e));
      case ExprKind::Attribute: {
        auto& a = as<AttributeExpr>(e);
        Opd v = expr(*a.value);
        if (v.is_const()) {
          Value folded = fold_attr(value_of(v), a.attr);
          if (!folded.is_undefined()) return adopt(folded);
        }
        return temp(Op::GetAttr, {v}, loc, ROp::NOP, f_->name_const(a.attr));
      }
      case ExprKind::Subscript: {
        auto& s = as<SubscriptExpr>(e);
        Opd v = expr(*s.value);
        Opd i = index(*s.index);
        Value out;
        if (v.is_const() && i.is_const() && fold_getitem(value_of(v), value_of(i), out)) return adopt(out);
        return temp(Op::GetItem, {v, i}, loc);
      }
      case ExprKind::Slice: {
        auto& s = as<SliceExpr>(e);
        std::vector<Opd> parts{s.lower ? expr(*s.lower) : none(), s.upper ? expr(*s.upper) : none()};
        if (s.step) parts.push_back(expr(*s.step));
        return temp(Op::NewSlice, std::move(parts), loc);
      }
      case ExprKind::Starred: error(e.loc, "can't use starred expression here"); return none();
    }
    return none();
  }

  // Attributes that pack time can read: a frozen module's globals, a constant tensor's shape.
  Value fold_attr(Value v, const std::string& attr) {
    if (is_type(v, ObjType::Module) && env_.frozen_globals) {
      Value x = as_obj<ModuleObj>(v)->get(attr);
      if (!x.is_undefined()) incref(x);
      return x;
    }
    if (is_type(v, ObjType::Tensor) && (attr == "shape" || attr == "ndim" || attr == "T")) {
      try {
        return tensor_attr(as_tensor(v), attr);
      } catch (const RuntimeError&) {
        return Value::undefined();
      }
    }
    return Value::undefined();
  }

  Opd index(const Expr& ix) {
    if (ix.kind == ExprKind::Tuple) {
      auto& t = as<TupleExpr>(ix);
      std::vector<Opd> parts;
      for (auto& x : t.elts) parts.push_back(index(*x));
      return tuple_of(std::move(parts), sl(ix.loc));
    }
    return expr(ix);
  }

  // A tuple; a constant when every item is.
  Opd tuple_of(std::vector<Opd> items, SourceLoc loc) {
    if (std::all_of(items.begin(), items.end(), [](const Opd& o) { return o.is_const(); })) {
      std::vector<Value> vals;
      for (const Opd& o : items) {
        Value v = value_of(o);
        incref(v);
        vals.push_back(v);
      }
      return adopt(make_tuple(std::move(vals)));
    }
    return temp(Op::NewTuple, std::move(items), loc);
  }

  Opd sequence(const ExprList& elts, bool tuple, SourceLoc loc) {
    if (!has_starred(elts)) {
      std::vector<Opd> items;
      for (auto& x : elts) items.push_back(expr(*x));
      if (tuple) return tuple_of(std::move(items), loc);
      return temp(Op::NewList, std::move(items), loc);
    }
    Opd list = spread_list(elts, loc);
    if (tuple) return temp(Op::ListToTuple, {list}, loc);
    return list;
  }

  Opd spread_list(const ExprList& elts, SourceLoc loc) {
    Opd list = temp(Op::NewList, {}, loc);
    for (auto& x : elts) {
      if (x->kind == ExprKind::Starred) {
        Opd v = expr(*as<StarredExpr>(*x).value);
        effect(Op::ListExtend, {list, v}, sl(x->loc));
      } else {
        Opd v = expr(*x);
        effect(Op::ListAppend, {list, v}, loc);
      }
    }
    return list;
  }

  Opd compare(const CompareExpr& c) {
    SourceLoc loc = sl(c.loc);
    Opd l = expr(*c.left);
    if (c.ops.size() == 1) {
      Opd r = expr(*c.comparators[0]);
      ROp op = cmpop(c.ops[0]);
      Value out;
      if (l.is_const() && r.is_const() && fold_compare(op, value_of(l), value_of(r), out)) return adopt(out);
      return temp(Op::Compare, {l, r}, loc, op);
    }
    // a < b < c: each middle operand is evaluated once; the first false result is the value.
    if (!reachable()) return none();
    int result = f_->new_vreg();
    int end = new_block();
    for (size_t i = 0; i < c.ops.size(); ++i) {
      Opd r = expr(*c.comparators[i]);
      Opd t = temp(Op::Compare, {l, r}, loc, cmpop(c.ops[i]));
      move_to(result, t, loc);
      if (i + 1 < c.ops.size()) {
        int next = new_block();
        Instr in = make(Op::Branch, {t}, loc);
        in.t0 = next;
        in.t1 = end;
        emit(std::move(in));
        start_block(next);
      }
      l = r;
    }
    jump(end);
    start_block(end);
    return Opd::reg(result);
  }

  // ------------------------------------------------------------ calls

  Opd call(const CallExpr& c) {
    SourceLoc loc = sl(c.loc);
    bool starred = has_starred(c.args);
    if (!starred && c.keywords.empty() && c.func->kind == ExprKind::Attribute) {
      auto& a = as<AttributeExpr>(*c.func);
      Opd recv = expr(*a.value);
      // A frozen module's function: the call is a plain call of a constant.
      Value callee = recv.is_const() && is_type(value_of(recv), ObjType::Module) ? fold_attr(value_of(recv), a.attr)
                                                                                  : Value::undefined();
      std::vector<Opd> args;
      for (auto& x : c.args) args.push_back(expr(*x));
      if (!callee.is_undefined()) return plain_call(adopt(callee), std::move(args), loc);
      args.insert(args.begin(), recv);
      return temp(Op::CallMethod, std::move(args), loc, ROp::NOP, f_->name_const(a.attr));
    }
    Opd f = expr(*c.func);
    if (!starred) {
      std::vector<Opd> args;
      for (auto& x : c.args) args.push_back(expr(*x));
      if (c.keywords.empty()) return plain_call(f, std::move(args), loc);
      for (auto& k : c.keywords) args.push_back(expr(*k.value));
      std::vector<Value> names;
      for (auto& k : c.keywords) names.push_back(Value::object(intern(k.name)));
      int kw = f_->adopt_const(make_tuple(std::move(names)));
      args.insert(args.begin(), f);
      return temp(Op::Call, std::move(args), loc, ROp::NOP, kw + 1);
    }
    Opd list = spread_list(c.args, loc);
    std::vector<Opd> args{f, list};
    if (!c.keywords.empty()) {
      std::vector<Opd> kv;
      for (auto& k : c.keywords) {
        kv.push_back(adopt(Value::object(intern(k.name))));
        kv.push_back(expr(*k.value));
      }
      args.push_back(temp(Op::NewDict, std::move(kv), loc));
    }
    return temp(Op::CallEx, std::move(args), loc);
  }

  Opd plain_call(Opd f, std::vector<Opd> args, SourceLoc loc) {
    if (!reachable()) return none();
    if (f.is_const()) {
      Value callee = value_of(f);
      if (is_type(callee, ObjType::Builtin)) {
        Value out = fold_builtin(as_obj<BuiltinObj>(callee)->def->name, args);
        if (!out.is_undefined()) return adopt(out);
      }
      if (is_type(callee, ObjType::Function))
        if (auto r = inline_call(as_obj<FunctionObj>(callee), args, loc)) return *r;
    }
    args.insert(args.begin(), f);
    return temp(Op::Call, std::move(args), loc);
  }

  // type(c) and len(c) of a constant.
  Value fold_builtin(std::string_view name, const std::vector<Opd>& args) {
    if (args.size() != 1 || !args[0].is_const()) return Value::undefined();
    Value v = value_of(args[0]);
    if (name == "type") return make_str(type_name(v));
    if (name == "len" && (is_type(v, ObjType::Str) || is_type(v, ObjType::Tuple) ||
                          (env_.frozen_globals && (is_type(v, ObjType::List) || is_type(v, ObjType::Dict))) ||
                          (is_type(v, ObjType::Tensor) && as_tensor(v)->ndim > 0)))
      return Value::integer(length(v));
    return Value::undefined();
  }

  bool can_inline(FunctionObj* callee, size_t nargs) {
    if (!env_.specialise || int(scopes_.size()) > kMaxInlineDepth) return false;
    const CodeObj* c = callee->code;
    if (!c->ast || c->is_register || is_comp_code(c) || c->name == "<module>") return false;
    if (c->annotated || c->has_varargs) return false;
    if (nargs > size_t(c->nparams) || nargs + callee->defaults.size() < size_t(c->nparams)) return false;
    for (const Scope* s : scopes_)
      if (s->frozen == callee || (s->frozen && s->frozen->code == c)) return false;  // recursion
    for (CellObj* cell : callee->cells)
      if (cell->value.is_undefined()) return false;
    auto& fd = *static_cast<const FunctionDef*>(c->ast);
    if (!fd.scope.cell_slots.empty()) return false;
    InlineScan scan;
    scan.block(fd.body);
    if (!scan.ok || scan.nodes > kMaxInlineNodes) return false;
    for (const NameExpr* n : scan.globals)
      if (callee->module->get(n->id).is_undefined() && builtin_index(n->id) < 0) return false;
    return true;
  }

  // The callee's body in place of the call: its locals are fresh vregs, `return` jumps to the
  // continuation. Undone (nullopt) when a local of the callee may be read unassigned, which
  // needs a fresh frame to raise correctly.
  std::optional<Opd> inline_call(FunctionObj* callee, const std::vector<Opd>& args, SourceLoc loc) {
    if (!can_inline(callee, args.size())) return std::nullopt;
    const CodeObj* c = callee->code;
    auto& fd = *static_cast<const FunctionDef*>(c->ast);
    // Snapshot for undoing.
    size_t nblocks = f_->blocks.size();
    int saved_cur = cur_;
    size_t ninstrs = f_->blocks[size_t(cur_)].instrs.size();
    State saved_state = state_;
    Loc saved_stmt = stmt_loc_;

    Scope s;
    s.def = &fd;
    s.info = &fd.scope;
    s.frozen = callee;
    s.module = callee->module;
    s.diag = scope().diag;
    s.inlined = true;
    s.call_site = scope().call_site;
    if (!s.call_site && c->filename != f_->code->filename) s.call_site = loc;
    s.slot_vreg.resize(size_t(fd.scope.nslots));
    s.slot_is_cell.assign(size_t(fd.scope.nslots), 0);
    for (auto& v : s.slot_vreg) v = f_->new_vreg();
    s.ret_block = new_block();
    s.ret_vreg = f_->new_vreg();
    size_t nparams = size_t(c->nparams), ndef = callee->defaults.size();
    for (size_t i = 0; i < nparams; ++i)
      assign_local(s.slot_vreg[i], i < args.size() ? args[i] : konst(callee->defaults[i - (nparams - ndef)]), loc);
    scopes_.push_back(&s);
    block(fd.body);
    emit_return(none(), loc, false);
    scopes_.pop_back();
    stmt_loc_ = saved_stmt;
    if (s.needs_checkdef) {
      f_->blocks.resize(nblocks);
      incoming_.resize(nblocks);
      fixed_.resize(nblocks);
      cur_ = saved_cur;
      f_->blocks[size_t(cur_)].instrs.resize(ninstrs);
      state_ = std::move(saved_state);
      return std::nullopt;
    }
    start_block(s.ret_block);
    if (!reachable()) return none();
    bool same = std::all_of(s.ret_values.begin(), s.ret_values.end(), [&](const Opd& o) { return o == s.ret_values[0]; });
    if (same && !s.ret_values.empty()) return s.ret_values[0];
    return Opd::reg(s.ret_vreg);
  }

  // ------------------------------------------------------------ functions

  template <typename F>
  CodeObj* compile_child(F&& build) {
    BuildEnv child_env = env_;
    Builder child(child_env);
    std::unique_ptr<Function> f = build(child);
    if (!f) return nullptr;
    return compile_ir(*f, env_.fuse);
  }

  // The tuple of cell objects a nested function closes over (None when it has none).
  Opd closure_cells(const ScopeInfo& inner, SourceLoc loc) {
    if (inner.freevars.empty()) return none();
    std::vector<Opd> cells;
    for (auto& fv : inner.freevars) {
      if (fv.from_parent_cell) cells.push_back(Opd::reg(scope().slot_vreg[size_t(fv.index)]));
      else cells.push_back(temp(Op::GetFreeCell, {}, loc, ROp::NOP, fv.index));
    }
    return temp(Op::NewTuple, std::move(cells), loc);
  }

  Opd make_function(const FunctionDef& fd, SourceLoc loc) {
    std::vector<Opd> defaults;
    for (auto& p : fd.params)
      if (p.default_value) defaults.push_back(expr(*p.default_value));
    Opd defs = defaults.empty() ? none() : tuple_of(std::move(defaults), loc);
    Opd cells = closure_cells(fd.scope, loc);
    if (!reachable()) return none();
    CodeObj* code = compile_child([&](Builder& b) {
      return b.function_body(fd, f_->code->filename, nullptr, scope().module, *scope().diag);
    });
    if (!code) return none();
    return temp(Op::Closure, {defs, cells}, loc, ROp::NOP, f_->adopt_const(Value::object(code)));
  }

  // One `for` clause of a comprehension (and, recursively, those after it).
  void comp_loop(const CompExpr& c, size_t i, Opd iterable) {
    const CompFor& g = c.generators[i];
    SourceLoc iloc = sl(g.iter->loc);
    Opd it = temp(Op::GetIter, {iterable}, iloc);
    int head = new_block(), body = new_block(), exit = new_block();
    StmtList none_body;
    enter_loop_head(head, none_body, g.target.get());
    // Later clauses' targets are assigned inside this loop too.
    if (fixed_[size_t(head)])
      for (size_t j = i + 1; j < c.generators.size(); ++j) {
        std::vector<int> slots;
        assigned_slots(*c.generators[j].target, slots);
        for (int slot : slots) fixed_[size_t(head)]->forget(scope().slot_vreg[size_t(slot)]);
      }
    jump(head);
    start_block(head);
    if (reachable()) {
      Instr in = make(Op::ForIter, {it}, iloc);
      in.dst = f_->new_vreg();
      int item = in.dst;
      in.t0 = body;
      in.t1 = exit;
      emit(std::move(in));
      start_block(body);
      store(*g.target, Opd::reg(item));
    }
    for (auto& cond : g.ifs) {
      int pass = new_block();
      cond_branch(*cond, pass, head);
      start_block(pass);
    }
    if (i + 1 < c.generators.size()) {
      Opd next = expr(*c.generators[i + 1].iter);
      comp_loop(c, i + 1, next);
    } else {
      Opd r = Opd::reg(scope().slot_vreg[1]);
      SourceLoc cloc = sl(c.loc);
      if (c.kind == ExprKind::DictComp) {
        Opd k = expr(*c.elt);
        Opd v = expr(*c.value);
        effect(Op::DictSet, {r, k, v}, cloc);
      } else {
        Opd v = expr(*c.elt);
        effect(Op::ListAppend, {r, v}, cloc);
      }
    }
    jump(head);
    start_block(exit);
  }

  const BuildEnv& env_;
  std::unique_ptr<Function> f_;
  std::vector<Scope*> scopes_;
  std::vector<std::vector<State>> incoming_;
  std::vector<std::optional<State>> fixed_;
  State state_;
  int cur_ = -1;
  Loc stmt_loc_;
  SourceLoc last_loc_{0, 0};
};

}  // namespace

std::unique_ptr<Function> build_module(const ast::Module& m, ModuleObj* module, const BuildEnv& env, Diagnostics& diag) {
  Builder b(env);
  return b.module_body(m, module, diag);
}

std::unique_ptr<Function> build_frozen_function(FunctionObj* fn, const BuildEnv& env, Diagnostics& diag) {
  Builder b(env);
  const CodeObj* c = fn->code;
  if (is_comp_code(c))
    return b.comprehension_body(*static_cast<const ast::CompExpr*>(c->ast), c->filename, fn, fn->module, diag);
  return b.function_body(*static_cast<const ast::FunctionDef*>(c->ast), c->filename, fn, fn->module, diag);
}

}  // namespace tvm::ir
