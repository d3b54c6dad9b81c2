// The CPU device's kernels (vm/cpu_device.cpp) against naive double-precision references, and
// PyTorch's float32 semantics where they differ from plain IEEE or libm (Python's // and %,
// pow's special exponents, nan propagation, round half to even).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "device.h"

using namespace tvm;

namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

const Kernels& K() { return *cpu_device().kernels; }

std::vector<float> randoms(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// got matches want: both nan, or equal (infinities included), or within atol + rtol·|want|.
bool close(float got, double want, double rtol, double atol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(float(want))) want = float(want);  // beyond float's range: ±inf
  atol = std::max(atol, 1.5e-45);                    // one step of float's subnormals
  if (std::isnan(got)) return false;
  if (double(got) == want) return true;
  if (std::isinf(want) || std::isinf(got)) return false;
  return std::fabs(double(got) - want) <= atol + rtol * std::fabs(want);
}

// "" when every element matches, else a description of the first mismatches.
std::string mismatches(const float* got, const std::vector<double>& want, double rtol, double atol,
                       const std::vector<float>* input = nullptr) {
  std::ostringstream os;
  os.precision(9);
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (close(got[i], want[i], rtol, atol)) continue;
    if (++bad <= 4) {
      os << "[" << i << "] got " << got[i] << " want " << want[i];
      if (input && i < input->size()) os << " (input " << (*input)[i] << ")";
      os << "; ";
    }
  }
  if (bad) os << bad << " of " << want.size() << " differ";
  return os.str();
}

// Exact comparison, the sign of zero included.
std::string exact_mismatches(const float* got, const std::vector<float>& want) {
  std::ostringstream os;
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    bool same = std::isnan(want[i]) ? std::isnan(got[i])
                                     : got[i] == want[i] && std::signbit(got[i]) == std::signbit(want[i]);
    if (!same && ++bad <= 4) os << "[" << i << "] got " << got[i] << " want " << want[i] << "; ";
  }
  if (bad) os << bad << " of " << want.size() << " differ";
  return os.str();
}

// ---------------------------------------------------------------- references

double ref_unary(UnaryKind op, double x) {
  switch (op) {
    case UnaryKind::Neg: return -x;
    case UnaryKind::Abs: return std::fabs(x);
    case UnaryKind::Exp: return std::exp(x);
    case UnaryKind::Log: return std::log(x);
    case UnaryKind::Sqrt: return std::sqrt(x);
    case UnaryKind::Sin: return std::sin(x);
    case UnaryKind::Cos: return std::cos(x);
    case UnaryKind::Tanh: return std::tanh(x);
    case UnaryKind::Relu: return x < 0 ? 0.0 : x;
    case UnaryKind::Sigmoid: return 1 / (1 + std::exp(-x));
    case UnaryKind::Gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case UnaryKind::Floor: return std::floor(x);
    case UnaryKind::Ceil: return std::ceil(x);
    case UnaryKind::Round: return std::nearbyint(x);
  }
  return 0;
}

// CPython's float // and % (Objects/floatobject.c), with IEEE results for a zero divisor as
// torch gives them (x // 0 is ±inf or nan, x % 0 is nan).
double py_floordiv(double a, double b) {
  if (b == 0) return a / b;
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
  if (div == 0) return std::copysign(0.0, a / b);
  double fl = std::floor(div);
  if (div - fl > 0.5) fl += 1;
  return fl;
}
double py_mod(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0 && (b < 0) != (mod < 0)) mod += b;
  return mod;
}

double ref_binary(BinaryKind op, double a, double b) {
  switch (op) {
    case BinaryKind::Add: return a + b;
    case BinaryKind::Sub: return a - b;
    case BinaryKind::Mul: return a * b;
    case BinaryKind::Div: return a / b;
    case BinaryKind::FloorDiv: return py_floordiv(a, b);
    case BinaryKind::Mod: return py_mod(a, b);
    case BinaryKind::Pow: return std::pow(a, b);
    case BinaryKind::Maximum: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case BinaryKind::Minimum: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case BinaryKind::Lt: return a < b;
    case BinaryKind::Le: return a <= b;
    case BinaryKind::Gt: return a > b;
    case BinaryKind::Ge: return a >= b;
    case BinaryKind::Eq: return a == b;
    case BinaryKind::Ne: return a != b;
  }
  return 0;
}

// Tolerances: IEEE ops are correctly rounded (a float within one rounding of the double
// result); pow and the float libm functions within a few ulps.
double rtol_of(BinaryKind op) { return op == BinaryKind::Pow ? 1e-6 : 1.2e-7; }
// Mod adds the divisor after fmod in float: one rounding of |b|.
double atol_of(BinaryKind op, double b) { return op == BinaryKind::Mod ? 6e-8 * std::fabs(b) : 0; }

constexpr UnaryKind kUnaryKinds[] = {
    UnaryKind::Neg,  UnaryKind::Abs,  UnaryKind::Exp,     UnaryKind::Log,  UnaryKind::Sqrt,
    UnaryKind::Sin,  UnaryKind::Cos,  UnaryKind::Tanh,    UnaryKind::Relu, UnaryKind::Sigmoid,
    UnaryKind::Gelu, UnaryKind::Floor, UnaryKind::Ceil, UnaryKind::Round,
};
constexpr BinaryKind kBinaryKinds[] = {
    BinaryKind::Add,     BinaryKind::Sub,     BinaryKind::Mul, BinaryKind::Div, BinaryKind::FloorDiv,
    BinaryKind::Mod,     BinaryKind::Pow,     BinaryKind::Maximum, BinaryKind::Minimum, BinaryKind::Lt,
    BinaryKind::Le,      BinaryKind::Gt,      BinaryKind::Ge,  BinaryKind::Eq,  BinaryKind::Ne,
};

// Inputs for elementwise tests: specials first, then random values.
std::vector<float> unary_inputs(size_t n, uint32_t seed) {
  std::vector<float> v = {0.f,   -0.f,  1.f,   -1.f,  0.5f,  1.5f,   2.5f,  -0.5f, -1.5f,  -2.5f, 0.49999997f,
                          kInf,  -kInf, kNan,  3.7f,  -3.7f, 1e-30f, 8388607.5f, -8388607.5f, 8388609.f,
                          1e20f, -1e20f, 100.f, -100.f, 0.3f, -0.3f, 1e-45f, -1e-45f};
  std::vector<float> r = randoms(n, -6.f, 6.f, seed);
  v.insert(v.end(), r.begin(), r.end());
  return v;
}

// A broadcast plan: the output shape and, per operand, its element strides.
Strided make_plan(const std::vector<int64_t>& shape, const std::vector<std::vector<int64_t>>& strides) {
  Strided s;
  s.ndim = int(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    s.shape[d] = shape[d];
    for (size_t k = 0; k < strides.size(); ++k) s.stride[k][d] = strides[k][d];
  }
  return s;
}

// Contiguous strides of `shape` seen broadcast to `out` (right-aligned, 0 where broadcast).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t s = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    size_t d = shape.size() - 1 - i, o = out.size() - 1 - i;
    st[o] = shape[d] == 1 ? 0 : s;
    s *= shape[d];
  }
  return st;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Calls fn(linear output index, offsets of each operand) over the plan, by plain index math.
template <class Fn>
void for_each_index(const Strided& s, int nops, Fn fn) {
  int64_t total = 1;
  for (int d = 0; d < s.ndim; ++d) total *= s.shape[d];
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, off[3] = {0, 0, 0};
    for (int d = s.ndim - 1; d >= 0; --d) {
      int64_t idx = rem % s.shape[d];
      rem /= s.shape[d];
      for (int k = 0; k < nops; ++k) off[k] += idx * s.stride[k][d];
    }
    fn(i, off);
  }
}

// One broadcasting case: operands stored in their own buffers; base[k] is where operand k's
// element (0, ..., 0) sits in its buffer (non-zero for flipped views).
struct PlanCase {
  const char* name;
  std::vector<int64_t> out;
  std::vector<std::vector<int64_t>> strides;  // per operand
  std::vector<int64_t> sizes;                 // buffer sizes per operand
  std::vector<int64_t> base;
};

std::vector<PlanCase> plan_cases() {
  std::vector<PlanCase> cases;
  auto bc = [&](const char* name, std::vector<int64_t> a, std::vector<int64_t> b, std::vector<int64_t> out) {
    cases.push_back({name, out, {broadcast_strides(a, out), broadcast_strides(b, out)}, {numel(a), numel(b)}, {0, 0}});
  };
  bc("same shape, merged", {37}, {37}, {37});
  bc("same shape 2-D", {5, 7}, {5, 7}, {5, 7});
  bc("row broadcast (bias add)", {5, 19}, {19}, {5, 19});
  bc("column broadcast (inner 1/0)", {5, 19}, {5, 1}, {5, 19});
  bc("outer product (inner 0/1)", {6, 1}, {1, 33}, {6, 33});
  bc("scalar-like first operand", {1}, {40}, {40});
  bc("scalar-like second operand", {40}, {1}, {40});
  bc("both broadcast inner (0/0)", {4, 1}, {4, 1}, {4, 3});
  bc("3-D", {2, 3, 4}, {3, 1}, {2, 3, 4});
  bc("4-D, both broadcast", {2, 1, 3, 4}, {5, 1, 1}, {2, 5, 3, 4});
  bc("8-D", {2, 1, 2, 1, 2, 1, 2, 3}, {1, 2, 1, 2, 1, 2, 1, 3}, {2, 2, 2, 2, 2, 2, 2, 3});
  bc("empty", {0, 5}, {5}, {0, 5});
  bc("one element", {1}, {1}, {1});
  bc("long rows (blocks and tail)", {3, 100}, {100}, {3, 100});
  // a transposed: a is stored [7, 5] and read as [5, 7] (inner stride 5); b contiguous
  cases.push_back({"transposed operand (generic inner stride)", {5, 7}, {{1, 5}, {7, 1}}, {35, 35}, {0, 0}});
  // a flipped: a[::-1] of a 20-element vector (stride -1 from the last element)
  cases.push_back({"flipped operand (negative stride)", {20}, {{-1}, {1}}, {20, 20}, {19, 0}});
  // b is every other element of a row: inner stride 2
  cases.push_back({"strided slice", {4, 9}, {{9, 1}, {0, 2}}, {36, 18}, {0, 0}});
  return cases;
}

// Operand values for binary tests: a mix that reaches every branch of // and % and the nan,
// inf and zero cases.
std::vector<float> binary_operand(int64_t n, uint32_t seed, bool divisor) {
  std::vector<float> v = randoms(size_t(n), -8.f, 8.f, seed);
  const float special_a[] = {0.f, -0.f, kInf, -kInf, kNan, 7.f, -7.f, 2.5f};
  const float special_b[] = {2.f, -2.f, 0.f, -0.f, kInf, -kInf, kNan, 0.5f};
  const float* special = divisor ? special_b : special_a;
  for (int64_t i = 0; i < n; i += 7) v[size_t(i)] = special[(i / 7) % 8];
  // some exact integers so that // and % land on exact multiples
  for (int64_t i = 3; i < n; i += 11) v[size_t(i)] = std::round(v[size_t(i)]);
  return v;
}

// ---------------------------------------------------------------- matrices

// Row-major matrix [rows, cols] with leading dimension ld >= cols; padding filled with 777.
std::vector<float> matrix(int64_t rows, int64_t cols, int64_t ld, uint32_t seed) {
  std::vector<float> m(static_cast<size_t>(std::max<int64_t>(rows * ld, 1)), 777.f);
  std::vector<float> r = randoms(size_t(rows * cols), -1.f, 1.f, seed);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) m[size_t(i * ld + j)] = r[size_t(i * cols + j)];
  return m;
}

double act_ref(Activation act, double v) {
  switch (act) {
    case Activation::None: return v;
    case Activation::Relu: return v < 0 ? 0 : v;
    case Activation::Sigmoid: return 1 / (1 + std::exp(-v));
    case Activation::Tanh: return std::tanh(v);
    case Activation::Gelu: return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  }
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernels)

// ---------------------------------------------------------------- device

BOOST_AUTO_TEST_CASE(device_memory) {
  const Device& d = cpu_device();
  BOOST_TEST(std::string(d.name) == "cpu");
  BOOST_TEST(d.kernels != nullptr);
  for (size_t bytes : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(1000), size_t(1) << 20}) {
    void* p = d.alloc(bytes);
    BOOST_TEST_REQUIRE(p != nullptr);
    BOOST_TEST(reinterpret_cast<uintptr_t>(p) % 64 == 0u);
    std::vector<unsigned char> host(bytes), back(bytes);
    for (size_t i = 0; i < bytes; ++i) host[i] = static_cast<unsigned char>(i * 7 + 1);
    d.to_device(p, host.data(), bytes);
    d.to_host(back.data(), p, bytes);
    BOOST_TEST((host == back));
    d.free(p);
  }
  BOOST_TEST(d.alloc(SIZE_MAX - 10) == nullptr);
  d.free(nullptr);
}

// ---------------------------------------------------------------- unary

BOOST_AUTO_TEST_CASE(unary_against_double) {
  for (UnaryKind op : kUnaryKinds) {
    for (size_t extra : {size_t(0), size_t(5), size_t(100), size_t(1001)}) {
      std::vector<float> x = unary_inputs(extra, 17 + uint32_t(extra));
      std::vector<double> want(x.size());
      for (size_t i = 0; i < x.size(); ++i) want[i] = ref_unary(op, x[i]);
      double rtol = 0, atol = 0;
      switch (op) {
        case UnaryKind::Exp: case UnaryKind::Log: case UnaryKind::Sqrt: case UnaryKind::Tanh:
          rtol = 2.4e-7; break;
        case UnaryKind::Sin: case UnaryKind::Cos:  // huge arguments: float's own range reduction
          rtol = 2.4e-7; atol = 1e-7; break;
        case UnaryKind::Sigmoid: rtol = 4e-7; atol = 1e-30; break;
        default: break;
      }
      std::vector<float> y(x.size(), -99.f);
      K().unary(op, x.data(), y.data(), int64_t(x.size()));
      if (op == UnaryKind::Gelu) {  // 1 + erf cancels for very negative x: relative to |x|
        std::string bad;
        for (size_t i = 0; i < x.size() && bad.empty(); ++i)
          if (!close(y[i], want[i], 4e-7, 2e-7 * (std::isfinite(x[i]) ? std::fabs(x[i]) : 0.0) + 1e-44))
            bad = "gelu(" + fmt(x[i]) + ") = " + fmt(y[i]);
        BOOST_TEST(bad == "");
      } else if (op == UnaryKind::Sin || op == UnaryKind::Cos) {
        // compared where float argument reduction is meaningful (|x| < 1e4)
        std::vector<double> w = want;
        std::vector<float> got = y;
        for (size_t i = 0; i < x.size(); ++i)
          if (std::fabs(x[i]) > 1e4f) got[i] = float(w[i] = 0);
        BOOST_TEST_CONTEXT("op " << int(op) << " n " << x.size()) { BOOST_TEST(mismatches(got.data(), w, rtol, atol, &x) == ""); }
      } else {
        BOOST_TEST_CONTEXT("op " << int(op) << " n " << x.size()) { BOOST_TEST(mismatches(y.data(), want, rtol, atol, &x) == ""); }
      }
      // in place gives the same
      std::vector<float> z = x;
      K().unary(op, z.data(), z.data(), int64_t(z.size()));
      BOOST_TEST_CONTEXT("in place, op " << int(op)) { BOOST_TEST(exact_mismatches(z.data(), y) == ""); }
    }
  }
}

// The transcendental functions are the float libm ones exactly (as torch's scalar path), and
// floor/ceil/round are exact with the sign of zero.
BOOST_AUTO_TEST_CASE(unary_exact_semantics) {
  std::vector<float> x = unary_inputs(300, 5);
  std::vector<float> y(x.size());
  auto expect = [&](UnaryKind op, auto f) {
    K().unary(op, x.data(), y.data(), int64_t(x.size()));
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = f(x[i]);
    BOOST_TEST_CONTEXT("op " << int(op)) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
  };
  expect(UnaryKind::Exp, [](float v) { return std::exp(v); });
  expect(UnaryKind::Log, [](float v) { return std::log(v); });
  expect(UnaryKind::Sqrt, [](float v) { return std::sqrt(v); });
  expect(UnaryKind::Sin, [](float v) { return std::sin(v); });
  expect(UnaryKind::Cos, [](float v) { return std::cos(v); });
  expect(UnaryKind::Tanh, [](float v) { return std::tanh(v); });
  expect(UnaryKind::Sigmoid, [](float v) { return 1.f / (1.f + std::exp(-v)); });
  expect(UnaryKind::Gelu, [](float v) { return 0.5f * v * (1.f + std::erf(v * float(M_SQRT1_2))); });
  expect(UnaryKind::Floor, [](float v) { return std::floor(v); });
  expect(UnaryKind::Ceil, [](float v) { return std::ceil(v); });
  expect(UnaryKind::Round, [](float v) { return std::nearbyint(v); });
  expect(UnaryKind::Relu, [](float v) { return v < 0.f ? 0.f : v; });  // relu(-0.) = -0., relu(nan) = nan
  expect(UnaryKind::Abs, [](float v) { return std::fabs(v); });
  expect(UnaryKind::Neg, [](float v) { return -v; });

  // round half to even, by value
  const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 4.5f};
  const float evens[] = {0.f, 2.f, 2.f, -0.f, -2.f, -2.f, 4.f, 4.f};
  float r[8];
  K().unary(UnaryKind::Round, halves, r, 8);
  for (int i = 0; i < 8; ++i) BOOST_TEST(r[i] == evens[i]);
  BOOST_TEST(std::signbit(r[3]));  // round(-0.5) is -0.
}

BOOST_AUTO_TEST_CASE(unary_empty_touches_nothing) {
  for (UnaryKind op : kUnaryKinds) K().unary(op, nullptr, nullptr, 0);
  float x = 1.f, y = 5.f;
  K().unary(UnaryKind::Neg, &x, &y, 0);
  BOOST_TEST(y == 5.f);
}

// ---------------------------------------------------------------- binary

BOOST_AUTO_TEST_CASE(binary_broadcast_plans) {
  uint32_t seed = 100;
  for (const PlanCase& c : plan_cases()) {
    Strided s = make_plan(c.out, c.strides);
    std::vector<float> a = binary_operand(c.sizes[0], ++seed, false);
    std::vector<float> b = binary_operand(c.sizes[1], ++seed, true);
    const float* ap = a.data() + c.base[0];
    const float* bp = b.data() + c.base[1];
    int64_t n = numel(c.out);
    for (BinaryKind op : kBinaryKinds) {
      std::vector<double> want(static_cast<size_t>(n));
      std::vector<double> atol(static_cast<size_t>(n));
      for_each_index(s, 2, [&](int64_t i, const int64_t* off) {
        want[size_t(i)] = ref_binary(op, ap[off[0]], bp[off[1]]);
        atol[size_t(i)] = atol_of(op, bp[off[1]]);
      });
      std::vector<float> y(static_cast<size_t>(n) + 1, -99.f);  // one sentinel past the end
      K().binary(op, ap, bp, y.data(), s);
      std::string bad;
      for (int64_t i = 0; i < n && bad.empty(); ++i)
        if (!close(y[size_t(i)], want[size_t(i)], rtol_of(op), atol[size_t(i)]))
          bad = "[" + std::to_string(i) + "] got " + fmt(y[size_t(i)]) + " want " + fmt(want[size_t(i)]);
      BOOST_TEST_CONTEXT(c.name << ", op " << int(op)) { BOOST_TEST(bad == ""); }
      BOOST_TEST(y[size_t(n)] == -99.f, c.name << ": wrote past the end");
    }
  }
}

// Merging dimensions does not change results: the same data as [2, 3, 4] or [24].
BOOST_AUTO_TEST_CASE(binary_merged_and_unmerged_agree) {
  std::vector<float> a = randoms(24, -3, 3, 1), b = randoms(24, -3, 3, 2);
  std::vector<float> y1(24), y2(24);
  Strided merged = make_plan({24}, {{1}, {1}});
  Strided split = make_plan({2, 3, 4}, {{12, 4, 1}, {12, 4, 1}});
  for (BinaryKind op : kBinaryKinds) {
    K().binary(op, a.data(), b.data(), y1.data(), merged);
    K().binary(op, a.data(), b.data(), y2.data(), split);
    BOOST_TEST_CONTEXT("op " << int(op)) { BOOST_TEST(exact_mismatches(y2.data(), y1) == ""); }
  }
}

BOOST_AUTO_TEST_CASE(binary_in_place) {
  for (int64_t n : {1, 15, 16, 17, 100}) {
    std::vector<float> a = binary_operand(n, 7, false), b = binary_operand(n, 8, true);
    Strided s = make_plan({n}, {{1}, {1}});
    Strided row = make_plan({n}, {{1}, {0}});  // b broadcast
    for (BinaryKind op : kBinaryKinds) {
      std::vector<float> want(static_cast<size_t>(n)), want_row(static_cast<size_t>(n)), want_same(static_cast<size_t>(n));
      K().binary(op, a.data(), b.data(), want.data(), s);
      K().binary(op, a.data(), b.data(), want_row.data(), row);
      K().binary(op, a.data(), a.data(), want_same.data(), s);
      std::vector<float> y = a;  // y is a
      K().binary(op, y.data(), b.data(), y.data(), s);
      BOOST_TEST_CONTEXT("y == a, op " << int(op) << " n " << n) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
      y = b;  // y is b
      K().binary(op, a.data(), y.data(), y.data(), s);
      BOOST_TEST_CONTEXT("y == b, op " << int(op) << " n " << n) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
      y = a;  // y is a, b broadcast
      K().binary(op, y.data(), b.data(), y.data(), row);
      BOOST_TEST_CONTEXT("y == a, b broadcast, op " << int(op)) { BOOST_TEST(exact_mismatches(y.data(), want_row) == ""); }
      y = a;  // y is a and b
      K().binary(op, y.data(), y.data(), y.data(), s);
      BOOST_TEST_CONTEXT("y == a == b, op " << int(op)) { BOOST_TEST(exact_mismatches(y.data(), want_same) == ""); }
    }
  }
}

// // and % with Python's semantics (expected values from CPython on these float32 values).
BOOST_AUTO_TEST_CASE(floordiv_and_mod_python_semantics) {
  struct Case { float a, b; double floordiv, mod; };
  const Case cases[] = {
      {7.0f, 2.0f, 3.0, 1.0},      {-7.0f, 2.0f, -4.0, 1.0},   {7.0f, -2.0f, -4.0, -1.0},
      {-7.0f, -2.0f, 3.0, -1.0},   {7.5f, 2.0f, 3.0, 1.5},     {-7.5f, 2.0f, -4.0, 0.5},
      {7.5f, -2.0f, -4.0, -0.5},   {-7.5f, -2.0f, 3.0, -1.5},  {6.0f, 3.0f, 2.0, 0.0},
      {-6.0f, 3.0f, -2.0, 0.0},    {6.0f, -3.0f, -2.0, -0.0},  {0.0f, 3.0f, 0.0, 0.0},
      {0.0f, -3.0f, -0.0, -0.0},   {1.0f, kInf, 0.0, 1.0},     {-1.0f, kInf, -1.0, kInf},
      {1.0f, -kInf, -1.0, -kInf},  {-1.0f, -kInf, 0.0, -1.0},  {5.25f, 0.5f, 10.0, 0.25},
      {-5.25f, 0.5f, -11.0, 0.25}, {1e10f, 3.0f, 3333333333.0, 1.0}, {-1e10f, 3.0f, -3333333334.0, 2.0},
      {0.75f, -0.25f, -3.0, -0.0}, {-1.0f, 0.375f, -3.0, 0.125}, {3.0f, 0.1f, 29.0, 0.09999995678663254},
  };
  for (const Case& c : cases) {
    float fd, md, fs, ms, fs2, ms2;
    Strided s = make_plan({1}, {{1}, {1}});
    K().binary(BinaryKind::FloorDiv, &c.a, &c.b, &fd, s);
    K().binary(BinaryKind::Mod, &c.a, &c.b, &md, s);
    K().binary_scalar(BinaryKind::FloorDiv, &c.a, c.b, &fs, 1, false);
    K().binary_scalar(BinaryKind::Mod, &c.a, c.b, &ms, 1, false);
    K().binary_scalar(BinaryKind::FloorDiv, &c.b, c.a, &fs2, 1, true);
    K().binary_scalar(BinaryKind::Mod, &c.b, c.a, &ms2, 1, true);
    const float want_fd = float(c.floordiv), want_md = float(c.mod);
    BOOST_TEST_CONTEXT(c.a << " // " << c.b) {
      for (float v : {fd, fs, fs2}) BOOST_TEST(v == want_fd);
      for (float v : {md, ms, ms2}) BOOST_TEST(v == want_md);
      // the remainder takes the divisor's sign (a zero one aside)
      if (md != 0) BOOST_TEST(std::signbit(md) == std::signbit(c.b));
    }
  }
  // zero divisors: IEEE (torch), never an error
  const float a[] = {1.f, -1.f, 0.f, kInf, kNan}, z[] = {0.f, 0.f, 0.f, 0.f, 0.f};
  float fd[5], md[5], dv[5];
  Strided s = make_plan({5}, {{1}, {1}});
  K().binary(BinaryKind::FloorDiv, a, z, fd, s);
  K().binary(BinaryKind::Mod, a, z, md, s);
  K().binary(BinaryKind::Div, a, z, dv, s);
  BOOST_TEST(fd[0] == kInf);
  BOOST_TEST(fd[1] == -kInf);
  BOOST_TEST(std::isnan(fd[2]));
  BOOST_TEST(fd[3] == kInf);
  BOOST_TEST(std::isnan(fd[4]));
  for (float v : md) BOOST_TEST(std::isnan(v));
  BOOST_TEST(dv[0] == kInf);
  BOOST_TEST(dv[1] == -kInf);
  BOOST_TEST(std::isnan(dv[2]));
  // inf // x and inf % x are nan, as in Python
  const float i2[] = {kInf, -kInf}, two[] = {2.f, 2.f};
  float r[2];
  Strided s2 = make_plan({2}, {{1}, {1}});
  K().binary(BinaryKind::FloorDiv, i2, two, r, s2);
  BOOST_TEST((std::isnan(r[0]) && std::isnan(r[1])));
  K().binary(BinaryKind::Mod, i2, two, r, s2);
  BOOST_TEST((std::isnan(r[0]) && std::isnan(r[1])));
}

// Random // and % against CPython's algorithm in double.
BOOST_AUTO_TEST_CASE(floordiv_and_mod_random) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-50, 50), v(-5, 5);
  const int n = 4000;
  std::vector<float> a(n), b(n), fd(n), md(n);
  for (int i = 0; i < n; ++i) {
    a[i] = i % 3 ? u(rng) : std::round(u(rng));
    b[i] = i % 5 ? v(rng) : std::round(v(rng));
    if (b[i] == 0) b[i] = 0.25f;
  }
  Strided s = make_plan({n}, {{1}, {1}});
  K().binary(BinaryKind::FloorDiv, a.data(), b.data(), fd.data(), s);
  K().binary(BinaryKind::Mod, a.data(), b.data(), md.data(), s);
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    if (fd[i] != float(py_floordiv(a[i], b[i]))) ++bad;
    if (!close(md[i], py_mod(a[i], b[i]), 0, 6e-8 * std::fabs(b[i]))) ++bad;
    // a == b·(a // b) + a % b to rounding
    if (std::fabs(double(fd[i]) * b[i] + md[i] - a[i]) > 1e-5 * (1 + std::fabs(a[i]))) ++bad;
  }
  BOOST_TEST(bad == 0);
}

// // and % are bit for bit torch's float code (std::fmod, then the sign fix and the floor),
// over magnitudes from tiny to huge quotients, zeros' signs included.
BOOST_AUTO_TEST_CASE(floordiv_and_mod_bitwise) {
  auto torch_mod = [](float a, float b) {
    float m = std::fmod(a, b);
    if (m != 0.f && (b < 0.f) != (m < 0.f)) m += b;
    return m;
  };
  auto torch_floordiv = [](float a, float b) {
    if (b == 0.f) return a / b;
    float mod = std::fmod(a, b);
    float div = (a - mod) / b;
    if (mod != 0.f && (b < 0.f) != (mod < 0.f)) div -= 1.f;
    if (div == 0.f) return std::copysign(0.f, a / b);
    float fl = std::floor(div);
    if (div - fl > 0.5f) fl += 1.f;
    return fl;
  };
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> mant(-1.f, 1.f);
  std::uniform_int_distribution<int> ex(-40, 40);
  const int n = 20000;
  std::vector<float> a(n), b(n), fd(n), md(n), want_fd(n), want_md(n);
  for (int i = 0; i < n; ++i) {
    a[size_t(i)] = std::ldexp(mant(rng), ex(rng));
    b[size_t(i)] = std::ldexp(mant(rng), ex(rng) / 2);
    if (i % 9 == 0) a[size_t(i)] = b[size_t(i)] * float(int(mant(rng) * 1000));  // exact multiples
    if (i % 13 == 0) a[size_t(i)] = -a[size_t(i)];
  }
  const float specials[] = {0.f, -0.f, kInf, -kInf, kNan, 1e-45f, 3e38f, -3e38f};
  for (int i = 0; i < 64; ++i) {
    a[size_t(i)] = specials[i % 8];
    b[size_t(i)] = specials[i / 8];
  }
  for (int i = 0; i < n; ++i) {
    want_fd[size_t(i)] = torch_floordiv(a[size_t(i)], b[size_t(i)]);
    want_md[size_t(i)] = torch_mod(a[size_t(i)], b[size_t(i)]);
  }
  Strided s = make_plan({n}, {{1}, {1}});
  K().binary(BinaryKind::FloorDiv, a.data(), b.data(), fd.data(), s);
  K().binary(BinaryKind::Mod, a.data(), b.data(), md.data(), s);
  BOOST_TEST(exact_mismatches(fd.data(), want_fd) == "");
  BOOST_TEST(exact_mismatches(md.data(), want_md) == "");
}

BOOST_AUTO_TEST_CASE(maximum_minimum_and_comparisons) {
  const float a[] = {1.f, kNan, 3.f, kNan, -0.f, 2.f, -kInf, 5.f};
  const float b[] = {2.f, 1.f, kNan, kNan, 0.f, 2.f, 1.f, kInf};
  const int n = 8;
  Strided s = make_plan({n}, {{1}, {1}});
  float mx[n], mn[n], lt[n], eq[n], ne[n], ge[n];
  K().binary(BinaryKind::Maximum, a, b, mx, s);
  K().binary(BinaryKind::Minimum, a, b, mn, s);
  K().binary(BinaryKind::Lt, a, b, lt, s);
  K().binary(BinaryKind::Eq, a, b, eq, s);
  K().binary(BinaryKind::Ne, a, b, ne, s);
  K().binary(BinaryKind::Ge, a, b, ge, s);
  for (int i = 0; i < n; ++i) {
    BOOST_TEST_CONTEXT("i " << i) {
      bool nan = std::isnan(a[i]) || std::isnan(b[i]);
      BOOST_TEST(std::isnan(mx[i]) == nan);
      BOOST_TEST(std::isnan(mn[i]) == nan);
      if (!nan) {
        BOOST_TEST(mx[i] == std::max(a[i], b[i]));
        BOOST_TEST(mn[i] == std::min(a[i], b[i]));
      }
      BOOST_TEST(lt[i] == (a[i] < b[i] ? 1.f : 0.f));
      BOOST_TEST(eq[i] == (a[i] == b[i] ? 1.f : 0.f));
      BOOST_TEST(ne[i] == (a[i] != b[i] ? 1.f : 0.f));  // nan != nan is 1
      BOOST_TEST(ge[i] == (a[i] >= b[i] ? 1.f : 0.f));
    }
  }
}

// binary_scalar agrees with binary over a broadcast operand, in both orders and in place.
BOOST_AUTO_TEST_CASE(binary_scalar_matches_binary) {
  for (int64_t n : {1, 16, 37}) {
    std::vector<float> a = binary_operand(n, 11, false);
    for (float sv : {2.f, -3.5f, 0.f, -0.f, kInf, kNan, 0.25f}) {
      for (BinaryKind op : kBinaryKinds) {
        if (op == BinaryKind::Pow) continue;  // pow's scalar exponents have their own test
        for (bool first : {false, true}) {
          std::vector<float> want(static_cast<size_t>(n)), y(static_cast<size_t>(n));
          Strided s = first ? make_plan({n}, {{0}, {1}}) : make_plan({n}, {{1}, {0}});
          if (first) K().binary(op, &sv, a.data(), want.data(), s);
          else K().binary(op, a.data(), &sv, want.data(), s);
          K().binary_scalar(op, a.data(), sv, y.data(), n, first);
          BOOST_TEST_CONTEXT("op " << int(op) << " s " << sv << " first " << first) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
          y = a;
          K().binary_scalar(op, y.data(), sv, y.data(), n, first);
          BOOST_TEST_CONTEXT("in place, op " << int(op)) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
        }
      }
    }
  }
  K().binary_scalar(BinaryKind::Add, nullptr, 1.f, nullptr, 0, false);
}

// pow(Tensor, Scalar) as torch: 0 and 1 are a fill and a copy, 0.5/-0.5/-1 sqrt, rsqrt and
// reciprocal, 2/3/-2 products; other exponents (and Tensor exponents) are pow.
BOOST_AUTO_TEST_CASE(pow_semantics) {
  std::vector<float> x = {0.f, -0.f, 1.f, -1.f, 2.f, -2.f, 0.5f, 3.7f, -3.7f, kInf, -kInf, kNan, 1e-20f, 1e20f};
  std::vector<float> r = randoms(40, -4, 4, 9);
  x.insert(x.end(), r.begin(), r.end());
  const int64_t n = int64_t(x.size());
  auto torch_pow = [](double v, double e) -> double {
    if (e == 0) return 1;
    if (e == 1) return v;
    if (e == 0.5) return std::sqrt(v);
    if (e == -0.5) return 1 / std::sqrt(v);
    if (e == -1) return 1 / v;
    if (e == 2) return v * v;
    if (e == 3) return v * v * v;
    if (e == -2) return 1 / double(float(v * v));  // x·x overflows in float first
    return std::pow(v, e);
  };
  for (float e : {0.f, 1.f, 0.5f, -0.5f, -1.f, 2.f, 3.f, -2.f, 1.5f, -3.f, 0.25f, 4.f}) {
    std::vector<float> y(static_cast<size_t>(n));
    K().binary_scalar(BinaryKind::Pow, x.data(), e, y.data(), n, false);
    std::vector<double> want(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = torch_pow(x[size_t(i)], e);
    BOOST_TEST_CONTEXT("exponent " << e) { BOOST_TEST(mismatches(y.data(), want, 1e-6, 0, &x) == ""); }
    std::vector<float> z = x;
    K().binary_scalar(BinaryKind::Pow, z.data(), e, z.data(), n, false);
    BOOST_TEST_CONTEXT("in place, exponent " << e) { BOOST_TEST(exact_mismatches(z.data(), y) == ""); }
  }
  float v[3] = {-kInf, -0.f, kNan}, y[3];
  K().binary_scalar(BinaryKind::Pow, v, 0.5f, y, 3, false);
  BOOST_TEST(std::isnan(y[0]));   // sqrt(-inf), where pow(-inf, 0.5) would be inf
  BOOST_TEST((y[1] == 0.f && std::signbit(y[1])));  // sqrt(-0.) is -0.
  K().binary_scalar(BinaryKind::Pow, v, 0.f, y, 3, false);
  BOOST_TEST((y[0] == 1.f && y[1] == 1.f && y[2] == 1.f));  // x ** 0 is 1, nan included
  // scalar base: 2 ** x, and a tensor exponent (pow(float, float))
  std::vector<float> e2 = randoms(30, -5, 5, 4), y2(30), y3(30);
  K().binary_scalar(BinaryKind::Pow, e2.data(), 2.f, y2.data(), 30, true);
  for (int i = 0; i < 30; ++i) BOOST_TEST(close(y2[size_t(i)], std::pow(2.0, double(e2[size_t(i)])), 1e-6, 0));
  std::vector<float> base = randoms(30, 0.1f, 3, 5);
  K().binary(BinaryKind::Pow, base.data(), e2.data(), y3.data(), make_plan({30}, {{1}, {1}}));
  for (int i = 0; i < 30; ++i) BOOST_TEST(y3[size_t(i)] == std::pow(base[size_t(i)], e2[size_t(i)]));
}

// ---------------------------------------------------------------- where, clamp

BOOST_AUTO_TEST_CASE(where_plans) {
  struct WCase { const char* name; std::vector<int64_t> c, a, b, out; };
  const WCase cases[] = {
      {"same shape", {37}, {37}, {37}, {37}},
      {"scalar branches", {5, 7}, {1}, {1}, {5, 7}},
      {"row condition", {7}, {5, 7}, {5, 7}, {5, 7}},
      {"column condition", {5, 1}, {5, 7}, {7}, {5, 7}},
      {"all broadcast", {3, 1, 1}, {1, 4, 1}, {1, 1, 18}, {3, 4, 18}},
      {"empty", {0, 3}, {3}, {1}, {0, 3}},
  };
  const float cvals[] = {0.f, 1.f, kNan, -0.f, 2.f, 0.f, -1.f};
  for (const WCase& w : cases) {
    Strided s = make_plan(w.out, {broadcast_strides(w.c, w.out), broadcast_strides(w.a, w.out), broadcast_strides(w.b, w.out)});
    std::vector<float> c(static_cast<size_t>(numel(w.c)));
    for (size_t i = 0; i < c.size(); ++i) c[i] = cvals[i % 7];
    std::vector<float> a = randoms(size_t(numel(w.a)), -1, 1, 1), b = randoms(size_t(numel(w.b)), 5, 6, 2);
    int64_t n = numel(w.out);
    std::vector<float> want(static_cast<size_t>(n)), y(static_cast<size_t>(n), -9.f);
    for_each_index(s, 3, [&](int64_t i, const int64_t* off) {
      want[size_t(i)] = c[size_t(off[0])] != 0 ? a[size_t(off[1])] : b[size_t(off[2])];  // nan is true
    });
    K().where(c.data(), a.data(), b.data(), y.data(), s);
    BOOST_TEST_CONTEXT(w.name) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
  }
  // in place over a
  std::vector<float> c(40), a = randoms(40, -1, 1, 3), b = randoms(40, -1, 1, 4);
  for (size_t i = 0; i < c.size(); ++i) c[i] = float(i % 3 == 0);
  std::vector<float> want(40);
  for (size_t i = 0; i < 40; ++i) want[i] = c[i] != 0 ? a[i] : b[i];
  Strided s = make_plan({40}, {{1}, {1}, {1}});
  K().where(c.data(), a.data(), b.data(), a.data(), s);
  BOOST_TEST(exact_mismatches(a.data(), want) == "");
  // a transposed condition (generic inner stride)
  std::vector<float> ct(12);
  for (size_t i = 0; i < 12; ++i) ct[i] = float(i % 2);
  std::vector<float> aa = randoms(12, -1, 1, 5), bb = randoms(12, 5, 6, 6), yy(12);
  Strided st = make_plan({3, 4}, {{1, 3}, {4, 1}, {4, 1}});
  K().where(ct.data(), aa.data(), bb.data(), yy.data(), st);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      BOOST_TEST(yy[size_t(i * 4 + j)] == (ct[size_t(j * 3 + i)] != 0 ? aa[size_t(i * 4 + j)] : bb[size_t(i * 4 + j)]));
}

BOOST_AUTO_TEST_CASE(clamp_semantics) {
  std::vector<float> x = unary_inputs(50, 8);
  for (auto [lo, hi] : {std::pair{-1.f, 1.f}, {0.f, kInf}, {-kInf, 0.5f}, {2.f, -2.f}, {-0.f, 0.f}}) {
    std::vector<float> y(x.size()), want(x.size());
    K().clamp(x.data(), y.data(), int64_t(x.size()), lo, hi);
    for (size_t i = 0; i < x.size(); ++i) want[i] = std::isnan(x[i]) ? kNan : std::min(std::max(x[i], lo), hi);
    BOOST_TEST_CONTEXT("clamp " << lo << " " << hi) { BOOST_TEST(mismatches(y.data(), std::vector<double>(want.begin(), want.end()), 0, 0) == ""); }
    for (size_t i = 0; i < x.size(); ++i)
      if (std::isnan(x[i])) BOOST_TEST(std::isnan(y[i]));  // nan stays nan
    std::vector<float> z = x;
    K().clamp(z.data(), z.data(), int64_t(z.size()), lo, hi);
    BOOST_TEST(exact_mismatches(z.data(), y) == "");
  }
  K().clamp(nullptr, nullptr, 0, 0.f, 1.f);
}

// ---------------------------------------------------------------- reductions

BOOST_AUTO_TEST_CASE(reduce_shapes) {
  struct Shape { int64_t outer, n, inner; };
  const Shape shapes[] = {{1, 1, 1},   {1, 5, 1},   {3, 16, 1},  {2, 17, 1},  {1, 1000, 1}, {2, 4099, 1},
                          {3, 5, 2},   {2, 7, 7},   {1, 33, 64}, {2, 20, 65}, {1, 300, 130}, {4, 1, 9},
                          {1, 1000, 3}, {5, 3, 1}};
  const ReduceKind ops[] = {ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min, ReduceKind::Argmax};
  uint32_t seed = 50;
  for (const Shape& sh : shapes) {
    std::vector<float> x = randoms(size_t(sh.outer * sh.n * sh.inner), -4, 4, ++seed);
    for (size_t i = 0; i < x.size(); i += 13) x[i] = std::round(x[i]);  // ties for argmax
    for (ReduceKind op : ops) {
      std::vector<double> want(static_cast<size_t>(sh.outer * sh.inner));
      double tol = 0;
      for (int64_t o = 0; o < sh.outer; ++o)
        for (int64_t j = 0; j < sh.inner; ++j) {
          double sum = 0, abs_sum = 0, mx = -INFINITY, mn = INFINITY;
          int64_t arg = 0;
          for (int64_t r = 0; r < sh.n; ++r) {
            double v = x[size_t((o * sh.n + r) * sh.inner + j)];
            sum += v;
            abs_sum += std::fabs(v);
            if (v > mx) { mx = v; arg = r; }
            mn = std::min(mn, v);
          }
          double w = 0;
          switch (op) {
            case ReduceKind::Sum: w = sum; break;
            case ReduceKind::Mean: w = sum / double(sh.n); break;
            case ReduceKind::Max: w = mx; break;
            case ReduceKind::Min: w = mn; break;
            case ReduceKind::Argmax: w = double(arg); break;
          }
          want[size_t(o * sh.inner + j)] = w;
          if (op == ReduceKind::Sum) tol = std::max(tol, 1e-6 * abs_sum);
          if (op == ReduceKind::Mean) tol = std::max(tol, 1e-6 * abs_sum / double(sh.n));
        }
      std::vector<float> y(want.size() + 1, -99.f);
      K().reduce(op, x.data(), y.data(), sh.outer, sh.n, sh.inner);
      BOOST_TEST_CONTEXT("op " << int(op) << " [" << sh.outer << ", " << sh.n << ", " << sh.inner << "]") { BOOST_TEST(mismatches(y.data(), want, 0, tol) == ""); }
      BOOST_TEST(y.back() == -99.f);
    }
  }
}

BOOST_AUTO_TEST_CASE(reduce_nan_and_ties) {
  // columns: each row of `cols` is one reduction of 6 values; run as inner == 1 and as columns
  const std::vector<std::vector<float>> cols = {
      {1, 3, 3, 2, -1, 0},            // tie: the first 3
      {1, kNan, 5, kNan, 2, 9},       // the first nan
      {-kInf, -kInf, -kInf, -kInf, -kInf, -kInf},
      {kNan, 1, 2, 3, 4, 5},
      {0, 0, 0, 0, 0, kNan},
      {-0.f, 0.f, -1, -2, -3, -4},
      {kInf, 1, kInf, 2, kNan, 0},
  };
  const float argmax[] = {1, 1, 0, 0, 5, 0, 4};
  const int64_t n = 6, m = int64_t(cols.size());
  std::vector<float> rows_major, col_major(size_t(n * m));
  for (auto& c : cols) rows_major.insert(rows_major.end(), c.begin(), c.end());
  for (int64_t j = 0; j < m; ++j)
    for (int64_t r = 0; r < n; ++r) col_major[size_t(r * m + j)] = cols[size_t(j)][size_t(r)];
  for (bool as_columns : {false, true}) {
    std::vector<float> am(static_cast<size_t>(m)), mx(static_cast<size_t>(m)), mn(static_cast<size_t>(m)), sm(static_cast<size_t>(m));
    const float* x = as_columns ? col_major.data() : rows_major.data();
    int64_t outer = as_columns ? 1 : m, inner = as_columns ? m : 1;
    K().reduce(ReduceKind::Argmax, x, am.data(), outer, n, inner);
    K().reduce(ReduceKind::Max, x, mx.data(), outer, n, inner);
    K().reduce(ReduceKind::Min, x, mn.data(), outer, n, inner);
    K().reduce(ReduceKind::Sum, x, sm.data(), outer, n, inner);
    for (int64_t j = 0; j < m; ++j) {
      BOOST_TEST_CONTEXT("column " << j << (as_columns ? " (as columns)" : "")) {
        bool has_nan = std::any_of(cols[size_t(j)].begin(), cols[size_t(j)].end(), [](float v) { return std::isnan(v); });
        BOOST_TEST(am[size_t(j)] == argmax[j]);
        BOOST_TEST(std::isnan(mx[size_t(j)]) == has_nan);
        BOOST_TEST(std::isnan(mn[size_t(j)]) == has_nan);
        BOOST_TEST((std::isnan(sm[size_t(j)]) == has_nan));
      }
    }
  }
  // a nan at every position of a 40-element row is found (lanes and tail)
  for (int64_t pos = 0; pos < 40; ++pos) {
    std::vector<float> x = randoms(40, -1, 1, uint32_t(pos));
    x[size_t(pos)] = kNan;
    float mx, mn, am;
    K().reduce(ReduceKind::Max, x.data(), &mx, 1, 40, 1);
    K().reduce(ReduceKind::Min, x.data(), &mn, 1, 40, 1);
    K().reduce(ReduceKind::Argmax, x.data(), &am, 1, 40, 1);
    BOOST_TEST((std::isnan(mx) && std::isnan(mn) && am == float(pos)), "nan at " << pos);
  }
}

BOOST_AUTO_TEST_CASE(reduce_empty) {
  float y[6] = {5, 5, 5, 5, 5, 5};
  K().reduce(ReduceKind::Sum, nullptr, y, 2, 0, 3);
  for (int i = 0; i < 6; ++i) BOOST_TEST(y[i] == 0.f);
  K().reduce(ReduceKind::Mean, nullptr, y, 3, 0, 1);
  for (int i = 0; i < 3; ++i) BOOST_TEST(std::isnan(y[i]));
  BOOST_TEST(y[3] == 0.f);
  K().reduce(ReduceKind::Sum, nullptr, nullptr, 0, 5, 3);
  K().reduce(ReduceKind::Max, nullptr, nullptr, 4, 5, 0);
}

// Pairwise summation keeps large sums accurate where a running float sum drifts.
BOOST_AUTO_TEST_CASE(sum_is_accurate) {
  // 20M ones: a running float sum stops at 2^24
  std::vector<float> ones(20000000, 1.f);
  float y;
  K().reduce(ReduceKind::Sum, ones.data(), &y, 1, int64_t(ones.size()), 1);
  BOOST_TEST(y == 20000000.f);
  K().reduce(ReduceKind::Mean, ones.data(), &y, 1, int64_t(ones.size()), 1);
  BOOST_TEST(y == 1.f);
  ones = {};
  // 1M × 0.1 along a column (inner 3): a running float sum is off by about 1%
  const int64_t n = 1000000;
  std::vector<float> x(static_cast<size_t>(n * 3), 0.1f);
  float cols[3];
  K().reduce(ReduceKind::Sum, x.data(), cols, 1, n, 3);
  const double want = double(0.1f) * double(n);
  for (float c : cols) BOOST_TEST(std::fabs(c - want) <= 1e-6 * want);
  K().reduce(ReduceKind::Sum, x.data(), &y, 1, n, 1);
  BOOST_TEST(std::fabs(y - want) <= 1e-6 * want);
}

// ---------------------------------------------------------------- softmax, layer norm

BOOST_AUTO_TEST_CASE(softmax_against_double) {
  struct Shape { int64_t rows, n; };
  for (Shape sh : {Shape{1, 1}, Shape{3, 5}, Shape{2, 16}, Shape{4, 17}, Shape{2, 300}, Shape{1, 1000}}) {
    std::vector<float> x = randoms(size_t(sh.rows * sh.n), -10, 10, uint32_t(sh.n));
    if (sh.n > 3) {
      x[1] = -kInf;        // masked
      x[2] = 1000.f;       // large: max subtraction keeps exp finite
      x[3] = -1e9f;        // underflows to 0
    }
    for (bool log : {false, true}) {
      std::vector<double> want(x.size());
      for (int64_t r = 0; r < sh.rows; ++r) {
        const float* xr = x.data() + r * sh.n;
        double m = *std::max_element(xr, xr + sh.n), s = 0;
        for (int64_t i = 0; i < sh.n; ++i) s += std::exp(double(xr[i]) - m);
        for (int64_t i = 0; i < sh.n; ++i)
          want[size_t(r * sh.n + i)] = log ? double(xr[i]) - m - std::log(s) : std::exp(double(xr[i]) - m) / s;
      }
      std::vector<float> y(x.size());
      K().softmax(x.data(), y.data(), sh.rows, sh.n, log);
      // x - max rounds in float (half an ulp of |x - max|, which exp turns into a relative
      // error of that size); then a few ulps of exp, the sum and the scaling
      std::string bad;
      for (size_t i = 0; i < y.size() && bad.empty(); ++i) {
        const float* xr = x.data() + int64_t(i) / sh.n * sh.n;
        double shift = std::fabs(double(x[i]) - *std::max_element(xr, xr + sh.n));
        if (std::isnan(shift)) shift = 0;
        double atol = log ? 2.4e-7 * (std::fabs(want[i]) + 1) : 1e-44;
        if (!close(y[i], want[i], log ? 0 : 6e-7 + 6e-8 * shift, atol))
          bad = "[" + std::to_string(i) + "] got " + fmt(y[i]) + " want " + fmt(want[i]);
      }
      BOOST_TEST_CONTEXT((log ? "log_softmax" : "softmax") << " [" << sh.rows << ", " << sh.n << "]") { BOOST_TEST(bad == ""); }
      std::vector<float> z = x;  // in place
      K().softmax(z.data(), z.data(), sh.rows, sh.n, log);
      BOOST_TEST(exact_mismatches(z.data(), y) == "");
    }
  }
  // a row with a nan, and a row of -inf, give nan (as torch)
  float x[6] = {1, kNan, 2, -kInf, -kInf, -kInf}, y[6];
  K().softmax(x, y, 2, 3, false);
  for (float v : y) BOOST_TEST(std::isnan(v));
  K().softmax(x, y, 2, 3, true);
  for (float v : y) BOOST_TEST(std::isnan(v));
  K().softmax(nullptr, nullptr, 0, 5, false);
  K().softmax(nullptr, nullptr, 5, 0, true);
}

BOOST_AUTO_TEST_CASE(layer_norm_against_double) {
  struct Shape { int64_t rows, n; };
  for (Shape sh : {Shape{1, 1}, Shape{3, 5}, Shape{2, 16}, Shape{4, 33}, Shape{2, 768}}) {
    std::vector<float> x = randoms(size_t(sh.rows * sh.n), -2, 3, uint32_t(sh.n));
    std::vector<float> w = randoms(size_t(sh.n), 0.5f, 1.5f, 1), b = randoms(size_t(sh.n), -1, 1, 2);
    for (int variant = 0; variant < 4; ++variant) {
      const float* wp = variant & 1 ? w.data() : nullptr;
      const float* bp = variant & 2 ? b.data() : nullptr;
      for (float eps : {1e-5f, 1e-3f}) {
        std::vector<double> want(x.size());
        for (int64_t r = 0; r < sh.rows; ++r) {
          const float* xr = x.data() + r * sh.n;
          double mean = 0, var = 0;
          for (int64_t i = 0; i < sh.n; ++i) mean += xr[i];
          mean /= double(sh.n);
          for (int64_t i = 0; i < sh.n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
          var /= double(sh.n);
          for (int64_t i = 0; i < sh.n; ++i)
            want[size_t(r * sh.n + i)] = (xr[i] - mean) / std::sqrt(var + eps) * (wp ? wp[i] : 1.0) + (bp ? bp[i] : 0.0);
        }
        std::vector<float> y(x.size());
        K().layer_norm(x.data(), wp, bp, y.data(), sh.rows, sh.n, eps);
        BOOST_TEST_CONTEXT("[" << sh.rows << ", " << sh.n << "] w " << bool(wp) << " b " << bool(bp) << " eps " << eps) { BOOST_TEST(mismatches(y.data(), want, 1e-6, 1e-6) == ""); }
        std::vector<float> z = x;
        K().layer_norm(z.data(), wp, bp, z.data(), sh.rows, sh.n, eps);
        BOOST_TEST(exact_mismatches(z.data(), y) == "");
      }
    }
  }
  // torch 1.13 computes (x·rstd + (-rstd·mean))·w + b with both multiply-adds fused, so a
  // constant row gives x·rstd's rounding error rather than 0: [[2, 2], [14, 14]] with eps 1e-6
  // prints [[0.0000, 0.0000], [0.0001, 0.0001]] (pytorch/pytorch#108072).
  float c[4] = {2.f, 2.f, 14.f, 14.f}, y[4];
  K().layer_norm(c, nullptr, nullptr, y, 2, 2, 1e-6f);
  const float rstd = 1.f / std::sqrt(1e-6f);
  for (int i = 0; i < 4; ++i) BOOST_TEST(y[i] == std::fma(c[i], rstd, -rstd * c[i]));
  BOOST_TEST(std::fabs(y[0]) < 0.00005f);
  BOOST_TEST((y[2] >= 0.00005f && y[2] < 0.00015f));  // prints as 0.0001
  // with w and b: the fused form throughout
  float w[2] = {0.5f, 2.f}, b[2] = {1.f, -1.f};
  K().layer_norm(c, w, b, y, 2, 2, 1e-6f);
  for (int i = 0; i < 4; ++i) BOOST_TEST(y[i] == std::fma(std::fma(c[i], rstd, -rstd * c[i]), w[i % 2], b[i % 2]));
  K().layer_norm(nullptr, nullptr, nullptr, nullptr, 0, 4, 1e-5f);
}

// ---------------------------------------------------------------- gemm, linear

BOOST_AUTO_TEST_CASE(gemm_against_double) {
  struct Size { int64_t m, n, k; };
  const Size sizes[] = {{1, 1, 1}, {1, 7, 5}, {6, 1, 5}, {1, 1, 9}, {4, 5, 3}, {17, 13, 33}, {2, 64, 70}, {3, 4, 0}};
  uint32_t seed = 1;
  for (Size sz : sizes)
    for (int trans = 0; trans < 4; ++trans)
      for (float beta : {0.f, 1.f, 0.5f})
        for (int pad : {0, 3}) {
          const bool ta = trans & 1, tb = trans & 2;
          const int64_t m = sz.m, n = sz.n, k = sz.k;
          // stored shapes: A is [m, k] or [k, m]; B is [k, n] or [n, k]
          const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
          const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
          std::vector<float> a = matrix(ar, ac, lda, ++seed), b = matrix(br, bc, ldb, ++seed);
          std::vector<float> c = matrix(m, n, ldc, ++seed);
          if (beta == 0.f)  // C is not read when beta is 0
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) c[size_t(i * ldc + j)] = kNan;
          std::vector<float> c0 = c;
          K().gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc, 1, 0, 0, 0);
          std::string bad;
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              double acc = 0, mag = 0;
              for (int64_t p = 0; p < k; ++p) {
                double av = ta ? a[size_t(p * lda + i)] : a[size_t(i * lda + p)];
                double bv = tb ? b[size_t(j * ldb + p)] : b[size_t(p * ldb + j)];
                acc += av * bv;
                mag += std::fabs(av * bv);
              }
              double old = c0[size_t(i * ldc + j)];
              double want = beta == 0.f ? acc : acc + beta * old;
              mag += std::fabs(beta == 0.f ? 0 : beta * old);
              float got = c[size_t(i * ldc + j)];
              if (bad.empty() && !close(got, want, 0, 2e-7 * double(k + 2) * mag + 1e-30))
                bad = "(" + std::to_string(i) + "," + std::to_string(j) + ") got " + fmt(got) + " want " + fmt(want);
            }
          for (int64_t i = 0; i < m; ++i)  // padding untouched
            for (int64_t j = n; j < ldc; ++j)
              if (bad.empty() && c[size_t(i * ldc + j)] != c0[size_t(i * ldc + j)]) bad = "padding written";
          BOOST_TEST_CONTEXT("m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb << " beta " << beta << " pad " << pad) { BOOST_TEST(bad == ""); }
        }
}

BOOST_AUTO_TEST_CASE(gemm_batched) {
  const int64_t batch = 3, m = 4, n = 5, k = 6;
  for (int share = 0; share < 3; ++share) {  // 0: none, 1: A shared, 2: B shared
    for (bool one_row : {false, true}) {
      const int64_t mm = one_row ? 1 : m;
      const int64_t sa = share == 1 ? 0 : mm * k, sb = share == 2 ? 0 : k * n, sc = mm * n;
      std::vector<float> a = randoms(size_t(share == 1 ? mm * k : batch * mm * k), -1, 1, 1);
      std::vector<float> b = randoms(size_t(share == 2 ? k * n : batch * k * n), -1, 1, 2);
      std::vector<float> c(static_cast<size_t>(batch * sc), kNan);
      K().gemm(false, false, mm, n, k, a.data(), k, b.data(), n, 0.f, c.data(), n, batch, sa, sb, sc);
      std::vector<double> want(c.size());
      for (int64_t p = 0; p < batch; ++p)
        for (int64_t i = 0; i < mm; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double acc = 0;
            for (int64_t q = 0; q < k; ++q) acc += double(a[size_t(p * sa + i * k + q)]) * b[size_t(p * sb + q * n + j)];
            want[size_t(p * sc + i * n + j)] = acc;
          }
      BOOST_TEST_CONTEXT("share " << share << " one_row " << one_row) { BOOST_TEST(mismatches(c.data(), want, 1e-6, 1e-6) == ""); }
    }
  }
  // empty: nothing touched
  K().gemm(false, false, 0, 3, 3, nullptr, 3, nullptr, 3, 0.f, nullptr, 3, 2, 0, 0, 0);
  K().gemm(false, false, 3, 3, 3, nullptr, 3, nullptr, 3, 0.f, nullptr, 3, 0, 0, 0, 0);
  // k == 0: C = beta·C
  float c[4] = {1, 2, 3, 4};
  K().gemm(false, false, 2, 2, 0, nullptr, 1, nullptr, 2, 1.f, c, 2, 1, 0, 0, 0);
  BOOST_TEST(c[3] == 4.f);
  K().gemm(false, false, 2, 2, 0, nullptr, 1, nullptr, 2, 0.5f, c, 2, 1, 0, 0, 0);
  BOOST_TEST(c[3] == 2.f);
  K().gemm(false, false, 2, 2, 0, nullptr, 1, nullptr, 2, 0.f, c, 2, 1, 0, 0, 0);
  BOOST_TEST(c[3] == 0.f);
}

BOOST_AUTO_TEST_CASE(linear_against_double) {
  struct Size { int64_t m, n, k; };
  const Size sizes[] = {{1, 1, 1}, {1, 5, 7}, {3, 5, 7}, {1, 64, 130}, {5, 1, 9}, {2, 3, 0}, {1, 256, 512}, {4, 2, 128}};
  const Activation acts[] = {Activation::None, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Gelu};
  uint32_t seed = 10;
  for (Size sz : sizes)
    for (Activation act : acts)
      for (bool bias : {false, true}) {
        std::vector<float> x = randoms(size_t(std::max<int64_t>(sz.m * sz.k, 1)), -1, 1, ++seed);
        std::vector<float> w = randoms(size_t(std::max<int64_t>(sz.n * sz.k, 1)), -0.5f, 0.5f, ++seed);
        std::vector<float> b = randoms(size_t(sz.n), -1, 1, ++seed);
        std::vector<float> y(static_cast<size_t>(sz.m * sz.n) + 1, kNan);
        y.back() = -99.f;
        K().linear(x.data(), w.data(), bias ? b.data() : nullptr, y.data(), sz.m, sz.n, sz.k, act);
        std::string bad;
        for (int64_t i = 0; i < sz.m; ++i)
          for (int64_t j = 0; j < sz.n; ++j) {
            double acc = bias ? b[size_t(j)] : 0, mag = std::fabs(acc);
            for (int64_t p = 0; p < sz.k; ++p) {
              double t = double(x[size_t(i * sz.k + p)]) * w[size_t(j * sz.k + p)];
              acc += t;
              mag += std::fabs(t);
            }
            double want = act_ref(act, acc);
            // the pre-activation error, through the activation (slope at most 1.13 for gelu)
            double tol = 2e-7 * double(sz.k + 2) * mag * 1.2 + 4e-7 * std::fabs(want) + 1e-30;
            float got = y[size_t(i * sz.n + j)];
            if (bad.empty() && !close(got, want, 0, tol))
              bad = "(" + std::to_string(i) + "," + std::to_string(j) + ") got " + fmt(got) + " want " + fmt(want);
          }
        BOOST_TEST_CONTEXT("m " << sz.m << " n " << sz.n << " k " << sz.k << " act " << int(act) << " bias " << bias) { BOOST_TEST(bad == ""); }
        BOOST_TEST(y.back() == -99.f);
      }
  K().linear(nullptr, nullptr, nullptr, nullptr, 0, 4, 4, Activation::Relu);
}

// ---------------------------------------------------------------- permute

BOOST_AUTO_TEST_CASE(permute_transposes_and_gathers) {
  auto check = [](const std::vector<float>& x, int64_t offset, std::vector<int64_t> shape, std::vector<int64_t> stride,
                  const char* what) {
    int64_t n = numel(shape);
    std::vector<float> want(static_cast<size_t>(n)), y(static_cast<size_t>(n) + 1, -99.f);
    Strided s = make_plan(shape, {stride});
    for_each_index(s, 1, [&](int64_t i, const int64_t* off) { want[size_t(i)] = x[size_t(offset + off[0])]; });
    K().permute(x.data() + offset, y.data(), int(shape.size()), shape.data(), stride.data());
    BOOST_TEST_CONTEXT(what) { BOOST_TEST(exact_mismatches(y.data(), want) == ""); }
    BOOST_TEST(y[size_t(n)] == -99.f, what);
  };
  // 2-D transposes: x stored [r, c], y = xᵀ of shape [c, r]
  for (auto [r, c] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5}, {33, 17}, {64, 64}, {1, 7}, {7, 1}, {100, 3}}) {
    std::vector<float> x = randoms(size_t(r * c), -1, 1, uint32_t(r * 100 + c));
    check(x, 0, {c, r}, {1, c}, "2-D transpose");
  }
  // every permutation of a [2, 3, 4] tensor
  std::vector<float> x(24);
  std::iota(x.begin(), x.end(), 0.f);
  const int64_t dims[3] = {2, 3, 4}, strides[3] = {12, 4, 1};
  int perm[3] = {0, 1, 2};
  do {
    check(x, 0, {dims[perm[0]], dims[perm[1]], dims[perm[2]]}, {strides[perm[0]], strides[perm[1]], strides[perm[2]]},
          "3-D permutation");
  } while (std::next_permutation(perm, perm + 3));
  // batched transpose [2, 3, 4] -> [2, 4, 3], and a 4-D one with size-1 dimensions
  check(x, 0, {2, 4, 3}, {12, 1, 4}, "batched transpose");
  check(x, 0, {1, 2, 1, 12}, {24, 12, 7, 1}, "size-1 dimensions");
  // slices: x[1:5:2, ::-1] of a [6, 8] tensor, and a column x[:, 3]
  std::vector<float> g(48);
  std::iota(g.begin(), g.end(), 0.f);
  check(g, 1 * 8 + 7, {2, 8}, {16, -1}, "slice with steps and a flip");
  check(g, 3, {6}, {8}, "column");
  check(g, 9, {3, 4}, {8, 1}, "contiguous rows of a slice");
  check(g, 5, {}, {}, "rank 0");
  // empty
  float y = -1;
  int64_t shape[2] = {0, 3}, st[2] = {3, 1};
  K().permute(nullptr, &y, 2, shape, st);
  BOOST_TEST(y == -1.f);
  // large transposed copy through the tiles, with outer dimensions
  std::vector<float> big = randoms(size_t(3 * 70 * 45), -1, 1, 99);
  check(big, 0, {3, 45, 70}, {70 * 45, 1, 45}, "tiled transpose with a batch");
}

BOOST_AUTO_TEST_SUITE_END()
