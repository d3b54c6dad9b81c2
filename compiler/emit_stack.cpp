// Resolved AST -> stack bytecode: a single walk per function (clox's compiler, over an AST).
// The operand-stack depth is tracked from each instruction's declared effect (opcodes.h), so
// the VM knows every frame's size before it runs.
#include "emit_stack.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "../vm/opcodes.h"
#include "../vm/ops.h"
#include "parse.h"
#include "resolver.h"

namespace tvm {
namespace {

using namespace ast;

class Emitter {
 public:
  Emitter(ModuleObj* module, Diagnostics& diag, const std::string& filename)
      : module_(module), diag_(diag), filename_(filename) {
    code_ = new CodeObj();
    code_->filename = filename;
  }
  ~Emitter() {
    if (code_) decref(code_);
  }

  CodeObj* emit_module_body(Module& m) {
    code_->name = "<module>";
    code_->ast = &m;
    emit_block(m.body);
    emit(Op::LOAD_NONE);
    emit(Op::RETURN);
    return finish();
  }

  CodeObj* emit_function_body(FunctionDef& f) {
    code_->name = f.name;
    code_->ast = &f;
    cur_ = f.loc;
    setup_frame(f);
    emit_block(f.body);
    cur_ = f.loc;
    emit(Op::LOAD_NONE);
    emit_return();
    return finish();
  }

  CodeObj* emit_comprehension_body(CompExpr& c) {
    FunctionDef& f = *c.scope;
    code_->name = f.name;
    code_->ast = &c;
    cur_ = c.loc;
    setup_frame(f);
    code_->nparams = 1;
    bool is_dict = c.kind == ExprKind::DictComp;
    emit(is_dict ? Op::BUILD_DICT : Op::BUILD_LIST, 0);
    emit(Op::STORE_LOCAL, 1);
    emit(Op::LOAD_LOCAL, 0);
    emit_comp_loop(c, 0);
    emit(Op::LOAD_LOCAL, 1);
    emit(Op::RETURN);
    return finish();
  }

 private:
  // ------------------------------------------------------------ plumbing

  CodeObj* finish() {
    code_->max_stack = max_depth_ + 1;
    code_->frame_size = code_->nslots + code_->max_stack + 1;
    return std::exchange(code_, nullptr);
  }

  int here() const { return int(code_->code.size()); }

  // The current offset as a jump target: no peephole merges across it.
  int label() {
    label_at_ = here();
    return label_at_;
  }

  void emit(Op op, int32_t a = 0) {
    // LOAD_LOCAL x; LOAD_LOCAL y -> LOAD_LOCAL2 x y: operand pairs are the commonest sequence.
    if (op == Op::LOAD_LOCAL && here() > 0 && label_at_ != here() && a < 4096 && last_op_ == Op::LOAD_LOCAL &&
        int32_t(decode_a(code_->code.back())) < 4096) {
      uint32_t& prev = code_->code.back();
      prev = encode(Op::LOAD_LOCAL2, int32_t(decode_a(prev) << 12) | a);
      last_op_ = Op::LOAD_LOCAL2;
      depth_ += 1;
      max_depth_ = std::max(max_depth_, depth_);
      return;
    }
    // LOAD_LOCAL x; ADD_INT k -> LOAD_LOCAL_ADD_INT x k: `n - 1`, `i + 1`.
    if ((op == Op::ADD_INT || op == Op::SUB_INT) && last_op_ == Op::LOAD_LOCAL && label_at_ != here()) {
      int32_t k = op == Op::ADD_INT ? a : -a;
      uint32_t slot = decode_a(code_->code.back());
      if (slot < 4096 && k >= -2048 && k < 2048) {
        code_->code.back() = encode(Op::LOAD_LOCAL_ADD_INT, int32_t(slot << 12) | (k & 0xFFF));
        last_op_ = Op::LOAD_LOCAL_ADD_INT;
        return;  // the stack depth is what LOAD_LOCAL left
      }
    }
    last_op_ = op;
    code_->code.push_back(encode(op, a));
    code_->locs.push_back({cur_.line, cur_.col});
    depth_ += stack_effect(op, a);
    max_depth_ = std::max(max_depth_, depth_);
  }
  void emit_word(uint32_t w) {
    last_op_ = Op::NOP;
    code_->code.push_back(w);
    code_->locs.push_back({cur_.line, cur_.col});
  }
  // A forward jump; returns the word to patch.
  int emit_jump(Op op) {
    emit(op, 0);
    return here() - 1;
  }
  void patch(int at, int target) {
    uint32_t& w = code_->code[at];
    w = encode(decode_op(w), target);
  }
  int add_const(Value v) {  // adopts v
    if (v.is_obj() && v.as_obj()->type == ObjType::Str) {
      std::string key(str_view(v));
      if (auto it = str_consts_.find(key); it != str_consts_.end()) {
        decref(v);
        return it->second;
      }
      str_consts_.emplace(key, int(code_->consts.size()));
    }
    code_->consts.push_back(v);
    if (code_->consts.size() > size_t(kMaxStackA)) error(cur_, "too many constants in one function");
    return int(code_->consts.size() - 1);
  }
  int name_const(const std::string& name) {
    StrObj* s = intern(name);
    return add_const(Value::object(s));
  }
  int str_const(const std::string& s) { return add_const(make_str(s)); }

  void error(Loc loc, std::string msg) { diag_.error(loc, std::move(msg)); }

  int global_slot(const std::string& name) {
    int s = module_->slot(name);
    if (s > kMaxStackA) error(cur_, "too many global names");
    return s;
  }

  // ------------------------------------------------------------ frames and annotations

  void setup_frame(FunctionDef& f) {
    const ScopeInfo& sc = f.scope;
    code_->nparams = int(f.params.size());
    code_->has_varargs = !f.vararg.empty();
    code_->nslots = sc.nslots;
    code_->nfree = int(sc.freevars.size());
    for (auto& n : sc.slot_names) code_->slot_names.push_back(intern(n));
    for (auto& fv : sc.freevars) code_->free_names.push_back(intern(fv.name));
    bool annotated = f.returns != nullptr || f.vararg_annotation != nullptr;
    for (auto& p : f.params) annotated |= p.annotation != nullptr;
    if (annotated && !f.is_lambda) {
      code_->annotated = true;
      for (auto& p : f.params) code_->param_annotations.push_back(annotation(p.annotation.get()));
      if (code_->has_varargs) code_->param_annotations.push_back(annotation(f.vararg_annotation.get()));
      code_->return_annotation = annotation(f.returns.get());
      bool any_param = std::any_of(code_->param_annotations.begin(), code_->param_annotations.end(),
                                   [](const Annotation& a) { return a.kind != Annotation::Any; });
      if (any_param) emit(Op::CHECK_ARGS);
      const auto& ret = code_->return_annotation.dims;
      code_->keep_dim_bindings = any_param && std::any_of(ret.begin(), ret.end(), [](const Annotation::Dim& d) {
        return d.size < 0;
      });
    }
    for (int slot : sc.cell_slots) emit(Op::MAKE_CELL, slot);
  }

  Annotation annotation(Expr* e) { return read_annotation(e, code_->dim_names, diag_); }

  void emit_return() {
    if (code_->annotated && code_->return_annotation.kind != Annotation::Any) emit(Op::CHECK_RETURN);
    emit(Op::RETURN);
  }

  // ------------------------------------------------------------ statements

  struct Loop {
    std::vector<int> breaks;
    int continue_target;
    bool is_for;
  };

  void emit_block(StmtList& body) {
    for (auto& s : body) emit_stmt(*s);
  }

  void emit_stmt(Stmt& s) {
    cur_ = s.loc;
    switch (s.kind) {
      case StmtKind::Expr:
        emit_expr(*as<ExprStmt>(s).value);
        emit(Op::POP);
        break;
      case StmtKind::Assign: {
        auto& a = as<AssignStmt>(s);
        emit_expr(*a.value);
        for (size_t i = 0; i < a.targets.size(); ++i) {
          if (i + 1 < a.targets.size()) emit(Op::DUP);
          emit_store(*a.targets[i]);
        }
        break;
      }
      case StmtKind::AugAssign: emit_augassign(as<AugAssignStmt>(s)); break;
      case StmtKind::If: {
        auto& i = as<IfStmt>(s);
        Jumps to_else = emit_condition_jump(*i.cond, false);
        emit_block(i.body);
        if (i.orelse.empty()) {
          patch_all_here(to_else);
        } else {
          int to_end = emit_jump(Op::JUMP);
          patch_all_here(to_else);
          emit_block(i.orelse);
          patch_here(to_end);
        }
        break;
      }
      case StmtKind::While: {
        auto& w = as<WhileStmt>(s);
        int top = label();
        Jumps to_else = emit_condition_jump(*w.cond, false);
        loops_.push_back({{}, top, false});
        emit_block(w.body);
        cur_ = w.loc;
        emit(Op::JUMP, top);
        patch_all_here(to_else);
        Loop loop = std::move(loops_.back());
        loops_.pop_back();
        emit_block(w.orelse);
        for (int b : loop.breaks) patch_here(b);
        break;
      }
      case StmtKind::For: {
        auto& f = as<ForStmt>(s);
        emit_expr(*f.iter);
        cur_ = f.loc;
        emit(Op::GET_ITER);
        int top = label();
        int to_else = emit_jump(Op::FOR_ITER);
        emit_store(*f.target);
        loops_.push_back({{}, top, true});
        emit_block(f.body);
        cur_ = f.loc;
        emit(Op::JUMP, top);
        depth_ -= 1;  // the exhausted iterator is popped by FOR_ITER
        patch_here(to_else);
        Loop loop = std::move(loops_.back());
        loops_.pop_back();
        emit_block(f.orelse);
        for (int b : loop.breaks) patch_here(b);
        break;
      }
      case StmtKind::Break: {
        Loop& l = loops_.back();
        if (l.is_for) {
          emit(Op::POP);  // the iterator
          depth_ += 1;    // ...only on this path
        }
        l.breaks.push_back(emit_jump(Op::JUMP));
        break;
      }
      case StmtKind::Continue: emit(Op::JUMP, loops_.back().continue_target); break;
      case StmtKind::Pass:
      case StmtKind::Global:
      case StmtKind::Nonlocal: break;
      case StmtKind::Return: {
        auto& r = as<ReturnStmt>(s);
        if (r.value) emit_expr(*r.value);
        else emit(Op::LOAD_NONE);
        cur_ = s.loc;
        emit_return();
        break;
      }
      case StmtKind::FunctionDef: {
        auto& f = as<FunctionDef>(s);
        emit_make_function(f);
        emit_store_binding(f.name, f.binding);
        break;
      }
      case StmtKind::Import:
        for (auto& a : as<ImportStmt>(s).names) {
          emit(Op::IMPORT, name_const(a.name));
          emit_store_binding(a.asname.empty() ? a.name : a.asname, a.binding);
        }
        break;
      case StmtKind::ImportFrom: {
        auto& im = as<ImportFromStmt>(s);
        emit(Op::IMPORT, name_const(im.module));
        for (auto& a : im.names) {
          cur_ = a.loc;
          emit(Op::IMPORT_FROM, name_const(a.name));
          emit_store_binding(a.asname.empty() ? a.name : a.asname, a.binding);
        }
        emit(Op::POP);
        break;
      }
      case StmtKind::Assert: {
        auto& a = as<AssertStmt>(s);
        Jumps ok = emit_condition_jump(*a.test, true);
        if (a.msg) emit_expr(*a.msg);
        cur_ = s.loc;
        emit(Op::ASSERT_FAIL, a.msg ? 1 : 0);
        patch_all_here(ok);
        break;
      }
    }
  }

  void emit_augassign(AugAssignStmt& a) {
    Op op = a.op == BinOp::Add ? Op::INPLACE_ADD : binop(a.op);
    Expr& t = *a.target;
    switch (t.kind) {
      case ExprKind::Name:
        emit_expr(t);
        emit_expr(*a.value);
        cur_ = a.loc;
        emit(op);
        emit_store(t);
        break;
      case ExprKind::Attribute: {
        auto& at = as<AttributeExpr>(t);
        emit_expr(*at.value);
        emit(Op::DUP);
        cur_ = a.loc;
        int name = name_const(at.attr);
        emit(Op::LOAD_ATTR, name);
        emit_expr(*a.value);
        cur_ = a.loc;
        emit(op);
        emit(Op::ROT2);
        emit(Op::STORE_ATTR, name);
        break;
      }
      case ExprKind::Subscript: {
        auto& sub = as<SubscriptExpr>(t);
        emit_expr(*sub.value);
        emit_index(*sub.index);
        emit(Op::DUP2);
        cur_ = a.loc;
        emit(Op::SUBSCR);
        emit_expr(*a.value);
        cur_ = a.loc;
        emit(op);
        emit(Op::ROT3);
        emit(Op::STORE_SUBSCR);
        break;
      }
      default: error(t.loc, "illegal expression for augmented assignment");
    }
  }

  void emit_store_binding(const std::string& name, const Binding& b) {
    switch (b.kind) {
      case BindingKind::Local: emit(Op::STORE_LOCAL, b.index); break;
      case BindingKind::Cell: emit(Op::STORE_CELL, b.index); break;
      case BindingKind::Free: emit(Op::STORE_FREE, b.index); break;
      case BindingKind::Global:
      case BindingKind::Unresolved: emit(Op::STORE_GLOBAL, global_slot(name)); break;
    }
  }

  void emit_store(Expr& t) {
    Loc saved = cur_;
    cur_ = t.loc;
    switch (t.kind) {
      case ExprKind::Name: {
        auto& n = as<NameExpr>(t);
        emit_store_binding(n.id, n.binding);
        break;
      }
      case ExprKind::Attribute: {
        auto& at = as<AttributeExpr>(t);
        emit_expr(*at.value);
        cur_ = t.loc;
        emit(Op::STORE_ATTR, name_const(at.attr));
        break;
      }
      case ExprKind::Subscript: {
        auto& sub = as<SubscriptExpr>(t);
        emit_expr(*sub.value);
        emit_index(*sub.index);
        cur_ = t.loc;
        emit(Op::STORE_SUBSCR);
        break;
      }
      case ExprKind::Tuple:
      case ExprKind::List: {
        ExprList& elts = t.kind == ExprKind::Tuple ? as<TupleExpr>(t).elts : as<ListExpr>(t).elts;
        emit(Op::UNPACK, int(elts.size()));
        for (auto& e : elts) emit_store(*e);
        break;
      }
      default: error(t.loc, "cannot assign to expression");
    }
    cur_ = saved;
  }

  // ------------------------------------------------------------ conditions

  static Op not_compare_jump(CmpOp op) {
    switch (op) {
      case CmpOp::Lt: return Op::JUMP_IF_NOT_LT;
      case CmpOp::Le: return Op::JUMP_IF_NOT_LE;
      case CmpOp::Gt: return Op::JUMP_IF_NOT_GT;
      case CmpOp::Ge: return Op::JUMP_IF_NOT_GE;
      case CmpOp::Eq: return Op::JUMP_IF_NOT_EQ;
      case CmpOp::Ne: return Op::JUMP_IF_NOT_NE;
      default: return Op::NOP;
    }
  }

  // Evaluates e as a condition and emits the jumps taken when its truth equals `jump_if`
  // (several for `and`/`or`, which short-circuit); they all go to one target.
  using Jumps = std::vector<int>;
  Jumps emit_condition_jump(Expr& e, bool jump_if) {
    Jumps jumps;
    emit_condition(e, jump_if, jumps);
    return jumps;
  }
  void patch_all(const Jumps& jumps, int target) {
    for (int j : jumps) patch(j, target);
  }
  void patch_all_here(const Jumps& jumps) { patch_all(jumps, label()); }

  void emit_condition(Expr& e, bool jump_if, std::vector<int>& jumps) {
    Loc saved = cur_;
    cur_ = e.loc;
    if (e.kind == ExprKind::Unary && as<UnaryExpr>(e).op == UnaryOp::Not) {
      emit_condition(*as<UnaryExpr>(e).operand, !jump_if, jumps);
    } else if (e.kind == ExprKind::BoolOp) {
      auto& b = as<BoolOpExpr>(e);
      // `a and b` jumps when false if either is false; jumps when true only if both are.
      if (b.is_and != jump_if) {
        emit_condition(*b.left, jump_if, jumps);
        emit_condition(*b.right, jump_if, jumps);
      } else {
        std::vector<int> skip;
        emit_condition(*b.left, !jump_if, skip);
        emit_condition(*b.right, jump_if, jumps);
        for (int j : skip) patch_here(j);
      }
    } else if (e.kind == ExprKind::Compare && as<CompareExpr>(e).ops.size() == 1 && !jump_if &&
               not_compare_jump(as<CompareExpr>(e).ops[0]) != Op::NOP) {
      auto& c = as<CompareExpr>(e);
      emit_expr(*c.left);
      int64_t k;
      if (small_int_literal(c.comparators[0].get(), k)) {
        // x < 2: the constant rides in the instruction's extra word.
        cur_ = e.loc;
        Op op = Op(int(not_compare_jump(c.ops[0])) - int(Op::JUMP_IF_NOT_LT) + int(Op::JUMP_IF_NOT_LT_K));
        jumps.push_back(emit_jump(op));
        emit_word(uint32_t(int32_t(k)));
      } else {
        emit_expr(*c.comparators[0]);
        cur_ = e.loc;
        jumps.push_back(emit_jump(not_compare_jump(c.ops[0])));
      }
    } else {
      emit_expr(e);
      cur_ = e.loc;
      jumps.push_back(emit_jump(jump_if ? Op::JUMP_IF_TRUE : Op::JUMP_IF_FALSE));
    }
    cur_ = saved;
  }

  // ------------------------------------------------------------ expressions

  static Op binop(BinOp op) {
    switch (op) {
      case BinOp::Add: return Op::ADD;
      case BinOp::Sub: return Op::SUB;
      case BinOp::Mul: return Op::MUL;
      case BinOp::Div: return Op::DIV;
      case BinOp::FloorDiv: return Op::FLOORDIV;
      case BinOp::Mod: return Op::MOD;
      case BinOp::Pow: return Op::POW;
      case BinOp::MatMul: return Op::MATMUL;
      case BinOp::LShift: return Op::LSHIFT;
      case BinOp::RShift: return Op::RSHIFT;
      case BinOp::BitAnd: return Op::BITAND;
      case BinOp::BitOr: return Op::BITOR;
      case BinOp::BitXor: return Op::BITXOR;
    }
    return Op::NOP;
  }
  static Op cmpop(CmpOp op) {
    switch (op) {
      case CmpOp::Lt: return Op::LT;
      case CmpOp::Le: return Op::LE;
      case CmpOp::Gt: return Op::GT;
      case CmpOp::Ge: return Op::GE;
      case CmpOp::Eq: return Op::EQ;
      case CmpOp::Ne: return Op::NE;
      case CmpOp::In: return Op::IN;
      case CmpOp::NotIn: return Op::NOT_IN;
      case CmpOp::Is: return Op::IS;
      case CmpOp::IsNot: return Op::IS_NOT;
    }
    return Op::NOP;
  }

  static bool small_int_literal(const Expr* e, int64_t& v) {
    if (!e || e->kind != ExprKind::Int) return false;
    v = as<IntExpr>(*e).value;
    return v >= -kMaxStackA && v <= kMaxStackA;
  }

  void emit_expr(Expr& e) {
    Loc saved = cur_;
    cur_ = e.loc;
    switch (e.kind) {
      case ExprKind::Name: {
        auto& n = as<NameExpr>(e);
        switch (n.binding.kind) {
          case BindingKind::Local: emit(Op::LOAD_LOCAL, n.binding.index); break;
          case BindingKind::Cell: emit(Op::LOAD_CELL, n.binding.index); break;
          case BindingKind::Free: emit(Op::LOAD_FREE, n.binding.index); break;
          default: emit(Op::LOAD_GLOBAL, global_slot(n.id)); break;
        }
        break;
      }
      case ExprKind::Int: {
        int64_t v = as<IntExpr>(e).value;
        if (v >= -kMaxStackA && v <= kMaxStackA) emit(Op::LOAD_INT, int32_t(v));
        else emit(Op::LOAD_CONST, add_const(Value::integer(v)));
        break;
      }
      case ExprKind::Float: emit(Op::LOAD_CONST, add_const(Value::number(as<FloatExpr>(e).value))); break;
      case ExprKind::Str: emit(Op::LOAD_CONST, str_const(as<StrExpr>(e).value)); break;
      case ExprKind::True: emit(Op::LOAD_TRUE); break;
      case ExprKind::False: emit(Op::LOAD_FALSE); break;
      case ExprKind::None: emit(Op::LOAD_NONE); break;
      case ExprKind::FString: {
        auto& f = as<FStringExpr>(e);
        int n = 0;
        for (auto& p : f.parts) {
          if (!p.expr) {
            if (p.literal.empty()) continue;
            emit(Op::LOAD_CONST, str_const(p.literal));
          } else {
            emit_expr(*p.expr);
            int flags = p.conversion == 's' ? 1 : p.conversion == 'r' ? 2 : 0;
            if (!p.spec.empty()) {
              emit(Op::LOAD_CONST, str_const(p.spec));
              flags |= 4;
            }
            cur_ = p.expr->loc;
            emit(Op::FORMAT, flags);
            cur_ = e.loc;
          }
          ++n;
        }
        if (n == 0) emit(Op::LOAD_CONST, str_const(""));
        else if (n > 1) emit(Op::BUILD_STRING, n);
        break;
      }
      case ExprKind::List: emit_sequence(as<ListExpr>(e).elts, false); break;
      case ExprKind::Tuple: emit_sequence(as<TupleExpr>(e).elts, true); break;
      case ExprKind::Dict: {
        auto& d = as<DictExpr>(e);
        for (size_t i = 0; i < d.keys.size(); ++i) {
          emit_expr(*d.keys[i]);
          emit_expr(*d.values[i]);
        }
        cur_ = e.loc;
        emit(Op::BUILD_DICT, int(d.keys.size()));
        break;
      }
      case ExprKind::ListComp:
      case ExprKind::DictComp: {
        auto& c = as<CompExpr>(e);
        Emitter child(module_, diag_, filename_);
        CodeObj* code = child.emit_comprehension_body(c);
        emit(Op::LOAD_NONE);  // no defaults
        emit_closure_cells(c.scope->scope);
        cur_ = e.loc;
        emit(Op::MAKE_FUNCTION, add_const(Value::object(code)));
        emit_expr(*c.generators.front().iter);
        cur_ = e.loc;
        emit(Op::CALL, 1);
        break;
      }
      case ExprKind::BinOp: {
        auto& b = as<BinOpExpr>(e);
        emit_expr(*b.left);
        int64_t k;
        if ((b.op == BinOp::Add || b.op == BinOp::Sub) && small_int_literal(b.right.get(), k)) {
          cur_ = e.loc;
          emit(b.op == BinOp::Add ? Op::ADD_INT : Op::SUB_INT, int32_t(k));
        } else {
          emit_expr(*b.right);
          cur_ = e.loc;
          emit(binop(b.op));
        }
        break;
      }
      case ExprKind::Unary: {
        auto& u = as<UnaryExpr>(e);
        // Fold -literal so that -9223372036854775807 - 1 style constants stay exact.
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::Int) {
          int64_t v = -as<IntExpr>(*u.operand).value;
          if (v >= -kMaxStackA && v <= kMaxStackA) emit(Op::LOAD_INT, int32_t(v));
          else emit(Op::LOAD_CONST, add_const(Value::integer(v)));
          break;
        }
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::Float) {
          emit(Op::LOAD_CONST, add_const(Value::number(-as<FloatExpr>(*u.operand).value)));
          break;
        }
        emit_expr(*u.operand);
        cur_ = e.loc;
        emit(u.op == UnaryOp::Neg ? Op::NEG : u.op == UnaryOp::Pos ? Op::POS : u.op == UnaryOp::Invert ? Op::INVERT : Op::NOT);
        break;
      }
      case ExprKind::BoolOp: {
        auto& b = as<BoolOpExpr>(e);
        emit_expr(*b.left);
        cur_ = e.loc;
        emit(Op::DUP);
        int j = emit_jump(b.is_and ? Op::JUMP_IF_FALSE : Op::JUMP_IF_TRUE);
        emit(Op::POP);
        emit_expr(*b.right);
        patch_here(j);
        break;
      }
      case ExprKind::Compare: emit_compare(as<CompareExpr>(e)); break;
      case ExprKind::IfExp: {
        auto& i = as<IfExpExpr>(e);
        Jumps to_else = emit_condition_jump(*i.cond, false);
        emit_expr(*i.then);
        int to_end = emit_jump(Op::JUMP);
        depth_ -= 1;
        patch_all_here(to_else);
        emit_expr(*i.orelse);
        patch_here(to_end);
        break;
      }
      case ExprKind::Lambda: emit_make_function(*as<LambdaExpr>(e).fn); break;
      case ExprKind::Call: emit_call(as<CallExpr>(e)); break;
      case ExprKind::Attribute: {
        auto& a = as<AttributeExpr>(e);
        emit_expr(*a.value);
        cur_ = e.loc;
        emit(Op::LOAD_ATTR, name_const(a.attr));
        break;
      }
      case ExprKind::Subscript: {
        auto& s = as<SubscriptExpr>(e);
        emit_expr(*s.value);
        emit_index(*s.index);
        cur_ = e.loc;
        emit(Op::SUBSCR);
        break;
      }
      case ExprKind::Slice: emit_slice(as<SliceExpr>(e)); break;
      case ExprKind::Starred: error(e.loc, "can't use starred expression here"); break;
    }
    cur_ = saved;
  }

  void emit_index(Expr& index) {
    if (index.kind == ExprKind::Tuple) {
      auto& t = as<TupleExpr>(index);
      for (auto& x : t.elts) emit_index(*x);
      cur_ = index.loc;
      emit(Op::BUILD_TUPLE, int(t.elts.size()));
    } else {
      emit_expr(index);
    }
  }

  void emit_slice(SliceExpr& s) {
    for (Expr* part : {s.lower.get(), s.upper.get()}) {
      if (part) emit_expr(*part);
      else emit(Op::LOAD_NONE);
    }
    if (s.step) emit_expr(*s.step);
    cur_ = s.loc;
    emit(Op::BUILD_SLICE, s.step ? 3 : 2);
  }

  static bool has_starred(const ExprList& l) {
    return std::any_of(l.begin(), l.end(), [](const ExprPtr& e) { return e->kind == ExprKind::Starred; });
  }

  // Builds a list (or tuple) from elements, spreading *starred ones.
  void emit_sequence(ExprList& elts, bool tuple) {
    Loc loc = cur_;
    if (!has_starred(elts)) {
      for (auto& x : elts) emit_expr(*x);
      cur_ = loc;
      emit(tuple ? Op::BUILD_TUPLE : Op::BUILD_LIST, int(elts.size()));
      return;
    }
    emit_spread_list(elts);
    cur_ = loc;
    if (tuple) emit(Op::LIST_TO_TUPLE);
  }

  void emit_spread_list(ExprList& elts) {
    Loc loc = cur_;
    emit(Op::BUILD_LIST, 0);
    for (auto& x : elts) {
      if (x->kind == ExprKind::Starred) {
        emit_expr(*as<StarredExpr>(*x).value);
        cur_ = x->loc;
        emit(Op::LIST_EXTEND);
      } else {
        emit_expr(*x);
        cur_ = loc;
        emit(Op::LIST_APPEND);
      }
    }
  }

  void emit_compare(CompareExpr& c) {
    Loc loc = c.loc;
    emit_expr(*c.left);
    if (c.ops.size() == 1) {
      emit_expr(*c.comparators[0]);
      cur_ = loc;
      emit(cmpop(c.ops[0]));
      return;
    }
    // a < b < c: each middle operand is evaluated once and kept for the next comparison.
    std::vector<int> cleanups;
    for (size_t i = 0; i + 1 < c.ops.size(); ++i) {
      emit_expr(*c.comparators[i]);
      cur_ = loc;
      emit(Op::DUP);
      emit(Op::ROT3);
      emit(cmpop(c.ops[i]));
      emit(Op::DUP);
      cleanups.push_back(emit_jump(Op::JUMP_IF_FALSE));
      emit(Op::POP);
    }
    emit_expr(*c.comparators.back());
    cur_ = loc;
    emit(cmpop(c.ops.back()));
    int to_end = emit_jump(Op::JUMP);
    depth_ += 1;  // the cleanup path holds (operand, result)
    for (int j : cleanups) patch_here(j);
    emit(Op::ROT2);
    emit(Op::POP);
    patch_here(to_end);
  }

  void emit_call(CallExpr& c) {
    Loc loc = c.loc;
    bool starred = has_starred(c.args);
    if (!starred && c.keywords.empty() && c.func->kind == ExprKind::Attribute) {
      auto& a = as<AttributeExpr>(*c.func);
      emit_expr(*a.value);
      for (auto& x : c.args) emit_expr(*x);
      cur_ = loc;
      emit(Op::CALL_METHOD, int(c.args.size()));
      emit_word(uint32_t(name_const(a.attr)));
      return;
    }
    emit_expr(*c.func);
    if (!starred) {
      for (auto& x : c.args) emit_expr(*x);
      for (auto& k : c.keywords) emit_expr(*k.value);
      cur_ = loc;
      int n = int(c.args.size() + c.keywords.size());
      if (c.keywords.empty()) {
        emit(Op::CALL, n);
      } else {
        std::vector<Value> names;
        for (auto& k : c.keywords) names.push_back(Value::object(intern(k.name)));
        int kw = add_const(make_tuple(std::move(names)));
        emit(Op::CALL_KW, n);
        emit_word(uint32_t(kw));
      }
      return;
    }
    emit_spread_list(c.args);
    if (!c.keywords.empty()) {
      for (auto& k : c.keywords) {
        emit(Op::LOAD_CONST, name_const(k.name));
        emit_expr(*k.value);
      }
      cur_ = loc;
      emit(Op::BUILD_DICT, int(c.keywords.size()));
    }
    cur_ = loc;
    emit(Op::CALL_EX, c.keywords.empty() ? 0 : 1);
  }

  void emit_closure_cells(const ScopeInfo& inner) {
    if (inner.freevars.empty()) {
      emit(Op::LOAD_NONE);
      return;
    }
    for (auto& fv : inner.freevars) emit(fv.from_parent_cell ? Op::LOAD_CLOSURE : Op::LOAD_FREECELL, fv.index);
    emit(Op::BUILD_TUPLE, int(inner.freevars.size()));
  }

  void emit_make_function(FunctionDef& f) {
    Loc loc = cur_;
    int ndefaults = 0;
    for (auto& p : f.params)
      if (p.default_value) {
        emit_expr(*p.default_value);
        ++ndefaults;
      }
    cur_ = loc;
    if (ndefaults) emit(Op::BUILD_TUPLE, ndefaults);
    else emit(Op::LOAD_NONE);
    emit_closure_cells(f.scope);
    Emitter child(module_, diag_, filename_);
    CodeObj* code = child.emit_function_body(f);
    cur_ = loc;
    emit(Op::MAKE_FUNCTION, add_const(Value::object(code)));
  }

  // One `for` clause of a comprehension (and, recursively, those after it). The iterable is on
  // the stack.
  void emit_comp_loop(CompExpr& c, size_t i) {
    CompFor& g = c.generators[i];
    cur_ = g.iter->loc;
    emit(Op::GET_ITER);
    int top = label();
    int to_end = emit_jump(Op::FOR_ITER);
    emit_store(*g.target);
    for (auto& cond : g.ifs) {
      patch_all(emit_condition_jump(*cond, false), top);
    }
    if (i + 1 < c.generators.size()) {
      emit_expr(*c.generators[i + 1].iter);
      emit_comp_loop(c, i + 1);
    } else {
      emit(Op::LOAD_LOCAL, 1);
      if (c.kind == ExprKind::DictComp) {
        emit_expr(*c.elt);
        emit_expr(*c.value);
        cur_ = c.loc;
        emit(Op::DICT_SET);
      } else {
        emit_expr(*c.elt);
        cur_ = c.loc;
        emit(Op::LIST_APPEND);
      }
      emit(Op::POP);
    }
    emit(Op::JUMP, top);
    depth_ -= 1;
    patch_here(to_end);
  }

  void patch_here(int at) { patch(at, label()); }

  ModuleObj* module_;
  Diagnostics& diag_;
  std::string filename_;
  CodeObj* code_;
  Loc cur_;
  int depth_ = 0;
  int max_depth_ = 0;
  std::vector<Loop> loops_;
  int label_at_ = -1;
  Op last_op_ = Op::NOP;
  std::unordered_map<std::string, int> str_consts_;
};

}  // namespace

Annotation read_annotation(const ast::Expr* e, std::vector<std::string>& dim_names, Diagnostics& diag) {
  Annotation a;
  if (!e) return a;
  static const std::map<std::string, Annotation::Kind> kinds = {
      {"int", Annotation::Int},   {"float", Annotation::Float}, {"bool", Annotation::Bool},
      {"str", Annotation::Str},   {"list", Annotation::List},   {"tuple", Annotation::Tuple},
      {"dict", Annotation::Dict}, {"Tensor", Annotation::Tensor}};
  if (e->kind == ExprKind::None) {
    a.kind = Annotation::NoneType;
    a.text = "None";
    return a;
  }
  if (e->kind == ExprKind::Name) {
    auto& n = as<NameExpr>(*e);
    if (auto it = kinds.find(n.id); it != kinds.end()) {
      a.kind = it->second;
      a.text = n.id;
      return a;
    }
    diag.error(e->loc, "unknown annotation type '" + n.id + "'");
    return a;
  }
  if (e->kind == ExprKind::Subscript) {
    auto& s = as<SubscriptExpr>(*e);
    if (s.value->kind == ExprKind::Name && as<NameExpr>(*s.value).id == "Tensor") {
      a.kind = Annotation::Tensor;
      a.has_dims = true;
      std::vector<const Expr*> dims;
      if (s.index->kind == ExprKind::Tuple)
        for (auto& d : as<TupleExpr>(*s.index).elts) dims.push_back(d.get());
      else
        dims.push_back(s.index.get());
      a.text = "Tensor[";
      for (const Expr* d : dims) {
        Annotation::Dim dim;
        if (d->kind == ExprKind::Int) {
          dim.size = as<IntExpr>(*d).value;
          a.text += std::to_string(dim.size);
        } else if (d->kind == ExprKind::Name) {
          dim.name = as<NameExpr>(*d).id;
          auto& names = dim_names;
          auto it = std::find(names.begin(), names.end(), dim.name);
          dim.index = int(it - names.begin());
          if (it == names.end()) names.push_back(dim.name);
          a.text += dim.name;
        } else {
          diag.error(d->loc, "a Tensor dimension must be an integer or a name");
        }
        a.dims.push_back(dim);
        a.text += ", ";
      }
      if (!dims.empty()) a.text.resize(a.text.size() - 2);
      a.text += "]";
      if (dims.size() > 8) diag.error(e->loc, "a tensor has at most 8 dimensions");
      return a;
    }
  }
  diag.error(e->loc, "unsupported annotation");
  return a;
}

CodeObj* emit_module(ast::Module& m, ModuleObj* module, Diagnostics& diag) {
  Emitter e(module, diag, m.filename);
  CodeObj* code = e.emit_module_body(m);
  if (diag.has_errors()) {
    decref(code);
    return nullptr;
  }
  return code;
}

CodeObj* compile_source(const SourceFile& src, ModuleObj* module, Diagnostics& diag, std::unique_ptr<ast::Module>* keep_ast) {
  std::unique_ptr<ast::Module> m = parse_module(src, diag);
  if (diag.has_errors()) return nullptr;
  resolve(*m, diag);
  if (diag.has_errors()) return nullptr;
  CodeObj* code = emit_module(*m, module, diag);
  if (code && keep_ast) *keep_ast = std::move(m);
  return code;
}

// ---------------------------------------------------------------- disassembler

namespace {

std::string operand_text(const CodeObj* code, Op op, uint32_t w, const ModuleObj* module) {
  const OpInfo& info = kOpInfo[int(op)];
  int32_t a = decode_a(w);
  switch (info.operand) {
    case OperandKind::None: return "";
    case OperandKind::Int: return std::to_string(decode_sa(w));
    case OperandKind::Count:
    case OperandKind::Jump: return std::to_string(a);
    case OperandKind::Const:
    case OperandKind::Name: {
      if (size_t(a) >= code->consts.size()) return std::to_string(a) + " (?)";
      Value v = code->consts[a];
      std::string r = is_type(v, ObjType::Code) ? "<code " + as_obj<CodeObj>(v)->name + ">" : repr(v);
      return std::to_string(a) + " (" + r + ")";
    }
    case OperandKind::Local:
      return std::to_string(a) + (size_t(a) < code->slot_names.size() ? " (" + code->slot_names[a]->data + ")" : "");
    case OperandKind::Local2: {
      auto name = [&](uint32_t i) { return i < code->slot_names.size() ? code->slot_names[i]->data : "?"; };
      return std::to_string(a >> 12) + " " + std::to_string(a & 0xFFF) + " (" + name(a >> 12) + ", " + name(a & 0xFFF) + ")";
    }
    case OperandKind::LocalInt: {
      int32_t k = int32_t(a << 20) >> 20;
      return std::to_string(a >> 12) + " " + std::to_string(k) + " (" +
             (size_t(a >> 12) < code->slot_names.size() ? code->slot_names[a >> 12]->data : "?") + ")";
    }
    case OperandKind::Free: return std::to_string(a);
    case OperandKind::Global:
      return std::to_string(a) + (module && size_t(a) < module->slot_names.size() ? " (" + module->slot_names[a]->data + ")" : "");
    case OperandKind::Format: {
      static const char* conv[] = {"", " !s", " !r", ""};
      return std::to_string(a) + conv[a & 3] + ((a & 4) ? " spec" : "");
    }
  }
  return "";
}

void disassemble_into(std::string& out, const CodeObj* code, const SourceFile* src, const ModuleObj* module) {
  out += "code " + code->name + " (params " + std::to_string(code->nparams) + (code->has_varargs ? " + *args" : "") +
         ", slots " + std::to_string(code->nslots) + ", stack " + std::to_string(code->max_stack) + ", free " +
         std::to_string(code->nfree) + ")\n";
  int last_line = -1;
  for (size_t i = 0; i < code->code.size(); ++i) {
    uint32_t w = code->code[i];
    Op op = decode_op(w);
    if (int(op) >= kNumOps) {
      out += "  ?? " + std::to_string(w) + "\n";
      continue;
    }
    int line = code->locs[i].line;
    if (line != last_line && src) {
      out += "  " + std::to_string(line) + ": " + std::string(src->line(line)) + "\n";
      last_line = line;
    }
    const OpInfo& info = kOpInfo[int(op)];
    char head[64];
    std::snprintf(head, sizeof head, "    %5zu  %-20s", i, info.name);
    std::string text = head + operand_text(code, op, w, module);
    if (info.extra_word && info.operand == OperandKind::Jump && i + 1 < code->code.size()) {
      text += " " + std::to_string(int32_t(code->code[++i]));
    } else if (info.extra_word && i + 1 < code->code.size()) {
      uint32_t x = code->code[++i];
      Value v = x < code->consts.size() ? code->consts[x] : Value::none();
      text += " " + std::to_string(x) + " (" + repr(v) + ")";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  for (Value c : code->consts)
    if (is_type(c, ObjType::Code)) {
      out += "\n";
      disassemble_into(out, as_obj<CodeObj>(c), src, module);
    }
}

}  // namespace

std::string disassemble(const CodeObj* code, const SourceFile* src, const ModuleObj* module) {
  std::string out;
  disassemble_into(out, code, src, module);
  return out;
}

}  // namespace tvm
