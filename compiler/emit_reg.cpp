// IR -> register bytecode (vm/reg_opcodes.h), and the back end's public entry points.
//
// Each IR instruction becomes one VM instruction plus the moves its operand conventions need:
// a constant where only a register will do is loaded into a scratch register above everything
// live; operands that must be consecutive (a call's callee and arguments, a list's items, a
// closure's defaults and cells, a fused kernel's arguments) are gathered into a block. A call's
// block sits above every register live across the call, because the callee's frame starts at
// R[A+1]; operands already in their place in such a block are not moved. A compare-and-branch
// is an IF* instruction and a JMP; jumps to the next block in the layout are left out.
#include "emit_reg.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "ir.h"

namespace tvm {
namespace ir {
namespace {

class RegEmitter {
 public:
  RegEmitter(Function& f) : f_(f), live_(compute_liveness(f)), al_(allocate_registers(f, live_)), c_(f.code) {
    nregs_ = std::max({al_.nregs, f.nparams, 1});
  }

  CodeObj* run() {
    block_start_.assign(f_.blocks.size(), 0);
    for (size_t b = 0; b < f_.blocks.size(); ++b) {
      block_start_[b] = int(c_->rcode.size());
      next_block_ = b + 1 < f_.blocks.size() ? int(b + 1) : -1;
      emit_block(int(b));
    }
    for (auto [at, block] : fixups_) {
      RInstr& w = c_->rcode[at];
      w = rencode(rop(w), ra(w), uint32_t(block_start_[size_t(block)]), rc(w));
    }
    c_->consts = std::move(f_.consts);
    f_.consts.clear();
    c_->kernels = std::move(f_.kernels);
    c_->nregs = nregs_;
    c_->clear_end = register_clear_end(c_->rcode, nregs_);
    c_->frame_size = nregs_;
    c_->is_register = true;
    return std::exchange(f_.code, nullptr);
  }

 private:
  int reg(int v) const { return al_.reg[size_t(v)]; }

  void use_reg(int r) { nregs_ = std::max(nregs_, r + 1); }

  size_t put(ROp op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0) {
    c_->rcode.push_back(rencode(op, a, b, c));
    c_->locs.push_back(loc_);
    return c_->rcode.size() - 1;
  }

  void jump_to(ROp op, uint32_t a, int block) {
    size_t at = put(op, a, 0, 0);
    fixups_.push_back({at, block});
  }

  uint32_t rk(const Opd& o) {
    if (o.is_const()) return rk_const(uint32_t(o.v));
    return uint32_t(reg(o.v));
  }

  // A constant int that fits an Imm operand (only the right-hand operand is taken, so that
  // the slow path sees the operands in their order).
  std::optional<int32_t> imm(const Opd& o) const {
    if (!o.is_const()) return std::nullopt;
    Value v = f_.konst(o.v);
    if (!v.is_small_int() || v.as_small_int() < kMinImm || v.as_small_int() > kMaxImm) return std::nullopt;
    return int32_t(v.as_small_int());
  }

  // The operand in a register: constants go to the next scratch register.
  uint32_t in_reg(const Opd& o) {
    if (o.is_reg()) return uint32_t(reg(o.v));
    int r = scratch_++;
    use_reg(r);
    put(ROp::LOADK, uint32_t(r), uint32_t(o.v));
    return uint32_t(r);
  }

  void move(int dst, const Opd& src) {
    use_reg(dst);
    if (src.is_const()) put(ROp::LOADK, uint32_t(dst), uint32_t(src.v));
    else if (reg(src.v) != dst) put(ROp::MOVE, uint32_t(dst), uint32_t(reg(src.v)));
  }

  // Puts ops in consecutive registers at or above `base` (above everything live after the
  // instruction); returns the first. The block starts at `base`, at the first operand's
  // register (a callee the allocator put there) or above every operand, whichever needs the
  // fewest moves; a start is possible when no operand sits inside the block out of its place.
  int gather(const std::vector<Opd>& ops, int base) {
    if (ops.empty()) return 0;
    int n = int(ops.size());
    int top = base;
    for (const Opd& o : ops)
      if (o.is_reg()) top = std::max(top, reg(o.v) + 1);
    auto moves_at = [&](int at) {
      int moves = 0;
      for (int i = 0; i < n; ++i) {
        if (!ops[size_t(i)].is_reg()) {
          ++moves;
          continue;
        }
        int r = reg(ops[size_t(i)].v);
        if (r == at + i) continue;
        if (r >= at && r < at + n) return INT32_MAX;  // would be overwritten before it is read
        ++moves;
      }
      return moves;
    };
    int at = top, best = moves_at(top);
    for (int cand : {base, ops[0].is_reg() ? reg(ops[0].v) : -1})
      if (cand >= base && cand < top)
        if (int m = moves_at(cand); m < best || (m == best && cand < at)) {
          at = cand;
          best = m;
        }
    for (int i = 0; i < n; ++i) move(at + i, ops[size_t(i)]);
    use_reg(at + n - 1);
    return at;
  }

  void emit_block(int b) {
    const Block& blk = f_.blocks[size_t(b)];
    // Live sets after each instruction, from the block's end backwards.
    std::vector<uint64_t> cur = live_.live_out[size_t(b)];
    std::vector<int> live_top(blk.instrs.size());
    auto top_of = [&](const std::vector<uint64_t>& s) {
      int top = 0;
      for (size_t w = 0; w < s.size(); ++w) {
        uint64_t bits = s[w];
        while (bits) {
          int v = int(w * 64) + __builtin_ctzll(bits);
          bits &= bits - 1;
          if (reg(v) >= 0) top = std::max(top, reg(v) + 1);
        }
      }
      return top;
    };
    for (size_t i = blk.instrs.size(); i-- > 0;) {
      const Instr& in = blk.instrs[i];
      // What stays live across the instruction (its own results are written last).
      for_each_def(in, [&](int d) { cur[size_t(d) >> 6] &= ~(uint64_t(1) << (d & 63)); });
      live_top[i] = top_of(cur);
      for_each_use(in, [&](int u) { cur[size_t(u) >> 6] |= uint64_t(1) << (u & 63); });
    }
    for (size_t i = 0; i < blk.instrs.size(); ++i) {
      const Instr& in = blk.instrs[i];
      int top = live_top[i];
      for_each_def(in, [&](int d) { top = std::max(top, reg(d) + 1); });
      int above = top;
      for_each_use(in, [&](int u) { above = std::max(above, reg(u) + 1); });
      scratch_ = above;
      loc_ = in.loc;
      emit_instr(in, live_top[i]);
    }
  }

  void emit_instr(const Instr& in, int live_top) {
    int dst = in.dst >= 0 ? reg(in.dst) : -1;
    if (dst >= 0) use_reg(dst);
    const auto& a = in.args;
    switch (in.op) {
      case Op::Move: move(dst, a[0]); break;
      case Op::CheckDef: put(ROp::CHECKDEF, in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::GetGlobal: put(ROp::GETGLOBAL, uint32_t(dst), uint32_t(in.imm)); break;
      case Op::SetGlobal: put(ROp::SETGLOBAL, in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::GetFree: put(ROp::GETFREE, uint32_t(dst), uint32_t(in.imm)); break;
      case Op::SetFree: put(ROp::SETFREE, in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::GetFreeCell: put(ROp::GETFREECELL, uint32_t(dst), uint32_t(in.imm)); break;
      case Op::MakeCell:
        if (!a.empty()) move(dst, a[0]);
        put(ROp::MAKECELL, uint32_t(dst));
        break;
      case Op::GetCell: put(ROp::GETCELL, uint32_t(dst), in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::SetCell: {
        uint32_t cell = in_reg(a[0]);
        put(ROp::SETCELL, cell, in_reg(a[1]));
        break;
      }
      case Op::Binary:
        if (std::optional<int32_t> k = imm(a[1]); k && a[0].is_reg() && (in.sub == ROp::ADD || in.sub == ROp::SUB)) {
          put(in.sub == ROp::ADD ? ROp::ADDI : ROp::SUBI, uint32_t(dst), uint32_t(reg(a[0].v)), imm_operand(*k));
          break;
        }
        put(in.sub, uint32_t(dst), rk(a[0]), rk(a[1]));
        break;
      case Op::Compare: put(in.sub, uint32_t(dst), rk(a[0]), rk(a[1])); break;
      case Op::Unary: put(in.sub, uint32_t(dst), in_reg(a[0])); break;
      case Op::GetIter: put(ROp::GETITER, uint32_t(dst), in_reg(a[0])); break;
      case Op::NewList:
      case Op::NewTuple:
      case Op::Concat: {
        int b = gather(a, live_top);
        ROp op = in.op == Op::NewList ? ROp::NEWLIST : in.op == Op::NewTuple ? ROp::NEWTUPLE : ROp::CONCAT;
        put(op, uint32_t(dst), uint32_t(b), uint32_t(a.size()));
        break;
      }
      case Op::NewDict: {
        int b = gather(a, live_top);
        put(ROp::NEWDICT, uint32_t(dst), uint32_t(b), uint32_t(a.size() / 2));
        break;
      }
      case Op::NewSlice: {
        int b = gather(a, live_top);
        put(ROp::NEWSLICE, uint32_t(dst), uint32_t(b), uint32_t(a.size()));
        break;
      }
      case Op::Format: {
        int b = gather(a, live_top);
        put(ROp::FORMAT, uint32_t(dst), uint32_t(b), uint32_t(in.imm));
        break;
      }
      case Op::ListAppend:
      case Op::ListExtend: {
        uint32_t list = in_reg(a[0]);
        put(in.op == Op::ListAppend ? ROp::LISTAPPEND : ROp::LISTEXTEND, list, in_reg(a[1]));
        break;
      }
      case Op::ListToTuple: put(ROp::LISTTOTUPLE, uint32_t(dst), in_reg(a[0])); break;
      case Op::DictSet: put(ROp::DICTSET, in_reg(a[0]), rk(a[1]), rk(a[2])); break;
      case Op::GetItem: put(ROp::GETITEM, uint32_t(dst), in_reg(a[0]), rk(a[1])); break;
      case Op::SetItem: put(ROp::SETITEM, in_reg(a[0]), rk(a[1]), rk(a[2])); break;
      case Op::GetAttr: put(ROp::GETATTR, uint32_t(dst), in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::SetAttr: put(ROp::SETATTR, in_reg(a[0]), uint32_t(in.imm), rk(a[1])); break;
      case Op::Call:
      case Op::CallMethod:
      case Op::CallEx: {
        int b = gather(a, live_top);
        if (in.op == Op::Call) put(ROp::CALL, uint32_t(b), uint32_t(a.size() - 1), uint32_t(in.imm));
        else if (in.op == Op::CallMethod) put(ROp::CALLMETHOD, uint32_t(b), uint32_t(a.size() - 1), uint32_t(in.imm));
        else put(ROp::CALLEX, uint32_t(b), a.size() > 2 ? 1u : 0u);
        if (dst >= 0 && dst != b) put(ROp::MOVE, uint32_t(dst), uint32_t(b));
        break;
      }
      case Op::Closure: {
        int b = gather(a, live_top);
        put(ROp::CLOSURE, uint32_t(dst), uint32_t(in.imm), uint32_t(b));
        break;
      }
      case Op::Import: put(ROp::IMPORT, uint32_t(dst), uint32_t(in.imm)); break;
      case Op::ImportFrom: put(ROp::IMPORTFROM, uint32_t(dst), in_reg(a[0]), uint32_t(in.imm)); break;
      case Op::Unpack: {
        // Written above everything live (the targets and the source included), then moved.
        int b = scratch_;
        for (int d : in.dsts) b = std::max(b, reg(d) + 1);
        uint32_t src = in_reg(a[0]);
        b = std::max(b, int(src) + 1);
        use_reg(b + int(in.dsts.size()) - 1);
        put(ROp::UNPACK, uint32_t(b), src, uint32_t(in.dsts.size()));
        for (size_t i = 0; i < in.dsts.size(); ++i)
          if (reg(in.dsts[i]) >= 0 && reg(in.dsts[i]) != b + int(i)) put(ROp::MOVE, uint32_t(reg(in.dsts[i])), uint32_t(b + int(i)));
        break;
      }
      case Op::CheckArgs: put(ROp::CHECKARGS); break;
      case Op::CheckReturn: put(ROp::CHECKRETURN, in_reg(a[0])); break;
      case Op::KCall: {
        int b = gather(a, live_top);
        put(ROp::KCALL, uint32_t(dst), uint32_t(b), uint32_t(in.imm));
        break;
      }
      case Op::Jmp:
        if (in.t0 != next_block_) jump_to(ROp::JMP, 0, in.t0);
        break;
      case Op::Branch: {
        uint32_t r = in_reg(a[0]);
        if (in.t1 == next_block_) {
          jump_to(ROp::JMPIF, r, in.t0);
        } else if (in.t0 == next_block_) {
          jump_to(ROp::JMPIFNOT, r, in.t1);
        } else {
          jump_to(ROp::JMPIF, r, in.t0);
          jump_to(ROp::JMP, 0, in.t1);
        }
        break;
      }
      case Op::CmpBranch: {
        static_assert(int(ROp::IFNE) - int(ROp::IFLT) == int(ROp::NE) - int(ROp::LT));
        static_assert(int(ROp::IFNEI) - int(ROp::IFLTI) == int(ROp::NE) - int(ROp::LT));
        ROp op = ROp(int(ROp::IFLT) + (int(in.sub) - int(ROp::LT)));
        uint32_t x = rk(a[0]), y = rk(a[1]);
        if (std::optional<int32_t> k = imm(a[1]); k && a[0].is_reg()) {
          op = ROp(int(ROp::IFLTI) + (int(in.sub) - int(ROp::LT)));
          y = imm_operand(*k);
        }
        if (in.t0 == next_block_) {
          put(op, 0, x, y);  // false: the JMP runs
          jump_to(ROp::JMP, 0, in.t1);
        } else {
          put(op, 1, x, y);
          jump_to(ROp::JMP, 0, in.t0);
          if (in.t1 != next_block_) jump_to(ROp::JMP, 0, in.t1);
        }
        break;
      }
      case Op::ForIter:
        put(ROp::FORITER, uint32_t(dst), in_reg(a[0]));
        jump_to(ROp::JMP, 0, in.t1);
        if (in.t0 != next_block_) jump_to(ROp::JMP, 0, in.t0);
        break;
      case Op::Return: put(ROp::RETURN, 0, rk(a[0])); break;
      case Op::AssertFail:
        if (a.empty()) put(ROp::ASSERTFAIL, 0, 0);
        else put(ROp::ASSERTFAIL, in_reg(a[0]), 1);
        break;
    }
  }

  Function& f_;
  Liveness live_;
  Allocation al_;
  CodeObj* c_;
  int nregs_ = 0;
  int scratch_ = 0;
  int next_block_ = -1;
  SourceLoc loc_{0, 0};
  std::vector<int> block_start_;
  std::vector<std::pair<size_t, int>> fixups_;
};

// Orders the blocks as traces: each block is followed by its preferred successor (a jump's
// target, a branch's true side, a loop's body) when that is not placed yet, so most control
// flow falls through; the other successors wait on a stack, innermost first.
void layout_blocks(Function& f) {
  size_t n = f.blocks.size();
  std::vector<int> order;
  std::vector<char> placed(n, 0);
  std::vector<int> pending{0};
  std::vector<int> succ;
  while (!pending.empty()) {
    int b = pending.back();
    pending.pop_back();
    while (b >= 0 && !placed[size_t(b)]) {
      placed[size_t(b)] = 1;
      order.push_back(b);
      successors(f.blocks[size_t(b)], succ);
      int next = -1;
      for (int s : succ)
        if (!placed[size_t(s)] && next < 0) next = s;
      for (size_t i = succ.size(); i-- > 0;)
        if (succ[i] != next && !placed[size_t(succ[i])]) pending.push_back(succ[i]);
      b = next;
    }
  }
  std::vector<int> remap(n, -1);
  std::vector<Block> blocks;
  for (int b : order) {
    remap[size_t(b)] = int(blocks.size());
    blocks.push_back(std::move(f.blocks[size_t(b)]));
  }
  for (Block& blk : blocks) {
    if (blk.instrs.empty()) continue;
    Instr& t = blk.instrs.back();
    if (t.t0 >= 0) t.t0 = remap[size_t(t.t0)];
    if (t.t1 >= 0) t.t1 = remap[size_t(t.t1)];
  }
  f.blocks = std::move(blocks);
}

}  // namespace

CodeObj* emit_code(Function& f) {
  layout_blocks(f);
  return RegEmitter(f).run();
}

CodeObj* compile_ir(Function& f, bool fuse_ops) {
  optimize(f);
  if (fuse_ops) {
    fuse(f);
    optimize(f);
  }
  return emit_code(f);
}

}  // namespace ir

CodeObj* emit_register_module(const ast::Module& m, ModuleObj* module, const RegCompileEnv& env, Diagnostics& diag) {
  size_t errors = diag.errors().size();
  ir::BuildEnv b;
  b.frozen_globals = env.frozen_globals;
  b.specialise = env.specialise;
  b.fuse = env.fuse;
  std::unique_ptr<ir::Function> f = ir::build_module(m, module, b, diag);
  if (diag.errors().size() != errors) return nullptr;
  CodeObj* code = ir::compile_ir(*f, env.fuse);
  // A module's top level has no parameters: slot_names lists its globals in slot order, which
  // the register VM lays out a fresh module by.
  code->slot_names = module->slot_names;
  return code;
}

CodeObj* emit_register_function(FunctionObj* fn, const RegCompileEnv& env,
                                const std::function<Diagnostics&(const CodeObj* stack_code)>& diag_for) {
  Diagnostics& diag = diag_for(fn->code);
  size_t errors = diag.errors().size();
  ir::BuildEnv b;
  b.frozen_globals = env.frozen_globals;
  b.specialise = env.specialise;
  b.fuse = env.fuse;
  b.in_entry = true;
  std::unique_ptr<ir::Function> f = ir::build_frozen_function(fn, b, diag);
  if (diag.errors().size() != errors) return nullptr;
  return ir::compile_ir(*f, env.fuse);
}

}  // namespace tvm
