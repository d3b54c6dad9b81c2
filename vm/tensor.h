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

struct TensorObj : Obj {
  uint8_t ndim = 0;
  uint8_t size_class = 0;  // the pool's bucket for this block (kHugeClass: allocated alone)
  int64_t numel = 1;
  int64_t shape[kMaxRank] = {};
  float* data = nullptr;   // numel floats, 64-byte aligned, in the same block as the header

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
