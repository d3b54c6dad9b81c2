// Heap objects: allocation, destruction, strings and interning, the dict, iterators, modules.
#include "object.h"

#include <mutex>
#include <unordered_map>

#include "builtins.h"
#include "code.h"
#include "error.h"
#include "ops.h"
#include "tensor_ops.h"

namespace tvm {


Value Value::boxed_int(int64_t i) { return Value::object(new BigIntObj(i)); }

// ---------------------------------------------------------------- destruction

void for_each_ref(Obj* o, void (*visit)(Value child, void* ctx), void* ctx) {
  auto v = [&](Value x) { visit(x, ctx); };
  auto obj = [&](const Obj* x) {
    if (x) v(Value::object(x));
  };
  switch (o->type) {
    case ObjType::List:
      for (Value x : static_cast<ListObj*>(o)->items) v(x);
      break;
    case ObjType::Tuple:
      for (Value x : static_cast<TupleObj*>(o)->items) v(x);
      break;
    case ObjType::Dict:
      for (const DictObj::Entry& e : static_cast<DictObj*>(o)->entries) {
        v(e.key);
        v(e.value);
      }
      break;
    case ObjType::Slice: {
      auto* s = static_cast<SliceObj*>(o);
      v(s->lower);
      v(s->upper);
      v(s->step);
      break;
    }
    case ObjType::Iter: v(static_cast<IterObj*>(o)->seq); break;
    case ObjType::Function: {
      auto* f = static_cast<FunctionObj*>(o);
      obj(f->code);
      obj(f->module);
      for (Value d : f->defaults) v(d);
      for (CellObj* c : f->cells) obj(c);
      break;
    }
    case ObjType::BoundMethod: v(static_cast<BoundMethodObj*>(o)->self); break;
    case ObjType::Cell: v(static_cast<CellObj*>(o)->value); break;
    case ObjType::Module: {
      auto* m = static_cast<ModuleObj*>(o);
      obj(m->name);
      for (Value x : m->slots) v(x);
      obj(m->names);  // slot_names are interned, hence immortal: not owned
      break;
    }
    case ObjType::Code:
      for (Value c : static_cast<CodeObj*>(o)->consts) v(c);  // nested code, strings, ...
      break;
    case ObjType::Str:
    case ObjType::BigInt:
    case ObjType::Range:
    case ObjType::Builtin:
    case ObjType::Tensor:
      break;
  }
}

namespace {

// Frees one object. References it holds are released with decref, which (inside
// destroy_object's loop) only queues objects that die, so this never recurses.
void free_one(Obj* o) {
  for_each_ref(o, [](Value child) { decref(child); });
  switch (o->type) {
    case ObjType::Str: delete static_cast<StrObj*>(o); return;
    case ObjType::BigInt: delete static_cast<BigIntObj*>(o); return;
    case ObjType::List: delete static_cast<ListObj*>(o); return;
    case ObjType::Tuple: delete static_cast<TupleObj*>(o); return;
    case ObjType::Dict: delete static_cast<DictObj*>(o); return;
    case ObjType::Range: delete static_cast<RangeObj*>(o); return;
    case ObjType::Slice: delete static_cast<SliceObj*>(o); return;
    case ObjType::Iter: delete static_cast<IterObj*>(o); return;
    case ObjType::Function: delete static_cast<FunctionObj*>(o); return;
    case ObjType::Builtin: delete static_cast<BuiltinObj*>(o); return;
    case ObjType::BoundMethod: delete static_cast<BoundMethodObj*>(o); return;
    case ObjType::Cell: delete static_cast<CellObj*>(o); return;
    case ObjType::Code: delete static_cast<CodeObj*>(o); return;
    case ObjType::Module: delete static_cast<ModuleObj*>(o); return;
    case ObjType::Tensor: free_tensor(static_cast<TensorObj*>(o)); return;
  }
}

// Objects whose count dropped to zero while another object was being freed. Freeing a long
// chain (a list nested 100,000 deep) must not recurse once per level on the C++ stack.
thread_local std::vector<Obj*> pending_frees;
thread_local bool freeing = false;

}  // namespace

void destroy_object(Obj* o) {
  if (o->type == ObjType::Tensor) {  // holds no references: straight back to the pool
    free_tensor(static_cast<TensorObj*>(o));
    return;
  }
  if (freeing) {
    pending_frees.push_back(o);
    return;
  }
  freeing = true;
  free_one(o);
  while (!pending_frees.empty()) {
    Obj* next = pending_frees.back();
    pending_frees.pop_back();
    free_one(next);
  }
  freeing = false;
}

// ---------------------------------------------------------------- immortality

void make_immortal(Value root) {
  // An explicit work list: containers may be deep or cyclic (an object already immortal is
  // not walked again).
  std::vector<Value> work{root};
  auto push = [&work](Value v) { work.push_back(v); };
  while (!work.empty()) {
    Value v = work.back();
    work.pop_back();
    if (!v.is_obj()) continue;
    Obj* o = v.as_obj();
    if (o->refcount >= Obj::kImmortal) continue;
    o->refcount = Obj::kImmortal;
    if (is_gc_type(o->type)) gc_untrack(static_cast<GcObj*>(o));
    if (o->type == ObjType::Str) {
      // Computed now: shared objects are never written again, not even their caches.
      static_cast<StrObj*>(o)->len();
      hash_value(v);
    }
    for_each_ref(o, push);
  }
}

// ---------------------------------------------------------------- strings

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

char32_t utf8_decode(std::string_view s, size_t& pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
           : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 1 || n == 0 || pos + n > s.size()) {
    ++pos;  // ASCII, or a byte that starts no valid sequence: one code point of its value
    return c;
  }
  char32_t cp = c & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    unsigned char cc = byte(pos + i);
    if ((cc & 0xC0) != 0x80) {
      ++pos;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;  // overlong, surrogate or out of range
    return c;
  }
  pos += n;
  return cp;
}

int64_t StrObj::len() {
  if (length < 0) {
    int64_t n = 0;
    for (size_t pos = 0; pos < data.size(); ++n) utf8_decode(data, pos);
    ascii = size_t(n) == data.size();
    length = n;
  }
  return length;
}

Value make_str(std::string_view s) { return Value::object(new StrObj(std::string(s))); }

StrObj* intern(std::string_view s) {
  static std::mutex mutex;
  // Keys view the strings' own (never modified) text. The table lives as long as the
  // process: interned strings are immortal and may be used by static destructors.
  static auto& table = *new std::unordered_map<std::string_view, StrObj*>;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = table.find(s);
  if (it != table.end()) return it->second;
  auto* str = new StrObj(std::string(s));
  str->interned = true;
  make_immortal(Value::object(str));
  table.emplace(std::string_view(str->data), str);
  return str;
}

// ---------------------------------------------------------------- lists, tuples, dicts

Value make_list(std::vector<Value> items) {
  auto* l = new ListObj();
  l->items = std::move(items);
  return Value::object(l);
}

Value make_tuple(std::vector<Value> items) {
  auto* t = new TupleObj();
  t->items = std::move(items);
  return Value::object(t);
}

Value make_dict() { return Value::object(new DictObj()); }

namespace {

constexpr int32_t kEmpty = -1;

// Linear probing from the hash's slot. Returns the entry index of the first entry with this
// hash that `matches`, or -1; *slot_out gets the index slot where the probe stopped (the
// match's slot or the empty one where the key would go).
template <typename Match>
int32_t probe(const DictObj& d, uint64_t hash, Match matches, size_t* slot_out) {
  size_t mask = d.index.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    int32_t e = d.index[slot];
    if (e == kEmpty || (d.entries[e].hash == hash && matches(d.entries[e].key))) {
      if (slot_out) *slot_out = slot;
      return e;
    }
  }
}

void rebuild_index(DictObj& d, size_t size) {
  d.index.assign(size, kEmpty);
  size_t mask = size - 1;
  for (size_t i = 0; i < d.entries.size(); ++i) {
    size_t slot = d.entries[i].hash & mask;
    while (d.index[slot] != kEmpty) slot = (slot + 1) & mask;
    d.index[slot] = int32_t(i);
  }
}

bool same_key(Value a, Value b) { return a.same(b) || equal(a, b); }

// A str key looked up by its text, without making a string.
Value find_str(const DictObj& d, std::string_view text) {
  if (d.index.empty()) return Value::undefined();
  auto matches = [text](Value k) { return is_type(k, ObjType::Str) && str_view(k) == text; };
  int32_t e = probe(d, hash_str(text), matches, nullptr);
  return e == kEmpty ? Value::undefined() : d.entries[e].value;
}

}  // namespace

Value DictObj::get(Value key) const {
  uint64_t h = hash_value(key);
  if (index.empty()) return Value::undefined();
  int32_t e = probe(*this, h, [key](Value k) { return same_key(k, key); }, nullptr);
  return e == kEmpty ? Value::undefined() : entries[e].value;
}

void DictObj::set(Value key, Value value) {
  uint64_t h = hash_value(key);
  if (!index.empty()) {
    int32_t e = probe(*this, h, [key](Value k) { return same_key(k, key); }, nullptr);
    if (e != kEmpty) {  // an existing key keeps its first spelling (1 stays 1 after d[1.0] = x)
      incref(value);
      decref(std::exchange(entries[e].value, value));
      return;
    }
  }
  // Grow at a load factor of 2/3.
  if ((entries.size() + 1) * 3 > index.size() * 2) rebuild_index(*this, index.empty() ? 8 : index.size() * 2);
  size_t slot;
  probe(*this, h, [](Value) { return false; }, &slot);
  index[slot] = int32_t(entries.size());
  incref(key);
  incref(value);
  entries.push_back({h, key, value});
}

// ---------------------------------------------------------------- ranges and iterators

int64_t RangeObj::length() const {
  // Unsigned arithmetic: stop - start may not fit in int64.
  uint64_t n = 0;
  if (step > 0 && start < stop)
    n = (uint64_t(stop) - uint64_t(start) - 1) / uint64_t(step) + 1;
  else if (step < 0 && start > stop)
    n = (uint64_t(start) - uint64_t(stop) - 1) / (uint64_t(0) - uint64_t(step)) + 1;
  if (n > uint64_t(INT64_MAX)) throw_error("integer overflow");
  return int64_t(n);
}

Value make_iter(Value v) {
  if (v.is_obj()) {
    Obj* o = v.as_obj();
    IterObj* it = nullptr;
    switch (o->type) {
      case ObjType::Range: {
        auto* r = static_cast<RangeObj*>(o);
        it = new IterObj(IterObj::RangeIt, Value::none());
        it->pos = r->start;
        it->stop = r->stop;
        it->step = r->step;
        return Value::object(it);
      }
      case ObjType::List: it = new IterObj(IterObj::ListIt, v); break;
      case ObjType::Tuple: it = new IterObj(IterObj::TupleIt, v); break;
      case ObjType::Str: it = new IterObj(IterObj::StrIt, v); break;
      case ObjType::Dict:
        it = new IterObj(IterObj::DictIt, v);
        it->stop = int64_t(static_cast<DictObj*>(o)->size());  // to detect insertion while iterating
        break;
      case ObjType::Iter:
        incref(o);
        return v;
      case ObjType::Tensor:
        if (static_cast<TensorObj*>(o)->ndim == 0) throw_error("iteration over a 0-d tensor");
        it = new IterObj(IterObj::TensorIt, v);
        break;
      default:
        break;
    }
    if (it) {
      incref(v);
      return Value::object(it);
    }
  }
  throw_error(std::string("'") + type_name(v) + "' object is not iterable");
}

Value iter_next(IterObj* it) {
  switch (it->kind) {
    case IterObj::RangeIt: {
      if (it->step > 0 ? it->pos >= it->stop : it->pos <= it->stop) return Value::undefined();
      int64_t v = it->pos;
      if (__builtin_add_overflow(v, it->step, &it->pos)) it->pos = it->stop;  // past int64: done
      return Value::integer(v);
    }
    case IterObj::ListIt: {
      const auto& items = as_obj<ListObj>(it->seq)->items;  // may grow or shrink while iterated
      if (size_t(it->pos) >= items.size()) return Value::undefined();
      Value v = items[it->pos++];
      incref(v);
      return v;
    }
    case IterObj::TupleIt: {
      const auto& items = as_obj<TupleObj>(it->seq)->items;
      if (size_t(it->pos) >= items.size()) return Value::undefined();
      Value v = items[it->pos++];
      incref(v);
      return v;
    }
    case IterObj::StrIt: {
      std::string_view s = str_view(it->seq);
      if (size_t(it->pos) >= s.size()) return Value::undefined();
      size_t start = size_t(it->pos), end = start;
      utf8_decode(s, end);
      it->pos = int64_t(end);
      return make_str(s.substr(start, end - start));
    }
    case IterObj::DictIt: {
      const auto* d = as_obj<DictObj>(it->seq);
      if (int64_t(d->size()) != it->stop) throw_error("dictionary changed size during iteration");
      if (it->pos >= it->stop) return Value::undefined();
      Value k = d->entries[it->pos++].key;
      incref(k);
      return k;
    }
    case IterObj::TensorIt: {
      Value row = tensor_row(as_tensor(it->seq), it->pos);
      if (!row.is_undefined()) ++it->pos;
      return row;
    }
  }
  return Value::undefined();
}

// ---------------------------------------------------------------- modules and calls

ModuleObj::ModuleObj(StrObj* n) : GcObj(ObjType::Module), name(n), names(new DictObj()) {
  if (n) incref(n);
}

int ModuleObj::slot(std::string_view n) {
  Value found = find_str(*names, n);
  if (!found.is_undefined()) return int(found.as_int());
  StrObj* key = intern(n);
  int index = int(slots.size());
  slots.push_back(Value::undefined());
  slot_names.push_back(key);
  slot_builtin.push_back(int16_t(builtin_index(n)));
  names->set(Value::object(key), Value::small_int(index));
  return index;
}

Value ModuleObj::get(std::string_view n) {
  Value found = find_str(*names, n);
  return found.is_undefined() ? found : slots[found.as_int()];
}

Value CallArgs::kw(std::string_view name) const {
  for (uint32_t i = 0; i < nkw; ++i)
    if (kwnames[i]->data == name) return kwvals[i];
  return Value::undefined();
}

}  // namespace tvm
