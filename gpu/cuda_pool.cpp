// The CUDA device's caching allocator (Device::alloc / free): cudaMalloc and cudaFree
// synchronize the whole device and cost tens of microseconds, so freed blocks are kept and
// handed out again.
//
// Size classes: powers of two from 256 bytes up to 1 MiB, then four classes per power of two
// (at most 25% slack for large tensors). cudaMalloc aligns every block to 256 bytes, more than
// the 64 the interface promises.
//
// Stream ordering. Kernels run asynchronously on per-thread streams, so a block freed by the host
// may still be in use by queued work. When a thread frees a block, an event is recorded on its
// stream; the block is handed out again at once to the same stream (stream order makes that
// safe) and to another thread's stream only behind that event (cudaStreamWaitEvent: the GPU
// waits, the host does not). A block is thus safe to reuse after the freeing thread's queued
// work. (A block another thread is still writing when this one frees it is a race in the caller,
// as it would be on the CPU.)
//
// When cudaMalloc fails, every cached block is released (after its event) and the allocation
// is tried once more; then alloc returns null.
//
// Recording (CUDA graphs, cuda_device.cu). Nothing runs while a thread records, and the graph
// replays later, on whatever stream launches it, so stream order means nothing for the blocks
// the recording uses. capture_begin waits for the thread's stream first, so the blocks that
// stream freed are idle; while recording, alloc hands out only idle blocks (this stream's, ones
// with no event, ones whose event has completed: waiting on an event from outside a capture is
// not something a recording can express) or new ones from cudaMalloc, and never releases the
// cache (cudaFree synchronizes). A block the recording thread frees is not free: its replays
// will write it, so it is reserved for the recording (pool_reserve) until graph_destroy, when
// the replays are done and it comes back free with no event.
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda_internal.h"

#pragma GCC visibility push(hidden)

namespace tvm::cuda {
namespace {

constexpr int kSmallClasses = 13;     // 256 B .. 1 MiB, powers of two
constexpr int kLargeFirstLog2 = 20;   // then (1 MiB, 2 MiB], ... in quarter steps
constexpr int kMaxLog2 = 46;          // blocks up to 64 TiB
constexpr int kNumClasses = kSmallClasses + (kMaxLog2 - kLargeFirstLog2) * 4;

int floor_log2(uint64_t v) { return 63 - __builtin_clzll(v); }

// The class for `bytes` (<= 2^kMaxLog2), and its block size.
int class_of(size_t bytes) {
  if (bytes <= 256) return 0;
  if (bytes <= (size_t(1) << kLargeFirstLog2)) return floor_log2(bytes - 1) + 1 - 8;
  const int k = floor_log2(bytes - 1);  // 2^k < bytes <= 2^(k+1)
  const size_t step = size_t(1) << (k - 2);
  const size_t steps = (bytes - (size_t(1) << k) + step - 1) / step;  // 1..4
  return kSmallClasses + (k - kLargeFirstLog2) * 4 + int(steps) - 1;
}
size_t class_bytes(int c) {
  if (c < kSmallClasses) return size_t(256) << c;
  const int k = (c - kSmallClasses) / 4 + kLargeFirstLog2;
  const size_t steps = size_t((c - kSmallClasses) % 4 + 1);
  return (size_t(1) << k) + steps * (size_t(1) << (k - 2));
}

struct Block {
  void* p;
  cudaEvent_t ready;    // recorded on `stream` when freed; null: no work was queued
  cudaStream_t stream;  // the freeing thread's stream (null: none)
};

class Pool {
 public:
  void* alloc(size_t bytes);
  void free(void* p, bool synchronized);
  void release_cached();
  void reserve(Recording& r, void* p);
  void release_reserved(Recording& r);

 private:
  std::mutex mu_;
  std::vector<Block> free_[kNumClasses];
  std::unordered_map<void*, int> live_;      // block -> class
  std::unordered_map<void*, int> reserved_;  // blocks a recording keeps -> class
  std::vector<cudaEvent_t> spare_events_;

  cudaEvent_t take_event();  // under mu_: a spare event, or a new one
};

// Leaked on purpose: blocks may be freed by thread-exit destructors after static destruction.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

cudaEvent_t Pool::take_event() {
  if (!spare_events_.empty()) {
    cudaEvent_t e = spare_events_.back();
    spare_events_.pop_back();
    return e;
  }
  cudaEvent_t e = nullptr;
  if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return e;
}

// While recording, how many other streams' blocks alloc asks about (cudaEventQuery) before it
// takes new memory instead.
constexpr int kRecordingQueries = 4;

void* Pool::alloc(size_t bytes) {
  if (bytes > (size_t(1) << kMaxLog2)) return nullptr;
  const int cls = class_of(bytes);
  ThreadContext* ctx = existing_context();
  cudaStream_t mine = ctx ? ctx->stream : nullptr;
  const bool recording = ctx && ctx->recording;
  // cudaMalloc and cudaEventQuery are refused on a recording thread unless relaxed: neither
  // is part of the recording, nor touches its stream.
  RelaxedCapture relaxed(recording);

  Block b{};
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& list = free_[cls];
    // Prefer a block this stream freed (no wait), the most recent first (warm in L2); while
    // recording, any idle one (see the file's header).
    size_t pick = list.size();
    for (size_t i = list.size(); i-- > 0;)
      if (list[i].stream == mine || (recording && !list[i].ready)) {
        pick = i;
        break;
      }
    if (pick == list.size() && !list.empty()) {
      if (!recording) {
        pick = list.size() - 1;
      } else {
        for (size_t i = list.size(), asked = 0; i-- > 0 && asked < kRecordingQueries; ++asked) {
          if (cudaEventQuery(list[i].ready) == cudaSuccess) {
            pick = i;
            break;
          }
          cudaGetLastError();  // cudaErrorNotReady: not for the next launch check to see
        }
      }
    }
    if (pick < list.size()) {
      b = list[pick];
      list[pick] = list.back();
      list.pop_back();
      live_.emplace(b.p, cls);
      found = true;
    }
  }
  if (found) {
    if (b.ready) {
      if (!recording && (b.stream != mine || !mine)) {
        // Another stream's block: this stream waits for the work queued before it was freed
        // (or the host does, when this thread has no stream yet).
        cudaError_t e = mine ? cudaStreamWaitEvent(mine, b.ready, 0) : cudaEventSynchronize(b.ready);
        if (e != cudaSuccess) {
          cudaGetLastError();
          cudaEventSynchronize(b.ready);
          cudaGetLastError();
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      spare_events_.push_back(b.ready);
    }
    return b.p;
  }

  const size_t size = class_bytes(cls);
  void* p = nullptr;
  if (cudaError_t e = cudaMalloc(&p, size); e != cudaSuccess) {
    cudaGetLastError();  // out of memory is not sticky: cleared, so no launch check sees it
    // Anything else (a fault an earlier kernel left, which cudaMalloc may be the first to
    // report) is that error, not "out of device memory", and the cache is no use then.
    if (e != cudaErrorMemoryAllocation) {
      record_cuda_error("alloc", e);
      return nullptr;
    }
    if (recording) return nullptr;  // the cache cannot be released now: the plain call can
    release_cached();
    if (cudaMalloc(&p, size) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  live_.emplace(p, cls);
  return p;
}

// A thread with no context (it never queued CUDA work) frees a block as idle at once: the
// device interface's rule is that work on another thread's stream has been waited for
// (Device::synchronize, or a call's synchronous to_host) before another thread drops the last
// reference to what it uses (vm/device.h), as a package's weights are when it is unloaded.
void Pool::free(void* p, bool synchronized) {
  if (!p) return;
  ThreadContext* ctx = synchronized ? nullptr : existing_context();
  if (ctx && ctx->recording) {  // the recording's replays will use it: kept until graph_destroy
    reserve(*ctx->recording, p);
    return;
  }
  Block b{p, nullptr, nullptr};
  int cls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {
      record_error("CUDA free: the pointer was not allocated by this device");
      return;
    }
    cls = it->second;
    live_.erase(it);
    if (ctx) b.ready = take_event();
  }
  if (ctx) {
    b.stream = ctx->stream;
    if (!b.ready || cudaEventRecord(b.ready, ctx->stream) != cudaSuccess) {
      // No event to order the reuse by: wait for this stream's work here instead.
      cudaGetLastError();
      cudaStreamSynchronize(ctx->stream);
      cudaGetLastError();
      if (b.ready) {
        std::lock_guard<std::mutex> lock(mu_);
        spare_events_.push_back(b.ready);
      }
      b.ready = nullptr;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  free_[cls].push_back(b);
}

void Pool::release_cached() {
  if (ThreadContext* ctx = existing_context(); ctx && ctx->recording) return;
  std::vector<Block> blocks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& list : free_) {
      blocks.insert(blocks.end(), list.begin(), list.end());
      list.clear();
    }
  }
  for (const Block& b : blocks) {
    if (b.ready) cudaEventSynchronize(b.ready);
    cudaFree(b.p);
  }
  cudaGetLastError();
  std::lock_guard<std::mutex> lock(mu_);
  for (const Block& b : blocks)
    if (b.ready) spare_events_.push_back(b.ready);
}

void Pool::reserve(Recording& r, void* p) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it != live_.end()) {
      r.owned.push_back(p);  // first: if it throws, the block is still live, not lost
      reserved_.emplace(p, it->second);
      live_.erase(it);
      return;
    }
  }
  record_error("CUDA free: the pointer was not allocated by this device");
}

void Pool::release_reserved(Recording& r) {
  std::lock_guard<std::mutex> lock(mu_);
  for (void* p : r.owned) {
    auto it = reserved_.find(p);
    if (it == reserved_.end()) continue;
    free_[it->second].push_back(Block{p, nullptr, nullptr});
    reserved_.erase(it);
  }
  r.owned.clear();
}

}  // namespace

void* pool_alloc(size_t bytes) { return pool().alloc(bytes); }
void pool_free(void* p) { pool().free(p, false); }
void pool_free_synchronized(void* p) { pool().free(p, true); }
void pool_release_cached() { pool().release_cached(); }
void pool_reserve(Recording& r, void* p) { pool().reserve(r, p); }
void pool_release_reserved(Recording& r) { pool().release_reserved(r); }

}  // namespace tvm::cuda

#pragma GCC visibility pop
