// Fusion of tensor work into KCALLs (vm/fused.h), on the IR after inlining and folding.
//
// A forward type inference marks the vregs that certainly hold tensors (when they hold
// anything): tensor constants, parameters annotated Tensor, and results of tensor operations
// on tensors. Then:
//   * linear(x, w, b), and x @ W + b with W a constant 2-D tensor and x of rank >= 1 (W is
//     transposed at pack time into linear()'s layout), followed by relu/sigmoid/tanh/gelu,
//     become one Gemm with its bias and activation as the epilogue;
//   * a tree of elementwise operations on tensors whose inner results have no other use
//     becomes one Elementwise program.
// The fused op takes the place of the first op of the pattern when the rest cannot raise (the
// bias add and the activation of a tensor), else of the last; nothing with an effect may sit
// between, so errors and output keep their order.
#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include "../vm/tensor.h"
#include "ir.h"

namespace tvm::ir {
namespace {

bool is_numeric(Value v) { return v.is_number(); }

std::string_view builtin_name(const Function& f, const Opd& o) {
  if (!o.is_const()) return {};
  Value v = f.konst(o.v);
  if (!is_type(v, ObjType::Builtin)) return {};
  return as_obj<BuiltinObj>(v)->def->name;
}

bool is_activation(std::string_view n, Activation& act) {
  if (n == "relu") act = Activation::Relu;
  else if (n == "sigmoid") act = Activation::Sigmoid;
  else if (n == "tanh") act = Activation::Tanh;
  else if (n == "gelu") act = Activation::Gelu;
  else return false;
  return true;
}

bool unary_kind(std::string_view n, UnaryKind& k) {
  static const std::pair<std::string_view, UnaryKind> table[] = {
      {"relu", UnaryKind::Relu}, {"sigmoid", UnaryKind::Sigmoid}, {"tanh", UnaryKind::Tanh}, {"gelu", UnaryKind::Gelu},
      {"exp", UnaryKind::Exp},   {"log", UnaryKind::Log},         {"sqrt", UnaryKind::Sqrt}, {"abs", UnaryKind::Abs},
      {"neg", UnaryKind::Neg}};
  for (auto& [name, kind] : table)
    if (n == name) {
      k = kind;
      return true;
    }
  return false;
}

class Fuser {
 public:
  explicit Fuser(Function& f) : f_(f) {}

  void run() {
    analyse();
    for (size_t b = 0; b < f_.blocks.size(); ++b) fuse_gemms(int(b));
    analyse();
    for (size_t b = 0; b < f_.blocks.size(); ++b) fuse_elementwise(int(b));
  }

 private:
  // ------------------------------------------------------------ analysis

  bool tensor(const Opd& o) const {
    if (o.is_const()) return is_type(f_.konst(o.v), ObjType::Tensor);
    return o.is_reg() && tensor_[size_t(o.v)];
  }
  bool rank_ge1(const Opd& o) const {
    if (o.is_const()) {
      Value v = f_.konst(o.v);
      return is_type(v, ObjType::Tensor) && as_tensor(v)->ndim >= 1;
    }
    return o.is_reg() && ranked_[size_t(o.v)];
  }
  bool numeric_const(const Opd& o) const { return o.is_const() && is_numeric(f_.konst(o.v)); }
  bool tensor_or_number(const Opd& o) const { return tensor(o) || numeric_const(o); }

  // Does `in` leave a tensor in its destination (when it does not raise)?
  bool makes_tensor(const Instr& in, bool& ranked) const {
    const auto& a = in.args;
    ranked = false;
    switch (in.op) {
      case Op::Move:
        ranked = rank_ge1(a[0]);
        return tensor(a[0]);
      case Op::KCall:
        ranked = f_.kernels[size_t(in.imm)].kind == KernelDesc::Gemm || std::any_of(a.begin(), a.end(), [&](const Opd& o) { return rank_ge1(o); });
        return true;
      case Op::Binary:
        if (in.sub == ROp::MATMUL) return tensor(a[0]) || tensor(a[1]);
        if (in.sub > ROp::INPLACE_ADD) return false;
        if (in.sub >= ROp::LSHIFT && in.sub <= ROp::BITXOR) return false;
        ranked = rank_ge1(a[0]) || rank_ge1(a[1]);
        return tensor(a[0]) || tensor(a[1]);
      case Op::Unary:
        ranked = rank_ge1(a[0]);
        return (in.sub == ROp::NEG || in.sub == ROp::POS) && tensor(a[0]);
      case Op::Call: {
        if (in.imm != 0 || a.size() < 2) return false;
        std::string_view n = builtin_name(f_, a[0]);
        UnaryKind k;
        if (unary_kind(n, k) || n == "sin" || n == "cos" || n == "softmax" || n == "log_softmax" || n == "layer_norm") {
          ranked = rank_ge1(a[1]);
          return tensor(a[1]);
        }
        if (n == "linear") {
          ranked = true;  // linear() of a rank-0 x raises
          return true;
        }
        if (n == "matmul") return tensor(a[1]) || tensor(a[2 % a.size()]);
        if (n == "maximum" || n == "minimum" || n == "where" || n == "clamp") {
          bool any = false;
          for (size_t i = 1; i < a.size(); ++i) {
            any |= tensor(a[i]);
            ranked |= rank_ge1(a[i]);
          }
          return any;
        }
        return false;
      }
      default: return false;
    }
  }

  void analyse() {
    size_t n = size_t(f_.nvregs);
    uses_.assign(n, 0);
    defs_.assign(n, 0);
    for (const Block& b : f_.blocks)
      for (const Instr& in : b.instrs) {
        for_each_use(in, [&](int u) { ++uses_[size_t(u)]; });
        for_each_def(in, [&](int d) { ++defs_[size_t(d)]; });
      }
    // Optimistic start, lowered to a fixed point.
    tensor_.assign(n, 0);
    ranked_.assign(n, 0);
    for (size_t v = 0; v < n; ++v) tensor_[v] = ranked_[v] = defs_[v] > 0 || (int(v) < f_.nparams);
    for (int p = 0; p < f_.nparams; ++p) {
      int r = size_t(p) < f_.param_rank.size() ? f_.param_rank[size_t(p)] : -1;
      tensor_[size_t(p)] = r != -1;
      ranked_[size_t(p)] = r >= 1;
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (const Block& b : f_.blocks)
        for (const Instr& in : b.instrs)
          for_each_def(in, [&](int d) {
            bool ranked;
            bool t = in.dsts.empty() && makes_tensor(in, ranked);
            if (tensor_[size_t(d)] && !t) {
              tensor_[size_t(d)] = 0;
              changed = true;
            }
            if (ranked_[size_t(d)] && !(t && ranked)) {
              ranked_[size_t(d)] = 0;
              changed = true;
            }
          });
    }
  }

  // The instruction of block b at or after `from` that reads v, or -1.
  int next_use(const Block& blk, size_t from, int v) const {
    for (size_t i = from; i < blk.instrs.size(); ++i)
      for (const Opd& o : blk.instrs[i].args)
        if (o.is_reg() && o.v == v) return int(i);
    return -1;
  }

  // No instruction in (from, to) of the block has an effect, or writes one of `reads`.
  bool quiet_between(const Block& blk, size_t from, size_t to, const std::vector<char>& skip,
                     const std::vector<Opd>& reads) const {
    for (size_t i = from + 1; i < to; ++i) {
      if (skip[i]) continue;
      const Instr& in = blk.instrs[i];
      if (!is_pure(in)) return false;
      bool clobbers = false;
      for_each_def(in, [&](int d) {
        for (const Opd& o : reads) clobbers |= o.is_reg() && o.v == d;
      });
      if (clobbers) return false;
    }
    return true;
  }

  // ------------------------------------------------------------ GEMM epilogues

  void fuse_gemms(int b) {
    Block& blk = f_.blocks[size_t(b)];
    std::vector<char> dead(blk.instrs.size(), 0);
    for (size_t i = 0; i < blk.instrs.size(); ++i) {
      if (dead[i]) continue;
      Instr& in = blk.instrs[i];
      Opd x, w, bias;
      bool has_bias = false;
      bool needs_epilogue = false;  // a bare matmul stays a MATMUL
      Value transposed = Value::undefined();
      if (in.op == Op::Call && in.imm == 0 && builtin_name(f_, in.args[0]) == "linear" &&
          (in.args.size() == 3 || in.args.size() == 4) && tensor(in.args[2])) {
        x = in.args[1];
        w = in.args[2];
        if (in.args.size() == 4 && !(in.args[3].is_const() && f_.konst(in.args[3].v).is_none())) {
          bias = in.args[3];
          has_bias = true;
        }
      } else if (matmul_operands(in, x, w)) {
        needs_epilogue = true;
      } else {
        continue;
      }
      if (in.dst < 0 || defs_[size_t(in.dst)] != 1) continue;
      int result = in.dst;
      size_t last = i;
      std::vector<size_t> absorbed;
      // x @ W + b, b a constant [n] (or b + x @ W).
      const TensorObj* wt = w.is_const() ? as_tensor(f_.konst(w.v)) : nullptr;
      if (needs_epilogue && uses_[size_t(result)] == 1) {
        int j = next_use(blk, i + 1, result);
        if (j >= 0 && blk.instrs[size_t(j)].op == Op::Binary && blk.instrs[size_t(j)].sub == ROp::ADD) {
          const Instr& add = blk.instrs[size_t(j)];
          Opd other = add.args[0].is_reg() && add.args[0].v == result ? add.args[1] : add.args[0];
          if (other.is_const() && is_type(f_.konst(other.v), ObjType::Tensor) && add.dst >= 0 && defs_[size_t(add.dst)] == 1) {
            const TensorObj* bt = as_tensor(f_.konst(other.v));
            if (bt->ndim == 1 && bt->shape[0] == wt->shape[1] && !(add.args[0] == add.args[1])) {
              bias = other;
              has_bias = true;
              absorbed.push_back(size_t(j));
              result = add.dst;
              last = size_t(j);
            }
          }
        }
      }
      Activation act = Activation::None;
      if (uses_[size_t(result)] == 1) {
        int j = next_use(blk, last + 1, result);
        if (j >= 0) {
          const Instr& call = blk.instrs[size_t(j)];
          Activation a;
          if (call.op == Op::Call && call.imm == 0 && call.args.size() == 2 && is_activation(builtin_name(f_, call.args[0]), a) &&
              call.dst >= 0 && defs_[size_t(call.dst)] == 1) {
            act = a;
            absorbed.push_back(size_t(j));
            result = call.dst;
            last = size_t(j);
          }
        }
      }
      if (needs_epilogue && !has_bias && act == Activation::None) continue;
      // The result is written early (at i): nothing may read it before its old place.
      if (result != in.dst && next_use(blk, i + 1, result) >= 0 && size_t(next_use(blk, i + 1, result)) <= last) continue;
      if (needs_epilogue) {
        transposed = transpose(wt);
        w = Opd::konst(f_.adopt_const(transposed));
      }
      KernelDesc k;
      k.kind = KernelDesc::Gemm;
      k.act = act;
      k.has_bias = has_bias;
      k.arity = uint8_t(has_bias ? 3 : 2);
      f_.kernels.push_back(k);
      in.op = Op::KCall;
      in.imm = int(f_.kernels.size() - 1);
      in.dst = result;
      in.args = {x, w};
      if (has_bias) in.args.push_back(bias);
      for (size_t j : absorbed) dead[j] = 1;
    }
    erase(blk, dead);
  }

  // x @ W or matmul(x, W): W a constant 2-D tensor, x a tensor of rank >= 1.
  bool matmul_operands(const Instr& in, Opd& x, Opd& w) const {
    if (in.op == Op::Binary && in.sub == ROp::MATMUL) {
      x = in.args[0];
      w = in.args[1];
    } else if (in.op == Op::Call && in.imm == 0 && in.args.size() == 3 && builtin_name(f_, in.args[0]) == "matmul") {
      x = in.args[1];
      w = in.args[2];
    } else {
      return false;
    }
    if (!w.is_const() || !is_type(f_.konst(w.v), ObjType::Tensor) || as_tensor(f_.konst(w.v))->ndim != 2) return false;
    return tensor(x) && rank_ge1(x);
  }

  static Value transpose(const TensorObj* t) {
    int64_t r = t->shape[0], c = t->shape[1];
    int64_t shape[2] = {c, r};
    TensorObj* out = new_tensor(shape);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) out->data[j * r + i] = t->data[i * c + j];
    return Value::object(out);
  }

  static void erase(Block& blk, const std::vector<char>& dead) {
    size_t w = 0;
    for (size_t i = 0; i < blk.instrs.size(); ++i)
      if (!dead[i]) {
        if (w != i) blk.instrs[w] = std::move(blk.instrs[i]);
        ++w;
      }
    blk.instrs.resize(w);
  }

  // ------------------------------------------------------------ elementwise chains

  struct Step {
    EwStep::Kind kind;
    uint8_t op;
    std::vector<Opd> operands;  // a, b, c in EwStep's order
  };

  // The elementwise step `in` computes, if it is one.
  bool as_step(const Instr& in, Step& s) const {
    const auto& a = in.args;
    if (in.dst < 0) return false;
    if (in.op == Op::Binary) {
      BinaryKind k;
      switch (in.sub) {
        case ROp::ADD: k = BinaryKind::Add; break;
        case ROp::INPLACE_ADD:
          if (!tensor(a[0])) return false;
          k = BinaryKind::Add;
          break;
        case ROp::SUB: k = BinaryKind::Sub; break;
        case ROp::MUL: k = BinaryKind::Mul; break;
        case ROp::DIV: k = BinaryKind::Div; break;
        default: return false;
      }
      if (!tensor_or_number(a[0]) || !tensor_or_number(a[1]) || !(tensor(a[0]) || tensor(a[1]))) return false;
      s = {EwStep::Binary, uint8_t(k), {a[0], a[1]}};
      return true;
    }
    if (in.op == Op::Unary) {
      if (in.sub != ROp::NEG || !tensor(a[0])) return false;
      s = {EwStep::Unary, uint8_t(UnaryKind::Neg), {a[0]}};
      return true;
    }
    if (in.op != Op::Call || in.imm != 0) return false;
    std::string_view n = builtin_name(f_, a[0]);
    if (n.empty()) return false;
    UnaryKind u;
    if (a.size() == 2 && unary_kind(n, u) && tensor(a[1])) {
      s = {EwStep::Unary, uint8_t(u), {a[1]}};
      return true;
    }
    if (a.size() == 3 && (n == "maximum" || n == "minimum") && tensor_or_number(a[1]) && tensor_or_number(a[2]) &&
        (tensor(a[1]) || tensor(a[2]))) {
      s = {EwStep::Binary, uint8_t(n == "maximum" ? BinaryKind::Maximum : BinaryKind::Minimum), {a[1], a[2]}};
      return true;
    }
    if (a.size() == 4 && n == "clamp" && tensor(a[1]) && numeric_const(a[2]) && numeric_const(a[3])) {
      s = {EwStep::Clamp, 0, {a[1], a[2], a[3]}};
      return true;
    }
    if (a.size() == 4 && n == "where" && tensor_or_number(a[1]) && tensor_or_number(a[2]) && tensor_or_number(a[3]) &&
        (tensor(a[1]) || tensor(a[2]) || tensor(a[3]))) {
      s = {EwStep::Where, 0, {a[1], a[2], a[3]}};
      return true;
    }
    return false;
  }

  void fuse_elementwise(int b) {
    Block& blk = f_.blocks[size_t(b)];
    size_t n = blk.instrs.size();
    std::vector<Step> steps(n);
    std::vector<char> is_step(n, 0), dead(n, 0);
    std::unordered_map<int, size_t> def_at;  // vreg -> the step instruction defining it
    for (size_t i = 0; i < n; ++i) {
      is_step[i] = as_step(blk.instrs[i], steps[i]);
      if (is_step[i]) def_at[blk.instrs[i].dst] = i;
    }
    // A step whose result feeds exactly one later step of this block is absorbed there.
    auto absorbable = [&](const Opd& o, size_t before) -> long {
      if (!o.is_reg()) return -1;
      auto it = def_at.find(o.v);
      if (it == def_at.end() || it->second >= before || dead[it->second]) return -1;
      if (uses_[size_t(o.v)] != 1 || defs_[size_t(o.v)] != 1) return -1;
      return long(it->second);
    };
    for (size_t root = n; root-- > 0;) {
      if (!is_step[root] || dead[root]) continue;
      // Collect the tree in post-order.
      std::vector<size_t> order;
      std::function<void(size_t)> collect = [&](size_t i) {
        for (const Opd& o : steps[i].operands) {
          long j = absorbable(o, i);
          if (j >= 0 && std::find(order.begin(), order.end(), size_t(j)) == order.end()) collect(size_t(j));
        }
        order.push_back(i);
      };
      collect(root);
      if (order.size() < 2 || order.size() > size_t(KernelDesc::kMaxSteps)) continue;
      // Operands: leaves become arguments, the first numeric constant of a step its immediate.
      KernelDesc k;
      k.kind = KernelDesc::Elementwise;
      std::vector<Opd> leaves;
      std::unordered_map<int, size_t> step_of;  // vreg -> step index
      struct Ref {
        enum { Leaf, StepResult, Imm } kind;
        size_t index;
      };
      std::vector<std::vector<Ref>> refs(order.size());
      bool ok = true;
      for (size_t si = 0; si < order.size(); ++si) {
        const Step& s = steps[order[si]];
        EwStep e;
        e.kind = s.kind;
        e.op = s.op;
        bool imm_used = false;
        for (const Opd& o : s.operands) {
          if (o.is_reg() && step_of.count(o.v)) {
            refs[si].push_back({Ref::StepResult, step_of[o.v]});
          } else if (numeric_const(o) && !imm_used) {
            imm_used = true;
            e.imm = float(f_.konst(o.v).to_double());
            refs[si].push_back({Ref::Imm, 0});
          } else {
            auto it = std::find(leaves.begin(), leaves.end(), o);
            if (it == leaves.end()) {
              leaves.push_back(o);
              it = leaves.end() - 1;
            }
            refs[si].push_back({Ref::Leaf, size_t(it - leaves.begin())});
          }
        }
        k.steps.push_back(e);
        step_of[blk.instrs[order[si]].dst] = si;
      }
      if (leaves.size() > size_t(KernelDesc::kMaxArity)) ok = false;
      size_t first = *std::min_element(order.begin(), order.end());
      std::vector<char> skip(n, 0);
      for (size_t i : order) skip[i] = 1;
      if (ok && !quiet_between(blk, first, root, skip, leaves)) ok = false;
      if (!ok) continue;
      k.arity = uint8_t(leaves.size());
      for (size_t si = 0; si < order.size(); ++si) {
        uint8_t* slots[3] = {&k.steps[si].a, &k.steps[si].b, &k.steps[si].c};
        for (size_t j = 0; j < refs[si].size(); ++j) {
          const Ref& r = refs[si][j];
          *slots[j] = r.kind == Ref::Leaf ? uint8_t(r.index)
                    : r.kind == Ref::StepResult ? uint8_t(k.arity + r.index)
                                                : EwStep::kImmediate;
        }
      }
      f_.kernels.push_back(std::move(k));
      Instr& in = blk.instrs[root];
      in.op = Op::KCall;
      in.sub = ROp::NOP;
      in.imm = int(f_.kernels.size() - 1);
      in.args = leaves;
      for (size_t i : order)
        if (i != root) dead[i] = 1;
      is_step[root] = 0;
    }
    erase(blk, dead);
  }

  Function& f_;
  std::vector<int> uses_, defs_;
  std::vector<char> tensor_, ranked_;
};

}  // namespace

void fuse(Function& f) { Fuser(f).run(); }

}  // namespace tvm::ir
