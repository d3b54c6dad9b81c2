// The fused-kernel door (vm/fused.h): KCALL's descriptors run on the CPU device.
//
// A Gemm is linear()'s checks and one device `linear` call with the activation as its epilogue
// (tensor_linear). An Elementwise program first plans: every argument a tensor or a number,
// each step's operands of the kinds its unfused op computes on the tensor path (a tensor to
// map, a tensor and a number or two tensors to combine, number bounds for clamp), the shapes
// broadcast step by step as the unfused ops would. Then one device `elementwise` call computes
// the result in one pass. Anything else — an argument of another type, shapes that do not
// broadcast, a result too large to allocate — runs the steps one at a time through the
// ordinary operators and builtins, which give exactly the unfused result or error. The fast
// path allocates nothing but its result tensor (from the pool).
#include "fused.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>

#include "builtins.h"
#include "error.h"
#include "fused.h"
#include "ops.h"
#include "tensor.h"
#include "tensor_ops.h"

namespace tvm {
namespace {

constexpr int kMaxArity = KernelDesc::kMaxArity;
constexpr int kMaxSteps = KernelDesc::kMaxSteps;
static_assert(kMaxArity <= EwPlan::kMaxOperands);

// The unary ops by name: the builtin each one is (Neg: the `-` operator), and how
// describe_kernel spells it.
constexpr const char* kUnaryNames[] = {"neg",  "abs",     "exp",  "log",   "sqrt", "sin",  "cos",
                                       "tanh", "relu",    "sigmoid", "gelu", "floor", "ceil", "round"};
constexpr int kUnaryCount = int(UnaryKind::Round) + 1;
static_assert(std::size(kUnaryNames) == kUnaryCount);
constexpr int kBinaryCount = int(BinaryKind::Ne) + 1;
constexpr const char* kActivationNames[] = {"", "relu", "sigmoid", "tanh", "gelu"};
constexpr int kActivationCount = int(Activation::Gelu) + 1;
static_assert(std::size(kActivationNames) == kActivationCount);

// The binary kinds that are Python operators, and the builtins for the others.
bool as_binary_op(BinaryKind k, BinaryOp* op) {
  switch (k) {
    case BinaryKind::Add: *op = BinaryOp::Add; return true;
    case BinaryKind::Sub: *op = BinaryOp::Sub; return true;
    case BinaryKind::Mul: *op = BinaryOp::Mul; return true;
    case BinaryKind::Div: *op = BinaryOp::Div; return true;
    case BinaryKind::FloorDiv: *op = BinaryOp::FloorDiv; return true;
    case BinaryKind::Mod: *op = BinaryOp::Mod; return true;
    case BinaryKind::Pow: *op = BinaryOp::Pow; return true;
    default: return false;
  }
}
bool as_compare_op(BinaryKind k, CompareOp* op) {
  switch (k) {
    case BinaryKind::Lt: *op = CompareOp::Lt; return true;
    case BinaryKind::Le: *op = CompareOp::Le; return true;
    case BinaryKind::Gt: *op = CompareOp::Gt; return true;
    case BinaryKind::Ge: *op = CompareOp::Ge; return true;
    case BinaryKind::Eq: *op = CompareOp::Eq; return true;
    case BinaryKind::Ne: *op = CompareOp::Ne; return true;
    default: return false;
  }
}
const char* binary_builtin(BinaryKind k) { return k == BinaryKind::Maximum ? "maximum" : "minimum"; }

// ---------------------------------------------------------------- the step-by-step path

// Calls the builtin `name` with positional arguments.
Value call_builtin(VM& vm, const char* name, std::initializer_list<Value> args) {
  const int i = builtin_index(name);
  if (i < 0) throw RuntimeError(std::string("fused kernel: no builtin ") + name);
  CallArgs a;
  a.pos = args.begin();
  a.npos = uint32_t(args.size());
  return builtins()[size_t(i)].fn(vm, a);
}

// One step as the unfused op computes it: a new reference.
Value apply_step(VM& vm, const EwStep& st, Value a, Value b, Value c) {
  switch (st.kind) {
    case EwStep::Unary:
      if (UnaryKind(st.op) == UnaryKind::Neg) return unary_neg(a);
      return call_builtin(vm, kUnaryNames[st.op], {a});
    case EwStep::Binary: {
      BinaryOp bop;
      CompareOp cop;
      if (as_binary_op(BinaryKind(st.op), &bop)) return binary_op(bop, a, b);
      if (as_compare_op(BinaryKind(st.op), &cop)) return compare(cop, a, b);
      return call_builtin(vm, binary_builtin(BinaryKind(st.op)), {a, b});
    }
    case EwStep::Clamp: return call_builtin(vm, "clamp", {a, b, c});
    case EwStep::Where: return call_builtin(vm, "where", {a, b, c});
  }
  throw RuntimeError("fused kernel: unknown step");
}

Value run_steps(VM& vm, const KernelDesc& desc, const Value* args) {
  const int arity = desc.arity, nsteps = int(desc.steps.size());
  struct Results {
    Value v[kMaxSteps];
    int n = 0;
    ~Results() {
      for (int i = 0; i < n; ++i) decref(v[i]);
    }
  } results;
  for (int i = 0; i < nsteps; ++i) {
    const EwStep& st = desc.steps[size_t(i)];
    auto value = [&](uint8_t slot) {
      if (slot == EwStep::kImmediate) return Value::number(double(st.imm));
      return slot < arity ? args[slot] : results.v[slot - arity];
    };
    uint8_t slots[3];
    const int n = step_operands(st, slots);
    Value v = apply_step(vm, st, value(st.a), n > 1 ? value(st.b) : Value(), n > 2 ? value(st.c) : Value());
    results.v[results.n++] = v;
  }
  return std::exchange(results.v[--results.n], Value());
}

// ---------------------------------------------------------------- the one-pass path

struct Shape {
  int n = 0;
  int64_t d[kMaxRank];  // d[0..n)
  std::span<const int64_t> view() const { return {d, size_t(n)}; }
};

// Does `s` broadcast into `out` without changing it (every dimension 1 or out's)?
bool fits_into(const Shape& s, const Shape& out) {
  if (s.n > out.n) return false;
  for (int i = 0; i < s.n; ++i) {
    const int64_t x = s.d[i], y = out.d[out.n - s.n + i];
    if (x != 1 && x != y) return false;
  }
  return true;
}

// The program on tensors and numbers in one device call; Undefined when the step-by-step
// path must run instead (it computes the same result, or raises the unfused error).
Value run_fast(const KernelDesc& desc, const Value* args) {
  const int arity = desc.arity, nsteps = int(desc.steps.size());
  const TensorObj* tensors[kMaxArity] = {};
  const float* inputs[kMaxArity] = {};
  float scalars[kMaxArity] = {};
  // Each slot's shape, and whether it holds a tensor (else a number).
  Shape shape[kMaxArity + kMaxSteps];  // (set where tensor[k])
  bool tensor[kMaxArity + kMaxSteps] = {};
  const TensorObj* first = nullptr;  // every tensor must be on its device
  for (int j = 0; j < arity; ++j) {
    if (is_tensor(args[j])) {
      const TensorObj* t = tensors[j] = as_tensor(args[j]);
      if (!first) first = t;
      else if (t->device != first->device) return Value();  // the unfused op that meets them says so
      inputs[j] = t->data;
      tensor[j] = true;
      shape[j].n = t->ndim;
      std::copy(t->shape, t->shape + t->ndim, shape[j].d);
    } else if (args[j].is_number()) {
      scalars[j] = float(args[j].to_double());  // as tensor-and-number ops take it
    } else {
      return Value();
    }
  }
  auto is_t = [&](uint8_t slot) { return slot != EwStep::kImmediate && tensor[slot]; };
  // out = broadcast(out, slot's shape) when the slot holds a tensor.
  auto widen = [&](Shape& out, uint8_t slot) {
    if (!is_t(slot)) return true;
    Shape wide;
    if (!broadcast_shapes(out.view(), shape[slot].view(), wide.d, &wide.n)) return false;
    out = wide;
    return true;
  };
  for (int i = 0; i < nsteps; ++i) {
    const EwStep& st = desc.steps[size_t(i)];
    Shape& out = shape[arity + i];
    out.n = 0;
    bool ok = false;
    switch (st.kind) {
      case EwStep::Unary: ok = is_t(st.a); break;
      case EwStep::Binary: ok = (is_t(st.a) || is_t(st.b)) && widen(out, st.a) && widen(out, st.b); break;
      case EwStep::Clamp: ok = is_t(st.a) && !is_t(st.b) && !is_t(st.c); break;
      case EwStep::Where: ok = is_t(st.a) && widen(out, st.a) && widen(out, st.b) && widen(out, st.c); break;
    }
    if (!ok) return Value();
    if (st.kind == EwStep::Unary || st.kind == EwStep::Clamp) out = shape[st.a];
    tensor[arity + i] = true;
  }
  // Every value is computed at the output's indices, so each must broadcast into it (only a
  // step the result does not use could fail to).
  const Shape& out = shape[arity + nsteps - 1];
  for (int k = 0; k < arity + nsteps; ++k)
    if (tensor[k] && !fits_into(shape[k], out)) return Value();
  const Device* device = first ? first->device : nullptr;
  TensorObj* r;
  try {
    r = new_tensor_on(out.view(), device);
  } catch (const RuntimeError& e) {  // too large: the unfused op that first fails says so
    if (e.exit_code() == kExitDevice) throw;  // a device failure, or out of device memory
    return Value();
  }
  if (r->numel) {
    EwPlan plan = broadcast_plan(out.view(), {tensors, size_t(arity)});
    (device ? *device : cpu_device()).kernels->elementwise(desc.steps.data(), nsteps, arity, inputs, scalars, r->data, plan);
  }
  return Value::object(r);
}

// ---------------------------------------------------------------- descriptions

// A float32 immediate as Python writes a float: "2.0", "0.5", "1e-05", "inf", "nan".
void append_float(std::string& out, float v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, size_t(end - buf));
  out += s;
  if (std::isfinite(v) && s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_slot(std::string& out, const EwStep& st, uint8_t slot, int arity) {
  if (slot == EwStep::kImmediate) return append_float(out, st.imm);
  out += slot < arity ? 'a' : 't';
  out += std::to_string(slot < arity ? slot : slot - arity);
}

// What is wrong with step i of a program of `arity` arguments ("" when nothing).
std::string step_problem(const EwStep& st, int i, int arity) {
  auto problem = [&](const char* what, int v) { return "step " + std::to_string(i) + ": " + what + std::to_string(v); };
  uint8_t slots[3];
  const int n = step_operands(st, slots);
  if (n == 0) return problem("unknown step kind ", int(st.kind));
  if (st.kind == EwStep::Unary && st.op >= kUnaryCount) return problem("unknown unary op ", st.op);
  if (st.kind == EwStep::Binary && st.op >= kBinaryCount) return problem("unknown binary op ", st.op);
  for (int k = 0; k < n; ++k)
    if (slots[k] != EwStep::kImmediate && slots[k] >= arity + i)
      return problem("operand ", slots[k]) + " is read before it is defined";
  return "";
}

}  // namespace

Value run_kernel(VM& vm, const KernelDesc& desc, const Value* args) {
  if (std::string why = check_kernel(desc); !why.empty()) throw RuntimeError("bad fused kernel: " + why);
  if (desc.kind == KernelDesc::Gemm)
    return tensor_linear(args[0], args[1], desc.has_bias ? args[2] : Value::undefined(), desc.act);
  Value r = run_fast(desc, args);
  return r.is_undefined() ? run_steps(vm, desc, args) : r;
}

std::string describe_kernel(const KernelDesc& desc) {
  std::string out;
  if (desc.kind == KernelDesc::Gemm) {
    out = desc.has_bias ? "gemm(x, w, b)" : "gemm(x, w)";
    if (desc.act != Activation::None) {
      out += " + ";
      out += int(desc.act) < kActivationCount ? kActivationNames[int(desc.act)] : "?";
    }
    return out;
  }
  if (desc.kind != KernelDesc::Elementwise) return "?kernel";
  const int arity = desc.arity;
  out = "elementwise(";
  for (int j = 0; j < arity; ++j) out += (j ? ", a" : "a") + std::to_string(j);
  for (size_t i = 0; i < desc.steps.size(); ++i) {
    const EwStep& st = desc.steps[i];
    out += "; t" + std::to_string(i) + " = ";
    auto slot = [&](uint8_t s) { append_slot(out, st, s, arity); };
    switch (st.kind) {
      case EwStep::Unary:
        if (UnaryKind(st.op) == UnaryKind::Neg) {
          out += '-';
          slot(st.a);
          break;
        }
        out += st.op < kUnaryCount ? kUnaryNames[st.op] : "?";
        out += '(';
        slot(st.a);
        out += ')';
        break;
      case EwStep::Binary: {
        BinaryOp bop;
        CompareOp cop;
        const BinaryKind k = BinaryKind(st.op);
        const char* sym = as_binary_op(k, &bop) ? op_symbol(bop) : as_compare_op(k, &cop) ? op_symbol(cop) : nullptr;
        if (sym) {
          slot(st.a);
          out += ' ';
          out += sym;
          out += ' ';
          slot(st.b);
        } else {
          out += st.op < kBinaryCount ? binary_builtin(k) : "?";
          out += '(';
          slot(st.a);
          out += ", ";
          slot(st.b);
          out += ')';
        }
        break;
      }
      case EwStep::Clamp:
      case EwStep::Where:
        out += st.kind == EwStep::Clamp ? "clamp(" : "where(";
        slot(st.a);
        out += ", ";
        slot(st.b);
        out += ", ";
        slot(st.c);
        out += ')';
        break;
      default: out += '?';
    }
  }
  return out + ")";
}

std::string check_kernel(const KernelDesc& desc) {
  switch (desc.kind) {
    case KernelDesc::Gemm:
      if (desc.arity != (desc.has_bias ? 3 : 2))
        return std::string("gemm kernel takes ") + (desc.has_bias ? "3 arguments (with a bias)" : "2 arguments") +
               ", not " + std::to_string(desc.arity);
      if (int(desc.act) >= kActivationCount) return "gemm kernel: unknown activation " + std::to_string(int(desc.act));
      return "";
    case KernelDesc::Elementwise: {
      if (desc.arity < 1 || desc.arity > kMaxArity)
        return "elementwise kernel takes 1 to " + std::to_string(kMaxArity) + " arguments, not " +
               std::to_string(desc.arity);
      if (desc.steps.empty() || desc.steps.size() > size_t(kMaxSteps))
        return "elementwise kernel has " + std::to_string(desc.steps.size()) + " steps (1 to " +
               std::to_string(kMaxSteps) + ")";
      for (size_t i = 0; i < desc.steps.size(); ++i)
        if (std::string why = step_problem(desc.steps[i], int(i), desc.arity); !why.empty())
          return "elementwise kernel " + why;
      return "";
    }
  }
  return "unknown kernel kind " + std::to_string(int(desc.kind));
}

}  // namespace tvm
