// The IR's machine-independent passes: folding of constants, copy propagation, dead-code
// removal and CFG cleanup (unreachable blocks, jump threading, block merging), run to a fixed
// point. Folding evaluates an operation at pack time only when it cannot raise and has no side
// effect, so every runtime error still happens at run time, at its own location.
#include <algorithm>
#include <stdexcept>

#include "../vm/error.h"
#include "../vm/ops.h"
#include "../vm/tensor.h"
#include "ir.h"

namespace tvm::ir {

// ------------------------------------------------------------------ Function

Function::~Function() {
  for (Value v : consts) decref(v);
  if (code) decref(code);
}

int Function::add_const(Value v) {
  incref(v);
  return adopt_const(v);
}

int Function::adopt_const(Value v) {
  if (is_type(v, ObjType::Str)) {
    std::string key(str_view(v));
    // An interned and a plain string with one text are interchangeable as constants, but a
    // Name operand needs the interned one: keep whichever came first unless that is not interned.
    if (auto it = str_index.find(key); it != str_index.end()) {
      Value old = consts[size_t(it->second)];
      if (!as_obj<StrObj>(old)->interned && as_obj<StrObj>(v)->interned) {
        consts[size_t(it->second)] = v;
        decref(old);
      } else {
        decref(v);
      }
      return it->second;
    }
    str_index.emplace(key, int(consts.size()));
  } else {
    if (auto it = const_index.find(v.bits()); it != const_index.end()) {
      decref(v);
      return it->second;
    }
    const_index.emplace(v.bits(), int(consts.size()));
  }
  consts.push_back(v);
  return int(consts.size() - 1);
}

int Function::name_const(const std::string& name) { return adopt_const(Value::object(intern(name))); }

// ------------------------------------------------------------------ instruction properties

bool is_terminator(Op op) { return op >= Op::Jmp; }

void successors(const Block& b, std::vector<int>& out) {
  out.clear();
  if (b.instrs.empty()) return;
  const Instr& t = b.instrs.back();
  switch (t.op) {
    case Op::Jmp: out.push_back(t.t0); break;
    case Op::Branch:
    case Op::CmpBranch:
    case Op::ForIter:
      out.push_back(t.t0);
      if (t.t1 != t.t0) out.push_back(t.t1);
      break;
    default: break;
  }
}

bool is_pure(const Instr& in) {
  switch (in.op) {
    case Op::Move:
    case Op::GetFreeCell:
    case Op::MakeCell:
    case Op::NewList:
    case Op::NewTuple:
    case Op::NewSlice:
    case Op::ListToTuple:
    case Op::Closure:
    case Op::Concat: return true;
    case Op::Compare: return in.sub == ROp::IS || in.sub == ROp::ISNOT;
    default: return false;
  }
}

// ------------------------------------------------------------------ folding

namespace {

bool is_scalar(Value v) { return v.is_number() || v.is_none(); }
bool is_str(Value v) { return is_type(v, ObjType::Str); }

// A tuple of scalars and strings, nested: compares and hashes without raising.
bool is_plain(Value v) {
  if (is_scalar(v) || is_str(v)) return true;
  if (is_type(v, ObjType::Tuple)) {
    for (Value x : as_obj<TupleObj>(v)->items)
      if (!is_plain(x)) return false;
    return true;
  }
  return false;
}

BinaryOp binary_of(ROp op) {
  switch (op) {
    case ROp::ADD:
    case ROp::INPLACE_ADD: return BinaryOp::Add;
    case ROp::SUB: return BinaryOp::Sub;
    case ROp::MUL: return BinaryOp::Mul;
    case ROp::DIV: return BinaryOp::Div;
    case ROp::FLOORDIV: return BinaryOp::FloorDiv;
    case ROp::MOD: return BinaryOp::Mod;
    case ROp::POW: return BinaryOp::Pow;
    case ROp::MATMUL: return BinaryOp::MatMul;
    case ROp::LSHIFT: return BinaryOp::LShift;
    case ROp::RSHIFT: return BinaryOp::RShift;
    case ROp::BITAND: return BinaryOp::And;
    case ROp::BITOR: return BinaryOp::Or;
    default: return BinaryOp::Xor;
  }
}

template <typename F>
bool attempt(Value& out, F&& f) {
  try {
    out = f();
    return true;
  } catch (const RuntimeError&) {
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool fold_binary(ROp op, Value a, Value b, Value& out) {
  if (op == ROp::MATMUL) return false;
  bool ok = (a.is_number() && b.is_number());
  if (!ok && op == ROp::ADD) ok = (is_str(a) && is_str(b)) || (is_type(a, ObjType::Tuple) && is_type(b, ObjType::Tuple));
  if (!ok && op == ROp::INPLACE_ADD) ok = is_str(a) && is_str(b);
  if (!ok && op == ROp::MUL && is_str(a) && b.is_int())
    ok = b.as_int() <= 4096 && int64_t(str_view(a).size()) * std::max<int64_t>(b.as_int(), 0) <= 4096;
  if (!ok) return false;
  // Huge powers and shifts of ints would be errors or slow; binary_op raises "integer overflow".
  return attempt(out, [&] { return binary_op(binary_of(op), a, b); });
}

bool fold_unary(ROp op, Value a, Value& out) {
  if (op == ROp::NOT) {
    bool t;
    if (!const_truth(a, t)) return false;
    out = Value::boolean(!t);
    return true;
  }
  if (!a.is_number()) return false;
  return attempt(out, [&] {
    return op == ROp::NEG ? unary_neg(a) : op == ROp::POS ? unary_pos(a) : unary_invert(a);
  });
}

bool fold_compare(ROp op, Value a, Value b, Value& out) {
  switch (op) {
    case ROp::IS: out = Value::boolean(a.same(b)); return true;
    case ROp::ISNOT: out = Value::boolean(!a.same(b)); return true;
    case ROp::IN:
    case ROp::NOTIN: {
      bool ok = (is_str(a) && is_str(b)) || (is_type(b, ObjType::Tuple) && is_plain(b) && is_plain(a));
      if (!ok) return false;
      return attempt(out, [&] { return Value::boolean(contains(b, a) == (op == ROp::IN)); });
    }
    default: break;
  }
  if (!is_plain(a) || !is_plain(b)) return false;
  CompareOp c = op == ROp::LT ? CompareOp::Lt : op == ROp::LE ? CompareOp::Le : op == ROp::GT ? CompareOp::Gt
              : op == ROp::GE ? CompareOp::Ge : op == ROp::EQ ? CompareOp::Eq : CompareOp::Ne;
  return attempt(out, [&] { return compare(c, a, b); });
}

bool const_truth(Value v, bool& out) {
  if (is_type(v, ObjType::Tensor)) return false;
  try {
    out = truthy(v);
    return true;
  } catch (const RuntimeError&) {
    return false;
  }
}

bool fold_getitem(Value obj, Value index, Value& out) {
  if (!(index.is_int() || is_str(index))) return false;
  if (!(is_type(obj, ObjType::Tuple) || is_str(obj) || is_type(obj, ObjType::List) || is_type(obj, ObjType::Dict))) return false;
  return attempt(out, [&] { return get_item(obj, index); });
}

// ------------------------------------------------------------------ CFG cleanup

void remove_unreachable_blocks(Function& f) {
  size_t n = f.blocks.size();
  std::vector<int> order, remap(n, -1);
  std::vector<int> stack{0}, succ;
  remap[0] = 0;
  std::vector<char> seen(n, 0);
  seen[0] = 1;
  while (!stack.empty()) {
    int b = stack.back();
    stack.pop_back();
    successors(f.blocks[size_t(b)], succ);
    for (int s : succ)
      if (!seen[size_t(s)]) {
        seen[size_t(s)] = 1;
        stack.push_back(s);
      }
  }
  // Keep the builder's order (it lays code out as the source reads).
  std::vector<Block> kept;
  for (size_t b = 0; b < n; ++b)
    if (seen[b]) {
      remap[b] = int(kept.size());
      kept.push_back(std::move(f.blocks[b]));
    }
  for (Block& b : kept) {
    if (b.instrs.empty()) continue;
    Instr& t = b.instrs.back();
    if (t.t0 >= 0) t.t0 = remap[size_t(t.t0)];
    if (t.t1 >= 0) t.t1 = remap[size_t(t.t1)];
  }
  f.blocks = std::move(kept);
}

namespace {

// A block that is only `Jmp t` forwards its incoming edges to t.
int thread(const Function& f, int b) {
  for (int guard = 0; guard < 64; ++guard) {
    const Block& blk = f.blocks[size_t(b)];
    if (blk.instrs.size() != 1 || blk.instrs[0].op != Op::Jmp || blk.instrs[0].t0 == b) return b;
    b = blk.instrs[0].t0;
  }
  return b;
}

bool cleanup_cfg(Function& f) {
  bool changed = false;
  for (Block& b : f.blocks) {
    if (b.instrs.empty()) continue;
    Instr& t = b.instrs.back();
    if (t.t0 >= 0) {
      int n = thread(f, t.t0);
      changed |= n != t.t0;
      t.t0 = n;
    }
    if (t.t1 >= 0) {
      int n = thread(f, t.t1);
      changed |= n != t.t1;
      t.t1 = n;
    }
  }
  remove_unreachable_blocks(f);
  // Merge a block into its only predecessor when that ends in a Jmp to it.
  std::vector<int> preds(f.blocks.size(), 0), succ;
  for (const Block& b : f.blocks) {
    successors(b, succ);
    for (int s : succ) ++preds[size_t(s)];
  }
  for (size_t b = 0; b < f.blocks.size(); ++b) {
    for (;;) {
      Block& blk = f.blocks[b];
      if (blk.instrs.empty() || blk.instrs.back().op != Op::Jmp) break;
      int c = blk.instrs.back().t0;
      if (c == 0 || size_t(c) == b || preds[size_t(c)] != 1 || f.blocks[size_t(c)].instrs.empty()) break;
      blk.instrs.pop_back();
      auto& from = f.blocks[size_t(c)].instrs;
      blk.instrs.insert(blk.instrs.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
      from.clear();
      // c is now unreachable: give it a harmless self-loop so successors() stays well formed.
      Instr j;
      j.op = Op::Jmp;
      j.t0 = c;
      from.push_back(j);
      preds[size_t(c)] = 0;
      changed = true;
    }
  }
  remove_unreachable_blocks(f);
  return changed;
}

// ------------------------------------------------------------------ folding over the IR

// A conditional branch whose condition is known to be `taken` becomes a Jmp; returns true.
bool branch_to_jump(Instr& in, bool taken) {
  in.op = Op::Jmp;
  in.t0 = taken ? in.t0 : in.t1;
  in.t1 = -1;
  in.args.clear();
  return true;
}

bool fold_instrs(Function& f) {
  bool changed = false;
  auto const_of = [&](const Opd& o) { return f.konst(o.v); };
  for (Block& b : f.blocks)
    for (Instr& in : b.instrs) {
      auto all_const = [&] {
        for (const Opd& o : in.args)
          if (!o.is_const()) return false;
        return true;
      };
      Value out;
      bool folded = false;
      switch (in.op) {
        case Op::Binary: folded = all_const() && fold_binary(in.sub, const_of(in.args[0]), const_of(in.args[1]), out); break;
        case Op::Unary: folded = all_const() && fold_unary(in.sub, const_of(in.args[0]), out); break;
        case Op::Compare: folded = all_const() && fold_compare(in.sub, const_of(in.args[0]), const_of(in.args[1]), out); break;
        case Op::GetItem: folded = all_const() && fold_getitem(const_of(in.args[0]), const_of(in.args[1]), out); break;
        case Op::Concat:
          if (all_const()) {
            std::string s;
            bool ok = true;
            for (const Opd& o : in.args) {
              if (!is_type(const_of(o), ObjType::Str)) ok = false;
              else s += str_view(const_of(o));
            }
            if (ok) {
              out = make_str(s);
              folded = true;
            }
          }
          break;
        case Op::CheckDef:
          if (in.args[0].is_const()) {
            in.op = Op::Move;  // turned into a no-op below
            in.dst = -1;
            changed = true;
          }
          break;
        case Op::Branch: {
          bool t;
          if (in.args[0].is_const() && const_truth(const_of(in.args[0]), t)) changed = branch_to_jump(in, t);
          break;
        }
        case Op::CmpBranch: {
          bool t;
          if (all_const() && fold_compare(in.sub, const_of(in.args[0]), const_of(in.args[1]), out)) {
            bool ok = const_truth(out, t);
            decref(out);
            if (ok) changed = branch_to_jump(in, t);
          }
          break;
        }
        default: break;
      }
      if (folded) {
        in.op = Op::Move;
        in.args = {Opd::konst(f.adopt_const(out))};
        changed = true;
      }
    }
  // Drop the emptied CheckDefs (Moves without a destination).
  for (Block& b : f.blocks)
    std::erase_if(b.instrs, [](const Instr& in) { return in.op == Op::Move && in.dst < 0; });
  return changed;
}

// Uses of a vreg assigned once, by a Move whose definition reaches every use (it is not live
// into the entry), read the Move's source instead, when that source never changes either.
bool propagate_single_defs(Function& f) {
  std::vector<int> ndefs(size_t(f.nvregs), 0);
  std::vector<const Instr*> def(size_t(f.nvregs), nullptr);
  for (int p = 0; p < f.nparams; ++p) ndefs[size_t(p)] = 1;
  for (const Block& b : f.blocks)
    for (const Instr& in : b.instrs)
      for_each_def(in, [&](int d) {
        ++ndefs[size_t(d)];
        def[size_t(d)] = &in;
      });
  Liveness live = compute_liveness(f);
  auto stable = [&](int v) { return ndefs[size_t(v)] == 1 && (v < f.nparams || !live.in(0, v)); };
  std::vector<Opd> repl(size_t(f.nvregs));
  for (int v = 0; v < f.nvregs; ++v) {
    const Instr* d = def[size_t(v)];
    if (!d || d->op != Op::Move || !stable(v) || v < f.nparams) continue;
    const Opd& src = d->args[0];
    if (src.is_const() || (src.is_reg() && stable(src.v))) repl[size_t(v)] = src;
  }
  // Chains: resolve a -> b -> c.
  auto resolve = [&](Opd o) {
    for (int guard = 0; guard < 64 && o.is_reg() && repl[size_t(o.v)].kind != Opd::None; ++guard) o = repl[size_t(o.v)];
    return o;
  };
  bool changed = false;
  for (Block& b : f.blocks)
    for (Instr& in : b.instrs)
      for (Opd& o : in.args)
        if (o.is_reg() && repl[size_t(o.v)].kind != Opd::None) {
          o = resolve(o);
          changed = true;
        }
  return changed;
}

// Within a block, a use of x after `x := y` reads y, until either is assigned again.
bool propagate_local_copies(Function& f) {
  bool changed = false;
  std::unordered_map<int, Opd> copy;
  for (Block& b : f.blocks) {
    copy.clear();
    for (Instr& in : b.instrs) {
      if (in.op == Op::CheckDef && in.args[0].is_reg() && copy.count(in.args[0].v)) {
        in.op = Op::Move;  // assigned earlier in this block: dropped below
        in.dst = -1;
        changed = true;
        continue;
      }
      for (Opd& o : in.args)
        if (o.is_reg())
          if (auto it = copy.find(o.v); it != copy.end()) {
            o = it->second;
            changed = true;
          }
      for_each_def(in, [&](int d) {
        copy.erase(d);
        std::erase_if(copy, [d](const auto& kv) { return kv.second.is_reg() && kv.second.v == d; });
      });
      if (in.op == Op::Move && in.dst >= 0 && !(in.args[0].is_reg() && in.args[0].v == in.dst)) copy[in.dst] = in.args[0];
    }
  }
  for (Block& b : f.blocks)
    std::erase_if(b.instrs, [](const Instr& in) { return in.op == Op::Move && in.dst < 0; });
  return changed;
}

// `a, b = x, y`: an Unpack of a tuple built just before (and used nowhere else), or of a
// constant tuple of the right size, becomes plain moves.
bool unpack_known_tuples(Function& f) {
  std::vector<int> uses(size_t(f.nvregs), 0);
  for (const Block& b : f.blocks)
    for (const Instr& in : b.instrs) for_each_use(in, [&](int u) { ++uses[size_t(u)]; });
  bool changed = false;
  for (Block& b : f.blocks) {
    std::vector<Instr> out;
    out.reserve(b.instrs.size());
    for (size_t i = 0; i < b.instrs.size(); ++i) {
      Instr& in = b.instrs[i];
      std::vector<Opd> items;
      if (in.op == Op::Unpack && in.args[0].is_const() && is_type(f.konst(in.args[0].v), ObjType::Tuple) &&
          as_obj<TupleObj>(f.konst(in.args[0].v))->items.size() == in.dsts.size()) {
        for (Value v : as_obj<TupleObj>(f.konst(in.args[0].v))->items) items.push_back(Opd::konst(f.add_const(v)));
      } else if (in.op == Op::Unpack && in.args[0].is_reg() && uses[size_t(in.args[0].v)] == 1 && i > 0 &&
                 b.instrs[i - 1].op == Op::NewTuple && b.instrs[i - 1].dst == in.args[0].v &&
                 b.instrs[i - 1].args.size() == in.dsts.size()) {
        items = b.instrs[i - 1].args;
      }
      if (items.empty() || items.size() != in.dsts.size()) {
        out.push_back(std::move(in));
        continue;
      }
      for (size_t k = 0; k < items.size(); ++k) {
        Instr m;
        m.op = Op::Move;
        m.dst = in.dsts[k];
        m.args = {items[k]};
        m.loc = in.loc;
        out.push_back(std::move(m));
      }
      changed = true;
    }
    b.instrs = std::move(out);
  }
  return changed;
}

// `t := op ...; x := t` with t read nowhere else becomes `x := op ...`: the result goes
// straight to the variable (`total += f(i)` then needs no MOVE). Every instruction reads its
// operands before it writes its result, so x may be one of them.
bool retarget_moved_results(Function& f) {
  std::vector<int> uses(size_t(f.nvregs), 0), defs(size_t(f.nvregs), 0);
  for (const Block& b : f.blocks)
    for (const Instr& in : b.instrs) {
      for_each_use(in, [&](int u) { ++uses[size_t(u)]; });
      for_each_def(in, [&](int d) { ++defs[size_t(d)]; });
    }
  bool changed = false;
  for (Block& b : f.blocks) {
    for (size_t i = 1; i < b.instrs.size(); ++i) {
      Instr& mv = b.instrs[i];
      Instr& def = b.instrs[i - 1];
      if (mv.op != Op::Move || mv.dst < 0 || !mv.args[0].is_reg()) continue;
      int t = mv.args[0].v;
      if (t == mv.dst || t < f.nparams || def.dst != t || !def.dsts.empty() || is_terminator(def.op)) continue;
      if (uses[size_t(t)] != 1 || defs[size_t(t)] != 1) continue;
      def.dst = mv.dst;
      mv.dst = -1;  // removed below
      changed = true;
    }
    std::erase_if(b.instrs, [](const Instr& in) { return in.op == Op::Move && in.dst < 0; });
  }
  return changed;
}

bool remove_dead_code(Function& f) {
  Liveness live = compute_liveness(f);
  bool changed = false;
  std::vector<uint64_t> cur;
  for (size_t bi = 0; bi < f.blocks.size(); ++bi) {
    Block& b = f.blocks[bi];
    cur = live.live_out[bi];
    auto test = [&](int v) { return (cur[size_t(v) >> 6] >> (v & 63)) & 1; };
    std::vector<char> keep(b.instrs.size(), 1);
    for (size_t i = b.instrs.size(); i-- > 0;) {
      Instr& in = b.instrs[i];
      bool needed = !is_pure(in);
      if (!needed) for_each_def(in, [&](int d) { needed |= test(d) != 0; });
      if (in.op == Op::Move && in.args[0].is_reg() && in.args[0].v == in.dst) needed = false;
      // A call whose result nobody reads keeps it in its block register.
      if (needed && (in.op == Op::Call || in.op == Op::CallMethod || in.op == Op::CallEx) && in.dst >= 0 &&
          !test(in.dst)) {
        in.dst = -1;
        changed = true;
      }
      if (!needed) {
        keep[i] = 0;
        changed = true;
        continue;
      }
      for_each_def(in, [&](int d) { cur[size_t(d) >> 6] &= ~(uint64_t(1) << (d & 63)); });
      for_each_use(in, [&](int u) { cur[size_t(u) >> 6] |= uint64_t(1) << (u & 63); });
    }
    size_t w = 0;
    for (size_t i = 0; i < b.instrs.size(); ++i)
      if (keep[i]) {
        if (w != i) b.instrs[w] = std::move(b.instrs[i]);
        ++w;
      }
    b.instrs.resize(w);
  }
  return changed;
}

}  // namespace

void optimize(Function& f) {
  remove_unreachable_blocks(f);
  for (int round = 0; round < 16; ++round) {
    bool changed = false;
    changed |= fold_instrs(f);
    changed |= cleanup_cfg(f);
    changed |= propagate_local_copies(f);
    changed |= fold_instrs(f);
    changed |= propagate_single_defs(f);
    changed |= unpack_known_tuples(f);
    changed |= retarget_moved_results(f);
    changed |= remove_dead_code(f);
    if (!changed) break;
  }
}

// ------------------------------------------------------------------ dump

namespace {

std::string opd_text(const Function& f, const Opd& o) {
  if (o.is_reg()) return "%" + std::to_string(o.v);
  if (o.is_const()) {
    Value v = f.konst(o.v);
    if (is_type(v, ObjType::Code)) return "<code " + as_obj<CodeObj>(v)->name + ">";
    if (is_type(v, ObjType::Tensor)) return "<tensor " + shape_str(as_tensor(v)->dims()) + ">";
    return repr(v);
  }
  return "_";
}

const char* op_name(Op op) {
  static const char* names[] = {"move", "checkdef", "getglobal", "setglobal", "getfree", "setfree", "getfreecell",
                                "makecell", "getcell", "setcell", "binary", "unary", "compare", "getiter", "newlist",
                                "newtuple", "newdict", "newslice", "concat", "format", "listappend", "listextend",
                                "listtotuple", "dictset", "getitem", "setitem", "getattr", "setattr", "call",
                                "callmethod", "callex", "closure", "import", "importfrom", "unpack", "checkargs",
                                "checkreturn", "kcall", "jmp", "branch", "cmpbranch", "foriter", "return", "assertfail"};
  return names[int(op)];
}

}  // namespace

std::string dump(const Function& f) {
  std::string out;
  for (size_t b = 0; b < f.blocks.size(); ++b) {
    out += "b" + std::to_string(b) + ":\n";
    for (const Instr& in : f.blocks[b].instrs) {
      out += "  ";
      if (in.dst >= 0) out += "%" + std::to_string(in.dst) + " = ";
      for (int d : in.dsts) out += "%" + std::to_string(d) + " ";
      if (!in.dsts.empty()) out += "= ";
      out += op_name(in.op);
      if (in.op == Op::Binary || in.op == Op::Unary || in.op == Op::Compare || in.op == Op::CmpBranch)
        out += std::string(".") + kROpInfo[int(in.sub)].name;
      for (const Opd& o : in.args) out += " " + opd_text(f, o);
      if (in.imm) out += " #" + std::to_string(in.imm);
      if (in.t0 >= 0) out += " -> b" + std::to_string(in.t0);
      if (in.t1 >= 0) out += ", b" + std::to_string(in.t1);
      out += "\n";
    }
  }
  return out;
}

}  // namespace tvm::ir
