// What the CUDA plugin's translation units share (gpu/cuda_device.cu explains the design):
// error recording, the per-thread execution context (stream, cuBLAS handles, scratch memory),
// the caching allocator, CUDA-graph recordings, launch sizing, and the kernel entry points that
// cuda_device.cu puts into the Kernels table.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device.h"

// Everything the plugin declares is internal to libtvm_cuda.so: only the extern "C" entry
// points (cuda_device.cu) are exported.
#pragma GCC visibility push(hidden)

namespace tvm::cuda {

// ---------------------------------------------------------------- errors (cuda_context.cpp)
// The Kernels functions return void, so a failure is recorded in a thread-local message that
// the runtime reads (and clears) through Device::last_error (or tvm_cuda_last_error()). The
// first failure since the last read is kept: later ones are usually its consequences. A failure
// recorded while the thread records a CUDA graph also fails the recording (Recording::failed),
// even when the message is read before capture_end.

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

struct Recording;

// Device memory in size classes, cached on free. Thread-safe. Null when cudaMalloc fails even
// after the cache is released. A block freed by one thread is reused by another only after the
// work the freeing thread had queued when it freed it. While the calling thread records a CUDA
// graph, pool_alloc hands out only blocks no queued work uses (or new ones), and pool_free
// reserves the block for the recording instead (pool_reserve).
void* pool_alloc(size_t bytes);
void pool_free(void* p);
// Frees a block without an ordering event: the caller has synchronized its work.
void pool_free_synchronized(void* p);
// Returns every cached block to the driver. Does nothing while this thread records a CUDA graph
// (cudaFree synchronizes, which a recording stream cannot).
void pool_release_cached();
// Moves a live block into r.owned: it is not free until pool_release_reserved(r).
void pool_reserve(Recording& r, void* p);
// Puts r's reserved blocks back in the pool as free at once: r's replays are done, or it never
// ran.
void pool_release_reserved(Recording& r);

// ---------------------------------------------------------------- per-thread context (cuda_context.cpp)

struct LtPlanCache;  // cuda_blas.cu

struct ThreadContext {
  cudaStream_t stream = nullptr;  // non-blocking, this thread's
  cublasHandle_t blas = nullptr;  // bound to stream (created on first GEMM)
  cublasLtHandle_t lt = nullptr;  // created on first linear
  // The GEMM workspace, kWorkspaceBytes from the pool: cuBLASLt's (passed to every matmul) and
  // cuBLAS's (cublasSetWorkspace, so that cuBLAS never allocates, which a recording forbids).
  // Both libraries use it in stream order. Shared with the recordings made on this thread: the
  // block goes back to the pool when the context and every such recording are gone, each having
  // waited for its own work first.
  std::shared_ptr<void> workspace_block;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  bool blas_workspace = false;  // cublasSetWorkspace(blas, workspace) done
  LtPlanCache* lt_plans = nullptr;
  void* scratch = nullptr;  // per-call temporaries, reused in stream order (never in a recording)
  size_t scratch_bytes = 0;
  Recording* recording = nullptr;  // the CUDA graph this thread is recording, if any
  bool ready = false;

  ~ThreadContext();
};

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // cuBLAS's recommendation for Hopper (4 MiB before)

// This thread's context, its stream created on first use; null (error recorded) when the
// stream cannot be created.
ThreadContext* context();
// This thread's context if it was created already, else null (creates nothing).
ThreadContext* existing_context();
// The cuBLAS / cuBLASLt handle of the context, created on first use; null (error recorded)
// on failure.
cublasHandle_t blas_handle(ThreadContext& c);
cublasLtHandle_t lt_handle(ThreadContext& c);
// The context's GEMM workspace, allocated on first use and set as the cuBLAS handle's workspace
// when there is one; false when out of memory or cuBLAS refuses it (cuBLAS then uses its own,
// cuBLASLt none).
bool ensure_workspace(ThreadContext& c);
// At least `bytes` of device memory for temporaries of the current call, valid until the next
// call on this thread (work on the stream is ordered, so reuse needs no synchronization);
// null (error recorded) when out of memory. While recording, the recording's own scratch.
void* scratch(ThreadContext& c, size_t bytes);

// Destroys the cuBLASLt plans of a context (cuda_blas.cu).
void destroy_lt_plans(LtPlanCache* cache);

// ---------------------------------------------------------------- CUDA graphs (cuda_context.cpp)

// One recording (Device::capture_begin .. capture_end), then the graph the runtime replays.
// Everything its kernels address outside the runtime's tensors is kept here, so that the
// recording stays valid whatever the thread does afterwards, and after the thread has exited.
struct Recording {
  std::vector<void*> owned;  // pool blocks reserved for it (pool_reserve): memory freed while
                             // recording and its scratch blocks
  std::shared_ptr<void> workspace;  // the recording thread's GEMM workspace
  void* scratch = nullptr;          // the current scratch block (also in owned)
  size_t scratch_bytes = 0;
  bool failed = false;  // an error was recorded while recording: capture_end gives null
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  cudaEvent_t done = nullptr;  // recorded after each launch: the last one ends after all others
  std::mutex launch_mu;        // a launch and its `done` record are one step
};

// Frees a recording and everything it holds. Its replays are finished (or it never ran).
void destroy_recording(Recording* r);

// Lets this thread make calls that stream capture otherwise refuses on a recording thread
// (cudaMalloc, querying or waiting for work outside the recording), when `active`. Those calls
// are not part of the recording and never involve the recording stream (cudaThreadExchange-
// StreamCaptureMode, used push-pop as its documentation asks).
class RelaxedCapture {
 public:
  explicit RelaxedCapture(bool active) : active_(active) {
    if (active_) cudaThreadExchangeStreamCaptureMode(&mode_);
  }
  ~RelaxedCapture() {
    if (active_) cudaThreadExchangeStreamCaptureMode(&mode_);
  }
  RelaxedCapture(const RelaxedCapture&) = delete;
  RelaxedCapture& operator=(const RelaxedCapture&) = delete;

 private:
  bool active_;
  cudaStreamCaptureMode mode_ = cudaStreamCaptureModeRelaxed;
};

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
