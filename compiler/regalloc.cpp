// Liveness over the CFG and register assignment by linear scan (Poletto & Sarkar): each vreg
// gets one interval, from its first to its last appearance in the block layout (stretched over
// whole blocks where it is live in or out), and the lowest register free over that interval.
// There is no spilling: a frame has 65536 registers.
//
// Hints spare the emitter its MOVEs: a value that becomes an operand of a call (or of any
// instruction that takes its operands in consecutive registers) prefers the register its place
// in the block will be, counted from the block's first operand (the callee), and a call's
// result prefers the block's first register, where the VM leaves it; the two ends of a Move
// prefer each other's register. A hint is taken when that register is free over the whole
// interval; otherwise the lowest free register is, as before.
//
// Two facts the VM relies on fall out of the intervals: parameters sit in R[0..nparams) on
// entry (they are assigned first, to themselves), and a register that no interval has used
// yet still holds the unassigned value the VM clears frames with, which CHECKDEF and an empty
// MAKECELL read: a variable that may be read unassigned is live from the entry, so its
// register is not shared with anything before it.
#include <algorithm>

#include "ir.h"

namespace tvm::ir {

Liveness compute_liveness(const Function& f) {
  Liveness l;
  size_t nb = f.blocks.size();
  l.words = (f.nvregs + 63) / 64;
  size_t w = size_t(l.words);
  std::vector<std::vector<uint64_t>> gen(nb, std::vector<uint64_t>(w)), kill(nb, std::vector<uint64_t>(w));
  l.live_in.assign(nb, std::vector<uint64_t>(w));
  l.live_out.assign(nb, std::vector<uint64_t>(w));
  auto set = [](std::vector<uint64_t>& s, int v) { s[size_t(v) >> 6] |= uint64_t(1) << (v & 63); };
  auto test = [](const std::vector<uint64_t>& s, int v) { return (s[size_t(v) >> 6] >> (v & 63)) & 1; };
  for (size_t b = 0; b < nb; ++b)
    for (const Instr& in : f.blocks[b].instrs) {
      for_each_use(in, [&](int u) {
        if (!test(kill[b], u)) set(gen[b], u);
      });
      for_each_def(in, [&](int d) { set(kill[b], d); });
    }
  std::vector<std::vector<int>> succ(nb);
  for (size_t b = 0; b < nb; ++b) successors(f.blocks[b], succ[b]);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t b = nb; b-- > 0;) {
      auto& out = l.live_out[b];
      for (int s : succ[b])
        for (size_t i = 0; i < w; ++i) out[i] |= l.live_in[size_t(s)][i];
      for (size_t i = 0; i < w; ++i) {
        uint64_t in = gen[b][i] | (out[i] & ~kill[b][i]);
        if (in != l.live_in[b][i]) {
          l.live_in[b][i] = in;
          changed = true;
        }
      }
    }
  }
  return l;
}

namespace {

// The hints one instruction gives (see the top of the file). A block's head also prefers to
// sit so that operands already placed need not move: reg(operand k) - k.
void add_hints(const Instr& in, int pos, std::vector<std::vector<std::pair<int, int>>>& hints,
               std::vector<std::pair<int, int>>& heads) {
  switch (in.op) {
    case Op::Call:
    case Op::CallMethod:
    case Op::CallEx:
    case Op::KCall:
    case Op::Closure:
    case Op::NewList:
    case Op::NewTuple:
    case Op::NewDict:
    case Op::NewSlice:
    case Op::Concat:
    case Op::Format: {
      if (in.args.empty() || !in.args[0].is_reg()) break;
      int head = in.args[0].v;
      heads.push_back({head, pos});
      for (size_t k = 1; k < in.args.size(); ++k)
        if (in.args[k].is_reg() && in.args[k].v != head) {
          hints[size_t(in.args[k].v)].push_back({head, int(k)});
          hints[size_t(head)].push_back({in.args[k].v, -int(k)});
        }
      bool result_at_head = in.op == Op::Call || in.op == Op::CallMethod || in.op == Op::CallEx;
      if (result_at_head && in.dst >= 0 && in.dst != head) hints[size_t(in.dst)].push_back({head, 0});
      break;
    }
    case Op::Move:
      if (in.dst >= 0 && in.args[0].is_reg() && in.args[0].v != in.dst) {
        hints[size_t(in.dst)].push_back({in.args[0].v, 0});
        hints[size_t(in.args[0].v)].push_back({in.dst, 0});
      }
      break;
    default: break;
  }
}

}  // namespace

Allocation allocate_registers(const Function& f, const Liveness& live) {
  int n = f.nvregs;
  std::vector<int> start(size_t(n), -1), end(size_t(n), -1);
  auto touch = [&](int v, int pos) {
    if (start[size_t(v)] < 0 || pos < start[size_t(v)]) start[size_t(v)] = pos;
    if (pos > end[size_t(v)]) end[size_t(v)] = pos;
  };
  // Positions: instruction i reads at 2i and writes at 2i + 1, so a result may take the
  // register of an operand that dies there.
  // hints[v]: (other vreg, offset): v would like reg(other) + offset. block_at[v]: the
  // position of the call (or other gathering instruction) whose block v heads and where v dies.
  std::vector<std::vector<std::pair<int, int>>> hints(static_cast<size_t>(n));
  std::vector<int> block_at(static_cast<size_t>(n), -1);
  std::vector<std::pair<int, int>> heads;  // (vreg, position) candidates for block_at
  int i = 0;
  int prologue_end = 0;
  bool in_prologue = true;
  for (size_t b = 0; b < f.blocks.size(); ++b) {
    const Block& blk = f.blocks[b];
    int first = 2 * i, last = 2 * (i + int(blk.instrs.size())) - 1;
    for (int v = 0; v < n; ++v) {
      if (live.in(int(b), v)) touch(v, first);
      if (live.out(int(b), v)) touch(v, std::max(first, last));
    }
    for (const Instr& in : blk.instrs) {
      if (in_prologue && b == 0 && (in.op == Op::CheckArgs || in.op == Op::MakeCell)) prologue_end = 2 * i + 1;
      else in_prologue = false;
      // FORITER keeps reading its iterator after writing the item: they may not share.
      int read_at = in.op == Op::ForIter ? 2 * i + 1 : 2 * i;
      for_each_use(in, [&](int u) { touch(u, read_at); });
      for_each_def(in, [&](int d) { touch(d, 2 * i + 1); });
      add_hints(in, 2 * i, hints, heads);
      ++i;
    }
  }
  for (auto [v, pos] : heads)
    if (end[size_t(v)] == pos) block_at[size_t(v)] = pos;
  Allocation a;
  a.reg.assign(size_t(n), -1);
  std::vector<int> free_at;  // per register: the end of the interval holding it
  // Parameters first, in their own registers, held at least through the prologue (CHECKARGS
  // reads them; an empty MAKECELL must not take a parameter's register).
  for (int p = 0; p < f.nparams; ++p) {
    start[size_t(p)] = 0;
    end[size_t(p)] = std::max(end[size_t(p)], prologue_end);
    a.reg[size_t(p)] = p;
    free_at.push_back(end[size_t(p)]);
  }
  std::vector<int> order;
  for (int v = f.nparams; v < n; ++v)
    if (start[size_t(v)] >= 0) order.push_back(v);
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    return start[size_t(x)] != start[size_t(y)] ? start[size_t(x)] < start[size_t(y)] : x < y;
  });
  for (int v : order) {
    int s = start[size_t(v)];
    auto is_free = [&](long r) { return r >= 0 && (size_t(r) >= free_at.size() || free_at[size_t(r)] < s); };
    // The lowest register a block headed by v may start at: above every register whose value
    // lives across the instruction (those not yet assigned start later and may still move).
    long floor = 0;
    if (int pos = block_at[size_t(v)]; pos >= 0)
      for (size_t r = free_at.size(); r-- > 0;)
        if (free_at[r] > pos) {
          floor = long(r) + 1;
          break;
        }
    long r = -1;
    for (auto [other, offset] : hints[size_t(v)]) {
      int at = a.reg[size_t(other)];
      if (at >= 0 && at + offset >= floor && is_free(at + offset)) {
        r = at + offset;
        break;
      }
    }
    if (r < 0) {
      r = floor;
      while (!is_free(r)) ++r;
    }
    if (size_t(r) >= free_at.size()) free_at.resize(size_t(r) + 1, -1);
    free_at[size_t(r)] = end[size_t(v)];
    a.reg[size_t(v)] = int(r);
  }
  a.nregs = int(free_at.size());
  return a;
}

}  // namespace tvm::ir
