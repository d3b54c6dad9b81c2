// The CUDA device plugin (libtvm_cuda.so): tvm::Device and tvm::Kernels (vm/device.h) on an
// NVIDIA GPU, with the CPU device's semantics (vm/cpu_device.cpp, vm/cpu_fused.cpp).
//
// The runtime does not link this library: vm/cuda_plugin.cpp opens it with dlopen and calls
//   tvm_cuda_plugin_abi()                     kDeviceAbi: the layout of the tables it was built with
//   tvm_cuda_plugin_open(&device, why, len)  0, or 1 no usable driver, 2 no GPU, 3 other error
//   tvm_cuda_plugin_version()                 a one-line description of the build
//   tvm_cuda_last_error()                     the last kernel failure on this thread, cleared
// so a machine without CUDA never loads it, and one with a driver but no GPU gets a one-line
// answer rather than a crash. Only vm/device.h and vm/fused.h are shared with the runtime (the
// structs' layout); nothing of libtvmrt is called. cudart is linked statically, cuBLAS and
// cuBLASLt dynamically. Only these four C functions are exported.
//
// Files:
//   cuda_device.cu    this file: the tables, the entry points, memory copies, recording, prepare
//   cuda_pool.cpp     the caching allocator
//   cuda_context.cpp  per-thread stream, handles and workspace, error recording, recordings
//   cuda_kernels.cu   elementwise (separate and fused), reduce, softmax, layer_norm, permute
//   cuda_blas.cu      gemm (cuBLAS) and linear (cuBLASLt with fused epilogues)
//   cuda_math.cuh     the per-element functions, mirroring vm/cpu_math.h
//   cuda_program.cuh  the fused elementwise program: host lowering, register interpreter
//
// Memory (cuda_pool.cpp). alloc/free go through a thread-safe caching pool: power-of-two size
// classes from 256 B to 1 MiB, then four per power of two; freed blocks are kept for reuse. A
// freed block carries an event recorded on the freeing thread's stream, so it is reused at once
// by that stream and by other streams only behind the event (no host synchronization). When
// cudaMalloc fails the cache is released and the allocation retried; then alloc returns null.
//
// Streams and handles (cuda_context.cpp). Every kernel runs on the calling thread's own
// non-blocking stream, created on first use, so threads running programs concurrently do not
// serialise on the GPU. Each thread also has its own cuBLAS handle and cuBLASLt handle bound to
// that stream, a 32 MiB GEMM workspace the two share (cuBLAS's through cublasSetWorkspace, so it
// never allocates its own) and a scratch buffer for temporaries (reduction partials), all from
// the pool, and all reused without synchronization because the stream orders them. Kernels are
// asynchronous: to_host waits for the thread's stream (it is where a program's results become
// visible to the host). to_device is queued on the stream too: the runtime's host memory is
// pageable, so cudaMemcpyAsync returns once the bytes are staged and the caller may reuse its
// buffer, while the call's kernels, queued behind the copy, see the data; a call pays no wait
// for its inputs. synchronize waits for the stream: the runtime calls it after uploading a
// package's weights, which every thread's stream then reads.
//
// Recording (capture_begin .. capture_end, graph_launch, graph_destroy). A program is many small
// kernels, each costing microseconds of host time to launch; a CUDA graph replays a whole call
// with one launch. Recording is stream capture of the thread's stream, in ThreadLocal mode so
// that other threads' allocations and waits neither fail nor break it. A replay writes every
// address the recording used, so each must stay valid until graph_destroy: memory the thread
// frees while recording is reserved for the recording (cuda_pool.cpp), temporaries come from the
// recording's own scratch blocks, and the GEMM workspace is shared with the thread, released
// when both are done with it. to_device and to_host fail the recording (vm/device.h): nothing
// has run for the host to read, and a replayed upload would copy the same bytes again.
// graph_destroy waits for an event recorded after the last replay before the reserved memory
// goes back. Replays may run on any thread's stream but must not overlap other GEMMs on
// the shared workspace: the runtime replays a recording only on the thread that made it.
//
// GEMMs (cuda_blas.cu). gemm is cuBLAS SGEMM (strided-batched when batch > 1, 64-bit sizes),
// row-major handled by computing Cᵀ = op(B)ᵀ·op(A)ᵀ; FP32 accumulation, TF32 only with
// $TVM_CUDA_TF32=1. linear is one cuBLASLt matmul whose epilogue adds the bias and applies relu;
// the algorithm comes from cuBLASLt's heuristic and is cached per thread by shape, epilogue,
// pointer alignment and math mode. cuBLASLt's GELU is the tanh approximation, not the CPU's erf
// form, so gelu (and sigmoid and tanh, which it lacks) run as the matmul plus one fused
// bias+activation pass. When cuBLASLt has no algorithm for a case, cuBLAS SGEMM and the same
// pass take over.
//
// Elementwise ops (cuda_kernels.cu, cuda_program.cuh). The separate ops are kernels templated on
// the op: grid-stride loops of 4 consecutive elements per thread, with float4 loads and stores
// when nothing is broadcast and every pointer is 16-byte aligned, else a broadcast-plan walk.
// The fused elementwise program is lowered on the host (dead steps dropped, numbers folded into
// the steps as constants, registers allocated by liveness, pow's special exponents resolved) and
// passed by value as a __grid_constant__ kernel parameter; each thread loads its 4 elements of
// every tensor input, interprets the program over registers, and writes its 4 results: one pass
// over memory however long the chain. The per-element functions (cuda_math.cuh) follow the CPU's
// formulas, so fused and unfused chains round alike.
//
// Reductions, softmax, layer norm (cuda_kernels.cu). A warp per row for short rows, a block for
// long ones; long rows over few outputs are split across blocks and combined in a second pass.
// Sums use Neumaier-compensated float accumulation (as accurate as the CPU's pairwise sums or
// better); max/min propagate nan; argmax takes the first maximum, a nan counting as the maximum.
// Layer norm accumulates mean and variance in double, as the CPU.
//
// Errors. The Kernels functions return void and must never abort the process: a failed launch,
// a cuBLAS error, an asynchronous fault seen at the next synchronization, or running out of
// memory for temporaries is recorded in a thread-local message (the first one since the last
// read), which Device::last_error (and tvm_cuda_last_error()) returns and clears. alloc returns
// null when out of memory, and while recording fails without releasing the cache (the plain call
// that follows a failed recording can).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <utility>

#include "cuda_internal.h"
#include "fused.h"

#ifndef TVM_VERSION
#define TVM_VERSION "0.1.0"
#endif

#define TVM_STR2(x) #x
#define TVM_STR(x) TVM_STR2(x)

#pragma GCC visibility push(hidden)

namespace tvm::cuda {
namespace {

// ---------------------------------------------------------------- memory

void* device_alloc(size_t bytes) { return pool_alloc(bytes); }
void device_free(void* p) { pool_free(p); }

void to_device(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  ThreadContext* c = context();
  if (!c) return;
  if (c->recording) {  // a replay would copy the same bytes again (vm/device.h): not recordable
    record_error("CUDA to_device while recording a CUDA graph (a replay would copy the same bytes again)");
    return;
  }
  const cudaError_t e = cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, c->stream);
  if (e != cudaSuccess) record_cuda_error("to_device", e);
}

void synchronize() {
  ThreadContext* c = existing_context();
  if (!c || c->recording) return;
  const cudaError_t e = cudaStreamSynchronize(c->stream);
  if (e != cudaSuccess) record_cuda_error("synchronize", e);
}

void to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  ThreadContext* c = context();
  if (!c) return;
  if (c->recording) {  // nothing has run: there is nothing to read (and waiting would end the recording)
    record_error("CUDA to_host while recording a CUDA graph (the host cannot read inside a recording)");
    if (host_dst) std::memset(host_dst, 0xFF, bytes);  // nan, not stale data
    return;
  }
  cudaError_t e = cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, c->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream);
  if (e != cudaSuccess) record_cuda_error("to_host", e);
}

// ---------------------------------------------------------------- recording (CUDA graphs)

// The mode stream capture runs in. ThreadLocal: another thread's cudaMalloc, cudaFree or
// synchronization (the pool, other threads' to_host) neither fails nor breaks this recording, as
// they would under Global, while on this thread a call capture cannot express still fails the
// recording instead of silently running outside it. The few such calls that are safe (the pool
// reusing idle memory or calling cudaMalloc) relax the mode around themselves (RelaxedCapture).
constexpr cudaStreamCaptureMode kCaptureMode = cudaStreamCaptureModeThreadLocal;

bool capture_begin() {
  ThreadContext* c = context();
  if (!c) return false;
  if (c->recording) {
    record_error("CUDA capture_begin: this thread is already recording a CUDA graph");
    return false;
  }
  // What the recorded kernels use, made now: nothing may be created or allocated outside the
  // pool while recording. cuBLAS gets the workspace (cublasSetWorkspace) so that it never
  // allocates inside the recording, which cuBLAS's documentation asks of graph capture. Without
  // a cuBLASLt handle linear records cuBLAS's SGEMM instead.
  if (!blas_handle(*c)) return false;
  lt_handle(*c);  // optional: without it linear records cuBLAS's SGEMM
  if (!ensure_workspace(*c)) {
    record_error("CUDA capture_begin: cannot give cuBLAS its workspace (out of device memory?)");
    return false;
  }
  // The work queued before: finished, so that the blocks this stream freed are idle (the pool
  // hands out only idle blocks while recording) and a fault it caused is not blamed on the
  // recording.
  cudaError_t e = cudaStreamSynchronize(c->stream);
  if (e != cudaSuccess) {
    cudaGetLastError();
    record_cuda_error("cannot begin recording a CUDA graph", e);
    return false;
  }
  cudaGetLastError();  // nothing stale for the launch checks inside the recording

  Recording* r = new (std::nothrow) Recording;
  if (!r) {
    record_error("CUDA capture_begin: out of host memory");
    return false;
  }
  r->workspace = c->workspace_block;
  e = cudaStreamBeginCapture(c->stream, kCaptureMode);
  if (e != cudaSuccess) {
    cudaGetLastError();
    delete r;
    record_cuda_error("cannot begin recording a CUDA graph", e);
    return false;
  }
  c->recording = r;
  return true;
}

void* capture_end() {
  ThreadContext* c = existing_context();
  Recording* r = c ? std::exchange(c->recording, nullptr) : nullptr;
  if (!r) {
    record_error("CUDA capture_end without capture_begin");
    return nullptr;
  }
  // Ended even when the recording failed or was invalidated: the stream is usable again after.
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamEndCapture(c->stream, &graph);
  r->graph = graph;
  if (e == cudaSuccess && !graph) e = cudaErrorStreamCaptureInvalidated;
  if (e == cudaSuccess && !r->failed) e = cudaGraphInstantiate(&r->exec, graph, 0);
  if (e == cudaSuccess && !r->failed) e = cudaEventCreateWithFlags(&r->done, cudaEventDisableTiming);
  if (e != cudaSuccess || r->failed) {
    // Nothing was run: the reserved blocks are free at once. The failure is not the program's.
    destroy_recording(r);
    cudaGetLastError();
    clear_error();
    return nullptr;
  }
  return r;
}

bool graph_launch(void* graph) {
  if (!graph) {
    record_error("CUDA graph_launch: no graph");
    return false;
  }
  ThreadContext* c = context();
  if (!c) return false;
  if (c->recording) {
    record_error("CUDA graph_launch while recording a CUDA graph");
    return false;
  }
  Recording& r = *static_cast<Recording*>(graph);
  std::lock_guard<std::mutex> lock(r.launch_mu);
  cudaError_t e = cudaGraphLaunch(r.exec, c->stream);
  if (e != cudaSuccess) {
    cudaGetLastError();
    record_cuda_error("graph launch", e);
    return false;
  }
  // Launches of one graph run one after another, whatever their streams: `done`, recorded after
  // the last, completes after all of them (graph_destroy waits for it).
  e = cudaEventRecord(r.done, c->stream);
  if (e != cudaSuccess) {  // nothing to wait for later: wait now
    cudaGetLastError();
    e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) record_cuda_error("graph launch", e);
  }
  return true;
}

void graph_destroy(void* graph) {
  if (!graph) return;
  Recording* r = static_cast<Recording*>(graph);
  // Waiting for an event from outside a recording is safe when this thread records another.
  ThreadContext* c = existing_context();
  RelaxedCapture relaxed(c && c->recording);
  {
    std::lock_guard<std::mutex> lock(r->launch_mu);
    if (r->done) cudaEventSynchronize(r->done);  // never recorded: returns at once
  }
  destroy_recording(r);
  cudaGetLastError();
}

// ---------------------------------------------------------------- prepare

// This thread's stream and handles, and one small run of the kernels a program uses most (CUDA
// loads each kernel lazily on its first launch; cuBLAS and cuBLASLt set up on their first call).
// A failure is left for the first kernel that needs what failed to report.
void prepare() {
  ThreadContext* c = context();
  if (!c) {
    clear_error();
    return;
  }
  if (c->recording) return;  // it would be recorded (and its wait would end the recording)
  blas_handle(*c);
  lt_handle(*c);

  constexpr int64_t N = 64;
  const size_t bytes = size_t(4 * N * N) * sizeof(float);
  float* buf = static_cast<float*>(pool_alloc(bytes));
  if (buf && cudaMemsetAsync(buf, 0, bytes, c->stream) == cudaSuccess) {
    float* a = buf;
    float* b = buf + N * N;
    float* y = buf + 2 * N * N;
    float* v = buf + 3 * N * N;  // a row of N for biases, norms

    gemm(false, false, N, N, N, a, N, b, N, 0.f, y, N, 1, 0, 0, 0);
    gemm(false, true, N, N, N, a, N, b, N, 0.f, y, N, 2, 0, 0, N * N);  // batched: C into y and v
    linear(a, b, v, y, N, N, N, Activation::None);
    linear(a, b, v, y, N, N, N, Activation::Relu);
    linear(a, b, v, y, N, N, N, Activation::Gelu);

    unary(UnaryKind::Exp, a, y, N * N);
    binary_scalar(BinaryKind::Mul, a, 2.f, y, N * N, false);
    Strided plan;
    plan.ndim = 2;
    plan.shape[0] = N;
    plan.shape[1] = N;
    plan.stride[0][0] = N, plan.stride[0][1] = 1;  // a [N, N]
    plan.stride[1][0] = 0, plan.stride[1][1] = 1;  // v [N], broadcast over rows
    binary(BinaryKind::Add, a, v, y, plan);

    // (a * 2 + v) -> sigmoid: a broadcast operand, a number and an immediate.
    EwStep steps[3];
    steps[0].kind = EwStep::Binary, steps[0].op = uint8_t(BinaryKind::Mul), steps[0].a = 0;
    steps[0].b = EwStep::kImmediate, steps[0].imm = 2.f;
    steps[1].kind = EwStep::Binary, steps[1].op = uint8_t(BinaryKind::Add), steps[1].a = 2, steps[1].b = 1;
    steps[2].kind = EwStep::Unary, steps[2].op = uint8_t(UnaryKind::Sigmoid), steps[2].a = 3;
    const float* inputs[2] = {a, v};
    const float scalars[2] = {0.f, 0.f};
    EwPlan ew;
    ew.ndim = 2;
    ew.shape[0] = N;
    ew.shape[1] = N;
    ew.stride[0][0] = N, ew.stride[0][1] = 1;
    ew.stride[1][0] = 0, ew.stride[1][1] = 1;
    elementwise(steps, 3, 2, inputs, scalars, y, ew);

    reduce(ReduceKind::Sum, a, v, N, N, 1);
    reduce(ReduceKind::Sum, a, v, 1, N, N);
    softmax(a, y, N, N, false);
    layer_norm(a, v, v, y, N, N, 1e-5f);
    cudaStreamSynchronize(c->stream);
  }
  if (buf) pool_free(buf);
  cudaGetLastError();
  clear_error();
}

const Kernels kKernels = {
    .unary = unary,
    .binary = binary,
    .binary_scalar = binary_scalar,
    .where = where,
    .clamp = clamp,
    .reduce = reduce,
    .softmax = softmax,
    .layer_norm = layer_norm,
    .gemm = gemm,
    .linear = linear,
    .elementwise = elementwise,
    .permute = permute,
};

const Device kDevice = {
    .name = "cuda",
    .alloc = device_alloc,
    .free = device_free,
    .to_device = to_device,
    .to_host = to_host,
    .kernels = &kKernels,
    .prepare = prepare,
    .synchronize = synchronize,
    .last_error = take_error,
    .capture_begin = capture_begin,
    .capture_end = capture_end,
    .graph_launch = graph_launch,
    .graph_destroy = graph_destroy,
};

// ---------------------------------------------------------------- opening the device

struct Opened {
  int status = 3;
  std::string why;
};

std::string version_str(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

constexpr int kMinMajor = 8;  // the oldest GPU this build has code for: sm_80 (and PTX for sm_90)

// Status 1: no usable driver; 2: no GPU; 3: any other failure.
Opened open_device() {
  const std::string runtime = version_str(CUDART_VERSION);
  int driver = 0;
  cudaError_t e = cudaDriverGetVersion(&driver);
  if (e == cudaErrorStubLibrary) {
    cudaGetLastError();
    return {1, "no CUDA driver is installed (libcuda.so.1 is the CUDA toolkit's stub library)"};
  }
  if (e != cudaSuccess || driver == 0) {
    cudaGetLastError();
    return {1, "no CUDA driver is installed (this plugin needs one for CUDA " + runtime + " or newer)"};
  }
  // CUDA's minor-version compatibility: a driver of the same major version runs this plugin
  // (a newer GPU needing the PTX JIT reports its own error at the first launch).
  if (driver / 1000 < CUDART_VERSION / 1000)
    return {1, "CUDA driver is too old for this plugin (driver " + version_str(driver) + ", runtime " + runtime + ")"};

  int count = 0;
  e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) cudaGetLastError();
  switch (e) {
    case cudaSuccess: break;
    case cudaErrorNoDevice: return {2, "no CUDA-capable GPU"};
    case cudaErrorInsufficientDriver:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
      return {1, "CUDA driver is too old for this plugin (runtime " + runtime + "): " + cudaGetErrorString(e)};
    case cudaErrorStubLibrary: return {1, "no CUDA driver is installed (libcuda.so is a stub library)"};
    default: return {3, std::string("CUDA error: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")"};
  }
  if (count <= 0) return {2, "no CUDA-capable GPU"};

  const int ordinal = 0;
  cudaDeviceProp prop;
  std::memset(&prop, 0, sizeof prop);
  e = cudaGetDeviceProperties(&prop, ordinal);
  if (e == cudaSuccess && prop.major < kMinMajor) {
    return {3, std::string("the GPU ") + prop.name + " has compute capability " + std::to_string(prop.major) + "." +
                   std::to_string(prop.minor) + "; this plugin has code for " + std::to_string(kMinMajor) +
                   ".0 and newer"};
  }
  if (e == cudaSuccess) e = cudaSetDevice(ordinal);
  if (e == cudaSuccess) e = cudaFree(nullptr);  // creates the context: any driver problem shows here
  if (e != cudaSuccess) {
    cudaGetLastError();
    const int status = e == cudaErrorNoDevice ? 2 : (e == cudaErrorInsufficientDriver ? 1 : 3);
    return {status, std::string("cannot open the GPU: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")"};
  }

  DeviceInfo info;
  info.ordinal = ordinal;
  info.sm_count = prop.multiProcessorCount > 0 ? prop.multiProcessorCount : 1;
  const char* tf32 = std::getenv("TVM_CUDA_TF32");
  info.tf32 = tf32 && std::strcmp(tf32, "1") == 0;
  set_device_info(info);
  return {0, ""};
}

}  // namespace
}  // namespace tvm::cuda

#pragma GCC visibility pop

// ---------------------------------------------------------------- the exported entry points

#define TVM_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

TVM_CUDA_EXPORT int tvm_cuda_plugin_open(const tvm::Device** device, char* why, size_t why_len) {
  static const tvm::cuda::Opened opened = tvm::cuda::open_device();  // once per process, thread-safe
  if (device) *device = opened.status == 0 ? &tvm::cuda::kDevice : nullptr;
  if (why && why_len > 0) std::snprintf(why, why_len, "%s", opened.why.c_str());
  return opened.status;
}

TVM_CUDA_EXPORT const char* tvm_cuda_plugin_version(void) {
  static const std::string version = "tvm-cuda " TVM_VERSION " (CUDA runtime " +
                                     tvm::cuda::version_str(CUDART_VERSION) + ", cuBLAS " TVM_STR(CUBLAS_VER_MAJOR) "." TVM_STR(
                                         CUBLAS_VER_MINOR) "." TVM_STR(CUBLAS_VER_PATCH) "; code for sm_80, sm_90, PTX compute_90)";
  return version.c_str();
}

TVM_CUDA_EXPORT const char* tvm_cuda_last_error(void) { return tvm::cuda::take_error(); }

TVM_CUDA_EXPORT int tvm_cuda_plugin_abi(void) { return tvm::kDeviceAbi; }
