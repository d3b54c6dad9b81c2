// The register VM's instruction set, defined once (Lua's lopcodes.h): the opcode enum, the
// disassembler's names and operand kinds, and the verifier's rules all come from this table.
//
// An instruction is one 64-bit word:
//
//     63         44 43         24 23      8 7     0
//     [   C : 20   |   B : 20    |  A : 16 |  op  ]
//
// Notation: R[i] is frame register i; K[i] constant i of the code; RK(x) is K[x & 0x7FFFF]
// when bit 19 of x is set (kRKConst), else R[x]; an Imm operand is itself a signed 20-bit
// int; G[i] the module's global slot i; C[i] the function's closure cell i; KD[i] the code's
// fused-kernel descriptor i (vm/fused.h).
// A jump target is an absolute instruction index. A function's parameters arrive in
// R[0..nparams) (then *args), like the stack VM's slots.
//
// Calls (Lua's convention): the callee is in R[A] and its B arguments in R[A+1..A+B]; the
// callee's frame starts at R[A+1], so a TL function's parameters are already in place. The
// code generator therefore puts a call's block at the top of the registers live across it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tvm {

// What an operand field holds (for the disassembler and the verifier).
enum class RegOperand : uint8_t {
  None,    // unused, must be 0
  Reg,     // a register
  RegOut,  // a register written by the instruction
  RK,      // a register, or a constant when bit 19 is set
  Const,   // a constant index
  Name,    // a constant index holding an interned str
  Global,  // a global slot index
  Free,    // a closure cell index
  Jump,    // an instruction index
  Count,   // a count (arguments, items)
  Flag,    // a small integer whose meaning the row gives
  Kernel,  // a fused-kernel descriptor index
  Imm,     // a signed integer, 20-bit two's complement (rimm)
};

// X(NAME, A kind, B kind, C kind, "semantics")
#define TVM_REG_OPCODES(X)                                                                                 \
  X(NOP,         None,   None,   None,   "nothing")                                                        \
  X(MOVE,        RegOut, Reg,    None,   "R[A] := R[B]")                                                   \
  X(LOADK,       RegOut, Const,  None,   "R[A] := K[B]")                                                   \
  X(CHECKDEF,    Reg,    Name,   None,   "error 'local variable K[B] referenced before assignment' if R[A] is unassigned") \
  X(GETGLOBAL,   RegOut, Global, None,   "R[A] := G[B], else the builtin of that name, else 'name ... is not defined'") \
  X(SETGLOBAL,   Reg,    Global, None,   "G[B] := R[A]")                                                   \
  X(GETFREE,     RegOut, Free,   None,   "R[A] := C[B].value (error if unassigned)")                       \
  X(SETFREE,     Reg,    Free,   None,   "C[B].value := R[A]")                                             \
  X(GETFREECELL, RegOut, Free,   None,   "R[A] := the cell object C[B] (to build a closure)")              \
  X(MAKECELL,    Reg,    None,   None,   "R[A] := a new cell holding R[A] (which may be unassigned)")      \
  X(GETCELL,     RegOut, Reg,    Name,   "R[A] := the value of the cell in R[B] (error naming K[C] if unassigned)") \
  X(SETCELL,     Reg,    Reg,    None,   "the cell in R[A] := R[B]")                                       \
  X(ADD,         RegOut, RK,     RK,     "R[A] := RK(B) + RK(C)")                                          \
  X(SUB,         RegOut, RK,     RK,     "R[A] := RK(B) - RK(C)")                                          \
  X(MUL,         RegOut, RK,     RK,     "R[A] := RK(B) * RK(C)")                                          \
  X(DIV,         RegOut, RK,     RK,     "R[A] := RK(B) / RK(C)")                                          \
  X(FLOORDIV,    RegOut, RK,     RK,     "R[A] := RK(B) // RK(C)")                                         \
  X(MOD,         RegOut, RK,     RK,     "R[A] := RK(B) % RK(C)")                                          \
  X(POW,         RegOut, RK,     RK,     "R[A] := RK(B) ** RK(C)")                                         \
  X(MATMUL,      RegOut, RK,     RK,     "R[A] := RK(B) @ RK(C)")                                          \
  X(LSHIFT,      RegOut, RK,     RK,     "R[A] := RK(B) << RK(C)")                                         \
  X(RSHIFT,      RegOut, RK,     RK,     "R[A] := RK(B) >> RK(C)")                                         \
  X(BITAND,      RegOut, RK,     RK,     "R[A] := RK(B) & RK(C)")                                          \
  X(BITOR,       RegOut, RK,     RK,     "R[A] := RK(B) | RK(C)")                                          \
  X(BITXOR,      RegOut, RK,     RK,     "R[A] := RK(B) ^ RK(C)")                                          \
  X(INPLACE_ADD, RegOut, RK,     RK,     "R[A] := RK(B) += RK(C) (a list is extended in place)")           \
  X(NEG,         RegOut, Reg,    None,   "R[A] := -R[B]")                                                  \
  X(POS,         RegOut, Reg,    None,   "R[A] := +R[B]")                                                  \
  X(INVERT,      RegOut, Reg,    None,   "R[A] := ~R[B]")                                                  \
  X(NOT,         RegOut, Reg,    None,   "R[A] := not R[B]")                                               \
  X(LT,          RegOut, RK,     RK,     "R[A] := RK(B) < RK(C)")                                          \
  X(LE,          RegOut, RK,     RK,     "R[A] := RK(B) <= RK(C)")                                         \
  X(GT,          RegOut, RK,     RK,     "R[A] := RK(B) > RK(C)")                                          \
  X(GE,          RegOut, RK,     RK,     "R[A] := RK(B) >= RK(C)")                                         \
  X(EQ,          RegOut, RK,     RK,     "R[A] := RK(B) == RK(C)")                                         \
  X(NE,          RegOut, RK,     RK,     "R[A] := RK(B) != RK(C)")                                         \
  X(IN,          RegOut, RK,     RK,     "R[A] := RK(B) in RK(C)")                                         \
  X(NOTIN,       RegOut, RK,     RK,     "R[A] := RK(B) not in RK(C)")                                     \
  X(IS,          RegOut, RK,     RK,     "R[A] := RK(B) is RK(C)")                                         \
  X(ISNOT,       RegOut, RK,     RK,     "R[A] := RK(B) is not RK(C)")                                     \
  X(JMP,         None,   Jump,   None,   "goto B")                                                         \
  X(JMPIF,       Reg,    Jump,   None,   "goto B if R[A] is truthy")                                       \
  X(JMPIFNOT,    Reg,    Jump,   None,   "goto B if R[A] is falsy")                                        \
  X(IFLT,        Flag,   RK,     RK,     "if (RK(B) < RK(C)) != A, skip the next instruction (a JMP)")      \
  X(IFLE,        Flag,   RK,     RK,     "if (RK(B) <= RK(C)) != A, skip the next instruction (a JMP)")     \
  X(IFGT,        Flag,   RK,     RK,     "if (RK(B) > RK(C)) != A, skip the next instruction (a JMP)")      \
  X(IFGE,        Flag,   RK,     RK,     "if (RK(B) >= RK(C)) != A, skip the next instruction (a JMP)")     \
  X(IFEQ,        Flag,   RK,     RK,     "if (RK(B) == RK(C)) != A, skip the next instruction (a JMP)")     \
  X(IFNE,        Flag,   RK,     RK,     "if (RK(B) != RK(C)) != A, skip the next instruction (a JMP)")     \
  X(GETITER,     RegOut, Reg,    None,   "R[A] := iter(R[B])")                                             \
  X(FORITER,     RegOut, Reg,    None,   "R[A] := next(R[B]) and skip the next instruction; when exhausted run it (a JMP out)") \
  X(NEWLIST,     RegOut, Reg,    Count,  "R[A] := [R[B], ..., R[B+C-1]]")                                  \
  X(NEWTUPLE,    RegOut, Reg,    Count,  "R[A] := (R[B], ..., R[B+C-1])")                                  \
  X(NEWDICT,     RegOut, Reg,    Count,  "R[A] := {R[B]: R[B+1], ...}: C pairs")                           \
  X(NEWSLICE,    RegOut, Reg,    Count,  "R[A] := slice(R[B], R[B+1]) or, C = 3, slice(R[B], R[B+1], R[B+2])") \
  X(CONCAT,      RegOut, Reg,    Count,  "R[A] := R[B] + ... + R[B+C-1] (strings)")                       \
  X(FORMAT,      RegOut, Reg,    Flag,   "R[A] := format(R[B], spec R[B+1] if C & 4) after conversion C & 3 (1 !s, 2 !r)") \
  X(LISTAPPEND,  Reg,    Reg,    None,   "R[A].append(R[B])")                                              \
  X(LISTEXTEND,  Reg,    Reg,    None,   "R[A].extend(R[B])")                                              \
  X(LISTTOTUPLE, RegOut, Reg,    None,   "R[A] := tuple(R[B]) (R[B] a list)")                              \
  X(DICTSET,     Reg,    RK,     RK,     "R[A][RK(B)] := RK(C) (building a dict)")                         \
  X(GETITEM,     RegOut, Reg,    RK,     "R[A] := R[B][RK(C)]")                                            \
  X(SETITEM,     Reg,    RK,     RK,     "R[A][RK(B)] := RK(C)")                                           \
  X(GETATTR,     RegOut, Reg,    Name,   "R[A] := R[B].K[C]")                                              \
  X(SETATTR,     Reg,    Name,   RK,     "R[A].K[B] := RK(C)")                                             \
  X(CALL,        Reg,    Count,  Const,  "R[A] := R[A](R[A+1], ..., R[A+B]); C > 0: the last len(K[C-1]) are keywords named by the tuple K[C-1]") \
  X(CALLMETHOD,  Reg,    Count,  Name,   "R[A] := R[A].K[C](R[A+1], ..., R[A+B])")                        \
  X(CALLEX,      Reg,    Flag,   None,   "R[A] := R[A](*R[A+1]) or, B = 1, R[A](*R[A+1], **R[A+2]) (a list and a dict)") \
  X(RETURN,      None,   RK,     None,   "return RK(B)")                                                   \
  X(CLOSURE,     RegOut, Const,  Reg,    "R[A] := function of code K[B], defaults R[C] and cells R[C+1] (each a tuple or None)") \
  X(IMPORT,      RegOut, Name,   None,   "R[A] := the module named K[B]")                                  \
  X(IMPORTFROM,  RegOut, Reg,    Name,   "R[A] := R[B].K[C] ('cannot import name ...')")                  \
  X(UNPACK,      RegOut, Reg,    Count,  "R[A], ..., R[A+C-1] := the exactly C items of R[B]")            \
  X(ASSERTFAIL,  Reg,    Flag,   None,   "raise 'assertion failed'; B = 1: with the message str(R[A])")    \
  X(CHECKARGS,   None,   None,   None,   "check the arguments against the parameter annotations")         \
  X(CHECKRETURN, Reg,    None,   None,   "check R[A] against the return annotation")                       \
  X(KCALL,       RegOut, Reg,    Kernel, "R[A] := fused kernel KD[C] of R[B], ..., R[B+arity-1]")           \
  X(ADDI,        RegOut, Reg,    Imm,    "R[A] := R[B] + C")                                               \
  X(SUBI,        RegOut, Reg,    Imm,    "R[A] := R[B] - C")                                               \
  X(IFLTI,       Flag,   Reg,    Imm,    "if (R[B] < C) != A, skip the next instruction (a JMP)")          \
  X(IFLEI,       Flag,   Reg,    Imm,    "if (R[B] <= C) != A, skip the next instruction (a JMP)")         \
  X(IFGTI,       Flag,   Reg,    Imm,    "if (R[B] > C) != A, skip the next instruction (a JMP)")          \
  X(IFGEI,       Flag,   Reg,    Imm,    "if (R[B] >= C) != A, skip the next instruction (a JMP)")         \
  X(IFEQI,       Flag,   Reg,    Imm,    "if (R[B] == C) != A, skip the next instruction (a JMP)")         \
  X(IFNEI,       Flag,   Reg,    Imm,    "if (R[B] != C) != A, skip the next instruction (a JMP)")

enum class ROp : uint8_t {
#define TVM_ROP_ENUM(name, a, b, c, doc) name,
  TVM_REG_OPCODES(TVM_ROP_ENUM)
#undef TVM_ROP_ENUM
};

struct ROpInfo {
  const char* name;
  RegOperand a, b, c;
  const char* doc;
};

inline constexpr ROpInfo kROpInfo[] = {
#define TVM_ROP_INFO(name, a, b, c, doc) {#name, RegOperand::a, RegOperand::b, RegOperand::c, doc},
    TVM_REG_OPCODES(TVM_ROP_INFO)
#undef TVM_ROP_INFO
};
inline constexpr int kNumROps = sizeof(kROpInfo) / sizeof(kROpInfo[0]);

using RInstr = uint64_t;

constexpr uint32_t kRKConst = 1u << 19;  // in an RK operand: a constant index follows
constexpr uint32_t kMaxA = 0xFFFF;
constexpr uint32_t kMaxBC = 0xFFFFF;
constexpr uint32_t kMaxRKIndex = kRKConst - 1;

constexpr RInstr rencode(ROp op, uint32_t a, uint32_t b = 0, uint32_t c = 0) {
  return RInstr(uint8_t(op)) | (RInstr(a & kMaxA) << 8) | (RInstr(b & kMaxBC) << 24) | (RInstr(c & kMaxBC) << 44);
}
constexpr ROp rop(RInstr i) { return ROp(i & 0xFF); }
constexpr uint32_t ra(RInstr i) { return uint32_t(i >> 8) & kMaxA; }
constexpr uint32_t rb(RInstr i) { return uint32_t(i >> 24) & kMaxBC; }
constexpr uint32_t rc(RInstr i) { return uint32_t(i >> 44) & kMaxBC; }
constexpr bool rk_is_const(uint32_t x) { return (x & kRKConst) != 0; }
constexpr uint32_t rk_index(uint32_t x) { return x & kMaxRKIndex; }
constexpr uint32_t rk_const(uint32_t k) { return k | kRKConst; }

// Imm operands: the int constants the code generator puts in the instruction itself (Lua's
// ADDI and compare-with-immediate), saving the RK select and the constant's load.
constexpr int32_t kMinImm = -(1 << 19);
constexpr int32_t kMaxImm = (1 << 19) - 1;
constexpr int32_t rimm(uint32_t x) { return int32_t(x << 12) >> 12; }
constexpr uint32_t imm_operand(int32_t v) { return uint32_t(v) & kMaxBC; }

// CodeObj::clear_end of `code` in a frame of nregs registers: one past the last register a
// CHECKDEF or MAKECELL reads (which may find it unassigned), at most nregs.
inline int register_clear_end(const std::vector<RInstr>& code, int nregs) {
  int end = 0;
  for (RInstr i : code)
    if (rop(i) == ROp::CHECKDEF || rop(i) == ROp::MAKECELL) end = std::max(end, int(ra(i)) + 1);
  return std::min(end, nregs);
}

}  // namespace tvm
