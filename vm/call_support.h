// What both VMs share of the call path (vm/stack_vm.cpp, vm/reg_vm.cpp): argument binding,
// native calls, annotation checks, the text of a runtime error with its traceback, and the
// out-of-line parts of instructions that both dispatch loops have. One copy, so that the two
// VMs give the same results and the same messages for the same program.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "code.h"

namespace tvm {

class VM;

// Native -> TL re-entries (sorted's key, ...) one VM allows: a guard for the C stack.
constexpr int kMaxNativeDepth = 1000;

// Arranges the call's arguments at `args` (npos positionals, then nkw keyword values named by
// kwnames; owned references) into fn's parameter layout: positional parameters, then *args as
// a tuple; keywords by name; missing ones from the defaults. On return args[0..nparams (+1 with
// *args)) hold the parameters (owned); values that went into the *args tuple or moved to a
// keyword's slot leave stale copies behind at args[nparams+1..npos+nkw), which own nothing.
// Throws RuntimeError with Python's message ("f() missing 1 required positional argument:
// 'x'"); then every argument has been released and args[0..npos+nkw) hold None.
void bind_args(FunctionObj* fn, Value* args, uint32_t npos, uint32_t nkw, StrObj* const* kwnames);

// Calls the builtin or bound method at slot[0] with the arguments at slot[1..npos+nkw] (owned
// references; the last nkw are keywords named by kwnames). A bound method's receiver takes
// the callee's slot. Afterwards slot[0..npos+nkw] own nothing (they hold Undefined); returns
// the result (a new reference). On a throw the slots still own their values.
Value call_native(VM& vm, Value* slot, uint32_t npos, uint32_t nkw, StrObj* const* kwnames);

// Calls the native method `def` (found by find_method) with the receiver at recv[0] and the
// arguments at recv[1..npos]: the same release rules as call_native.
Value call_native_method(VM& vm, const BuiltinDef* def, Value* recv, uint32_t npos);

// A CALL's tuple of keyword names as the StrObj* array CallArgs wants: on the C stack for the
// usual few (a keyword call in a loop allocates nothing), on the heap past that.
class KeywordNames {
 public:
  explicit KeywordNames(const TupleObj* names);
  KeywordNames(const KeywordNames&) = delete;
  KeywordNames& operator=(const KeywordNames&) = delete;
  StrObj* const* data() const { return names_; }
  uint32_t size() const { return n_; }

 private:
  StrObj* small_[16];
  std::vector<StrObj*> large_;
  StrObj** names_ = small_;
  uint32_t n_;
};

// f(*args) / f(*args, **kw): a list of positionals and a dict of keywords (or None) as the
// arguments of a call (new references).
struct SpreadArgs {
  std::vector<Value> values;  // positionals, then keyword values
  std::vector<StrObj*> kwnames;
  uint32_t npos = 0;
  SpreadArgs(Value list, Value kwdict);
  SpreadArgs(const SpreadArgs&) = delete;
  SpreadArgs& operator=(const SpreadArgs&) = delete;
  ~SpreadArgs();  // releases what was not handed on
  // Moves the values to `out` (values.size() slots that own nothing).
  void move_to(Value* out);
};

// Does v match annotation a? Named dimensions are bound in `bound` (-1: not yet bound).
bool annotation_matches(const Annotation& a, Value v, int64_t* bound);
// What a value is in annotation terms: "Tensor[1, 256]" for a tensor, else its type's name.
std::string annotation_describe(Value v);

// CHECK_ARGS: the parameters at `params` against c's annotations. Named dimensions are bound on
// dim_bindings (calls nest, so it is a stack); a code whose return annotation names them keeps
// its bindings there for check_return. Throws "f: argument x: expected Tensor[B, 512], got
// Tensor[1, 256]" (the bindings of this call dropped).
void check_args(const CodeObj* c, const Value* params, std::vector<int64_t>& dim_bindings);
// CHECK_RETURN: result against c's return annotation, using (and dropping) the kept bindings.
void check_return(const CodeObj* c, Value result, std::vector<int64_t>& dim_bindings);

// A frame of a traceback: its code and the index of the instruction it was running (a word
// index for stack code, an instruction index for register code; clamped to the line table).
struct TraceFrame {
  const CodeObj* code;
  size_t index;
};
// "FILE:LINE:COL: runtime error: MSG\ntraceback (most recent call first):\n  in NAME at
// FILE:LINE\n..." for frames listed outermost first; "runtime error: MSG\n" with no frame.
std::string format_runtime_error(const std::string& message, std::span<const TraceFrame> frames);
// Inside a catch block: the message and exit code of the exception being handled when it is a
// RuntimeError or running out of memory. False for anything else (a ProgramError of a nested
// run, already complete), which the caller rethrows.
bool describe_current_exception(std::string& message, int& exit_code);
// Inside a catch block: rethrows the exception being handled as a ProgramError located by the
// frames (asked for only then), or as it is when it is already one.
[[noreturn]] void rethrow_located(const std::function<std::vector<TraceFrame>()>& frames);
// A VM's frames [first, last] as a traceback: each Frame has `func` and `ip`, which points past
// the instruction running in `words` (CodeObj::code or CodeObj::rcode).
template <typename Frame, typename Word>
std::vector<TraceFrame> trace_frames(const Frame* first, const Frame* last, std::vector<Word> CodeObj::*words) {
  std::vector<TraceFrame> out;
  for (const Frame* f = first; f <= last; ++f) {
    const CodeObj* c = f->func->code;
    const Word* start = (c->*words).data();
    out.push_back({c, f->ip > start ? size_t(f->ip - start) - 1 : 0});
  }
  return out;
}

// Reading a variable that has no value yet: "local variable 'x' referenced before assignment"
// (kind "local" or "free").
[[noreturn]] void unassigned(const char* kind, const StrObj* name);

// An instruction's operand of the wrong type: "invalid code: OP expects EXPECTED, not 'TYPE'",
// exit code 3. The compilers never emit one; a package's code is verified one instruction at a
// time (packager/verify.cpp), so what a register holds at run time is checked where an
// instruction relies on it.
[[noreturn]] void invalid_operand(const char* op, const char* expected, Value got);

// The comparison operators as the dispatch loops name their instructions: X(NAME, C++ operator,
// CompareOp), e.g. X(LT, <, Lt).
#define TVM_COMPARISONS(X) X(LT, <, Lt) X(LE, <=, Le) X(GT, >, Gt) X(GE, >=, Ge) X(EQ, ==, Eq) X(NE, !=, Ne)

// ---------------------------------------------------------------- parts of instructions
// The dispatch loops leave each instruction with a computed goto, which skips the destructors
// of the instruction's locals: anything that owns memory (a vector, a string) lives here.

// `list += seq` and a list display's *spread: extends the list in place (a frozen list is the
// error "cannot modify frozen value ...").
void list_extend(Value list, Value seq);
// The concatenation of n strs (an f-string's parts).
Value concat_strings(const Value* parts, uint32_t n);
// An f-string field: conversion 0 none, 1 !s, 2 !r; spec Undefined when absent.
Value format_field(Value v, Value spec, uint32_t conversion);
// `module.name = value` (the only attribute assignment TL has).
void store_attr(Value obj, StrObj* name, Value value);
// `from m import name`: the module's global (a new reference), else "cannot import name ...".
Value import_from(Value module, StrObj* name);

}  // namespace tvm
