// The per-element functions of the CPU device's float32 kernels and the loops that vectorise
// them, shared by the separate kernels (vm/cpu_device.cpp) and the fused elementwise kernel
// (vm/cpu_fused.cpp) so that a fused chain rounds exactly as the chain of separate kernels;
// and what a fused step reads.
// cpu_device.cpp's header explains how the loops are written for GCC's vectoriser and whose
// numerics the functions follow (PyTorch 1.13's CPU kernels).
#pragma once

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>

#include "device.h"
#include "fused.h"

namespace tvm::cpu {

// Elementwise loops run in blocks of kBlock: an inner loop with a constant trip count (which
// GCC's -O2 cost model vectorises) plus a scalar tail.
constexpr int64_t kBlock = 16;

// ---------------------------------------------------------------- scalar functions

// Round half to even (nearbyint in the default rounding mode), written so that it vectorises:
// for |x| < 2^23, (|x| + 2^23) - 2^23 rounds |x| to an integer; a larger |x|, inf and nan are
// integral (or nan) already, and adding and subtracting 0 leaves them as they are.
inline float round_even(float x) {
  float ax = std::fabs(x);
  float m = ax < 8388608.f ? 8388608.f : 0.f;
  return std::copysign((ax + m) - m, x);
}
// 1.f when c, else 0.f, through the bits: written as `c ? 1.f : 0.f`, GCC turns `r - that`
// back into a conditional subtraction, a branch that the vectoriser rejects.
inline float one_if(bool c) { return std::bit_cast<float>(uint32_t(-int32_t(c)) & 0x3f800000u); }
// floor and ceil from the rounded value; the sign of x carries over (floor(-0.) is -0.,
// ceil(-0.5) is -0.).
inline float floor_f(float x) {
  float r = round_even(x);
  return std::copysign(r - one_if(r > x), x);
}
inline float ceil_f(float x) {
  float r = round_even(x);
  return std::copysign(r + one_if(r < x), x);
}
// relu(nan) is nan and relu(-0.) is -0., as torch's clamp_min(x, 0).
inline float relu_f(float x) { return x < 0.f ? 0.f : x; }
inline float sigmoid_f(float x) { return 1.f / (1.f + std::exp(-x)); }
inline float gelu_f(float x) { return 0.5f * x * (1.f + std::erf(x * float(M_SQRT1_2))); }

// torch.maximum / torch.minimum: a nan in either operand gives nan.
inline float max_f(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
inline float min_f(float a, float b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }

// fmod(a, b), exactly, without glibc's fmodf (a bit-by-bit loop, ~10 ns an element). When |a/b| < 2^24
// the quotient computed in double truncates to the right integer t (a non-integral a/b lies at
// least 2^-24·|a/b| from an integer, far more than double's rounding), t·b is exact in double
// (24 + 24 bits), and so is a - t·b, the remainder, which float represents. The remainder of
// fmod takes a's sign, a zero one included. Larger quotients, infinities, nan and b == 0 go
// to std::fmod.
inline float fmod_f(float a, float b) {
  const double q = double(a) / double(b);
  if (std::fabs(q) < 16777216.0 && std::fabs(b) < INFINITY) {
    const double t = double(int64_t(q));
    return std::copysign(float(double(a) - t * double(b)), a);
  }
  return std::fmod(a, b);
}

// v when c, else w, through the bits (a select GCC cannot turn back into a branch).
inline float select_bits(bool c, float v, float w) {
  const uint32_t m = uint32_t(-int32_t(c));
  return std::bit_cast<float>((std::bit_cast<uint32_t>(v) & m) | (std::bit_cast<uint32_t>(w) & ~m));
}

// torch.floor_divide on floats (c10's div_floor_floating), which is Python's float //. The
// sign fixes are selects, not branches: they go either way at random on mixed-sign data.
// (x - +0. and x + -0. leave every x as it is, -0. included.)
inline float floordiv_f(float a, float b) {
  if (b == 0.f) return a / b;  // IEEE: ±inf, or nan for 0/0
  const float mod = fmod_f(a, b);
  float div = (a - mod) / b;
  div = div - select_bits((mod != 0.f) & ((b < 0.f) != (mod < 0.f)), 1.f, 0.f);
  const float fl = floor_f(div);
  const float r = fl + select_bits(div - fl > 0.5f, 1.f, -0.f);
  // a zero quotient takes the sign of a/b
  const float zero = std::bit_cast<float>((std::bit_cast<uint32_t>(a) ^ std::bit_cast<uint32_t>(b)) & 0x80000000u);
  return select_bits(div == 0.f, zero, r);
}
// torch.remainder on floats: fmod, moved into the divisor's sign (x % 0 is nan).
inline float mod_f(float a, float b) {
  const float m = fmod_f(a, b);
  return m + select_bits((m != 0.f) & ((b < 0.f) != (m < 0.f)), b, -0.f);
}

// Calls fn with a function object for the binary op (fn is instantiated once per op).
template <class Fn>
void with_binary(BinaryKind op, Fn&& fn) {
  switch (op) {
    case BinaryKind::Add: return fn([](float a, float b) { return a + b; });
    case BinaryKind::Sub: return fn([](float a, float b) { return a - b; });
    case BinaryKind::Mul: return fn([](float a, float b) { return a * b; });
    case BinaryKind::Div: return fn([](float a, float b) { return a / b; });
    case BinaryKind::FloorDiv: return fn([](float a, float b) { return floordiv_f(a, b); });
    case BinaryKind::Mod: return fn([](float a, float b) { return mod_f(a, b); });
    case BinaryKind::Pow: return fn([](float a, float b) { return std::pow(a, b); });
    case BinaryKind::Maximum: return fn([](float a, float b) { return max_f(a, b); });
    case BinaryKind::Minimum: return fn([](float a, float b) { return min_f(a, b); });
    case BinaryKind::Lt: return fn([](float a, float b) { return a < b ? 1.f : 0.f; });
    case BinaryKind::Le: return fn([](float a, float b) { return a <= b ? 1.f : 0.f; });
    case BinaryKind::Gt: return fn([](float a, float b) { return a > b ? 1.f : 0.f; });
    case BinaryKind::Ge: return fn([](float a, float b) { return a >= b ? 1.f : 0.f; });
    case BinaryKind::Eq: return fn([](float a, float b) { return a == b ? 1.f : 0.f; });
    case BinaryKind::Ne: return fn([](float a, float b) { return a != b ? 1.f : 0.f; });
  }
}

template <class Fn>
void with_unary(UnaryKind op, Fn&& fn) {
  switch (op) {
    case UnaryKind::Neg: return fn([](float x) { return -x; });
    case UnaryKind::Abs: return fn([](float x) { return std::fabs(x); });
    case UnaryKind::Exp: return fn([](float x) { return std::exp(x); });
    case UnaryKind::Log: return fn([](float x) { return std::log(x); });
    case UnaryKind::Sqrt: return fn([](float x) { return std::sqrt(x); });
    case UnaryKind::Sin: return fn([](float x) { return std::sin(x); });
    case UnaryKind::Cos: return fn([](float x) { return std::cos(x); });
    case UnaryKind::Tanh: return fn([](float x) { return std::tanh(x); });
    case UnaryKind::Relu: return fn([](float x) { return relu_f(x); });
    case UnaryKind::Sigmoid: return fn([](float x) { return sigmoid_f(x); });
    case UnaryKind::Gelu: return fn([](float x) { return gelu_f(x); });
    case UnaryKind::Floor: return fn([](float x) { return floor_f(x); });
    case UnaryKind::Ceil: return fn([](float x) { return ceil_f(x); });
    case UnaryKind::Round: return fn([](float x) { return round_even(x); });
  }
}

// torch.clamp(x, lo, hi) as min(max(x, lo), hi), in selects: a nan x fails both comparisons
// and stays nan.
inline float clamp_f(float v, float lo, float hi) {
  const float t = v < lo ? lo : v;
  return t > hi ? hi : t;
}
// torch.where: a where c is nonzero, else b (both loaded, so the select is not a branch).
inline float where_f(float c, float a, float b) { return c != 0.f ? a : b; }

// torch's pow(Tensor, Scalar): exponents 0 and 1 are a fill and a copy; 0.5, -0.5 and -1 are
// sqrt, rsqrt and reciprocal; 2, 3 and -2 multiply. For those, calls fn with the per-element
// function and returns true; any other exponent is std::pow's (false).
template <class Fn>
bool with_pow_scalar(float s, Fn&& fn) {
  if (s == 0.f) return fn([](float) { return 1.f; }), true;
  if (s == 1.f) return fn([](float x) { return x; }), true;
  if (s == 0.5f) return fn([](float x) { return std::sqrt(x); }), true;
  if (s == -0.5f) return fn([](float x) { return 1.f / std::sqrt(x); }), true;
  if (s == -1.f) return fn([](float x) { return 1.f / x; }), true;
  if (s == 2.f) return fn([](float x) { return x * x; }), true;
  if (s == 3.f) return fn([](float x) { return x * x * x; }), true;
  if (s == -2.f) return fn([](float x) { return 1.f / (x * x); }), true;
  return false;
}

// ---------------------------------------------------------------- elementwise loops

// y[i] = f(x[i]), y and x distinct.
template <class F>
void map1(F f, const float* __restrict x, float* __restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = f(x[i + j]);
  for (; i < n; ++i) y[i] = f(x[i]);
}
// y[i] = f(y[i]).
template <class F>
void map1_inplace(F f, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = f(y[i + j]);
  for (; i < n; ++i) y[i] = f(y[i]);
}

// One row of a binary op: y[i] = f(a[i·SA], b[i·SB]) for i < n (n >= 1), where an operand's
// stride is 1, or 0 for a broadcast element. y distinct from a and b.
template <int SA, int SB, class F>
void row2(F f, const float* __restrict a, const float* __restrict b, float* __restrict y, int64_t n) {
  const float a0 = a[0], b0 = b[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = f(SA ? a[i + j] : a0, SB ? b[i + j] : b0);
  for (; i < n; ++i) y[i] = f(SA ? a[i] : a0, SB ? b[i] : b0);
}

// ---------------------------------------------------------------- fused elementwise programs

// The fused elementwise kernel (Kernels::elementwise), vm/cpu_fused.cpp.
void elementwise_k(const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                   float* y, const EwPlan& s);

}  // namespace tvm::cpu
