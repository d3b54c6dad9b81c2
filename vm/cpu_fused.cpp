// The CPU device's fused elementwise kernel (vm/device.h, `elementwise`): a program of
// elementwise steps (vm/fused.h) run in one pass over memory.
//
// The output is computed in blocks of kChunk elements. For each block, every step is one tight
// loop over the block (the same per-element function and loop shape as its separate kernel,
// vm/cpu_math.h), reading its operands from the inputs or from earlier steps' block buffers and
// writing its own buffer; the last step writes the output. The buffers stay in L1, so each input
// is read from memory once and the output written once, where the chain of separate kernels
// writes and re-reads a full intermediate tensor per step. Each step rounds exactly as its
// separate kernel does, so the result is bit-identical to the unfused chain.
//
// Inputs read in the output's own layout are used in place. A broadcast input is read in place
// too within a row of the plan (or is one value, when the row repeats it); long rows are cut into
// blocks that never cross a row's end, and a block across short rows gathers the input into a
// buffer first. Buffers go to steps by liveness: a step's buffer is free again after its last
// reader, so a chain of any length uses a few of them.
#include <algorithm>
#include <cstring>

#include "cpu_math.h"
#include "fused.h"

namespace tvm::cpu {
namespace {

constexpr int64_t kChunk = 512;  // elements per block
constexpr int kMaxArity = KernelDesc::kMaxArity;
constexpr int kMaxSteps = KernelDesc::kMaxSteps;
static_assert(kMaxArity <= EwPlan::kMaxOperands);
constexpr int kScratch = 3;  // numbers spread over a block, for a step's operands
constexpr int kBuffers = kScratch + kMaxArity + kMaxSteps;

// y[i] = f(a[i], b[i], c[i]), y distinct from the operands.
template <class F>
void map3(F f, const float* __restrict a, const float* __restrict b, const float* __restrict c, float* __restrict y,
          int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) y[i + j] = f(a[i + j], b[i + j], c[i + j]);
  for (; i < n; ++i) y[i] = f(a[i], b[i], c[i]);
}

// d[0..n) = v, vectorised.
void fill(float* __restrict d, int64_t n, float v) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock)
    for (int64_t j = 0; j < kBlock; ++j) d[i + j] = v;
  for (; i < n; ++i) d[i] = v;
}

// An operand within one block: `len` values at p, or one value s for the whole block (p null):
// a number (an argument or an immediate), or a tensor's element repeated along the block.
struct Operand {
  const float* p = nullptr;
  float s = 0.f;
  bool number = false;
};

// The operand as `len` values: one value is spread over `scratch`.
const float* as_block(Operand o, float* scratch, int64_t len) {
  if (o.p) return o.p;
  fill(scratch, len, o.s);
  return scratch;
}

// One step over a block of len (>= 1) elements into out (distinct from every operand).
void run_step(const EwStep& st, Operand a, Operand b, Operand c, float (*scratch)[kChunk], float* out, int64_t len) {
  switch (st.kind) {
    case EwStep::Unary: {
      const float* x = as_block(a, scratch[0], len);
      with_unary(UnaryKind(st.op), [&](auto f) { map1(f, x, out, len); });
      return;
    }
    case EwStep::Binary: {
      const BinaryKind op = BinaryKind(st.op);
      if (!a.p && !b.p) a.p = as_block(a, scratch[0], len);
      if (a.p && b.p) return with_binary(op, [&](auto f) { row2<1, 1>(f, a.p, b.p, out, len); });
      if (a.p) {  // tensor op number is binary_scalar's, pow's special exponents included
        if (op == BinaryKind::Pow && b.number && with_pow_scalar(b.s, [&](auto f) { map1(f, a.p, out, len); }))
          return;
        return with_binary(op, [&](auto f) { row2<1, 0>(f, a.p, &b.s, out, len); });
      }
      return with_binary(op, [&](auto f) { row2<0, 1>(f, &a.s, b.p, out, len); });
    }
    case EwStep::Clamp: {
      const float* x = as_block(a, scratch[0], len);
      if (!b.p && !c.p) {
        const float lo = b.s, hi = c.s;
        return map1([lo, hi](float v) { return clamp_f(v, lo, hi); }, x, out, len);
      }
      return map3([](float v, float lo, float hi) { return clamp_f(v, lo, hi); }, x, as_block(b, scratch[1], len),
                  as_block(c, scratch[2], len), out, len);
    }
    case EwStep::Where:
      return map3([](float cv, float av, float bv) { return where_f(cv, av, bv); }, as_block(a, scratch[0], len),
                  as_block(b, scratch[1], len), as_block(c, scratch[2], len), out, len);
  }
}

// The output index of the next block and each strided input's element offset there.
struct Cursor {
  int64_t idx[8] = {};
  int64_t off[kMaxArity] = {};
};

// Moves the cursor on by len elements of the output. Each strided input g (input which[g])
// whose dst[g] is not null has those elements copied there on the way.
void advance(const EwPlan& s, Cursor& cur, int ng, const int* which, const float* const* inputs, float* const* dst,
             int64_t len) {
  const int last = s.ndim - 1;
  for (int64_t done = 0; done < len;) {
    const int64_t seg = std::min(s.shape[last] - cur.idx[last], len - done);
    for (int g = 0; g < ng; ++g) {
      if (!dst[g]) continue;
      const int j = which[g];
      const float* src = inputs[j] + cur.off[j];
      const int64_t st = s.stride[j][last];
      float* d = dst[g] + done;
      if (st == 0) fill(d, seg, *src);
      else if (st == 1) std::memcpy(d, src, size_t(seg) * sizeof(float));
      else
        for (int64_t k = 0; k < seg; ++k) d[k] = src[k * st];
    }
    done += seg;
    cur.idx[last] += seg;
    for (int g = 0; g < ng; ++g) cur.off[which[g]] += seg * s.stride[which[g]][last];
    if (cur.idx[last] < s.shape[last]) continue;
    // The end of a row: back to its start, then the odometer over the outer dimensions.
    cur.idx[last] = 0;
    for (int g = 0; g < ng; ++g) cur.off[which[g]] -= s.shape[last] * s.stride[which[g]][last];
    for (int d = last - 1; d >= 0; --d) {
      if (++cur.idx[d] < s.shape[d]) {
        for (int g = 0; g < ng; ++g) cur.off[which[g]] += s.stride[which[g]][d];
        break;
      }
      cur.idx[d] = 0;
      for (int g = 0; g < ng; ++g) cur.off[which[g]] -= s.stride[which[g]][d] * (s.shape[d] - 1);
    }
  }
}

}  // namespace

void elementwise_k(const EwStep* steps, int nsteps, int arity, const float* const* inputs, const float* scalars,
                   float* y, const EwPlan& plan) {
  if (nsteps <= 0 || nsteps > kMaxSteps || arity < 0 || arity > kMaxArity) return;
  EwPlan one;  // rank 0: one element, every input at offset 0
  one.ndim = 1;
  one.shape[0] = 1;
  const EwPlan& s = plan.ndim > 0 ? plan : one;
  int64_t total = 1;
  for (int d = 0; d < s.ndim; ++d) {
    if (s.shape[d] <= 0) return;
    total *= s.shape[d];
  }

  // Well formed (check_kernel), or nothing is written: every operand defined before it is read.
  for (int i = 0; i < nsteps; ++i) {
    uint8_t slots[3];
    const int n = step_operands(steps[i], slots);
    if (n == 0) return;
    for (int k = 0; k < n; ++k)
      if (slots[k] != EwStep::kImmediate && slots[k] >= arity + i) return;
  }
  // The values the result needs (a dead step is not computed), and each step's last reader.
  bool needed[kMaxArity + kMaxSteps] = {};
  int last_read[kMaxSteps] = {};
  needed[arity + nsteps - 1] = true;
  for (int i = nsteps - 1; i >= 0; --i) {
    if (!needed[arity + i]) continue;
    uint8_t slots[3];
    for (int k = 0, n = step_operands(steps[i], slots); k < n; ++k) {
      if (slots[k] == EwStep::kImmediate) continue;
      needed[slots[k]] = true;
      if (slots[k] >= arity) last_read[slots[k] - arity] = std::max(last_read[slots[k] - arity], i);
    }
  }

  alignas(64) float buf[kBuffers][kChunk];  // 86 KB of stack, of which a chain touches a few buffers
  int nfree = 0, free_list[kBuffers];
  for (int k = kBuffers - 1; k >= kScratch; --k) free_list[nfree++] = k;

  // Inputs read in the output's own layout are used in place at the block's offset; the others
  // (broadcast, or strided) follow the cursor.
  int64_t contiguous[8];
  for (int64_t d = s.ndim - 1, acc = 1; d >= 0; --d) {
    contiguous[d] = acc;
    acc *= s.shape[d];
  }
  int ng = 0, which[kMaxArity];
  float* gathered[kMaxArity];
  bool plain[kMaxArity] = {}, y_is_input = false;
  for (int j = 0; j < arity; ++j) {
    if (!needed[j] || !inputs[j]) continue;
    y_is_input |= inputs[j] == y;
    plain[j] = true;
    for (int d = 0; d < s.ndim; ++d) plain[j] &= s.shape[d] == 1 || s.stride[j][d] == contiguous[d];
    if (!plain[j]) {
      which[ng] = j;
      gathered[ng++] = buf[free_list[--nfree]];
    }
  }

  // Step buffers by liveness; the last step writes y itself unless y is also an input.
  int out_buf[kMaxSteps];
  for (int i = 0; i < nsteps; ++i) {
    out_buf[i] = -1;
    if (!needed[arity + i]) continue;
    if (i < nsteps - 1 || y_is_input) out_buf[i] = free_list[--nfree];
    uint8_t slots[3];
    for (int k = 0, n = step_operands(steps[i], slots); k < n; ++k) {
      const uint8_t sl = slots[k];
      if (sl == EwStep::kImmediate || sl < arity || last_read[sl - arity] != i) continue;
      if (std::find(slots, slots + k, sl) == slots + k) free_list[nfree++] = out_buf[sl - arity];
    }
  }

  const int last = s.ndim - 1;
  const int64_t row = s.shape[last];
  Operand in[kMaxArity];
  for (int j = 0; j < arity; ++j)
    if (!inputs[j]) in[j] = {nullptr, scalars[j], true};
  Cursor cur;
  for (int64_t base = 0, len; base < total; base += len) {
    len = std::min(kChunk, total - base);
    const int64_t left = row - cur.idx[last];  // in the cursor's row
    if (row >= kChunk) len = std::min(len, left);  // long rows: no block crosses a row's end
    for (int j = 0; j < arity; ++j)
      if (plain[j]) in[j].p = inputs[j] + base;
    // Within one row, a strided input with stride 1 along it is read in place and one with
    // stride 0 is one value; any other stride, or a block across rows, is gathered.
    float* dst[kMaxArity];
    for (int g = 0; g < ng; ++g) {
      const int j = which[g];
      const int64_t st = s.stride[j][last];
      dst[g] = nullptr;
      if (len <= left && st == 1) in[j] = {inputs[j] + cur.off[j]};
      else if (len <= left && st == 0) in[j] = {nullptr, inputs[j][cur.off[j]]};
      else in[j] = {dst[g] = gathered[g]};
    }
    if (ng) advance(s, cur, ng, which, inputs, dst, len);
    for (int i = 0; i < nsteps; ++i) {
      if (!needed[arity + i]) continue;
      const EwStep& st = steps[i];
      auto operand = [&](uint8_t sl) -> Operand {
        if (sl == EwStep::kImmediate) return {nullptr, st.imm, true};
        if (sl >= arity) return {buf[out_buf[sl - arity]]};
        return in[sl];
      };
      float* out = out_buf[i] >= 0 ? buf[out_buf[i]] : y + base;
      uint8_t slots[3];
      const int n = step_operands(st, slots);
      run_step(st, operand(st.a), n > 1 ? operand(st.b) : Operand{}, n > 2 ? operand(st.c) : Operand{}, buf, out,
               len);
    }
    if (out_buf[nsteps - 1] >= 0) std::memcpy(y + base, buf[out_buf[nsteps - 1]], size_t(len) * sizeof(float));
  }
}

}  // namespace tvm::cpu
