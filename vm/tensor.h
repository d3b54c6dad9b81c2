// The tensor: dense, row-major, contiguous float32, rank 0 to 8, immutable (DESIGN.md, Runtime).
//
// A TensorObj and its data are one block from a per-thread pool of size classes (vm/tensor.cpp),
// so a steady-state loop of tensor ops does no heap allocation: a dying intermediate's block
// is the next op's result. The data is 64-byte aligned. Tensors are immutable once a builtin
// has returned them, which is what lets a package share its weights between threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "object.h"

namespace tvm {

constexpr int kMaxRank = 8;

struct Device;

struct TensorObj : Obj {
  uint8_t ndim = 0;
  uint8_t size_class = 0;  // the pool's bucket for this block (kHugeClass: allocated alone)
  int64_t numel = 1;
  int64_t shape[kMaxRank] = {};
  // numel floats, 64-byte aligned. On the host (device null: the CPU device) in the same block
  // as the header; on another device (a GPU) the header is on the host and the data is device
  // memory the host must not touch: copy it (tensor_to_host) to read it.
  float* data = nullptr;
  const Device* device = nullptr;

  std::span<const int64_t> dims() const { return {shape, ndim}; }
  TensorObj() : Obj(ObjType::Tensor) {}
};

inline bool is_tensor(Value v) { return is_type(v, ObjType::Tensor); }
inline TensorObj* as_tensor(Value v) { return as_obj<TensorObj>(v); }

// A new tensor of `shape` (a new reference) whose data is uninitialised. Throws RuntimeError
// for a rank above 8, a negative dimension ("negative dimension -1"), or a size that does not
// fit in memory ("tensor of shape (...) is too large").
TensorObj* new_tensor(std::span<const int64_t> shape);
// Same shape as t.
TensorObj* new_tensor_like(const TensorObj* t);
// A tensor of `shape` whose data is `data`: memory the tensor does not own (a package's weights,
// vm/program.h). Only its header is allocated; freeing it leaves the data alone. data must be
// 64-byte aligned and outlive the tensor.
TensorObj* new_tensor_external(std::span<const int64_t> shape, float* data);
// Freed by destroy_object: the block goes back to this thread's pool.
void free_tensor(TensorObj* t);

// Moves an external tensor's data (a loaded package's weight) to `device`, which the tensor then
// owns: how a package's weights are uploaded once at load. Throws as new_tensor_on.
void move_external_tensor(TensorObj* t, const Device* device);

// A new tensor on `device` (null or the CPU device: new_tensor). Throws as new_tensor, and a
// RuntimeError with exit code 4 when the device is out of memory or reports a failure.
TensorObj* new_tensor_on(std::span<const int64_t> shape, const Device* device);
// The device a tensor's data is on (the CPU device for host tensors).
const Device& device_of(const TensorObj* t);
inline bool on_host(const TensorObj* t) { return t->device == nullptr; }
// t on `device` (null: the host): t itself (a new reference) when it is there already, else a
// copy. Copies from a device wait for its queued work.
TensorObj* tensor_to(const TensorObj* t, const Device* device);
inline TensorObj* tensor_to_host(const TensorObj* t) { return tensor_to(t, nullptr); }
// Throws a RuntimeError with exit code 4 when `device` (not the CPU) reports a failure since the
// last check (its last_error).
void check_device(const Device* device);

// Where tensors made from host data go (tensor(), zeros(), rand(), load(), ...): null for the
// host, else a device (tvm-run --device cuda script.tl; a package placed on a GPU while it
// runs). Per thread.
const Device* default_device();
void set_default_device(const Device* device);
// Sets the default device for a scope, then puts the previous one back.
class DefaultDeviceScope {
 public:
  explicit DefaultDeviceScope(const Device* device) : saved_(default_device()) { set_default_device(device); }
  ~DefaultDeviceScope() { set_default_device(saved_); }
  DefaultDeviceScope(const DefaultDeviceScope&) = delete;
  DefaultDeviceScope& operator=(const DefaultDeviceScope&) = delete;

 private:
  const Device* saved_;
};
// A fresh host tensor moved to the default device: t itself when that is the host, else its
// device copy (t is released). Takes and returns new references.
TensorObj* to_default_device(TensorObj* t);

// "(2, 3)", "(5,)", "()": a shape as a Python tuple, for messages.
std::string shape_str(std::span<const int64_t> shape);
// "Tensor[2, 3]": the annotation-style spelling used by annotation messages.
std::string tensor_type_str(std::span<const int64_t> shape);

// Bytes the pool holds in free blocks on this thread (tests), and a way to empty it.
size_t tensor_pool_free_bytes();
void tensor_pool_trim();
// Blocks taken from the system allocator so far on this thread (tests check it stays flat).
uint64_t tensor_pool_system_allocations();

}  // namespace tvm
