// The fused elementwise program as the GPU runs it (Kernels::elementwise, vm/fused.h).
//
// The host lowers an EwStep program once per call (lower_program) into a form each GPU thread
// can interpret in registers:
//  - dead steps (no later step reads them, and not the result) are dropped, as on the CPU;
//  - every operand is either a register or a constant: numbers (an argument passed as a number,
//    or the step's immediate) become constants baked into the step, so they cost no register
//    and no memory traffic;
//  - registers are allocated by liveness: a tensor input gets one for as long as a step reads
//    it, a step's result one until its last reader; so a chain of any length needs a few;
//  - pow with a number exponent picks its special form (sqrt, x*x, ...) here, once, exactly
//    when the CPU's binary_scalar would (the exponent is a number, not a tensor element).
//
// Each thread evaluates the program for 4 consecutive output elements at once (Lanes): every
// register holds 4 values, so the interpreter's per-step cost (decoding the op, selecting
// operands) is paid once per 4 elements, and the contiguous path moves each operand with one
// 16-byte load. The register file is indexed by run-time register numbers; for up to 8
// registers (nearly every real program) RegFile selects with compile-time indices so that it
// stays in machine registers; larger programs fall back to an indexed array (local memory,
// L1-cached).
//
// Everything here is __host__ __device__, so that a host-side test can run the same lowering
// and interpreter against the CPU device's elementwise kernel.
#pragma once

#include <cstdint>

#include "cuda_math.cuh"
#include "fused.h"

#pragma GCC visibility push(hidden)  // internal to the plugin (cuda_internal.h)

namespace tvm::cuda {

constexpr int kMaxArity = KernelDesc::kMaxArity;
constexpr int kMaxSteps = KernelDesc::kMaxSteps;
constexpr int kMaxRegs = kMaxArity + kMaxSteps;  // every input and every step live at once
constexpr int kLanes = 4;                        // elements per thread per evaluation

// The lowered op codes: a UnaryKind, a BinaryKind, a pow special form, clamp or where.
enum LoweredOp : uint8_t {
  kOpUnary = 0,                                // + UnaryKind (14 ops)
  kOpBinary = 14,                              // + BinaryKind (15 ops)
  kOpPowSpecial = kOpBinary + 15,              // + PowSpecial (8 forms), of operand 0
  kOpClamp = kOpPowSpecial + kNumPowSpecial,   // clamp(op0, lo = op1, hi = op2)
  kOpWhere,                                    // where(op0, op1, op2)
};

// One lowered step: dst = op(operands). Operand k is the constant konst_value[k] when bit k of
// konst is set, else register src[k]. Unused operands are constants (0).
struct LStep {
  uint8_t op;
  uint8_t dst;
  uint8_t src[3];
  uint8_t konst;
  float konst_value[3];
};

struct LProgram {
  int nsteps;                 // live steps, in order
  int nregs;                  // registers the program needs
  int result;                 // the register holding the result after the last step
  int ntensors;               // tensor inputs loaded per element
  uint8_t in_reg[kMaxArity];  // tensor input t is loaded into register in_reg[t]
  uint8_t in_arg[kMaxArity];  // ... and is the program's argument in_arg[t]
  LStep steps[kMaxSteps];
};

// Lowers a program (vm/device.h, elementwise). False when it is not well formed (check_kernel's
// conditions: the CPU kernel then writes nothing, and so does the caller).
inline bool lower_program(const EwStep* steps, int nsteps, int arity, const float* const* inputs,
                          const float* scalars, LProgram& p) {
  if (nsteps <= 0 || nsteps > kMaxSteps || arity < 0 || arity > kMaxArity) return false;
  for (int i = 0; i < nsteps; ++i) {
    const EwStep& st = steps[i];
    uint8_t slots[3];
    const int n = step_operands(st, slots);
    if (n == 0) return false;
    if (st.kind == EwStep::Unary && st.op > uint8_t(UnaryKind::Round)) return false;
    if (st.kind == EwStep::Binary && st.op > uint8_t(BinaryKind::Ne)) return false;
    for (int k = 0; k < n; ++k)
      if (slots[k] != EwStep::kImmediate && slots[k] >= arity + i) return false;
  }

  // The values the result needs, and each value's last reader.
  bool needed[kMaxRegs] = {};
  int last_read[kMaxRegs];
  for (int s = 0; s < kMaxRegs; ++s) last_read[s] = -1;
  needed[arity + nsteps - 1] = true;
  for (int i = nsteps - 1; i >= 0; --i) {
    if (!needed[arity + i]) continue;
    const EwStep& st = steps[i];
    uint8_t slots[3];
    for (int k = 0, n = step_operands(st, slots); k < n; ++k) {
      if (slots[k] == EwStep::kImmediate) continue;
      needed[slots[k]] = true;
      if (last_read[slots[k]] < i) last_read[slots[k]] = i;
    }
  }

  // Registers: a stack of free ones, new ones numbered from 0.
  int reg_of[kMaxRegs];
  uint8_t free_regs[kMaxRegs] = {};
  int nfree = 0, nregs = 0;
  auto allocate = [&]() -> int { return nfree > 0 ? free_regs[--nfree] : nregs++; };
  for (int s = 0; s < kMaxRegs; ++s) reg_of[s] = -1;

  p.ntensors = 0;
  for (int j = 0; j < arity; ++j) {
    if (!needed[j] || !inputs[j]) continue;
    reg_of[j] = allocate();
    p.in_reg[p.ntensors] = uint8_t(reg_of[j]);
    p.in_arg[p.ntensors] = uint8_t(j);
    ++p.ntensors;
  }

  p.nsteps = 0;
  for (int i = 0; i < nsteps; ++i) {
    if (!needed[arity + i]) continue;
    const EwStep& st = steps[i];
    uint8_t slots[3];
    const int n = step_operands(st, slots);
    LStep ls{};
    ls.konst = 0x7;  // every operand a constant 0 until resolved
    for (int k = 0; k < n; ++k) {
      const uint8_t sl = slots[k];
      if (sl == EwStep::kImmediate) {
        ls.konst_value[k] = st.imm;
      } else if (sl < arity && !inputs[sl]) {
        ls.konst_value[k] = scalars[sl];  // a number argument
      } else {
        ls.src[k] = uint8_t(reg_of[sl]);
        ls.konst &= uint8_t(~(1u << k));
      }
    }
    switch (st.kind) {
      case EwStep::Unary: ls.op = uint8_t(kOpUnary + st.op); break;
      case EwStep::Binary: {
        PowSpecial special;
        // A tensor (or a number) to a number power: binary_scalar's special exponents.
        if (BinaryKind(st.op) == BinaryKind::Pow && (ls.konst & 2) && pow_special(ls.konst_value[1], &special)) {
          ls.op = uint8_t(kOpPowSpecial + uint8_t(special));
          ls.konst |= 2;
          ls.konst_value[1] = 0.f;
        } else {
          ls.op = uint8_t(kOpBinary + st.op);
        }
        break;
      }
      case EwStep::Clamp: ls.op = kOpClamp; break;
      case EwStep::Where: ls.op = kOpWhere; break;
    }
    // Registers whose last reader this is are free again; the result may take one of them
    // (a step reads all its operands before it writes).
    for (int k = 0; k < n; ++k) {
      const uint8_t sl = slots[k];
      if (sl == EwStep::kImmediate || reg_of[sl] < 0 || last_read[sl] != i) continue;
      bool seen = false;
      for (int q = 0; q < k; ++q) seen |= slots[q] == sl;
      if (!seen) free_regs[nfree++] = uint8_t(reg_of[sl]);
    }
    reg_of[arity + i] = allocate();
    ls.dst = uint8_t(reg_of[arity + i]);
    p.steps[p.nsteps++] = ls;
  }
  p.result = reg_of[arity + nsteps - 1];
  p.nregs = nregs;
  return true;
}

// ---------------------------------------------------------------- interpreter

struct Lanes {
  float v[kLanes];
};

#if defined(__CUDA_ARCH__)  // the device pass (the host compiler does not know the pragma)
#define TVM_UNROLL _Pragma("unroll")
#else
#define TVM_UNROLL
#endif

// R registers of Lanes. Up to kSelectRegs registers, reads and writes compare the run-time
// index with each compile-time one (selects), so the file lives in machine registers; above,
// it is an indexed array.
constexpr int kSelectRegs = 8;

template <int R>
struct RegFile {
  Lanes r[R];

  TVM_HD Lanes get(int i) const {
    if constexpr (R <= kSelectRegs) {
      Lanes out = r[0];
      TVM_UNROLL
      for (int k = 1; k < R; ++k)
        if (i == k) out = r[k];
      return out;
    } else {
      return r[i];
    }
  }
  TVM_HD void set(int i, const Lanes& x) {
    if constexpr (R <= kSelectRegs) {
      TVM_UNROLL
      for (int k = 0; k < R; ++k)
        if (i == k) r[k] = x;
    } else {
      r[i] = x;
    }
  }
};

template <int R>
TVM_HD Lanes operand(const LStep& st, int k, const RegFile<R>& regs) {
  if (st.konst & (1u << k)) {
    Lanes c;
    TVM_UNROLL
    for (int l = 0; l < kLanes; ++l) c.v[l] = st.konst_value[k];
    return c;
  }
  return regs.get(st.src[k]);
}

template <class F>
TVM_HD void lanes1(F f, const Lanes& a, Lanes& out) {
  TVM_UNROLL
  for (int l = 0; l < kLanes; ++l) out.v[l] = f(a.v[l]);
}
template <class F>
TVM_HD void lanes2(F f, const Lanes& a, const Lanes& b, Lanes& out) {
  TVM_UNROLL
  for (int l = 0; l < kLanes; ++l) out.v[l] = f(a.v[l], b.v[l]);
}

// Runs the program over the values already loaded into regs; returns the result's lanes.
template <int R>
TVM_HD Lanes run_program(const LProgram& p, RegFile<R>& regs) {
  for (int s = 0; s < p.nsteps; ++s) {
    const LStep& st = p.steps[s];
    const Lanes a = operand(st, 0, regs);
    const Lanes b = operand(st, 1, regs);
    Lanes out;
    // The op is the same for every thread of the grid, so this switch never diverges.
    switch (st.op) {
#define TVM_U(K) \
  case kOpUnary + int(UnaryKind::K): lanes1(UnaryFn<UnaryKind::K>{}, a, out); break;
      TVM_U(Neg) TVM_U(Abs) TVM_U(Exp) TVM_U(Log) TVM_U(Sqrt) TVM_U(Sin) TVM_U(Cos) TVM_U(Tanh) TVM_U(Relu)
      TVM_U(Sigmoid) TVM_U(Gelu) TVM_U(Floor) TVM_U(Ceil) TVM_U(Round)
#undef TVM_U
#define TVM_B(K) \
  case kOpBinary + int(BinaryKind::K): lanes2(BinaryFn<BinaryKind::K>{}, a, b, out); break;
      TVM_B(Add) TVM_B(Sub) TVM_B(Mul) TVM_B(Div) TVM_B(FloorDiv) TVM_B(Mod) TVM_B(Pow) TVM_B(Maximum)
      TVM_B(Minimum) TVM_B(Lt) TVM_B(Le) TVM_B(Gt) TVM_B(Ge) TVM_B(Eq) TVM_B(Ne)
#undef TVM_B
#define TVM_P(K) \
  case kOpPowSpecial + int(PowSpecial::K): lanes1(PowSpecialFn<PowSpecial::K>{}, a, out); break;
      TVM_P(One) TVM_P(Copy) TVM_P(Sqrt) TVM_P(Rsqrt) TVM_P(Recip) TVM_P(Square) TVM_P(Cube) TVM_P(InvSquare)
#undef TVM_P
      case kOpClamp: {
        const Lanes c = operand(st, 2, regs);
        TVM_UNROLL
        for (int l = 0; l < kLanes; ++l) out.v[l] = clamp_f(a.v[l], b.v[l], c.v[l]);
        break;
      }
      case kOpWhere: {
        const Lanes c = operand(st, 2, regs);
        TVM_UNROLL
        for (int l = 0; l < kLanes; ++l) out.v[l] = where_f(a.v[l], b.v[l], c.v[l]);
        break;
      }
      default: out = a; break;  // not produced by lower_program
    }
    regs.set(st.dst, out);
  }
  return regs.get(p.result);
}

// ---------------------------------------------------------------- walking a broadcast plan

constexpr int kMaxRank = 8;

// A broadcast plan as the kernels walk it: operand k's element for output index (i0, ..., in) is at
// sum(ik * stride[k][d]). Rank >= 1 (a rank-0 plan is made rank 1 on the host).
template <int K>
struct Plan {
  int ndim;
  int64_t shape[kMaxRank];
  int64_t stride[K][kMaxRank];
};

// The output index of an element and each operand's offset for it.
template <int K>
struct Cursor {
  int64_t idx[kMaxRank];
  int64_t off[K];
};

// Places the cursor at output element e (row-major over the plan's shape) for the first
// `nops` operands. `small`: every index fits in 32 bits (cheaper division).
template <int K>
TVM_HD void cursor_seek(Cursor<K>& c, const Plan<K>& p, int nops, int64_t e, bool small) {
  TVM_UNROLL
  for (int k = 0; k < K; ++k) c.off[k] = 0;
  TVM_UNROLL
  for (int d = kMaxRank - 1; d >= 0; --d) {
    c.idx[d] = 0;
    if (d < p.ndim) {
      int64_t i;
      if (small) {
        const uint32_t s = uint32_t(p.shape[d]), q = uint32_t(e) / s;
        i = int64_t(uint32_t(e) - q * s);
        e = q;
      } else {
        const int64_t q = e / p.shape[d];
        i = e - q * p.shape[d];
        e = q;
      }
      c.idx[d] = i;
      TVM_UNROLL
      for (int k = 0; k < K; ++k)
        if (k < nops) c.off[k] += i * p.stride[k][d];
    }
  }
}

// Moves the cursor to the next output element (an odometer over the dimensions).
template <int K>
TVM_HD void cursor_next(Cursor<K>& c, const Plan<K>& p, int nops) {
  bool carry = true;
  TVM_UNROLL
  for (int d = kMaxRank - 1; d >= 0; --d) {
    if (carry && d < p.ndim) {
      ++c.idx[d];
      TVM_UNROLL
      for (int k = 0; k < K; ++k)
        if (k < nops) c.off[k] += p.stride[k][d];
      carry = d > 0 && c.idx[d] == p.shape[d];
      if (carry) {
        c.idx[d] = 0;
        TVM_UNROLL
        for (int k = 0; k < K; ++k)
          if (k < nops) c.off[k] -= p.shape[d] * p.stride[k][d];
      }
    }
  }
}

}  // namespace tvm::cuda

#pragma GCC visibility pop
