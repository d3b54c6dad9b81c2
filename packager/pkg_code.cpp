// A Program as package sections, and back (pkg_code.h). The encoding is specified to the byte
// in tvm-pkg(5), SECTION CONTENTS; the names below follow that page.
//
// Writing walks the object graph from the entry and the modules' code breadth-first, numbering
// each object the first time it is reached; a reference is that number, so the bytes depend
// only on the graph's shape, never on addresses. Reading trusts nothing: every count is
// bounded by the bytes left before anything is allocated for it, every index, kind and enum
// value is checked before it is used, and the objects are built in phases — records parsed,
// then every object made empty, then references filled in (the graph may be cyclic), then
// dicts hashed — so a failure at any point frees exactly what was built.
#include "pkg_code.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "../vm/builtins.h"
#include "../vm/error.h"
#include "../vm/ops.h"
#include "../vm/tensor.h"
#include "verify.h"

namespace tvm::pkg {
namespace {

static_assert(std::endian::native == std::endian::little, "tensor data is written as it lies in memory");

// ---------------------------------------------------------------- the encoding's constants

// A value: one tag byte, then the tag's payload.
enum ValueTag : uint8_t {
  kTagNone = 0,
  kTagFalse = 1,
  kTagTrue = 2,
  kTagUnassigned = 3,  // an empty cell or module slot only
  kTagInt = 4,         // zigzag varint, within Value's inline range
  kTagFloat = 5,       // 8 bytes: the IEEE 754 double's bits
  kTagObject = 6,      // varint: an object's index in CNST
};

// An object record's kind byte.
enum ObjKind : uint8_t {
  kStr = 1, kBigInt, kList, kTuple, kDict, kRange, kSlice, kFunction, kBuiltin, kBoundMethod,
  kCell, kCode, kModule, kTensor,
};
constexpr uint8_t kLastKind = kTensor;
const char* const kKindNames[] = {"?", "str", "int", "list", "tuple", "dict", "range", "slice", "function",
                                  "builtin", "method", "cell", "code", "module", "tensor"};

// An object record's flags byte.
constexpr uint8_t kFlagFrozen = 1;    // Obj::kFrozen; the frozen name follows
constexpr uint8_t kFlagInterned = 2;  // a str the reader interns

// A module slot's builtin fallback.
enum SlotBuiltin : uint8_t { kNoBuiltin = 0, kSameName = 1, kNamed = 2 };

constexpr size_t kWeightAlign = 64;

// The file's enum values are the enums' own; these pin them, so reordering an enum breaks the
// build rather than old packages.
static_assert(Annotation::Any == 0 && Annotation::Tensor == 9);
static_assert(KernelDesc::Gemm == 0 && KernelDesc::Elementwise == 1);
static_assert(uint8_t(Activation::Gelu) == 4);
static_assert(EwStep::Unary == 0 && EwStep::Where == 3);
static_assert(uint8_t(UnaryKind::Round) == 13 && uint8_t(BinaryKind::Ne) == 14);

bool is_builtin_row(const BuiltinDef* def) {
  std::span<const BuiltinDef> rows = builtins();
  return def >= rows.data() && def < rows.data() + rows.size();
}

// ---------------------------------------------------------------- writing

class ByteWriter {
 public:
  void u8(uint8_t v) { bytes.push_back(v); }
  void uv(uint64_t v) {
    for (; v >= 0x80; v >>= 7) bytes.push_back(uint8_t(v) | 0x80);
    bytes.push_back(uint8_t(v));
  }
  void sv(int64_t v) { uv((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(uint8_t(v >> (8 * i)));
  }
  void str(std::string_view s) {
    uv(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  std::vector<uint8_t> bytes;
};

[[noreturn]] void internal(const std::string& why) { throw PackageError("internal: " + why, 1); }

// The objects a package holds, numbered in the order first reached.
struct Graph {
  std::vector<Obj*> objects;
  std::unordered_map<const Obj*, uint64_t> index;
  std::vector<CodeObj*> codes;  // the Code objects, in object order: CODE's and DBUG's order

  void add(Value v) {
    if (v.is_obj()) add(v.as_obj());
  }
  void add(const Obj* o) {
    if (o && index.emplace(o, objects.size()).second) objects.push_back(const_cast<Obj*>(o));
  }
};

// Breadth-first from the roots; an object's references in its record's order.
Graph walk(const Program& p) {
  Graph g;
  g.add(p.entry);
  for (const Program::ModuleCode& m : p.modules) {
    if (!m.code) internal("module '" + m.name + "' has no code");
    g.add(m.code);
  }
  for (size_t i = 0; i < g.objects.size(); ++i) {
    Obj* o = g.objects[i];
    switch (o->type) {
      case ObjType::Str:
      case ObjType::BigInt:
      case ObjType::Range:
      case ObjType::Tensor:
        break;
      case ObjType::Iter: throw PackageError("cannot freeze a 'iterator' value", 1);
      case ObjType::List:
        for (Value v : static_cast<ListObj*>(o)->items) g.add(v);
        break;
      case ObjType::Tuple:
        for (Value v : static_cast<TupleObj*>(o)->items) g.add(v);
        break;
      case ObjType::Dict:
        for (const DictObj::Entry& e : static_cast<DictObj*>(o)->entries) {
          g.add(e.key);
          g.add(e.value);
        }
        break;
      case ObjType::Slice: {
        auto* s = static_cast<SliceObj*>(o);
        g.add(s->lower);
        g.add(s->upper);
        g.add(s->step);
        break;
      }
      case ObjType::Function: {
        auto* f = static_cast<FunctionObj*>(o);
        if (!f->code) internal("a function without code");
        g.add(f->code);
        g.add(f->module);
        for (Value d : f->defaults) g.add(d);
        for (CellObj* c : f->cells) g.add(c);
        break;
      }
      case ObjType::Builtin:
        if (!is_builtin_row(static_cast<BuiltinObj*>(o)->def))
          internal(std::string("cannot freeze the native function '") + static_cast<BuiltinObj*>(o)->def->name + "'");
        break;
      case ObjType::BoundMethod: {
        auto* bm = static_cast<BoundMethodObj*>(o);
        if (find_method(bm->self, bm->def->name) != bm->def)
          internal(std::string("cannot freeze the method '") + bm->def->name + "'");
        g.add(bm->self);
        break;
      }
      case ObjType::Cell: g.add(static_cast<CellObj*>(o)->value); break;
      case ObjType::Code: {
        auto* c = static_cast<CodeObj*>(o);
        if (!c->is_register) internal("stack code in a package");
        g.codes.push_back(c);
        for (Value k : c->consts) g.add(k);
        break;
      }
      case ObjType::Module: {
        auto* m = static_cast<ModuleObj*>(o);
        if (!m->name) internal("a module without a name");
        if (m->slot_names.size() != m->slots.size() || m->slot_builtin.size() != m->slots.size())
          internal("module '" + m->name->data + "' has inconsistent slots");
        g.add(m->name);
        for (Value v : m->slots) g.add(v);
        break;
      }
    }
  }
  return g;
}

// Strs the VM compares by pointer or looks up as names: Name operands and CALL's keyword
// names. Written interned whether or not they are now (call after verification).
void mark_names(const CodeObj& c, std::unordered_set<const Obj*>& intern) {
  auto mark = [&](Value v) {
    if (is_type(v, ObjType::Str)) intern.insert(v.as_obj());
  };
  for (RInstr in : c.rcode) {
    const ROpInfo& info = kROpInfo[in & 0xFF];
    if (info.a == RegOperand::Name) mark(c.consts[ra(in)]);
    if (info.b == RegOperand::Name) mark(c.consts[rb(in)]);
    if (info.c == RegOperand::Name) mark(c.consts[rc(in)]);
    if (rop(in) == ROp::CALL && rc(in) > 0)
      for (Value n : as_obj<TupleObj>(c.consts[rc(in) - 1])->items) mark(n);
  }
}

// ---------------------------------------------------------------- global slot bounds

// For every code, the fewest global slots among the modules it may run in. A function runs in
// its module; code nested as a constant runs in its parent's (CLOSURE makes functions of the
// running frame's module); a module's top-level code runs in the module the VM makes for it
// with one slot per name of the code's slot_names (vm/reg_vm.cpp, new_module), names that
// must therefore be distinct (`duplicate` gets the first one repeated). Code reached no other
// way gets 0.
std::unordered_map<const CodeObj*, size_t> global_bounds(const std::vector<Obj*>& objects,
                                                         const std::vector<Program::ModuleCode>& modules,
                                                         std::string* duplicate) {
  std::vector<std::pair<size_t, const CodeObj*>> sources;
  for (Obj* o : objects)
    if (o->type == ObjType::Function) {
      auto* f = static_cast<FunctionObj*>(o);
      sources.push_back({f->module ? f->module->slots.size() : 0, f->code});
    }
  for (const Program::ModuleCode& m : modules) {
    std::unordered_set<const StrObj*> seen;
    for (const StrObj* s : m.code->slot_names)
      if (!seen.insert(s).second && duplicate->empty()) *duplicate = "module '" + m.name + "' names global '" + s->data + "' twice";
    sources.push_back({m.code->slot_names.size(), m.code});
  }
  std::stable_sort(sources.begin(), sources.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  // Every code reachable from a source through code constants gets the smallest source bound
  // that reaches it: sources in increasing order, each marking what is not marked yet.
  std::unordered_map<const CodeObj*, size_t> bound;
  std::vector<const CodeObj*> work;
  for (auto [n, code] : sources) {
    if (!bound.emplace(code, n).second) continue;
    work.push_back(code);
    while (!work.empty()) {
      const CodeObj* c = work.back();
      work.pop_back();
      for (Value k : c->consts)
        if (is_type(k, ObjType::Code) && bound.emplace(as_obj<CodeObj>(k), n).second) work.push_back(as_obj<CodeObj>(k));
    }
  }
  return bound;
}

size_t bound_of(const std::unordered_map<const CodeObj*, size_t>& bounds, const CodeObj* c) {
  auto it = bounds.find(c);
  return it == bounds.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- section writers

class SectionWriter {
 public:
  SectionWriter(const Program& p, const Graph& g, std::unordered_set<const Obj*> intern)
      : p_(p), g_(g), intern_(std::move(intern)) {}

  // With the names of the files SRCE holds (none when stripped).
  std::vector<uint8_t> manifest(bool strip) {
    ByteWriter w;
    const Manifest& m = p_.manifest;
    w.u8(m.is_script);
    w.str(m.name);
    w.str(m.source_name);
    w.str(m.entry);
    w.str(m.producer);
    w.uv(m.inputs.size());
    for (const Manifest::Input& in : m.inputs) {
      w.str(in.name);
      annotation(w, in.annotation);
    }
    annotation(w, m.output);
    strings(w, m.dim_names);
    w.uv(p_.modules.size());
    for (const Program::ModuleCode& mod : p_.modules) {
      w.str(mod.name);
      w.str(mod.path);
      w.uv(g_.index.at(mod.code));
    }
    value(w, p_.entry, false);
    w.uv(strip ? 0 : p_.sources.size());
    if (!strip)
      for (const auto& [name, text] : p_.sources) w.str(name);
    return std::move(w.bytes);
  }

  std::vector<uint8_t> sources() {
    ByteWriter w;
    for (const auto& [name, text] : p_.sources) w.str(text);
    return std::move(w.bytes);
  }

  std::vector<uint8_t> constants() {
    ByteWriter w;
    w.uv(g_.objects.size());
    for (Obj* o : g_.objects) object(w, o);
    return std::move(w.bytes);
  }

  std::vector<uint8_t> code() {
    ByteWriter w;
    w.uv(g_.codes.size());
    for (const CodeObj* c : g_.codes) code_record(w, *c);
    return std::move(w.bytes);
  }

  std::vector<uint8_t> debug() {
    ByteWriter w;
    w.uv(g_.codes.size());
    for (const CodeObj* c : g_.codes) {
      w.uv(c->locs.size());
      int64_t line = 0;
      for (const SourceLoc& l : c->locs) {
        w.sv(int64_t(l.line) - line);
        w.sv(l.col);
        line = l.line;
      }
    }
    return std::move(w.bytes);
  }

  // Every tensor's data at a 64-byte aligned offset, in object order.
  std::vector<uint8_t> weights() {
    std::vector<uint8_t> out;
    for (Obj* o : g_.objects) {
      if (o->type != ObjType::Tensor) continue;
      auto* t = static_cast<TensorObj*>(o);
      size_t at = (out.size() + kWeightAlign - 1) & ~(kWeightAlign - 1);
      weight_offset_[t] = at;
      out.resize(at + size_t(t->numel) * 4);
      if (t->numel) std::memcpy(out.data() + at, t->data, size_t(t->numel) * 4);
    }
    return out;
  }

 private:
  void strings(ByteWriter& w, const std::vector<std::string>& v) {
    w.uv(v.size());
    for (const std::string& s : v) w.str(s);
  }

  void annotation(ByteWriter& w, const Annotation& a) {
    w.u8(a.kind);
    w.u8(a.has_dims);
    if (a.has_dims) {
      w.uv(a.dims.size());
      for (const Annotation::Dim& d : a.dims) {
        w.sv(d.size < 0 ? -1 : d.size);
        if (d.size < 0) {
          w.str(d.name);
          w.uv(uint64_t(d.index));
        }
      }
    }
    w.str(a.text);
  }

  void value(ByteWriter& w, Value v, bool allow_unassigned) {
    if (v.is_none()) {
      w.u8(kTagNone);
    } else if (v.is_bool()) {
      w.u8(v.as_bool() ? kTagTrue : kTagFalse);
    } else if (v.is_undefined()) {
      if (!allow_unassigned) internal("an unassigned value where a value is needed");
      w.u8(kTagUnassigned);
    } else if (v.is_small_int()) {
      w.u8(kTagInt);
      w.sv(v.as_small_int());
    } else if (v.is_double()) {
      w.u8(kTagFloat);
      w.fixed(v.bits(), 8);
    } else {
      w.u8(kTagObject);
      w.uv(g_.index.at(v.as_obj()));
    }
  }

  bool interned_on_load(const Obj* o) const {
    return o->type == ObjType::Str && (static_cast<const StrObj*>(o)->interned || intern_.count(o));
  }

  void object(ByteWriter& w, Obj* o) {
    // Shared objects (builtins, interned strs) are not the package's to freeze.
    bool shared = o->type == ObjType::Builtin || interned_on_load(o);
    bool frozen = (o->flags & Obj::kFrozen) && !shared;
    w.u8(kind_of(o->type));
    w.u8((frozen ? kFlagFrozen : 0) | (interned_on_load(o) ? kFlagInterned : 0));
    if (frozen) {
      const std::string* name = frozen_name(o);
      w.str(name ? *name : std::string());
    }
    switch (o->type) {
      case ObjType::Str: w.str(static_cast<StrObj*>(o)->data); break;
      case ObjType::BigInt: w.sv(static_cast<BigIntObj*>(o)->value); break;
      case ObjType::List:
      case ObjType::Tuple: {
        const auto& items = o->type == ObjType::List ? static_cast<ListObj*>(o)->items : static_cast<TupleObj*>(o)->items;
        w.uv(items.size());
        for (Value v : items) value(w, v, false);
        break;
      }
      case ObjType::Dict: {
        auto* d = static_cast<DictObj*>(o);
        w.uv(d->entries.size());
        for (const DictObj::Entry& e : d->entries) {
          value(w, e.key, false);
          value(w, e.value, false);
        }
        break;
      }
      case ObjType::Range: {
        auto* r = static_cast<RangeObj*>(o);
        w.sv(r->start);
        w.sv(r->stop);
        w.sv(r->step);
        break;
      }
      case ObjType::Slice: {
        auto* s = static_cast<SliceObj*>(o);
        value(w, s->lower, false);
        value(w, s->upper, false);
        value(w, s->step, false);
        break;
      }
      case ObjType::Function: {
        auto* f = static_cast<FunctionObj*>(o);
        w.uv(g_.index.at(f->code));
        value(w, f->module ? Value::object(f->module) : Value::none(), false);
        w.uv(f->defaults.size());
        for (Value d : f->defaults) value(w, d, false);
        w.uv(f->cells.size());
        for (CellObj* c : f->cells) w.uv(g_.index.at(c));
        break;
      }
      case ObjType::Builtin: w.str(static_cast<BuiltinObj*>(o)->def->name); break;
      case ObjType::BoundMethod: {
        auto* bm = static_cast<BoundMethodObj*>(o);
        value(w, bm->self, false);
        w.str(bm->def->name);
        break;
      }
      case ObjType::Cell: value(w, static_cast<CellObj*>(o)->value, true); break;
      case ObjType::Code: break;  // its record is in CODE
      case ObjType::Module: {
        auto* m = static_cast<ModuleObj*>(o);
        w.uv(g_.index.at(m->name));
        w.str(m->path);
        w.uv(m->slots.size());
        std::span<const BuiltinDef> rows = builtins();
        for (size_t i = 0; i < m->slots.size(); ++i) {
          const std::string& name = m->slot_names[i]->data;
          w.str(name);
          value(w, m->slots[i], true);
          int b = m->slot_builtin[i];
          if (b < 0) {
            w.u8(kNoBuiltin);
          } else if (size_t(b) >= rows.size()) {
            internal("module '" + m->name->data + "': bad builtin index");
          } else if (rows[b].name == name) {
            w.u8(kSameName);
          } else {
            w.u8(kNamed);
            w.str(rows[b].name);
          }
        }
        break;
      }
      case ObjType::Tensor: {
        auto* t = static_cast<TensorObj*>(o);
        w.u8(t->ndim);
        for (int64_t d : t->dims()) w.uv(uint64_t(d));
        w.uv(weight_offset_.at(t));
        break;
      }
      case ObjType::Iter: break;  // refused by walk
    }
  }

  static uint8_t kind_of(ObjType t) {
    switch (t) {
      case ObjType::Str: return kStr;
      case ObjType::BigInt: return kBigInt;
      case ObjType::List: return kList;
      case ObjType::Tuple: return kTuple;
      case ObjType::Dict: return kDict;
      case ObjType::Range: return kRange;
      case ObjType::Slice: return kSlice;
      case ObjType::Function: return kFunction;
      case ObjType::Builtin: return kBuiltin;
      case ObjType::BoundMethod: return kBoundMethod;
      case ObjType::Cell: return kCell;
      case ObjType::Code: return kCode;
      case ObjType::Module: return kModule;
      case ObjType::Tensor: return kTensor;
      case ObjType::Iter: break;
    }
    return 0;
  }

  void code_record(ByteWriter& w, const CodeObj& c) {
    w.str(c.name);
    w.str(c.filename);
    w.uv(uint64_t(c.nparams));
    w.u8(c.has_varargs);
    w.uv(uint64_t(c.nregs));
    w.uv(uint64_t(c.nfree));
    w.uv(c.slot_names.size());
    for (StrObj* s : c.slot_names) w.str(s->data);
    for (StrObj* s : c.free_names) w.str(s->data);  // nfree of them (verified)
    w.u8(c.annotated);
    w.uv(c.param_annotations.size());
    for (const Annotation& a : c.param_annotations) annotation(w, a);
    annotation(w, c.return_annotation);
    strings(w, c.dim_names);
    w.u8(c.keep_dim_bindings);
    w.uv(c.rcode.size());
    for (RInstr in : c.rcode) w.fixed(in, 8);
    w.uv(c.consts.size());
    for (Value k : c.consts) value(w, k, false);
    w.uv(c.kernels.size());
    for (const KernelDesc& k : c.kernels) {
      w.u8(k.kind);
      w.u8(k.arity);
      w.u8(uint8_t(k.act));
      w.u8(k.has_bias);
      w.uv(k.steps.size());
      for (const EwStep& s : k.steps) {
        w.u8(s.kind);
        w.u8(s.op);
        w.u8(s.a);
        w.u8(s.b);
        w.u8(s.c);
        w.fixed(std::bit_cast<uint32_t>(s.imm), 4);
      }
    }
  }

  const Program& p_;
  const Graph& g_;
  std::unordered_set<const Obj*> intern_;
  std::unordered_map<const TensorObj*, size_t> weight_offset_;
};

// Why the manifest's annotations cannot be checked against inputs, or "".
std::string manifest_annotations_problem(const Manifest& m) {
  for (size_t i = 0; i < m.inputs.size(); ++i)
    if (std::string e = check_annotation(m.inputs[i].annotation, m.dim_names.size(), "input '" + m.inputs[i].name + "'"); !e.empty())
      return e;
  return check_annotation(m.output, m.dim_names.size(), "output");
}

OwnedSection owned(const char (&kind)[5], std::vector<uint8_t> data, uint32_t align = 1) {
  OwnedSection s;
  std::memcpy(s.kind, kind, 4);
  s.data = std::move(data);
  s.align = align;
  return s;
}

// ---------------------------------------------------------------- reading

// An encoded value before the objects it may refer to exist.
struct RawValue {
  uint8_t tag = kTagNone;
  uint64_t payload = 0;  // the int (zigzag-decoded, as bits), the double's bits, or the index
};

// MANI and SRCE, parsed: moved into the Program only once everything has been checked (a
// Program's destructor frees what it holds).
struct ProgramParts {
  Manifest manifest;
  std::vector<Program::ModuleCode> modules;
  Value entry = Value::none();
  std::vector<std::pair<std::string, std::string>> sources;
};

// What few records need (kept apart so that the many small ones stay small).
struct RecordExtra {
  std::string frozen_name;
  std::vector<uint64_t> refs;      // function: code, then cells; module: name
  std::vector<std::string> names;  // module slot names
  std::vector<int16_t> builtin;    // module slot builtins
  std::vector<int64_t> shape;      // tensor
  uint64_t offset = 0;             // tensor
};

// One CNST record, parsed.
struct Record {
  uint8_t kind = 0;
  uint8_t flags = 0;
  std::string text;              // str, builtin name, method name, module path
  int64_t ints[3] = {};          // BigInt; Range start, stop, step; builtin index
  std::vector<RawValue> values;  // items; dict key, value, ...; slice parts; function module
                                 // then defaults; cell value; method self; module slots
  std::unique_ptr<RecordExtra> extra;
  RecordExtra& x() {
    if (!extra) extra = std::make_unique<RecordExtra>();
    return *extra;
  }
};

class Loader {
 public:
  explicit Loader(const PackageReader& reader) : reader_(reader) {}
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;
  ~Loader() {
    // Objects still owned here mean the load failed: a Program frees them as it frees its own
    // (immortal objects referring to each other in any shape).
    if (!owned_.empty()) {
      Program discard;
      discard.objects = std::move(owned_);
    }
  }

  std::unique_ptr<Program> load();

 private:
  // ---- errors
  [[noreturn]] void fail(const std::string& why) const {
    std::string where = section_;
    if (!where_.empty()) where += ", " + where_;
    throw PackageError("'" + reader_.name() + "': corrupt package (" + where + "): " + why);
  }

  // ---- bytes
  void begin(const char* kind, const std::vector<uint8_t>& bytes) {
    section_ = kind;
    where_.clear();
    p_ = bytes.data();
    end_ = bytes.data() + bytes.size();
  }
  void finish() {
    where_.clear();
    if (p_ != end_) fail(std::to_string(end_ - p_) + (end_ - p_ == 1 ? " byte" : " bytes") + " left over");
  }
  size_t left() const { return size_t(end_ - p_); }
  uint8_t u8() {
    if (p_ == end_) fail("truncated");
    return *p_++;
  }
  bool boolean() {
    uint8_t b = u8();
    if (b > 1) fail("a boolean byte is " + std::to_string(b));
    return b;
  }
  uint64_t uv() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      if (shift == 63 && b > 1) break;
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("a varint is too long");
  }
  int64_t sv() {
    uint64_t z = uv();
    return int64_t(z >> 1) ^ -int64_t(z & 1);
  }
  uint64_t fixed(int n) {
    if (left() < size_t(n)) fail("truncated");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(p_[i]) << (8 * i);
    p_ += n;
    return v;
  }
  // A varint below `limit`.
  uint64_t below(uint64_t limit, const char* what) {
    uint64_t v = uv();
    if (v >= limit) fail(std::string(what) + " " + std::to_string(v) + " is not below " + std::to_string(limit));
    return v;
  }
  // A count of items that take at least `min_bytes` each: never more than the bytes left can hold.
  size_t count(size_t min_bytes, const char* what) {
    uint64_t n = uv();
    if (n > left() / min_bytes) fail(std::string(what) + ": count " + std::to_string(n) + " is more than the section holds");
    return size_t(n);
  }
  std::string str() {
    size_t n = count(1, "string");
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  RawValue raw_value() {
    RawValue v;
    v.tag = u8();
    switch (v.tag) {
      case kTagNone:
      case kTagFalse:
      case kTagTrue:
      case kTagUnassigned: break;
      case kTagInt: {
        int64_t i = sv();
        if (!Value::fits_small(i)) fail("an inline int out of range");
        v.payload = uint64_t(i);
        break;
      }
      case kTagFloat: v.payload = fixed(8); break;
      case kTagObject: v.payload = below(nobjects_, "object reference"); break;
      default: fail("unknown value tag " + std::to_string(v.tag));
    }
    return v;
  }
  Value resolve(const RawValue& v, bool allow_unassigned) {
    switch (v.tag) {
      case kTagNone: return Value::none();
      case kTagFalse: return Value::boolean(false);
      case kTagTrue: return Value::boolean(true);
      case kTagUnassigned:
        if (!allow_unassigned) fail("an unassigned value where a value is needed");
        return Value::undefined();
      case kTagInt: return Value::small_int(int64_t(v.payload));
      case kTagFloat: return Value::number(std::bit_cast<double>(v.payload));  // NaNs canonical
      default: return Value::object(objects_[v.payload]);
    }
  }
  Value value(bool allow_unassigned) { return resolve(raw_value(), allow_unassigned); }
  // An object reference that must be of `kind`.
  Obj* ref_of(uint64_t index, uint8_t kind) {
    if (index >= nobjects_) fail("object reference " + std::to_string(index) + " is not below " + std::to_string(nobjects_));
    if (records_[index].kind != kind)
      fail("object " + std::to_string(index) + " is a " + kKindNames[records_[index].kind] + ", not a " + kKindNames[kind]);
    return objects_[index];
  }

  // ---- sections
  std::vector<uint8_t> section(const char* kind, bool required, bool* present = nullptr) {
    std::ptrdiff_t i = reader_.find(kind);
    if (present) *present = i >= 0;
    if (i < 0) {
      if (required) throw PackageError("'" + reader_.name() + "': not a complete package (no section '" + kind + "')");
      return {};
    }
    return reader_.read_section(size_t(i));
  }
  void read_weights();

  // ---- objects
  void own(Obj* o) {
    o->refcount = Obj::kImmortal;
    if (is_gc_type(o->type)) gc_untrack(static_cast<GcObj*>(o));
    owned_.push_back(o);
  }
  Annotation annotation();
  void parse_constants();
  Record parse_record();
  void make_objects();
  void fill_objects();
  void check_acyclic();
  void fill_dicts();
  void parse_code();
  void parse_code_record(CodeObj& c);
  void parse_debug();
  void parse_manifest(ProgramParts& p);
  void check_and_verify(const std::vector<Program::ModuleCode>& modules);

  const PackageReader& reader_;
  std::string section_, where_;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;

  size_t nobjects_ = 0;
  std::vector<Record> records_;
  std::vector<Obj*> objects_;     // by index: the package's own objects, interned strs, builtins
  std::vector<CodeObj*> codes_;   // the Code objects in object order
  std::vector<Obj*> owned_;       // what this load made (freed unless handed to the Program)

  std::shared_ptr<void> weights_;
  size_t weights_size_ = 0;
};

void Loader::read_weights() {
  std::ptrdiff_t i = reader_.find("WGHT");
  if (i < 0) throw PackageError("'" + reader_.name() + "': not a complete package (no section 'WGHT')");
  uint64_t size = reader_.uncompressed_size(size_t(i));
  size_t align = std::max<size_t>(kWeightAlign, reader_.alignment(size_t(i)));
  // aligned_alloc wants a multiple of the alignment; never empty, so every tensor's data
  // pointer is valid.
  size_t alloc = size_t((std::max<uint64_t>(size, 1) + align - 1) & ~uint64_t(align - 1));
  void* mem = std::aligned_alloc(align, alloc);
  if (!mem) throw std::bad_alloc();
  weights_ = std::shared_ptr<void>(mem, std::free);
  weights_size_ = size_t(size);
  reader_.read_section(size_t(i), std::span<uint8_t>(static_cast<uint8_t*>(mem), weights_size_));
}

// Dimension indices are checked against the names, which come after (check_annotation).
Annotation Loader::annotation() {
  Annotation a;
  uint8_t kind = u8();
  if (kind > Annotation::Tensor) fail("unknown annotation kind " + std::to_string(kind));
  a.kind = Annotation::Kind(kind);
  a.has_dims = boolean();
  if (a.has_dims) {
    if (a.kind != Annotation::Tensor) fail("dimensions on a non-Tensor annotation");
    size_t n = count(1, "dimensions");
    if (n > size_t(kMaxRank)) fail(std::to_string(n) + " dimensions in an annotation (at most 8)");
    for (size_t i = 0; i < n; ++i) {
      Annotation::Dim d;
      d.size = sv();
      if (d.size < -1) fail("dimension size " + std::to_string(d.size));
      if (d.size == -1) {
        d.name = str();
        d.index = int(below(uint64_t(1) << 31, "dimension name index"));
      }
      a.dims.push_back(std::move(d));
    }
  }
  a.text = str();
  return a;
}

// ---- CNST

Record Loader::parse_record() {
  Record r;
  r.kind = u8();
  if (r.kind == 0 || r.kind > kLastKind) fail("unknown object kind " + std::to_string(r.kind));
  r.flags = u8();
  if (r.flags & ~(kFlagFrozen | kFlagInterned)) fail("unknown object flags " + std::to_string(r.flags));
  if ((r.flags & kFlagInterned) && r.kind != kStr) fail("an interned " + std::string(kKindNames[r.kind]));
  if ((r.flags & kFlagFrozen) && (r.kind == kBuiltin || (r.flags & kFlagInterned)))
    fail(std::string("a frozen shared ") + kKindNames[r.kind]);
  if (r.flags & kFlagFrozen) r.x().frozen_name = str();
  switch (r.kind) {
    case kStr: r.text = str(); break;
    case kBuiltin:
      r.text = str();
      r.ints[0] = builtin_index(r.text);
      if (r.ints[0] < 0) fail("no builtin '" + r.text + "'");
      break;
    case kBigInt:
      r.ints[0] = sv();
      if (Value::fits_small(r.ints[0])) fail("a boxed int within the inline range");
      break;
    case kList:
    case kTuple: {
      size_t n = count(1, "items");
      r.values.reserve(n);
      for (size_t i = 0; i < n; ++i) r.values.push_back(raw_value());
      break;
    }
    case kDict: {
      size_t n = count(2, "entries");
      r.values.reserve(2 * n);
      for (size_t i = 0; i < 2 * n; ++i) r.values.push_back(raw_value());
      break;
    }
    case kRange:
      for (int64_t& x : r.ints) x = sv();
      if (r.ints[2] == 0) fail("a range with step 0");
      break;
    case kSlice:
      for (int i = 0; i < 3; ++i) r.values.push_back(raw_value());
      break;
    case kFunction: {
      RecordExtra& x = r.x();
      x.refs.push_back(uv());           // code
      r.values.push_back(raw_value());  // module
      size_t nd = count(1, "defaults");
      for (size_t i = 0; i < nd; ++i) r.values.push_back(raw_value());
      size_t nc = count(1, "cells");
      for (size_t i = 0; i < nc; ++i) x.refs.push_back(uv());
      break;
    }
    case kBoundMethod:
      r.values.push_back(raw_value());
      r.text = str();
      break;
    case kCell: r.values.push_back(raw_value()); break;
    case kCode: break;
    case kModule: {
      RecordExtra& x = r.x();
      x.refs.push_back(uv());  // name
      r.text = str();
      size_t n = count(3, "slots");
      for (size_t i = 0; i < n; ++i) {
        x.names.push_back(str());
        r.values.push_back(raw_value());
        uint8_t mode = u8();
        int index = -1;
        if (mode == kSameName) {
          index = builtin_index(x.names.back());
          if (index < 0) fail("no builtin '" + x.names.back() + "'");
        } else if (mode == kNamed) {
          std::string name = str();
          index = builtin_index(name);
          if (index < 0) fail("no builtin '" + name + "'");
        } else if (mode != kNoBuiltin) {
          fail("unknown slot builtin mode " + std::to_string(mode));
        }
        x.builtin.push_back(int16_t(index));
      }
      break;
    }
    case kTensor: {
      RecordExtra& x = r.x();
      uint8_t ndim = u8();
      if (ndim > kMaxRank) fail("a tensor of " + std::to_string(ndim) + " dimensions");
      uint64_t numel = 1;
      bool overflow = false;
      for (int i = 0; i < ndim; ++i) {
        uint64_t d = uv();
        overflow |= d > uint64_t(INT64_MAX) || __builtin_mul_overflow(numel, d, &numel);
        x.shape.push_back(int64_t(d));
      }
      if (overflow) fail("a tensor too large to exist");
      x.offset = uv();
      if (x.offset % kWeightAlign) fail("tensor data at offset " + std::to_string(x.offset) + " is not 64-byte aligned");
      if (x.offset > weights_size_ || numel > (weights_size_ - x.offset) / 4)
        fail("tensor data (offset " + std::to_string(x.offset) + ") past the end of the weights (" +
             std::to_string(weights_size_) + " bytes)");
      break;
    }
  }
  return r;
}

void Loader::parse_constants() {
  nobjects_ = count(2, "objects");
  records_.reserve(nobjects_);
  for (size_t i = 0; i < nobjects_; ++i) {
    where_ = "object " + std::to_string(i);
    records_.push_back(parse_record());
  }
  finish();
}

// Every object, empty where it refers to others.
void Loader::make_objects() {
  objects_.reserve(nobjects_);
  for (size_t i = 0; i < nobjects_; ++i) {
    Record& r = records_[i];
    where_ = "object " + std::to_string(i);
    Obj* o = nullptr;
    switch (r.kind) {
      case kStr:
        if (r.flags & kFlagInterned) {
          objects_.push_back(intern(r.text));  // shared: not the Program's
          continue;
        }
        o = new StrObj(std::move(r.text));
        break;
      case kBuiltin:
        objects_.push_back(builtin_value(int(r.ints[0])).as_obj());  // shared: not the Program's
        continue;
      case kBigInt: o = new BigIntObj(r.ints[0]); break;
      case kList: o = new ListObj(); break;
      case kTuple: o = new TupleObj(); break;
      case kDict: o = new DictObj(); break;
      case kRange: o = new RangeObj(r.ints[0], r.ints[1], r.ints[2]); break;
      case kSlice: o = new SliceObj(); break;
      case kFunction: o = new FunctionObj(nullptr, nullptr); break;
      case kBoundMethod: o = new BoundMethodObj(Value::none(), nullptr); break;
      case kCell: o = new CellObj(); break;
      case kCode: {
        auto* c = new CodeObj();
        c->is_register = true;
        codes_.push_back(c);
        o = c;
        break;
      }
      case kModule: {
        auto* m = new ModuleObj(nullptr);
        own(m->names);
        o = m;
        break;
      }
      case kTensor:
        try {
          o = new_tensor_external(r.extra->shape, reinterpret_cast<float*>(static_cast<uint8_t*>(weights_.get()) + r.extra->offset));
        } catch (const RuntimeError& e) {
          fail(e.what());
        }
        break;
    }
    own(o);
    o->flags = (r.flags & kFlagFrozen) ? Obj::kFrozen : 0;
    objects_.push_back(o);
  }
}

// References, now that every object exists. Dicts wait for fill_dicts (keys are hashed).
void Loader::fill_objects() {
  for (size_t i = 0; i < nobjects_; ++i) {
    const Record& r = records_[i];
    Obj* o = objects_[i];
    where_ = "object " + std::to_string(i) + " (" + kKindNames[r.kind] + ")";
    switch (r.kind) {
      case kList:
      case kTuple: {
        auto& items = r.kind == kList ? static_cast<ListObj*>(o)->items : static_cast<TupleObj*>(o)->items;
        items.reserve(r.values.size());
        for (const RawValue& v : r.values) items.push_back(resolve(v, false));
        break;
      }
      case kSlice: {
        auto* s = static_cast<SliceObj*>(o);
        s->lower = resolve(r.values[0], false);
        s->upper = resolve(r.values[1], false);
        s->step = resolve(r.values[2], false);
        break;
      }
      case kFunction: {
        auto* f = static_cast<FunctionObj*>(o);
        f->code = static_cast<CodeObj*>(ref_of(r.extra->refs[0], kCode));
        if (r.values[0].tag != kTagNone) {
          if (r.values[0].tag != kTagObject) fail("the module is not a module");
          f->module = static_cast<ModuleObj*>(ref_of(r.values[0].payload, kModule));
        }
        for (size_t k = 1; k < r.values.size(); ++k) f->defaults.push_back(resolve(r.values[k], false));
        for (size_t k = 1; k < r.extra->refs.size(); ++k) f->cells.push_back(static_cast<CellObj*>(ref_of(r.extra->refs[k], kCell)));
        break;
      }
      case kBoundMethod: {
        auto* bm = static_cast<BoundMethodObj*>(o);
        bm->self = resolve(r.values[0], false);
        bm->def = find_method(bm->self, r.text);
        if (!bm->def) fail(std::string("a '") + type_name(bm->self) + "' has no method '" + r.text + "'");
        break;
      }
      case kCell: static_cast<CellObj*>(o)->value = resolve(r.values[0], true); break;
      case kModule: {
        auto* m = static_cast<ModuleObj*>(o);
        m->name = static_cast<StrObj*>(ref_of(r.extra->refs[0], kStr));
        m->path = r.text;
        for (size_t k = 0; k < r.extra->names.size(); ++k) {
          StrObj* name = intern(r.extra->names[k]);
          m->names->set(Value::object(name), Value::small_int(int64_t(k)));
          if (m->names->size() != k + 1) fail("module slot '" + r.extra->names[k] + "' twice");
          m->slot_names.push_back(name);
          m->slots.push_back(resolve(r.values[k], true));
          m->slot_builtin.push_back(r.extra->builtin[k]);
        }
        break;
      }
      default: break;
    }
  }
}

// Immutable containers (tuples, slices) cannot reach themselves without a mutable one between:
// a package that says otherwise would send hashing, comparing and printing round forever.
void Loader::check_acyclic() {
  where_.clear();
  auto children = [&](size_t i) -> const std::vector<RawValue>* {
    uint8_t k = records_[i].kind;
    return k == kTuple || k == kSlice ? &records_[i].values : nullptr;
  };
  enum : uint8_t { kUnseen, kOnPath, kDone };
  std::vector<uint8_t> state(nobjects_, kUnseen);
  std::vector<std::pair<size_t, size_t>> stack;  // (object, next child)
  for (size_t root = 0; root < nobjects_; ++root) {
    if (state[root] != kUnseen || !children(root)) continue;
    stack.push_back({root, 0});
    state[root] = kOnPath;
    while (!stack.empty()) {
      auto& [obj, next] = stack.back();
      const std::vector<RawValue>& kids = *children(obj);
      if (next == kids.size()) {
        state[obj] = kDone;
        stack.pop_back();
        continue;
      }
      const RawValue& v = kids[next++];
      if (v.tag != kTagObject || !children(v.payload)) continue;
      if (state[v.payload] == kOnPath) fail("object " + std::to_string(v.payload) + " (a " + kKindNames[records_[v.payload].kind] + ") contains itself");
      if (state[v.payload] == kUnseen) {
        state[v.payload] = kOnPath;
        stack.push_back({size_t(v.payload), 0});
      }
    }
  }
}

void Loader::fill_dicts() {
  for (size_t i = 0; i < nobjects_; ++i) {
    const Record& r = records_[i];
    if (r.kind != kDict) continue;
    where_ = "object " + std::to_string(i) + " (dict)";
    auto* d = static_cast<DictObj*>(objects_[i]);
    for (size_t k = 0; k < r.values.size(); k += 2) {
      Value key = resolve(r.values[k], false), value = resolve(r.values[k + 1], false);
      try {
        d->set(key, value);
      } catch (const RuntimeError& e) {
        fail(std::string("key ") + std::to_string(k / 2) + ": " + e.what());
      }
      if (d->size() != k / 2 + 1) fail("key " + std::to_string(k / 2) + " repeats an earlier key");
    }
  }
}

// ---- CODE and DBUG

void Loader::parse_code_record(CodeObj& c) {
  c.name = str();
  c.filename = str();
  where_ += " '" + c.name + "'";
  c.nparams = int(below(uint64_t(kMaxRegisters) + 1, "parameter count"));
  c.has_varargs = boolean();
  c.nregs = int(below(uint64_t(kMaxRegisters) + 1, "register count"));
  c.nfree = int(below(uint64_t(kMaxBC) + 2, "closure cell count"));
  size_t nslots = count(1, "parameter names");
  for (size_t i = 0; i < nslots; ++i) c.slot_names.push_back(intern(str()));
  if (size_t(c.nfree) > left()) fail("more closure cells than the section holds");
  for (int i = 0; i < c.nfree; ++i) c.free_names.push_back(intern(str()));
  c.annotated = boolean();
  // The dimension names follow the annotations that index them: the verifier checks the indices.
  size_t nann = count(3, "annotations");
  std::vector<Annotation> anns;
  for (size_t i = 0; i <= nann; ++i) anns.push_back(annotation());
  size_t ndims = count(1, "dimension names");
  for (size_t i = 0; i < ndims; ++i) c.dim_names.push_back(str());
  c.return_annotation = std::move(anns.back());
  anns.pop_back();
  c.param_annotations = std::move(anns);
  c.keep_dim_bindings = boolean();
  size_t ninstr = count(8, "instructions");
  c.rcode.reserve(ninstr);
  for (size_t i = 0; i < ninstr; ++i) c.rcode.push_back(fixed(8));
  c.clear_end = register_clear_end(c.rcode, c.nregs);
  size_t nconsts = count(1, "constants");
  c.consts.reserve(nconsts);
  for (size_t i = 0; i < nconsts; ++i) c.consts.push_back(value(false));
  size_t nkernels = count(5, "kernels");
  for (size_t i = 0; i < nkernels; ++i) {
    KernelDesc k;
    uint8_t kind = u8(), arity = u8(), act = u8();
    if (kind > KernelDesc::Elementwise) fail("unknown kernel kind " + std::to_string(kind));
    if (act > uint8_t(Activation::Gelu)) fail("unknown activation " + std::to_string(act));
    k.kind = KernelDesc::Kind(kind);
    k.arity = arity;
    k.act = Activation(act);
    k.has_bias = boolean();
    size_t nsteps = count(9, "kernel steps");
    if (nsteps > size_t(KernelDesc::kMaxSteps)) fail(std::to_string(nsteps) + " kernel steps");
    for (size_t s = 0; s < nsteps; ++s) {
      EwStep st;
      uint8_t skind = u8();
      if (skind > EwStep::Where) fail("unknown kernel step kind " + std::to_string(skind));
      st.kind = EwStep::Kind(skind);
      st.op = u8();
      uint8_t max_op = st.kind == EwStep::Unary ? uint8_t(UnaryKind::Round) : st.kind == EwStep::Binary ? uint8_t(BinaryKind::Ne) : 0;
      if (st.op > max_op) fail("unknown kernel step op " + std::to_string(st.op));
      st.a = u8();
      st.b = u8();
      st.c = u8();
      st.imm = std::bit_cast<float>(uint32_t(fixed(4)));
      k.steps.push_back(st);
    }
    c.kernels.push_back(std::move(k));
  }
}

void Loader::parse_code() {
  size_t n = count(1, "code objects");
  if (n != codes_.size()) fail(std::to_string(n) + " code records for " + std::to_string(codes_.size()) + " code objects");
  for (size_t i = 0; i < n; ++i) {
    where_ = "code " + std::to_string(i);
    parse_code_record(*codes_[i]);
  }
  finish();
}

void Loader::parse_debug() {
  size_t n = count(1, "code objects");
  if (n != codes_.size()) fail(std::to_string(n) + " line tables for " + std::to_string(codes_.size()) + " code objects");
  for (size_t i = 0; i < n; ++i) {
    CodeObj& c = *codes_[i];
    where_ = "code " + std::to_string(i) + " '" + c.name + "'";
    size_t nlocs = count(2, "line table entries");
    if (nlocs != c.rcode.size()) fail(std::to_string(nlocs) + " line table entries for " + std::to_string(c.rcode.size()) + " instructions");
    c.locs.reserve(nlocs);
    int64_t line = 0;
    for (size_t k = 0; k < nlocs; ++k) {
      int64_t delta = sv(), col = sv();
      if (delta > INT32_MAX || delta < INT32_MIN) fail("line out of range");
      line += delta;
      if (line < INT32_MIN || line > INT32_MAX || col < INT32_MIN || col > INT32_MAX) fail("line or column out of range");
      c.locs.push_back({int32_t(line), int32_t(col)});
    }
  }
  finish();
}

// ---- MANI

void Loader::parse_manifest(ProgramParts& p) {
  Manifest& m = p.manifest;
  m.is_script = boolean();
  m.name = str();
  m.source_name = str();
  m.entry = str();
  m.producer = str();
  // As in code, the dimension names follow the annotations that index them.
  size_t ninputs = count(4, "inputs");
  for (size_t i = 0; i < ninputs; ++i) {
    where_ = "input " + std::to_string(i);
    std::string name = str();
    m.inputs.push_back({std::move(name), annotation()});
  }
  where_ = "output";
  m.output = annotation();
  where_.clear();
  size_t ndims = count(1, "dimension names");
  for (size_t i = 0; i < ndims; ++i) m.dim_names.push_back(str());
  if (std::string e = manifest_annotations_problem(m); !e.empty()) fail(e);
  size_t nmodules = count(3, "modules");
  for (size_t i = 0; i < nmodules; ++i) {
    where_ = "module " + std::to_string(i);
    Program::ModuleCode mod;
    mod.name = str();
    mod.path = str();
    mod.code = static_cast<CodeObj*>(ref_of(uv(), kCode));
    p.modules.push_back(std::move(mod));
  }
  where_ = "entry";
  RawValue entry = raw_value();
  if (entry.tag != kTagObject) fail("the entry is not a function");
  p.entry = Value::object(ref_of(entry.payload, kFunction));
  where_.clear();
  size_t nsources = count(1, "sources");
  for (size_t i = 0; i < nsources; ++i) p.sources.push_back({str(), std::string()});
  finish();
}

// What only a whole program can check: functions against their code, then the verifier.
void Loader::check_and_verify(const std::vector<Program::ModuleCode>& modules) {
  section_ = "CNST";
  for (size_t i = 0; i < nobjects_; ++i) {
    if (records_[i].kind != kFunction) continue;
    where_ = "object " + std::to_string(i) + " (function)";
    auto* f = static_cast<FunctionObj*>(objects_[i]);
    if (f->cells.size() != size_t(f->code->nfree))
      fail(std::to_string(f->cells.size()) + " closure cells for code '" + f->code->name + "' that takes " + std::to_string(f->code->nfree));
    if (f->defaults.size() > size_t(f->code->nparams))
      fail(std::to_string(f->defaults.size()) + " defaults for " + std::to_string(f->code->nparams) + " parameters");
  }
  section_ = "CODE";
  where_.clear();
  std::string duplicate;
  auto bounds = global_bounds(objects_, modules, &duplicate);
  if (!duplicate.empty()) fail(duplicate);
  for (const CodeObj* c : codes_) {
    VerifyContext ctx;
    ctx.nglobals = bound_of(bounds, c);
    if (std::string e = verify_code(*c, ctx); !e.empty())
      throw PackageError("'" + reader_.name() + "': code '" + c->name + "' does not verify: " + e);
  }
}

std::unique_ptr<Program> Loader::load() {
  std::vector<uint8_t> mani = section("MANI", true), code = section("CODE", true), cnst = section("CNST", true),
                       dbug = section("DBUG", true);
  bool has_sources = false;
  std::vector<uint8_t> srce = section("SRCE", false, &has_sources);
  read_weights();

  begin("CNST", cnst);
  parse_constants();
  section_ = "CNST";
  make_objects();
  fill_objects();
  check_acyclic();
  fill_dicts();
  begin("CODE", code);
  parse_code();
  begin("DBUG", dbug);
  parse_debug();

  ProgramParts parts;
  begin("MANI", mani);
  parse_manifest(parts);
  if (!parts.sources.empty() && !has_sources)
    throw PackageError("'" + reader_.name() + "': not a complete package (no section 'SRCE')");
  if (has_sources) {
    begin("SRCE", srce);
    for (auto& [name, text] : parts.sources) {
      where_ = "'" + name + "'";
      text = str();
    }
    finish();
  }
  check_and_verify(parts.modules);

  // Shared from here on: nothing may be written again, not even a str's cached hash.
  for (Obj* o : owned_)
    if (o->type == ObjType::Str) {
      static_cast<StrObj*>(o)->len();
      hash_value(Value::object(o));
    }
  auto program = std::make_unique<Program>();
  for (size_t i = 0; i < nobjects_; ++i)
    if (records_[i].flags & kFlagFrozen) freeze_object(objects_[i], records_[i].extra->frozen_name);
  program->manifest = std::move(parts.manifest);
  program->modules = std::move(parts.modules);
  program->entry = parts.entry;
  program->sources = std::move(parts.sources);
  program->objects = std::move(owned_);
  owned_.clear();
  program->weight_storage = std::move(weights_);
  return program;
}

}  // namespace

// ---------------------------------------------------------------- the API

std::vector<OwnedSection> program_sections(const Program& program, const WriteOptions& options) {
  Graph g = walk(program);
  // Check the code as a reader will, so a compiler bug fails the pack, not the run.
  std::string duplicate;
  auto bounds = global_bounds(g.objects, program.modules, &duplicate);
  if (!duplicate.empty()) internal(duplicate);
  std::unordered_set<const Obj*> intern;
  for (const CodeObj* c : g.codes) {
    VerifyContext ctx;
    ctx.nglobals = bound_of(bounds, c);
    ctx.require_interned = false;
    if (std::string e = verify_code(*c, ctx); !e.empty()) internal("code '" + c->name + "' does not verify: " + e);
    mark_names(*c, intern);
  }
  for (const Obj* o : g.objects)
    if (o->type == ObjType::Function) {
      auto* f = static_cast<const FunctionObj*>(o);
      if (f->cells.size() != size_t(f->code->nfree) || f->defaults.size() > size_t(f->code->nparams))
        internal("function '" + f->code->name + "' does not match its code");
    }
  if (!is_type(program.entry, ObjType::Function)) internal("the entry is not a function");
  if (std::string e = manifest_annotations_problem(program.manifest); !e.empty()) internal("manifest: " + e);

  SectionWriter w(program, g, std::move(intern));
  std::vector<uint8_t> weights = w.weights();  // first: the tensors' records need their offsets
  std::vector<OwnedSection> out;
  out.push_back(owned("MANI", w.manifest(options.strip)));
  out.push_back(owned("CODE", w.code()));
  out.push_back(owned("CNST", w.constants()));
  out.push_back(owned("WGHT", std::move(weights), kWeightAlign));
  out.push_back(owned("DBUG", w.debug()));
  if (!options.strip) out.push_back(owned("SRCE", w.sources()));
  return out;
}

std::vector<SectionIn> section_views(const std::vector<OwnedSection>& sections) {
  std::vector<SectionIn> in;
  for (const OwnedSection& s : sections) {
    SectionIn v;
    std::memcpy(v.kind, s.kind, 4);
    v.data = s.data;
    v.align = s.align;
    in.push_back(v);
  }
  return in;
}

std::vector<uint8_t> write_program(const Program& program, const WriteOptions& options) {
  std::vector<OwnedSection> sections = program_sections(program, options);
  return write_package(section_views(sections));
}

void write_program_file(const std::string& path, const Program& program, const WriteOptions& options) {
  std::vector<OwnedSection> sections = program_sections(program, options);
  write_package_file(path, section_views(sections));
}

std::unique_ptr<Program> load_program(const PackageReader& reader) {
  Loader loader(reader);
  return loader.load();
}

std::unique_ptr<Program> load_program_file(const std::string& path) {
  return load_program(PackageReader::open_file(path));
}

std::unique_ptr<Program> load_program_memory(const void* data, size_t size) {
  return load_program(PackageReader::from_memory({static_cast<const uint8_t*>(data), size}));
}

bool looks_like_package(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[sizeof kMagic];
  return f.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof magic) == 0;
}

}  // namespace tvm::pkg
