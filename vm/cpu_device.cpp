// The CPU device (vm/device.h): host memory, GEMM/GEMV through OpenBLAS's CBLAS, and every
// other kernel in plain C++ that GCC vectorises.
//
// Vectorisation at -O2. GCC 12 vectorises at -O2 with its "very cheap" cost model, which takes
// a loop only when the vector code replaces the scalar loop outright: no runtime alias checks,
// no loop versioning, no epilogue for a trip count that is not a known multiple of the vector
// width. So every elementwise loop here is written as blocks of kBlock (16) elements, an inner
// loop with a constant trip count over restrict-qualified pointers, plus a scalar tail; the
// inner loops vectorise (4 x SSE at the x86-64 baseline) and the tail is at most 15 elements.
// Conditionals are written as selects between values that are computed unconditionally
// (`x < 0.f ? 0.f : x`), which if-conversion turns into masks; a select whose arm does
// arithmetic (which may trap under -ftrapping-math) would stay a branch. Calls into libm (exp,
// log, tanh, erf, fmod, pow ...) and sqrt (which must set errno) stay scalar.
//
// Aliasing. A kernel's output may be one of its inputs exactly (y == x: in-place ops), never a
// partial overlap. The restrict-qualified loops take distinct pointers only: an in-place
// elementwise op reads and writes through the one pointer (y[i] = f(y[i], b[i])), and the rare
// remaining cases (y is both operands, or a broadcast one) copy each block into locals first.
//
// Numerics follow PyTorch 1.13's float32 CPU kernels: the same formulas (sigmoid, erf-form
// gelu, softmax by multiplying with 1/sum, layer norm as fused (x*rstd - rstd*mean)*w + b),
// float libm functions, Python semantics for // and % computed as torch does (fmod, then the
// sign fix), nan-propagating maximum/minimum/max/min, round half to even, pow's special
// exponents.
#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cpu_math.h"
#include "device.h"
#include "error.h"

namespace tvm {
namespace {

using namespace cpu;  // the per-element functions, kBlock, map1, row2 (vm/cpu_math.h)

// ---------------------------------------------------------------- elementwise loops

// In place over one operand: y[i] = f(y[i], o[i·SO]) when Y == 0 (y is a), f(o[i·SO], y[i])
// when Y == 1 (y is b); the other operand o is distinct from y.
template <int Y, int SO, class F>
void row2_inplace(F f, const float* __restrict o, float* __restrict y, int64_t n) {
  const float o0 = o[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) {
      const float v = y[i + j], w = SO ? o[i + j] : o0;
      y[i + j] = Y == 0 ? f(v, w) : f(w, v);
    }
  for (; i < n; ++i) {
    const float v = y[i], w = SO ? o[i] : o0;
    y[i] = Y == 0 ? f(v, w) : f(w, v);
  }
}
// Any other aliasing (y is both a and b, or a broadcast operand): each block goes through
// locals first.
template <int SA, int SB, class F>
void row2_alias(F f, const float* a, const float* b, float* y, int64_t n) {
  const float a0 = a[0], b0 = b[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    float ta[kBlock], tb[kBlock];
    if (SA) std::memcpy(ta, a + i, sizeof ta);
    if (SB) std::memcpy(tb, b + i, sizeof tb);
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = f(SA ? ta[j] : a0, SB ? tb[j] : b0);
  }
  for (; i < n; ++i) y[i] = f(SA ? a[i] : a0, SB ? b[i] : b0);
}
// Any other strides (a transposed or sliced operand): plain scalar loop.
template <class F>
void row2_strided(F f, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(a[i * sa], b[i * sb]);
}

template <int SC, int SA, int SB>
void row_where(const float* __restrict c, const float* __restrict a, const float* __restrict b,
               float* __restrict y, int64_t n) {
  const float c0 = c[0], a0 = a[0], b0 = b[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) {
      // both values loaded unconditionally, so that the select is not a branch
      const float cv = SC ? c[i + j] : c0, av = SA ? a[i + j] : a0, bv = SB ? b[i + j] : b0;
      y[i + j] = where_f(cv, av, bv);
    }
  for (; i < n; ++i) y[i] = where_f(SC ? c[i] : c0, SA ? a[i] : a0, SB ? b[i] : b0);
}
template <int SC, int SA, int SB>
void row_where_alias(const float* c, const float* a, const float* b, float* y, int64_t n) {
  const float c0 = c[0], a0 = a[0], b0 = b[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    float tc[kBlock], ta[kBlock], tb[kBlock];
    if (SC) std::memcpy(tc, c + i, sizeof tc);
    if (SA) std::memcpy(ta, a + i, sizeof ta);
    if (SB) std::memcpy(tb, b + i, sizeof tb);
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = where_f(SC ? tc[j] : c0, SA ? ta[j] : a0, SB ? tb[j] : b0);
  }
  for (; i < n; ++i) y[i] = where_f(SC ? c[i] : c0, SA ? a[i] : a0, SB ? b[i] : b0);
}

// Calls row(off, len, y_off) for every innermost row of the plan s, where off[k] is operand
// k's element offset for the row and y_off the (contiguous) output's. Nothing for an empty
// shape; rank 0 is one element.
template <int K, class Row>
void each_row(const Strided& s, Row&& row) {
  int64_t off[K] = {};
  const int nd = s.ndim;
  if (nd <= 0) return row(off, int64_t(1), int64_t(0));
  int64_t rows = 1;
  for (int d = 0; d < nd; ++d) {
    if (s.shape[d] <= 0) return;
    if (d < nd - 1) rows *= s.shape[d];
  }
  const int64_t len = s.shape[nd - 1];
  int64_t idx[8] = {};
  for (int64_t r = 0; r < rows; ++r) {
    row(off, len, r * len);
    for (int d = nd - 2; d >= 0; --d) {  // the odometer over the outer dimensions
      if (++idx[d] < s.shape[d]) {
        for (int k = 0; k < K; ++k) off[k] += s.stride[k][d];
        break;
      }
      idx[d] = 0;
      for (int k = 0; k < K; ++k) off[k] -= s.stride[k][d] * (s.shape[d] - 1);
    }
  }
}

template <class F>
void binary_plan(F f, const float* a, const float* b, float* y, const Strided& s) {
  const int last = s.ndim > 0 ? s.ndim - 1 : 0;
  const int64_t sa = s.ndim > 0 ? s.stride[0][last] : 0, sb = s.ndim > 0 ? s.stride[1][last] : 0;
  auto go = [&](auto rowfn) {
    each_row<2>(s, [&](const int64_t* off, int64_t len, int64_t yo) { rowfn(f, a + off[0], b + off[1], y + yo, len); });
  };
  // y is a (x += ...), or y is b: the other operand is read through its own pointer.
  auto go_inplace = [&](auto rowfn, int other) {
    each_row<2>(s, [&](const int64_t* off, int64_t len, int64_t yo) {
      rowfn(f, other == 1 ? b + off[1] : a + off[0], y + yo, len);
    });
  };
  const bool unit = (sa == 0 || sa == 1) && (sb == 0 || sb == 1);
  if (!unit)
    return each_row<2>(s, [&](const int64_t* off, int64_t len, int64_t yo) {
      row2_strided(f, a + off[0], sa, b + off[1], sb, y + yo, len);
    });
  if (y == a && y != b && sa == 1) return sb ? go_inplace(row2_inplace<0, 1, F>, 1) : go_inplace(row2_inplace<0, 0, F>, 1);
  if (y == b && y != a && sb == 1) return sa ? go_inplace(row2_inplace<1, 1, F>, 0) : go_inplace(row2_inplace<1, 0, F>, 0);
  const bool alias = y == a || y == b;
  switch (sa * 2 + sb) {
    case 3: return alias ? go(row2_alias<1, 1, F>) : go(row2<1, 1, F>);
    case 2: return alias ? go(row2_alias<1, 0, F>) : go(row2<1, 0, F>);
    case 1: return alias ? go(row2_alias<0, 1, F>) : go(row2<0, 1, F>);
    default: return go(row2_alias<0, 0, F>);  // one value per row: a fill
  }
}

// ---------------------------------------------------------------- elementwise kernels

void unary_k(UnaryKind op, const float* x, float* y, int64_t n) {
  if (n <= 0) return;
  with_unary(op, [&](auto f) { x == y ? map1_inplace(f, y, n) : map1(f, x, y, n); });
}

void binary_k(BinaryKind op, const float* a, const float* b, float* y, const Strided& s) {
  with_binary(op, [&](auto f) { binary_plan(f, a, b, y, s); });
}

// y = a op s over n elements (a contiguous; y == a allowed).
template <class F>
void scalar_map(F f, const float* a, float s, float* y, int64_t n, bool scalar_first) {
  auto g = [f, s](float x, float) { return f(x, s); };
  auto h = [f, s](float x, float) { return f(s, x); };
  if (scalar_first)
    y == a ? row2_inplace<0, 0>(h, &s, y, n) : row2<1, 0>(h, a, &s, y, n);
  else
    y == a ? row2_inplace<0, 0>(g, &s, y, n) : row2<1, 0>(g, a, &s, y, n);
}

template <class F>
void unary_map(F f, const float* x, float* y, int64_t n) {
  x == y ? map1_inplace(f, y, n) : map1(f, x, y, n);
}

void binary_scalar_k(BinaryKind op, const float* a, float s, float* y, int64_t n, bool scalar_first) {
  if (n <= 0) return;
  if (op == BinaryKind::Pow && !scalar_first && with_pow_scalar(s, [&](auto f) { unary_map(f, a, y, n); })) return;
  with_binary(op, [&](auto f) { scalar_map(f, a, s, y, n, scalar_first); });
}

void where_k(const float* c, const float* a, const float* b, float* y, const Strided& s) {
  const int last = s.ndim > 0 ? s.ndim - 1 : 0;
  const int64_t sc = s.ndim > 0 ? s.stride[0][last] : 0, sa = s.ndim > 0 ? s.stride[1][last] : 0,
                sb = s.ndim > 0 ? s.stride[2][last] : 0;
  const bool alias = y == c || y == a || y == b;
  auto go = [&](auto rowfn) {
    each_row<3>(s, [&](const int64_t* off, int64_t len, int64_t yo) {
      rowfn(c + off[0], a + off[1], b + off[2], y + yo, len);
    });
  };
  const bool unit = (sc == 0 || sc == 1) && (sa == 0 || sa == 1) && (sb == 0 || sb == 1);
  if (!unit) {
    each_row<3>(s, [&](const int64_t* off, int64_t len, int64_t yo) {
      const float *cr = c + off[0], *ar = a + off[1], *br = b + off[2];
      float* yr = y + yo;
      for (int64_t i = 0; i < len; ++i) yr[i] = where_f(cr[i * sc], ar[i * sa], br[i * sb]);
    });
    return;
  }
  switch (sc * 4 + sa * 2 + sb) {
#define TVM_WHERE_CASE(C, A, B) \
  case C * 4 + A * 2 + B: return alias ? go(row_where_alias<C, A, B>) : go(row_where<C, A, B>);
    TVM_WHERE_CASE(0, 0, 0)
    TVM_WHERE_CASE(0, 0, 1)
    TVM_WHERE_CASE(0, 1, 0)
    TVM_WHERE_CASE(0, 1, 1)
    TVM_WHERE_CASE(1, 0, 0)
    TVM_WHERE_CASE(1, 0, 1)
    TVM_WHERE_CASE(1, 1, 0)
    TVM_WHERE_CASE(1, 1, 1)
#undef TVM_WHERE_CASE
  }
}

void clamp_k(const float* x, float* y, int64_t n, float lo, float hi) {
  if (n <= 0) return;
  unary_map([lo, hi](float v) { return clamp_f(v, lo, hi); }, x, y, n);
}

// ---------------------------------------------------------------- reductions

// Sum of x[0..n): pairwise above 256 elements, 16 running lanes below (the lanes vectorise).
// The error grows with log n rather than n, like torch's cascade sum.
float sum_contig(const float* x, int64_t n) {
  if (n > 256) {
    int64_t h = (n / 2 + kBlock - 1) / kBlock * kBlock;
    return sum_contig(x, h) + sum_contig(x + h, n - h);
  }
  float acc[kBlock] = {};
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) acc[j] += x[i + j];
  for (int64_t j = 0; i + j < n; ++j) acc[j] += x[i + j];
  for (int64_t w = kBlock / 2; w > 0; w /= 2)
    for (int64_t j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// exp(v - m) for softmax. exp of anything below -104 is 0 in float; -inf gets there without
// glibc's slower underflow path (masked attention scores are often -1e9).
inline float exp_shifted(float v, float m) {
  const float t = v - m;
  return std::exp(t < -104.f ? -INFINITY : t);
}

// Sum of exp(x[i] - m) for i < n, pairwise as above (for log_softmax, which keeps no copy).
float sum_exp(const float* x, int64_t n, float m) {
  if (n > 256) {
    int64_t h = (n / 2 + kBlock - 1) / kBlock * kBlock;
    return sum_exp(x, h, m) + sum_exp(x + h, n - h, m);
  }
  float acc[kBlock] = {};
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) acc[j] += exp_shifted(x[i + j], m);
  for (int64_t j = 0; i + j < n; ++j) acc[j] += exp_shifted(x[i + j], m);
  for (int64_t w = kBlock / 2; w > 0; w /= 2)
    for (int64_t j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// Max (or min) of x[0..n), n >= 1, nan-propagating: 16 running lanes, then combined.
template <bool Max>
float extreme_contig(const float* x, int64_t n) {
  auto op = [](float a, float b) { return Max ? max_f(a, b) : min_f(a, b); };
  float acc[kBlock];
  for (int64_t j = 0; j < kBlock; ++j) acc[j] = x[0];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) acc[j] = op(acc[j], x[i + j]);
  for (; i < n; ++i) acc[0] = op(acc[0], x[i]);
  for (int64_t w = kBlock / 2; w > 0; w /= 2)
    for (int64_t j = 0; j < w; ++j) acc[j] = op(acc[j], acc[j + w]);
  return acc[0];
}

// First index of the maximum of x[0..n), n >= 1; the first nan if there is one.
int64_t argmax_contig(const float* x, int64_t n) {
  float m = extreme_contig<true>(x, n);
  if (m != m) {
    for (int64_t i = 0; i < n; ++i)
      if (x[i] != x[i]) return i;
  }
  for (int64_t i = 0; i < n; ++i)
    if (x[i] == m) return i;
  return 0;
}

// acc[j] = f(acc[j], r[j]) for j < w.
template <class F>
void combine_row(F f, float* __restrict acc, const float* __restrict r, int64_t w) {
  int64_t j = 0;
  for (; j + kBlock <= w; j += kBlock)
    for (int64_t t = 0; t < kBlock; ++t) acc[j + t] = f(acc[j + t], r[j + t]);
  for (; j < w; ++j) acc[j] = f(acc[j], r[j]);
}

// The column reductions work on tiles of up to kCols columns of x viewed as [rows, stride].
constexpr int64_t kCols = 64;

// acc[j] = sum over r < rows of x[r·stride + j], j < w: sequential over up to 16 rows, pairwise
// above.
void column_sum(const float* x, int64_t rows, int64_t stride, int64_t w, float* acc) {
  auto add = [](float a, float b) { return a + b; };
  if (rows > 16) {
    int64_t h = rows / 2;
    column_sum(x, h, stride, w, acc);
    float tmp[kCols];
    column_sum(x + h * stride, rows - h, stride, w, tmp);
    combine_row(add, acc, tmp, w);
    return;
  }
  std::memcpy(acc, x, size_t(w) * sizeof(float));
  for (int64_t r = 1; r < rows; ++r) combine_row(add, acc, x + r * stride, w);
}

void reduce_k(ReduceKind op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  if (outer <= 0 || inner <= 0) return;
  if (n <= 0) {  // only Sum and Mean: the empty sum
    std::fill(y, y + outer * inner, op == ReduceKind::Mean ? NAN : 0.f);
    return;
  }
  const float fn = float(n);
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) {
      const float* xr = x + o * n;
      switch (op) {
        case ReduceKind::Sum: y[o] = sum_contig(xr, n); break;
        case ReduceKind::Mean: y[o] = sum_contig(xr, n) / fn; break;
        case ReduceKind::Max: y[o] = extreme_contig<true>(xr, n); break;
        case ReduceKind::Min: y[o] = extreme_contig<false>(xr, n); break;
        case ReduceKind::Argmax: y[o] = float(argmax_contig(xr, n)); break;
      }
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c0 = 0; c0 < inner; c0 += kCols) {
      const int64_t w = std::min(kCols, inner - c0);
      const float* xs = x + o * n * inner + c0;
      float* yt = y + o * inner + c0;
      float acc[kCols];
      switch (op) {
        case ReduceKind::Sum:
        case ReduceKind::Mean:
          column_sum(xs, n, inner, w, acc);
          if (op == ReduceKind::Mean)
            for (int64_t j = 0; j < w; ++j) acc[j] /= fn;
          break;
        case ReduceKind::Max:
        case ReduceKind::Min:
          std::memcpy(acc, xs, size_t(w) * sizeof(float));
          for (int64_t r = 1; r < n; ++r) {
            if (op == ReduceKind::Max) combine_row([](float a, float b) { return max_f(a, b); }, acc, xs + r * inner, w);
            else combine_row([](float a, float b) { return min_f(a, b); }, acc, xs + r * inner, w);
          }
          break;
        case ReduceKind::Argmax: {
          int64_t idx[kCols] = {};
          std::memcpy(acc, xs, size_t(w) * sizeof(float));
          for (int64_t r = 1; r < n; ++r) {
            const float* xr = xs + r * inner;
            for (int64_t j = 0; j < w; ++j) {
              float v = xr[j];
              // a larger value, or the first nan (once the best is nan, nothing replaces it)
              if (v > acc[j] || (v != v && acc[j] == acc[j])) {
                acc[j] = v;
                idx[j] = r;
              }
            }
          }
          for (int64_t j = 0; j < w; ++j) acc[j] = float(idx[j]);
          break;
        }
      }
      std::memcpy(yt, acc, size_t(w) * sizeof(float));
    }
  }
}

// ---------------------------------------------------------------- softmax, layer norm

void softmax_k(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  if (rows <= 0 || n <= 0) return;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m = extreme_contig<true>(xr, n);
    if (log) {
      const float ls = std::log(sum_exp(xr, n, m));
      unary_map([m, ls](float v) { return v - m - ls; }, xr, yr, n);
    } else {
      unary_map([m](float v) { return exp_shifted(v, m); }, xr, yr, n);
      const float inv = 1.f / sum_contig(yr, n);
      map1_inplace([inv](float v) { return v * inv; }, yr, n);
    }
  }
}

void layer_norm_k(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
  if (rows <= 0 || n <= 0) return;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    // Mean and biased variance in double, two passes: exact to float precision (torch's
    // float Welford agrees to an ulp or so).
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += xr[i];
    const double mean = sum / double(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = xr[i] - mean;
      sq += d * d;
    }
    const float var = float(sq / double(n));
    // torch 1.13 (aten/src/ATen/native/cpu/layer_norm_kernel.cpp), in float:
    //   rstd = 1/sqrt(var + eps), bias = -rstd*mean, y = (x*rstd + bias)*w + b,
    // where GCC contracts both multiply-adds into FMAs (its x86 kernels are built with -mfma).
    // The contraction is visible: a constant row gives x*rstd's rounding error, not 0
    // (pytorch/pytorch#108072: [[14., 14.]] with eps 1e-6 prints 0.0001). std::fma
    // reproduces it (glibc's fmaf uses the FMA instruction where the CPU has one).
    const float rstd = 1.f / std::sqrt(std::max(var, 0.f) + eps);
    const float bias = -rstd * float(mean);
    for (int64_t i = 0; i < n; ++i) {
      const float t = std::fma(xr[i], rstd, bias);
      yr[i] = std::fma(t, w ? w[i] : 1.f, b ? b[i] : 0.f);
    }
  }
}

// ---------------------------------------------------------------- GEMM (OpenBLAS)

// OpenBLAS is loaded with dlopen on the first matrix product, not linked: its load-time
// constructor builds a thread pool (one spinning thread per core) and resolves ~12,000
// relocations, which would cost every run of tvm-run ~1.3 ms and, on a small machine, a core
// spent yielding. Loading it late also lets OPENBLAS_NUM_THREADS be set from $TVM_NUM_THREADS
// (default 1: one thread per call) before the pool exists, so no extra threads start at all.
std::string blas_error;  // why loading failed (written once, under blas()'s static init)

struct Blas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&cblas_sgemv) sgemv = nullptr;
};

const Blas& blas() {
  static const Blas loaded = [] {
    int threads = 1;
    if (const char* s = std::getenv("TVM_NUM_THREADS")) {
      char* end = nullptr;
      long v = std::strtol(s, &end, 10);
      if (end != s && *end == '\0' && v > 0) threads = int(std::min(v, 1024L));
    }
    setenv("OPENBLAS_NUM_THREADS", std::to_string(threads).c_str(), 1);
    void* lib = nullptr;
    std::string why;
    for (const char* name : {"libopenblas.so.0", "libopenblas.so"}) {
      if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
      if (const char* e = dlerror()) why = e;
    }
    Blas b;
    if (lib) {
      b.sgemm = reinterpret_cast<decltype(&cblas_sgemm)>(dlsym(lib, "cblas_sgemm"));
      b.sgemv = reinterpret_cast<decltype(&cblas_sgemv)>(dlsym(lib, "cblas_sgemv"));
      auto set_threads = reinterpret_cast<decltype(&openblas_set_num_threads)>(dlsym(lib, "openblas_set_num_threads"));
      if (set_threads) set_threads(threads);
      if (!b.sgemm || !b.sgemv) why = "libopenblas.so.0 has no cblas_sgemm/cblas_sgemv";
    }
    if (!b.sgemm || !b.sgemv) b = Blas{};
    if (!b.sgemm) blas_error = "cannot load OpenBLAS for matrix products (" + why + "; apt-get install libopenblas0)";
    return b;
  }();
  if (!loaded.sgemm) throw RuntimeError(blas_error, kExitDevice);
  return loaded;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

// One product C = op(A)·op(B) + beta·C with m, n, k >= 1, by plain loops (for sizes CBLAS's
// 32-bit integers cannot express).
void gemm_naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.f;
      for (int64_t p = 0; p < k; ++p) acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      float& out = c[i * ldc + j];
      out = beta == 0.f ? acc : acc + beta * out;
    }
}

// One product (m, n, k >= 1): GEMV when C is a row or a column, else GEMM.
void gemm_one(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float beta, float* c, int64_t ldc) {
  if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) || !fits_int(ldc))
    return gemm_naive(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  if (m == 1) {
    // c[1, n] = op(A)[1, k]·op(B)[k, n], i.e. c = op(B)ᵀ·a: A's row is a vector (stride lda
    // when A is stored [k, 1]); B is [k, n] (transposed GEMV) or [n, k] (plain GEMV).
    if (beta == 0.f) std::fill(c, c + n, 0.f);
    const int incx = ta ? int(lda) : 1;
    if (tb)
      blas().sgemv(CblasRowMajor, CblasNoTrans, int(n), int(k), 1.f, b, int(ldb), a, incx, beta == 0.f ? 1.f : beta, c, 1);
    else
      blas().sgemv(CblasRowMajor, CblasTrans, int(k), int(n), 1.f, b, int(ldb), a, incx, beta == 0.f ? 1.f : beta, c, 1);
    return;
  }
  if (n == 1) {
    // c[m, 1] = op(A)[m, k]·op(B)[k, 1]: B's column is a vector (stride ldb when B is [k, 1]),
    // C's column has stride ldc.
    if (beta == 0.f)
      for (int64_t i = 0; i < m; ++i) c[i * ldc] = 0.f;
    const int incx = tb ? 1 : int(ldb);
    if (ta)
      blas().sgemv(CblasRowMajor, CblasTrans, int(k), int(m), 1.f, a, int(lda), b, incx, beta == 0.f ? 1.f : beta, c, int(ldc));
    else
      blas().sgemv(CblasRowMajor, CblasNoTrans, int(m), int(k), 1.f, a, int(lda), b, incx, beta == 0.f ? 1.f : beta, c, int(ldc));
    return;
  }
  blas().sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              1.f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

void gemm_k(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
            int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a, int64_t stride_b,
            int64_t stride_c) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  if (k <= 0) {  // an empty sum: C = beta·C
    if (beta == 1.f) return;
    for (int64_t p = 0; p < batch; ++p)
      for (int64_t i = 0; i < m; ++i) {
        float* row = c + p * stride_c + i * ldc;
        for (int64_t j = 0; j < n; ++j) row[j] = beta == 0.f ? 0.f : beta * row[j];
      }
    return;
  }
  for (int64_t p = 0; p < batch; ++p)
    gemm_one(ta, tb, m, n, k, a + p * stride_a, lda, b + p * stride_b, ldb, beta, c + p * stride_c, ldc);
}

// y[r, :] = act(y[r, :] + b) (b may be null) for every row: the epilogue, one pass over y.
template <class Act>
void bias_act_row(Act act, const float* __restrict b, float* __restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = act(y[i + j] + b[i + j]);
  for (; i < n; ++i) y[i] = act(y[i] + b[i]);
}
template <class Act>
void epilogue(Act act, const float* b, float* y, int64_t m, int64_t n) {
  for (int64_t r = 0; r < m; ++r) {
    if (b) bias_act_row(act, b, y + r * n, n);
    else map1_inplace(act, y + r * n, n);
  }
}

void linear_k(const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n, int64_t k,
              Activation act) {
  if (m <= 0 || n <= 0) return;
  bool bias_done = false;
  if (k <= 0) {
    for (int64_t r = 0; r < m; ++r) {
      if (b) std::memcpy(y + r * n, b, size_t(n) * sizeof(float));
      else std::fill(y + r * n, y + (r + 1) * n, 0.f);
    }
    bias_done = true;
  } else if (m == 1 && fits_int(n) && fits_int(k)) {
    // The batch-1 case: y = W·x + b as one GEMV, the bias copied into y first (beta = 1).
    if (b) std::memcpy(y, b, size_t(n) * sizeof(float));
    else std::fill(y, y + n, 0.f);
    blas().sgemv(CblasRowMajor, CblasNoTrans, int(n), int(k), 1.f, w, int(k), x, 1, 1.f, y, 1);
    bias_done = true;
  } else if (b && act == Activation::None) {
    // No activation to apply afterwards: the bias rows go into y first and the GEMM adds to
    // them (beta = 1), as torch's addmm does. That replaces GEMM's own zeroing of C and saves
    // a read-modify-write pass over y.
    for (int64_t r = 0; r < m; ++r) std::memcpy(y + r * n, b, size_t(n) * sizeof(float));
    gemm_k(false, true, m, n, k, x, k, w, k, 1.f, y, n, 1, 0, 0, 0);
    bias_done = true;
  } else {
    gemm_k(false, true, m, n, k, x, k, w, k, 0.f, y, n, 1, 0, 0, 0);
  }
  const float* bias = bias_done ? nullptr : b;
  switch (act) {
    case Activation::None:
      if (bias) epilogue([](float v) { return v; }, bias, y, m, n);
      break;
    case Activation::Relu: epilogue([](float v) { return relu_f(v); }, bias, y, m, n); break;
    case Activation::Sigmoid: epilogue([](float v) { return sigmoid_f(v); }, bias, y, m, n); break;
    case Activation::Tanh: epilogue([](float v) { return std::tanh(v); }, bias, y, m, n); break;
    case Activation::Gelu: epilogue([](float v) { return gelu_f(v); }, bias, y, m, n); break;
  }
}

// ---------------------------------------------------------------- permute

void permute_k(const float* x, float* y, int ndim, const int64_t* shape, const int64_t* in_stride) {
  int64_t sh[8], st[8];
  int nd;
  if (!normalise_permute(ndim, shape, in_stride, sh, st, &nd)) return;
  if (nd == 0) {
    y[0] = x[0];
    return;
  }
  const int64_t len = sh[nd - 1], sl = st[nd - 1];
  if (nd >= 2 && sl != 1 && st[nd - 2] == 1) {
    // The last two dimensions are a transpose: copy in square tiles so that both the reads
    // and the writes stay within a few cache lines.
    constexpr int64_t T = 32;
    const int64_t rows = sh[nd - 2];
    Strided outer;
    outer.ndim = nd - 2;
    for (int d = 0; d < nd - 2; ++d) {
      outer.shape[d] = sh[d];
      outer.stride[0][d] = st[d];
    }
    // each_row with rank nd-2 treats the outer dimensions as rows of length 1.
    Strided plan = outer;
    plan.shape[plan.ndim] = 1;
    plan.stride[0][plan.ndim] = 0;
    ++plan.ndim;
    each_row<1>(plan, [&](const int64_t* off, int64_t, int64_t yo) {
      const float* xs = x + off[0];
      float* ys = y + yo * rows * len;
      for (int64_t r0 = 0; r0 < rows; r0 += T)
        for (int64_t c0 = 0; c0 < len; c0 += T) {
          const int64_t r1 = std::min(rows, r0 + T), c1 = std::min(len, c0 + T);
          for (int64_t r = r0; r < r1; ++r)
            for (int64_t c = c0; c < c1; ++c) ys[r * len + c] = xs[r + c * sl];
        }
    });
    return;
  }
  Strided plan;
  plan.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    plan.shape[d] = sh[d];
    plan.stride[0][d] = st[d];
  }
  if (sl == 1)
    each_row<1>(plan, [&](const int64_t* off, int64_t n, int64_t yo) { std::memcpy(y + yo, x + off[0], size_t(n) * sizeof(float)); });
  else
    each_row<1>(plan, [&](const int64_t* off, int64_t n, int64_t yo) {
      const float* xs = x + off[0];
      float* ys = y + yo;
      for (int64_t i = 0; i < n; ++i) ys[i] = xs[i * sl];
    });
}

// ---------------------------------------------------------------- memory

void* cpu_alloc(size_t bytes) {
  if (bytes > SIZE_MAX - 63) return nullptr;
  size_t rounded = bytes == 0 ? 64 : (bytes + 63) & ~size_t(63);
  return std::aligned_alloc(64, rounded);
}
void cpu_free(void* p) { std::free(p); }
void cpu_copy(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}

const Kernels kCpuKernels = {
    .unary = unary_k,
    .binary = binary_k,
    .binary_scalar = binary_scalar_k,
    .where = where_k,
    .clamp = clamp_k,
    .reduce = reduce_k,
    .softmax = softmax_k,
    .layer_norm = layer_norm_k,
    .gemm = gemm_k,
    .linear = linear_k,
    .elementwise = elementwise_k,
    .permute = permute_k,
};

// OpenBLAS loaded, and its first GEMV and GEMM (which allocate its per-thread buffers) done.
void cpu_prepare() {
  static const bool done = [] {
    try {
      blas();
    } catch (const RuntimeError&) {
      return false;  // the first product reports it
    }
    std::vector<float> a(64 * 64, 1.f), c(64 * 64);
    gemm_one(false, false, 1, 64, 64, a.data(), 64, a.data(), 64, 0.f, c.data(), 64);
    gemm_one(false, true, 64, 64, 64, a.data(), 64, a.data(), 64, 0.f, c.data(), 64);
    return true;
  }();
  (void)done;
}

const Device kCpuDevice = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .free = cpu_free,
    .to_device = cpu_copy,
    .to_host = cpu_copy,
    .kernels = &kCpuKernels,
    .prepare = cpu_prepare,
    // Synchronous: nothing queued, nothing recorded.
    .synchronize = nullptr,
    .last_error = nullptr,
    .capture_begin = nullptr,
    .capture_end = nullptr,
    .graph_launch = nullptr,
    .graph_destroy = nullptr,
};

}  // namespace

const Device& cpu_device() { return kCpuDevice; }

}  // namespace tvm
