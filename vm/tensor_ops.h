// Tensor semantics (LANGUAGE.md §2, §3, §7): operators with NumPy broadcasting, torch.matmul,
// indexing and slicing, reductions, the tensor builtins and methods. Everything computes
// through the device's kernel table (vm/device.h); this file plans shapes and strides, checks
// them, and allocates results from the tensor pool. Values returned are new references;
// arguments are borrowed.
#pragma once

#include <span>
#include <string>

#include "code.h"
#include "device.h"
#include "ops.h"
#include "tensor.h"

namespace tvm {

class VM;

// The rows of the tensor builtins (joined to the general table by builtins()).
std::span<const BuiltinDef> tensor_builtin_rows();
// The tensor method `name` (`x.sum(axis=1)` is `sum(x, axis=1)`): a builtin's row, or null.
const BuiltinDef* tensor_method(std::string_view name);

// Operators, for ops.cpp: at least one operand is a tensor. Undefined when the operator does
// not apply to these operands (the caller then reports them as Python does).
Value tensor_binary(BinaryOp op, Value a, Value b);
// Elementwise comparison of a tensor with a tensor or number; Undefined when the other
// operand is neither (the caller then applies Python's rules).
Value tensor_compare(CompareOp op, Value a, Value b);
Value tensor_unary(UnaryKind op, const TensorObj* x);
// act(linear(x, w, b)) with linear()'s argument checks, shape rules and messages ("linear:
// shapes (2, 3) and (4, 5) do not match"); b Undefined or None: no bias. The bias and the
// activation are the device's linear epilogue (the fused GEMM, vm/fused.h).
Value tensor_linear(Value x, Value w, Value b, Activation act);

// NumPy broadcasting of shapes a and b: the result's rank into *rank and its dimensions into
// out (room for kMaxRank); false when they do not broadcast (the operators then raise
// "'+': shapes (2,) and (3,) cannot be broadcast").
bool broadcast_shapes(std::span<const int64_t> a, std::span<const int64_t> b, int64_t* out, int* rank);
// The plan for reading each of `operands` (null: a number, stride 0 everywhere), each
// broadcastable to `shape`, as elementwise kernels take it: size-1 dimensions dropped and
// neighbours contiguous in every operand merged; rank 1 at least.
EwPlan broadcast_plan(std::span<const int64_t> shape, std::span<const TensorObj* const> operands);
// Truth of a one-element tensor; "truth value of a tensor with N elements is ambiguous".
bool tensor_truthy(const TensorObj* t);
// The element of a one-element tensor, as float(x) and item(x) give it.
double tensor_item(const TensorObj* t, const char* fn);

Value tensor_get_item(const TensorObj* t, Value index);
// x.shape, x.ndim, x.T; Undefined for any other name.
Value tensor_attr(const TensorObj* t, std::string_view name);
// Row `i` along the first dimension (iteration), or Undefined past the end.
Value tensor_row(const TensorObj* t, int64_t i);
bool tensor_contains(const TensorObj* t, Value item);
void append_tensor_repr(std::string& out, const TensorObj* t);
// f"{x:spec}": a rank-0 tensor formats its value (as torch); others take only "".
std::string format_tensor_value(const TensorObj* t, std::string_view spec);

// Branches of the general builtins, taken when their first argument is a tensor.
Value tensor_reduce_call(ReduceKind op, const CallArgs& a, const char* name);
Value tensor_min_max_call(const CallArgs& a, bool is_max);

// Annotation checks: does tensor t fit `Tensor[d, ...]`? Named dims are looked up in and
// bound into `bound` (indexed by Annotation::Dim::index; -1 = not bound yet).
bool tensor_matches(const Annotation& a, const TensorObj* t, int64_t* bound);


}  // namespace tvm
