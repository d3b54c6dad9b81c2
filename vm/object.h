// Heap objects. Every object starts with an Obj header: a reference count and a type tag.
//
// Reference counting is explicit and non-atomic: a Value stored anywhere (stack slot, list,
// dict, global, constant) owns one reference. Functions that return a Value return a new
// reference; arguments are borrowed. Objects shared between threads (a loaded package's
// constants) are made immortal, so their counts are never written. C++ code that juggles
// several values uses Ref, the owning RAII handle.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "value.h"

namespace tvm {

enum class ObjType : uint8_t {
  Str, BigInt, List, Tuple, Dict, Range, Slice, Iter,
  Function, Builtin, BoundMethod, Cell, Code, Module, Tensor,
};

struct Obj {
  static constexpr uint32_t kImmortal = 0x80000000u;
  static constexpr uint8_t kFrozen = 1;  // a package's frozen list/dict/cell (vm/program.h)
  uint32_t refcount = 1;
  ObjType type;
  uint8_t flags = 0;
  explicit Obj(ObjType t) : type(t) {}
  Obj(const Obj&) = delete;
  Obj& operator=(const Obj&) = delete;
};

void destroy_object(Obj* o);  // frees o and releases what it references

// Calls visit for every reference o holds: what its count keeps alive. Freeing, making
// immortal and the cycle collector all walk objects through this one function.
void for_each_ref(Obj* o, void (*visit)(Value child, void* ctx), void* ctx);
template <typename F>
void for_each_ref(Obj* o, F&& visit) {
  using Fn = std::remove_reference_t<F>;
  for_each_ref(o, [](Value child, void* ctx) { (*static_cast<Fn*>(ctx))(child); }, &visit);
}

inline void incref(Obj* o) {
  if (o->refcount < Obj::kImmortal) ++o->refcount;
}
inline void decref(Obj* o) {
  if (o->refcount < Obj::kImmortal && --o->refcount == 0) destroy_object(o);
}
inline void incref(Value v) {
  if (v.is_obj()) incref(v.as_obj());
}
inline void decref(Value v) {
  if (v.is_obj()) decref(v.as_obj());
}
// Marks o (and everything it references) immortal: shared read-only across threads.
void make_immortal(Value v);

// Owning handle: holds one reference.
class Ref {
 public:
  Ref() = default;
  static Ref steal(Value v) { return Ref(v); }                 // adopts a new reference
  static Ref borrow(Value v) { incref(v); return Ref(v); }     // takes a new one
  Ref(const Ref& o) : v_(o.v_) { incref(v_); }
  Ref(Ref&& o) noexcept : v_(std::exchange(o.v_, Value::undefined())) {}
  Ref& operator=(Ref o) noexcept { std::swap(v_, o.v_); return *this; }
  ~Ref() { decref(v_); }
  Value get() const { return v_; }
  Value release() { return std::exchange(v_, Value::undefined()); }  // hands the reference out
  explicit operator bool() const { return !v_.is_undefined(); }

 private:
  explicit Ref(Value v) : v_(v) {}
  Value v_ = Value::undefined();
};

inline bool is_type(Value v, ObjType t) { return v.is_obj() && v.as_obj()->type == t; }
template <typename T>
T* as_obj(Value v) { return static_cast<T*>(v.as_obj()); }

// Objects that can hold references to other objects, and so take part in a reference cycle
// (a closure's cell holding the closure, a list containing itself, a module's functions and
// the module), are linked into the list of the thread that made them, which that thread's
// cycle collector walks (vm/gc.cpp). The ring has a sentinel, so unlinking touches only the
// neighbours. Immortal objects (shared between threads) are unlinked: no collector sees them.
struct GcLink {
  GcLink* gc_prev;
  GcLink* gc_next;
};
struct GcObj : Obj, GcLink {
  int64_t gc_refs = 0;  // scratch space for a collection
  explicit GcObj(ObjType t);
  ~GcObj();
};
// Takes o out of its thread's list (make_immortal).
void gc_untrack(GcObj* o);
bool is_gc_type(ObjType t);

// Frees every object tracked by this thread that only other garbage refers to. Returns how
// many it freed.
size_t collect_cycles();
// Collects once enough tracked objects were made since the last collection (amortised O(1)).
// Call only where every live reference is counted (not from a constructor).
void maybe_collect_cycles();

// ---------------------------------------------------------------- scalars and containers

struct BigIntObj : Obj {  // an int outside Value's inline range
  int64_t value;
  explicit BigIntObj(int64_t v) : Obj(ObjType::BigInt), value(v) {}
};

bool Value::is_int() const { return is_small_int() || is_type(*this, ObjType::BigInt); }
bool Value::is_number() const { return is_double() || is_int() || is_bool(); }
int64_t Value::as_int() const {
  return is_small_int() ? as_small_int() : static_cast<BigIntObj*>(as_obj())->value;
}
double Value::to_double() const {
  if (is_double()) return as_double();
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return double(as_int());
}

struct StrObj : Obj {
  std::string data;        // UTF-8
  uint64_t hash = 0;       // 0: not computed yet
  int64_t length = -1;     // code points; -1: not computed yet
  bool ascii = false;      // set with length
  bool interned = false;
  explicit StrObj(std::string s) : Obj(ObjType::Str), data(std::move(s)) {}
  int64_t len();           // code points (computed once)
};
Value make_str(std::string_view s);          // a new string
StrObj* intern(std::string_view s);          // the one immortal string with this text
inline std::string_view str_view(Value v) { return as_obj<StrObj>(v)->data; }
// The code point at s[pos] (pos < s.size()); advances pos past it. A byte that starts no valid
// UTF-8 sequence is one code point of the byte's value, so every byte string has a length.
char32_t utf8_decode(std::string_view s, size_t& pos);
// Appends code point c to out as UTF-8.
void append_utf8(std::string& out, char32_t c);

struct ListObj : GcObj {
  std::vector<Value> items;  // owned references
  ListObj() : GcObj(ObjType::List) {}
};
struct TupleObj : GcObj {
  std::vector<Value> items;  // owned references
  TupleObj() : GcObj(ObjType::Tuple) {}
};
Value make_list(std::vector<Value> items);   // adopts the references in items
Value make_tuple(std::vector<Value> items);  // adopts the references in items

// Insertion-ordered hash map (TL has no key deletion, so entries only grow).
struct DictObj : GcObj {
  struct Entry {
    uint64_t hash;
    Value key;
    Value value;
  };
  std::vector<Entry> entries;   // insertion order; owned references
  std::vector<int32_t> index;   // open addressing into entries, -1 empty; size is a power of 2
  DictObj() : GcObj(ObjType::Dict) {}
  // Borrowed result, or Undefined when absent. Throws for unhashable keys.
  Value get(Value key) const;
  // Stores key -> value (both borrowed; the dict takes its own references).
  void set(Value key, Value value);
  size_t size() const { return entries.size(); }
};
Value make_dict();

struct RangeObj : Obj {
  int64_t start, stop, step;
  RangeObj(int64_t a, int64_t b, int64_t c) : Obj(ObjType::Range), start(a), stop(b), step(c) {}
  int64_t length() const;
};

struct SliceObj : Obj {
  Value lower, upper, step;  // None when omitted; owned references
  SliceObj() : Obj(ObjType::Slice) {}
};

// The iterator a `for` loop walks. One type with a kind, so FOR_ITER can inline the
// common cases (range and list) without a virtual call.
struct IterObj : Obj {
  enum Kind : uint8_t { RangeIt, ListIt, TupleIt, StrIt, DictIt, TensorIt };
  Kind kind;
  Value seq;          // owned (None for RangeIt)
  int64_t pos = 0;    // RangeIt: the next value; others: the next index (StrIt: byte offset)
  int64_t stop = 0;   // RangeIt: stop
  int64_t step = 1;   // RangeIt only
  IterObj(Kind k, Value s) : Obj(ObjType::Iter), kind(k), seq(s) {}
};
// Value an iterator over v (a new reference), or throws "'int' object is not iterable".
Value make_iter(Value v);
// The next item (new reference), or Undefined when exhausted.
Value iter_next(IterObj* it);

// ---------------------------------------------------------------- code and functions

struct CodeObj;
struct ModuleObj;
class VM;

struct CellObj : GcObj {
  Value value = Value::undefined();  // owned
  CellObj() : GcObj(ObjType::Cell) {}
};

struct FunctionObj : GcObj {
  CodeObj* code;               // owned reference
  ModuleObj* module;           // owned reference: the function's globals
  std::vector<Value> defaults; // for the last params; owned
  std::vector<CellObj*> cells; // free variables; owned
  FunctionObj(CodeObj* c, ModuleObj* m) : GcObj(ObjType::Function), code(c), module(m) {}
};

// Arguments of a call into native code: positionals, then keyword values whose names
// (interned strings) are in kwnames. All borrowed.
struct CallArgs {
  const Value* pos = nullptr;
  uint32_t npos = 0;
  const Value* kwvals = nullptr;
  StrObj* const* kwnames = nullptr;
  uint32_t nkw = 0;
  // The value of keyword `name`, or Undefined when not given.
  Value kw(std::string_view name) const;
};

using NativeFn = Value (*)(VM& vm, const CallArgs& args);  // returns a new reference

// A native function: one row of the builtins or methods table (vm/builtins.h).
struct BuiltinDef {
  const char* name;
  NativeFn fn;
  int8_t min_args;           // positional arguments, the receiver included for methods
  int8_t max_args;           // -1: any number
  const char* keywords;      // accepted keyword names, space-separated ("" for none)
};

struct BuiltinObj : Obj {
  const BuiltinDef* def;
  explicit BuiltinObj(const BuiltinDef* d) : Obj(ObjType::Builtin), def(d) {}
};

// `obj.method` taken as a value: the receiver and the method's row.
struct BoundMethodObj : GcObj {
  Value self;  // owned
  const BuiltinDef* def;
  BoundMethodObj(Value s, const BuiltinDef* d) : GcObj(ObjType::BoundMethod), self(s), def(d) {}
};

// A module: its globals live in numbered slots, so compiled code reads them by index;
// `names` maps a name to its slot for attribute access, import and exec.
struct ModuleObj : GcObj {
  StrObj* name;                       // owned
  std::string path;                   // the file it came from ("" for builtin modules)
  std::vector<Value> slots;           // owned; Undefined = not assigned yet
  std::vector<StrObj*> slot_names;    // interned
  std::vector<int16_t> slot_builtin;  // builtin index to fall back to when the slot is Undefined, or -1
  DictObj* names;                     // name -> int slot index
  explicit ModuleObj(StrObj* n);
  int slot(std::string_view name);    // the slot for name, created on first use
  Value get(std::string_view name);   // borrowed, Undefined when absent
};

}  // namespace tvm
