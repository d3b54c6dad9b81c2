// The stack VM's dispatch loop and call path.
//
// Hot state lives in locals (ip, sp, base, consts) and is written back to the VM only around
// operations that may re-enter it (calls, natives). Int and float fast paths are inline; every
// other case falls back to ops.h. TL has no exception handling, so a RuntimeError unwinds
// straight out: the innermost execute() turns it into a ProgramError carrying the location and
// the traceback, read from the frames, which are left in place for that.
#include "stack_vm.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "builtins.h"
#include "call_support.h"
#include "error.h"
#include "opcodes.h"
#include "ops.h"
#include "program.h"
#include "tensor_ops.h"

namespace tvm {

namespace {
constexpr size_t kStackValues = size_t(1) << 20;  // 8 MiB, committed lazily by the OS
}  // namespace

const char* function_name(const FunctionObj* f) { return f->code->name.c_str(); }

StackVM::StackVM() {
  // calloc: the pages are zeroed lazily, so a short script never touches most of the stack.
  stack_ = static_cast<Value*>(std::calloc(kStackValues, sizeof(Value)));
  // One spare frame in front, so "no frame yet" (top_ == frames_ - 1) points into the array.
  Frame* frames = static_cast<Frame*>(std::calloc(kMaxFrames + 2, sizeof(Frame)));
  frames_ = frames ? frames + 1 : nullptr;
  if (!stack_ || !frames_) throw std::bad_alloc();
  stack_limit_ = stack_ + kStackValues;
  frames_end_ = frames_ + kMaxFrames;
  top_ = frames_ - 1;  // no frame yet
  sp_ = stack_;
}

StackVM::~StackVM() {
  while (sp_ > stack_) decref(*--sp_);
  for (auto& [name, m] : modules) decref(m);
  modules.clear();
  collect_cycles();  // modules and their functions refer to each other
  std::free(stack_);
  std::free(frames_ - 1);
}

// Called from a catch block once the frames are saved: adds location and traceback. The
// innermost frame's ip was saved by execute(); each outer frame's points past its call.
[[noreturn]] void StackVM::fail_with_current_exception() {
  rethrow_located([this] { return trace_frames(frames_, top_, &CodeObj::code); });
}

// ---------------------------------------------------------------- calls

void StackVM::push_frame(FunctionObj* fn, Value* base, bool native_entry) {
  if (top_ + 1 >= frames_end_) throw RuntimeError("maximum recursion depth exceeded");
  const CodeObj* c = fn->code;
  if (base + c->frame_size > stack_limit_) throw RuntimeError("maximum recursion depth exceeded");
  Frame& f = *++top_;
  f.ip = c->code.data();
  f.base = base;
  f.func = fn;
  f.native_entry = native_entry;
}

bool StackVM::call_value(uint32_t npos, uint32_t nkw, StrObj* const* kwnames, bool native_entry) {
  uint32_t n = npos + nkw;
  Value* args = sp_ - n;
  Value callee = args[-1];
  if (!callee.is_obj()) throw RuntimeError(std::string("'") + type_name(callee) + "' object is not callable");
  switch (callee.as_obj()->type) {
    case ObjType::Function: {
      auto* fn = as_obj<FunctionObj>(callee);
      const CodeObj* c = fn->code;
      if (nkw != 0 || npos != uint32_t(c->nparams) || c->has_varargs) {
        if (args + c->nslots + 1 > stack_limit_) throw RuntimeError("maximum recursion depth exceeded");
        bind_args(fn, args, npos, nkw, kwnames);
        n = uint32_t(c->nparams + (c->has_varargs ? 1 : 0));
      }
      push_frame(fn, args, native_entry);
      for (int i = int(n); i < c->nslots; ++i) args[i] = Value::undefined();
      sp_ = args + c->nslots;
      return true;
    }
    case ObjType::Builtin:
    case ObjType::BoundMethod: {
      Value r = call_native(*this, args - 1, npos, nkw, kwnames);
      args[-1] = r;
      sp_ = args;
      return false;
    }
    default: throw RuntimeError(std::string("'") + type_name(callee) + "' object is not callable");
  }
}

Value StackVM::call(Value callee, const CallArgs& args) {
  if (native_depth_ >= kMaxNativeDepth) throw RuntimeError("maximum recursion depth exceeded");
  uint32_t n = args.npos + args.nkw;
  if (sp_ + n + 1 > stack_limit_) throw RuntimeError("maximum recursion depth exceeded");
  Value* at = sp_;
  incref(callee);
  *sp_++ = callee;
  for (uint32_t i = 0; i < args.npos; ++i) incref(*sp_++ = args.pos[i]);
  for (uint32_t i = 0; i < args.nkw; ++i) incref(*sp_++ = args.kwvals[i]);
  if (!call_value(args.npos, args.nkw, args.kwnames, true)) {
    sp_ = at;
    return *at;
  }
  ++native_depth_;
  Value r = execute();
  --native_depth_;
  sp_ = at;
  return r;
}

void StackVM::run_module(ModuleObj* module, CodeObj* code) {
  incref(code);
  incref(module);
  auto* fn = new FunctionObj(code, module);
  *sp_++ = Value::object(fn);
  call_value(0, 0, nullptr, true);
  Value r = execute();
  decref(r);
}

Value StackVM::import(const std::string& name) {
  if (auto it = modules.find(name); it != modules.end()) {
    incref(it->second);
    return Value::object(it->second);
  }
  if (!importer) throw RuntimeError("no module named '" + name + "'");
  const Frame& f = *top_;
  ModuleObj* m = importer(*this, name, f.func->module->path);
  return Value::object(m);
}

// ---------------------------------------------------------------- annotations

// A mismatch is the caller's error: the callee's frame is dropped so the error points at the call.
void StackVM::check_args(const Frame& f) {
  try {
    tvm::check_args(f.func->code, f.base, dim_bindings_);
  } catch (const RuntimeError&) {
    --top_;
    throw;
  }
}

void StackVM::check_return(const Frame& f, Value result) { tvm::check_return(f.func->code, result, dim_bindings_); }

// ---------------------------------------------------------------- out-of-line parts of instructions
//
// The dispatch loop leaves each instruction with a computed goto, which skips the destructors
// of the instruction's locals: anything that owns memory (a vector, a string) lives here.

namespace {

// A list or tuple adopting the n references at items.
Value take_sequence(const Value* items, uint32_t n, bool list) {
  std::vector<Value> v(items, items + n);
  return list ? make_list(std::move(v)) : make_tuple(std::move(v));
}

// `a, b = s`: the items go to out in reverse, so the first target's value is on top.
void unpack_reversed(Value s, uint32_t n, Value* out) {
  std::vector<Value> items(n);
  unpack(s, n, items.data());
  for (uint32_t i = 0; i < n; ++i) out[i] = items[n - 1 - i];
}

}  // namespace

bool StackVM::call_keywords(uint32_t n, const TupleObj* names) {
  KeywordNames kw(names);
  return call_value(n - kw.size(), kw.size(), kw.data(), false);
}

// f(*args) / f(*args, **kw): the callee, a list of positionals and optionally a dict of
// keywords are on the stack; they are spread out and called like any other call.
bool StackVM::call_spread(bool has_kw) {
  Value* at = sp_ - (has_kw ? 2 : 1);
  SpreadArgs spread(at[0], has_kw ? at[1] : Value::none());
  decref(at[0]);
  if (has_kw) decref(at[1]);
  sp_ = at;
  uint32_t n = uint32_t(spread.values.size());
  if (sp_ + n + 1 > stack_limit_) throw RuntimeError("maximum recursion depth exceeded");
  spread.move_to(sp_);
  sp_ += n;
  return call_value(spread.npos, n - spread.npos, spread.kwnames.data(), false);
}

// ---------------------------------------------------------------- the loop

Value StackVM::execute() {
  static const void* const kDispatch[] = {
#define TVM_LABEL(name, kind, effect, extra, doc) &&op_##name,
      TVM_STACK_OPCODES(TVM_LABEL)
#undef TVM_LABEL
  };

  Frame* frame = top_;
  const uint32_t* ip = frame->ip;
  Value* base = frame->base;
  Value* sp = sp_;
  const Value* consts = frame->func->code->consts.data();
  ModuleObj* module = frame->func->module;
  const uint32_t* code_start = frame->func->code->code.data();
  uint32_t w = 0;

#define A (w >> 8)
#define SA (int32_t(w) >> 8)
#define NEXT() goto* kDispatch[(w = *ip++) & 0xFF]
#define SYNC() (sp_ = sp, frame->ip = ip, top_ = frame)
#define RELOAD()                                  \
  do {                                            \
    frame = top_;                                 \
    ip = frame->ip;                               \
    base = frame->base;                           \
    sp = sp_;                                     \
    consts = frame->func->code->consts.data();    \
    module = frame->func->module;                 \
    code_start = frame->func->code->code.data();  \
  } while (0)
  // Replaces the top two values by r (a new reference).
#define BINARY_RESULT(r)        \
  do {                          \
    Value r_ = (r);             \
    decref(sp[-2]);             \
    decref(sp[-1]);             \
    sp[-2] = r_;                \
    --sp;                       \
  } while (0)
#define SLOW_BINARY(op)                                   \
  do {                                                    \
    SYNC();                                               \
    BINARY_RESULT(binary_op(BinaryOp::op, sp[-2], sp[-1])); \
  } while (0)

  try {
    NEXT();

  op_NOP:
    NEXT();
  op_LOAD_CONST:
    incref(*sp++ = consts[A]);
    NEXT();
  op_LOAD_INT:
    *sp++ = Value::small_int(SA);
    NEXT();
  op_LOAD_NONE:
    *sp++ = Value::none();
    NEXT();
  op_LOAD_TRUE:
    *sp++ = Value::boolean(true);
    NEXT();
  op_LOAD_FALSE:
    *sp++ = Value::boolean(false);
    NEXT();
  op_LOAD_LOCAL: {
    Value v = base[A];
    if (v.is_undefined()) [[unlikely]] {
      SYNC();
      unassigned("local", frame->func->code->slot_names[A]);
    }
    incref(*sp++ = v);
    NEXT();
  }
  op_LOAD_LOCAL2: {
    Value x = base[A >> 12], y = base[A & 0xFFF];
    if (x.is_undefined() || y.is_undefined()) [[unlikely]] {
      SYNC();
      int slot = x.is_undefined() ? int(A >> 12) : int(A & 0xFFF);
      unassigned("local", frame->func->code->slot_names[slot]);
    }
    incref(sp[0] = x);
    incref(sp[1] = y);
    sp += 2;
    NEXT();
  }
  op_STORE_LOCAL: {
    Value old = base[A];
    base[A] = *--sp;
    decref(old);
    NEXT();
  }
  op_LOAD_CELL: {
    Value v = as_obj<CellObj>(base[A])->value;
    if (v.is_undefined()) {
      SYNC();
      unassigned("local", frame->func->code->slot_names[A]);
    }
    incref(*sp++ = v);
    NEXT();
  }
  op_STORE_CELL: {
    auto* cell = as_obj<CellObj>(base[A]);
    check_not_frozen(cell);
    Value old = cell->value;
    cell->value = *--sp;
    decref(old);
    NEXT();
  }
  op_MAKE_CELL: {
    auto* cell = new CellObj();
    cell->value = base[A];  // takes over the slot's reference (Undefined for non-parameters)
    base[A] = Value::object(cell);
    NEXT();
  }
  op_LOAD_CLOSURE:
    incref(*sp++ = base[A]);
    NEXT();
  op_LOAD_FREE: {
    CellObj* cell = frame->func->cells[A];
    if (cell->value.is_undefined()) {
      SYNC();
      unassigned("free", frame->func->code->free_names[A]);
    }
    incref(*sp++ = cell->value);
    NEXT();
  }
  op_STORE_FREE: {
    CellObj* cell = frame->func->cells[A];
    check_not_frozen(cell);
    Value old = cell->value;
    cell->value = *--sp;
    decref(old);
    NEXT();
  }
  op_LOAD_FREECELL: {
    CellObj* cell = frame->func->cells[A];
    incref(cell);
    *sp++ = Value::object(cell);
    NEXT();
  }
  op_LOAD_GLOBAL: {
    ModuleObj* m = module;
    Value v = m->slots[A];
    if (v.is_undefined()) [[unlikely]] {
      int b = m->slot_builtin[A];
      if (b < 0) {
        SYNC();
        throw RuntimeError("name '" + m->slot_names[A]->data + "' is not defined");
      }
      v = builtin_value(b);
    }
    incref(*sp++ = v);
    NEXT();
  }
  op_STORE_GLOBAL: {
    ModuleObj* m = module;
    Value old = m->slots[A];
    m->slots[A] = *--sp;
    decref(old);
    NEXT();
  }
  op_POP:
    decref(*--sp);
    NEXT();
  op_DUP:
    incref(*sp = sp[-1]);
    ++sp;
    NEXT();
  op_DUP2:
    incref(sp[0] = sp[-2]);
    incref(sp[1] = sp[-1]);
    sp += 2;
    NEXT();
  op_ROT2: {
    Value t = sp[-1];
    sp[-1] = sp[-2];
    sp[-2] = t;
    NEXT();
  }
  op_ROT3: {
    Value c = sp[-1];
    sp[-1] = sp[-2];
    sp[-2] = sp[-3];
    sp[-3] = c;
    NEXT();
  }

  op_ADD: {
    Value a = sp[-2], b = sp[-1];
    if (a.is_small_int() && b.is_small_int()) {
      int64_t r = a.as_small_int() + b.as_small_int();
      if (Value::fits_small(r)) [[likely]] {
        sp[-2] = Value::small_int(r);
        --sp;
        NEXT();
      }
    } else if (a.is_double() && b.is_double()) {
      sp[-2] = Value::from_double(a.as_double() + b.as_double());
      --sp;
      NEXT();
    }
    SLOW_BINARY(Add);
    NEXT();
  }
  op_LOAD_LOCAL_ADD_INT: {
    Value v = base[A >> 12];
    int32_t k = int32_t(w << 12) >> 20;  // the low 12 bits of A, sign-extended
    if (v.is_small_int()) {
      int64_t r = v.as_small_int() + k;
      if (Value::fits_small(r)) [[likely]] {
        *sp++ = Value::small_int(r);
        NEXT();
      }
    }
    if (v.is_undefined()) {
      SYNC();
      unassigned("local", frame->func->code->slot_names[A >> 12]);
    }
    SYNC();
    // Keeps the operator the source wrote, for the error message of e.g. `s - 1` on a str.
    *sp++ = k < 0 ? binary_op(BinaryOp::Sub, v, Value::small_int(-int64_t(k))) : binary_op(BinaryOp::Add, v, Value::small_int(k));
    NEXT();
  }
  op_INPLACE_ADD:
    if (sp[-2].is_small_int()) goto op_ADD;
    if (is_type(sp[-2], ObjType::List)) {
      // Python's list += extends the list itself: every alias sees the change.
      SYNC();
      list_extend(sp[-2], sp[-1]);
      decref(*--sp);
      NEXT();
    }
    goto op_ADD;
  op_SUB: {
    Value a = sp[-2], b = sp[-1];
    if (a.is_small_int() && b.is_small_int()) {
      int64_t r = a.as_small_int() - b.as_small_int();
      if (Value::fits_small(r)) [[likely]] {
        sp[-2] = Value::small_int(r);
        --sp;
        NEXT();
      }
    } else if (a.is_double() && b.is_double()) {
      sp[-2] = Value::from_double(a.as_double() - b.as_double());
      --sp;
      NEXT();
    }
    SLOW_BINARY(Sub);
    NEXT();
  }
  op_MUL: {
    Value a = sp[-2], b = sp[-1];
    if (a.is_small_int() && b.is_small_int()) {
      int64_t r;
      if (!__builtin_mul_overflow(a.as_small_int(), b.as_small_int(), &r) && Value::fits_small(r)) {
        sp[-2] = Value::small_int(r);
        --sp;
        NEXT();
      }
    } else if (a.is_double() && b.is_double()) {
      sp[-2] = Value::from_double(a.as_double() * b.as_double());
      --sp;
      NEXT();
    }
    SLOW_BINARY(Mul);
    NEXT();
  }
  op_DIV: {
    Value a = sp[-2], b = sp[-1];
    if (a.is_double() && b.is_double() && b.as_double() != 0.0) {
      sp[-2] = Value::from_double(a.as_double() / b.as_double());
      --sp;
      NEXT();
    }
    SLOW_BINARY(Div);
    NEXT();
  }
  op_FLOORDIV:
    SLOW_BINARY(FloorDiv);
    NEXT();
  op_MOD: {
    Value a = sp[-2], b = sp[-1];
    if (a.is_small_int() && b.is_small_int() && b.as_small_int() > 0 && a.as_small_int() >= 0) {
      sp[-2] = Value::small_int(a.as_small_int() % b.as_small_int());
      --sp;
      NEXT();
    }
    SLOW_BINARY(Mod);
    NEXT();
  }
  op_POW:
    SLOW_BINARY(Pow);
    NEXT();
  op_MATMUL:
    SLOW_BINARY(MatMul);
    NEXT();
  op_LSHIFT:
    SLOW_BINARY(LShift);
    NEXT();
  op_RSHIFT:
    SLOW_BINARY(RShift);
    NEXT();
  op_BITAND:
    SLOW_BINARY(And);
    NEXT();
  op_BITOR:
    SLOW_BINARY(Or);
    NEXT();
  op_BITXOR:
    SLOW_BINARY(Xor);
    NEXT();
  op_ADD_INT: {
    Value a = sp[-1];
    if (a.is_small_int()) {
      int64_t r = a.as_small_int() + SA;
      if (Value::fits_small(r)) [[likely]] {
        sp[-1] = Value::small_int(r);
        NEXT();
      }
    }
    SYNC();
    Value r = binary_op(BinaryOp::Add, a, Value::small_int(SA));
    decref(a);
    sp[-1] = r;
    NEXT();
  }
  op_SUB_INT: {
    Value a = sp[-1];
    if (a.is_small_int()) {
      int64_t r = a.as_small_int() - SA;
      if (Value::fits_small(r)) [[likely]] {
        sp[-1] = Value::small_int(r);
        NEXT();
      }
    }
    SYNC();
    Value r = binary_op(BinaryOp::Sub, a, Value::small_int(SA));
    decref(a);
    sp[-1] = r;
    NEXT();
  }
  op_NEG: {
    Value a = sp[-1];
    SYNC();
    Value r = a.is_double() ? Value::from_double(-a.as_double()) : unary_neg(a);
    decref(a);
    sp[-1] = r;
    NEXT();
  }
  op_POS: {
    Value a = sp[-1];
    SYNC();
    Value r = unary_pos(a);
    decref(a);
    sp[-1] = r;
    NEXT();
  }
  op_INVERT: {
    Value a = sp[-1];
    SYNC();
    Value r = unary_invert(a);
    decref(a);
    sp[-1] = r;
    NEXT();
  }
  op_NOT: {
    Value a = sp[-1];
    SYNC();
    bool t = truthy(a);
    decref(a);
    sp[-1] = Value::boolean(!t);
    NEXT();
  }

#define COMPARE_OP(NAME, OP, CMP)                                                          \
  op_##NAME: {                                                                           \
    Value a = sp[-2], b = sp[-1];                                                        \
    if (a.is_small_int() && b.is_small_int()) {                                          \
      sp[-2] = Value::boolean(a.as_small_int() OP b.as_small_int());                     \
      --sp;                                                                              \
      NEXT();                                                                            \
    }                                                                                    \
    SYNC();                                                                              \
    BINARY_RESULT(compare(CompareOp::CMP, a, b));                                        \
    NEXT();                                                                              \
  }
  TVM_COMPARISONS(COMPARE_OP)
#undef COMPARE_OP

  op_IN: {
    SYNC();
    bool r = contains(sp[-1], sp[-2]);
    BINARY_RESULT(Value::boolean(r));
    NEXT();
  }
  op_NOT_IN: {
    SYNC();
    bool r = !contains(sp[-1], sp[-2]);
    BINARY_RESULT(Value::boolean(r));
    NEXT();
  }
  op_IS: {
    bool r = sp[-2].same(sp[-1]);
    BINARY_RESULT(Value::boolean(r));
    NEXT();
  }
  op_IS_NOT: {
    bool r = !sp[-2].same(sp[-1]);
    BINARY_RESULT(Value::boolean(r));
    NEXT();
  }

  op_JUMP:
    ip = code_start + A;
    NEXT();
  op_JUMP_IF_FALSE: {
    Value v = sp[-1];  // popped after truthy(), which may throw (an ambiguous tensor)
    bool t;
    if (v.is_bool()) t = v.as_bool();
    else {
      SYNC();
      t = truthy(v);
      decref(v);
    }
    --sp;
    if (!t) ip = code_start + A;
    NEXT();
  }
  op_JUMP_IF_TRUE: {
    Value v = sp[-1];  // popped after truthy(), which may throw (an ambiguous tensor)
    bool t;
    if (v.is_bool()) t = v.as_bool();
    else {
      SYNC();
      t = truthy(v);
      decref(v);
    }
    --sp;
    if (t) ip = code_start + A;
    NEXT();
  }

#define COMPARE_JUMP(NAME, OP, CMP)                                                        \
  op_JUMP_IF_NOT_##NAME: {                                                               \
    Value a = sp[-2], b = sp[-1];                                                        \
    bool t;                                                                              \
    if (a.is_small_int() && b.is_small_int()) {                                          \
      t = a.as_small_int() OP b.as_small_int();                                          \
    } else if (a.is_double() && b.is_double()) {                                         \
      t = a.as_double() OP b.as_double();                                                \
    } else {                                                                             \
      SYNC();                                                                            \
      t = truthy_consume(compare(CompareOp::CMP, a, b));                                 \
      decref(a);                                                                         \
      decref(b);                                                                         \
    }                                                                                    \
    sp -= 2;                                                                             \
    if (!t) ip = code_start + A;                                     \
    NEXT();                                                                              \
  }
  TVM_COMPARISONS(COMPARE_JUMP)
#undef COMPARE_JUMP

#define COMPARE_JUMP_K(NAME, OP, CMP)                                                      \
  op_JUMP_IF_NOT_##NAME##_K: {                                                           \
    Value a = sp[-1];                                                                    \
    int32_t k = int32_t(*ip++);                                                          \
    bool t;                                                                              \
    if (a.is_small_int()) {                                                              \
      t = a.as_small_int() OP k;                                                         \
    } else if (a.is_double()) {                                                          \
      t = a.as_double() OP double(k);                                                    \
    } else {                                                                             \
      SYNC();                                                                            \
      t = truthy_consume(compare(CompareOp::CMP, a, Value::small_int(k)));               \
      decref(a);                                                                         \
    }                                                                                    \
    --sp;                                                                                \
    if (!t) ip = code_start + A;                                                         \
    NEXT();                                                                              \
  }
  TVM_COMPARISONS(COMPARE_JUMP_K)
#undef COMPARE_JUMP_K

  op_GET_ITER: {
    SYNC();
    Value it = make_iter(sp[-1]);
    decref(sp[-1]);
    sp[-1] = it;
    NEXT();
  }
  op_FOR_ITER: {
    auto* it = as_obj<IterObj>(sp[-1]);
    if (it->kind == IterObj::RangeIt) {
      if (it->step > 0 ? it->pos < it->stop : it->pos > it->stop) {
        *sp++ = Value::integer(it->pos);
        it->pos += it->step;
        NEXT();
      }
    } else if (it->kind == IterObj::ListIt) {
      auto& items = as_obj<ListObj>(it->seq)->items;
      if (size_t(it->pos) < items.size()) {
        incref(*sp++ = items[it->pos++]);
        NEXT();
      }
    } else {
      SYNC();
      Value v = iter_next(it);
      if (!v.is_undefined()) {
        *sp++ = v;
        NEXT();
      }
    }
    decref(*--sp);
    ip = code_start + A;
    NEXT();
  }

  op_BUILD_LIST:
  op_BUILD_TUPLE: {
    maybe_collect_cycles();  // a safe point: every live value sits in a counted slot
    uint32_t n = A;
    sp -= n;
    *sp = take_sequence(sp, n, decode_op(w) == Op::BUILD_LIST);
    ++sp;
    NEXT();
  }
  op_BUILD_DICT: {
    uint32_t n = A;
    Value d = make_dict();
    Value* kv = sp - 2 * n;
    SYNC();
    try {
      for (uint32_t i = 0; i < n; ++i) as_obj<DictObj>(d)->set(kv[2 * i], kv[2 * i + 1]);
    } catch (...) {
      decref(d);
      throw;
    }
    for (Value* p = kv; p < sp; ++p) decref(*p);
    sp = kv;
    *sp++ = d;
    NEXT();
  }
  op_BUILD_SLICE: {
    uint32_t n = A;
    auto* s = new SliceObj();
    s->lower = sp[-int(n)];
    s->upper = sp[-int(n) + 1];
    s->step = n == 3 ? sp[-1] : Value::none();
    sp -= n;
    *sp++ = Value::object(s);
    NEXT();
  }
  op_BUILD_STRING: {
    uint32_t n = A;
    Value r = concat_strings(sp - n, n);
    for (Value* p = sp - n; p < sp; ++p) decref(*p);
    sp -= n;
    *sp++ = r;
    NEXT();
  }
  op_LIST_APPEND: {
    as_obj<ListObj>(sp[-2])->items.push_back(sp[-1]);
    --sp;
    NEXT();
  }
  op_LIST_EXTEND: {
    SYNC();
    list_extend(sp[-2], sp[-1]);
    decref(*--sp);
    NEXT();
  }
  op_LIST_TO_TUPLE: {
    auto* l = as_obj<ListObj>(sp[-1]);
    Value t = make_tuple(std::move(l->items));
    l->items.clear();
    decref(sp[-1]);
    sp[-1] = t;
    NEXT();
  }
  op_DICT_SET: {
    SYNC();
    as_obj<DictObj>(sp[-3])->set(sp[-2], sp[-1]);
    decref(sp[-1]);
    decref(sp[-2]);
    sp -= 2;
    NEXT();
  }
  op_SUBSCR: {
    Value o = sp[-2], i = sp[-1];
    if (is_type(o, ObjType::List) && i.is_small_int()) {
      auto& items = as_obj<ListObj>(o)->items;
      int64_t k = i.as_small_int();
      if (k < 0) k += int64_t(items.size());
      if (k >= 0 && size_t(k) < items.size()) {
        Value v = items[k];
        incref(v);
        decref(o);
        sp[-2] = v;
        --sp;
        NEXT();
      }
    }
    SYNC();
    BINARY_RESULT(get_item(o, i));
    NEXT();
  }
  op_STORE_SUBSCR: {
    SYNC();
    set_item(sp[-2], sp[-1], sp[-3]);
    decref(sp[-1]);
    decref(sp[-2]);
    decref(sp[-3]);
    sp -= 3;
    NEXT();
  }
  op_LOAD_ATTR: {
    SYNC();
    Value r = get_attr(sp[-1], as_obj<StrObj>(consts[A]));
    decref(sp[-1]);
    sp[-1] = r;
    NEXT();
  }
  op_STORE_ATTR: {
    SYNC();
    store_attr(sp[-1], as_obj<StrObj>(consts[A]), sp[-2]);
    decref(sp[-1]);
    decref(sp[-2]);
    sp -= 2;
    NEXT();
  }

  op_CALL: {
    uint32_t n = A;
    Value callee = sp[-int(n) - 1];
    // The fast path: a TL function called with exactly its positional parameters.
    if (callee.is_obj() && callee.as_obj()->type == ObjType::Function) {
      auto* fn = as_obj<FunctionObj>(callee);
      const CodeObj* c = fn->code;
      if (uint32_t(c->nparams) == n && !c->has_varargs) [[likely]] {
        Value* args = sp - n;
        if (frame + 1 >= frames_end_ || args + c->frame_size > stack_limit_) [[unlikely]] {
          SYNC();
          throw RuntimeError("maximum recursion depth exceeded");
        }
        frame->ip = ip;
        ++frame;
        frame->ip = ip = code_start = c->code.data();
        frame->base = base = args;
        frame->func = fn;
        frame->native_entry = false;
        consts = c->consts.data();
        module = fn->module;
        sp = args + n;
        for (Value* end = args + c->nslots; sp < end;) *sp++ = Value::undefined();
        NEXT();
      }
    }
    SYNC();
    if (call_value(n, 0, nullptr, false)) RELOAD();
    else sp = sp_;
    NEXT();
  }
  op_CALL_KW: {
    uint32_t n = A;
    auto* names = as_obj<TupleObj>(consts[*ip++]);
    SYNC();
    if (call_keywords(n, names)) RELOAD();
    else sp = sp_;
    NEXT();
  }
  op_CALL_METHOD: {
    uint32_t n = A;
    StrObj* name = as_obj<StrObj>(consts[*ip++]);
    Value* recv = sp - n - 1;
    SYNC();
    if (const BuiltinDef* def = find_method(*recv, name->data)) {
      Value r = call_native_method(*this, def, recv, n);
      sp = recv;
      *sp++ = r;
      NEXT();
    }
    // A module's function (or anything else an attribute yields) replaces the receiver.
    Value f = get_attr(*recv, name);
    decref(*recv);
    *recv = f;
    if (call_value(n, 0, nullptr, false)) RELOAD();
    else sp = sp_;
    NEXT();
  }
  op_CALL_EX:
    SYNC();
    if (call_spread(A != 0)) RELOAD();
    else sp = sp_;
    NEXT();
  op_RETURN: {
    Value r = *--sp;
    for (Value* p = base; p < sp; ++p) decref(*p);
    decref(base[-1]);
    sp = base - 1;
    if (frame->native_entry) {
      top_ = frame - 1;
      sp_ = sp;
      return r;
    }
    --frame;
    ip = frame->ip;
    base = frame->base;
    consts = frame->func->code->consts.data();
    module = frame->func->module;
    code_start = frame->func->code->code.data();
    *sp++ = r;
    NEXT();
  }
  op_MAKE_FUNCTION: {
    maybe_collect_cycles();
    Value defaults = sp[-2], cells = sp[-1];
    auto* code = as_obj<CodeObj>(consts[A]);
    incref(code);
    ModuleObj* m = frame->func->module;
    incref(m);
    auto* fn = new FunctionObj(code, m);
    if (!defaults.is_none()) {
      fn->defaults = std::move(as_obj<TupleObj>(defaults)->items);
      as_obj<TupleObj>(defaults)->items.clear();
    }
    if (!cells.is_none())
      for (Value c : as_obj<TupleObj>(cells)->items) {
        incref(c);
        fn->cells.push_back(as_obj<CellObj>(c));
      }
    decref(defaults);
    decref(cells);
    sp -= 2;
    *sp++ = Value::object(fn);
    NEXT();
  }
  op_IMPORT: {
    SYNC();
    Value m = import(as_obj<StrObj>(consts[A])->data);
    *sp++ = m;
    NEXT();
  }
  op_IMPORT_FROM: {
    SYNC();
    Value v = import_from(sp[-1], as_obj<StrObj>(consts[A]));
    *sp++ = v;
    NEXT();
  }
  op_UNPACK: {
    uint32_t n = A;
    Value s = sp[-1];
    SYNC();
    unpack_reversed(s, n, sp - 1);
    decref(s);
    sp += n - 1;
    NEXT();
  }
  op_FORMAT: {
    uint32_t flags = A;
    bool has_spec = flags & 4;
    Value v = sp[has_spec ? -2 : -1];
    SYNC();
    Value r = format_field(v, has_spec ? sp[-1] : Value::undefined(), flags & 3);
    if (has_spec) decref(*--sp);
    decref(v);
    sp[-1] = r;
    NEXT();
  }
  op_ASSERT_FAIL: {
    SYNC();
    if (A == 0) throw RuntimeError("assertion failed");
    throw RuntimeError("assertion failed: " + to_str(sp[-1]));
  }
  op_CHECK_ARGS:
    SYNC();
    try {
      check_args(*frame);
    } catch (RuntimeError&) {
      frame = top_;  // the caller's
      ip = frame->ip;
      throw;
    }
    NEXT();
  op_CHECK_RETURN:
    SYNC();
    check_return(*frame, sp[-1]);
    NEXT();
  } catch (...) {
    frame->ip = ip;
    top_ = frame;
    sp_ = sp;
    fail_with_current_exception();
  }
#undef A
#undef SA
#undef NEXT
#undef SYNC
#undef RELOAD
#undef BINARY_RESULT
#undef SLOW_BINARY
}

}  // namespace tvm
