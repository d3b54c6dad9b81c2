// Matrix products on the CUDA device: gemm through cuBLAS, linear through one cuBLASLt matmul
// with the bias and activation fused into its epilogue (gpu/cuda_device.cu explains the design).
//
// Row-major operands. cuBLAS is column-major; a row-major [r, c] matrix with row stride ld is the
// column-major [c, r] matrix with the same ld, its transpose. So C = op(A)·op(B) is computed as
// Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap places, the transposition flags stay with their own
// operand, and m and n swap.
//
// Precision. FP32 inputs, FP32 accumulation (CUBLAS_DEFAULT_MATH, CUBLAS_COMPUTE_32F), as the
// CPU's OpenBLAS; TF32 tensor cores only when $TVM_CUDA_TF32=1 (~10 bits of mantissa in the
// products: results no longer match the CPU within float32 tolerance).
//
// Epilogues. cuBLASLt applies bias, relu and bias+relu itself (its relu is max(x, 0), which
// may make a NaN 0 where the CPU's keeps it: documented in tvm-run(1), kept for the one kernel). Its GELU epilogue is the tanh
// approximation, while the CPU (and torch's default) is the erf form (they differ by up to
// ~1e-3), so gelu, and sigmoid and tanh which cuBLASLt lacks, run as a plain matmul followed by
// one fused pass y = act(y + b) (cuda_math.cuh's functions, as the CPU's epilogue).
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "cuda_internal.h"
#include "cuda_math.cuh"

#pragma GCC visibility push(hidden)

namespace tvm::cuda {

// ---------------------------------------------------------------- cuBLASLt plans

namespace {

// What a matmul plan depends on: the shape, the epilogue, the operands' alignment (cuBLASLt's
// fastest kernels need 16-byte aligned operands; a pointer into the middle of a tensor may not
// be) and the math mode.
struct LtKey {
  int64_t m, n, k;
  int epilogue;
  uint8_t align_x, align_w, align_y;  // log2 of each pointer's alignment, at most 8 (256 bytes)
  bool tf32;
  bool operator==(const LtKey& o) const {
    return m == o.m && n == o.n && k == o.k && epilogue == o.epilogue && align_x == o.align_x &&
           align_w == o.align_w && align_y == o.align_y && tf32 == o.tf32;
  }
};
struct LtKeyHash {
  size_t operator()(const LtKey& key) const {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(uint64_t(key.m));
    mix(uint64_t(key.n));
    mix(uint64_t(key.k));
    mix(uint64_t(key.epilogue) | uint64_t(key.align_x) << 8 | uint64_t(key.align_w) << 16 |
        uint64_t(key.align_y) << 24 | uint64_t(key.tf32) << 32);
    return size_t(h);
  }
};

struct LtPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t w = nullptr, x = nullptr, y = nullptr;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  bool usable = false;  // a heuristic found an algorithm, and it has not failed
};

void destroy_plan(LtPlan& p) {
  if (p.op) cublasLtMatmulDescDestroy(p.op);
  if (p.w) cublasLtMatrixLayoutDestroy(p.w);
  if (p.x) cublasLtMatrixLayoutDestroy(p.x);
  if (p.y) cublasLtMatrixLayoutDestroy(p.y);
  p = LtPlan{};
}

constexpr size_t kMaxPlans = 256;  // per thread; past that the cache starts over

uint8_t align_log2(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a == 0) return 8;
  const int tz = __builtin_ctzll(uint64_t(a));
  return uint8_t(tz < 8 ? tz : 8);
}

}  // namespace

struct LtPlanCache {
  std::unordered_map<LtKey, LtPlan, LtKeyHash> plans;
};

void destroy_lt_plans(LtPlanCache* cache) {
  if (!cache) return;
  for (auto& kv : cache->plans) destroy_plan(kv.second);
  delete cache;
}

namespace {

// Builds the plan for y[m, n] = epilogue(x[m, k]·w[n, k]ᵀ): in column-major terms
// yᵀ[n, m] = wᵀ·xᵀ, w as the transposed A ([k, n] column-major), x as B ([k, m]).
LtPlan make_plan(ThreadContext& c, const LtKey& key) {
  LtPlan p;
  const cublasComputeType_t compute = key.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const cublasOperation_t trans_w = CUBLAS_OP_T, trans_x = CUBLAS_OP_N;
  const cublasLtEpilogue_t epilogue = cublasLtEpilogue_t(key.epilogue);
  bool ok = cublasLtMatmulDescCreate(&p.op, compute, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &trans_w, sizeof trans_w) ==
                 CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &trans_x, sizeof trans_x) ==
                 CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue) ==
                 CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatrixLayoutCreate(&p.w, CUDA_R_32F, uint64_t(key.k), uint64_t(key.n), key.k) ==
                 CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatrixLayoutCreate(&p.x, CUDA_R_32F, uint64_t(key.k), uint64_t(key.m), key.k) ==
                 CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatrixLayoutCreate(&p.y, CUDA_R_32F, uint64_t(key.n), uint64_t(key.m), key.n) ==
                 CUBLAS_STATUS_SUCCESS;

  cublasLtMatmulPreference_t pref = nullptr;
  ok = ok && cublasLtMatmulPreferenceCreate(&pref) == CUBLAS_STATUS_SUCCESS;
  const uint64_t workspace = c.workspace_bytes;
  ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                                  sizeof workspace) == CUBLAS_STATUS_SUCCESS;
  const uint32_t align_w = 1u << key.align_w, align_x = 1u << key.align_x, align_y = 1u << key.align_y;
  ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_w,
                                                  sizeof align_w) == CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_x,
                                                  sizeof align_x) == CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_y,
                                                  sizeof align_y) == CUBLAS_STATUS_SUCCESS;
  ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_y,
                                                  sizeof align_y) == CUBLAS_STATUS_SUCCESS;
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  ok = ok && cublasLtMatmulAlgoGetHeuristic(c.lt, p.op, p.w, p.x, p.y, p.y, pref, 1, &result, &found) ==
                 CUBLAS_STATUS_SUCCESS;
  if (pref) cublasLtMatmulPreferenceDestroy(pref);
  if (ok && found > 0 && result.state == CUBLAS_STATUS_SUCCESS) {
    p.algo = result.algo;
    p.workspace = result.workspaceSize;
    p.usable = true;
  }
  cudaGetLastError();  // a failed query leaves nothing for the next launch check to misreport
  return p;
}

// y = epilogue(x·wᵀ [+ b]) as one cuBLASLt matmul. False when cuBLASLt cannot do it (no handle,
// no algorithm for this shape and alignment, or the call failed): the caller falls back to cuBLAS.
bool lt_linear(ThreadContext& c, const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n,
               int64_t k, cublasLtEpilogue_t epilogue) {
  if (!c.lt) {
    // Not while recording: creating a handle is no part of a recording (capture_begin made
    // one if it could).
    if (c.recording || !lt_handle(c)) return false;  // the cuBLAS fallback runs instead
  }
  if (!c.lt_plans) c.lt_plans = new LtPlanCache;
  const LtKey key{m, n, k, int(epilogue), align_log2(x), align_log2(w), align_log2(y), device_info().tf32};
  auto& plans = c.lt_plans->plans;
  auto it = plans.find(key);
  if (it == plans.end()) {
    if (plans.size() >= kMaxPlans) {
      for (auto& kv : plans) destroy_plan(kv.second);
      plans.clear();
    }
    it = plans.emplace(key, make_plan(c, key)).first;
  }
  LtPlan& p = it->second;
  if (!p.usable) return false;
  if (b && cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b) !=
               CUBLAS_STATUS_SUCCESS)
    return false;
  const float alpha = 1.f, beta = 0.f;
  const cublasStatus_t s = cublasLtMatmul(c.lt, p.op, &alpha, w, p.w, x, p.x, &beta, y, p.y, y, p.y, &p.algo,
                                          c.workspace, p.workspace, c.stream);
  if (s != CUBLAS_STATUS_SUCCESS) {
    cudaGetLastError();
    p.usable = false;  // not again for this key: straight to the fallback
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- small kernels

// C = beta·C for a product with k == 0 (an empty sum); beta == 0 writes 0 without reading C.
__global__ void __launch_bounds__(kThreads) scale_k(float* c, int64_t m, int64_t n, int64_t ldc, int64_t batch,
                                                    int64_t stride_c, float beta) {
  const int64_t total = batch * m * n;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = e % n, rest = e / n, i = rest % m, p = rest / m;
    float& v = c[p * stride_c + i * ldc + j];
    v = beta == 0.f ? 0.f : mul_rn(beta, v);
  }
}

// The GEMM epilogue as one pass: y[r, j] = act(y[r, j] + b[j]) (b may be null); with from_zero
// (k == 0) y[r, j] = act(b[j]) (or act(0)) without reading y. Threads take 4 consecutive columns
// of a row (float4 when `vec`); blockIdx.y walks the rows.
template <Activation A>
__global__ void __launch_bounds__(kThreads) bias_act_k(float* y, const float* b, int64_t m, int64_t n, bool from_zero,
                                                       bool vec) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t r = blockIdx.y; r < m; r += gridDim.y) {
    float* yr = y + r * n;
    for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x) {
      const int64_t j0 = g * 4;
      float v[4], bias[4] = {0.f, 0.f, 0.f, 0.f};
      if (vec) {
        if (!from_zero) {
          const float4 q = *reinterpret_cast<const float4*>(yr + j0);
          v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
        }
        if (b) {
          const float4 q = *reinterpret_cast<const float4*>(b + j0);
          bias[0] = q.x, bias[1] = q.y, bias[2] = q.z, bias[3] = q.w;
        }
      } else {
#pragma unroll
        for (int l = 0; l < 4; ++l) {
          const bool in = j0 + l < n;
          v[l] = in && !from_zero ? yr[j0 + l] : 0.f;
          bias[l] = in && b ? b[j0 + l] : 0.f;
        }
      }
#pragma unroll
      for (int l = 0; l < 4; ++l) {
        const float t = from_zero ? bias[l] : (b ? add_rn(v[l], bias[l]) : v[l]);
        v[l] = activation_f(A, t);
      }
      if (vec) {
        *reinterpret_cast<float4*>(yr + j0) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int l = 0; l < 4; ++l)
          if (j0 + l < n) yr[j0 + l] = v[l];
      }
    }
  }
}

void epilogue(ThreadContext& c, Activation act, const float* b, float* y, int64_t m, int64_t n, bool from_zero) {
  const bool vec = n % 4 == 0 && aligned16(y) && (!b || aligned16(b));
  const int64_t groups = (n + 3) / 4;
  const unsigned gx = unsigned(std::min<int64_t>((groups + kThreads - 1) / kThreads, 1024));
  const unsigned gy = unsigned(std::min<int64_t>(m, std::max<int64_t>(1, int64_t(device_info().sm_count) * 32 / gx)));
  const dim3 grid(gx, std::min(gy, 65535u));
  switch (act) {
    case Activation::None: bias_act_k<Activation::None><<<grid, kThreads, 0, c.stream>>>(y, b, m, n, from_zero, vec); break;
    case Activation::Relu: bias_act_k<Activation::Relu><<<grid, kThreads, 0, c.stream>>>(y, b, m, n, from_zero, vec); break;
    case Activation::Sigmoid:
      bias_act_k<Activation::Sigmoid><<<grid, kThreads, 0, c.stream>>>(y, b, m, n, from_zero, vec);
      break;
    case Activation::Tanh: bias_act_k<Activation::Tanh><<<grid, kThreads, 0, c.stream>>>(y, b, m, n, from_zero, vec); break;
    case Activation::Gelu: bias_act_k<Activation::Gelu><<<grid, kThreads, 0, c.stream>>>(y, b, m, n, from_zero, vec); break;
  }
  launched("linear epilogue");
}

// A leading dimension cuBLAS accepts: when the stored matrix has one column its ld is never
// used, but cuBLAS still wants ld >= rows.
int64_t usable_ld(int64_t ld, int64_t rows, int64_t cols) {
  const int64_t need = rows > 1 ? rows : 1;
  return cols <= 1 && ld < need ? need : ld;
}

// One cuBLAS call for the row-major product (see the file's header), retried once after the
// pool's cache is released when cuBLAS runs out of memory. False (error recorded) on failure.
bool sgemm_row_major(ThreadContext& c, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                     int64_t lda, const float* b, int64_t ldb, float beta, float* cc, int64_t ldc, int64_t batch,
                     int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  cublasHandle_t h = blas_handle(c);
  if (!h) return false;
  // Column-major: Cᵀ[n, m] = op(B)ᵀ[n, k] · op(A)ᵀ[k, m].
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int64_t ld_b = usable_ld(ldb, trans_b ? k : n, trans_b ? n : k);
  const int64_t ld_a = usable_ld(lda, trans_a ? m : k, trans_a ? k : m);
  const int64_t ld_c = usable_ld(ldc, n, m);
  const float alpha = 1.f;
  cublasStatus_t s = CUBLAS_STATUS_SUCCESS;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (batch == 1)
      s = cublasSgemm_v2_64(h, op_b, op_a, n, m, k, &alpha, b, ld_b, a, ld_a, &beta, cc, ld_c);
    else
      s = cublasSgemmStridedBatched_64(h, op_b, op_a, n, m, k, &alpha, b, ld_b, stride_b, a, ld_a, stride_a, &beta,
                                       cc, ld_c, stride_c, batch);
    if (s != CUBLAS_STATUS_ALLOC_FAILED) break;
    pool_release_cached();
  }
  if (s != CUBLAS_STATUS_SUCCESS) {
    cudaGetLastError();
    record_blas_error(batch == 1 ? "sgemm" : "sgemm (batched)", s);
    return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- the Kernels entry points

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a, int64_t stride_b,
          int64_t stride_c) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  ThreadContext* ctx = context();
  if (!ctx) return;
  if (k <= 0) {  // an empty sum: C = beta·C
    if (beta == 1.f) return;
    scale_k<<<grid_for(batch * m * n), kThreads, 0, ctx->stream>>>(c, m, n, ldc, batch, stride_c, beta);
    launched("gemm");
    return;
  }
  sgemm_row_major(*ctx, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, batch, stride_a, stride_b, stride_c);
}

void linear(const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n, int64_t k,
            Activation act) {
  if (m <= 0 || n <= 0) return;
  ThreadContext* c = context();
  if (!c) return;
  if (k <= 0) {  // x·wᵀ is all zeros: y = act(b), or act(0)
    epilogue(*c, act, b, y, m, n, true);
    return;
  }
  // The epilogue cuBLASLt applies, and whether an activation (with the bias) is left for ours.
  cublasLtEpilogue_t lt_epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  bool ours = false;
  switch (act) {
    case Activation::None: lt_epilogue = b ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT; break;
    case Activation::Relu: lt_epilogue = b ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU; break;
    case Activation::Sigmoid:
    case Activation::Tanh:
    case Activation::Gelu: ours = true; break;
  }
  // The alignment preferences cover A, B, C and D but not the bias: cuBLASLt may pick a kernel
  // that reads the bias 16 bytes at a time, and an odd address would then fault (a sticky
  // error that ends the context). Pool blocks are 256-byte aligned; a bias that is not gets
  // our pass.
  if (b && (reinterpret_cast<uintptr_t>(b) & 15) != 0) {
    ours = true;
    lt_epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  }
  if (lt_linear(*c, x, w, ours ? nullptr : b, y, m, n, k, lt_epilogue)) {
    if (ours) epilogue(*c, act, b, y, m, n, false);
    return;
  }
  // Fallback: cuBLAS's SGEMM, y = x·wᵀ, then the bias and activation in one pass.
  if (!sgemm_row_major(*c, false, true, m, n, k, x, k, w, k, 0.f, y, n, 1, 0, 0, 0)) return;
  if (b || act != Activation::None) epilogue(*c, act, b, y, m, n, false);
}

}  // namespace tvm::cuda

#pragma GCC visibility pop
