// The tensor object and its pool.
//
// A tensor is one block: the TensorObj header in the first kHeader bytes, its data after it,
// 64-byte aligned. Blocks come in size classes — multiples of 64 bytes up to 1 KiB, then four
// classes per power of two (at most 25% slack) — and a freed block goes onto its thread's free
// list for its class, so the next tensor of a similar size reuses it without allocating.
// Blocks come from and go back to the CPU device's allocator (vm/device.h). A thread keeps at
// most kMaxCachedBytes in free blocks; past that, and for blocks above the largest class,
// memory goes straight back to the device.
#include "tensor.h"

#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "device.h"
#include "error.h"

namespace tvm {
namespace {

constexpr size_t kHeader = 128;
static_assert(sizeof(TensorObj) <= kHeader, "the tensor header must fit before the data");
constexpr size_t kMaxClassBytes = size_t(1) << 30;    // larger blocks are allocated alone
constexpr size_t kMaxCachedBytes = size_t(1) << 30;   // free bytes a thread may keep
constexpr uint8_t kHugeClass = 255;
constexpr uint8_t kExternalClass = 254;  // a header alone: the data belongs to someone else
constexpr uint8_t kDeviceClass = 253;    // a header alone, its data from t->device's alloc
// A tensor may not need more than this many bytes (so sizes never overflow size_t).
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 46;

// Class index and size for a block of `bytes` (<= kMaxClassBytes).
// Classes 1..16: 64·i bytes. Then, for each doubling (1 KiB, 2 KiB], ...: four steps.
uint8_t size_class_of(size_t bytes) {
  if (bytes <= 1024) return uint8_t((bytes + 63) / 64);
  int k = 63 - __builtin_clzll(uint64_t(bytes - 1));  // 2^k < bytes <= 2^(k+1), k >= 10
  size_t step = size_t(1) << (k - 2);
  size_t steps = (bytes - (size_t(1) << k) + step - 1) / step;  // 1..4
  return uint8_t(16 + (k - 10) * 4 + steps);
}
size_t class_bytes(uint8_t c) {
  if (c <= 16) return size_t(c) * 64;
  int k = (c - 17) / 4 + 10;
  size_t steps = (c - 17) % 4 + 1;
  return (size_t(1) << k) + steps * (size_t(1) << (k - 2));
}
constexpr int kNumClasses = 16 + (30 - 10) * 4 + 1;

struct Pool {
  std::vector<void*> free[kNumClasses];
  size_t free_bytes = 0;
  uint64_t system_allocations = 0;
  ~Pool();
};

// Set while this thread's pool exists: a tensor freed during thread exit, after the pool is
// gone, goes straight back to the system.
thread_local bool pool_alive = false;
thread_local Pool pool;

Pool& this_pool() {
  pool_alive = true;  // first use constructs it
  return pool;
}

Pool::~Pool() {
  pool_alive = false;
  for (auto& list : free)
    for (void* p : list) cpu_device().free(p);
}

// Blocks come from the CPU device's memory (the header and the data share the block).
void* system_alloc(size_t bytes) {
  void* p = cpu_device().alloc(bytes);
  if (!p) throw RuntimeError("out of memory: cannot allocate a tensor of " + std::to_string(bytes) + " bytes");
  return p;
}

// The element count of a new tensor of `shape`, after the checks every new tensor passes.
uint64_t checked_numel(std::span<const int64_t> shape) {
  if (shape.size() > size_t(kMaxRank))
    throw RuntimeError("tensors have at most 8 dimensions, not " + std::to_string(shape.size()));
  uint64_t numel = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) throw RuntimeError("negative dimension " + std::to_string(d) + " in shape " + shape_str(shape));
    overflow |= __builtin_mul_overflow(numel, uint64_t(d), &numel);
  }
  if (overflow || numel > kMaxTensorBytes / 4)
    throw RuntimeError("tensor of shape " + shape_str(shape) + " is too large");
  return numel;
}

thread_local const Device* the_default_device = nullptr;

}  // namespace

std::string shape_str(std::span<const int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::string tensor_type_str(std::span<const int64_t> shape) {
  std::string s = "Tensor[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

TensorObj* new_tensor(std::span<const int64_t> shape) {
  const uint64_t numel = checked_numel(shape);
  size_t bytes = kHeader + ((size_t(numel) * 4 + 63) & ~size_t(63));

  void* block;
  uint8_t cls;
  if (bytes > kMaxClassBytes) {
    cls = kHugeClass;
    block = system_alloc(bytes);
  } else {
    cls = size_class_of(bytes);
    Pool& p = this_pool();
    auto& list = p.free[cls];
    if (!list.empty()) {
      block = list.back();
      list.pop_back();
      p.free_bytes -= class_bytes(cls);
    } else {
      block = system_alloc(class_bytes(cls));
      ++p.system_allocations;
    }
  }
  auto* t = new (block) TensorObj();
  t->size_class = cls;
  t->ndim = uint8_t(shape.size());
  t->numel = int64_t(numel);
  for (size_t i = 0; i < shape.size(); ++i) t->shape[i] = shape[i];
  t->data = reinterpret_cast<float*>(static_cast<char*>(block) + kHeader);
  return t;
}

TensorObj* new_tensor_like(const TensorObj* t) { return new_tensor_on(t->dims(), t->device); }

TensorObj* new_tensor_external(std::span<const int64_t> shape, float* data) {
  if (shape.size() > size_t(kMaxRank))
    throw RuntimeError("tensors have at most 8 dimensions, not " + std::to_string(shape.size()));
  auto* t = new TensorObj();
  t->size_class = kExternalClass;
  t->ndim = uint8_t(shape.size());
  t->numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    t->shape[i] = shape[i];
    t->numel *= shape[i];
  }
  t->data = data;
  return t;
}

void free_tensor(TensorObj* t) {
  uint8_t cls = t->size_class;
  if (cls == kDeviceClass) {
    if (t->data) t->device->free(t->data);
    delete t;
    return;
  }
  if (cls == kExternalClass) {
    delete t;
    return;
  }
  t->~TensorObj();
  void* block = t;
  if (cls == kHugeClass || !pool_alive) {
    cpu_device().free(block);
    return;
  }
  Pool& p = pool;
  size_t bytes = class_bytes(cls);
  if (p.free_bytes + bytes > kMaxCachedBytes) {
    cpu_device().free(block);
    return;
  }
  try {
    p.free[cls].push_back(block);
  } catch (const std::bad_alloc&) {
    cpu_device().free(block);
    return;
  }
  p.free_bytes += bytes;
}

void check_device(const Device* device) {
  if (!device || !device->last_error) return;
  const char* e = device->last_error();
  if (e && *e) throw RuntimeError(std::string(device->name) + ": " + e, kExitDevice);
}

TensorObj* new_tensor_on(std::span<const int64_t> shape, const Device* device) {
  if (!device || device == &cpu_device()) return new_tensor(shape);
  // Every op allocates its result first: a failure the device queued since the last op is
  // reported here, before more work is queued behind it.
  check_device(device);
  const uint64_t numel = checked_numel(shape);
  const size_t bytes = (size_t(numel) * 4 + 63) & ~size_t(63);
  float* data = nullptr;
  if (bytes) {
    data = static_cast<float*>(device->alloc(bytes));
    if (!data) {
      check_device(device);
      throw RuntimeError(std::string(device->name) + ": out of device memory (a tensor of shape " + shape_str(shape) +
                             " needs " + std::to_string(bytes) + " bytes)",
                         kExitDevice);
    }
  }
  TensorObj* t;
  try {
    t = new TensorObj();
  } catch (const std::bad_alloc&) {
    if (data) device->free(data);
    throw;
  }
  t->size_class = kDeviceClass;
  t->device = device;
  t->ndim = uint8_t(shape.size());
  t->numel = int64_t(numel);
  for (size_t i = 0; i < shape.size(); ++i) t->shape[i] = shape[i];
  t->data = data;
  return t;
}

void move_external_tensor(TensorObj* t, const Device* device) {
  if (t->size_class != kExternalClass || !device || device == &cpu_device()) return;
  TensorObj* d = new_tensor_on(t->dims(), device);
  if (t->numel) device->to_device(d->data, t->data, size_t(t->numel) * 4);
  if (device->synchronize) device->synchronize();  // shared by every thread's queue
  // t takes over d's data; d, now a header without data, goes.
  t->data = std::exchange(d->data, nullptr);
  t->device = device;
  t->size_class = kDeviceClass;
  decref(d);
  check_device(device);
}

const Device& device_of(const TensorObj* t) { return t->device ? *t->device : cpu_device(); }

TensorObj* tensor_to(const TensorObj* t, const Device* device) {
  if (device == &cpu_device()) device = nullptr;
  if (t->device == device) {
    incref(const_cast<TensorObj*>(t));
    return const_cast<TensorObj*>(t);
  }
  const size_t bytes = size_t(t->numel) * 4;
  if (!t->device) {  // host to device
    TensorObj* r = new_tensor_on(t->dims(), device);
    if (bytes) device->to_device(r->data, t->data, bytes);
    return r;
  }
  // Device to host (then on to another device, if asked).
  TensorObj* h = new_tensor(t->dims());
  Ref held = Ref::steal(Value::object(h));
  if (bytes) t->device->to_host(h->data, t->data, bytes);
  check_device(t->device);
  if (!device) {
    held.release();
    return h;
  }
  return tensor_to(h, device);
}

const Device* default_device() { return the_default_device; }
void set_default_device(const Device* device) {
  the_default_device = device == &cpu_device() ? nullptr : device;
}

TensorObj* to_default_device(TensorObj* t) {
  if (!the_default_device || t->device == the_default_device) return t;
  Ref held = Ref::steal(Value::object(t));
  return tensor_to(t, the_default_device);
}

size_t tensor_pool_free_bytes() { return pool_alive ? pool.free_bytes : 0; }

void tensor_pool_trim() {
  if (!pool_alive) return;
  for (auto& list : pool.free) {
    for (void* p : list) cpu_device().free(p);
    list.clear();
  }
  pool.free_bytes = 0;
}

uint64_t tensor_pool_system_allocations() { return pool_alive ? pool.system_allocations : 0; }

}  // namespace tvm
