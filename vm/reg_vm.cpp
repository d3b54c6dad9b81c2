// The register VM's dispatch loop and call path (Lua's lvm.c shape), and its disassembler.
//
// Registers own their values: writing one releases what it held. A frame's registers are
// R[0..nregs) at `base`; on entry those past the arguments that may be read before they are
// written (below CodeObj::clear_end) are set to Undefined, on return all of them are released. A callee's registers may overlap the dead temporaries of the frames
// below (its frame starts inside its caller's); those are released on entry, and everything
// above the live frames' registers (Frame::live_end) is known to own nothing, so a call
// releases only the overlap. No register ever holds a reference it does not own, which is what
// lets reset() release everything after an error.
//
// Hot state lives in locals (ip, base, k, module) and is written back to the frame (SYNC)
// before anything that may look at the frames: calls, natives, errors. Int and float fast
// paths are inline; every other case falls back to ops.h, so results and messages are the
// stack VM's. A RuntimeError unwinds straight out (TL has no exception handling): the
// innermost execute() turns it into a ProgramError with the location and the traceback, read
// from the frames, which are left in place for that.
#include "reg_vm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "builtins.h"
#include "call_support.h"
#include "error.h"
#include "ops.h"

namespace tvm {

namespace {

constexpr size_t kRegisters = size_t(1) << 20;  // 8 MiB, committed lazily by the OS

// consts - kRKConst, so that indexing it with i + kRKConst is consts[i].
inline const Value* biased(const Value* consts) {
  return reinterpret_cast<const Value*>(reinterpret_cast<uintptr_t>(consts) - uintptr_t(kRKConst) * sizeof(Value));
}

// Releases the registers [from, to) and leaves them Undefined.
inline void release(Value* from, Value* to) {
  for (Value* p = from; p < to; ++p) decref(std::exchange(*p, Value::undefined()));
}

template <typename T>
T* operand(Value v, ObjType type, const char* op, const char* expected) {
  if (!is_type(v, type)) [[unlikely]] invalid_operand(op, expected, v);
  return as_obj<T>(v);
}

// ---------------------------------------------------------------- out-of-line parts of instructions
//
// The dispatch loop leaves each instruction with a computed goto, which skips the destructors
// of the instruction's locals: anything that owns memory (a vector, a string) lives here.

// A list or tuple of the n values at items (each gets a new reference: the registers keep theirs).
Value copy_sequence(const Value* items, uint32_t n, bool list) {
  std::vector<Value> v(items, items + n);
  for (Value x : v) incref(x);
  return list ? make_list(std::move(v)) : make_tuple(std::move(v));
}

Value list_to_tuple(Value list) {
  const auto& items = operand<ListObj>(list, ObjType::List, "LISTTOTUPLE", "a list")->items;
  return copy_sequence(items.data(), uint32_t(items.size()), false);
}

Value make_dict_of(const Value* kv, uint32_t npairs) {
  Ref d = Ref::steal(make_dict());
  for (uint32_t i = 0; i < npairs; ++i) as_obj<DictObj>(d.get())->set(kv[2 * i], kv[2 * i + 1]);
  return d.release();
}

Value make_slice(const Value* parts, uint32_t n) {
  auto* s = new SliceObj();
  incref(s->lower = parts[0]);
  incref(s->upper = parts[1]);
  incref(s->step = n == 3 ? parts[2] : Value::none());
  return Value::object(s);
}

// CLOSURE: the function of `code` in `module`, with the defaults and cells of two tuples (or
// None): at most one default per parameter, exactly one cell per free variable.
Value make_closure(CodeObj* code, ModuleObj* module, Value defaults, Value cells) {
  const std::vector<Value> none;
  const auto& ds = defaults.is_none() ? none : operand<TupleObj>(defaults, ObjType::Tuple, "CLOSURE", "a tuple of defaults")->items;
  const auto& cs = cells.is_none() ? none : operand<TupleObj>(cells, ObjType::Tuple, "CLOSURE", "a tuple of cells")->items;
  if (ds.size() > size_t(code->nparams))
    throw RuntimeError("invalid code: CLOSURE gives " + std::to_string(ds.size()) + " defaults for " +
                           std::to_string(code->nparams) + " parameters",
                       kExitFile);
  if (cs.size() != size_t(code->nfree))
    throw RuntimeError("invalid code: CLOSURE gives " + std::to_string(cs.size()) + " cells for " +
                           std::to_string(code->nfree) + " free variables",
                       kExitFile);
  for (Value c : cs) operand<CellObj>(c, ObjType::Cell, "CLOSURE", "cells");
  incref(code);
  incref(module);
  auto* fn = new FunctionObj(code, module);
  for (Value d : ds) {
    incref(d);
    fn->defaults.push_back(d);
  }
  for (Value c : cs) {
    incref(c);
    fn->cells.push_back(as_obj<CellObj>(c));
  }
  return Value::object(fn);
}

// UNPACK: R[a..a+n) := the n items of R[b] (which may be one of them).
void unpack_into(Value* regs, uint32_t a, Value seq, uint32_t n) {
  std::vector<Value> items(n);
  unpack(seq, n, items.data());
  for (uint32_t i = 0; i < n; ++i) decref(std::exchange(regs[a + i], items[i]));
}

[[noreturn]] void assertion_failed(bool has_message, Value message) {
  if (!has_message) throw RuntimeError("assertion failed");
  throw RuntimeError("assertion failed: " + to_str(message));
}

[[noreturn]] void not_defined(const ModuleObj* m, uint32_t slot) {
  throw RuntimeError("name '" + m->slot_names[slot]->data + "' is not defined");
}

[[noreturn]] void not_callable(Value callee) {
  throw RuntimeError(std::string("'") + type_name(callee) + "' object is not callable");
}

[[noreturn]] void bad_instruction(RInstr i) {
  throw RuntimeError("invalid instruction " + std::to_string(unsigned(i & 0xFF)), kExitFile);
}

}  // namespace

// ---------------------------------------------------------------- set-up

RegisterVM::RegisterVM(const Program& program) : program_(program) {
  // calloc: the pages are zeroed lazily, so a short run never touches most of the registers.
  regs_ = static_cast<Value*>(std::calloc(kRegisters, sizeof(Value)));
  // One spare frame in front, so "no frame yet" (top_ == frames_ - 1) points into the array.
  Frame* frames = static_cast<Frame*>(std::calloc(kMaxFrames + 2, sizeof(Frame)));
  frames_ = frames ? frames + 1 : nullptr;
  if (!regs_ || !frames_) {
    std::free(regs_);
    std::free(frames);
    throw std::bad_alloc();
  }
  regs_limit_ = regs_ + kRegisters;
  regs_used_ = regs_;
  frames_end_ = frames_ + kMaxFrames;
  top_ = frames_ - 1;
  top_->live_end = regs_;
}

RegisterVM::~RegisterVM() {
  reset();
  for (auto& [name, m] : modules_) decref(m);
  modules_.clear();
  collect_cycles();  // modules and their functions refer to each other
  std::free(regs_);
  std::free(frames_ - 1);
}

void RegisterVM::reset() {
  // What an error left: the registers of the frames still in place, of a callee whose frame
  // CHECKARGS dropped (the record above the top), and the blocks natives placed.
  Value* used = std::max(regs_used_, top_->live_end);
  if (top_ + 1 < frames_end_) used = std::max(used, top_[1].live_end);
  release(regs_, used);
  regs_used_ = regs_;
  top_ = frames_ - 1;
  top_->live_end = regs_;
  native_depth_ = 0;
  dim_bindings_.clear();
}

// Called from a catch block once the frames are saved: adds location and traceback. The
// innermost frame's ip was saved by execute(); each outer frame's points past its call.
[[noreturn]] void RegisterVM::fail_with_current_exception() {
  rethrow_located([this] { return trace_frames(frames_, top_, &CodeObj::rcode); });
}

// A run that no other run of this VM encloses: an error leaves it as a ProgramError, and the
// VM is reset so that it can run again (a function package is called many times).
template <typename F>
Value RegisterVM::run_outermost(F&& run) {
  try {
    return run();
  } catch (...) {
    reset();
    rethrow_located([] { return std::vector<TraceFrame>(); });  // an error before any frame
  }
}

// ---------------------------------------------------------------- calls

void RegisterVM::push_frame(FunctionObj* fn, Value* base, uint32_t nargs) {
  const CodeObj* c = fn->code;
  Value* end = base + c->nregs;
  if (top_ + 1 >= frames_end_ || end > regs_limit_) throw RuntimeError("maximum recursion depth exceeded");
  release(base + nargs, end);
  Value* live_end = std::max(top_->live_end, end);
  Frame& f = *++top_;
  f.ip = f.code = c->rcode.data();
  f.base = base;
  f.end = end;
  f.live_end = live_end;
  f.func = fn;
}

bool RegisterVM::call_value(Value* block, uint32_t npos, uint32_t nkw, StrObj* const* kwnames) {
  Value callee = block[0];
  Value* args = block + 1;
  if (!callee.is_obj()) not_callable(callee);
  switch (callee.as_obj()->type) {
    case ObjType::Function: {
      auto* fn = as_obj<FunctionObj>(callee);
      const CodeObj* c = fn->code;
      if (!c->is_register) throw RuntimeError("'" + c->name + "' has no register code");
      uint32_t n = npos + nkw;
      if (nkw != 0 || npos != uint32_t(c->nparams) || c->has_varargs) {
        uint32_t nbound = uint32_t(c->nparams + (c->has_varargs ? 1 : 0));
        Value* end = args + std::max<uint32_t>(std::max<uint32_t>(n, nbound), uint32_t(c->nregs));
        if (end > regs_limit_) throw RuntimeError("maximum recursion depth exceeded");
        if (end > regs_used_) regs_used_ = end;
        release(args + n, end);  // a caller's dead temporaries, where the parameters go
        bind_args(fn, args, npos, nkw, kwnames);
        // What moved into the *args tuple or to a keyword's slot left copies that own nothing.
        for (uint32_t i = nbound; i < n; ++i) args[i] = Value::undefined();
        n = nbound;
      }
      push_frame(fn, args, n);
      return true;
    }
    case ObjType::Builtin:
    case ObjType::BoundMethod:
      block[0] = call_native(*this, block, npos, nkw, kwnames);
      return false;
    default: not_callable(callee);
  }
}

bool RegisterVM::call_keywords(Value* block, uint32_t n, const TupleObj* names) {
  KeywordNames kw(names);
  return call_value(block, n - kw.size(), kw.size(), kw.data());
}

// f(*args) / f(*args, **kw): the list in block[1] (and the dict in block[2]) are spread into
// the block and called like any other call.
bool RegisterVM::call_spread(Value* block, bool has_kw) {
  SpreadArgs spread(block[1], has_kw ? block[2] : Value::none());
  release(block + 1, block + (has_kw ? 3 : 2));
  uint32_t n = uint32_t(spread.values.size());
  Value* end = block + 1 + n;
  if (end > regs_limit_) throw RuntimeError("maximum recursion depth exceeded");
  if (end > regs_used_) regs_used_ = end;
  release(block + 1, end);
  spread.move_to(block + 1);
  return call_value(block, spread.npos, n - spread.npos, spread.kwnames.data());
}

// R[A].name(args): a method of the receiver's type runs with the receiver as its first
// argument; anything else an attribute yields (a module's function) replaces the receiver.
bool RegisterVM::call_method(Value* recv, uint32_t n, StrObj* name) {
  if (const BuiltinDef* def = find_method(*recv, name->data)) {
    recv[0] = call_native_method(*this, def, recv, n);
    return false;
  }
  Value f = get_attr(*recv, name);
  decref(std::exchange(*recv, f));
  return call_value(recv, n, 0, nullptr);
}

Value RegisterVM::call_here(Value callee, const Value* args, uint32_t npos, const Value* kwvals, uint32_t nkw,
                            StrObj* const* kwnames) {
  if (native_depth_ >= kMaxNativeDepth) throw RuntimeError("maximum recursion depth exceeded");
  Value* block = top_->live_end;  // owns nothing from here up
  uint32_t n = npos + nkw;
  Value* end = block + n + 1;
  if (end > regs_limit_) throw RuntimeError("maximum recursion depth exceeded");
  if (end > regs_used_) regs_used_ = end;
  incref(block[0] = callee);
  for (uint32_t i = 0; i < npos; ++i) incref(block[1 + i] = args[i]);
  for (uint32_t i = 0; i < nkw; ++i) incref(block[1 + npos + i] = kwvals[i]);
  if (!call_value(block, npos, nkw, kwnames)) return std::exchange(block[0], Value::undefined());
  ++native_depth_;
  Value r = execute();
  --native_depth_;
  return r;
}

Value RegisterVM::call(Value callee, const CallArgs& args) {
  auto run = [&] { return call_here(callee, args.pos, args.npos, args.kwvals, args.nkw, args.kwnames); };
  if (top_ >= frames_) return run();  // from native code inside a run
  try {
    return run();
  } catch (...) {
    reset();
    throw;
  }
}

Value RegisterVM::call_entry(const Value* inputs, size_t n) {
  return run_outermost([&] { return call_here(program_.entry, inputs, uint32_t(n), nullptr, 0, nullptr); });
}

// A module's globals: the slot layout its code was compiled against, with every slot unset.
// That is `layout`'s (a script package's main module) or, for an imported module, the global
// names its top-level code lists in slot order in slot_names (a module's top level has no
// parameters, so the field is free for this).
ModuleObj* RegisterVM::new_module(const std::string& name, const std::string& path, const ModuleObj* layout,
                                  const CodeObj* code) {
  auto* m = new ModuleObj(intern(name));
  m->path = path;
  for (StrObj* s : layout ? layout->slot_names : code->slot_names) m->slot(s->data);
  int slot = m->slot("__name__");
  m->slots[slot] = make_str(name);
  return m;
}

void RegisterVM::run_script() {
  auto* entry = as_obj<FunctionObj>(program_.entry);
  run_outermost([&] {
    for (auto& [name, m] : modules_) decref(m);  // each run imports afresh
    modules_.clear();
    ModuleObj* m = new_module("__main__", program_.manifest.source_name, entry->module, entry->code);
    modules_["__main__"] = m;
    incref(entry->code);
    incref(m);
    Ref fn = Ref::steal(Value::object(new FunctionObj(entry->code, m)));
    decref(call_here(fn.get(), nullptr, 0, nullptr, 0, nullptr));
    return Value::none();
  });
}

Value RegisterVM::import(const std::string& name) {
  if (auto it = modules_.find(name); it != modules_.end()) {
    incref(it->second);
    return Value::object(it->second);
  }
  auto mc = std::find_if(program_.modules.begin(), program_.modules.end(), [&](auto& x) { return x.name == name; });
  if (mc == program_.modules.end()) throw RuntimeError("no module named '" + name + "'");
  ModuleObj* m = new_module(name, mc->path, nullptr, mc->code);
  // Registered before it runs: a circular import sees the partly initialised module.
  modules_[name] = m;
  incref(mc->code);
  incref(m);
  Ref fn = Ref::steal(Value::object(new FunctionObj(mc->code, m)));
  decref(call_here(fn.get(), nullptr, 0, nullptr, 0, nullptr));
  incref(m);
  return Value::object(m);
}

// ---------------------------------------------------------------- the loop

namespace {

// Inline-int arithmetic on the 48-bit payloads shifted to the top of an int64, where the
// hardware's overflow flag says whether the result leaves the inline range.
// Two floats, mostly: the or of two doubles' bits stays below the tags unless their signs and
// exponents together fill the top bits (-1.0 with 3.5 does), which then takes the mixed path.
inline bool both_doubles(Value a, Value b) { return (a.bits() | b.bits()) < Value::kIntTag; }
inline bool both_small_ints(Value a, Value b) {
  return ((a.bits() ^ Value::kIntTag) | (b.bits() ^ Value::kIntTag)) <= Value::kPayloadMask;
}
inline int64_t high(Value v) { return int64_t(v.bits() << 16); }
// Float operands are read again straight into floating-point registers, and the result
// stored from there: through the integer registers the value would cross between register
// files twice on the chain of dependent operations a float loop is made of. The empty asm
// hides that the address was just read, so the compiler does not reuse that read.
inline double load_double(const Value* p) {
  asm("" : "+r"(p));
  double d;
  std::memcpy(&d, p, sizeof d);
  return d;
}
// R := d, releasing what R held.
inline void set_double(Value* r, double d) {
  Value old = *r;
  std::memcpy(static_cast<void*>(r), &d, sizeof d);
  decref(old);
}

// An inline int or a float, and its value as a double (exact: inline ints are below 2^47).
inline bool is_inline_number(Value v) { return v.is_double() || v.is_small_int(); }
inline double to_double(Value v) { return v.is_double() ? v.as_double() : double(v.as_small_int()); }
inline Value from_high(int64_t h) { return Value::from_bits(Value::kIntTag | (uint64_t(h) >> 16)); }

}  // namespace

// The loop keeps one indirect jump per instruction, each predicted on its own: GCC's
// cross-jumping would merge the handlers' common tails into a single shared jump.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-crossjumping")
#endif
Value RegisterVM::execute() {
  // Every byte has a target: an opcode past the table is an error, not a wild jump (the
  // verifier rejects such code; this keeps unverified code from crashing).
#define TVM_LABEL(name, a, b, c, doc) &&op_##name,
#define TVM_BAD16 &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, \
                  &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad, &&op_bad,
  static const void* const kDispatch[] = {
      TVM_REG_OPCODES(TVM_LABEL)
      TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16
      TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16 TVM_BAD16
  };
#undef TVM_BAD16
#undef TVM_LABEL

  Frame* frame = top_;
  Frame* const entry = frame;  // its RETURN returns from here
  Frame* const frames_end = frames_end_;
  Value* const regs_limit = regs_limit_;
  const RInstr* ip = frame->ip;
  const RInstr* code = frame->code;  // the jump targets' origin
  Value* base = frame->base;
  // The constants, biased so that an RK operand with kRKConst set indexes them directly: RK
  // is then one conditional move between two bases.
  const Value* k = biased(frame->func->code->consts.data());
  ModuleObj* module = frame->func->module;  // the globals
  RInstr i = 0;

#define A ra(i)
#define B rb(i)
#define C rc(i)
#define RK(x) ((rk_is_const(x) ? k : base)[x])
#define K(x) (k[(x) + kRKConst])
#define NEXT() goto* kDispatch[(i = *ip++) & 0xFF]
#define SYNC() (frame->ip = ip, top_ = frame)
#define RELOAD()                                  \
  do {                                            \
    frame = top_;                                 \
    ip = frame->ip;                               \
    code = frame->code;                           \
    base = frame->base;                           \
    k = biased(frame->func->code->consts.data()); \
    module = frame->func->module;                 \
  } while (0)
  // R[A] := r (a new reference), releasing what R[A] held.
#define SET_A(r)                                    \
  do {                                              \
    Value r_ = (r);                                 \
    decref(std::exchange(base[A], r_));             \
  } while (0)
  // The instruction after a compare-and-skip or FORITER is a JMP (the verifier sees to it):
  // taken here, without dispatching it.
#define TAKE_JUMP() (ip = code + rb(*ip))
  // R[x] as a T*, or the invalid-code error when it holds something else (invalid_operand).
#define OPERAND(T, x, TYPE, EXPECTED)                                      \
  ({                                                                      \
    Value v_ = (x);                                                       \
    if (!is_type(v_, ObjType::TYPE)) [[unlikely]] {                       \
      SYNC();                                                             \
      invalid_operand(kROpInfo[i & 0xFF].name, EXPECTED, v_);                 \
    }                                                                     \
    as_obj<T>(v_);                                                        \
  })
#define SLOW_BINARY(op)                                   \
  do {                                                    \
    SYNC();                                               \
    SET_A(binary_op(BinaryOp::op, RK(B), RK(C)));         \
  } while (0)

  try {
    NEXT();

  op_bad:
    SYNC();
    bad_instruction(i);
  op_NOP:
    NEXT();
  op_MOVE: {
    Value v = base[B];
    incref(v);
    SET_A(v);
    NEXT();
  }
  op_LOADK: {
    Value v = K(B);
    incref(v);
    SET_A(v);
    NEXT();
  }
  op_CHECKDEF:
    if (base[A].is_undefined()) [[unlikely]] {
      SYNC();
      unassigned("local", as_obj<StrObj>(K(B)));
    }
    NEXT();
  op_GETGLOBAL: {
    Value v = module->slots[B];
    if (v.is_undefined()) [[unlikely]] {
      int b = module->slot_builtin[B];
      if (b < 0) {
        SYNC();
        not_defined(module, B);
      }
      v = builtin_value(b);
    }
    incref(v);
    SET_A(v);
    NEXT();
  }
  op_SETGLOBAL: {
    if (module->flags & Obj::kFrozen) [[unlikely]] {  // a package's frozen module
      SYNC();
      frozen_error(module);
    }
    Value v = base[A];
    incref(v);
    decref(std::exchange(module->slots[B], v));
    NEXT();
  }
  op_GETFREE: {
    CellObj* cell = frame->func->cells[B];
    Value v = cell->value;
    if (v.is_undefined()) [[unlikely]] {
      SYNC();
      unassigned("free", frame->func->code->free_names[B]);
    }
    incref(v);
    SET_A(v);
    NEXT();
  }
  op_SETFREE: {
    CellObj* cell = frame->func->cells[B];
    SYNC();
    check_not_frozen(cell);
    Value v = base[A];
    incref(v);
    decref(std::exchange(cell->value, v));
    NEXT();
  }
  op_GETFREECELL: {
    CellObj* cell = frame->func->cells[B];
    incref(cell);
    SET_A(Value::object(cell));
    NEXT();
  }
  op_MAKECELL: {
    auto* cell = new CellObj();
    cell->value = base[A];  // takes over the register's reference (Undefined when unassigned)
    base[A] = Value::object(cell);
    NEXT();
  }
  op_GETCELL: {
    Value v = OPERAND(CellObj, base[B], Cell, "a cell")->value;
    if (v.is_undefined()) [[unlikely]] {
      SYNC();
      unassigned("local", as_obj<StrObj>(K(C)));
    }
    incref(v);
    SET_A(v);
    NEXT();
  }
  op_SETCELL: {
    auto* cell = OPERAND(CellObj, base[A], Cell, "a cell");
    SYNC();
    check_not_frozen(cell);
    Value v = base[B];
    incref(v);
    decref(std::exchange(cell->value, v));
    NEXT();
  }

  // Floats, inline ints (the overflow flag catching results past the inline range, which the
  // slow path boxes or reports), then an inline int with a float, which converts exactly: as
  // ops.cpp computes them, without the call.
#define ARITH(NAME, OP, INT_OVERFLOWS, BINARY)                                 \
  op_##NAME: {                                                               \
    const Value* pa = &RK(B);                                                \
    const Value* pb = &RK(C);                                                \
    Value a = *pa, b = *pb;                                                  \
    if (both_doubles(a, b)) {                                    \
      set_double(base + A, load_double(pa) OP load_double(pb));              \
      NEXT();                                                                \
    } else if (both_small_ints(a, b)) {                                      \
      int64_t r;                                                             \
      if (!INT_OVERFLOWS) [[likely]] {                                       \
        SET_A(from_high(r));                                                 \
        NEXT();                                                              \
      }                                                                      \
    } else if (is_inline_number(a) && is_inline_number(b)) {                 \
      SET_A(Value::from_double(to_double(a) OP to_double(b)));               \
      NEXT();                                                                \
    }                                                                        \
    SLOW_BINARY(BINARY);                                                     \
    NEXT();                                                                  \
  }
  ARITH(ADD, +, __builtin_add_overflow(high(a), high(b), &r), Add)
  ARITH(SUB, -, __builtin_sub_overflow(high(a), high(b), &r), Sub)
  ARITH(MUL, *, __builtin_mul_overflow(high(a), b.as_small_int(), &r), Mul)
#undef ARITH
  op_DIV: {
    Value a = RK(B), b = RK(C);
    if (is_inline_number(a) && is_inline_number(b) && to_double(b) != 0.0) {
      SET_A(Value::from_double(to_double(a) / to_double(b)));
      NEXT();
    }
    SLOW_BINARY(Div);
    NEXT();
  }
  op_MOD: {
    Value a = RK(B), b = RK(C);
    if (both_small_ints(a, b) && b.as_small_int() > 0 && a.as_small_int() >= 0) {
      SET_A(Value::small_int(a.as_small_int() % b.as_small_int()));
      NEXT();
    }
    SLOW_BINARY(Mod);
    NEXT();
  }
  // No inline case: ops.cpp's binary_op does all the work.
#define SLOW_OP(NAME, BINARY) \
  op_##NAME:                  \
  SLOW_BINARY(BINARY);        \
  NEXT();
  SLOW_OP(FLOORDIV, FloorDiv)
  SLOW_OP(POW, Pow)
  SLOW_OP(MATMUL, MatMul)
  SLOW_OP(LSHIFT, LShift)
  SLOW_OP(RSHIFT, RShift)
  SLOW_OP(BITAND, And)
  SLOW_OP(BITOR, Or)
  SLOW_OP(BITXOR, Xor)
#undef SLOW_OP
  op_INPLACE_ADD: {
    Value a = RK(B);
    if (is_type(a, ObjType::List)) {
      // Python's list += extends the list itself: every alias sees the change.
      SYNC();
      list_extend(a, RK(C));
      incref(a);
      SET_A(a);
      NEXT();
    }
    goto op_ADD;
  }
  op_NEG: {
    Value a = base[B];
    if (a.is_double()) {
      SET_A(Value::from_double(-a.as_double()));
      NEXT();
    }
    SYNC();
    SET_A(unary_neg(a));
    NEXT();
  }
  op_POS:
    SYNC();
    SET_A(unary_pos(base[B]));
    NEXT();
  op_INVERT:
    SYNC();
    SET_A(unary_invert(base[B]));
    NEXT();
  op_NOT: {
    Value a = base[B];
    bool t;
    if (a.is_bool()) t = a.as_bool();
    else {
      SYNC();
      t = truthy(a);
    }
    SET_A(Value::boolean(!t));
    NEXT();
  }

  // Ints and floats compare inline (an int with a float as the exact number it is: an inline
  // int is below 2^47, so the conversion is exact); anything else through compare(), which
  // for tensors gives a tensor.
#define NUMBERS_COMPARE(t, a, b, OP)                                       \
  (both_doubles(a, b)                     ? (t = a.as_double() OP b.as_double(), true) \
   : both_small_ints(a, b)                ? (t = high(a) OP high(b), true)             \
   : is_inline_number(a) && is_inline_number(b) ? (t = to_double(a) OP to_double(b), true) \
                                          : false)
#define COMPARE_OP(NAME, OP, CMP)                                          \
  op_##NAME: {                                                             \
    Value a = RK(B), b = RK(C);                                            \
    bool t;                                                                \
    if (NUMBERS_COMPARE(t, a, b, OP)) {                                    \
      SET_A(Value::boolean(t));                                            \
      NEXT();                                                              \
    }                                                                      \
    SYNC();                                                                \
    SET_A(compare(CompareOp::CMP, a, b));                                  \
    NEXT();                                                                \
  }
  TVM_COMPARISONS(COMPARE_OP)
#undef COMPARE_OP
  // The instruction after a compare-and-skip is a JMP: taken here when the test passes.
#define COMPARE_SKIP(NAME, OP, CMP)                                        \
  op_IF##NAME: {                                                           \
    Value a = RK(B), b = RK(C);                                            \
    bool t;                                                                \
    if (!NUMBERS_COMPARE(t, a, b, OP)) {                                   \
      SYNC();                                                              \
      t = truthy_consume(compare(CompareOp::CMP, a, b));                   \
    }                                                                      \
    if (t != (A != 0)) ++ip;                                               \
    else TAKE_JUMP();                                                      \
    NEXT();                                                                \
  }
  TVM_COMPARISONS(COMPARE_SKIP)
#undef COMPARE_SKIP
#undef NUMBERS_COMPARE

  op_IN: {
    SYNC();
    bool r = contains(RK(C), RK(B));
    SET_A(Value::boolean(r));
    NEXT();
  }
  op_NOTIN: {
    SYNC();
    bool r = !contains(RK(C), RK(B));
    SET_A(Value::boolean(r));
    NEXT();
  }
  op_IS:
    SET_A(Value::boolean(RK(B).same(RK(C))));
    NEXT();
  op_ISNOT:
    SET_A(Value::boolean(!RK(B).same(RK(C))));
    NEXT();

  op_JMP:
    ip = code + B;
    NEXT();
  op_JMPIF:
  op_JMPIFNOT: {
    Value v = base[A];
    bool t;
    if (v.is_bool()) t = v.as_bool();
    else {
      SYNC();
      t = truthy(v);
    }
    if (t == (rop(i) == ROp::JMPIF)) ip = code + B;
    NEXT();
  }

  op_GETITER:
    SYNC();
    SET_A(make_iter(base[B]));
    NEXT();
  op_FORITER: {
    auto* it = OPERAND(IterObj, base[B], Iter, "an iterator");
    if (it->kind == IterObj::RangeIt) {
      if (it->step > 0 ? it->pos < it->stop : it->pos > it->stop) {
        SET_A(Value::integer(it->pos));
        it->pos += it->step;
        ++ip;
        NEXT();
      }
    } else if (it->kind == IterObj::ListIt) {
      auto& items = as_obj<ListObj>(it->seq)->items;
      if (size_t(it->pos) < items.size()) {
        Value v = items[it->pos++];
        incref(v);
        SET_A(v);
        ++ip;
        NEXT();
      }
    } else {
      SYNC();
      Value v = iter_next(it);
      if (!v.is_undefined()) {
        SET_A(v);
        ++ip;
        NEXT();
      }
    }
    TAKE_JUMP();
    NEXT();
  }

  op_NEWLIST:
  op_NEWTUPLE:
    maybe_collect_cycles();  // a safe point: every live value sits in a counted register
    SET_A(copy_sequence(base + B, C, rop(i) == ROp::NEWLIST));
    NEXT();
  op_NEWDICT:
    SYNC();
    SET_A(make_dict_of(base + B, C));
    NEXT();
  op_NEWSLICE:
    SET_A(make_slice(base + B, C));
    NEXT();
  op_CONCAT:
    SET_A(concat_strings(base + B, C));
    NEXT();
  op_FORMAT:
    SYNC();
    SET_A(format_field(base[B], (C & 4) ? base[B + 1] : Value::undefined(), C & 3));
    NEXT();
  op_LISTAPPEND: {
    auto* list = OPERAND(ListObj, base[A], List, "a list");
    if (list->flags & Obj::kFrozen) [[unlikely]] {
      SYNC();
      frozen_error(list);
    }
    Value v = base[B];
    list->items.push_back(v);
    incref(v);
    NEXT();
  }
  op_LISTEXTEND:
    SYNC();
    list_extend(Value::object(OPERAND(ListObj, base[A], List, "a list")), base[B]);
    NEXT();
  op_LISTTOTUPLE:
    SET_A(list_to_tuple(base[B]));
    NEXT();
  op_DICTSET: {
    SYNC();
    auto* dict = OPERAND(DictObj, base[A], Dict, "a dict");
    check_not_frozen(dict);
    dict->set(RK(B), RK(C));
    NEXT();
  }
  op_GETITEM: {
    Value o = base[B], x = RK(C);
    if (is_type(o, ObjType::List) && x.is_small_int()) {
      auto& items = as_obj<ListObj>(o)->items;
      int64_t n = x.as_small_int();
      if (n < 0) n += int64_t(items.size());
      if (n >= 0 && size_t(n) < items.size()) {
        Value v = items[n];
        incref(v);
        SET_A(v);
        NEXT();
      }
    }
    SYNC();
    SET_A(get_item(o, x));
    NEXT();
  }
  op_SETITEM:
    SYNC();
    set_item(base[A], RK(B), RK(C));
    NEXT();
  op_GETATTR:
    SYNC();
    SET_A(get_attr(base[B], as_obj<StrObj>(K(C))));
    NEXT();
  op_SETATTR:
    SYNC();
    store_attr(base[A], as_obj<StrObj>(K(B)), RK(C));
    NEXT();

  op_CALL: {
    Value* block = base + A;
    Value callee = block[0];
    // The fast path: a TL function called with exactly its positional parameters.
    if (callee.is_obj() && callee.as_obj()->type == ObjType::Function && C == 0) {
      auto* fn = as_obj<FunctionObj>(callee);
      const CodeObj* c = fn->code;
      if (uint32_t(c->nparams) == B && !c->has_varargs && c->is_register) [[likely]] {
        Value* args = block + 1;
        Value* end = args + c->nregs;
        if (frame + 1 >= frames_end || end > regs_limit) [[unlikely]] {
          SYNC();
          throw RuntimeError("maximum recursion depth exceeded");
        }
        // Only registers below live_end can hold anything (dead temporaries of the frames below),
        // and only those below clear_end may be read before they are written.
        Value* live_end = frame->live_end;
        Value* clear = c->clear_end >= 0 ? args + c->clear_end : end;
        for (Value *p = args + B, *stop = std::min(clear, live_end); p < stop; ++p)
          decref(std::exchange(*p, Value::undefined()));
        frame->ip = ip;
        ++frame;
        frame->ip = ip = frame->code = code = c->rcode.data();
        frame->base = base = args;
        frame->end = end;
        frame->live_end = std::max(end, live_end);
        frame->func = fn;
        k = biased(c->consts.data());
        module = fn->module;
        NEXT();
      }
    }
    SYNC();
    bool pushed = C == 0 ? call_value(block, B, 0, nullptr)
                         : call_keywords(block, B, as_obj<TupleObj>(K(C - 1)));
    if (pushed) RELOAD();
    NEXT();
  }
  op_CALLMETHOD:
    SYNC();
    if (call_method(base + A, B, as_obj<StrObj>(K(C)))) RELOAD();
    NEXT();
  op_CALLEX:
    SYNC();
    if (call_spread(base + A, B != 0)) RELOAD();
    NEXT();
  op_RETURN: {
    Value r;
    if (rk_is_const(B)) incref(r = K(rk_index(B)));
    else r = std::exchange(base[B], Value::undefined());  // moves out
    for (Value *p = base, *end = frame->end; p < end; ++p) decref(std::exchange(*p, Value::undefined()));
    Value callee = base[-1];
    if (frame == entry) {
      base[-1] = Value::undefined();
      decref(callee);
      top_ = frame - 1;
      return r;
    }
    base[-1] = r;
    decref(callee);
    --frame;
    ip = frame->ip;
    code = frame->code;
    base = frame->base;
    k = biased(frame->func->code->consts.data());
    module = frame->func->module;
    NEXT();
  }
  op_CLOSURE:
    maybe_collect_cycles();
    SET_A(make_closure(as_obj<CodeObj>(K(B)), frame->func->module, base[C], base[C + 1]));
    NEXT();
  op_IMPORT:
    SYNC();
    SET_A(import(as_obj<StrObj>(K(B))->data));
    NEXT();
  op_IMPORTFROM:
    SYNC();
    SET_A(import_from(base[B], as_obj<StrObj>(K(C))));
    NEXT();
  op_UNPACK:
    SYNC();
    unpack_into(base, A, base[B], C);
    NEXT();
  op_ASSERTFAIL:
    SYNC();
    assertion_failed(B != 0, base[A]);
  op_CHECKARGS:
    SYNC();
    try {
      check_args(frame->func->code, base, dim_bindings_);
    } catch (const RuntimeError&) {
      // A mismatch is the caller's error: the callee's frame is dropped so the error points
      // at the call.
      top_ = --frame;
      ip = frame->ip;
      throw;
    }
    NEXT();
  op_CHECKRETURN:
    SYNC();
    check_return(frame->func->code, base[A], dim_bindings_);
    NEXT();
  op_KCALL:
    SYNC();
    SET_A(run_kernel(*this, frame->func->code->kernels[C], base + B));
    NEXT();

  // An int constant in the instruction: an inline int or a float operand is done here, and
  // anything else goes to ops.cpp with the constant as the right-hand operand.
#define ARITH_IMM(NAME, OP, OVERFLOWS, BINARY)                                   \
  op_##NAME: {                                                                 \
    Value a = base[B];                                                         \
    int32_t imm = rimm(C);                                                     \
    if (a.is_small_int()) {                                                    \
      int64_t r;                                                               \
      if (!OVERFLOWS(high(a), int64_t(uint64_t(int64_t(imm)) << 16), &r)) [[likely]] { \
        SET_A(from_high(r));                                                   \
        NEXT();                                                                \
      }                                                                        \
    } else if (a.is_double()) {                                                \
      set_double(base + A, load_double(base + B) OP double(imm));              \
      NEXT();                                                                  \
    }                                                                          \
    SYNC();                                                                    \
    SET_A(binary_op(BinaryOp::BINARY, a, Value::small_int(imm)));              \
    NEXT();                                                                    \
  }
  ARITH_IMM(ADDI, +, __builtin_add_overflow, Add)
  ARITH_IMM(SUBI, -, __builtin_sub_overflow, Sub)
#undef ARITH_IMM
#define COMPARE_SKIP_IMM(NAME, OP, CMP)                                        \
  op_IF##NAME##I: {                                                            \
    Value a = base[B];                                                         \
    int32_t imm = rimm(C);                                                     \
    bool t;                                                                    \
    if (a.is_small_int()) t = a.as_small_int() OP imm;                         \
    else if (a.is_double()) t = a.as_double() OP double(imm);                  \
    else {                                                                     \
      SYNC();                                                                  \
      t = truthy_consume(compare(CompareOp::CMP, a, Value::small_int(imm)));   \
    }                                                                          \
    if (t != (A != 0)) ++ip;                                                   \
    else TAKE_JUMP();                                                          \
    NEXT();                                                                    \
  }
  TVM_COMPARISONS(COMPARE_SKIP_IMM)
#undef COMPARE_SKIP_IMM
  } catch (...) {
    frame->ip = ip;
    top_ = frame;
    fail_with_current_exception();
  }
#undef A
#undef B
#undef C
#undef RK
#undef K
#undef NEXT
#undef SYNC
#undef RELOAD
#undef SET_A
#undef TAKE_JUMP
#undef OPERAND
#undef SLOW_BINARY
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// ---------------------------------------------------------------- disassembler

namespace {

// A constant as the listing shows it: its repr, cut short.
std::string const_text(Value v) {
  if (is_type(v, ObjType::Code)) return "<code " + as_obj<CodeObj>(v)->name + ">";
  std::string r = repr(v);
  constexpr size_t kMax = 40;
  if (r.size() > kMax) r = r.substr(0, kMax - 3) + "...";
  return r;
}

struct Listing {
  const std::vector<StrObj*>* globals;  // the module's global names by slot, or null
  std::string out;

  void code(const CodeObj* c) {
    out += "function " + c->name + " <" + c->filename + "> (" + std::to_string(c->rcode.size()) + " instructions)\n";
    out += std::to_string(c->nparams) + " params, " + (c->has_varargs ? "*args, " : "") + std::to_string(c->nregs) +
           " registers, " + std::to_string(c->nfree) + " free, " + std::to_string(c->consts.size()) + " constants, " +
           std::to_string(c->kernels.size()) + " kernels\n";
    for (size_t n = 0; n < c->rcode.size(); ++n) instruction(c, n);
    for (Value v : c->consts)
      if (is_type(v, ObjType::Code)) {
        out += "\n";
        code(as_obj<CodeObj>(v));
      }
  }

  void instruction(const CodeObj* c, size_t n) {
    RInstr ins = c->rcode[n];
    char head[64];
    std::snprintf(head, sizeof head, "\t%zu\t[%d]\t", n, n < c->locs.size() ? c->locs[n].line : 0);
    out += head;
    if (int(rop(ins)) >= kNumROps) {
      out += "?? " + std::to_string(ins) + "\n";
      return;
    }
    const ROpInfo& info = kROpInfo[int(rop(ins))];
    std::string ops, comment;
    auto operand = [&](RegOperand kind, uint32_t x, bool is_c) {
      if (kind == RegOperand::None) return;
      if (!ops.empty()) ops += " ";
      auto note = [&](const std::string& s) { comment += (comment.empty() ? "" : " ") + s; };
      auto konst = [&](uint32_t idx) {
        ops += "K" + std::to_string(idx);
        note(idx < c->consts.size() ? const_text(c->consts[idx]) : "?");
      };
      switch (kind) {
        case RegOperand::None: break;
        case RegOperand::Reg:
        case RegOperand::RegOut: ops += "R" + std::to_string(x); break;
        case RegOperand::RK:
          if (rk_is_const(x)) konst(rk_index(x));
          else ops += "R" + std::to_string(x);
          break;
        case RegOperand::Const:
          // CALL's C counts from 1, 0 meaning no keywords (vm/reg_opcodes.h).
          if (is_c && rop(ins) == ROp::CALL) {
            if (x == 0) ops += "0";
            else konst(x - 1);
          } else {
            konst(x);
          }
          break;
        case RegOperand::Name: konst(x); break;
        case RegOperand::Global:
          ops += "G" + std::to_string(x);
          if (globals && x < globals->size()) note((*globals)[x]->data);
          break;
        case RegOperand::Free:
          ops += "C" + std::to_string(x);
          if (x < c->free_names.size()) note(c->free_names[x]->data);
          break;
        case RegOperand::Jump:
          ops += std::to_string(x);
          note("to " + std::to_string(x));
          break;
        case RegOperand::Count:
        case RegOperand::Flag: ops += std::to_string(x); break;
        case RegOperand::Kernel:
          ops += "KD" + std::to_string(x);
          note(x < c->kernels.size() ? describe_kernel(c->kernels[x]) : "?");
          break;
        case RegOperand::Imm: ops += std::to_string(rimm(x)); break;
      }
    };
    operand(info.a, ra(ins), false);
    operand(info.b, rb(ins), false);
    operand(info.c, rc(ins), true);
    char name[16];
    std::snprintf(name, sizeof name, "%-12s", info.name);
    out += name + ops;
    if (!comment.empty()) out += "\t; " + comment;
    out += "\n";
  }
};

}  // namespace

std::string disassemble_register(const CodeObj* code, const ModuleObj* module) {
  Listing l;
  l.globals = module ? &module->slot_names : code->nparams == 0 && !code->slot_names.empty() ? &code->slot_names : nullptr;
  l.code(code);
  return l.out;
}

}  // namespace tvm
