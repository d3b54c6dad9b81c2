// The CUDA device's elementwise semantics, checked without a GPU: the lowering, the per-thread
// interpreter of fused programs, the per-element functions and the broadcast-plan walker that
// gpu/cuda_kernels.cu runs (gpu/cuda_program.cuh, compiled here for the host) against the CPU
// device's kernels, on 20,000 random fused programs (broadcast and transposed inputs, numbers,
// immediates, pow's special exponents) and 5,000 single ops over special values (nan, inf,
// signed zeros, halves, integers). Same libm on both sides: the results must be bit-identical.
// (On the GPU, CUDA's libm may differ by a few ulp; the GPU tests compare within tolerance.)
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "../../gpu/cuda_program.cuh"
#include "../../vm/device.h"

using namespace tvm;
using namespace tvm::cuda;

namespace {

std::mt19937_64 rng(12345);
const float kSpecial[] = {0.f, -0.f, 1.f, -1.f, 0.5f, -0.5f, 2.5f, -2.5f, 3.f, -3.f, 7.f, -7.f, 2.f,
                                 INFINITY, -INFINITY, NAN, 1e30f, -1e30f, 1e-30f, 1e-40f, 100.f, -104.5f, 0.1f, 8388607.5f};
float rand_value() {
  std::uniform_int_distribution<int> pick(0, 9);
  int k = pick(rng);
  if (k < 3) return kSpecial[rng() % (sizeof kSpecial / sizeof *kSpecial)];
  if (k < 5) return float(int(rng() % 21) - 10);  // integers (floor div / mod corner cases)
  std::normal_distribution<float> nd(0.f, 3.f);
  return nd(rng);
}
bool same(float a, float b) {
  if (a != a && b != b) return true;
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

struct Tensor {
  std::vector<float> data;
  std::vector<int64_t> shape;  // its own shape (right-aligned to the output's)
  std::vector<int64_t> strides;  // element strides in data for its own dims
};

// A random tensor broadcastable to out, maybe stored transposed.
Tensor make_tensor(const std::vector<int64_t>& out) {
  Tensor t;
  int drop = out.empty() ? 0 : int(rng() % (out.size() + 1)) / 2;
  for (size_t d = drop; d < out.size(); ++d) t.shape.push_back(rng() % 3 == 0 ? 1 : out[d]);
  int nd = int(t.shape.size());
  std::vector<int> perm(nd);
  for (int i = 0; i < nd; ++i) perm[i] = i;
  if (rng() % 3 == 0) std::shuffle(perm.begin(), perm.end(), rng);
  // storage order: perm[0] outermost
  t.strides.assign(nd, 0);
  int64_t acc = 1;
  for (int i = nd - 1; i >= 0; --i) {
    t.strides[perm[i]] = acc;
    acc *= t.shape[perm[i]];
  }
  t.data.resize(size_t(acc));
  for (auto& v : t.data) v = rand_value();
  return t;
}

template <int K>
void fill_plan_operand(BroadcastPlan<K>& p, int k, const std::vector<int64_t>& out, const Tensor& t) {
  int off = int(out.size() - t.shape.size());
  for (size_t d = 0; d < out.size(); ++d) {
    int td = int(d) - off;
    p.stride[k][d] = (td < 0 || t.shape[td] == 1) ? 0 : t.strides[td];
  }
}

std::vector<int64_t> rand_shape() {
  int nd = int(rng() % 5);
  std::vector<int64_t> s;
  for (int i = 0; i < nd; ++i) s.push_back(1 + rng() % 5);
  return s;
}

// The kernel's element loop (contiguous or general path) on the host.
template <int R>
void emulate_ew(const LProgram& prog, const float* const* in_t, const Plan<kMaxArity>& plan, bool contiguous, float* y,
                int64_t n) {
  const int nt = prog.ntensors;
  for (int64_t e0 = 0; e0 < n; e0 += kLanes) {
    Lanes v[kMaxArity];
    if (contiguous) {
      for (int t = 0; t < nt; ++t)
        for (int l = 0; l < kLanes; ++l) v[t].v[l] = e0 + l < n ? in_t[t][e0 + l] : 0.f;
    } else {
      Cursor<kMaxArity> c;
      cursor_seek(c, plan, nt, e0, n <= int64_t(UINT32_MAX));
      for (int l = 0; l < kLanes; ++l) {
        const bool in = e0 + l < n;
        for (int t = 0; t < nt; ++t) v[t].v[l] = in ? in_t[t][c.off[t]] : 0.f;
        if (l + 1 < kLanes && e0 + l + 1 < n) cursor_next(c, plan, nt);
      }
    }
    RegFile<R> regs;
    for (int k = 0; k < R; ++k) regs.r[k] = Lanes{};
    for (int t = 0; t < nt; ++t) regs.set(prog.in_reg[t], v[t]);
    Lanes r = run_program(prog, regs);
    for (int l = 0; l < kLanes; ++l)
      if (e0 + l < n) y[e0 + l] = r.v[l];
  }
}

template <int K>
bool plain(const Plan<K>& p, int k) {
  int64_t c = 1;
  for (int d = p.ndim - 1; d >= 0; --d) {
    if (p.shape[d] != 1 && p.stride[k][d] != c) return false;
    c *= p.shape[d];
  }
  return true;
}

int failures = 0;
void report(const char* what, int64_t i, float cpu, float gpu) {
  if (failures++ < 30) std::printf("MISMATCH %s at %lld: cpu %a (%g) gpu %a (%g)\n", what, (long long)i, cpu, cpu, gpu, gpu);
}

void test_elementwise(int iter) {
  const Kernels& K = *cpu_device().kernels;
  std::vector<int64_t> out = rand_shape();
  int64_t n = 1;
  for (auto d : out) n *= d;
  int arity = 1 + int(rng() % 5);
  std::vector<Tensor> ts(arity);
  const float* inputs[kMaxArity] = {};
  float scalars[kMaxArity] = {};
  EwPlan plan;
  plan.ndim = int(out.size());
  for (size_t d = 0; d < out.size(); ++d) plan.shape[d] = out[d];
  bool any_tensor = false;
  for (int j = 0; j < arity; ++j) {
    if (rng() % 4 == 0 && !(j == arity - 1 && !any_tensor)) {
      scalars[j] = rand_value();
    } else {
      ts[j] = make_tensor(out);
      inputs[j] = ts[j].data.data();
      fill_plan_operand(plan, j, out, ts[j]);
      any_tensor = true;
    }
  }
  int nsteps = 1 + int(rng() % 8);
  std::vector<EwStep> steps(nsteps);
  static const float kImm[] = {0.f, 1.f, 0.5f, -0.5f, -1.f, 2.f, 3.f, -2.f, 2.5f, -3.f, NAN, INFINITY, 1e-3f};
  for (int i = 0; i < nsteps; ++i) {
    EwStep& st = steps[i];
    int kind = int(rng() % 10);
    st.kind = kind < 3 ? EwStep::Unary : kind < 8 ? EwStep::Binary : kind < 9 ? EwStep::Clamp : EwStep::Where;
    st.op = st.kind == EwStep::Unary ? uint8_t(rng() % 14) : st.kind == EwStep::Binary ? uint8_t(rng() % 15) : 0;
    auto slot = [&]() -> uint8_t {
      if (rng() % 5 == 0) return EwStep::kImmediate;
      return uint8_t(rng() % (arity + i));
    };
    st.a = slot();
    st.b = slot();
    st.c = slot();
    st.imm = rng() % 2 ? kImm[rng() % (sizeof kImm / sizeof *kImm)] : rand_value();
  }
  std::vector<float> ycpu(size_t(std::max<int64_t>(n, 1)), -999.f), ygpu(ycpu.size(), -999.f);
  K.elementwise(steps.data(), nsteps, arity, inputs, scalars, ycpu.data(), plan);

  LProgram prog;
  std::memset(&prog, 0, sizeof prog);
  if (!lower_program(steps.data(), nsteps, arity, inputs, scalars, prog)) {
    std::printf("lower failed unexpectedly\n");
    ++failures;
    return;
  }
  // The launcher's plan (rank 0 -> rank 1) and per-tensor strides.
  Plan<kMaxArity> dp{};
  if (plan.ndim <= 0) {
    dp.ndim = 1;
    dp.shape[0] = 1;
  } else {
    dp.ndim = plan.ndim;
    for (int d = 0; d < plan.ndim; ++d) dp.shape[d] = plan.shape[d];
  }
  Plan<kMaxArity> full = dp;
  for (int j = 0; j < arity; ++j)
    for (int d = 0; d < plan.ndim; ++d) full.stride[j][d] = plan.stride[j][d];
  const float* in_t[kMaxArity] = {};
  bool contiguous = true;
  for (int t = 0; t < prog.ntensors; ++t) {
    int j = prog.in_arg[t];
    in_t[t] = inputs[j];
    std::memcpy(dp.stride[t], full.stride[j], sizeof full.stride[j]);
    contiguous = contiguous && plain(full, j);
  }
  int64_t total = std::max<int64_t>(n, 1);
  if (n == 0 && !out.empty()) return;
  for (int variant = 0; variant < 4; ++variant) {
    std::fill(ygpu.begin(), ygpu.end(), -999.f);
    bool contig = variant < 2 ? contiguous : false;  // the general path must also work when contiguous
    if (variant == 1 || variant == 3) {
      if (prog.nregs > 8) continue;
      emulate_ew<8>(prog, in_t, dp, contig, ygpu.data(), total);
    } else if (prog.nregs <= 4 && variant == 0) {
      emulate_ew<4>(prog, in_t, dp, contig, ygpu.data(), total);
    } else {
      emulate_ew<kMaxRegs>(prog, in_t, dp, contig, ygpu.data(), total);
    }
    for (int64_t i = 0; i < total; ++i)
      if (!same(ycpu[i], ygpu[i])) {
        char what[64];
        std::snprintf(what, sizeof what, "elementwise iter %d variant %d", iter, variant);
        report(what, i, ycpu[i], ygpu[i]);
        break;
      }
  }
}

// Separate kernels: binary (plan), where (plan), unary, binary_scalar, clamp.
template <class F, int KK>
void emulate_map(F f, const float* const (&in)[KK], const Plan<KK>& p, float* y, int64_t n) {
  for (int64_t e0 = 0; e0 < n; e0 += kLanes) {
    Cursor<KK> c;
    cursor_seek(c, p, KK, e0, true);
    for (int l = 0; l < kLanes && e0 + l < n; ++l) {
      float v[KK];
      for (int k = 0; k < KK; ++k) v[k] = in[k][c.off[k]];
      if constexpr (KK == 2) y[e0 + l] = f(v[0], v[1]);
      else y[e0 + l] = f(v[0], v[1], v[2]);
      if (l + 1 < kLanes && e0 + l + 1 < n) cursor_next(c, p, KK);
    }
  }
}

void test_separate(int iter) {
  const Kernels& K = *cpu_device().kernels;
  std::vector<int64_t> out = rand_shape();
  int64_t n = 1;
  for (auto d : out) n *= d;
  Tensor t0 = make_tensor(out), t1 = make_tensor(out), t2 = make_tensor(out);
  Strided s;
  s.ndim = int(out.size());
  for (size_t d = 0; d < out.size(); ++d) s.shape[d] = out[d];
  fill_plan_operand(s, 0, out, t0);
  fill_plan_operand(s, 1, out, t1);
  fill_plan_operand(s, 2, out, t2);
  Plan<2> p2{};
  Plan<3> p3{};
  p2.ndim = p3.ndim = s.ndim > 0 ? s.ndim : 1;
  p2.shape[0] = p3.shape[0] = 1;
  for (int d = 0; d < s.ndim; ++d) {
    p2.shape[d] = p3.shape[d] = s.shape[d];
    for (int k = 0; k < 3; ++k) {
      if (k < 2) p2.stride[k][d] = s.stride[k][d];
      p3.stride[k][d] = s.stride[k][d];
    }
  }
  std::vector<float> ycpu(static_cast<size_t>(n)), ygpu(static_cast<size_t>(n));
  BinaryKind op = BinaryKind(rng() % 15);
  K.binary(op, t0.data.data(), t1.data.data(), ycpu.data(), s);
  const float* in2[2] = {t0.data.data(), t1.data.data()};
  with_binary(op, [&](auto f) { emulate_map(f, in2, p2, ygpu.data(), n); });
  for (int64_t i = 0; i < n; ++i)
    if (!same(ycpu[i], ygpu[i])) { report("binary", i, ycpu[i], ygpu[i]); break; }

  K.where(t0.data.data(), t1.data.data(), t2.data.data(), ycpu.data(), s);
  const float* in3[3] = {t0.data.data(), t1.data.data(), t2.data.data()};
  emulate_map(WhereFn{}, in3, p3, ygpu.data(), n);
  for (int64_t i = 0; i < n; ++i)
    if (!same(ycpu[i], ygpu[i])) { report("where", i, ycpu[i], ygpu[i]); break; }

  // contiguous ops over t0's storage
  const int64_t m = int64_t(t0.data.size());
  std::vector<float> a = t0.data, yc(m), yg(m);
  UnaryKind uop = UnaryKind(rng() % 14);
  K.unary(uop, a.data(), yc.data(), m);
  with_unary(uop, [&](auto f) { for (int64_t i = 0; i < m; ++i) yg[i] = f(a[i]); });
  for (int64_t i = 0; i < m; ++i)
    if (!same(yc[i], yg[i])) { report("unary", i, yc[i], yg[i]); break; }

  static const float kS[] = {0.f, 1.f, 0.5f, -0.5f, -1.f, 2.f, 3.f, -2.f, 2.5f, -3.f, NAN, INFINITY, -0.f};
  float sc = rng() % 2 ? kS[rng() % (sizeof kS / sizeof *kS)] : rand_value();
  bool first = rng() % 2;
  K.binary_scalar(op, a.data(), sc, yc.data(), m, first);
  {
    PowSpecial sp;
    auto go = [&](auto f) { for (int64_t i = 0; i < m; ++i) yg[i] = f(a[i]); };
    if (op == BinaryKind::Pow && !first && pow_special(sc, &sp)) with_pow_special(sp, go);
    else if (first) with_scalar<true>(op, sc, go);
    else with_scalar<false>(op, sc, go);
  }
  for (int64_t i = 0; i < m; ++i)
    if (!same(yc[i], yg[i])) { report("binary_scalar", i, yc[i], yg[i]); break; }

  float lo = rand_value(), hi = rand_value();
  K.clamp(a.data(), yc.data(), m, lo, hi);
  ClampFn cf{lo, hi};
  for (int64_t i = 0; i < m; ++i) yg[i] = cf(a[i]);
  for (int64_t i = 0; i < m; ++i)
    if (!same(yc[i], yg[i])) { report("clamp", i, yc[i], yg[i]); break; }
}

// Exhaustive-ish scalar check of the per-element functions over special pairs.
void test_functions() {
  const Kernels& K = *cpu_device().kernels;
  std::vector<float> vals(std::begin(kSpecial), std::end(kSpecial));
  for (int i = 0; i < 2000; ++i) vals.push_back(rand_value());
  const int64_t n = int64_t(vals.size());
  std::vector<float> y(n);
  for (int u = 0; u < 14; ++u) {
    K.unary(UnaryKind(u), vals.data(), y.data(), n);
    with_unary(UnaryKind(u), [&](auto f) {
      for (int64_t i = 0; i < n; ++i)
        if (!same(y[i], f(vals[i]))) { report("unary fn", u * 100000 + i, y[i], f(vals[i])); break; }
    });
  }
  // binary over all pairs (a broadcast as rows x cols)
  Strided s;
  s.ndim = 2;
  s.shape[0] = n;
  s.shape[1] = n;
  s.stride[0][0] = 1, s.stride[0][1] = 0;
  s.stride[1][0] = 0, s.stride[1][1] = 1;
  std::vector<float> yy(size_t(n * n));
  for (int b = 0; b < 15; ++b) {
    K.binary(BinaryKind(b), vals.data(), vals.data(), yy.data(), s);
    with_binary(BinaryKind(b), [&](auto f) {
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
          if (!same(yy[i * n + j], f(vals[i], vals[j]))) {
            std::printf("op %d a=%a b=%a\n", b, vals[i], vals[j]);
            report("binary fn", b, yy[i * n + j], f(vals[i], vals[j]));
            return;
          }
    });
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cuda_program)

BOOST_AUTO_TEST_CASE(fused_programs_and_single_ops_match_the_cpu_device) {
  failures = 0;
  test_functions();
  for (int i = 0; i < 20000; ++i) test_elementwise(i);
  for (int i = 0; i < 5000; ++i) test_separate(i);
  BOOST_TEST(failures == 0, failures << " results differ from the CPU device (the first are printed above)");
}

BOOST_AUTO_TEST_SUITE_END()
