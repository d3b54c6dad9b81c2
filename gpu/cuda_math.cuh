// The per-element functions of the CUDA device's float32 kernels: the GPU twin of
// vm/cpu_math.h. Every kernel that computes an elementwise op (the separate kernels, the fused
// elementwise interpreter, the GEMM epilogues) goes through these, so a fused chain rounds
// exactly as the chain of separate kernels, and each function follows the CPU's formula step by
// step (Python's // and %, nan-propagating maximum/minimum, torch.clamp, pow's special exponents,
// erf-form gelu).
//
// Everything here is __host__ __device__: the host build uses libm, which lets a host-only test
// compare these functions and the elementwise interpreter with the CPU device's.
//
// Rounding. The build does not use --use_fast_math: division and sqrt are IEEE (correctly
// rounded), expf/logf/erff/tanhf/sinf/cosf/powf are CUDA's accurate versions (1 to 4 ulp, where
// glibc is within 1 ulp), and denormals are kept. nvcc contracts a*b+c into an FMA by default;
// the arithmetic ops use the _rn intrinsics, which are never contracted, so that + - * round
// exactly as on the CPU (whose x86-64 baseline build has no FMA).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "device.h"

#if defined(__CUDACC__)
#define TVM_HD __host__ __device__ __forceinline__
#else
#define TVM_HD inline
#endif

#pragma GCC visibility push(hidden)  // internal to the plugin (cuda_internal.h)

namespace tvm::cuda {

// ---------------------------------------------------------------- bits and exact arithmetic

TVM_HD uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
TVM_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// a + b, a - b, a * b, each rounded on its own (never fused into an FMA with a neighbour).
TVM_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
TVM_HD float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
TVM_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

// ---------------------------------------------------------------- scalar functions

// vm/cpu_math.h computes floor, ceil and round-half-to-even by a vectorisable trick; the results
// are those of floorf, ceilf and rintf for every input (the sign of a zero, inf and nan included).
TVM_HD float floor_f(float x) { return floorf(x); }
TVM_HD float ceil_f(float x) { return ceilf(x); }
TVM_HD float round_even(float x) { return rintf(x); }

// relu(nan) is nan and relu(-0.) is -0., as torch's clamp_min(x, 0).
TVM_HD float relu_f(float x) { return x < 0.f ? 0.f : x; }
TVM_HD float sigmoid_f(float x) { return 1.f / add_rn(1.f, expf(-x)); }
// The exact (erf) form, as the CPU device and torch's default; not the tanh approximation.
TVM_HD float gelu_f(float x) {
  return mul_rn(mul_rn(0.5f, x), add_rn(1.f, erff(mul_rn(x, 0.70710678118654752440f))));
}

// torch.maximum / torch.minimum: a nan in either operand gives nan.
TVM_HD float max_f(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
TVM_HD float min_f(float a, float b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }

// torch.floor_divide on floats (c10's div_floor_floating), Python's float //: the CPU's
// floordiv_f step for step. fmodf is exact on both sides.
TVM_HD float floordiv_f(float a, float b) {
  if (b == 0.f) return a / b;  // IEEE: ±inf, or nan for 0/0
  const float mod = fmodf(a, b);
  float div = sub_rn(a, mod) / b;
  div = sub_rn(div, (mod != 0.f) && ((b < 0.f) != (mod < 0.f)) ? 1.f : 0.f);
  const float fl = floorf(div);
  const float r = add_rn(fl, sub_rn(div, fl) > 0.5f ? 1.f : -0.f);
  // a zero quotient takes the sign of a/b
  const float zero = bits_float((float_bits(a) ^ float_bits(b)) & 0x80000000u);
  return div == 0.f ? zero : r;
}
// torch.remainder on floats: fmod, moved into the divisor's sign (x % 0 is nan).
TVM_HD float mod_f(float a, float b) {
  const float m = fmodf(a, b);
  return add_rn(m, (m != 0.f) && ((b < 0.f) != (m < 0.f)) ? b : -0.f);
}

// torch.clamp(x, lo, hi) as min(max(x, lo), hi): a nan x fails both comparisons and stays nan.
TVM_HD float clamp_f(float v, float lo, float hi) {
  const float t = v < lo ? lo : v;
  return t > hi ? hi : t;
}
// torch.where: a where c is nonzero, else b.
TVM_HD float where_f(float c, float a, float b) { return c != 0.f ? a : b; }

// exp(v - m) for softmax, as the CPU: anything below -104 is exactly 0 (expf would give a
// denormal or 0 depending on its last-ulp rounding).
TVM_HD float exp_shifted(float v, float m) {
  const float t = sub_rn(v, m);
  return expf(t < -104.f ? -INFINITY : t);
}

TVM_HD float unary_f(UnaryKind op, float x) {
  switch (op) {
    case UnaryKind::Neg: return -x;
    case UnaryKind::Abs: return fabsf(x);
    case UnaryKind::Exp: return expf(x);
    case UnaryKind::Log: return logf(x);
    case UnaryKind::Sqrt: return sqrtf(x);
    case UnaryKind::Sin: return sinf(x);
    case UnaryKind::Cos: return cosf(x);
    case UnaryKind::Tanh: return tanhf(x);
    case UnaryKind::Relu: return relu_f(x);
    case UnaryKind::Sigmoid: return sigmoid_f(x);
    case UnaryKind::Gelu: return gelu_f(x);
    case UnaryKind::Floor: return floor_f(x);
    case UnaryKind::Ceil: return ceil_f(x);
    case UnaryKind::Round: return round_even(x);
  }
  return x;
}

TVM_HD float binary_f(BinaryKind op, float a, float b) {
  switch (op) {
    case BinaryKind::Add: return add_rn(a, b);
    case BinaryKind::Sub: return sub_rn(a, b);
    case BinaryKind::Mul: return mul_rn(a, b);
    case BinaryKind::Div: return a / b;
    case BinaryKind::FloorDiv: return floordiv_f(a, b);
    case BinaryKind::Mod: return mod_f(a, b);
    case BinaryKind::Pow: return powf(a, b);
    case BinaryKind::Maximum: return max_f(a, b);
    case BinaryKind::Minimum: return min_f(a, b);
    case BinaryKind::Lt: return a < b ? 1.f : 0.f;
    case BinaryKind::Le: return a <= b ? 1.f : 0.f;
    case BinaryKind::Gt: return a > b ? 1.f : 0.f;
    case BinaryKind::Ge: return a >= b ? 1.f : 0.f;
    case BinaryKind::Eq: return a == b ? 1.f : 0.f;
    case BinaryKind::Ne: return a != b ? 1.f : 0.f;
  }
  return a;
}

// torch's pow(Tensor, Scalar) special exponents (cpu_math.h, with_pow_scalar): 0 and 1 are a fill
// and a copy; 0.5, -0.5 and -1 are sqrt, rsqrt and reciprocal; 2, 3 and -2 multiply.
enum class PowSpecial : uint8_t { One, Copy, Sqrt, Rsqrt, Recip, Square, Cube, InvSquare };
constexpr int kNumPowSpecial = 8;

// The special form of x ** s, or false when s is an ordinary exponent (powf's).
TVM_HD bool pow_special(float s, PowSpecial* out) {
  if (s == 0.f) return *out = PowSpecial::One, true;
  if (s == 1.f) return *out = PowSpecial::Copy, true;
  if (s == 0.5f) return *out = PowSpecial::Sqrt, true;
  if (s == -0.5f) return *out = PowSpecial::Rsqrt, true;
  if (s == -1.f) return *out = PowSpecial::Recip, true;
  if (s == 2.f) return *out = PowSpecial::Square, true;
  if (s == 3.f) return *out = PowSpecial::Cube, true;
  if (s == -2.f) return *out = PowSpecial::InvSquare, true;
  return false;
}
TVM_HD float pow_special_f(PowSpecial p, float x) {
  switch (p) {
    case PowSpecial::One: return 1.f;
    case PowSpecial::Copy: return x;
    case PowSpecial::Sqrt: return sqrtf(x);
    case PowSpecial::Rsqrt: return 1.f / sqrtf(x);
    case PowSpecial::Recip: return 1.f / x;
    case PowSpecial::Square: return mul_rn(x, x);
    case PowSpecial::Cube: return mul_rn(mul_rn(x, x), x);
    case PowSpecial::InvSquare: return 1.f / mul_rn(x, x);
  }
  return x;
}

// GEMM epilogue activations (linear's), as the CPU's epilogue.
TVM_HD float activation_f(Activation act, float v) {
  switch (act) {
    case Activation::None: return v;
    case Activation::Relu: return relu_f(v);
    case Activation::Sigmoid: return sigmoid_f(v);
    case Activation::Tanh: return tanhf(v);
    case Activation::Gelu: return gelu_f(v);
  }
  return v;
}

// ---------------------------------------------------------------- functors
// One type per op, so that a kernel template instantiated with it has the op's switch folded
// away at compile time.

template <UnaryKind K>
struct UnaryFn {
  TVM_HD float operator()(float x) const { return unary_f(K, x); }
};
template <BinaryKind K>
struct BinaryFn {
  TVM_HD float operator()(float a, float b) const { return binary_f(K, a, b); }
};
// a op s (ScalarFirst false) or s op a: binary_scalar.
template <BinaryKind K, bool ScalarFirst>
struct ScalarFn {
  float s;
  TVM_HD float operator()(float a) const { return ScalarFirst ? binary_f(K, s, a) : binary_f(K, a, s); }
};
template <PowSpecial P>
struct PowSpecialFn {
  TVM_HD float operator()(float x) const { return pow_special_f(P, x); }
};
struct ClampFn {
  float lo, hi;
  TVM_HD float operator()(float x) const { return clamp_f(x, lo, hi); }
};
struct WhereFn {
  TVM_HD float operator()(float c, float a, float b) const { return where_f(c, a, b); }
};

// Calls fn(UnaryFn<op>{}) for the run-time op: one instantiation of fn's body per op.
template <class Fn>
void with_unary(UnaryKind op, Fn&& fn) {
  switch (op) {
#define TVM_CASE(K) \
  case UnaryKind::K: return fn(UnaryFn<UnaryKind::K>{});
    TVM_CASE(Neg) TVM_CASE(Abs) TVM_CASE(Exp) TVM_CASE(Log) TVM_CASE(Sqrt) TVM_CASE(Sin) TVM_CASE(Cos)
    TVM_CASE(Tanh) TVM_CASE(Relu) TVM_CASE(Sigmoid) TVM_CASE(Gelu) TVM_CASE(Floor) TVM_CASE(Ceil) TVM_CASE(Round)
#undef TVM_CASE
  }
}

// Calls fn(BinaryFn<op>{}) (or, with a tag, any template of the op) for the run-time op.
template <class Fn>
void with_binary(BinaryKind op, Fn&& fn) {
  switch (op) {
#define TVM_CASE(K) \
  case BinaryKind::K: return fn(BinaryFn<BinaryKind::K>{});
    TVM_CASE(Add) TVM_CASE(Sub) TVM_CASE(Mul) TVM_CASE(Div) TVM_CASE(FloorDiv) TVM_CASE(Mod) TVM_CASE(Pow)
    TVM_CASE(Maximum) TVM_CASE(Minimum) TVM_CASE(Lt) TVM_CASE(Le) TVM_CASE(Gt) TVM_CASE(Ge) TVM_CASE(Eq)
    TVM_CASE(Ne)
#undef TVM_CASE
  }
}

// Calls fn(ScalarFn<op, ScalarFirst>{s}) for the run-time op.
template <bool ScalarFirst, class Fn>
void with_scalar(BinaryKind op, float s, Fn&& fn) {
  switch (op) {
#define TVM_CASE(K) \
  case BinaryKind::K: return fn(ScalarFn<BinaryKind::K, ScalarFirst>{s});
    TVM_CASE(Add) TVM_CASE(Sub) TVM_CASE(Mul) TVM_CASE(Div) TVM_CASE(FloorDiv) TVM_CASE(Mod) TVM_CASE(Pow)
    TVM_CASE(Maximum) TVM_CASE(Minimum) TVM_CASE(Lt) TVM_CASE(Le) TVM_CASE(Gt) TVM_CASE(Ge) TVM_CASE(Eq)
    TVM_CASE(Ne)
#undef TVM_CASE
  }
}

template <class Fn>
void with_pow_special(PowSpecial p, Fn&& fn) {
  switch (p) {
#define TVM_CASE(K) \
  case PowSpecial::K: return fn(PowSpecialFn<PowSpecial::K>{});
    TVM_CASE(One) TVM_CASE(Copy) TVM_CASE(Sqrt) TVM_CASE(Rsqrt) TVM_CASE(Recip) TVM_CASE(Square) TVM_CASE(Cube)
    TVM_CASE(InvSquare)
#undef TVM_CASE
  }
}

}  // namespace tvm::cuda

#pragma GCC visibility pop
