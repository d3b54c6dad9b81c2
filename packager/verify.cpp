// The bytecode verifier (verify.h). Operand rules come from kROpInfo's kinds; the few
// instructions whose operands relate to each other (a register range and its count, a call's
// keyword tuple, a conditional's JMP) have their own rules below. tvm-pkg(5) lists them all.
#include "verify.h"

#include <cstdint>

namespace tvm::pkg {
namespace {

std::string num(uint64_t v) { return std::to_string(v); }

bool is_str(Value v, bool interned) {
  return is_type(v, ObjType::Str) && (!interned || as_obj<StrObj>(v)->interned);
}

// The checks on the frame layout and tables, before any instruction.
std::string check_layout(const CodeObj& c) {
  if (!c.is_register) return "not register code";
  if (c.nregs < 0 || c.nregs > kMaxRegisters) return std::to_string(c.nregs) + " registers (at most " + num(kMaxRegisters) + ")";
  if (c.nparams < 0) return "negative parameter count";
  size_t nargs = size_t(c.nparams) + (c.has_varargs ? 1 : 0);
  if (nargs > size_t(c.nregs))
    return num(nargs) + " parameters but " + num(c.nregs) + " registers";
  if (c.slot_names.size() < nargs) return num(c.slot_names.size()) + " parameter names for " + num(nargs) + " parameters";
  if (c.nfree < 0 || uint64_t(c.nfree) > uint64_t(kMaxBC) + 1) return std::to_string(c.nfree) + " closure cells";
  if (c.free_names.size() != size_t(c.nfree))
    return num(c.free_names.size()) + " free variable names for " + num(c.nfree) + " cells";
  if (!c.param_annotations.empty() && c.param_annotations.size() != nargs)
    return num(c.param_annotations.size()) + " parameter annotations for " + num(nargs) + " parameters";
  for (size_t i = 0; i < c.param_annotations.size(); ++i)
    if (std::string e = check_annotation(c.param_annotations[i], c.dim_names.size(), "annotation of parameter " + num(i)); !e.empty())
      return e;
  if (std::string e = check_annotation(c.return_annotation, c.dim_names.size(), "return annotation"); !e.empty()) return e;
  if (c.rcode.empty()) return "no instructions";
  if (c.rcode.size() > kMaxInstructions) return num(c.rcode.size()) + " instructions (at most " + num(kMaxInstructions) + ")";
  if (c.locs.size() != c.rcode.size()) return num(c.locs.size()) + " line table entries for " + num(c.rcode.size()) + " instructions";
  if (c.keep_dim_bindings && rop(c.rcode[0]) != ROp::CHECKARGS) return "keeps dimension bindings but does not start with CHECKARGS";
  for (size_t i = 0; i < c.kernels.size(); ++i)
    if (std::string e = check_kernel(c.kernels[i]); !e.empty()) return "kernel " + num(i) + ": " + e;
  return "";
}

class InstrChecker {
 public:
  InstrChecker(const CodeObj& c, const VerifyContext& ctx) : c_(c), ctx_(ctx), nregs_(uint64_t(c.nregs)) {}

  std::string check(size_t pc) {
    pc_ = pc;
    RInstr in = c_.rcode[pc];
    unsigned opnum = unsigned(in & 0xFF);
    if (opnum >= unsigned(kNumROps)) return "instruction " + num(pc) + ": unknown opcode " + num(opnum);
    op_ = ROp(opnum);
    a_ = ra(in);
    b_ = rb(in);
    c_field_ = rc(in);
    const ROpInfo& info = kROpInfo[opnum];
    if (std::string e = operand(info.a, a_, 'A'); !e.empty()) return e;
    if (std::string e = operand(info.b, b_, 'B'); !e.empty()) return e;
    if (std::string e = operand(info.c, c_field_, 'C'); !e.empty()) return e;
    return specific();
  }

 private:
  std::string fail(const std::string& why) const {
    return "instruction " + num(pc_) + " (" + kROpInfo[uint8_t(op_)].name + "): " + why;
  }
  std::string reg(uint64_t r) const {
    return r < nregs_ ? "" : fail("register " + num(r) + " out of range (the frame has " + num(nregs_) + ")");
  }
  // R[first .. first+count) inside the frame.
  std::string range(uint64_t first, uint64_t count) const {
    if (first + count <= nregs_) return "";
    return fail("registers " + num(first) + ".." + num(first + count - 1) + " out of range (the frame has " + num(nregs_) + ")");
  }
  std::string konst(uint64_t k) const {
    return k < c_.consts.size() ? "" : fail("constant " + num(k) + " out of range (the code has " + num(c_.consts.size()) + ")");
  }
  std::string jump_target(uint64_t t) const {
    if (t >= c_.rcode.size()) return fail("jump to " + num(t) + " out of range (the code has " + num(c_.rcode.size()) + " instructions)");
    if (t == 0 && rop(c_.rcode[0]) == ROp::CHECKARGS) return fail("jump to the CHECKARGS at 0");
    return "";
  }

  std::string operand(RegOperand kind, uint32_t v, char field) const {
    switch (kind) {
      case RegOperand::None:
        return v == 0 ? "" : fail(std::string("unused operand ") + field + " is " + num(v) + ", not 0");
      case RegOperand::Reg:
      case RegOperand::RegOut: return reg(v);
      case RegOperand::RK: return rk_is_const(v) ? konst(rk_index(v)) : reg(v);
      case RegOperand::Const:
        if (op_ == ROp::CALL) return "";  // K[C-1]: checked with the call
        return konst(v);
      case RegOperand::Name:
        if (std::string e = konst(v); !e.empty()) return e;
        if (!is_str(c_.consts[v], ctx_.require_interned))
          return fail("constant " + num(v) + " is not " + (ctx_.require_interned ? "an interned str" : "a str"));
        return "";
      case RegOperand::Global:
        return v < ctx_.nglobals ? "" : fail("global slot " + num(v) + " out of range (the module has " + num(ctx_.nglobals) + ")");
      case RegOperand::Free:
        return v < uint64_t(c_.nfree) ? "" : fail("closure cell " + num(v) + " out of range (the code has " + num(c_.nfree) + ")");
      case RegOperand::Jump: return jump_target(v);
      case RegOperand::Kernel:
        return v < c_.kernels.size() ? "" : fail("kernel " + num(v) + " out of range (the code has " + num(c_.kernels.size()) + ")");
      case RegOperand::Imm: return "";  // every 20-bit value is an int
      case RegOperand::Count:
      case RegOperand::Flag: return "";  // per instruction, below
    }
    return fail("bad operand kind");
  }

  std::string flag(uint32_t v, uint32_t max) const {
    return v <= max ? "" : fail("flag " + num(v) + " out of range (at most " + num(max) + ")");
  }
  std::string followed_by_jmp() const {
    if (pc_ + 1 >= c_.rcode.size() || rop(c_.rcode[pc_ + 1]) != ROp::JMP) return fail("not followed by a JMP");
    return "";
  }

  std::string specific() const {
    uint32_t a = a_, b = b_, c = c_field_;
    switch (op_) {
      case ROp::NEWLIST:
      case ROp::NEWTUPLE:
      case ROp::CONCAT: return range(b, c);
      case ROp::NEWDICT: return range(b, 2 * uint64_t(c));
      case ROp::NEWSLICE:
        if (c != 2 && c != 3) return fail("a slice of " + num(c) + " parts");
        return range(b, c);
      case ROp::UNPACK: return range(a, c);
      case ROp::FORMAT:
        if (c > 7 || (c & 3) == 3) return fail("bad format flags " + num(c));
        return c & 4 ? range(b, 2) : "";
      case ROp::CALL: {
        if (std::string e = range(a, uint64_t(b) + 1); !e.empty()) return e;
        if (c == 0) return "";
        if (std::string e = konst(c - 1); !e.empty()) return e;
        Value names = c_.consts[c - 1];
        if (!is_type(names, ObjType::Tuple)) return fail("keyword names K[" + num(c - 1) + "] are not a tuple");
        const auto& items = as_obj<TupleObj>(names)->items;
        if (items.size() > b) return fail(num(items.size()) + " keyword names for " + num(b) + " arguments");
        for (Value n : items)
          if (!is_str(n, ctx_.require_interned))
            return fail(std::string("a keyword name is not ") + (ctx_.require_interned ? "an interned str" : "a str"));
        return "";
      }
      case ROp::CALLMETHOD: return range(a, uint64_t(b) + 1);
      case ROp::CALLEX:
        if (std::string e = flag(b, 1); !e.empty()) return e;
        return range(a, uint64_t(b) + 2);
      case ROp::ASSERTFAIL: return flag(b, 1);
      case ROp::IFLT:
      case ROp::IFLE:
      case ROp::IFGT:
      case ROp::IFGE:
      case ROp::IFEQ:
      case ROp::IFNE:
      case ROp::IFLTI:
      case ROp::IFLEI:
      case ROp::IFGTI:
      case ROp::IFGEI:
      case ROp::IFEQI:
      case ROp::IFNEI:
        if (std::string e = flag(a, 1); !e.empty()) return e;
        return followed_by_jmp();
      case ROp::FORITER: return followed_by_jmp();
      case ROp::CLOSURE: {
        Value k = c_.consts[b];
        if (!is_type(k, ObjType::Code) || !as_obj<CodeObj>(k)->is_register)
          return fail("constant " + num(b) + " is not register code");
        return range(c, 2);
      }
      case ROp::KCALL: return range(b, c_.kernels[c].arity);
      case ROp::CHECKARGS: return pc_ == 0 ? "" : fail("not the first instruction");
      // Kept dimension bindings are pushed once, by the CHECKARGS every call starts with, and
      // popped once, by a CHECKRETURN that can only return.
      case ROp::CHECKRETURN:
        if (pc_ + 1 >= c_.rcode.size() || rop(c_.rcode[pc_ + 1]) != ROp::RETURN) return fail("not followed by a RETURN");
        return "";
      default: return "";
    }
  }

  const CodeObj& c_;
  const VerifyContext& ctx_;
  uint64_t nregs_;
  size_t pc_ = 0;
  ROp op_ = ROp::NOP;
  uint32_t a_ = 0, b_ = 0, c_field_ = 0;
};

}  // namespace

std::string check_annotation(const Annotation& a, size_t ndim_names, const std::string& what) {
  if (a.kind > Annotation::Tensor) return what + ": unknown annotation kind " + num(a.kind);
  if (!a.has_dims) return a.dims.empty() ? "" : what + ": dimensions without has_dims";
  if (a.kind != Annotation::Tensor) return what + ": dimensions on a non-Tensor annotation";
  if (a.dims.size() > 8) return what + ": " + num(a.dims.size()) + " dimensions (at most 8)";
  for (const Annotation::Dim& d : a.dims) {
    if (d.size >= 0) continue;
    if (d.size != -1) return what + ": dimension size " + std::to_string(d.size);
    if (d.index < 0 || size_t(d.index) >= ndim_names)
      return what + ": dimension '" + d.name + "' has index " + std::to_string(d.index) + " of " + num(ndim_names);
  }
  return "";
}

std::string verify_code(const CodeObj& code, const VerifyContext& ctx) {
  if (std::string e = check_layout(code); !e.empty()) return e;
  InstrChecker checker(code, ctx);
  for (size_t pc = 0; pc < code.rcode.size(); ++pc)
    if (std::string e = checker.check(pc); !e.empty()) return e;
  // No falling off the end: the last instruction never goes on to the next.
  ROp last = rop(code.rcode.back());
  if (last != ROp::RETURN && last != ROp::JMP && last != ROp::ASSERTFAIL)
    return "the last instruction is not RETURN, JMP or ASSERTFAIL";
  return "";
}

}  // namespace tvm::pkg
