// A fake CUDA device plugin, for tests: libtvm_fakecuda.so exports what libtvm_cuda.so exports
// (gpu/cuda_device.cu), and its Device, named "cuda", behaves as a GPU whose memory the host
// cannot read. It exists so that the runtime's device plumbing (device tensors, uploads, copies
// back, error handling, graph recording and replay) is tested on machines with no GPU: run
// anything with TVM_CUDA_PLUGIN=build/lib/libtvm_fakecuda.so and --device cuda.
//
// Memory. alloc returns host memory (aligned_alloc, filled with nan bytes as fresh device memory
// is garbage) as a tagged pointer: the address with bit 63 set, which is not a canonical x86-64
// or AArch64 address, so a host read or write of device data anywhere in the runtime faults at
// once instead of passing silently. Offsets from a tagged pointer stay tagged and untag to the
// same offset (untag(tag(p) + k) == p + k). The kernels are the CPU device's (vm/cpu_device.cpp
// and vm/cpu_fused.cpp, compiled into the plugin with hidden visibility) called on the untagged
// pointers; the steps, inputs and scalars arrays, the plans and permute's shape and strides are
// host memory.
//
// Checks that make bugs loud. A registry of live allocations: every device pointer a kernel or
// copy gets must lie in a live allocation, with every element the kernel touches inside it (null
// only where nothing is touched, or where null is allowed: layer_norm's and linear's w/b, an
// elementwise input that is a number); the host pointers of to_device/to_host must not be tagged;
// memory the runtime freed is not device memory any more (except to replays of the recording
// that owns it). A violation is reported through last_error ("fake cuda: unary got a pointer that
// is not device memory") and the call does nothing; nothing aborts.
//
// Errors. last_error is per thread: the first error since the last read, cleared by reading.
// A CPU kernel's exception (OpenBLAS missing) becomes an error too, as a failed launch would.
//
// Recording emulates CUDA graphs (vm/device.h). After capture_begin, the thread's kernels are
// not run but kept as closures holding copies of their arguments (the steps, inputs and scalars
// arrays, plans by value), as a kernel launch captures its parameters by value. Memory the
// thread frees while recording belongs to the recording until graph_destroy, so replays write to
// valid memory. to_device or to_host while recording is an error and fails the recording; capture_end then returns null, clears the error and frees the
// reserved memory. graph_launch runs the closures in order on the calling thread, checking every
// pointer again: memory the runtime freed after recording is caught there.
//
// Environment (read once, on first use):
//   TVM_FAKECUDA_OPEN=nodriver|nogpu|fail  tvm_cuda_plugin_open answers 1, 2 or 3
//   TVM_FAKECUDA_MEMORY=<bytes>            alloc returns null once live bytes would exceed it
//   TVM_FAKECUDA_FAIL_KERNEL=<n>           the n-th kernel run in the process (1-based: direct
//                                          calls and kernels run by replays; recording one is
//                                          not running it) records an error and does not run
//   TVM_FAKECUDA_FAIL_LAUNCH=<n>           the n-th graph_launch fails (false, with an error)
//
// Exported: tvm_cuda_plugin_open, tvm_cuda_plugin_version, tvm_cuda_plugin_abi, and
// tvm_fakecuda_stats(buf, len), the counters as one line for tests (through dlsym).
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "device.h"
#include "fused.h"

namespace tvm::fakecuda {
namespace {

// ---------------------------------------------------------------- tagged pointers

constexpr uintptr_t kTag = uintptr_t(1) << 63;

bool tagged(const void* p) { return (uintptr_t(p) & kTag) != 0; }
template <class T>
T* untag(T* p) {
  return p ? reinterpret_cast<T*>(uintptr_t(p) ^ kTag) : nullptr;
}

// ---------------------------------------------------------------- configuration, counters

uint64_t env_count(const char* name) {
  const char* s = std::getenv(name);
  if (!s || !*s) return 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  return end != s && *end == '\0' ? uint64_t(v) : 0;
}

struct Config {
  uint64_t memory = 0;       // 0: no limit
  uint64_t fail_kernel = 0;  // 0: none
  uint64_t fail_launch = 0;  // 0: none
  std::string open;          // TVM_FAKECUDA_OPEN
};

const Config& config() {
  static const Config c = [] {
    Config r;
    r.memory = env_count("TVM_FAKECUDA_MEMORY");
    r.fail_kernel = env_count("TVM_FAKECUDA_FAIL_KERNEL");
    r.fail_launch = env_count("TVM_FAKECUDA_FAIL_LAUNCH");
    if (const char* s = std::getenv("TVM_FAKECUDA_OPEN")) r.open = s;
    return r;
  }();
  return c;
}

struct Counters {
  std::atomic<uint64_t> kernel_calls{0};  // kernel runs attempted (TVM_FAKECUDA_FAIL_KERNEL counts these)
  std::atomic<uint64_t> kernels_run{0};
  std::atomic<uint64_t> kernels_recorded{0};
  std::atomic<uint64_t> graphs{0};  // recordings that succeeded
  std::atomic<uint64_t> graphs_live{0};
  std::atomic<uint64_t> launches{0};
  std::atomic<uint64_t> replays{0};
  std::atomic<uint64_t> errors{0};
};
Counters counters;

// ---------------------------------------------------------------- errors

thread_local std::string pending_error;  // the first error since the last read
thread_local std::string taken_error;    // what the last read returned (its storage)

void fail(std::string message) {
  ++counters.errors;
  if (pending_error.empty()) pending_error = std::move(message);
}
void fail(const char* kernel, const char* what) { fail(std::string("fake cuda: ") + kernel + " " + what); }

const char* fake_last_error() {
  taken_error.swap(pending_error);
  pending_error.clear();
  return taken_error.c_str();
}

// ---------------------------------------------------------------- the registry

struct Block {
  size_t bytes;     // as asked for: the extent the checks allow
  size_t rounded;   // as allocated: what live bytes count
  void* real;       // the host address (kept here so that leak checkers see the block reachable)
  bool freed;       // freed by the runtime while recording: the recording's until graph_destroy
};

struct Registry {
  std::mutex mutex;
  std::map<uintptr_t, Block> blocks;  // by tagged base address
  uint64_t live_bytes = 0;
  uint64_t peak_bytes = 0;
};
// Never destroyed: frees may come from other libraries' static destructors at exit.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

// The recording in progress on this thread.
struct Graph {
  std::vector<std::function<void()>> ops;
  std::vector<void*> reserved;  // tagged blocks freed while recording
  uint64_t kernels = 0;
  bool failed = false;
};
thread_local Graph* recording = nullptr;

// Which use a pointer check is for: memory freed while recording is the recording's, so only
// its replays may touch it.
enum class Use { Direct, Record, Replay };

// The bytes a call touches relative to a pointer, [lo, hi); `empty` when it touches none.
struct Span {
  int64_t lo = 0, hi = 4;  // one float
  bool empty = false;
  // A dimension of `count` elements `stride` floats apart.
  Span& dim(int64_t count, int64_t stride) {
    if (count <= 0) empty = true;
    else (stride < 0 ? lo : hi) += (count - 1) * stride * 4;
    return *this;
  }
};
Span none() {
  Span s;
  s.empty = true;
  return s;
}
Span floats(int64_t n) { return Span().dim(n, 1); }
Span bytes_span(size_t n) {
  Span s;
  s.hi = int64_t(n);
  s.empty = n == 0;
  return s;
}
// Operand k of a broadcast plan.
template <int K>
Span plan_span(const BroadcastPlan<K>& p, int k) {
  Span s;
  for (int d = 0; d < p.ndim && d < 8; ++d) s.dim(p.shape[d], p.stride[k][d]);
  return s;
}
// A plan's contiguous output.
template <int K>
Span plan_out(const BroadcastPlan<K>& p) {
  int64_t n = 1;
  for (int d = 0; d < p.ndim && d < 8; ++d) n *= p.shape[d] > 0 ? p.shape[d] : 0;
  return floats(n);
}

// Whether device pointer p, touching span s, is valid for `use`; records the error if not.
// Null is valid only when nothing is touched.
bool dev(const char* kernel, const void* p, Span s, Use use) {
  if (!p && s.empty) return true;
  if (!tagged(p)) {
    fail(kernel, "got a pointer that is not device memory");
    return false;
  }
  const uintptr_t a = uintptr_t(p);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.blocks.upper_bound(a);
  if (it == r.blocks.begin()) {
    fail(kernel, "got a pointer that is not device memory");
    return false;
  }
  --it;
  const uintptr_t base = it->first, end = base + it->second.bytes;
  // A touched span contains the pointer's own element; an empty one may point at the end.
  if (s.empty ? a > end : a >= end) {
    fail(kernel, "got a pointer that is not device memory");
    return false;
  }
  if (it->second.freed && use != Use::Replay) {
    fail(kernel, "got a pointer to device memory that was freed");
    return false;
  }
  if (!s.empty && (int64_t(a - base) + s.lo < 0 || int64_t(end - a) < s.hi)) {
    fail(kernel, "got a pointer whose elements run outside its device allocation");
    return false;
  }
  return true;
}
// A pointer that may be null (an optional bias or weight).
bool dev_opt(const char* kernel, const void* p, Span s, Use use) { return !p || dev(kernel, p, s, use); }

bool host(const char* kernel, const void* p, size_t bytes) {
  if (bytes && !p) {
    fail(kernel, "got a null host pointer");
    return false;
  }
  if (tagged(p)) {
    fail(kernel, "got a pointer that is not host memory");
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- memory

void* fake_alloc(size_t bytes) {
  if (bytes > SIZE_MAX - 63) return nullptr;
  const size_t rounded = bytes == 0 ? 64 : (bytes + 63) & ~size_t(63);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const uint64_t limit = config().memory;
  if (limit && (rounded > limit || r.live_bytes > limit - rounded)) return nullptr;
  void* real = std::aligned_alloc(64, rounded);
  if (!real) return nullptr;
  std::memset(real, 0xFF, rounded);  // nan: results never written show as nan
  void* p = reinterpret_cast<void*>(uintptr_t(real) ^ kTag);
  r.blocks[uintptr_t(p)] = Block{bytes, rounded, real, false};
  r.live_bytes += rounded;
  if (r.live_bytes > r.peak_bytes) r.peak_bytes = r.live_bytes;
  return p;
}

// Frees a block for good (under the registry's lock).
void release_locked(Registry& r, std::map<uintptr_t, Block>::iterator it) {
  r.live_bytes -= it->second.rounded;
  std::free(it->second.real);
  r.blocks.erase(it);
}

void fake_free(void* p) {
  if (!p) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.blocks.find(uintptr_t(p));
  if (it == r.blocks.end()) return fail("free", "got a pointer that is not device memory");
  if (it->second.freed) return fail("free", "got a pointer to device memory that was freed");
  if (Graph* g = recording) {  // the recording keeps it until graph_destroy
    it->second.freed = true;
    g->reserved.push_back(p);
    return;
  }
  release_locked(r, it);
}

void release_reserved(Graph* g) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (void* p : g->reserved)
    if (auto it = r.blocks.find(uintptr_t(p)); it != r.blocks.end()) release_locked(r, it);
  g->reserved.clear();
}

void fake_to_device(void* dst, const void* host_src, size_t bytes) {
  if (Graph* g = recording) {  // a replay would copy stale bytes: not recordable (vm/device.h)
    g->failed = true;
    fail("to_device", "while recording a graph (a replay would copy the same bytes again)");
    return;
  }
  if (!dev("to_device", dst, bytes_span(bytes), Use::Direct) || !host("to_device", host_src, bytes)) return;
  if (bytes) std::memcpy(untag(dst), host_src, bytes);
}

void fake_to_host(void* host_dst, const void* src, size_t bytes) {
  if (Graph* g = recording) {
    g->failed = true;
    fail("to_host", "while recording a graph (the host cannot read inside a recording)");
    if (host_dst && !tagged(host_dst) && bytes) std::memset(host_dst, 0xFF, bytes);
    return;
  }
  if (!dev("to_host", src, bytes_span(bytes), Use::Direct) || !host("to_host", host_dst, bytes)) return;
  if (bytes) std::memcpy(host_dst, untag(src), bytes);
}

// ---------------------------------------------------------------- kernels

const Kernels& cpu() { return *cpu_device().kernels; }

// Each kernel call is a struct holding its arguments by value: check(use) validates its device
// pointers, run() calls the CPU kernel on the untagged pointers.

struct Unary {
  static constexpr const char* name = "unary";
  UnaryKind op;
  const float* x;
  float* y;
  int64_t n;
  bool check(Use u) const { return dev(name, x, floats(n), u) && dev(name, y, floats(n), u); }
  void run() const { cpu().unary(op, untag(x), untag(y), n); }
};

struct Binary {
  static constexpr const char* name = "binary";
  BinaryKind op;
  const float *a, *b;
  float* y;
  Strided s;
  bool check(Use u) const {
    return dev(name, a, plan_span(s, 0), u) && dev(name, b, plan_span(s, 1), u) && dev(name, y, plan_out(s), u);
  }
  void run() const { cpu().binary(op, untag(a), untag(b), untag(y), s); }
};

struct BinaryScalar {
  static constexpr const char* name = "binary_scalar";
  BinaryKind op;
  const float* a;
  float s;
  float* y;
  int64_t n;
  bool scalar_first;
  bool check(Use u) const { return dev(name, a, floats(n), u) && dev(name, y, floats(n), u); }
  void run() const { cpu().binary_scalar(op, untag(a), s, untag(y), n, scalar_first); }
};

struct Where {
  static constexpr const char* name = "where";
  const float *c, *a, *b;
  float* y;
  Strided s;
  bool check(Use u) const {
    return dev(name, c, plan_span(s, 0), u) && dev(name, a, plan_span(s, 1), u) && dev(name, b, plan_span(s, 2), u) &&
           dev(name, y, plan_out(s), u);
  }
  void run() const { cpu().where(untag(c), untag(a), untag(b), untag(y), s); }
};

struct Clamp {
  static constexpr const char* name = "clamp";
  const float* x;
  float* y;
  int64_t n;
  float lo, hi;
  bool check(Use u) const { return dev(name, x, floats(n), u) && dev(name, y, floats(n), u); }
  void run() const { cpu().clamp(untag(x), untag(y), n, lo, hi); }
};

struct Reduce {
  static constexpr const char* name = "reduce";
  ReduceKind op;
  const float* x;
  float* y;
  int64_t outer, n, inner;
  bool check(Use u) const {
    if (outer <= 0 || inner <= 0) return dev(name, x, none(), u) && dev(name, y, none(), u);
    return dev(name, x, floats(n > 0 ? outer * n * inner : 0), u) && dev(name, y, floats(outer * inner), u);
  }
  void run() const { cpu().reduce(op, untag(x), untag(y), outer, n, inner); }
};

struct Softmax {
  static constexpr const char* name = "softmax";
  const float* x;
  float* y;
  int64_t rows, n;
  bool log;
  bool check(Use u) const {
    const Span s = rows > 0 && n > 0 ? floats(rows * n) : none();
    return dev(name, x, s, u) && dev(name, y, s, u);
  }
  void run() const { cpu().softmax(untag(x), untag(y), rows, n, log); }
};

struct LayerNorm {
  static constexpr const char* name = "layer_norm";
  const float *x, *w, *b;
  float* y;
  int64_t rows, n;
  float eps;
  bool check(Use u) const {
    const bool any = rows > 0 && n > 0;
    const Span s = any ? floats(rows * n) : none(), row = any ? floats(n) : none();
    return dev(name, x, s, u) && dev_opt(name, w, row, u) && dev_opt(name, b, row, u) && dev(name, y, s, u);
  }
  void run() const { cpu().layer_norm(untag(x), untag(w), untag(b), untag(y), rows, n, eps); }
};

struct Gemm {
  static constexpr const char* name = "gemm";
  bool trans_a, trans_b;
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float beta;
  float* c;
  int64_t ldc, batch, stride_a, stride_b, stride_c;
  bool check(Use u) const {
    if (m <= 0 || n <= 0 || batch <= 0) return dev(name, a, none(), u) && dev(name, b, none(), u) && dev(name, c, none(), u);
    // op(A) is [m, k]: A is stored [m, k], or [k, m] when transposed; likewise B, [k, n].
    const Span sa = Span().dim(trans_a ? k : m, lda).dim(trans_a ? m : k, 1).dim(batch, stride_a);
    const Span sb = Span().dim(trans_b ? n : k, ldb).dim(trans_b ? k : n, 1).dim(batch, stride_b);
    const Span sc = Span().dim(m, ldc).dim(n, 1).dim(batch, stride_c);
    return dev(name, a, sa, u) && dev(name, b, sb, u) && dev(name, c, sc, u);
  }
  void run() const {
    cpu().gemm(trans_a, trans_b, m, n, k, untag(a), lda, untag(b), ldb, beta, untag(c), ldc, batch, stride_a, stride_b,
               stride_c);
  }
};

struct Linear {
  static constexpr const char* name = "linear";
  const float *x, *w, *b;
  float* y;
  int64_t m, n, k;
  Activation act;
  bool check(Use u) const {
    if (m <= 0 || n <= 0) return dev(name, x, none(), u) && dev(name, w, none(), u) && dev(name, y, none(), u);
    return dev(name, x, floats(m * k), u) && dev(name, w, floats(n * k), u) && dev_opt(name, b, floats(n), u) &&
           dev(name, y, floats(m * n), u);
  }
  void run() const { cpu().linear(untag(x), untag(w), untag(b), untag(y), m, n, k, act); }
};

struct Elementwise {
  static constexpr const char* name = "elementwise";
  static constexpr int kMax = KernelDesc::kMaxArity;
  std::vector<EwStep> steps;  // copies of the host arrays
  bool has_steps, has_inputs, has_scalars;
  int nsteps, arity;
  std::array<const float*, kMax> inputs{};
  std::array<float, kMax> scalars{};
  float* y;
  EwPlan s;

  Elementwise(const EwStep* st, int ns, int ar, const float* const* in, const float* sc, float* out, const EwPlan& plan)
      : has_steps(st), has_inputs(in), has_scalars(sc), nsteps(ns), arity(ar), y(out), s(plan) {
    if (st && ns > 0) steps.assign(st, st + ns);
    const int k = ar < 0 ? 0 : (ar > kMax ? kMax : ar);
    for (int j = 0; j < k; ++j) {
      if (in) inputs[j] = in[j];
      if (sc) scalars[j] = sc[j];
    }
  }
  bool check(Use u) const {
    if (arity < 0 || arity > kMax) {
      fail("fake cuda: elementwise got arity " + std::to_string(arity));
      return false;
    }
    // Input j is a number when inputs[j] is null.
    for (int j = 0; j < arity && has_inputs; ++j)
      if (!dev_opt(name, inputs[j], plan_span(s, j), u)) return false;
    return dev(name, y, plan_out(s), u);
  }
  void run() const {
    std::array<const float*, kMax> in{};
    for (int j = 0; j < arity; ++j) in[j] = untag(inputs[j]);
    cpu().elementwise(has_steps ? steps.data() : nullptr, nsteps, arity, has_inputs ? in.data() : nullptr,
                      has_scalars ? scalars.data() : nullptr, untag(y), s);
  }
};

struct Permute {
  static constexpr const char* name = "permute";
  const float* x;
  float* y;
  int ndim;
  std::array<int64_t, 8> shape{}, in_stride{};  // copies of the host arrays

  Permute(const float* x_, float* y_, int nd, const int64_t* sh, const int64_t* st) : x(x_), y(y_), ndim(nd) {
    for (int d = 0; d < nd && d < 8; ++d) {
      shape[d] = sh[d];
      in_stride[d] = st[d];
    }
  }
  bool check(Use u) const {
    if (ndim < 0 || ndim > 8) {
      fail("fake cuda: permute got rank " + std::to_string(ndim));
      return false;
    }
    Span sx;
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) {
      sx.dim(shape[d], in_stride[d]);
      n *= shape[d] > 0 ? shape[d] : 0;
    }
    return dev(name, x, sx, u) && dev(name, y, floats(n), u);
  }
  void run() const { cpu().permute(untag(x), untag(y), ndim, shape.data(), in_stride.data()); }
};

// One kernel run (directly, or by a replay).
template <class Call>
void execute(const Call& call, Use use) {
  const uint64_t nth = ++counters.kernel_calls;
  if (!call.check(use)) return;
  if (config().fail_kernel && nth == config().fail_kernel) return fail("fake cuda: injected kernel failure");
  try {
    call.run();
  } catch (const std::exception& e) {
    return fail(std::string("fake cuda: ") + Call::name + ": " + e.what());
  } catch (...) {
    return fail(std::string("fake cuda: ") + Call::name + " failed");
  }
  ++counters.kernels_run;
}

// A kernel call from the runtime: run now, or kept by the recording in progress.
template <class Call>
void issue(Call call) {
  if (Graph* g = recording) {
    if (!call.check(Use::Record)) {
      g->failed = true;
      return;
    }
    g->ops.push_back([call = std::move(call)] { execute(call, Use::Replay); });
    ++g->kernels;
    ++counters.kernels_recorded;
    return;
  }
  execute(call, Use::Direct);
}

const Kernels kKernels = {
    .unary = [](UnaryKind op, const float* x, float* y, int64_t n) { issue(Unary{op, x, y, n}); },
    .binary = [](BinaryKind op, const float* a, const float* b, float* y,
                 const Strided& s) { issue(Binary{op, a, b, y, s}); },
    .binary_scalar = [](BinaryKind op, const float* a, float s, float* y, int64_t n,
                        bool scalar_first) { issue(BinaryScalar{op, a, s, y, n, scalar_first}); },
    .where = [](const float* c, const float* a, const float* b, float* y,
                const Strided& s) { issue(Where{c, a, b, y, s}); },
    .clamp = [](const float* x, float* y, int64_t n, float lo, float hi) { issue(Clamp{x, y, n, lo, hi}); },
    .reduce = [](ReduceKind op, const float* x, float* y, int64_t outer, int64_t n,
                 int64_t inner) { issue(Reduce{op, x, y, outer, n, inner}); },
    .softmax = [](const float* x, float* y, int64_t rows, int64_t n, bool log) { issue(Softmax{x, y, rows, n, log}); },
    .layer_norm = [](const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n,
                     float eps) { issue(LayerNorm{x, w, b, y, rows, n, eps}); },
    .gemm = [](bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a,
               int64_t stride_b, int64_t stride_c) {
      issue(Gemm{trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, batch, stride_a, stride_b, stride_c});
    },
    .linear = [](const float* x, const float* w, const float* b, float* y, int64_t m, int64_t n, int64_t k,
                 Activation act) { issue(Linear{x, w, b, y, m, n, k, act}); },
    .elementwise = [](const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                      float* y, const EwPlan& s) { issue(Elementwise(steps, nsteps, arity, inputs, scalars, y, s)); },
    .permute = [](const float* x, float* y, int ndim, const int64_t* shape,
                  const int64_t* in_stride) { issue(Permute(x, y, ndim, shape, in_stride)); },
};

// ---------------------------------------------------------------- recording

bool fake_capture_begin() {
  if (recording) {
    fail("fake cuda: capture_begin while this thread is already recording");
    return false;
  }
  recording = new Graph;
  return true;
}

void* fake_capture_end() {
  Graph* g = recording;
  if (!g) {
    fail("fake cuda: capture_end without capture_begin");
    return nullptr;
  }
  recording = nullptr;
  if (g->failed) {
    pending_error.clear();
    release_reserved(g);
    delete g;
    return nullptr;
  }
  ++counters.graphs;
  ++counters.graphs_live;
  return g;
}

bool fake_graph_launch(void* graph) {
  if (!graph) {
    fail("fake cuda: graph_launch got no graph");
    return false;
  }
  const uint64_t nth = ++counters.launches;
  if (config().fail_launch && nth == config().fail_launch) {
    fail("fake cuda: injected graph launch failure");
    return false;
  }
  for (const auto& op : static_cast<const Graph*>(graph)->ops) op();
  ++counters.replays;
  return true;
}

void fake_graph_destroy(void* graph) {
  if (!graph) return;
  Graph* g = static_cast<Graph*>(graph);
  release_reserved(g);
  delete g;
  --counters.graphs_live;
}

void fake_prepare() { cpu_device().prepare(); }
void fake_synchronize() {}  // every fake copy and kernel is done when its call returns

const Device kDevice = {
    .name = "cuda",
    .alloc = fake_alloc,
    .free = fake_free,
    .to_device = fake_to_device,
    .to_host = fake_to_host,
    .kernels = &kKernels,
    .prepare = fake_prepare,
    .synchronize = fake_synchronize,
    .last_error = fake_last_error,
    .capture_begin = fake_capture_begin,
    .capture_end = fake_capture_end,
    .graph_launch = fake_graph_launch,
    .graph_destroy = fake_graph_destroy,
};

}  // namespace
}  // namespace tvm::fakecuda

// ---------------------------------------------------------------- the exported entry points

#define TVM_FAKECUDA_EXPORT extern "C" __attribute__((visibility("default")))

TVM_FAKECUDA_EXPORT int tvm_cuda_plugin_open(const tvm::Device** device, char* why, size_t why_len) {
  const std::string& mode = tvm::fakecuda::config().open;
  int status = 0;
  std::string line;
  if (mode == "nodriver") status = 1, line = "no CUDA driver is installed (fake)";
  else if (mode == "nogpu") status = 2, line = "no CUDA-capable GPU (fake)";
  else if (mode == "fail") status = 3, line = "cannot open the GPU: cudaErrorUnknown (fake)";
  else if (!mode.empty()) status = 3, line = "TVM_FAKECUDA_OPEN=" + mode + " is not nodriver, nogpu or fail (fake)";
  if (device) *device = status == 0 ? &tvm::fakecuda::kDevice : nullptr;
  if (why && why_len > 0) std::snprintf(why, why_len, "%s", line.c_str());
  return status;
}

TVM_FAKECUDA_EXPORT const char* tvm_cuda_plugin_version(void) {
  return "tvm-fakecuda " TVM_VERSION " (a fake CUDA device: the CPU's kernels behind tagged pointers, for tests)";
}

TVM_FAKECUDA_EXPORT int tvm_cuda_plugin_abi(void) { return tvm::kDeviceAbi; }

// The counters as one line: "live_bytes=... peak_bytes=... live_blocks=... kernels_run=...
// kernels_recorded=... graphs=... graphs_live=... replays=... errors=...".
// Returns what snprintf returns.
TVM_FAKECUDA_EXPORT int tvm_fakecuda_stats(char* buf, size_t len) {
  using namespace tvm::fakecuda;
  uint64_t live, peak, blocks;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    live = r.live_bytes;
    peak = r.peak_bytes;
    blocks = r.blocks.size();
  }
  auto u = [](const std::atomic<uint64_t>& a) { return (unsigned long long)a.load(); };
  return std::snprintf(buf, len,
                       "live_bytes=%llu peak_bytes=%llu live_blocks=%llu kernels_run=%llu kernels_recorded=%llu "
                       "graphs=%llu graphs_live=%llu replays=%llu errors=%llu",
                       (unsigned long long)live, (unsigned long long)peak, (unsigned long long)blocks,
                       u(counters.kernels_run), u(counters.kernels_recorded),
                       u(counters.graphs), u(counters.graphs_live), u(counters.replays), u(counters.errors));
}
