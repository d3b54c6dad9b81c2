// The register back end's IR (DESIGN.md, Pipelines): a function is a list of basic blocks of
// three-address instructions over virtual registers (vregs). An operand is a vreg or a
// constant of the function's pool. A variable of the source keeps one "home" vreg that may be
// assigned many times; every temporary is assigned exactly once. Each block ends with exactly
// one terminator (Jmp, Branch, CmpBranch, ForIter, Return or AssertFail).
//
// The phases, each in its own file:
//   ir_build.cpp   resolved AST -> IR, evaluating what pack time knows as it goes (frozen
//                  globals and closure cells, inlining, unrolling, folding of constants)
//   ir_passes.cpp  folding, copy propagation, dead-code and unreachable-block removal, jump
//                  threading and block merging
//   ir_fuse.cpp    GEMM epilogues and elementwise chains -> KCall
//   regalloc.cpp   liveness over the CFG and linear-scan register assignment
//   emit_reg.cpp   IR -> register bytecode (vm/reg_opcodes.h) in a CodeObj
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../vm/code.h"
#include "../vm/fused.h"
#include "../vm/reg_opcodes.h"
#include "ast.h"
#include "diag.h"

namespace tvm::ir {

enum class Op : uint8_t {
  Move,         // dst := a0
  CheckDef,     // error "local variable K[imm] referenced before assignment" if a0 is unassigned
  GetGlobal,    // dst := G[imm]
  SetGlobal,    // G[imm] := a0
  GetFree,      // dst := C[imm].value
  SetFree,      // C[imm].value := a0
  GetFreeCell,  // dst := the cell object C[imm]
  MakeCell,     // dst := a new cell holding a0 (no operand: an unassigned cell)
  GetCell,      // dst := value of the cell a0 (error naming K[imm])
  SetCell,      // the cell a0 := a1
  Binary,       // dst := a0 <sub> a1, sub one of ROp ADD..BITXOR, INPLACE_ADD
  Unary,        // dst := <sub> a0, sub one of NEG POS INVERT NOT
  Compare,      // dst := a0 <sub> a1, sub one of LT..ISNOT
  GetIter,      // dst := iter(a0)
  NewList,      // dst := [a0, ...]
  NewTuple,     // dst := (a0, ...)
  NewDict,      // dst := {a0: a1, ...}
  NewSlice,     // dst := slice(a0, a1[, a2])
  Concat,       // dst := a0 + a1 + ... (strings)
  Format,       // dst := format(a0[, spec a1]); imm: FORMAT's flags
  ListAppend,   // a0.append(a1)
  ListExtend,   // a0.extend(a1)
  ListToTuple,  // dst := tuple(a0)
  DictSet,      // a0[a1] := a2 (building a dict)
  GetItem,      // dst := a0[a1]
  SetItem,      // a0[a1] := a2
  GetAttr,      // dst := a0.K[imm]
  SetAttr,      // a0.K[imm] := a1
  Call,         // dst := a0(a1, ...); imm > 0: the last len(K[imm-1]) arguments are keywords
  CallMethod,   // dst := a0.K[imm](a1, ...)
  CallEx,       // dst := a0(*a1[, **a2])
  Closure,      // dst := function of code K[imm], defaults a0, cells a1
  Import,       // dst := module K[imm]
  ImportFrom,   // dst := a0.K[imm]
  Unpack,       // dsts := the exactly len(dsts) items of a0
  CheckArgs,    // check the arguments against the annotations
  CheckReturn,  // check a0 against the return annotation
  KCall,        // dst := fused kernel imm of a0, ...
  // terminators
  Jmp,          // goto t0
  Branch,       // if a0 is truthy goto t0 else t1
  CmpBranch,    // if a0 <sub> a1 (sub LT..NE) goto t0 else t1
  ForIter,      // dst := next(a0), goto t0; exhausted: goto t1
  Return,       // return a0
  AssertFail,   // raise 'assertion failed' [with str(a0)]
};

struct Opd {
  enum Kind : uint8_t { None, Reg, Const };
  Kind kind = None;
  int v = -1;  // vreg or constant index
  static Opd reg(int r) { return {Reg, r}; }
  static Opd konst(int k) { return {Const, k}; }
  bool is_reg() const { return kind == Reg; }
  bool is_const() const { return kind == Const; }
  bool operator==(const Opd& o) const { return kind == o.kind && v == o.v; }
  bool operator!=(const Opd& o) const { return !(*this == o); }
};

struct Instr {
  Op op;
  ROp sub = ROp::NOP;
  int dst = -1;
  std::vector<Opd> args;
  std::vector<int> dsts;  // Unpack
  int imm = 0;
  int t0 = -1, t1 = -1;   // successor blocks of terminators
  SourceLoc loc{0, 0};
};

struct Block {
  std::vector<Instr> instrs;
};

struct Function {
  CodeObj* code = nullptr;          // the CodeObj being made: metadata filled by the builder; owned
  std::vector<Block> blocks;        // blocks[0] is the entry
  std::vector<Value> consts;        // owned references
  std::unordered_map<uint64_t, int> const_index;
  std::unordered_map<std::string, int> str_index;
  std::vector<KernelDesc> kernels;
  int nvregs = 0;
  int nparams = 0;                  // vregs 0..nparams-1 arrive in R[0..nparams) (*args included)
  std::vector<int> param_rank;      // per param: >= 0 when annotated Tensor[...] with that rank, -2 Tensor without dims, -1 not a tensor

  Function() = default;
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;
  ~Function();

  int new_vreg() { return nvregs++; }
  // The constant's index; takes a new reference to v (borrowed).
  int add_const(Value v);
  // Adopts the new reference v.
  int adopt_const(Value v);
  int name_const(const std::string& name);  // an interned str
  Value konst(int k) const { return consts[size_t(k)]; }
};

// ------------------------------------------------------------------ instruction properties

bool is_terminator(Op op);
// Successor blocks of a block's terminator.
void successors(const Block& b, std::vector<int>& out);
// The vregs an instruction reads / writes.
template <typename F>
void for_each_use(const Instr& in, F&& f) {
  for (const Opd& o : in.args)
    if (o.kind == Opd::Reg) f(o.v);
}
template <typename F>
void for_each_def(const Instr& in, F&& f) {
  if (in.dst >= 0) f(in.dst);
  for (int d : in.dsts) f(d);
}
// Removable when its result is unused: no side effect and it cannot raise.
bool is_pure(const Instr& in);

// ------------------------------------------------------------------ folding (ir_passes.cpp)

// Each returns true and a new reference in `out` when the operation on these constants can be
// done at pack time: it cannot raise and has no side effect.
bool fold_binary(ROp op, Value a, Value b, Value& out);
bool fold_unary(ROp op, Value a, Value& out);
bool fold_compare(ROp op, Value a, Value b, Value& out);
// The truth of a constant, when knowing it cannot raise (tensors excluded).
bool const_truth(Value v, bool& out);
bool fold_getitem(Value obj, Value index, Value& out);

// ------------------------------------------------------------------ liveness (regalloc.cpp)

struct Liveness {
  std::vector<std::vector<uint64_t>> live_in, live_out;  // bitsets over vregs, per block
  int words = 0;
  bool in(int block, int v) const { return (live_in[block][size_t(v) >> 6] >> (v & 63)) & 1; }
  bool out(int block, int v) const { return (live_out[block][size_t(v) >> 6] >> (v & 63)) & 1; }
};
Liveness compute_liveness(const Function& f);

// ------------------------------------------------------------------ passes

void remove_unreachable_blocks(Function& f);
// Folding, propagation, dead code, CFG cleanup, to a fixed point.
void optimize(Function& f);
// Gemm epilogues and elementwise chains (ir_fuse.cpp).
void fuse(Function& f);

// ------------------------------------------------------------------ building (ir_build.cpp)

struct BuildEnv {
  bool frozen_globals = false;  // global reads are constants, global writes pack-time errors
  bool specialise = false;      // inline frozen functions, unroll over frozen sequences
  bool fuse = false;
  bool in_entry = false;        // a package entry: `import` is a pack-time error
};
// A module's top level (globals in `module`'s slots). Errors go to diag.
std::unique_ptr<Function> build_module(const ast::Module& m, ModuleObj* module, const BuildEnv& env, Diagnostics& diag);
// The function value fn made at pack time, its closure cells read as constants.
std::unique_ptr<Function> build_frozen_function(FunctionObj* fn, const BuildEnv& env, Diagnostics& diag);

// The pipeline after building: passes, fusion, register allocation, emission (emit_reg.cpp).
// A new reference.
CodeObj* compile_ir(Function& f, bool fuse);

// ------------------------------------------------------------------ back end

struct Allocation {
  std::vector<int> reg;  // per vreg: its physical register (-1: never used)
  int nregs = 0;         // registers the assigned vregs occupy
};
Allocation allocate_registers(const Function& f, const Liveness& live);

// Writes f's register bytecode into f.code (consts and kernels move there) and returns it (a
// new reference; f no longer owns it).
CodeObj* emit_code(Function& f);

// A listing of the IR, for tests and debugging.
std::string dump(const Function& f);

}  // namespace tvm::ir
