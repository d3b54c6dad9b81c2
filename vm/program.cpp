// A loaded package's lifetime, and frozen values (vm/program.h).
#include "program.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "device.h"
#include "error.h"

namespace tvm {

namespace {

// Which global each frozen object was reached through, for the error message. Process-wide,
// since a frozen object may be shared by every thread that runs its package.
struct FrozenNames {
  std::mutex mutex;
  std::unordered_map<const Obj*, std::string> names;
};

FrozenNames& frozen_names() {
  // Never destroyed: a Program may be freed by a static destructor.
  static auto* names = new FrozenNames;
  return *names;
}

// Immortal objects that belong to the process rather than to any program.
bool process_wide(const Obj* o) {
  return o->type == ObjType::Builtin || (o->type == ObjType::Str && static_cast<const StrObj*>(o)->interned);
}

// Forgets o's references without releasing them (what they point to is freed on its own).
void drop_refs(Obj* o) {
  switch (o->type) {
    case ObjType::List: static_cast<ListObj*>(o)->items.clear(); break;
    case ObjType::Tuple: static_cast<TupleObj*>(o)->items.clear(); break;
    case ObjType::Dict: {
      auto* d = static_cast<DictObj*>(o);
      d->entries.clear();
      d->index.clear();
      break;
    }
    case ObjType::Slice: {
      auto* s = static_cast<SliceObj*>(o);
      s->lower = s->upper = s->step = Value::none();
      break;
    }
    case ObjType::Iter: static_cast<IterObj*>(o)->seq = Value::none(); break;
    case ObjType::Function: {
      auto* f = static_cast<FunctionObj*>(o);
      f->code = nullptr;
      f->module = nullptr;
      f->defaults.clear();
      f->cells.clear();
      break;
    }
    case ObjType::BoundMethod: static_cast<BoundMethodObj*>(o)->self = Value::none(); break;
    case ObjType::Cell: static_cast<CellObj*>(o)->value = Value::undefined(); break;
    case ObjType::Module: {
      auto* m = static_cast<ModuleObj*>(o);
      m->name = nullptr;
      m->names = nullptr;
      m->slots.clear();
      break;
    }
    case ObjType::Code: static_cast<CodeObj*>(o)->consts.clear(); break;
    case ObjType::Str:
    case ObjType::BigInt:
    case ObjType::Range:
    case ObjType::Builtin:
    case ObjType::Tensor:
      break;
  }
}

}  // namespace

// The objects are immortal, so no count will ever free them, and they refer to each other in
// any shape, cycles included. So: find every object the program owns (those listed, and any
// immortal object only they reach, such as a module's name table), make each forget its
// references, then free each on its own. References to ordinary counted objects (a Program
// that mixes them) are released as usual.
Program::~Program() {
  std::unordered_set<Obj*> owned(objects.begin(), objects.end());
  std::vector<Obj*> order(owned.begin(), owned.end());
  std::vector<Value> counted;
  for (size_t i = 0; i < order.size(); ++i)
    for_each_ref(order[i], [&](Value child) {
      if (!child.is_obj()) return;
      Obj* c = child.as_obj();
      if (owned.count(c)) return;
      if (c->refcount < Obj::kImmortal) counted.push_back(child);
      else if (!process_wide(c)) {
        owned.insert(c);
        order.push_back(c);
      }
    });
  {
    FrozenNames& r = frozen_names();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (Obj* o : order)
      if (o->flags & Obj::kFrozen) r.names.erase(o);
  }
  for (Obj* o : order) drop_refs(o);
  for (Obj* o : order) {
    o->refcount = 1;
    destroy_object(o);
  }
  for (Value v : counted) decref(v);
}

// Lists, dicts, cells and modules are marked (the mutable kinds; a module for its attribute
// stores); the walk goes through everything that holds references. An object already frozen
// keeps its first name and was walked then. A module's globals are named by their own names.
void freeze_value(Value root, const std::string& name) {
  FrozenNames& r = frozen_names();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::unordered_set<const Obj*> seen;
  std::vector<std::pair<Value, std::string>> work{{root, name}};
  while (!work.empty()) {
    auto [v, n] = std::move(work.back());
    work.pop_back();
    if (!v.is_obj()) continue;
    Obj* o = v.as_obj();
    if (!seen.insert(o).second) continue;
    switch (o->type) {
      case ObjType::List:
      case ObjType::Dict:
      case ObjType::Cell:
      case ObjType::Module:
        if (o->flags & Obj::kFrozen) continue;
        o->flags |= Obj::kFrozen;
        r.names[o] = n;
        break;
      default: break;
    }
    if (o->type == ObjType::Module) {
      auto* m = static_cast<ModuleObj*>(o);
      for (size_t i = 0; i < m->slots.size(); ++i) work.push_back({m->slots[i], m->slot_names[i]->data});
      continue;
    }
    for_each_ref(o, [&](Value child) { work.push_back({child, n}); });
  }
}

void freeze_object(Obj* o, const std::string& name) {
  o->flags |= Obj::kFrozen;
  FrozenNames& r = frozen_names();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (name.empty()) r.names.erase(o);  // a name left by a freed object at this address
  else r.names[o] = name;
}

// The string lives in a map node, which stays put until its object is freed.
const std::string* frozen_name(const Obj* o) {
  FrozenNames& r = frozen_names();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.names.find(o);
  return it == r.names.end() ? nullptr : &it->second;
}

[[noreturn]] void frozen_error(const Obj* o) {
  std::string name;
  {
    FrozenNames& r = frozen_names();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (auto it = r.names.find(o); it != r.names.end()) name = it->second;
  }
  throw RuntimeError("cannot modify frozen value '" + name + "'");
}

void prepare_device(const Program& p, const Device& device) {
  bool tensors = false;
  for (const Manifest::Input& in : p.manifest.inputs) tensors |= in.annotation.kind == Annotation::Tensor;
  for (const Obj* o : p.objects) {
    if (tensors) break;
    tensors = o->type == ObjType::Tensor || (o->type == ObjType::Code && !static_cast<const CodeObj*>(o)->kernels.empty());
  }
  if (tensors) device.prepare();
}

}  // namespace tvm
