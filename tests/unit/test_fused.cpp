// The fused-kernel door (vm/fused.cpp) and the CPU device's elementwise kernel against the
// unfused ops: every fused result must be bit-identical to the chain of tensor operators and
// builtins it replaces (the GEMM's epilogue within float rounding), and every error the same.
// The reference here runs each step through the VM as a TL program would (operators, or a
// builtin called through vm.call), independently of the door's own step-by-step path.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../vm/builtins.h"
#include "../../vm/error.h"
#include "../../vm/fused.h"
#include "../../vm/ops.h"
#include "../../vm/stack_vm.h"
#include "../../vm/tensor.h"

using namespace tvm;

namespace {

constexpr float kInf = INFINITY;
constexpr float kNan = NAN;
constexpr uint8_t kImm = EwStep::kImmediate;

EwStep unary(UnaryKind op, uint8_t a) { return {EwStep::Unary, uint8_t(op), a, 0, 0, 0.f}; }
EwStep binary(BinaryKind op, uint8_t a, uint8_t b, float imm = 0.f) { return {EwStep::Binary, uint8_t(op), a, b, 0, imm}; }
EwStep clamp(uint8_t a, uint8_t lo, uint8_t hi, float imm = 0.f) { return {EwStep::Clamp, 0, a, lo, hi, imm}; }
EwStep where(uint8_t c, uint8_t a, uint8_t b, float imm = 0.f) { return {EwStep::Where, 0, c, a, b, imm}; }

KernelDesc program(int arity, std::vector<EwStep> steps) {
  KernelDesc d;
  d.kind = KernelDesc::Elementwise;
  d.arity = uint8_t(arity);
  d.steps = std::move(steps);
  return d;
}

KernelDesc gemm(bool bias, Activation act) {
  KernelDesc d;
  d.kind = KernelDesc::Gemm;
  d.arity = bias ? 3 : 2;
  d.has_bias = bias;
  d.act = act;
  return d;
}

// Owned values for a test's arguments.
struct Values {
  std::vector<Value> v;
  Values() = default;
  Values(const Values&) = delete;
  ~Values() {
    for (Value x : v) decref(x);
  }
  Value add(Value x) {
    v.push_back(x);
    return x;
  }
};

Value tensor(std::vector<int64_t> shape, std::vector<float> data) {
  TensorObj* t = new_tensor(shape);
  BOOST_REQUIRE(size_t(t->numel) == data.size());
  std::copy(data.begin(), data.end(), t->data);
  return Value::object(t);
}

// Random values with the awkward ones mixed in: signed zeros, infinities, nan, halves (for
// round), integers (for pow, //, %), huge and tiny magnitudes.
float awkward(std::mt19937& rng) {
  static const float special[] = {0.f, -0.f, kInf, -kInf, kNan, 0.5f, -0.5f, 1.5f, -2.5f, 1.f, -1.f,
                                  2.f, 3.f,  -3.f, 1e30f, -1e-30f, 7.f, 100.f};
  std::uniform_int_distribution<int> pick(0, 9);
  if (pick(rng) < 2) return special[std::uniform_int_distribution<size_t>(0, std::size(special) - 1)(rng)];
  return std::uniform_real_distribution<float>(-4.f, 4.f)(rng);
}

Value random_tensor(std::vector<int64_t> shape, std::mt19937& rng) {
  TensorObj* t = new_tensor(shape);
  for (int64_t i = 0; i < t->numel; ++i) t->data[i] = awkward(rng);
  return Value::object(t);
}

// ---------------------------------------------------------------- the unfused reference

Value call(VM& vm, const char* name, std::initializer_list<Value> args) {
  return vm.call(builtin_value(builtin_index(name)), args);
}

const char* unary_builtin(UnaryKind k) {
  static const char* const names[] = {"neg",  "abs",     "exp",  "log",   "sqrt", "sin",  "cos",
                                      "tanh", "relu",    "sigmoid", "gelu", "floor", "ceil", "round"};
  return names[int(k)];
}

Value unfused_step(VM& vm, const EwStep& st, Value a, Value b, Value c) {
  switch (st.kind) {
    case EwStep::Unary:
      if (UnaryKind(st.op) == UnaryKind::Neg) return unary_neg(a);
      return call(vm, unary_builtin(UnaryKind(st.op)), {a});
    case EwStep::Binary: {
      const auto k = BinaryKind(st.op);
      if (k <= BinaryKind::Pow) return binary_op(BinaryOp(st.op), a, b);  // Add..Pow in the same order
      if (k >= BinaryKind::Lt) return compare(CompareOp(int(k) - int(BinaryKind::Lt)), a, b);
      return call(vm, k == BinaryKind::Maximum ? "maximum" : "minimum", {a, b});
    }
    case EwStep::Clamp: return call(vm, "clamp", {a, b, c});
    case EwStep::Where: return call(vm, "where", {a, b, c});
  }
  BOOST_FAIL("unknown step");
  return Value();
}

Value unfused(VM& vm, const KernelDesc& d, const std::vector<Value>& args) {
  if (d.kind == KernelDesc::Gemm) {
    Ref y = Ref::steal(d.has_bias ? call(vm, "linear", {args[0], args[1], args[2]}) : call(vm, "linear", {args[0], args[1]}));
    static const char* const acts[] = {nullptr, "relu", "sigmoid", "tanh", "gelu"};
    return d.act == Activation::None ? y.release() : call(vm, acts[int(d.act)], {y.get()});
  }
  Values results;
  for (const EwStep& st : d.steps) {
    auto value = [&](uint8_t slot) {
      if (slot == kImm) return Value::number(double(st.imm));
      return slot < d.arity ? args[slot] : results.v[slot - d.arity];
    };
    results.add(unfused_step(vm, st, value(st.a), value(st.b), value(st.c)));
  }
  Value r = results.v.back();
  incref(r);
  return r;
}

// What a computation gives: "ok" and the value, or the error's message.
struct Outcome {
  Ref value;
  std::string error;
};
template <class F>
Outcome outcome(F f) {
  Outcome o;
  try {
    o.value = Ref::steal(f());
  } catch (const RuntimeError& e) {
    o.error = e.what();
  }
  return o;
}

// "" when got and want are the same value: tensors of the same shape with the same bits
// (any nan matching any nan), or equal reprs otherwise; else what differs.
std::string difference(const Outcome& got, const Outcome& want, double tol = 0) {
  if (!want.error.empty() || !got.error.empty())
    return got.error == want.error ? "" : "error '" + got.error + "', want '" + want.error + "'";
  Value g = got.value.get(), w = want.value.get();
  if (!is_tensor(g) || !is_tensor(w)) return repr(g) == repr(w) ? "" : repr(g) + ", want " + repr(w);
  const TensorObj *a = as_tensor(g), *b = as_tensor(w);
  if (shape_str(a->dims()) != shape_str(b->dims())) return "shape " + shape_str(a->dims()) + ", want " + shape_str(b->dims());
  for (int64_t i = 0; i < a->numel; ++i) {
    const float x = a->data[i], y = b->data[i];
    bool same = std::isnan(y) ? std::isnan(x)
                : tol == 0 ? std::memcmp(&x, &y, sizeof x) == 0
                           : std::fabs(double(x) - double(y)) <= tol * (1 + std::fabs(double(y)));
    if (!same)
      return "[" + std::to_string(i) + "] " + float_repr(x) + ", want " + float_repr(y) + " (of " +
             std::to_string(a->numel) + ")";
  }
  return "";
}

struct Fixture {
  StackVM vm;
  Values keep;
  // Whether the last check ran in one pass: its result the only tensor it made, where the
  // step-by-step path leaves the intermediates of a program of two or more steps in the pool.
  bool one_pass = false;

  std::string check(const KernelDesc& d, const std::vector<Value>& args, double tol = 0) {
    BOOST_REQUIRE_EQUAL(check_kernel(d), "");
    tensor_pool_trim();
    Outcome got = outcome([&] { return run_kernel(vm, d, args.data()); });
    one_pass = got.error.empty() && is_tensor(got.value.get()) && tensor_pool_free_bytes() == 0;
    Outcome want = outcome([&] { return unfused(vm, d, args); });
    return difference(got, want, tol);
  }
  std::string error(const KernelDesc& d, const std::vector<Value>& args) {
    Outcome got = outcome([&] { return run_kernel(vm, d, args.data()); });
    return got.error;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fused, Fixture)

// ---------------------------------------------------------------- elementwise, op by op

BOOST_AUTO_TEST_CASE(every_unary_kind_is_bit_identical) {
  std::mt19937 rng(1);
  // 1037 elements: two full blocks and a tail that is not a multiple of 16.
  Value x = keep.add(random_tensor({1037}, rng));
  Value m = keep.add(random_tensor({7, 3}, rng));
  for (int op = 0; op <= int(UnaryKind::Round); ++op) {
    BOOST_TEST_CONTEXT(unary_builtin(UnaryKind(op))) {
      BOOST_TEST(check(program(1, {unary(UnaryKind(op), 0)}), {x}) == "");
      // after another step, and on a 2-d tensor
      BOOST_TEST(check(program(1, {binary(BinaryKind::Mul, 0, kImm, 3.f), unary(UnaryKind(op), 1)}), {m}) == "");
      BOOST_TEST(one_pass);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_binary_kind_is_bit_identical) {
  std::mt19937 rng(2);
  Value a = keep.add(random_tensor({1037}, rng));
  Value b = keep.add(random_tensor({1037}, rng));
  Value row = keep.add(random_tensor({5}, rng));
  Value col = keep.add(random_tensor({4, 1}, rng));
  Value m = keep.add(random_tensor({4, 5}, rng));
  Value r0 = keep.add(random_tensor({}, rng));
  for (int op = 0; op <= int(BinaryKind::Ne); ++op) {
    const auto k = BinaryKind(op);
    BOOST_TEST_CONTEXT("binary kind " << op) {
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {a, b}) == "");
      BOOST_TEST(check(program(2, {binary(k, 1, 0)}), {a, b}) == "");
      BOOST_TEST(check(program(2, {binary(k, 0, 0)}), {a, b}) == "");  // one tensor twice
      // broadcasting both ways, and a rank-0 tensor (the tensor-tensor kernel, not a number)
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {col, row}) == "");
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {row, m}) == "");
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {m, r0}) == "");
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {r0, m}) == "");
      // numbers: arguments and immediates, on either side
      for (float s : {2.f, -0.5f, 0.f, -0.f, 3.f, kNan, -kInf, 1.25f}) {
        BOOST_TEST_CONTEXT("number " << s) {
          Value n = Value::number(double(s));
          BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {a, n}) == "");
          BOOST_TEST(check(program(2, {binary(k, 1, 0)}), {a, n}) == "");
          BOOST_TEST(check(program(1, {binary(k, 0, kImm, s)}), {m}) == "");
          BOOST_TEST(check(program(1, {binary(k, kImm, 0, s)}), {m}) == "");
        }
      }
      BOOST_TEST(check(program(2, {binary(k, 0, 1)}), {a, Value::small_int(7)}) == "");
      BOOST_TEST(check(program(2, {binary(k, 1, 0)}), {a, Value::boolean(true)}) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(pow_special_exponents_as_the_scalar_kernel) {
  // x ** 2 multiplies, x ** 0.5 is sqrt (sqrt(-0.) is -0., pow(-0., 0.5) is +0.), ... as
  // binary_scalar does for a number exponent; a rank-0 tensor exponent is plain pow.
  std::mt19937 rng(3);
  Value x = keep.add(random_tensor({333}, rng));
  for (float e : {0.f, 1.f, 0.5f, -0.5f, -1.f, 2.f, 3.f, -2.f, 1.5f, -3.f}) {
    BOOST_TEST_CONTEXT("exponent " << e) {
      BOOST_TEST(check(program(1, {binary(BinaryKind::Pow, 0, kImm, e)}), {x}) == "");
      BOOST_TEST(check(program(2, {binary(BinaryKind::Pow, 0, 1)}), {x, Value::number(double(e))}) == "");
      Value t = keep.add(tensor({}, {e}));
      BOOST_TEST(check(program(2, {binary(BinaryKind::Pow, 0, 1)}), {x, t}) == "");
      BOOST_TEST(check(program(1, {unary(UnaryKind::Neg, 0), binary(BinaryKind::Pow, 1, kImm, e)}), {x}) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(clamp_and_where_steps) {
  std::mt19937 rng(4);
  Value x = keep.add(random_tensor({3, 600}, rng));
  Value c = keep.add(random_tensor({3, 1}, rng));
  Value y = keep.add(random_tensor({600}, rng));
  Value lo = Value::number(-1.5), hi = Value::small_int(2);
  BOOST_TEST(check(program(3, {clamp(0, 1, 2)}), {x, lo, hi}) == "");
  BOOST_TEST(check(program(2, {clamp(0, kImm, 1, -0.25f)}), {x, hi}) == "");
  BOOST_TEST(check(program(2, {clamp(0, 1, kImm, kInf)}), {x, lo}) == "");  // no upper bound
  BOOST_TEST(check(program(1, {clamp(0, kImm, kImm, 0.f)}), {x}) == "");    // both bounds the immediate
  BOOST_TEST(check(program(3, {where(0, 1, 2)}), {c, x, y}) == "");
  BOOST_TEST(check(program(2, {where(0, 1, kImm, 0.f)}), {c, x}) == "");
  BOOST_TEST(check(program(2, {where(0, kImm, 1, kNan)}), {x, y}) == "");
  BOOST_TEST(check(program(3, {where(0, 1, 2)}), {x, Value::number(2.5), Value::small_int(-1)}) == "");
  // a comparison feeding where, then clamp: relu6-style chains
  BOOST_TEST(check(program(2, {binary(BinaryKind::Gt, 0, kImm, 0.f), where(2, 0, 1), clamp(3, kImm, 1, 6.f)}),
                   {x, Value::number(6.0)}) == "");
  BOOST_TEST(one_pass);
}

BOOST_AUTO_TEST_CASE(chains_with_broadcast_arguments) {
  std::mt19937 rng(5);
  // sigmoid(x * 2 + 1) * y, x and y in many broadcast layouts, sizes around the block size
  KernelDesc d = program(2, {binary(BinaryKind::Mul, 0, kImm, 2.f), binary(BinaryKind::Add, 2, kImm, 1.f),
                             unary(UnaryKind::Sigmoid, 3), binary(BinaryKind::Mul, 4, 1)});
  const std::vector<std::vector<int64_t>> pairs[] = {
      {{1}, {1}},         {{}, {}},           {{512}, {512}},         {{513}, {513}},     {{4, 1000}, {1000}},
      {{4, 1000}, {4, 1}}, {{4, 1}, {1, 700}}, {{2, 3, 5}, {3, 1}},    {{2, 1, 5}, {3, 1}}, {{3}, {2, 4, 3}},
      {{5, 1, 1}, {1, 3, 129}}, {{0, 3}, {3}}, {{2, 1, 3, 1, 2}, {1, 4, 1, 5, 1}}, {{1, 1}, {}}};
  for (const auto& p : pairs) {
    BOOST_TEST_CONTEXT(shape_str(p[0]) << " and " << shape_str(p[1])) {
      Value x = keep.add(random_tensor(p[0], rng)), y = keep.add(random_tensor(p[1], rng));
      BOOST_TEST(check(d, {x, y}) == "");
      BOOST_TEST(one_pass);
      BOOST_TEST(check(d, {y, x}) == "");
      BOOST_TEST(check(d, {x, Value::number(0.75)}) == "");
    }
  }
  // many arguments, many steps, values used more than once
  Value a = keep.add(random_tensor({6, 70}, rng)), b = keep.add(random_tensor({70}, rng)),
        c = keep.add(random_tensor({6, 1}, rng)), e = keep.add(random_tensor({}, rng));
  KernelDesc big = program(5, {binary(BinaryKind::Sub, 0, 1), binary(BinaryKind::Mul, 5, 5),
                               binary(BinaryKind::Div, 6, 2), unary(UnaryKind::Tanh, 7),
                               binary(BinaryKind::Maximum, 8, 3), binary(BinaryKind::Add, 9, 5),
                               binary(BinaryKind::Le, 10, 4), where(11, 10, 6), unary(UnaryKind::Gelu, 12),
                               binary(BinaryKind::Mod, 13, kImm, 1.5f), binary(BinaryKind::FloorDiv, 14, 2)});
  BOOST_TEST(check(big, {a, b, c, e, Value::number(0.5)}) == "");
  BOOST_TEST(one_pass);
  // a step nothing reads is computed by neither path's result
  BOOST_TEST(check(program(2, {unary(UnaryKind::Exp, 1), binary(BinaryKind::Add, 0, kImm, 1.f)}), {a, b}) == "");
}

BOOST_AUTO_TEST_CASE(thirty_two_steps_and_eight_arguments) {
  std::mt19937 rng(6);
  std::vector<Value> args;
  for (int j = 0; j < 8; ++j) args.push_back(keep.add(random_tensor(j % 2 ? std::vector<int64_t>{900} : std::vector<int64_t>{2, 900}, rng)));
  std::vector<EwStep> steps;
  for (int i = 0; i < 32; ++i)
    steps.push_back(binary(i % 3 ? BinaryKind::Add : BinaryKind::Mul, uint8_t(i % 8), uint8_t(i == 0 ? 1 : 8 + i - 1)));
  BOOST_TEST(check(program(8, steps), args) == "");
}

// ---------------------------------------------------------------- the step-by-step path

BOOST_AUTO_TEST_CASE(errors_are_the_unfused_ones) {
  Value a = keep.add(tensor({2}, {1, 2})), b = keep.add(tensor({3}, {1, 2, 3})), m = keep.add(tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  Value list = keep.add(make_list({Value::small_int(1)}));
  Value s = keep.add(make_str("s"));
  struct Case {
    KernelDesc d;
    std::vector<Value> args;
    const char* want;
  } cases[] = {
      {program(2, {binary(BinaryKind::Add, 0, 1)}), {a, b}, "'+': shapes (2,) and (3,) cannot be broadcast"},
      {program(2, {binary(BinaryKind::Lt, 0, 1)}), {a, b}, "'<': shapes (2,) and (3,) cannot be broadcast"},
      {program(2, {binary(BinaryKind::Maximum, 0, 1)}), {a, b}, "maximum: shapes (2,) and (3,) cannot be broadcast"},
      // the failing step is the second: its shapes are the first step's result and b
      {program(2, {unary(UnaryKind::Relu, 0), binary(BinaryKind::Mul, 2, 1)}), {m, a},
       "'*': shapes (2, 3) and (2,) cannot be broadcast"},
      {program(3, {where(0, 1, 2)}), {m, b, a}, "where: shapes (2, 3) and (2,) cannot be broadcast"},
      // a step nothing reads still raises its error
      {program(2, {binary(BinaryKind::Sub, 0, 1), unary(UnaryKind::Exp, 0)}), {a, b},
       "'-': shapes (2,) and (3,) cannot be broadcast"},
      {program(2, {binary(BinaryKind::Add, 0, 1)}), {a, list}, ""},  // filled in below
      {program(2, {clamp(0, 1, kImm, 1.f)}), {a, b}, "clamp: min must be a number, not 'tensor'"},
      {program(1, {where(kImm, 0, 0, 1.f)}), {a}, "where: expected a tensor, got 'float'"},
      {program(2, {unary(UnaryKind::Sigmoid, 1)}), {a, s}, "sigmoid: expected a tensor, got 'str'"},
  };
  cases[6].want = nullptr;
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT(describe_kernel(c.d)) {
      BOOST_TEST(check(c.d, c.args) == "");
      if (c.want) BOOST_TEST(error(c.d, c.args) == c.want);
      else BOOST_TEST(!error(c.d, c.args).empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(numbers_only_compute_as_python) {
  // Not what the compiler fuses, but it must still be the unfused result: Python numbers.
  KernelDesc d = program(2, {binary(BinaryKind::Add, 0, 1), binary(BinaryKind::Mul, 2, kImm, 0.5f)});
  Outcome got = outcome([&] {
    Value args[] = {Value::small_int(3), Value::small_int(4)};
    return run_kernel(vm, d, args);
  });
  BOOST_REQUIRE(got.error == "");
  BOOST_TEST(repr(got.value.get()) == "3.5");
  BOOST_TEST(check(d, {Value::small_int(3), Value::number(0.1)}) == "");
  BOOST_TEST(check(program(1, {binary(BinaryKind::Lt, 0, kImm, 2.f)}), {Value::small_int(1)}) == "");
  BOOST_TEST(check(program(1, {unary(UnaryKind::Sqrt, 0)}), {Value::small_int(-1)}) == "");  // math domain error
  // a number step feeding a tensor step
  Value t = keep.add(tensor({3}, {1, -2, 3}));
  BOOST_TEST(check(program(2, {binary(BinaryKind::Mul, 0, kImm, 0.1f), binary(BinaryKind::Add, 2, 1)}),
                   {Value::small_int(3), t}) == "");
}

// ---------------------------------------------------------------- the kernel itself

BOOST_AUTO_TEST_CASE(kernel_in_place_and_sizes) {
  const Kernels& k = *cpu_device().kernels;
  std::vector<EwStep> steps = {binary(BinaryKind::Mul, 0, kImm, 2.f), binary(BinaryKind::Add, 2, 1)};
  for (int64_t n : {1, 15, 16, 17, 511, 512, 513, 5000}) {
    const size_t count = size_t(n);
    std::vector<float> x(count), y(count), want(count);
    for (int64_t i = 0; i < n; ++i) {
      x[size_t(i)] = float(i) * 0.25f;
      y[size_t(i)] = float(n - i);
      want[size_t(i)] = x[size_t(i)] * 2.f + y[size_t(i)];
    }
    EwPlan flat;
    flat.ndim = 1;
    flat.shape[0] = n;
    flat.stride[0][0] = flat.stride[1][0] = 1;
    const float* in[] = {x.data(), y.data()};
    float scalars[2] = {};
    k.elementwise(steps.data(), 2, 2, in, scalars, y.data(), flat);  // in place over y
    BOOST_TEST(y == want, "n = " << n);
  }
  // a number input, and a program whose last step reads the output's input directly
  std::vector<float> x = {1, 2, 3};
  const float* in[] = {x.data(), nullptr};
  float scalars[] = {0.f, 10.f};
  EwPlan flat;
  flat.ndim = 1;
  flat.shape[0] = 3;
  flat.stride[0][0] = 1;
  std::vector<EwStep> sub = {binary(BinaryKind::Sub, 1, 0)};
  k.elementwise(sub.data(), 1, 2, in, scalars, x.data(), flat);
  BOOST_TEST(x == (std::vector<float>{9, 8, 7}));
}

// Plans with strides other than 0 and 1 along the row (a transposed operand: run_kernel makes
// none, the kernel still takes them) against the binary kernel with the same plan.
BOOST_AUTO_TEST_CASE(kernel_strided_plans) {
  const Kernels& k = *cpu_device().kernels;
  std::mt19937 rng(12);
  for (int64_t rows : {3, 2}) {
    const int64_t cols = rows == 3 ? 4 : 1300;  // short rows (blocks cross them), long rows
    std::vector<float> a(size_t(rows * cols)), b(size_t(rows * cols));
    for (float& v : a) v = awkward(rng);
    for (float& v : b) v = awkward(rng);
    // a read transposed (stored [cols, rows]), b plain, then a[:, None] broadcast over b
    const int64_t sa[] = {1, rows}, sb[] = {cols, 1};
    Strided bp;
    EwPlan ep;
    bp.ndim = ep.ndim = 2;
    for (int d = 0; d < 2; ++d) {
      bp.shape[d] = ep.shape[d] = d ? cols : rows;
      bp.stride[0][d] = ep.stride[0][d] = sa[d];
      bp.stride[1][d] = ep.stride[1][d] = sb[d];
    }
    std::vector<float> want(a.size()), got(a.size());
    k.binary(BinaryKind::Sub, a.data(), b.data(), want.data(), bp);
    k.unary(UnaryKind::Exp, want.data(), want.data(), int64_t(want.size()));
    std::vector<EwStep> steps = {binary(BinaryKind::Sub, 0, 1), unary(UnaryKind::Exp, 2)};
    const float* in[] = {a.data(), b.data()};
    float scalars[2] = {};
    k.elementwise(steps.data(), 2, 2, in, scalars, got.data(), ep);
    BOOST_TEST(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0, "cols " << cols);
  }
}

BOOST_AUTO_TEST_CASE(fused_chain_allocates_from_the_pool_only) {
  std::mt19937 rng(7);
  Value x = keep.add(random_tensor({256, 64}, rng)), b = keep.add(random_tensor({64}, rng));
  KernelDesc d = program(2, {binary(BinaryKind::Add, 0, 1), unary(UnaryKind::Relu, 2)});
  const Value args[] = {x, b};
  decref(run_kernel(vm, d, args));  // warm the pool
  const uint64_t before = tensor_pool_system_allocations();
  for (int i = 0; i < 100; ++i) decref(run_kernel(vm, d, args));
  BOOST_TEST(tensor_pool_system_allocations() == before);
}

// ---------------------------------------------------------------- gemm

BOOST_AUTO_TEST_CASE(gemm_matches_linear_then_activation) {
  std::mt19937 rng(8);
  auto rt = [&](std::vector<int64_t> shape) {
    TensorObj* t = new_tensor(shape);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < t->numel; ++i) t->data[i] = u(rng);
    return keep.add(Value::object(t));
  };
  Value w = rt({7, 5}), bias = rt({7}), b0 = rt({});
  for (std::vector<int64_t> xs : {std::vector<int64_t>{5}, {1, 5}, {3, 5}, {2, 4, 5}, {64, 5}, {0, 5}}) {
    Value x = rt(xs);
    for (int act = 0; act <= int(Activation::Gelu); ++act) {
      BOOST_TEST_CONTEXT(shape_str(xs) << " activation " << act) {
        const double tol = act == 0 ? 0 : 1e-6;  // no activation: the very same device call
        BOOST_TEST(check(gemm(false, Activation(act)), {x, w}, tol) == "");
        BOOST_TEST(check(gemm(true, Activation(act)), {x, w, bias}, tol) == "");
        BOOST_TEST(check(gemm(true, Activation(act)), {x, w, b0}, tol) == "");
        BOOST_TEST(check(gemm(true, Activation(act)), {x, w, Value::none()}, tol) == "");
      }
    }
  }
  Value x = rt({3, 4});
  BOOST_TEST(error(gemm(true, Activation::Relu), {x, w, bias}) == "linear: shapes (3, 4) and (7, 5) do not match");
  BOOST_TEST(check(gemm(true, Activation::Relu), {x, w, bias}) == "");
  BOOST_TEST(check(gemm(true, Activation::Relu), {rt({2, 5}), w, rt({5})}) == "");
  BOOST_TEST(check(gemm(false, Activation::Tanh), {Value::small_int(1), w}) == "");
  BOOST_TEST(check(gemm(false, Activation::Tanh), {rt({2, 5}), rt({7, 5, 1})}) == "");
}

// ---------------------------------------------------------------- describe and check

BOOST_AUTO_TEST_CASE(describe_kernel_spells_programs_out) {
  BOOST_TEST(describe_kernel(gemm(true, Activation::Relu)) == "gemm(x, w, b) + relu");
  BOOST_TEST(describe_kernel(gemm(false, Activation::None)) == "gemm(x, w)");
  BOOST_TEST(describe_kernel(gemm(false, Activation::Gelu)) == "gemm(x, w) + gelu");
  BOOST_TEST(describe_kernel(program(2, {binary(BinaryKind::Mul, 0, kImm, 2.f), binary(BinaryKind::Add, 2, 1),
                                         unary(UnaryKind::Sigmoid, 3)})) ==
             "elementwise(a0, a1; t0 = a0 * 2.0; t1 = t0 + a1; t2 = sigmoid(t1))");
  BOOST_TEST(describe_kernel(program(1, {unary(UnaryKind::Neg, 0), binary(BinaryKind::Maximum, 1, kImm, 0.1f),
                                         binary(BinaryKind::FloorDiv, 2, kImm, -kInf), binary(BinaryKind::Ge, 3, 0),
                                         clamp(4, kImm, 0, 1e-5f), where(5, 0, kImm, kNan)})) ==
             "elementwise(a0; t0 = -a0; t1 = maximum(t0, 0.1); t2 = t1 // -inf; t3 = t2 >= a0; "
             "t4 = clamp(t3, 1e-05, a0); t5 = where(t4, a0, nan))");
}

BOOST_AUTO_TEST_CASE(check_kernel_rejects_each_malformed_case) {
  auto with = [](KernelDesc d, auto change) {
    change(d);
    return check_kernel(d);
  };
  KernelDesc ok = program(2, {binary(BinaryKind::Add, 0, 1), unary(UnaryKind::Exp, 2)});
  BOOST_TEST(check_kernel(ok) == "");
  BOOST_TEST(check_kernel(gemm(true, Activation::Gelu)) == "");
  BOOST_TEST(check_kernel(gemm(false, Activation::None)) == "");
  BOOST_TEST(with(gemm(true, Activation::Relu), [](KernelDesc& d) { d.arity = 2; }) ==
             "gemm kernel takes 3 arguments (with a bias), not 2");
  BOOST_TEST(with(gemm(false, Activation::Relu), [](KernelDesc& d) { d.arity = 3; }) ==
             "gemm kernel takes 2 arguments, not 3");
  BOOST_TEST(with(gemm(false, Activation::Relu), [](KernelDesc& d) { d.act = Activation(5); }) ==
             "gemm kernel: unknown activation 5");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.kind = KernelDesc::Kind(2); }) == "unknown kernel kind 2");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.arity = 0; }) == "elementwise kernel takes 1 to 8 arguments, not 0");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.arity = 9; }) == "elementwise kernel takes 1 to 8 arguments, not 9");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps.clear(); }) == "elementwise kernel has 0 steps (1 to 32)");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps.resize(33, unary(UnaryKind::Abs, 0)); }) ==
             "elementwise kernel has 33 steps (1 to 32)");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1].kind = EwStep::Kind(4); }) ==
             "elementwise kernel step 1: unknown step kind 4");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1].op = 14; }) == "elementwise kernel step 1: unknown unary op 14");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[0].op = 15; }) == "elementwise kernel step 0: unknown binary op 15");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[0].b = 2; }) ==
             "elementwise kernel step 0: operand 2 is read before it is defined");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1].a = 3; }) ==
             "elementwise kernel step 1: operand 3 is read before it is defined");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1] = where(2, 0, 200); }) ==
             "elementwise kernel step 1: operand 200 is read before it is defined");
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1] = clamp(2, kImm, kImm, kNan); }) == "");
  // operands a step does not read are not looked at
  BOOST_TEST(with(ok, [](KernelDesc& d) { d.steps[1].b = d.steps[1].c = 99; }) == "");
  // a malformed descriptor never runs
  Value x = keep.add(tensor({1}, {1}));
  const Value args[] = {x, x};
  KernelDesc d2 = ok;
  d2.steps[1].a = 7;
  BOOST_CHECK_THROW(run_kernel(vm, d2, args), RuntimeError);
}

BOOST_AUTO_TEST_CASE(random_descriptors_never_crash) {
  std::mt19937 rng(9);
  auto byte = [&] { return uint8_t(rng()); };
  int valid = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    KernelDesc d;
    d.kind = KernelDesc::Kind(byte() % 3);
    d.arity = byte() % 10;
    d.act = Activation(byte() % 7);
    d.has_bias = byte() & 1;
    const int n = byte() % 36;
    for (int i = 0; i < n; ++i) {
      EwStep st;
      st.kind = EwStep::Kind(byte() % 5);
      st.op = byte() % 17;
      // operands mostly small (so that some programs are well formed), sometimes anything
      auto slot = [&] { return byte() % 4 ? uint8_t(byte() % (d.arity + i + 2)) : byte(); };
      st.a = slot();
      st.b = slot();
      st.c = slot();
      uint32_t bits = rng();
      std::memcpy(&st.imm, &bits, sizeof bits);
      d.steps.push_back(st);
    }
    const std::string why = check_kernel(d);
    BOOST_TEST(!describe_kernel(d).empty());
    valid += why.empty();
  }
  BOOST_TEST(valid > 50);
}

// Random well-formed programs over random arguments (tensors in broadcastable and clashing
// shapes, numbers): the door and the unfused chain agree on every value and every error.
BOOST_AUTO_TEST_CASE(random_programs_match_the_unfused_chain) {
  std::mt19937 rng(10);
  const std::vector<int64_t> shapes[] = {{3, 5}, {5}, {3, 1}, {1, 5}, {}, {1}, {2, 3, 5}, {3, 700}, {4}};
  static const float imms[] = {0.f, 1.f, 2.f, 0.5f, -0.5f, -1.f, 3.f, -2.f, 1.5f, -0.f, kNan, kInf};
  auto pick = [&](int n) { return int(rng() % uint32_t(n)); };
  int fast = 0, slow = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const int arity = 1 + pick(4), nsteps = 1 + pick(6);
    std::vector<Value> args;
    for (int j = 0; j < arity; ++j) {
      const int r = pick(10);
      if (r < 7) args.push_back(keep.add(random_tensor(shapes[pick(r == 0 ? 9 : 7)], rng)));
      else if (r < 9) args.push_back(Value::number(double(awkward(rng))));
      else args.push_back(Value::small_int(pick(5) - 2));
    }
    std::vector<EwStep> steps;
    for (int i = 0; i < nsteps; ++i) {
      // mostly read the previous step, so that programs are chains
      auto slot = [&] {
        const int r = pick(10);
        if (r < 2) return kImm;
        if (r < 6 && i > 0) return uint8_t(arity + i - 1);
        return uint8_t(pick(arity + i));
      };
      EwStep st;
      const int kind = pick(10);
      st.kind = kind < 4 ? EwStep::Binary : kind < 7 ? EwStep::Unary : kind < 8 ? EwStep::Clamp : EwStep::Where;
      st.op = uint8_t(st.kind == EwStep::Unary ? pick(14) : st.kind == EwStep::Binary ? pick(15) : 0);
      st.a = slot();
      st.b = slot();
      st.c = slot();
      st.imm = imms[pick(int(std::size(imms)))];
      steps.push_back(st);
    }
    KernelDesc d = program(arity, steps);
    BOOST_TEST_CONTEXT(describe_kernel(d)) { BOOST_TEST(check(d, args) == ""); }
    fast += one_pass && nsteps > 1;
    slow += !one_pass && nsteps > 1;
  }
  BOOST_TEST_MESSAGE("random programs: " << fast << " in one pass, " << slow << " step by step or failing");
  BOOST_TEST(fast > 300);  // both paths well exercised
  BOOST_TEST(slow > 300);
}

BOOST_AUTO_TEST_SUITE_END()
