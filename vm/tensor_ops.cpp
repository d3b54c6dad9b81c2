// Tensor semantics: shape planning, checks and allocation around the device's kernels.
//
// Shapes travel as Dims (a fixed array, no heap), so a steady-state loop of tensor ops
// allocates nothing but pool blocks. Results are fresh tensors, never shared, so a function
// may still adjust a result's shape in place before handing it out (a reduction dropping
// its kept dimensions, a reshape of a fresh copy).
#include "tensor_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "builtins.h"
#include "error.h"
#include "tensor_io.h"
#include "tensor_print.h"
#include "vm.h"

namespace tvm {
namespace {

// The kernels of the device t's data is on.
const Kernels& kern(const TensorObj* t) { return *device_of(t).kernels; }

// ---------------------------------------------------------------- shapes

struct Dims {
  int n = 0;
  int64_t d[kMaxRank] = {};
  Dims() = default;
  explicit Dims(std::span<const int64_t> s) : n(int(s.size())) { std::copy(s.begin(), s.end(), d); }
  std::span<const int64_t> view() const { return {d, size_t(n)}; }
  void push(int64_t x) {
    if (n >= kMaxRank) throw_error("tensors have at most 8 dimensions, not " + std::to_string(n + 1));
    d[n++] = x;
  }
  int64_t numel() const {
    int64_t k = 1;
    for (int i = 0; i < n; ++i) k *= d[i];
    return k;
  }
};

// Owning handle for a fresh tensor under construction.
struct TRef {
  TensorObj* t;
  explicit TRef(TensorObj* x) : t(x) {}
  TRef(const TRef&) = delete;
  ~TRef() {
    if (t) decref(t);
  }
  TensorObj* operator->() const { return t; }
  Value release() { return Value::object(std::exchange(t, nullptr)); }
  // A tensor made on the host from host data, released to where new tensors go
  // (default_device(): the GPU under tvm-run --device cuda).
  Value placed() { return Value::object(to_default_device(std::exchange(t, nullptr))); }
};

TensorObj* alloc(const Dims& d, const TensorObj* like) { return new_tensor_on(d.view(), like->device); }

// The device of an op's tensor operands (null ones are numbers): all on one, as torch requires.
const TensorObj* same_device(const char* what, std::initializer_list<const TensorObj*> operands) {
  const TensorObj* first = nullptr;
  for (const TensorObj* t : operands) {
    if (!t) continue;
    if (!first) first = t;
    else if (t->device != first->device)
      throw_error(std::string(what) + ": expected all tensors on one device, but found " + device_of(first).name +
                  " and " + device_of(t).name);
  }
  return first;
}

// n floats from src to dst, both t's device's memory.
void copy_data(const TensorObj* t, float* dst, const float* src, int64_t n) {
  if (n == 0) return;
  if (on_host(t)) {
    std::memcpy(dst, src, size_t(n) * 4);
    return;
  }
  const int64_t one = 1;
  kern(t).permute(src, dst, 1, &n, &one);
}

// A tensor's data readable on the host: the tensor itself, or a host copy of a device tensor.
struct HostView {
  TensorObj* t;
  explicit HostView(const TensorObj* x) : t(tensor_to_host(x)) {}
  HostView(const HostView&) = delete;
  ~HostView() { decref(t); }
  const float* data() const { return t->data; }
  const TensorObj* operator->() const { return t; }
};

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

TensorObj* tensor_arg(Value v, const char* fn) {
  if (!is_tensor(v)) throw_error(std::string(fn) + ": expected a tensor, got " + quoted(type_name(v)));
  return as_tensor(v);
}

bool int_like(Value v) { return v.is_int() || v.is_bool(); }

// An axis in [-rank, rank) (rank 0 takes 0 and -1, as torch).
int norm_axis(int64_t axis, int rank, const char* fn) {
  int r = std::max(rank, 1);
  if (axis < -r || axis >= r)
    throw_error(std::string(fn) + ": dimension " + std::to_string(axis) + " is out of range for a tensor of rank " +
                std::to_string(rank));
  return int(axis < 0 ? axis + r : axis);
}

// Contiguous strides of a shape.
void strides_of(const Dims& s, int64_t* out) {
  int64_t k = 1;
  for (int i = s.n - 1; i >= 0; --i) {
    out[i] = k;
    k *= s.d[i];
  }
}

// A shape given as ints or as one tuple/list of ints (zeros(2, 3), zeros((2, 3)), reshape(x, [6])).
Dims shape_args(const Value* v, uint32_t n, const char* fn) {
  Dims d;
  if (n == 1 && (is_type(v[0], ObjType::Tuple) || is_type(v[0], ObjType::List))) {
    OwnedValues items(collect(v[0]));
    for (Value x : items.items) {
      if (!int_like(x)) throw_error(std::string(fn) + ": a shape holds ints, not " + quoted(type_name(x)));
      d.push(int_arg(x));
    }
    return d;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!int_like(v[i])) throw_error(std::string(fn) + ": a shape holds ints, not " + quoted(type_name(v[i])));
    d.push(int_arg(v[i]));
  }
  return d;
}

// ---------------------------------------------------------------- broadcasting

[[noreturn]] void broadcast_error(const char* what, std::span<const int64_t> a, std::span<const int64_t> b) {
  throw_error(std::string(what) + ": shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast");
}

Dims broadcast_shape(const char* what, std::span<const int64_t> a, std::span<const int64_t> b) {
  Dims out;
  if (!broadcast_shapes(a, b, out.d, &out.n)) broadcast_error(what, a, b);
  return out;
}

// The plan for operands (null: a number, read with stride 0 everywhere) broadcast to `out`:
// strides 0 along broadcast dimensions, size-1 dimensions dropped, and neighbours that are
// contiguous in every operand merged.
template <class Plan>
Plan plan_of(const Dims& out, const TensorObj* const* operands, int k) {
  Plan s;
  int64_t str[Plan::kMaxOperands][kMaxRank];
  for (int j = 0; j < k; ++j) {
    const TensorObj* t = operands[j];
    int64_t acc = 1;
    for (int i = out.n - 1; i >= 0; --i) {
      int ti = t ? int(t->ndim) - out.n + i : -1;
      int64_t dim = ti >= 0 ? t->shape[ti] : 1;
      str[j][i] = dim == 1 ? 0 : acc;
      acc *= dim;
    }
  }
  for (int i = 0; i < out.n; ++i) {
    if (out.d[i] == 1) continue;
    if (s.ndim > 0) {
      bool merge = true;
      for (int j = 0; j < k; ++j) merge &= s.stride[j][s.ndim - 1] == str[j][i] * out.d[i];
      if (merge) {
        s.shape[s.ndim - 1] *= out.d[i];
        for (int j = 0; j < k; ++j) s.stride[j][s.ndim - 1] = str[j][i];
        continue;
      }
    }
    s.shape[s.ndim] = out.d[i];
    for (int j = 0; j < k; ++j) s.stride[j][s.ndim] = str[j][i];
    ++s.ndim;
  }
  if (s.ndim == 0) {  // one element
    s.ndim = 1;
    s.shape[0] = 1;
    for (int j = 0; j < k; ++j) s.stride[j][0] = 0;
  }
  return s;
}
Strided plan(const Dims& out, std::initializer_list<const TensorObj*> operands) {
  return plan_of<Strided>(out, operands.begin(), int(operands.size()));
}

// ---------------------------------------------------------------- elementwise

BinaryKind binary_kind(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return BinaryKind::Add;
    case BinaryOp::Sub: return BinaryKind::Sub;
    case BinaryOp::Mul: return BinaryKind::Mul;
    case BinaryOp::Div: return BinaryKind::Div;
    case BinaryOp::FloorDiv: return BinaryKind::FloorDiv;
    case BinaryOp::Mod: return BinaryKind::Mod;
    case BinaryOp::Pow: return BinaryKind::Pow;
    default: return BinaryKind::Add;  // not elementwise: the caller rejects it first
  }
}

BinaryKind compare_kind(CompareOp op) {
  switch (op) {
    case CompareOp::Lt: return BinaryKind::Lt;
    case CompareOp::Le: return BinaryKind::Le;
    case CompareOp::Gt: return BinaryKind::Gt;
    case CompareOp::Ge: return BinaryKind::Ge;
    case CompareOp::Eq: return BinaryKind::Eq;
    case CompareOp::Ne: return BinaryKind::Ne;
  }
  return BinaryKind::Eq;
}

// a op b where each is a tensor or a number (at least one a tensor); `what` names the
// operation in shape errors.
Value elementwise(BinaryKind op, Value a, Value b, const char* what) {
  if (is_tensor(a) && is_tensor(b)) {
    const TensorObj *x = as_tensor(a), *y = as_tensor(b);
    same_device(what, {x, y});
    if (x->ndim == y->ndim && std::equal(x->shape, x->shape + x->ndim, y->shape)) {
      TRef r(new_tensor_like(x));
      Strided s;
      s.ndim = 1;
      s.shape[0] = x->numel;
      s.stride[0][0] = s.stride[1][0] = 1;
      if (x->numel) kern(x).binary(op, x->data, y->data, r->data, s);
      return r.release();
    }
    Dims out = broadcast_shape(what, x->dims(), y->dims());
    TRef r(alloc(out, x));
    if (r->numel) kern(x).binary(op, x->data, y->data, r->data, plan(out, {x, y}));
    return r.release();
  }
  bool scalar_first = !is_tensor(a);
  const TensorObj* t = as_tensor(scalar_first ? b : a);
  float s = float((scalar_first ? a : b).to_double());
  TRef r(new_tensor_like(t));
  if (t->numel) kern(t).binary_scalar(op, t->data, s, r->data, t->numel, scalar_first);
  return r.release();
}

bool tensor_or_number(Value v) { return is_tensor(v) || v.is_number(); }

// A tensor, or a number made a rank-0 tensor on like's device (where(c, 0, x)).
Value as_tensor_value(Value v, const char* fn, const TensorObj* like) {
  if (is_tensor(v)) {
    incref(v);
    return v;
  }
  if (!v.is_number()) throw_error(std::string(fn) + ": expected a tensor or a number, got " + quoted(type_name(v)));
  TRef t(new_tensor({}));
  t->data[0] = float(v.to_double());
  return Value::object(tensor_to(t.t, like->device));
}

// ---------------------------------------------------------------- copies and views

// A strided gather from `src`, in x's data (offset already applied): the result has shape `out`.
Value gather(const TensorObj* x, const float* src, const Dims& out, const int64_t* in_stride) {
  TRef r(alloc(out, x));
  if (r->numel == 0) return r.release();
  // Merge dimensions that are contiguous in the source, so whole rows are plain copies.
  int n = 0;
  int64_t shape[kMaxRank], stride[kMaxRank];
  for (int i = 0; i < out.n; ++i) {
    if (out.d[i] == 1) continue;
    if (n > 0 && stride[n - 1] == in_stride[i] * out.d[i]) {
      shape[n - 1] *= out.d[i];
      stride[n - 1] = in_stride[i];
      continue;
    }
    shape[n] = out.d[i];
    stride[n] = in_stride[i];
    ++n;
  }
  if (n == 0 || (n == 1 && stride[0] == 1)) {
    copy_data(x, r->data, src, r->numel);
    return r.release();
  }
  kern(x).permute(src, r->data, n, shape, stride);
  return r.release();
}

// x with a new shape of the same element count (a copy: tensors own their data).
Value reshaped(const TensorObj* x, const Dims& shape) {
  TRef r(alloc(shape, x));
  copy_data(x, r->data, x->data, x->numel);
  return r.release();
}

Value permuted(const TensorObj* x, const int* perm) {
  int64_t st[kMaxRank];
  Dims xs(x->dims());
  strides_of(xs, st);
  Dims out;
  int64_t in_stride[kMaxRank];
  for (int i = 0; i < x->ndim; ++i) {
    out.push(x->shape[perm[i]]);
    in_stride[i] = st[perm[i]];
  }
  return gather(x, x->data, out, in_stride);
}

Value transposed(const TensorObj* x, int d0, int d1) {
  int perm[kMaxRank];
  for (int i = 0; i < x->ndim; ++i) perm[i] = i;
  std::swap(perm[d0], perm[d1]);
  return permuted(x, perm);
}

// ---------------------------------------------------------------- matmul

[[noreturn]] void matmul_error(const TensorObj* a, const TensorObj* b) {
  throw_error("matmul: shapes " + shape_str(a->dims()) + " and " + shape_str(b->dims()) + " do not match");
}

Value matmul(const TensorObj* a, const TensorObj* b) {
  if (a->ndim == 0 || b->ndim == 0)
    throw_error("matmul: both arguments need at least 1 dimension, got shapes " + shape_str(a->dims()) + " and " +
                shape_str(b->dims()));
  same_device("matmul", {a, b});
  const Kernels& k = kern(a);
  // Matrix views: a vector a is [1, K] (dropped from the result), a vector b is [K, 1].
  int64_t m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
  int64_t ka = a->shape[a->ndim - 1];
  int64_t kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  int64_t n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
  if (ka != kb) matmul_error(a, b);
  std::span<const int64_t> abatch = a->ndim > 2 ? a->dims().first(a->ndim - 2) : std::span<const int64_t>{};
  std::span<const int64_t> bbatch = b->ndim > 2 ? b->dims().first(b->ndim - 2) : std::span<const int64_t>{};
  Dims batch;
  try {
    batch = broadcast_shape("matmul", abatch, bbatch);
  } catch (const RuntimeError&) {
    matmul_error(a, b);
  }
  Dims out = batch;
  if (a->ndim > 1) out.push(m);
  if (b->ndim > 1) out.push(n);
  TRef r(alloc(out, a));
  if (r->numel == 0) return r.release();
  if (ka == 0) {  // sums of nothing: the kernel writes β·C = 0 without reading C
    k.gemm(false, false, r->numel, 1, 0, a->data, 1, b->data, 1, 0.f, r->data, 1, 1, 0, 0, 0);
    return r.release();
  }
  int64_t nb = batch.numel();
  if (b->ndim <= 2) {  // one shared matrix b: fold a's batch into its rows, one GEMM
    k.gemm(false, false, m * (a->numel / (m * ka)), n, ka, a->data, ka, b->data, n, 0.f, r->data, n, 1, 0, 0, 0);
    return r.release();
  }
  // Batched: each output matrix's operands found through the broadcast batch index.
  int64_t ast[kMaxRank], bst[kMaxRank];
  {
    int64_t acc = m * ka;
    for (int i = batch.n - 1; i >= 0; --i) {
      int ai = int(abatch.size()) - batch.n + i;
      int64_t dim = ai >= 0 ? abatch[ai] : 1;
      ast[i] = dim == 1 ? 0 : acc;
      acc *= dim;
    }
    acc = kb * n;
    for (int i = batch.n - 1; i >= 0; --i) {
      int bi = int(bbatch.size()) - batch.n + i;
      int64_t dim = bi >= 0 ? bbatch[bi] : 1;
      bst[i] = dim == 1 ? 0 : acc;
      acc *= dim;
    }
  }
  if (batch.n == 1) {  // one batch dimension: uniform strides, one batched call
    k.gemm(false, false, m, n, ka, a->data, ka, b->data, n, 0.f, r->data, n, nb, ast[0], bst[0], m * n);
    return r.release();
  }
  int64_t idx[kMaxRank] = {};
  for (int64_t j = 0; j < nb; ++j) {
    int64_t ao = 0, bo = 0;
    for (int i = 0; i < batch.n; ++i) {
      ao += idx[i] * ast[i];
      bo += idx[i] * bst[i];
    }
    k.gemm(false, false, m, n, ka, a->data + ao, ka, b->data + bo, n, 0.f, r->data + j * m * n, n, 1, 0, 0, 0);
    for (int i = batch.n - 1; i >= 0 && ++idx[i] == batch.d[i]; --i) idx[i] = 0;
  }
  return r.release();
}

// ---------------------------------------------------------------- reductions

[[noreturn]] void empty_reduction(const char* fn) {
  throw_error(std::string(fn) + ": cannot reduce over a dimension of size 0");
}

// One axis of x: the result keeps the axis with size 1.
Value reduce_axis(ReduceKind op, const TensorObj* x, int axis, const char* fn) {
  Dims out(x->dims());
  if (out.n == 0) out.push(1);
  int64_t n = out.d[axis];
  if (n == 0 && op != ReduceKind::Sum && op != ReduceKind::Mean) empty_reduction(fn);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= out.d[i];
  for (int i = axis + 1; i < out.n; ++i) inner *= out.d[i];
  out.d[axis] = 1;
  TRef r(alloc(out, x));
  if (r->numel) kern(x).reduce(op, x->data, r->data, outer, n, inner);
  return r.release();
}

// Drops the reduced axes of a fresh result (marked in `reduced`) unless keepdims.
void finish_shape(TensorObj* r, const TensorObj* x, const bool* reduced, bool keepdims) {
  Dims d;
  for (int i = 0; i < x->ndim; ++i) {
    if (!reduced[i]) d.push(x->shape[i]);
    else if (keepdims) d.push(1);
  }
  r->ndim = uint8_t(d.n);
  std::copy(d.d, d.d + d.n, r->shape);
}

Value reduce(ReduceKind op, const TensorObj* x, Value axis, bool keepdims, const char* fn) {
  bool reduced[kMaxRank] = {};
  if (axis.is_undefined() || axis.is_none()) {  // everything
    if (x->numel == 0 && op != ReduceKind::Sum && op != ReduceKind::Mean) empty_reduction(fn);
    Dims one;
    one.push(1);
    TRef r(alloc(one, x));
    kern(x).reduce(op, x->data, r->data, 1, x->numel, 1);
    for (int i = 0; i < x->ndim; ++i) reduced[i] = true;
    finish_shape(r.t, x, reduced, keepdims);
    return r.release();
  }
  if (int_like(axis)) {
    int ax = norm_axis(int_arg(axis), x->ndim, fn);
    Ref r = Ref::steal(reduce_axis(op, x, ax, fn));
    if (x->ndim > 0) reduced[ax] = true;
    finish_shape(as_tensor(r.get()), x, reduced, keepdims);
    return r.release();
  }
  if (!is_type(axis, ObjType::Tuple) && !is_type(axis, ObjType::List))
    throw_error(std::string(fn) + ": axis must be an int or a tuple of ints, not " + quoted(type_name(axis)));
  if (op == ReduceKind::Argmax) throw_error(std::string(fn) + ": axis must be an int or None");
  OwnedValues axes(collect(axis));
  for (Value v : axes.items) {
    if (!int_like(v)) throw_error(std::string(fn) + ": axis must be an int or a tuple of ints");
    int ax = norm_axis(int_arg(v), x->ndim, fn);
    if (x->ndim == 0) continue;
    if (reduced[ax]) throw_error(std::string(fn) + ": dimension " + std::to_string(ax) + " appears more than once");
    reduced[ax] = true;
  }
  // Innermost first, each step keeping its dimension; a mean is a sum, scaled once at the end.
  ReduceKind step = op == ReduceKind::Mean ? ReduceKind::Sum : op;
  Ref cur = Ref::borrow(Value::object(x));
  int64_t count = 1;
  for (int ax = x->ndim - 1; ax >= 0; --ax) {
    if (!reduced[ax]) continue;
    count *= x->shape[ax];
    cur = Ref::steal(reduce_axis(step, as_tensor(cur.get()), ax, fn));
  }
  TensorObj* c = as_tensor(cur.get());
  TRef r(new_tensor_like(c));
  if (op == ReduceKind::Mean) {
    if (r->numel) kern(c).binary_scalar(BinaryKind::Div, c->data, float(count), r->data, r->numel, false);
  } else {
    copy_data(c, r->data, c->data, r->numel);
  }
  finish_shape(r.t, x, reduced, keepdims);
  return r.release();
}

// ---------------------------------------------------------------- creation helpers

// tensor(nested list): the shape from the first element at each depth, then every element
// checked against it.
void nested_shape(Value v, Dims& shape) {
  while (is_type(v, ObjType::List) || is_type(v, ObjType::Tuple)) {
    const auto& items =
        is_type(v, ObjType::List) ? as_obj<ListObj>(v)->items : as_obj<TupleObj>(v)->items;
    shape.push(int64_t(items.size()));
    if (items.empty()) return;
    v = items[0];
  }
}

void fill_nested(Value v, const Dims& shape, int depth, float*& out) {
  if (depth == shape.n) {
    if (is_tensor(v)) {
      const TensorObj* t = as_tensor(v);
      if (t->numel != 1)
        throw_error("tensor: only one-element tensors can be elements of a nested list");
      *out++ = HostView(t).data()[0];
      return;
    }
    if (!v.is_number())
      throw_error(std::string("tensor: expected a number or a list of numbers, got ") + quoted(type_name(v)));
    *out++ = float(v.to_double());
    return;
  }
  if (!is_type(v, ObjType::List) && !is_type(v, ObjType::Tuple))
    throw_error("tensor: ragged nested list (expected a list of length " + std::to_string(shape.d[depth]) +
                " at dimension " + std::to_string(depth) + ", got " + quoted(type_name(v)) + ")");
  const auto& items = is_type(v, ObjType::List) ? as_obj<ListObj>(v)->items : as_obj<TupleObj>(v)->items;
  if (int64_t(items.size()) != shape.d[depth])
    throw_error("tensor: ragged nested list (expected length " + std::to_string(shape.d[depth]) + " at dimension " +
                std::to_string(depth) + ", got " + std::to_string(items.size()) + ")");
  for (Value item : items) fill_nested(item, shape, depth + 1, out);
}

Value filled(const Dims& shape, float value) {
  TRef r(new_tensor(shape.view()));
  std::fill(r->data, r->data + r->numel, value);
  return r.placed();
}

float float_arg(Value v, const char* fn, const char* what) {
  if (!v.is_number()) throw_error(std::string(fn) + ": " + what + " must be a number, not " + quoted(type_name(v)));
  return float(v.to_double());
}

bool given(Value v) { return !v.is_undefined(); }
bool given_not_none(Value v) { return !v.is_undefined() && !v.is_none(); }

// The value of the first of two keyword spellings given (axis= or torch's dim=), positional i first.
Value arg2(const CallArgs& a, uint32_t i, const char* name, const char* alias, const char* fn) {
  Value v = native_arg(a, i, name, fn);
  Value w = a.kw(alias);
  if (given(w)) {
    if (given(v)) throw_error(std::string(fn) + "() got multiple values for argument '" + name + "'");
    return w;
  }
  return v;
}

bool keepdims_arg(const CallArgs& a, uint32_t i, const char* fn) {
  Value k = arg2(a, i, "keepdims", "keepdim", fn);
  return given(k) && truthy(k);
}

void tolist_into(const TensorObj* t, int depth, int64_t& offset, std::vector<Value>& out) {
  int64_t n = t->shape[depth];
  out.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    if (depth + 1 == t->ndim) {
      out.push_back(Value::number(double(t->data[offset++])));
    } else {
      std::vector<Value> row;
      try {
        tolist_into(t, depth + 1, offset, row);
      } catch (...) {
        for (Value v : row) decref(v);
        throw;
      }
      out.push_back(make_list(std::move(row)));
    }
  }
}

// ---------------------------------------------------------------- the builtins

Value bi_tensor(VM&, const CallArgs& a) {
  Value v = a.pos[0];
  if (is_tensor(v)) {  // immutable: the same value serves
    incref(v);
    return v;
  }
  Dims shape;
  nested_shape(v, shape);
  TRef r(new_tensor(shape.view()));
  float* out = r->data;
  fill_nested(v, shape, 0, out);
  return r.placed();
}

Value bi_zeros(VM&, const CallArgs& a) { return filled(shape_args(a.pos, a.npos, "zeros"), 0.f); }
Value bi_ones(VM&, const CallArgs& a) { return filled(shape_args(a.pos, a.npos, "ones"), 1.f); }

Value bi_full(VM&, const CallArgs& a) {
  Dims shape = shape_args(a.pos, 1, "full");
  return filled(shape, float_arg(a.pos[1], "full", "the fill value"));
}

Value bi_arange(VM&, const CallArgs& a) {
  Value v0 = native_arg(a, 0, "start", "arange"), v1 = native_arg(a, 1, "stop", "arange"),
        v2 = native_arg(a, 2, "step", "arange");
  double start = 0, stop, step = 1;
  if (!given_not_none(v1)) {  // arange(stop)
    float_arg(v0, "arange", "stop");
    stop = v0.to_double();
  } else {
    float_arg(v0, "arange", "start");
    float_arg(v1, "arange", "stop");
    start = v0.to_double();
    stop = v1.to_double();
  }
  if (given_not_none(v2)) {
    float_arg(v2, "arange", "step");
    step = v2.to_double();
  }
  if (step == 0) throw_error("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    throw_error("arange: start, stop and step must be finite");
  double count = std::ceil((stop - start) / step);
  if (count < 0) count = 0;
  if (count > 1e15) throw_error("arange: too many elements");
  Dims shape;
  shape.push(int64_t(count));
  TRef r(new_tensor(shape.view()));
  for (int64_t i = 0; i < r->numel; ++i) r->data[i] = float(start + double(i) * step);
  return r.placed();
}

Value bi_eye(VM&, const CallArgs& a) {
  int64_t n = int_arg(a.pos[0]);
  Value mv = native_arg(a, 1, "m", "eye");
  int64_t m = given_not_none(mv) ? int_arg(mv) : n;
  Dims shape;
  shape.push(n);
  shape.push(m);
  TRef r(new_tensor(shape.view()));
  std::fill(r->data, r->data + r->numel, 0.f);
  for (int64_t i = 0; i < std::min(n, m); ++i) r->data[i * m + i] = 1.f;
  return r.placed();
}

// rand: (u32 >> 8) · 2^-24, uniform on [0, 1) in float32 exactly.
Value bi_rand(VM& vm, const CallArgs& a) {
  vm.not_while_recording("rand()");
  TRef r(new_tensor(shape_args(a.pos, a.npos, "rand").view()));
  for (int64_t i = 0; i < r->numel; ++i) r->data[i] = float(vm.rng.next() >> 8) * 0x1p-24f;
  return r.placed();
}

// randn: Box–Muller on pairs of draws, in double, rounded to float32 (see tl(7)).
Value bi_randn(VM& vm, const CallArgs& a) {
  vm.not_while_recording("randn()");
  TRef r(new_tensor(shape_args(a.pos, a.npos, "randn").view()));
  for (int64_t i = 0; i < r->numel; i += 2) {
    double u1 = double((vm.rng.next() >> 8) + 1) * 0x1p-24;  // (0, 1]
    double u2 = double(vm.rng.next() >> 8) * 0x1p-24;        // [0, 1)
    double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
    r->data[i] = float(radius * std::cos(angle));
    if (i + 1 < r->numel) r->data[i + 1] = float(radius * std::sin(angle));
  }
  return r.placed();
}

Value bi_manual_seed(VM& vm, const CallArgs& a) {
  vm.not_while_recording("manual_seed()");
  vm.rng.seed(uint64_t(int_arg(a.pos[0])));
  return Value::none();
}

Value bi_numel(VM&, const CallArgs& a) { return Value::integer(tensor_arg(a.pos[0], "numel")->numel); }

Value bi_reshape(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "reshape");
  Dims shape = shape_args(a.pos + 1, a.npos - 1, "reshape");
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < shape.n; ++i) {
    if (shape.d[i] == -1) {
      if (infer >= 0) throw_error("reshape: only one dimension can be -1");
      infer = i;
    } else if (shape.d[i] < 0) {
      throw_error("reshape: invalid dimension " + std::to_string(shape.d[i]));
    } else if (__builtin_mul_overflow(known, shape.d[i], &known)) {
      known = -1;
      break;
    }
  }
  auto fail = [&] {
    throw_error("reshape: cannot reshape tensor of shape " + shape_str(x->dims()) + " into shape " +
                shape_str(shape.view()));
  };
  if (known < 0) fail();
  if (infer >= 0) {
    if (known == 0 || x->numel % known != 0) fail();
    shape.d[infer] = x->numel / known;
  } else if (known != x->numel) {
    fail();
  }
  return reshaped(x, shape);
}

Value bi_transpose(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "transpose");
  int d0 = norm_axis(int_arg(a.pos[1]), x->ndim, "transpose");
  int d1 = norm_axis(int_arg(a.pos[2]), x->ndim, "transpose");
  if (x->ndim == 0) return reshaped(x, Dims());  // transposing a scalar: itself
  return transposed(x, d0, d1);
}

Value bi_squeeze(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "squeeze");
  Value dv = native_arg(a, 1, "dim", "squeeze");
  Dims out;
  if (given_not_none(dv)) {
    int d = norm_axis(int_arg(dv), x->ndim, "squeeze");
    for (int i = 0; i < x->ndim; ++i)
      if (i != d || x->shape[i] != 1) out.push(x->shape[i]);
  } else {
    for (int i = 0; i < x->ndim; ++i)
      if (x->shape[i] != 1) out.push(x->shape[i]);
  }
  return reshaped(x, out);
}

Value bi_unsqueeze(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "unsqueeze");
  Value dv = native_arg(a, 1, "dim", "unsqueeze");
  if (!given(dv)) throw_error("unsqueeze() missing required argument 'dim'");
  int64_t d = int_arg(dv);
  int r = x->ndim + 1;
  if (d < -r || d >= r)
    throw_error("unsqueeze: dimension " + std::to_string(d) + " is out of range for a tensor of rank " +
                std::to_string(x->ndim));
  if (d < 0) d += r;
  Dims out;
  for (int i = 0; i < x->ndim; ++i) {
    if (i == d) out.push(1);
    out.push(x->shape[i]);
  }
  if (d == x->ndim) out.push(1);
  return reshaped(x, out);
}

Value bi_flatten(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "flatten");
  Value sv = native_arg(a, 1, "start_dim", "flatten"), ev = native_arg(a, 2, "end_dim", "flatten");
  int s = norm_axis(given(sv) ? int_arg(sv) : 0, x->ndim, "flatten");
  int e = norm_axis(given(ev) ? int_arg(ev) : -1, x->ndim, "flatten");
  if (x->ndim == 0) {
    Dims one;
    one.push(1);
    return reshaped(x, one);
  }
  if (s > e) throw_error("flatten: start_dim cannot come after end_dim");
  Dims out;
  for (int i = 0; i < s; ++i) out.push(x->shape[i]);
  int64_t k = 1;
  for (int i = s; i <= e; ++i) k *= x->shape[i];
  out.push(k);
  for (int i = e + 1; i < x->ndim; ++i) out.push(x->shape[i]);
  return reshaped(x, out);
}

// cat and stack: every input's rows of `inner` elements interleaved along `dim`.
Value join(const CallArgs& a, bool stack, const char* fn) {
  Value dv = arg2(a, 1, "dim", "axis", fn);
  OwnedValues items(collect(a.pos[0]));
  if (items.items.empty()) throw_error(std::string(fn) + ": expected a non-empty list of tensors");
  std::vector<const TensorObj*> ts;
  for (Value v : items.items) ts.push_back(tensor_arg(v, fn));
  const TensorObj* first = ts[0];
  int rank = first->ndim + (stack ? 1 : 0);
  if (rank == 0) throw_error(std::string(fn) + ": zero-dimensional tensors cannot be concatenated");
  int64_t d = given_not_none(dv) ? int_arg(dv) : 0;
  if (d < -rank || d >= rank)
    throw_error(std::string(fn) + ": dimension " + std::to_string(d) + " is out of range for a tensor of rank " +
                std::to_string(rank));
  int dim = int(d < 0 ? d + rank : d);
  for (const TensorObj* t : ts) {
    if (t->device != first->device) same_device(fn, {first, t});
    auto mismatch = [&](const std::string& where) {
      throw_error(std::string(fn) + ": shapes " + shape_str(first->dims()) + " and " + shape_str(t->dims()) +
                  " do not match" + where);
    };
    if (t->ndim != first->ndim) mismatch("");
    for (int i = 0; i < t->ndim; ++i)
      if (t->shape[i] != first->shape[i] && (stack || i != dim)) mismatch(" at dimension " + std::to_string(i));
  }
  Dims out(first->dims());
  if (stack) {
    out.n = 0;
    for (int i = 0; i < first->ndim; ++i) {
      if (i == dim) out.push(int64_t(ts.size()));
      out.push(first->shape[i]);
    }
    if (dim == first->ndim) out.push(int64_t(ts.size()));
  } else {
    int64_t total = 0;
    for (const TensorObj* t : ts) total += t->shape[dim];
    out.d[dim] = total;
  }
  int64_t outer = 1;
  for (int i = 0; i < dim; ++i) outer *= out.d[i];
  // On a device, joining along the first dimension is one copy per input; along another, the
  // rows interleave, and the inputs make the trip through the host.
  std::vector<Ref> host;
  if (!on_host(first) && outer > 1) {
    for (const TensorObj*& t : ts) {
      host.push_back(Ref::steal(Value::object(tensor_to_host(t))));
      t = as_tensor(host.back().get());
    }
  }
  TRef r(alloc(out, ts[0]));
  int64_t row = r->numel / std::max<int64_t>(outer, 1);  // elements of one outer index in the result
  int64_t col = 0;
  for (const TensorObj* t : ts) {
    int64_t chunk = outer ? t->numel / outer : 0;  // this input's elements per outer index
    for (int64_t o = 0; o < outer && chunk; ++o) copy_data(t, r->data + o * row + col, t->data + o * chunk, chunk);
    col += chunk;
  }
  if (!host.empty()) return Value::object(tensor_to(r.t, first->device));  // r freed by TRef
  return r.release();
}

Value bi_cat(VM&, const CallArgs& a) { return join(a, false, "cat"); }
Value bi_stack(VM&, const CallArgs& a) { return join(a, true, "stack"); }

Value unary_call(const CallArgs& a, UnaryKind op, const char* fn) { return tensor_unary(op, tensor_arg(a.pos[0], fn)); }
Value bi_relu(VM&, const CallArgs& a) { return unary_call(a, UnaryKind::Relu, "relu"); }
Value bi_sigmoid(VM&, const CallArgs& a) { return unary_call(a, UnaryKind::Sigmoid, "sigmoid"); }
Value bi_gelu(VM&, const CallArgs& a) { return unary_call(a, UnaryKind::Gelu, "gelu"); }
Value bi_neg(VM&, const CallArgs& a) { return unary_call(a, UnaryKind::Neg, "neg"); }

Value binary_call(const CallArgs& a, BinaryKind op, const char* fn) {
  Value x = a.pos[0], y = a.pos[1];
  if (!is_tensor(x) && !is_tensor(y)) throw_error(std::string(fn) + ": expected a tensor, got " + quoted(type_name(x)));
  if (!tensor_or_number(x) || !tensor_or_number(y))
    throw_error(std::string(fn) + ": expected a tensor or a number, got " +
                quoted(type_name(tensor_or_number(x) ? y : x)));
  return elementwise(op, x, y, fn);
}
Value bi_maximum(VM&, const CallArgs& a) { return binary_call(a, BinaryKind::Maximum, "maximum"); }
Value bi_minimum(VM&, const CallArgs& a) { return binary_call(a, BinaryKind::Minimum, "minimum"); }

Value bi_where(VM&, const CallArgs& a) {
  const TensorObj* c = tensor_arg(a.pos[0], "where");
  Ref x = Ref::steal(as_tensor_value(a.pos[1], "where", c));
  Ref y = Ref::steal(as_tensor_value(a.pos[2], "where", c));
  const TensorObj *tx = as_tensor(x.get()), *ty = as_tensor(y.get());
  same_device("where", {c, tx, ty});
  Dims out = broadcast_shape("where", c->dims(), tx->dims());
  out = broadcast_shape("where", out.view(), ty->dims());
  TRef r(alloc(out, c));
  if (r->numel) kern(c).where(c->data, tx->data, ty->data, r->data, plan(out, {c, tx, ty}));
  return r.release();
}

Value bi_clamp(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "clamp");
  // Bounds by position, or by keyword as torch (min=, max=) or as LANGUAGE.md names them (lo=, hi=).
  Value lo = arg2(a, 1, "min", "lo", "clamp"), hi = arg2(a, 2, "max", "hi", "clamp");
  if (!given_not_none(lo) && !given_not_none(hi)) throw_error("clamp: at least one of min and max must be given");
  float l = given_not_none(lo) ? float_arg(lo, "clamp", "min") : -INFINITY;
  float h = given_not_none(hi) ? float_arg(hi, "clamp", "max") : INFINITY;
  TRef r(new_tensor_like(x));
  if (x->numel) kern(x).clamp(x->data, r->data, x->numel, l, h);
  return r.release();
}

Value bi_mean(VM&, const CallArgs& a) { return tensor_reduce_call(ReduceKind::Mean, a, "mean"); }
Value bi_argmax(VM&, const CallArgs& a) { return tensor_reduce_call(ReduceKind::Argmax, a, "argmax"); }

Value bi_matmul(VM&, const CallArgs& a) {
  return matmul(tensor_arg(a.pos[0], "matmul"), tensor_arg(a.pos[1], "matmul"));
}

Value bi_linear(VM&, const CallArgs& a) {
  return tensor_linear(a.pos[0], native_arg(a, 1, "w", "linear"), native_arg(a, 2, "b", "linear"), Activation::None);
}

// softmax and log_softmax along any axis: the kernel works on the last, so another axis is
// moved there and back.
Value softmax_call(const CallArgs& a, bool log, const char* fn) {
  const TensorObj* x = tensor_arg(a.pos[0], fn);
  Value av = arg2(a, 1, "axis", "dim", fn);
  int ax = norm_axis(given_not_none(av) ? int_arg(av) : -1, x->ndim, fn);
  int last = std::max(int(x->ndim) - 1, 0);
  Ref moved = ax == last ? Ref::borrow(Value::object(x)) : Ref::steal(transposed(x, ax, last));
  const TensorObj* m = as_tensor(moved.get());
  TRef r(new_tensor_like(m));
  int64_t n = m->ndim ? m->shape[m->ndim - 1] : 1;
  if (m->numel) kern(m).softmax(m->data, r->data, m->numel / n, n, log);
  if (ax == last) return r.release();
  Value back = transposed(r.t, ax, last);
  return back;
}
Value bi_softmax(VM&, const CallArgs& a) { return softmax_call(a, false, "softmax"); }
Value bi_log_softmax(VM&, const CallArgs& a) { return softmax_call(a, true, "log_softmax"); }

Value bi_layer_norm(VM&, const CallArgs& a) {
  const TensorObj* x = tensor_arg(a.pos[0], "layer_norm");
  Value wv = native_arg(a, 1, "w", "layer_norm"), bv = native_arg(a, 2, "b", "layer_norm"),
        ev = native_arg(a, 3, "eps", "layer_norm");
  if (x->ndim == 0) throw_error("layer_norm: expected a tensor with at least 1 dimension");
  int64_t n = x->shape[x->ndim - 1];
  auto param = [&](Value v, const char* what) -> const float* {
    if (!given_not_none(v)) return nullptr;
    const TensorObj* p = tensor_arg(v, "layer_norm");
    if (p->ndim != 1 || p->shape[0] != n)
      throw_error(std::string("layer_norm: ") + what + " of shape " + shape_str(p->dims()) +
                  " does not match the last dimension of " + shape_str(x->dims()));
    same_device("layer_norm", {x, p});
    return p->data;
  };
  const float* w = param(wv, "weight");
  const float* b = param(bv, "bias");
  float eps = given_not_none(ev) ? float_arg(ev, "layer_norm", "eps") : 1e-5f;
  TRef r(new_tensor_like(x));
  if (x->numel) kern(x).layer_norm(x->data, w, b, r->data, x->numel / n, n, eps);
  return r.release();
}

Value bi_item(VM&, const CallArgs& a) { return Value::number(tensor_item(tensor_arg(a.pos[0], "item"), "item")); }

Value bi_tolist(VM&, const CallArgs& a) {
  HostView h(tensor_arg(a.pos[0], "tolist"));
  const TensorObj* t = h.t;
  if (t->ndim == 0) return Value::number(double(t->data[0]));
  std::vector<Value> out;
  int64_t offset = 0;
  try {
    tolist_into(t, 0, offset, out);
  } catch (...) {
    for (Value v : out) decref(v);
    throw;
  }
  return make_list(std::move(out));
}

std::string path_arg(Value v, const char* fn) {
  if (!is_type(v, ObjType::Str)) throw_error(std::string(fn) + ": the path must be a str, not " + quoted(type_name(v)));
  return std::string(str_view(v));
}

Value bi_load(VM&, const CallArgs& a) { return load_tensor_file(path_arg(a.pos[0], "load")); }

Value bi_save(VM& vm, const CallArgs& a) {
  vm.not_while_recording("save()");
  save_tensor_file(path_arg(a.pos[0], "save"), a.pos[1]);
  return Value::none();
}

constexpr BuiltinDef kTensorBuiltins[] = {
    // name           fn               min max  keywords
    {"tensor",       bi_tensor,       1, 1,  ""},
    {"zeros",        bi_zeros,        0, -1, ""},
    {"ones",         bi_ones,         0, -1, ""},
    {"full",         bi_full,         2, 2,  ""},
    {"arange",       bi_arange,       1, 3,  "start stop step"},
    {"eye",          bi_eye,          1, 2,  "m"},
    {"rand",         bi_rand,         0, -1, ""},
    {"randn",        bi_randn,        0, -1, ""},
    {"manual_seed",  bi_manual_seed,  1, 1,  ""},
    {"numel",        bi_numel,        1, 1,  ""},
    {"reshape",      bi_reshape,      1, -1, ""},
    {"transpose",    bi_transpose,    3, 3,  ""},
    {"squeeze",      bi_squeeze,      1, 2,  "dim"},
    {"unsqueeze",    bi_unsqueeze,    1, 2,  "dim"},
    {"flatten",      bi_flatten,      1, 3,  "start_dim end_dim"},
    {"cat",          bi_cat,          1, 2,  "dim axis"},
    {"stack",        bi_stack,        1, 2,  "dim axis"},
    {"relu",         bi_relu,         1, 1,  ""},
    {"sigmoid",      bi_sigmoid,      1, 1,  ""},
    {"gelu",         bi_gelu,         1, 1,  ""},
    {"neg",          bi_neg,          1, 1,  ""},
    {"maximum",      bi_maximum,      2, 2,  ""},
    {"minimum",      bi_minimum,      2, 2,  ""},
    {"where",        bi_where,        3, 3,  ""},
    {"clamp",        bi_clamp,        1, 3,  "min max lo hi"},
    {"mean",         bi_mean,         1, 3,  "axis keepdims dim keepdim"},
    {"argmax",       bi_argmax,       1, 3,  "axis keepdims dim keepdim"},
    {"matmul",       bi_matmul,       2, 2,  ""},
    {"linear",       bi_linear,       2, 3,  "w b"},
    {"softmax",      bi_softmax,      1, 2,  "axis dim"},
    {"log_softmax",  bi_log_softmax,  1, 2,  "axis dim"},
    {"layer_norm",   bi_layer_norm,   1, 4,  "w b eps"},
    {"item",         bi_item,         1, 1,  ""},
    {"tolist",       bi_tolist,       1, 1,  ""},
    {"load",         bi_load,         1, 1,  ""},
    {"save",         bi_save,         2, 2,  ""},
};

// Every tensor function is also a method (LANGUAGE.md §7): these names, looked up in the
// one builtin table, so `x.sum(axis=1)` runs sum's row with x as its first argument.
constexpr std::string_view kMethodNames[] = {
    "sum",     "mean",    "max",     "min",     "argmax",  "reshape", "transpose",   "squeeze",
    "unsqueeze", "flatten", "numel", "relu",    "sigmoid", "tanh",    "gelu",        "exp",
    "log",     "sqrt",    "abs",     "neg",     "sin",     "cos",     "floor",       "ceil",
    "round",   "maximum", "minimum", "where",   "clamp",   "matmul",  "linear",      "softmax",
    "log_softmax", "layer_norm", "item", "tolist",
};

}  // namespace

// ---------------------------------------------------------------- exported

std::span<const BuiltinDef> tensor_builtin_rows() { return kTensorBuiltins; }

const BuiltinDef* tensor_method(std::string_view name) {
  if (std::find(std::begin(kMethodNames), std::end(kMethodNames), name) == std::end(kMethodNames)) return nullptr;
  int i = builtin_index(name);
  return i < 0 ? nullptr : &builtins()[size_t(i)];
}

// The operator quoted as shape errors name it ("'+': shapes ..."), made once per operator.
template <typename Op, size_t N>
const char* quoted_symbol(Op op) {
  static const auto names = [] {
    std::array<std::string, N> n;
    for (size_t i = 0; i < N; ++i) n[i] = std::string("'") + op_symbol(Op(i)) + "'";
    return n;
  }();
  return names[size_t(op)].c_str();
}

Value tensor_binary(BinaryOp op, Value a, Value b) {
  if (op == BinaryOp::MatMul) {
    if (!is_tensor(a) || !is_tensor(b)) return Value::undefined();
    return matmul(as_tensor(a), as_tensor(b));
  }
  if (op >= BinaryOp::LShift || !tensor_or_number(a) || !tensor_or_number(b)) return Value::undefined();
  return elementwise(binary_kind(op), a, b, quoted_symbol<BinaryOp, size_t(BinaryOp::Xor) + 1>(op));
}

Value tensor_compare(CompareOp op, Value a, Value b) {
  if (!tensor_or_number(a) || !tensor_or_number(b)) return Value::undefined();
  return elementwise(compare_kind(op), a, b, quoted_symbol<CompareOp, size_t(CompareOp::Ne) + 1>(op));
}

bool broadcast_shapes(std::span<const int64_t> a, std::span<const int64_t> b, int64_t* out, int* rank) {
  const int n = int(std::max(a.size(), b.size()));
  for (int i = 0; i < n; ++i) {
    int ia = int(a.size()) - n + i, ib = int(b.size()) - n + i;
    int64_t x = ia >= 0 ? a[ia] : 1, y = ib >= 0 ? b[ib] : 1;
    if (x != y && x != 1 && y != 1) return false;
    out[i] = x == 1 ? y : x;
  }
  *rank = n;
  return true;
}

EwPlan broadcast_plan(std::span<const int64_t> shape, std::span<const TensorObj* const> operands) {
  return plan_of<EwPlan>(Dims(shape), operands.data(), int(operands.size()));
}

Value tensor_linear(Value xv, Value wv, Value bv, Activation act) {
  const TensorObj* x = tensor_arg(xv, "linear");
  const TensorObj* w = tensor_arg(wv, "linear");
  const TensorObj* b = given_not_none(bv) ? tensor_arg(bv, "linear") : nullptr;
  if (w->ndim != 2) throw_error("linear: the weight must have 2 dimensions, got shape " + shape_str(w->dims()));
  int64_t n = w->shape[0], k = w->shape[1];
  if (x->ndim == 0 || x->shape[x->ndim - 1] != k)
    throw_error("linear: shapes " + shape_str(x->dims()) + " and " + shape_str(w->dims()) + " do not match");
  if (b && !(b->ndim == 1 && b->shape[0] == n) && !(b->ndim == 0))
    throw_error("linear: bias of shape " + shape_str(b->dims()) + " does not match weight of shape " +
                shape_str(w->dims()));
  Dims out(x->dims());
  out.d[out.n - 1] = n;
  if (x->ndim == 1) {  // a vector in, a vector out
    out.n = 1;
    out.d[0] = n;
  }
  same_device("linear", {x, w, b});
  const Kernels& kx = kern(x);
  TRef r(alloc(out, x));
  int64_t m = k ? x->numel / k : out.numel() / std::max<int64_t>(n, 1);
  if (r->numel == 0) return r.release();
  if (b && b->ndim == 0) {  // a rank-0 bias broadcasts like a number, then the activation
    kx.linear(x->data, w->data, nullptr, r->data, m, n, k, Activation::None);
    kx.binary_scalar(BinaryKind::Add, r->data, HostView(b).data()[0], r->data, r->numel, false);
    switch (act) {
      case Activation::None: break;
      case Activation::Relu: kx.unary(UnaryKind::Relu, r->data, r->data, r->numel); break;
      case Activation::Sigmoid: kx.unary(UnaryKind::Sigmoid, r->data, r->data, r->numel); break;
      case Activation::Tanh: kx.unary(UnaryKind::Tanh, r->data, r->data, r->numel); break;
      case Activation::Gelu: kx.unary(UnaryKind::Gelu, r->data, r->data, r->numel); break;
    }
    return r.release();
  }
  kx.linear(x->data, w->data, b ? b->data : nullptr, r->data, m, n, k, act);
  return r.release();
}

Value tensor_unary(UnaryKind op, const TensorObj* x) {
  TRef r(new_tensor_like(x));
  if (x->numel) kern(x).unary(op, x->data, r->data, x->numel);
  return r.release();
}

bool tensor_truthy(const TensorObj* t) {
  if (t->numel != 1)
    throw_error("truth value of a tensor with " + std::to_string(t->numel) + " elements is ambiguous");
  return HostView(t).data()[0] != 0.f;
}

double tensor_item(const TensorObj* t, const char* fn) {
  if (t->numel != 1)
    throw_error(std::string(fn) + ": a tensor with " + std::to_string(t->numel) +
                " elements cannot be converted to a number");
  return double(HostView(t).data()[0]);
}

// x[i], x[i, j], x[a:b, ::k], x[None]: ints select (dropping the dimension), slices keep it,
// None inserts a dimension of size 1. The result is a copy gathered through strides.
Value tensor_get_item(const TensorObj* t, Value index) {
  const Value* items = &index;
  size_t n = 1;
  if (is_type(index, ObjType::Tuple)) {
    items = as_obj<TupleObj>(index)->items.data();
    n = as_obj<TupleObj>(index)->items.size();
  }
  int64_t st[kMaxRank];
  Dims src(t->dims());
  strides_of(src, st);
  Dims out;
  int64_t out_stride[kMaxRank];
  int64_t offset = 0;
  int dim = 0;
  for (size_t i = 0; i < n; ++i) {
    Value v = items[i];
    if (v.is_none()) {
      out_stride[out.n] = 0;
      out.push(1);
      continue;
    }
    if (dim >= t->ndim)
      throw_error("too many indices for a tensor of rank " + std::to_string(t->ndim));
    if (int_like(v)) {
      offset += normalize_index(int_arg(v), t->shape[dim]) * st[dim];
      ++dim;
      continue;
    }
    if (is_type(v, ObjType::Slice)) {
      auto* s = as_obj<SliceObj>(v);
      int64_t len = t->shape[dim];
      int64_t step = s->step.is_none() ? 1 : int_arg(s->step);
      if (step == 0) throw_error("slice step cannot be zero");
      // A step longer than the dimension picks at most one element either way; clamping it
      // keeps the arithmetic below (and the stride) from overflowing.
      step = std::clamp<int64_t>(step, -std::max<int64_t>(len, 1), std::max<int64_t>(len, 1));
      // Python's slice.indices.
      auto bound = [&](Value b, int64_t dflt) {
        if (b.is_none()) return dflt;
        int64_t x = int_arg(b);
        if (x < 0) x = std::max<int64_t>(x + len, step < 0 ? -1 : 0);
        else x = std::min<int64_t>(x, step < 0 ? len - 1 : len);
        return x;
      };
      int64_t start = bound(s->lower, step < 0 ? len - 1 : 0);
      int64_t stop = bound(s->upper, step < 0 ? -1 : len);
      int64_t count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                               : (start > stop ? (start - stop - step - 1) / -step : 0);
      if (count > 0) offset += start * st[dim];
      out_stride[out.n] = st[dim] * step;
      out.push(count);
      ++dim;
      continue;
    }
    if (is_tensor(v)) throw_error("indexing a tensor with a tensor is not supported");
    throw_error(std::string("tensor indices must be integers, slices or None, not ") + quoted(type_name(v)));
  }
  for (; dim < t->ndim; ++dim) {
    out_stride[out.n] = st[dim];
    out.push(t->shape[dim]);
  }
  return gather(t, t->data + offset, out, out_stride);
}

Value tensor_row(const TensorObj* t, int64_t i) {
  if (t->ndim == 0) throw_error("iteration over a 0-d tensor");
  if (i >= t->shape[0]) return Value::undefined();
  Dims out(t->dims().subspan(1));
  TRef r(alloc(out, t));
  copy_data(t, r->data, t->data + i * r->numel, r->numel);
  return r.release();
}

Value tensor_attr(const TensorObj* t, std::string_view name) {
  if (name == "shape") {
    std::vector<Value> dims;
    for (int i = 0; i < t->ndim; ++i) dims.push_back(Value::integer(t->shape[i]));
    return make_tuple(std::move(dims));
  }
  if (name == "ndim") return Value::small_int(t->ndim);
  if (name == "T") {
    int perm[kMaxRank];
    for (int i = 0; i < t->ndim; ++i) perm[i] = t->ndim - 1 - i;
    return permuted(t, perm);
  }
  return Value::undefined();
}

bool tensor_contains(const TensorObj* t, Value item) {
  if (!tensor_or_number(item)) return false;
  Ref eq = Ref::steal(elementwise(BinaryKind::Eq, Value::object(t), item, "'in'"));
  HostView e(as_tensor(eq.get()));
  return std::any_of(e->data, e->data + e->numel, [](float x) { return x != 0.f; });
}

void append_tensor_repr(std::string& out, const TensorObj* t) {
  HostView h(t);
  out += format_tensor(h.data(), std::vector<int64_t>(t->shape, t->shape + t->ndim));
}

// As torch's Tensor.__format__: a rank-0 tensor formats its value (f"{t}" of tensor(7.) is
// "7.0"); any other tensor takes only the empty spec, which gives its str.
std::string format_tensor_value(const TensorObj* t, std::string_view spec) {
  if (t->ndim == 0) return format_value(Value::number(double(HostView(t).data()[0])), spec);
  if (!spec.empty()) throw_error("unsupported format string passed to tensor.__format__");
  std::string s;
  append_tensor_repr(s, t);
  return s;
}

Value tensor_reduce_call(ReduceKind op, const CallArgs& a, const char* name) {
  const TensorObj* x = tensor_arg(a.pos[0], name);
  Value axis = arg2(a, 1, "axis", "dim", name);
  return reduce(op, x, axis, keepdims_arg(a, 2, name), name);
}

// min/max with a tensor first: a reduction (max(x), max(x, 1), max(x, axis=1)), or, given two
// tensors (or a tensor and a number), torch.maximum / torch.minimum.
Value tensor_min_max_call(const CallArgs& a, bool is_max) {
  const char* name = is_max ? "max" : "min";
  if (a.npos == 2 && (is_tensor(a.pos[1]) || a.pos[1].is_double())) {
    for (const char* k : {"axis", "dim", "keepdims", "keepdim", "key", "default"})
      if (given(a.kw(k)))
        throw_error(std::string(name) + "() of two tensors takes no keyword argument '" + k + "'");
    return binary_call(a, is_max ? BinaryKind::Maximum : BinaryKind::Minimum, name);
  }
  if (a.npos > 3) throw_error(std::string(name) + "() of a tensor takes at most 3 arguments");
  if (given(a.kw("key")) || given(a.kw("default")))
    throw_error(std::string(name) + "() of a tensor takes no key or default");
  return tensor_reduce_call(is_max ? ReduceKind::Max : ReduceKind::Min, a, name);
}

bool tensor_matches(const Annotation& ann, const TensorObj* t, int64_t* bound) {
  if (!ann.has_dims) return true;
  if (ann.dims.size() != t->ndim) return false;
  for (size_t i = 0; i < ann.dims.size(); ++i) {
    const Annotation::Dim& d = ann.dims[i];
    if (d.size >= 0) {
      if (t->shape[i] != d.size) return false;
    } else if (bound[d.index] < 0) {
      bound[d.index] = t->shape[i];
    } else if (bound[d.index] != t->shape[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace tvm
