// The CUDA device's own kernels: elementwise ops (separate and fused), reductions, softmax,
// layer norm and permute (gpu/cuda_device.cu explains the design; cuda_math.cuh holds the
// per-element functions, cuda_program.cuh the fused elementwise interpreter).
//
// Elementwise kernels are grid-stride loops in which each thread handles 4 consecutive output
// elements:
//  - the contiguous path (every tensor operand laid out as the output, no broadcast) moves each
//    operand with one 16-byte load and the result with one 16-byte store when every pointer is
//    16-byte aligned, else with 4 scalar accesses; a tail of fewer than 4 elements is masked;
//  - the general path walks the broadcast plan: a thread finds its first element's offset in
//    each operand by dividing its index by the plan's shape (32-bit division when the tensor
//    has under 2^32 elements), then steps an odometer for the next 3. Indices live in machine
//    registers: every loop over dimensions or operands is unrolled over the maximum count with
//    a run-time guard.
//
// Reductions, softmax and layer norm give each row to a warp (short rows) or a block (long rows);
// reductions split long rows over several blocks when there are too few rows to fill the GPU,
// and combine the partial states in a second pass.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_internal.h"
#include "cuda_math.cuh"
#include "cuda_program.cuh"

#pragma GCC visibility push(hidden)

namespace tvm::cuda {
namespace {

// ---------------------------------------------------------------- indexing helpers

// 4 consecutive elements from e0 (those at or past n read as 0).
__device__ __forceinline__ Lanes load_lanes(const float* p, int64_t e0, int64_t n, bool vec) {
  Lanes v;
  if (vec && e0 + kLanes <= n) {
    const float4 q = *reinterpret_cast<const float4*>(p + e0);
    v.v[0] = q.x, v.v[1] = q.y, v.v[2] = q.z, v.v[3] = q.w;
  } else {
#pragma unroll
    for (int l = 0; l < kLanes; ++l) v.v[l] = e0 + l < n ? p[e0 + l] : 0.f;
  }
  return v;
}

__device__ __forceinline__ void store_lanes(float* p, int64_t e0, int64_t n, bool vec, const Lanes& v) {
  if (vec && e0 + kLanes <= n) {
    *reinterpret_cast<float4*>(p + e0) = make_float4(v.v[0], v.v[1], v.v[2], v.v[3]);
  } else {
#pragma unroll
    for (int l = 0; l < kLanes; ++l)
      if (e0 + l < n) p[e0 + l] = v.v[l];
  }
}

__device__ __forceinline__ int64_t thread_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_threads() { return int64_t(gridDim.x) * blockDim.x; }

// The host side of a plan: operands 0..K-1 of a BroadcastPlan, rank 0 made rank 1. Returns the
// element count (0: nothing to do).
template <int K, int KS>
int64_t make_plan(const BroadcastPlan<KS>& s, Plan<K>& p) {
  static_assert(K <= KS);
  std::memset(&p, 0, sizeof p);
  if (s.ndim <= 0) {
    p.ndim = 1;
    p.shape[0] = 1;
    return 1;
  }
  p.ndim = s.ndim;
  int64_t n = 1;
  for (int d = 0; d < s.ndim; ++d) {
    if (s.shape[d] <= 0) return 0;
    p.shape[d] = s.shape[d];
    n *= s.shape[d];
    for (int k = 0; k < K; ++k) p.stride[k][d] = s.stride[k][d];
  }
  return n;
}

// Whether operand k of the plan reads element e at offset e (laid out as the output).
template <int K>
bool plain_operand(const Plan<K>& p, int k) {
  int64_t contiguous = 1;
  for (int d = p.ndim - 1; d >= 0; --d) {
    if (p.shape[d] != 1 && p.stride[k][d] != contiguous) return false;
    contiguous *= p.shape[d];
  }
  return true;
}

bool small_index(int64_t n) { return n <= int64_t(UINT32_MAX); }

// ---------------------------------------------------------------- map kernels (separate elementwise ops)

template <int K>
struct MapArgs {
  const float* in[K];
  float* y;
  int64_t n;
  bool vec;  // every pointer 16-byte aligned: float4 accesses
};

template <int K>
struct MapPlanArgs {
  const float* in[K];
  float* y;
  int64_t n;
  bool small;
  bool vec;  // y 16-byte aligned: float4 stores
  Plan<K> plan;
};

template <class F, int K>
__device__ __forceinline__ float apply(const F& f, const Lanes (&v)[K], int l) {
  if constexpr (K == 1) return f(v[0].v[l]);
  else if constexpr (K == 2) return f(v[0].v[l], v[1].v[l]);
  else return f(v[0].v[l], v[1].v[l], v[2].v[l]);
}

// y = f(in...) with every operand laid out as y.
template <class F, int K>
__global__ void __launch_bounds__(kThreads) map_contig_k(F f, MapArgs<K> a) {
  const int64_t groups = (a.n + kLanes - 1) / kLanes;
  for (int64_t g = thread_index(); g < groups; g += grid_threads()) {
    const int64_t e0 = g * kLanes;
    Lanes v[K];
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = load_lanes(a.in[k], e0, a.n, a.vec);
    Lanes r;
#pragma unroll
    for (int l = 0; l < kLanes; ++l) r.v[l] = apply(f, v, l);
    store_lanes(a.y, e0, a.n, a.vec, r);
  }
}

// y = f(in...) over a broadcast plan.
template <class F, int K>
__global__ void __launch_bounds__(kThreads) map_plan_k(F f, const __grid_constant__ MapPlanArgs<K> a) {
  const int64_t groups = (a.n + kLanes - 1) / kLanes;
  for (int64_t g = thread_index(); g < groups; g += grid_threads()) {
    const int64_t e0 = g * kLanes;
    Cursor<K> c;
    cursor_seek(c, a.plan, K, e0, a.small);
    Lanes v[K];
#pragma unroll
    for (int l = 0; l < kLanes; ++l) {
      const bool in = e0 + l < a.n;
#pragma unroll
      for (int k = 0; k < K; ++k) v[k].v[l] = in ? a.in[k][c.off[k]] : 0.f;
      if (l + 1 < kLanes && e0 + l + 1 < a.n) cursor_next(c, a.plan, K);
    }
    Lanes r;
#pragma unroll
    for (int l = 0; l < kLanes; ++l) r.v[l] = apply(f, v, l);
    store_lanes(a.y, e0, a.n, a.vec, r);
  }
}

template <class F, int K>
void launch_contig(ThreadContext& c, const char* name, F f, const float* const (&in)[K], float* y, int64_t n) {
  MapArgs<K> a;
  a.vec = aligned16(y);
  for (int k = 0; k < K; ++k) {
    a.in[k] = in[k];
    a.vec = a.vec && aligned16(in[k]);
  }
  a.y = y;
  a.n = n;
  map_contig_k<F, K><<<grid_for((n + kLanes - 1) / kLanes), kThreads, 0, c.stream>>>(f, a);
  launched(name);
}

// y = f(in...) over a plan: the contiguous kernel when no operand is broadcast or strided.
template <class F, int K>
void launch_plan(ThreadContext& c, const char* name, F f, const float* const (&in)[K], float* y, const Plan<K>& p,
                 int64_t n) {
  bool contiguous = true;
  for (int k = 0; k < K; ++k) contiguous = contiguous && plain_operand(p, k);
  if (contiguous) return launch_contig(c, name, f, in, y, n);
  MapPlanArgs<K> a;
  for (int k = 0; k < K; ++k) a.in[k] = in[k];
  a.y = y;
  a.n = n;
  a.small = small_index(n);
  a.vec = aligned16(y);
  a.plan = p;
  map_plan_k<F, K><<<grid_for((n + kLanes - 1) / kLanes), kThreads, 0, c.stream>>>(f, a);
  launched(name);
}

struct Identity {
  __device__ float operator()(float v) const { return v; }
};

__global__ void __launch_bounds__(kThreads) fill_k(float* y, int64_t n, float v) {
  for (int64_t i = thread_index(); i < n; i += grid_threads()) y[i] = v;
}

void fill(ThreadContext& c, float* y, int64_t n, float v) {
  if (n <= 0) return;
  fill_k<<<grid_for(n), kThreads, 0, c.stream>>>(y, n, v);
  launched("fill");
}

// ---------------------------------------------------------------- the fused elementwise kernel

struct EwArgs {
  LProgram prog;
  const float* in[kMaxArity];  // tensor input t (the program's argument prog.in_arg[t])
  float* y;
  int64_t n;
  bool vec;    // contiguous path: every pointer 16-byte aligned
  bool small;  // general path: 32-bit index arithmetic
  Plan<kMaxArity> plan;  // general path: tensor input t's strides in stride[t]
};

// R: the register file's size (4, 8, or kMaxRegs). Contiguous: every tensor input laid out as y.
template <int R, bool Contiguous>
__global__ void __launch_bounds__(kThreads) elementwise_k(const __grid_constant__ EwArgs a) {
  const int nt = a.prog.ntensors;
  const int64_t groups = (a.n + kLanes - 1) / kLanes;
  for (int64_t g = thread_index(); g < groups; g += grid_threads()) {
    const int64_t e0 = g * kLanes;
    // Every input's lanes are loaded before the first is used: up to 8 loads in flight.
    Lanes v[kMaxArity];
    if constexpr (Contiguous) {
#pragma unroll
      for (int t = 0; t < kMaxArity; ++t)
        if (t < nt) v[t] = load_lanes(a.in[t], e0, a.n, a.vec);
    } else {
      Cursor<kMaxArity> c;
      cursor_seek(c, a.plan, nt, e0, a.small);
#pragma unroll
      for (int l = 0; l < kLanes; ++l) {
        const bool in = e0 + l < a.n;
#pragma unroll
        for (int t = 0; t < kMaxArity; ++t)
          if (t < nt) v[t].v[l] = in ? a.in[t][c.off[t]] : 0.f;
        if (l + 1 < kLanes && e0 + l + 1 < a.n) cursor_next(c, a.plan, nt);
      }
    }
    RegFile<R> regs;
    if constexpr (R <= kSelectRegs) {
      // The selects read every register; give them defined values (free: they are registers).
#pragma unroll
      for (int k = 0; k < R; ++k) regs.r[k] = Lanes{};
    }
#pragma unroll
    for (int t = 0; t < kMaxArity; ++t)
      if (t < nt) regs.set(a.prog.in_reg[t], v[t]);
    const Lanes r = run_program(a.prog, regs);
    store_lanes(a.y, e0, a.n, a.vec, r);
  }
}

// ---------------------------------------------------------------- reductions

struct SumState {
  float s, c;  // Neumaier's compensated sum: the total is s + c
};
struct ArgState {
  float v;
  long long i;
};

__device__ __forceinline__ float shfl_down(float v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
__device__ __forceinline__ double shfl_down(double v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
__device__ __forceinline__ SumState shfl_down(SumState v, int d) { return {shfl_down(v.s, d), shfl_down(v.c, d)}; }
__device__ __forceinline__ ArgState shfl_down(ArgState v, int d) {
  return {shfl_down(v.v, d), __shfl_down_sync(0xffffffffu, v.i, d)};
}
__device__ __forceinline__ float shfl_first(float v) { return __shfl_sync(0xffffffffu, v, 0); }
__device__ __forceinline__ double shfl_first(double v) { return __shfl_sync(0xffffffffu, v, 0); }
__device__ __forceinline__ SumState shfl_first(SumState v) { return {shfl_first(v.s), shfl_first(v.c)}; }
__device__ __forceinline__ ArgState shfl_first(ArgState v) {
  return {shfl_first(v.v), __shfl_sync(0xffffffffu, v.i, 0)};
}

// Combines v over a group of Threads threads (a warp, or the whole block when Threads is the
// block size); every thread of the group gets the same result, combined in a fixed order (so a
// float sum is the same in every thread).
template <int Threads, class T, class Merge>
__device__ __forceinline__ T group_reduce(T v, Merge merge) {
  static_assert(Threads % 32 == 0);
#pragma unroll
  for (int d = 16; d > 0; d >>= 1) v = merge(v, shfl_down(v, d));
  if constexpr (Threads == 32) {
    return shfl_first(v);
  } else {
    __shared__ T part[Threads / 32];
    if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = v;
    __syncthreads();
    T r = part[0];
#pragma unroll
    for (int w = 1; w < Threads / 32; ++w) r = merge(r, part[w]);
    __syncthreads();  // part may be written again by the next call
    return r;
  }
}

// A reduction: its state, the state of nothing, adding element x (at index i along the
// reduced dimension), merging two states, and the float it gives.
struct SumOp {
  using State = SumState;
  __device__ static State identity() { return {0.f, 0.f}; }
  __device__ static void add(State& st, float x, int64_t) {
    const float t = add_rn(st.s, x);
    const float lost = fabsf(st.s) >= fabsf(x) ? add_rn(sub_rn(st.s, t), x) : add_rn(sub_rn(x, t), st.s);
    st.c = add_rn(st.c, lost);
    st.s = t;
  }
  __device__ static void merge(State& a, const State& b) {
    add(a, b.s, 0);
    a.c = add_rn(a.c, b.c);
  }
  // Once the sum is inf or nan, the compensation is meaningless (inf - inf): the sum is s.
  __device__ static float result(const State& st, int64_t n, bool mean) {
    const float v = isfinite(st.s) ? add_rn(st.s, st.c) : st.s;
    return mean ? v / float(n) : v;
  }
};

template <bool Max>
struct ExtremeOp {
  using State = float;
  __device__ static State identity() { return Max ? -INFINITY : INFINITY; }
  __device__ static void add(State& st, float x, int64_t) { st = Max ? max_f(st, x) : min_f(st, x); }
  __device__ static void merge(State& a, const State& b) { add(a, b, 0); }
  __device__ static float result(const State& st, int64_t, bool) { return st; }
};

// The first index of the maximum; a nan counts as the maximum (the first nan wins).
struct ArgmaxOp {
  using State = ArgState;
  __device__ static State identity() { return {-INFINITY, LLONG_MAX}; }
  __device__ static bool better(float v, long long i, const State& st) {
    const bool vn = v != v, sn = st.v != st.v;
    if (vn || sn) return vn && (!sn || i < st.i);
    return v > st.v || (v == st.v && i < st.i);
  }
  __device__ static void add(State& st, float x, int64_t i) {
    if (better(x, i, st)) st = {x, i};
  }
  __device__ static void merge(State& a, const State& b) {
    if (better(b.v, b.i, a)) a = b;
  }
  __device__ static float result(const State& st, int64_t, bool) { return float(st.i); }
};

template <class Op>
struct MergeFn {
  __device__ typename Op::State operator()(typename Op::State a, const typename Op::State& b) const {
    Op::merge(a, b);
    return a;
  }
};

// x viewed as [outer, n] (inner == 1): each row split into `splits` chunks of `chunk`; a group of
// Threads threads reduces one (row, chunk). One split: the result goes to y[row]; more: the state
// to partial[split * outer + row].
template <class Op, int Threads>
__global__ void __launch_bounds__(kThreads) reduce_rows_k(const float* x, float* y, typename Op::State* partial,
                                                          int64_t outer, int64_t n, int64_t splits, int64_t chunk,
                                                          bool mean) {
  constexpr int kGroups = kThreads / Threads;
  const int group = threadIdx.x / Threads, lane = threadIdx.x % Threads;
  const int64_t items = outer * splits;
  // (With Threads == kThreads each block has one group, so the loop is uniform over the block.)
  for (int64_t item = int64_t(blockIdx.x) * kGroups + group; item < items; item += int64_t(gridDim.x) * kGroups) {
    const int64_t split = item / outer, row = item - split * outer;
    const int64_t lo = split * chunk, hi = min(n, lo + chunk);
    const float* xr = x + row * n;
    typename Op::State st = Op::identity();
#pragma unroll 4
    for (int64_t i = lo + lane; i < hi; i += Threads) Op::add(st, xr[i], i);
    st = group_reduce<Threads>(st, MergeFn<Op>{});
    if (lane == 0) {
      if (splits == 1) y[row] = Op::result(st, n, mean);
      else partial[item] = st;
    }
  }
}

// x viewed as [outer, n, inner] with inner > 1: a block reduces a tile of tx columns (tx =
// min(inner, 32)) over one chunk of the n rows, 256 / tx rows at a time: consecutive threads
// read consecutive columns, and when inner < 32 whole consecutive rows. The partial states meet
// in shared memory.
template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_cols_k(const float* x, float* y, typename Op::State* partial,
                                                          int64_t outer, int64_t n, int64_t inner, int64_t splits,
                                                          int64_t chunk, int tx_count, bool mean) {
  using State = typename Op::State;
  __shared__ State acc[kThreads];
  const int ty_count = kThreads / tx_count;
  const int tx = threadIdx.x % tx_count, ty = threadIdx.x / tx_count;
  const int64_t tiles = (inner + tx_count - 1) / tx_count;
  const int64_t outputs = outer * inner;
  const int64_t items = outer * tiles * splits;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t split = item / (outer * tiles), rest = item - split * (outer * tiles);
    const int64_t o = rest / tiles, col = (rest - o * tiles) * tx_count + tx;
    const int64_t lo = split * chunk, hi = min(n, lo + chunk);
    State st = Op::identity();
    if (ty < ty_count && col < inner) {
      const float* xc = x + o * n * inner + col;
      for (int64_t r = lo + ty; r < hi; r += ty_count) Op::add(st, xc[r * inner], r);
    }
    acc[threadIdx.x] = st;
    __syncthreads();
    // A tree over the ty_count rows of partial states, for any count: each round folds the
    // upper entries [h, count) onto [0, count - h), leaving h.
    for (int count = ty_count; count > 1;) {
      const int h = (count + 1) / 2;
      if (ty + h < count) Op::merge(acc[threadIdx.x], acc[threadIdx.x + h * tx_count]);
      __syncthreads();
      count = h;
    }
    if (ty == 0 && col < inner) {
      const int64_t out = o * inner + col;
      if (splits == 1) y[out] = Op::result(acc[tx], n, mean);
      else partial[split * outputs + out] = acc[tx];
    }
    __syncthreads();  // acc is written again by the next item
  }
}

// y[j] = the merge of partial[s * outputs + j] over the splits s.
template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_finish_k(const typename Op::State* partial, float* y,
                                                            int64_t outputs, int64_t splits, int64_t n, bool mean) {
  for (int64_t j = thread_index(); j < outputs; j += grid_threads()) {
    typename Op::State st = partial[j];
    for (int64_t s = 1; s < splits; ++s) Op::merge(st, partial[s * outputs + j]);
    y[j] = Op::result(st, n, mean);
  }
}

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

template <class Op>
void run_reduce(ThreadContext& c, const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool mean) {
  using State = typename Op::State;
  const int64_t outputs = outer * inner;
  // Enough blocks to fill the GPU a few times over before splitting rows across blocks.
  const int64_t target = int64_t(device_info().sm_count) * 4;
  auto div_up = [](int64_t a, int64_t b) { return (a + b - 1) / b; };

  int64_t splits = 1, chunk = n;
  int threads = 32, tx_count = 0;
  if (inner == 1) {
    threads = n <= 1024 ? 32 : kThreads;
    if (threads == kThreads && outer < target) splits = std::min(div_up(target, outer), div_up(n, int64_t(kThreads) * 16));
  } else {
    tx_count = int(std::min<int64_t>(inner, 32));
    const int64_t tiles = outer * div_up(inner, tx_count);
    const int64_t rows_at_once = kThreads / tx_count;
    if (tiles < target) splits = std::min(div_up(target, tiles), div_up(n, rows_at_once * 16));
  }
  if (splits > 1) {
    chunk = div_up(n, splits);
    splits = div_up(n, chunk);
  } else {
    splits = 1;
  }

  // Temporaries: the partial states, and the result when it would overwrite the input.
  const bool in_place = static_cast<const void*>(x) == static_cast<const void*>(y);
  const size_t partial_bytes = splits > 1 ? round_up(size_t(splits * outputs) * sizeof(State), 256) : 0;
  const size_t out_bytes = in_place ? size_t(outputs) * sizeof(float) : 0;
  State* partial = nullptr;
  float* out = y;
  if (partial_bytes + out_bytes) {
    char* tmp = static_cast<char*>(scratch(c, partial_bytes + out_bytes));
    if (!tmp) return;
    if (partial_bytes) partial = reinterpret_cast<State*>(tmp);
    if (out_bytes) out = reinterpret_cast<float*>(tmp + partial_bytes);
  }

  if (inner == 1) {
    const int64_t items = outer * splits;
    if (threads == 32)
      reduce_rows_k<Op, 32><<<grid_for(items, kThreads / 32), kThreads, 0, c.stream>>>(x, out, partial, outer, n,
                                                                                        splits, chunk, mean);
    else
      reduce_rows_k<Op, kThreads><<<grid_for(items, 1), kThreads, 0, c.stream>>>(x, out, partial, outer, n, splits,
                                                                                 chunk, mean);
  } else {
    const int64_t items = outer * div_up(inner, tx_count) * splits;
    reduce_cols_k<Op><<<grid_for(items, 1), kThreads, 0, c.stream>>>(x, out, partial, outer, n, inner, splits, chunk,
                                                                     tx_count, mean);
  }
  if (!launched("reduce")) return;
  if (splits > 1) {
    reduce_finish_k<Op><<<grid_for(outputs), kThreads, 0, c.stream>>>(partial, out, outputs, splits, n, mean);
    if (!launched("reduce")) return;
  }
  if (in_place) {
    const cudaError_t e =
        cudaMemcpyAsync(y, out, size_t(outputs) * sizeof(float), cudaMemcpyDeviceToDevice, c.stream);
    if (e != cudaSuccess) record_cuda_error("reduce", e);
  }
}

// ---------------------------------------------------------------- softmax and layer norm

// The block size for groups of Threads threads: several warps per block, or one large group.
template <int Threads>
constexpr int kBlockFor = Threads < kThreads ? kThreads : Threads;

struct MaxMerge {
  __device__ float operator()(float a, float b) const { return max_f(a, b); }
};
struct AddMerge {
  __device__ float operator()(float a, float b) const { return add_rn(a, b); }
  __device__ double operator()(double a, double b) const { return __dadd_rn(a, b); }
};

// Softmax (or log-softmax) of each row of x [rows, n], a group of Threads threads per row. With
// Cache > 0 (n <= Threads * Cache) each thread keeps its elements in registers between the
// passes; else the passes re-read the row (from L1/L2). The CPU's formulas: m = max (nan
// propagates), e = exp(x - m) (0 below -104), softmax = e * (1 / sum e), log-softmax
// = x - m - log(sum e).
template <int Threads, int Cache>
__global__ void __launch_bounds__(kBlockFor<Threads>) softmax_k(const float* x, float* y, int64_t rows, int64_t n,
                                                                   bool log) {
  constexpr int kGroups = kBlockFor<Threads> / Threads;
  const int group = threadIdx.x / Threads, lane = threadIdx.x % Threads;
  for (int64_t row = int64_t(blockIdx.x) * kGroups + group; row < rows; row += int64_t(gridDim.x) * kGroups) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    float v[Cache > 0 ? Cache : 1];
    float m = -INFINITY;
    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q) {
        const int64_t i = lane + int64_t(q) * Threads;
        v[q] = i < n ? xr[i] : -INFINITY;
        m = max_f(m, v[q]);
      }
    } else {
      for (int64_t i = lane; i < n; i += Threads) m = max_f(m, xr[i]);
    }
    m = group_reduce<Threads>(m, MaxMerge{});

    float s = 0.f;
    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q)
        if (lane + int64_t(q) * Threads < n) s = add_rn(s, exp_shifted(v[q], m));
    } else {
      for (int64_t i = lane; i < n; i += Threads) s = add_rn(s, exp_shifted(xr[i], m));
    }
    s = group_reduce<Threads>(s, AddMerge{});

    // Every element is read (again) and written by the same thread: in place is safe. (`log`
    // is the same for every thread: the branch costs nothing.)
    const float ls = log ? logf(s) : 0.f, inv = log ? 0.f : 1.f / s;
    auto result = [&](float e) { return log ? sub_rn(sub_rn(e, m), ls) : mul_rn(exp_shifted(e, m), inv); };
    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q) {
        const int64_t i = lane + int64_t(q) * Threads;
        if (i < n) yr[i] = result(v[q]);
      }
    } else {
      for (int64_t i = lane; i < n; i += Threads) yr[i] = result(xr[i]);
    }
  }
}

// Layer norm of each row of x [rows, n], organised as softmax_k. Mean and biased variance in
// double, two passes, as the CPU; then the CPU's (torch's) float formula with its two FMAs:
// rstd = 1/sqrt(var + eps), y = fma(fma(x, rstd, -rstd*mean), w, b).
template <int Threads, int Cache>
__global__ void __launch_bounds__(kBlockFor<Threads>) layer_norm_k(const float* x, const float* w, const float* b,
                                                                      float* y, int64_t rows, int64_t n, float eps) {
  constexpr int kGroups = kBlockFor<Threads> / Threads;
  const int group = threadIdx.x / Threads, lane = threadIdx.x % Threads;
  for (int64_t row = int64_t(blockIdx.x) * kGroups + group; row < rows; row += int64_t(gridDim.x) * kGroups) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    float v[Cache > 0 ? Cache : 1];
    double sum = 0.0;
    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q) {
        const int64_t i = lane + int64_t(q) * Threads;
        v[q] = i < n ? xr[i] : 0.f;
        sum = __dadd_rn(sum, double(v[q]));
      }
    } else {
      for (int64_t i = lane; i < n; i += Threads) sum = __dadd_rn(sum, double(xr[i]));
    }
    sum = group_reduce<Threads>(sum, AddMerge{});
    const double mean = sum / double(n);

    double sq = 0.0;
    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q)
        if (lane + int64_t(q) * Threads < n) {
          const double d = __dsub_rn(double(v[q]), mean);
          sq = __dadd_rn(sq, __dmul_rn(d, d));
        }
    } else {
      for (int64_t i = lane; i < n; i += Threads) {
        const double d = __dsub_rn(double(xr[i]), mean);
        sq = __dadd_rn(sq, __dmul_rn(d, d));
      }
    }
    sq = group_reduce<Threads>(sq, AddMerge{});
    const float var = float(sq / double(n));
    const float rstd = 1.f / sqrtf(add_rn(var < 0.f ? 0.f : var, eps));
    const float bias = mul_rn(-rstd, float(mean));

    if constexpr (Cache > 0) {
#pragma unroll
      for (int q = 0; q < Cache; ++q) {
        const int64_t i = lane + int64_t(q) * Threads;
        if (i < n) yr[i] = fmaf(fmaf(v[q], rstd, bias), w ? w[i] : 1.f, b ? b[i] : 0.f);
      }
    } else {
      for (int64_t i = lane; i < n; i += Threads)
        yr[i] = fmaf(fmaf(xr[i], rstd, bias), w ? w[i] : 1.f, b ? b[i] : 0.f);
    }
  }
}

// Runs a row kernel (softmax_k / layer_norm_k) with the group size and register cache that suit
// the row length: a warp per row up to 1024 elements, a block of 256 up to 4096, then a block of
// 512 that re-reads the row.
template <class Launch>
void by_row_length(int64_t rows, int64_t n, Launch&& launch) {
  auto blocks = [&](int groups_per_block) { return grid_for(rows, groups_per_block); };
  if (n <= 128) launch(std::integral_constant<int, 32>{}, std::integral_constant<int, 4>{}, blocks(kThreads / 32));
  else if (n <= 1024) launch(std::integral_constant<int, 32>{}, std::integral_constant<int, 32>{}, blocks(kThreads / 32));
  else if (n <= 4096) launch(std::integral_constant<int, 256>{}, std::integral_constant<int, 16>{}, blocks(1));
  else launch(std::integral_constant<int, 512>{}, std::integral_constant<int, 0>{}, blocks(1));
}

// ---------------------------------------------------------------- permute

// y [batches, rows, cols] from x, where x's element (b, r, c) is at base(b) + r + c * col_stride:
// the last two dimensions are a transpose. Square tiles through shared memory keep both the
// reads and the writes coalesced.
struct TransposeArgs {
  const float* x;
  float* y;
  int64_t rows, cols, col_stride, batches;
  int nouter;                     // the batch dimensions (outermost first)
  int64_t outer_shape[kMaxRank];
  int64_t outer_stride[kMaxRank];
};

constexpr int kTile = 32;

__global__ void __launch_bounds__(kThreads) transpose_k(const __grid_constant__ TransposeArgs a) {
  __shared__ float tile[kTile][kTile + 1];  // +1: the column reads fall in distinct banks
  const int tx = threadIdx.x % kTile, ty = threadIdx.x / kTile;  // 32 x 8
  const int64_t tiles_r = (a.rows + kTile - 1) / kTile, tiles_c = (a.cols + kTile - 1) / kTile;
  const int64_t items = a.batches * tiles_r * tiles_c;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t tc = item % tiles_c, rest = item / tiles_c;
    const int64_t tr = rest % tiles_r, batch = rest / tiles_r;
    int64_t base = 0;
    for (int64_t d = a.nouter - 1, q = batch; d >= 0; --d) {
      base += (q % a.outer_shape[d]) * a.outer_stride[d];
      q /= a.outer_shape[d];
    }
    const int64_t r0 = tr * kTile, c0 = tc * kTile;
    // Read along r (contiguous in x) ...
#pragma unroll
    for (int j = 0; j < kTile; j += kThreads / kTile) {
      const int64_t r = r0 + tx, cc = c0 + ty + j;
      if (r < a.rows && cc < a.cols) tile[ty + j][tx] = a.x[base + r + cc * a.col_stride];
    }
    __syncthreads();
    // ... write along c (contiguous in y).
    float* yb = a.y + batch * a.rows * a.cols;
#pragma unroll
    for (int j = 0; j < kTile; j += kThreads / kTile) {
      const int64_t r = r0 + ty + j, cc = c0 + tx;
      if (r < a.rows && cc < a.cols) yb[r * a.cols + cc] = tile[tx][ty + j];
    }
    __syncthreads();
  }
}

}  // namespace

// ---------------------------------------------------------------- the Kernels entry points

void unary(UnaryKind op, const float* x, float* y, int64_t n) {
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  const float* in[1] = {x};
  with_unary(op, [&](auto f) { launch_contig(*c, "unary", f, in, y, n); });
}

void binary(BinaryKind op, const float* a, const float* b, float* y, const Strided& s) {
  Plan<2> p;
  const int64_t n = make_plan<2>(s, p);
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  const float* in[2] = {a, b};
  with_binary(op, [&](auto f) { launch_plan(*c, "binary", f, in, y, p, n); });
}

void binary_scalar(BinaryKind op, const float* a, float s, float* y, int64_t n, bool scalar_first) {
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  const float* in[1] = {a};
  auto go = [&](auto f) { launch_contig(*c, "binary_scalar", f, in, y, n); };
  PowSpecial special;
  if (op == BinaryKind::Pow && !scalar_first && pow_special(s, &special)) return with_pow_special(special, go);
  if (scalar_first) with_scalar<true>(op, s, go);
  else with_scalar<false>(op, s, go);
}

void where(const float* cond, const float* a, const float* b, float* y, const Strided& s) {
  Plan<3> p;
  const int64_t n = make_plan<3>(s, p);
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  const float* in[3] = {cond, a, b};
  launch_plan(*c, "where", WhereFn{}, in, y, p, n);
}

void clamp(const float* x, float* y, int64_t n, float lo, float hi) {
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  const float* in[1] = {x};
  launch_contig(*c, "clamp", ClampFn{lo, hi}, in, y, n);
}

void elementwise(const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                 float* y, const EwPlan& s) {
  EwArgs a;
  std::memset(&a, 0, sizeof a);
  if (!lower_program(steps, nsteps, arity, inputs, scalars, a.prog)) return;
  Plan<kMaxArity> full;
  const int64_t n = make_plan<kMaxArity>(s, full);
  if (n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;

  // The plan's strides by tensor input; the contiguous path when none is broadcast or strided.
  a.plan.ndim = full.ndim;
  std::memcpy(a.plan.shape, full.shape, sizeof full.shape);
  bool contiguous = true, inputs_aligned = true;
  for (int t = 0; t < a.prog.ntensors; ++t) {
    const int j = a.prog.in_arg[t];
    a.in[t] = inputs[j];
    std::memcpy(a.plan.stride[t], full.stride[j], sizeof full.stride[j]);
    contiguous = contiguous && plain_operand(full, j);
    inputs_aligned = inputs_aligned && aligned16(inputs[j]);
  }
  // float4 accesses: the general path vectorises only the stores.
  a.vec = aligned16(y) && (inputs_aligned || !contiguous);
  a.y = y;
  a.n = n;
  a.small = small_index(n);

  const unsigned grid = grid_for((n + kLanes - 1) / kLanes);
  auto launch = [&](auto regs) {
    constexpr int R = decltype(regs)::value;
    if (contiguous) elementwise_k<R, true><<<grid, kThreads, 0, c->stream>>>(a);
    else elementwise_k<R, false><<<grid, kThreads, 0, c->stream>>>(a);
  };
  if (a.prog.nregs <= 4) launch(std::integral_constant<int, 4>{});
  else if (a.prog.nregs <= kSelectRegs) launch(std::integral_constant<int, kSelectRegs>{});
  else launch(std::integral_constant<int, kMaxRegs>{});
  launched("elementwise");
}

void reduce(ReduceKind op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  if (outer <= 0 || inner <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  if (n <= 0) {  // the empty sum (only Sum and Mean are called with n == 0)
    fill(*c, y, outer * inner, op == ReduceKind::Mean ? NAN : 0.f);
    return;
  }
  switch (op) {
    case ReduceKind::Sum: return run_reduce<SumOp>(*c, x, y, outer, n, inner, false);
    case ReduceKind::Mean: return run_reduce<SumOp>(*c, x, y, outer, n, inner, true);
    case ReduceKind::Max: return run_reduce<ExtremeOp<true>>(*c, x, y, outer, n, inner, false);
    case ReduceKind::Min: return run_reduce<ExtremeOp<false>>(*c, x, y, outer, n, inner, false);
    case ReduceKind::Argmax: return run_reduce<ArgmaxOp>(*c, x, y, outer, n, inner, false);
  }
}

void softmax(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  if (rows <= 0 || n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  by_row_length(rows, n, [&](auto threads, auto cache, unsigned grid) {
    constexpr int T = decltype(threads)::value, C = decltype(cache)::value;
    softmax_k<T, C><<<grid, kBlockFor<T>, 0, c->stream>>>(x, y, rows, n, log);
  });
  launched("softmax");
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
  if (rows <= 0 || n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  by_row_length(rows, n, [&](auto threads, auto cache, unsigned grid) {
    constexpr int T = decltype(threads)::value, C = decltype(cache)::value;
    layer_norm_k<T, C><<<grid, kBlockFor<T>, 0, c->stream>>>(x, w, b, y, rows, n, eps);
  });
  launched("layer_norm");
}

void permute(const float* x, float* y, int ndim, const int64_t* shape, const int64_t* in_stride) {
  int64_t sh[kMaxRank], st[kMaxRank];  // a tensor has at most 8 dimensions
  int nd;
  if (!normalise_permute(ndim, shape, in_stride, sh, st, &nd)) return;
  int64_t total = 1;
  for (int d = 0; d < nd; ++d) total *= sh[d];
  if (nd == 0) {  // one element
    nd = 1;
    sh[0] = 1;
    st[0] = 1;
  }
  ThreadContext* c = context();
  if (!c) return;

  // A plain copy.
  if (nd == 1 && st[0] == 1) {
    if (x == y) return;
    const cudaError_t e = cudaMemcpyAsync(y, x, size_t(total) * sizeof(float), cudaMemcpyDeviceToDevice, c->stream);
    if (e != cudaSuccess) record_cuda_error("permute", e);
    return;
  }
  // A gather onto its own input (which the caller never asks for) goes through a temporary.
  float* out = y;
  if (x == y) {
    out = static_cast<float*>(scratch(*c, size_t(total) * sizeof(float)));
    if (!out) return;
  }

  if (nd >= 2 && st[nd - 1] != 1 && st[nd - 2] == 1) {
    TransposeArgs a;
    std::memset(&a, 0, sizeof a);
    a.x = x;
    a.y = out;
    a.rows = sh[nd - 2];
    a.cols = sh[nd - 1];
    a.col_stride = st[nd - 1];
    a.nouter = nd - 2;
    a.batches = 1;
    for (int d = 0; d < nd - 2; ++d) {
      a.outer_shape[d] = sh[d];
      a.outer_stride[d] = st[d];
      a.batches *= sh[d];
    }
    const int64_t items = a.batches * ((a.rows + kTile - 1) / kTile) * ((a.cols + kTile - 1) / kTile);
    transpose_k<<<grid_for(items, 1), kThreads, 0, c->stream>>>(a);
  } else {
    MapPlanArgs<1> a;
    std::memset(&a, 0, sizeof a);
    a.in[0] = x;
    a.y = out;
    a.n = total;
    a.small = small_index(total);
    a.vec = aligned16(out);
    a.plan.ndim = nd;
    for (int d = 0; d < nd; ++d) {
      a.plan.shape[d] = sh[d];
      a.plan.stride[0][d] = st[d];
    }
    map_plan_k<Identity, 1><<<grid_for((total + kLanes - 1) / kLanes), kThreads, 0, c->stream>>>(Identity{}, a);
  }
  if (!launched("permute")) return;
  if (out != y) {
    const cudaError_t e = cudaMemcpyAsync(y, out, size_t(total) * sizeof(float), cudaMemcpyDeviceToDevice, c->stream);
    if (e != cudaSuccess) record_cuda_error("permute", e);
  }
}

}  // namespace tvm::cuda

#pragma GCC visibility pop
