// The device interface: where tensor data lives and the kernels that compute on it
// (DESIGN.md, Runtime). The runtime calls every tensor computation through a Device's kernel
// table, so the CPU device (vm/cpu_device.cpp) and the CUDA plugin (gpu/, a later issue) are
// interchangeable. Kernels take raw contiguous float32 buffers of the device and sizes; shape
// checking, broadcasting plans and allocation are the caller's (vm/tensor_ops.cpp).
//
// Every kernel accepts an output that is exactly one of its inputs (in place), never a partial
// overlap. Sizes of 0 touch no memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tvm {

enum class UnaryKind : uint8_t {
  Neg, Abs, Exp, Log, Sqrt, Sin, Cos, Tanh, Relu, Sigmoid, Gelu, Floor, Ceil, Round,
};
enum class BinaryKind : uint8_t {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Maximum, Minimum, Lt, Le, Gt, Ge, Eq, Ne,
};
enum class ReduceKind : uint8_t { Sum, Mean, Max, Min, Argmax };
// The epilogue fused into a GEMM: y = act(x·wᵀ + b).
enum class Activation : uint8_t { None, Relu, Sigmoid, Tanh, Gelu };

// An elementwise op over up to K broadcast operands: the output has `shape` (rank `ndim`,
// 1 to 8 after merging dimensions), and operand i's element for output index (i0, ..., in) is at
// sum(ik * stride[i][k]) — a stride is 0 along a dimension the operand is broadcast over.
template <int K>
struct BroadcastPlan {
  static constexpr int kMaxOperands = K;
  int ndim = 0;
  int64_t shape[8] = {};
  int64_t stride[K][8] = {};
};
using Strided = BroadcastPlan<3>;  // binary ops and where
using EwPlan = BroadcastPlan<8>;   // a fused elementwise program's arguments (KernelDesc::kMaxArity)

struct EwStep;  // one step of a fused elementwise program (vm/fused.h)

// Kernels::permute's dimensions as its kernels walk them: size-1 dimensions dropped, and
// neighbours contiguous in x merged (y is contiguous, so they merge there too). Writes the
// rank into *nd (0 for one element) and sh/st; false when the copy is empty (ndim <= 8).
inline bool normalise_permute(int ndim, const int64_t* shape, const int64_t* in_stride, int64_t* sh, int64_t* st,
                              int* nd) {
  int n = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] <= 0) return false;
    if (shape[d] == 1) continue;
    if (n > 0 && st[n - 1] == in_stride[d] * shape[d]) {
      sh[n - 1] *= shape[d];
      st[n - 1] = in_stride[d];
    } else {
      sh[n] = shape[d];
      st[n] = in_stride[d];
      ++n;
    }
  }
  *nd = n;
  return true;
}

struct Kernels {
  // y[i] = op(x[i]) for i < n. In place (y == x) is allowed.
  void (*unary)(UnaryKind op, const float* x, float* y, int64_t n);
  // y = a op b over a broadcast plan (operands 0 and 1 of s). Comparisons give 0.f / 1.f.
  // Python semantics for FloorDiv and Mod (the result of Mod takes the divisor's sign);
  // IEEE for everything else: x/0 is ±inf or nan, never an error.
  void (*binary)(BinaryKind op, const float* a, const float* b, float* y, const Strided& s);
  // y = a op s (or s op a when scalar_first) for i < n: the tensor-and-number case.
  void (*binary_scalar)(BinaryKind op, const float* a, float s, float* y, int64_t n, bool scalar_first);
  // y = c != 0 ? a : b over a broadcast plan (operands 0, 1, 2 of s = c, a, b).
  void (*where)(const float* c, const float* a, const float* b, float* y, const Strided& s);
  // y[i] = min(max(x[i], lo), hi) (as torch.clamp: a nan x stays nan).
  void (*clamp)(const float* x, float* y, int64_t n, float lo, float hi);
  // x viewed as [outer, n, inner]: y[o, i] = op over x[o, :, i]. Argmax gives the first index
  // of the maximum as a float (a nan counts as the maximum, as in torch); Max/Min propagate nan.
  // n == 0 gives 0 for Sum, nan for Mean (Max/Min/Argmax are never called with n == 0).
  void (*reduce)(ReduceKind op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
  // Softmax (or log-softmax) over the last dimension of x viewed as [rows, n].
  void (*softmax)(const float* x, float* y, int64_t rows, int64_t n, bool log);
  // Layer norm over the last dimension of x viewed as [rows, n] (biased variance, as torch);
  // w and b ([n]) may each be null (1 and 0).
  void (*layer_norm)(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps);
  // C[m, n] = op(A)·op(B) + beta·C, row-major; op(A) is A, or Aᵀ when trans_a (A stored [k, m]).
  // With beta == 0, C is not read (garbage or nan in it is fine); k == 0 gives beta·C.
  // Batched: `batch` products, each operand advancing by its own batch stride (0: shared).
  void (*gemm)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch,
               int64_t stride_a, int64_t stride_b, int64_t stride_c);
  // y[m, n] = act(x[m, k]·w[n, k]ᵀ + b[n]) with b possibly null: nn.Linear's layout, one call.
  void (*linear)(const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n, int64_t k,
                 Activation act);
  // A fused elementwise program (vm/fused.h, well formed as check_kernel says) in one pass over
  // memory: y (contiguous, the plan's shape) gets the last step's result at every index; a step
  // no later step reads need not run. Input j (j < arity <= 8) is the number scalars[j] when
  // inputs[j] is null, else a tensor read through operand j's strides in s. Each step rounds
  // exactly as its separate kernel: unary; binary, as binary_scalar when an operand is a number
  // (an input or the immediate: pow's special exponents) and as binary between tensors; clamp
  // (to number bounds; tensor bounds elementwise); where. steps, inputs and scalars are host
  // memory. y may be one of the inputs exactly (same shape, not broadcast).
  void (*elementwise)(const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                      float* y, const EwPlan& s);
  // y = x with its dimensions permuted: y has `shape` (rank ndim) and y's element at index
  // (i0, ..., in) is x[sum(ik * in_stride[k])]. (Transposes, and gathers for slicing with
  // a start offset applied by the caller.) Strides may be zero or negative.
  void (*permute)(const float* x, float* y, int ndim, const int64_t* shape, const int64_t* in_stride);
};

// The layout of Device and Kernels (and of fused.h's EwStep) as a number: a device plugin
// exports it (tvm_cuda_plugin_abi) and the runtime refuses one built for another layout.
constexpr int kDeviceAbi = 3;

struct Device {
  const char* name;  // "cpu", "cuda"
  // Device memory: `bytes` rounded up as the device likes, aligned to 64 bytes; null when out
  // of memory. The tensor pool (vm/tensor.cpp) sits above these, so they are not per-op calls.
  void* (*alloc)(size_t bytes);
  void (*free)(void* p);
  // Copies between host memory and the device's (plain memcpy on the CPU). to_device may
  // return before the copy is done (the host memory may be reused at once): work this thread
  // queues after it sees the data, other threads only after synchronize.
  void (*to_device)(void* dst, const void* host_src, size_t bytes);
  void (*to_host)(void* host_dst, const void* src, size_t bytes);
  const Kernels* kernels;
  // Loads and warms what the kernels would otherwise set up on first use (OpenBLAS and its
  // buffers on the CPU), so that a loaded package's first call costs what later calls do.
  // Never throws: a failure is reported by the first kernel that needs what failed.
  void (*prepare)();

  // The rest is for devices whose work runs asynchronously (null on the CPU, which has none of
  // it). Kernels and to_device are queued on the calling thread's own queue; to_host waits for
  // that queue, so it is where results (and failures) become visible to the host.
  //
  // Waits for this thread's queue: what it uploaded is then visible to every thread (a
  // package's weights, uploaded once at load and shared).
  void (*synchronize)();
  //
  // The first failure on this thread since the last call (a failed launch, a fault seen at
  // to_host, out of memory for temporaries), cleared by reading: "" when none. The runtime
  // turns it into a RuntimeError with exit code 4.
  const char* (*last_error)();
  // Recording (CUDA graphs). capture_begin: from now until capture_end, the kernels this
  // thread issues are recorded, not run; memory freed while recording stays reserved for the
  // recording, so every address it uses stays valid. to_device and to_host are not allowed while
  // recording (they fail it: the host cannot read inside a recording, and a replayed upload
  // would copy the same bytes again, so a program that makes tensors from host data, rand()
  // say, is not recordable). capture_end: the recording, or null when it failed (the failure
  // is cleared; nothing was run). graph_launch queues one replay on this thread's queue
  // (false: failed, last_error says why); graph_destroy frees the recording and the memory it
  // reserved once its replays are done. Null when unsupported.
  bool (*capture_begin)();
  void* (*capture_end)();
  bool (*graph_launch)(void* graph);
  void (*graph_destroy)(void* graph);
};

// The CPU device: kernels the compiler vectorises, GEMM/GEMV through OpenBLAS's CBLAS
// (one thread per call unless $TVM_NUM_THREADS says otherwise).
const Device& cpu_device();

}  // namespace tvm
