// The cycle collector: reference counting frees everything except cycles, which this finds
// with CPython's trial deletion. For every tracked object, subtract from its reference count
// the references other tracked objects hold to it; what is left over is held from outside
// (the VM's stack, a global, C++ code), so it and everything it reaches is alive. The rest is
// garbage only garbage points at: its references are dropped, which frees it.
//
// Tracked objects are linked into their thread's list: each thread collects what it made, so
// threads sharing a loaded package (whose constants are immortal and untracked) never touch
// each other's lists.
#include <cstdint>
#include <vector>

#include "object.h"

namespace tvm {
namespace {

// One thread's tracked objects: a ring through a sentinel.
struct GcList {
  GcLink ring{&ring, &ring};
  size_t live = 0;  // approximate: an object may die on another thread than its list's
  size_t made_since_collect = 0;
  size_t threshold = 10000;
  GcList() = default;
  GcList(const GcList&) = delete;
  // At thread exit, objects still alive (freed later by another thread, or never) are left
  // unlinked rather than pointing at a ring that is gone.
  ~GcList() {
    for (GcLink* l = ring.gc_next; l != &ring;) {
      GcLink* next = l->gc_next;
      l->gc_prev = l->gc_next = l;
      l = next;
    }
  }
};
thread_local GcList gc_list;

constexpr int64_t kReachable = INT64_MIN;

// Calls visit(child) for each tracked object o references. Immortal children are in no list
// and may be shared with other threads: never touched (not even their scratch field).
template <typename F>
void for_each_tracked_ref(GcObj* o, F&& visit) {
  for_each_ref(o, [&visit](Value child) {
    if (child.is_obj() && is_gc_type(child.as_obj()->type) && child.as_obj()->refcount < Obj::kImmortal)
      visit(static_cast<GcObj*>(child.as_obj()));
  });
}

// Drops every reference o holds (o itself stays allocated until its count reaches zero).
void clear_refs(GcObj* o) {
  auto release = [](std::vector<Value>& items) {
    std::vector<Value> old;
    old.swap(items);
    for (Value x : old) decref(x);
  };
  switch (o->type) {
    case ObjType::List: release(static_cast<ListObj*>(o)->items); break;
    case ObjType::Tuple: release(static_cast<TupleObj*>(o)->items); break;
    case ObjType::Dict: {
      auto* d = static_cast<DictObj*>(o);
      std::vector<DictObj::Entry> old;
      old.swap(d->entries);
      std::fill(d->index.begin(), d->index.end(), -1);
      for (auto& e : old) {
        decref(e.key);
        decref(e.value);
      }
      break;
    }
    case ObjType::Function: {
      auto* f = static_cast<FunctionObj*>(o);
      release(f->defaults);
      std::vector<CellObj*> cells;
      cells.swap(f->cells);
      for (CellObj* c : cells) decref(c);
      if (ModuleObj* m = std::exchange(f->module, nullptr)) decref(m);
      break;
    }
    case ObjType::Cell: decref(std::exchange(static_cast<CellObj*>(o)->value, Value::undefined())); break;
    case ObjType::BoundMethod: decref(std::exchange(static_cast<BoundMethodObj*>(o)->self, Value::none())); break;
    case ObjType::Module: {
      auto* m = static_cast<ModuleObj*>(o);
      for (Value& x : m->slots) decref(std::exchange(x, Value::undefined()));
      break;
    }
    default: break;
  }
}

}  // namespace

bool is_gc_type(ObjType t) {
  switch (t) {
    case ObjType::List: case ObjType::Tuple: case ObjType::Dict: case ObjType::Function:
    case ObjType::Cell: case ObjType::BoundMethod: case ObjType::Module: return true;
    default: return false;
  }
}

GcObj::GcObj(ObjType t) : Obj(t) {
  GcList& list = gc_list;
  gc_prev = &list.ring;
  gc_next = list.ring.gc_next;
  gc_next->gc_prev = this;
  list.ring.gc_next = this;
  ++list.live;
  ++list.made_since_collect;
}

void gc_untrack(GcObj* o) {
  if (o->gc_next == o) return;  // already untracked
  o->gc_prev->gc_next = o->gc_next;
  o->gc_next->gc_prev = o->gc_prev;
  o->gc_prev = o->gc_next = o;
  if (gc_list.live) --gc_list.live;
}

GcObj::~GcObj() { gc_untrack(this); }

size_t collect_cycles() {
  gc_list.made_since_collect = 0;
  std::vector<GcObj*> all;
  all.reserve(gc_list.live);
  for (GcLink* l = gc_list.ring.gc_next; l != &gc_list.ring; l = l->gc_next) all.push_back(static_cast<GcObj*>(l));

  // 1-2. What is left of each count after subtracting references from tracked objects.
  for (GcObj* o : all) o->gc_refs = int64_t(o->refcount);  // tracked objects are never immortal
  for (GcObj* o : all)
    for_each_tracked_ref(o, [](GcObj* c) { --c->gc_refs; });
  // 3. Everything reachable from an object held from outside is alive.
  std::vector<GcObj*> work;
  for (GcObj* o : all)
    if (o->gc_refs > 0) {
      o->gc_refs = kReachable;
      work.push_back(o);
    }
  while (!work.empty()) {
    GcObj* o = work.back();
    work.pop_back();
    for_each_tracked_ref(o, [&work](GcObj* c) {
      if (c->gc_refs != kReachable) {
        c->gc_refs = kReachable;
        work.push_back(c);
      }
    });
  }
  // 4. The rest is garbage: hold each, drop what it references, then let go.
  std::vector<GcObj*> garbage;
  for (GcObj* o : all)
    if (o->gc_refs != kReachable) garbage.push_back(o);
  for (GcObj* o : garbage) incref(o);
  for (GcObj* o : garbage) clear_refs(o);
  for (GcObj* o : garbage) decref(o);
  gc_list.threshold = std::max<size_t>(10000, gc_list.live);
  return garbage.size();
}

void maybe_collect_cycles() {
  if (gc_list.made_since_collect >= gc_list.threshold) collect_cycles();
}

}  // namespace tvm
