// What the CUDA plugin's translation units share (gpu/cuda_device.cu explains the design):
// error recording, the per-thread execution context (stream, cuBLAS handles, scratch memory),
// the caching allocator, launch sizing, and the kernel entry points that cuda_device.cu puts
// into the Kernels table.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "device.h"

// Everything the plugin declares is internal to libtvm_cuda.so: only the three extern "C"
// entry points (cuda_device.cu) are exported.
#pragma GCC visibility push(hidden)

namespace tvm::cuda {

// ---------------------------------------------------------------- errors (cuda_context.cpp)
// The Kernels functions return void, so a failure is recorded in a thread-local message that
// the runtime reads (and clears) through tvm_cuda_last_error(). The first failure since the
// last read is kept: later ones are usually its consequences.

void record_error(const std::string& message);
void record_cuda_error(const char* what, cudaError_t e);
void record_blas_error(const char* what, cublasStatus_t s);
// After a kernel launch: true when it was launched, else the error is recorded.
bool launched(const char* kernel);
// The pending message (moved out, so the next call returns "" unless something failed since).
const char* take_error();
void clear_error();

// ---------------------------------------------------------------- device facts (cuda_context.cpp)

struct DeviceInfo {
  int ordinal = 0;
  int sm_count = 1;
  bool tf32 = false;  // $TVM_CUDA_TF32=1: GEMMs may use TF32 tensor cores
};
const DeviceInfo& device_info();
void set_device_info(const DeviceInfo& info);  // once, by tvm_cuda_plugin_open

// ---------------------------------------------------------------- the caching allocator (cuda_pool.cpp)

// Device memory in size classes, cached on free. Thread-safe. Null when cudaMalloc fails even
// after the cache is released. A block freed by one thread is reused by another only after the
// work the freeing thread had queued when it freed it.
void* pool_alloc(size_t bytes);
void pool_free(void* p);
// Frees a block without an ordering event: the caller has synchronized its work.
void pool_free_synchronized(void* p);
// Returns every cached block to the driver.
void pool_release_cached();

// ---------------------------------------------------------------- per-thread context (cuda_context.cpp)

struct LtPlanCache;  // cuda_blas.cu

struct ThreadContext {
  cudaStream_t stream = nullptr;  // non-blocking, this thread's
  cublasHandle_t blas = nullptr;  // bound to stream (created on first GEMM)
  cublasLtHandle_t lt = nullptr;  // created on first linear
  void* lt_workspace = nullptr;   // cuBLASLt's workspace, kLtWorkspaceBytes from the pool
  size_t lt_workspace_bytes = 0;
  LtPlanCache* lt_plans = nullptr;
  void* scratch = nullptr;  // per-call temporaries, reused in stream order
  size_t scratch_bytes = 0;
  bool ready = false;

  ~ThreadContext();
};

constexpr size_t kLtWorkspaceBytes = size_t(32) << 20;

// This thread's context, its stream created on first use; null (error recorded) when the
// stream cannot be created.
ThreadContext* context();
// This thread's context if it was created already, else null (creates nothing).
ThreadContext* existing_context();
// The cuBLAS / cuBLASLt handle of the context, created on first use; null (error recorded)
// on failure.
cublasHandle_t blas_handle(ThreadContext& c);
cublasLtHandle_t lt_handle(ThreadContext& c);
// At least `bytes` of device memory for temporaries of the current call, valid until the next
// call on this thread (work on the stream is ordered, so reuse needs no synchronization);
// null (error recorded) when out of memory.
void* scratch(ThreadContext& c, size_t bytes);

// Destroys the cuBLASLt plans of a context (cuda_blas.cu).
void destroy_lt_plans(LtPlanCache* cache);

// ---------------------------------------------------------------- launch sizing

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over `work` items of `per_block` each: enough to fill the GPU
// several times over, no more.
inline unsigned grid_for(int64_t work, int64_t per_block = kThreads) {
  const int64_t want = (work + per_block - 1) / per_block;
  const int64_t cap = int64_t(device_info().sm_count) * 32;
  return unsigned(want < 1 ? 1 : (want < cap ? want : cap));
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// ---------------------------------------------------------------- kernels (the Kernels table)

// cuda_kernels.cu
void unary(UnaryKind op, const float* x, float* y, int64_t n);
void binary(BinaryKind op, const float* a, const float* b, float* y, const Strided& s);
void binary_scalar(BinaryKind op, const float* a, float s, float* y, int64_t n, bool scalar_first);
void where(const float* c, const float* a, const float* b, float* y, const Strided& s);
void clamp(const float* x, float* y, int64_t n, float lo, float hi);
void reduce(ReduceKind op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void softmax(const float* x, float* y, int64_t rows, int64_t n, bool log);
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps);
void elementwise(const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                 float* y, const EwPlan& s);
void permute(const float* x, float* y, int ndim, const int64_t* shape, const int64_t* in_stride);

// cuda_blas.cu
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a,
          int64_t stride_b, int64_t stride_c);
void linear(const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n, int64_t k,
            Activation act);

}  // namespace tvm::cuda

#pragma GCC visibility pop
