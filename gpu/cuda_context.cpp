// The CUDA plugin's per-thread state: the error message, the stream, the cuBLAS and cuBLASLt
// handles, the GEMM workspace and the scratch memory, and what a CUDA-graph recording keeps
// (gpu/cuda_device.cu explains the design).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "cuda_internal.h"

#pragma GCC visibility push(hidden)

namespace tvm::cuda {
namespace {

thread_local std::string pending_error;   // the first failure since the last read
thread_local std::string reported_error;  // what take_error() last returned (kept alive for the caller)
thread_local ThreadContext this_thread;

DeviceInfo info;

const char* blas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "unknown cuBLAS status";
}

}  // namespace

// ---------------------------------------------------------------- errors

void record_error(const std::string& message) {
  if (this_thread.recording) this_thread.recording->failed = true;
  if (pending_error.empty()) pending_error = message;
}

void record_cuda_error(const char* what, cudaError_t e) {
  record_error(std::string("CUDA ") + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

void record_blas_error(const char* what, cublasStatus_t s) {
  record_error(std::string("cuBLAS ") + what + ": " + blas_status_name(s));
}

bool launched(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return true;
  record_cuda_error(kernel, e);
  return false;
}

const char* take_error() {
  reported_error.swap(pending_error);
  pending_error.clear();
  return reported_error.c_str();
}

void clear_error() { pending_error.clear(); }

// ---------------------------------------------------------------- device facts

const DeviceInfo& device_info() { return info; }
void set_device_info(const DeviceInfo& i) { info = i; }

// ---------------------------------------------------------------- the thread's context

ThreadContext::~ThreadContext() {
  if (!ready) return;
  if (Recording* r = std::exchange(recording, nullptr)) {  // the thread exits while recording
    cudaGraph_t g = nullptr;
    if (cudaStreamEndCapture(stream, &g) == cudaSuccess && g) r->graph = g;
    destroy_recording(r);
  }
  // Work still queued may use the blocks given back below: let it finish, so that they can go
  // back to the pool as free at once. Errors are ignored (the process may be exiting).
  cudaStreamSynchronize(stream);
  destroy_lt_plans(lt_plans);
  lt_plans = nullptr;
  if (lt) cublasLtDestroy(lt);
  if (blas) cublasDestroy(blas);
  workspace_block.reset();  // back to the pool unless a recording still holds it
  workspace = nullptr;
  if (scratch) pool_free_synchronized(scratch);
  cudaStreamDestroy(stream);
  cudaGetLastError();
  ready = false;
}

ThreadContext* context() {
  ThreadContext& c = this_thread;
  if (c.ready) return &c;
  // Each thread starts on device 0 of the runtime; the plugin uses the one it opened.
  cudaError_t e = cudaSetDevice(info.ordinal);
  if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) {
    cudaGetLastError();
    record_cuda_error("cannot create this thread's stream", e);
    c.stream = nullptr;
    return nullptr;
  }
  c.ready = true;
  return &c;
}

ThreadContext* existing_context() { return this_thread.ready ? &this_thread : nullptr; }

cublasHandle_t blas_handle(ThreadContext& c) {
  if (c.blas) return c.blas;
  cublasHandle_t h = nullptr;
  cublasStatus_t s = cublasCreate(&h);
  if (s == CUBLAS_STATUS_ALLOC_FAILED) {  // the pool's cache may hold the memory it needs
    pool_release_cached();
    s = cublasCreate(&h);
  }
  if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(h, c.stream);
  // FP32 GEMMs in FP32 unless TF32 was asked for (CUBLAS_DEFAULT_MATH never uses TF32 on its own).
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasSetMathMode(h, info.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
  if (s != CUBLAS_STATUS_SUCCESS) {
    if (h) cublasDestroy(h);
    cudaGetLastError();
    record_blas_error("cannot create a handle", s);
    return nullptr;
  }
  c.blas = h;
  // Our workspace rather than cuBLAS's own (cublasSetStream would reset it: it is set after).
  // Without one (out of memory) cuBLAS still works, outside recordings (capture_begin insists).
  ensure_workspace(c);
  return c.blas;
}

cublasLtHandle_t lt_handle(ThreadContext& c) {
  if (c.lt) return c.lt;
  cublasLtHandle_t h = nullptr;
  // cuBLASLt is optional (cuBLAS stands in), so its failure is no error: recording one here
  // and clearing it in the caller would also clear a failure recorded before.
  if (cublasLtCreate(&h) != CUBLAS_STATUS_SUCCESS) {
    cudaGetLastError();
    return nullptr;
  }
  c.lt = h;
  // The workspace lets cuBLASLt pick split-K and stream-K algorithms; without one (out of
  // memory) it still runs, on the algorithms that need none.
  ensure_workspace(c);
  return c.lt;
}

bool ensure_workspace(ThreadContext& c) {
  if (!c.workspace) {
    void* ws = pool_alloc(kWorkspaceBytes);
    if (!ws) return false;
    try {
      // The last owner (the context, or a recording made on this thread) has waited for its own
      // work on the block when it lets go.
      c.workspace_block = std::shared_ptr<void>(ws, [](void* p) { pool_free_synchronized(p); });
    } catch (const std::bad_alloc&) {  // the deleter has freed ws
      return false;
    }
    c.workspace = ws;
    c.workspace_bytes = kWorkspaceBytes;
  }
  if (c.blas && !c.blas_workspace) {
    const cublasStatus_t s = cublasSetWorkspace(c.blas, c.workspace, c.workspace_bytes);
    if (s != CUBLAS_STATUS_SUCCESS) {
      cudaGetLastError();
      return false;
    }
    c.blas_workspace = true;
  }
  return true;
}

void* scratch(ThreadContext& c, size_t bytes) {
  if (Recording* r = c.recording) {
    // The recording's own blocks: its replays may run on another thread, concurrently with this
    // one's work, and after the context is gone. A block outgrown stays reserved for the
    // recording, since the kernels recorded before use it.
    if (bytes <= r->scratch_bytes) return r->scratch;
    size_t want = r->scratch_bytes ? r->scratch_bytes : size_t(1) << 16;
    while (want < bytes) want *= 2;
    void* p = pool_alloc(want);
    if (!p) {
      record_error("CUDA: out of device memory for " + std::to_string(bytes) + " bytes of temporaries");
      return nullptr;
    }
    pool_reserve(*r, p);
    r->scratch = p;
    r->scratch_bytes = want;
    return p;
  }
  if (bytes <= c.scratch_bytes) return c.scratch;
  // Grow by doubling. The old block may still be read by queued work of this stream: the pool
  // orders its reuse after that work.
  size_t want = c.scratch_bytes ? c.scratch_bytes : size_t(1) << 16;
  while (want < bytes) want *= 2;
  void* p = pool_alloc(want);
  if (!p) {
    record_error("CUDA: out of device memory for " + std::to_string(bytes) + " bytes of temporaries");
    return nullptr;
  }
  if (c.scratch) pool_free(c.scratch);
  c.scratch = p;
  c.scratch_bytes = want;
  return p;
}

// ---------------------------------------------------------------- recordings

void destroy_recording(Recording* r) {
  if (!r) return;
  if (r->exec) cudaGraphExecDestroy(r->exec);
  if (r->graph) cudaGraphDestroy(r->graph);
  if (r->done) cudaEventDestroy(r->done);
  cudaGetLastError();
  pool_release_reserved(*r);
  delete r;  // and with it the recording's share of the workspace
}

}  // namespace tvm::cuda

#pragma GCC visibility pop
