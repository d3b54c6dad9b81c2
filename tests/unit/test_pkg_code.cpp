// A Program as package sections and back (packager/pkg_code.cpp) and the bytecode verifier
// (packager/verify.cpp): a hand-built program with a value of every kind survives a round trip
// field for field, the bytes are deterministic, each verifier rule refuses its bad instruction,
// and a damaged package — the file, or any section's contents re-wrapped in a valid container —
// is one PackageError (exit code 3), never a crash (this also runs under ASan+UBSan).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "builtins.h"
#include "file_helpers.h"
#include "ops.h"
#include "pkg_code.h"
#include "pkg_file.h"
#include "program.h"
#include "tensor.h"
#include "verify.h"

using namespace tvm;
using namespace tvm::pkg;
using tvm::test::Bytes;
using tvm::test::TempDir;

namespace {

// ---------------------------------------------------------------- building a program by hand

// Objects of a hand-built Program are immortal and listed in its `objects`, as a loaded one's:
// its destructor frees them, cycles and all.
template <typename T>
T* own(Program& p, T* o) {
  o->refcount = Obj::kImmortal;
  if (is_gc_type(o->type)) gc_untrack(static_cast<GcObj*>(static_cast<Obj*>(o)));
  p.objects.push_back(o);
  return o;
}

Value str(Program& p, const std::string& s) { return Value::object(own(p, new StrObj(s))); }
Value obj(const Obj* o) { return Value::object(o); }

Annotation tensor_b4() {
  Annotation a;
  a.kind = Annotation::Tensor;
  a.has_dims = true;
  a.dims.push_back({-1, "B", 0});
  a.dims.push_back({4, "", -1});
  a.text = "Tensor[B, 4]";
  return a;
}

void set_locs(CodeObj* c, int first_line) {
  c->locs.clear();
  for (size_t i = 0; i < c->rcode.size(); ++i) c->locs.push_back({int32_t(first_line + int(i)), int32_t(i % 3)});
}

TensorObj* tensor(Program& p, std::vector<int64_t> shape, float first) {
  TensorObj* t = own(p, new_tensor(shape));
  for (int64_t i = 0; i < t->numel; ++i) t->data[i] = first + float(i);
  return t;
}

// `forward(x: Tensor[B, 4]) -> Tensor[B, 4]` in module `model`, whose constants hold a value
// of every kind a package can hold; plus a module `util` with its top-level code.
std::unique_ptr<Program> sample_program() {
  auto p = std::make_unique<Program>();
  Program& P = *p;

  auto* module = own(P, new ModuleObj(intern("model")));
  own(P, module->names);
  module->path = "model.tl";

  // A closure `counter` over one cell holding 42.
  auto* gcode = own(P, new CodeObj());
  gcode->is_register = true;
  gcode->name = "counter";
  gcode->filename = "model.tl";
  gcode->nregs = 1;
  gcode->nfree = 1;
  gcode->free_names = {intern("n")};
  gcode->rcode = {rencode(ROp::GETFREE, 0, 0), rencode(ROp::RETURN, 0, 0)};
  set_locs(gcode, 20);
  auto* cell = own(P, new CellObj());
  cell->value = Value::small_int(42);
  auto* closure = own(P, new FunctionObj(gcode, module));
  closure->cells.push_back(cell);
  auto* empty_cell = own(P, new CellObj());  // unassigned

  auto* code = own(P, new CodeObj());
  code->is_register = true;
  code->name = "forward";
  code->filename = "model.tl";
  code->nparams = 1;
  code->nregs = 4;
  code->slot_names = {intern("x")};
  code->annotated = true;
  code->param_annotations = {tensor_b4()};
  code->return_annotation = tensor_b4();
  code->dim_names = {"B"};
  code->keep_dim_bindings = true;

  TensorObj* weight = tensor(P, {2, 3}, 0.5f);
  TensorObj* scalar = tensor(P, {}, -7.0f);
  TensorObj* empty = tensor(P, {0, 5}, 0.0f);

  auto* layers = own(P, new ListObj());
  layers->items = {Value::small_int(1), str(P, "a"), obj(weight), Value::none()};
  layers->items.push_back(obj(layers));  // a list that holds itself
  auto* key = own(P, new TupleObj());
  key->items = {Value::small_int(1), Value::number(2.5)};
  auto* config = own(P, new DictObj());
  config->set(str(P, "k"), obj(layers));
  config->set(Value::small_int(3), Value::number(4.5));
  config->set(obj(key), Value::none());
  auto* range = own(P, new RangeObj(0, 10, 2));
  auto* slice = own(P, new SliceObj());
  slice->lower = Value::small_int(1);
  slice->upper = Value::none();
  slice->step = Value::small_int(-2);
  auto* big = own(P, new BigIntObj(int64_t(1) << 60));
  Value upper_self = str(P, "abc");
  auto* method = own(P, new BoundMethodObj(upper_self, find_method(upper_self, "upper")));
  auto* kwnames = own(P, new TupleObj());
  kwnames->items = {obj(intern("dim"))};

  code->consts = {Value::none(), Value::boolean(true), Value::boolean(false), Value::small_int(-123456789),
                  Value::number(1.5), Value::number(NAN), str(P, "hello"), obj(intern("shape")),
                  obj(weight), obj(weight), obj(scalar), obj(empty), obj(layers), obj(config), obj(key),
                  obj(range), obj(slice), obj(big), obj(closure), obj(gcode), obj(module),
                  builtin_value(builtin_index("len")), obj(method), obj(kwnames), obj(empty_cell),
                  Value::small_int(Value::kSmallIntMin)};
  // K[7] is the Name operand of GETATTR; K[23] CALL's keyword names.
  code->rcode = {
      rencode(ROp::CHECKARGS, 0),
      rencode(ROp::MOVE, 1, 0),
      rencode(ROp::GETGLOBAL, 2, 1),
      rencode(ROp::GETATTR, 3, 1, 7),
      rencode(ROp::CALL, 2, 1, 24),
      rencode(ROp::CHECKRETURN, 1),
      rencode(ROp::RETURN, 0, 1),
  };
  set_locs(code, 3);
  KernelDesc gemm;
  gemm.kind = KernelDesc::Gemm;
  gemm.arity = 3;
  gemm.act = Activation::Relu;
  gemm.has_bias = true;
  KernelDesc ew;
  ew.kind = KernelDesc::Elementwise;
  ew.arity = 2;
  ew.steps.push_back({EwStep::Binary, uint8_t(BinaryKind::Mul), 0, EwStep::kImmediate, 0, 2.0f});
  ew.steps.push_back({EwStep::Binary, uint8_t(BinaryKind::Add), 2, 1, 0, 0.0f});
  ew.steps.push_back({EwStep::Unary, uint8_t(UnaryKind::Sigmoid), 3, 0, 0, 0.0f});
  code->kernels = {gemm, ew};

  auto* forward = own(P, new FunctionObj(code, module));

  // Module slots: the entry (a cycle through the module), unassigned ones falling back to a
  // builtin of their own name, of another name, or to nothing.
  module->slot("__name__");
  module->slots[0] = str(P, "model");
  module->slot("forward");
  module->slots[1] = obj(forward);
  module->slot("len");
  module->slot("alias");
  module->slot_builtin[3] = int16_t(builtin_index("print"));
  module->slot("nothing");

  freeze_object(layers, "layers");
  freeze_object(config, "config");
  freeze_object(cell, "counter");
  freeze_object(module, "model");
  freeze_object(empty_cell, "");

  // A module's top-level code (a script package's import).
  auto* util = own(P, new CodeObj());
  util->is_register = true;
  util->name = "<module>";
  util->filename = "util.tl";
  util->nregs = 1;
  util->slot_names = {intern("__name__"), intern("version")};  // its globals, in slot order
  util->consts = {str(P, "util")};
  util->rcode = {rencode(ROp::LOADK, 0, 0), rencode(ROp::SETGLOBAL, 0, 1), rencode(ROp::RETURN, 0, 0)};
  set_locs(util, 1);

  P.entry = obj(forward);
  P.modules.push_back({"util", "util.tl", util});
  P.manifest.is_script = false;
  P.manifest.name = "model";
  P.manifest.source_name = "model.tl";
  P.manifest.entry = "forward";
  P.manifest.inputs.push_back({"x", tensor_b4()});
  P.manifest.output = tensor_b4();
  P.manifest.dim_names = {"B"};
  P.manifest.producer = "tvm-pack test";
  P.sources = {{"model.tl", "def forward(x: Tensor[B, 4]) -> Tensor[B, 4]:\n    return x\n"}, {"util.tl", "pass\n"}};
  return p;
}

// ---------------------------------------------------------------- comparing programs

void same_annotation(const Annotation& a, const Annotation& b) {
  BOOST_TEST(int(a.kind) == int(b.kind));
  BOOST_TEST(a.has_dims == b.has_dims);
  BOOST_TEST(a.text == b.text);
  BOOST_REQUIRE_EQUAL(a.dims.size(), b.dims.size());
  for (size_t i = 0; i < a.dims.size(); ++i) {
    BOOST_TEST(a.dims[i].size == b.dims[i].size);
    BOOST_TEST(a.dims[i].name == b.dims[i].name);
    BOOST_TEST(a.dims[i].index == b.dims[i].index);
  }
}

// Structural equality of two object graphs: the same shape, the same sharing (a map from the
// first graph's objects to the second's must be one-to-one), every field equal.
class GraphCompare {
 public:
  void value(Value a, Value b) {
    if (!a.is_obj() || !b.is_obj()) {
      BOOST_TEST(a.bits() == b.bits());
      return;
    }
    Obj* x = a.as_obj();
    Obj* y = b.as_obj();
    auto [it, fresh] = map_.emplace(x, y);
    BOOST_TEST(it->second == y);
    if (!fresh) return;
    BOOST_TEST(reverse_.emplace(y, x).second);
    BOOST_REQUIRE(int(x->type) == int(y->type));
    BOOST_TEST(x->flags == y->flags);
    const std::string* nx = frozen_name(x);
    const std::string* ny = frozen_name(y);
    BOOST_TEST((nx ? *nx : "-") == (ny ? *ny : "-"));
    switch (x->type) {
      case ObjType::Str: {
        auto *s = static_cast<StrObj*>(x), *t = static_cast<StrObj*>(y);
        BOOST_TEST(s->data == t->data);
        if (s->interned) BOOST_TEST(s == t);
        break;
      }
      case ObjType::BigInt: BOOST_TEST(static_cast<BigIntObj*>(x)->value == static_cast<BigIntObj*>(y)->value); break;
      case ObjType::List: values(static_cast<ListObj*>(x)->items, static_cast<ListObj*>(y)->items); break;
      case ObjType::Tuple: values(static_cast<TupleObj*>(x)->items, static_cast<TupleObj*>(y)->items); break;
      case ObjType::Dict: {
        auto *d = static_cast<DictObj*>(x), *e = static_cast<DictObj*>(y);
        BOOST_REQUIRE_EQUAL(d->entries.size(), e->entries.size());
        for (size_t i = 0; i < d->entries.size(); ++i) {
          value(d->entries[i].key, e->entries[i].key);
          value(d->entries[i].value, e->entries[i].value);
          BOOST_TEST(e->get(e->entries[i].key).bits() == e->entries[i].value.bits());  // the index works
        }
        break;
      }
      case ObjType::Range: {
        auto *r = static_cast<RangeObj*>(x), *s = static_cast<RangeObj*>(y);
        BOOST_TEST((r->start == s->start && r->stop == s->stop && r->step == s->step));
        break;
      }
      case ObjType::Slice: {
        auto *s = static_cast<SliceObj*>(x), *t = static_cast<SliceObj*>(y);
        value(s->lower, t->lower);
        value(s->upper, t->upper);
        value(s->step, t->step);
        break;
      }
      case ObjType::Function: {
        auto *f = static_cast<FunctionObj*>(x), *g = static_cast<FunctionObj*>(y);
        value(obj(f->code), obj(g->code));
        BOOST_TEST(!f->module == !g->module);
        if (f->module) value(obj(f->module), obj(g->module));
        values(f->defaults, g->defaults);
        BOOST_REQUIRE_EQUAL(f->cells.size(), g->cells.size());
        for (size_t i = 0; i < f->cells.size(); ++i) value(obj(f->cells[i]), obj(g->cells[i]));
        break;
      }
      case ObjType::Builtin: BOOST_TEST(x == y); break;
      case ObjType::BoundMethod: {
        auto *m = static_cast<BoundMethodObj*>(x), *n = static_cast<BoundMethodObj*>(y);
        BOOST_TEST(m->def == n->def);
        value(m->self, n->self);
        break;
      }
      case ObjType::Cell: value(static_cast<CellObj*>(x)->value, static_cast<CellObj*>(y)->value); break;
      case ObjType::Code: code(*static_cast<CodeObj*>(x), *static_cast<CodeObj*>(y)); break;
      case ObjType::Module: {
        auto *m = static_cast<ModuleObj*>(x), *n = static_cast<ModuleObj*>(y);
        value(obj(m->name), obj(n->name));
        BOOST_TEST(m->path == n->path);
        BOOST_TEST(m->slot_names == n->slot_names);  // interned: the same pointers
        BOOST_TEST(m->slot_builtin == n->slot_builtin);
        values(m->slots, n->slots);
        BOOST_REQUIRE_EQUAL(m->names->size(), n->names->size());
        for (size_t i = 0; i < m->slot_names.size(); ++i) BOOST_TEST(n->get(m->slot_names[i]->data).bits() == n->slots[i].bits());
        break;
      }
      case ObjType::Tensor: {
        auto *s = static_cast<TensorObj*>(x), *t = static_cast<TensorObj*>(y);
        BOOST_TEST(shape_str(s->dims()) == shape_str(t->dims()));
        BOOST_REQUIRE_EQUAL(s->numel, t->numel);
        BOOST_TEST(std::memcmp(s->data, t->data, size_t(s->numel) * 4) == 0);
        break;
      }
      case ObjType::Iter: BOOST_FAIL("an iterator in a program"); break;
    }
  }

  void code(const CodeObj& a, const CodeObj& b) {
    BOOST_TEST(a.name == b.name);
    BOOST_TEST(a.filename == b.filename);
    BOOST_TEST(a.is_register == b.is_register);
    BOOST_TEST(a.nparams == b.nparams);
    BOOST_TEST(a.has_varargs == b.has_varargs);
    BOOST_TEST(a.nregs == b.nregs);
    BOOST_TEST(a.nfree == b.nfree);
    BOOST_TEST(a.slot_names == b.slot_names);
    BOOST_TEST(a.free_names == b.free_names);
    BOOST_TEST(a.annotated == b.annotated);
    BOOST_REQUIRE_EQUAL(a.param_annotations.size(), b.param_annotations.size());
    for (size_t i = 0; i < a.param_annotations.size(); ++i) same_annotation(a.param_annotations[i], b.param_annotations[i]);
    same_annotation(a.return_annotation, b.return_annotation);
    BOOST_TEST(a.dim_names == b.dim_names);
    BOOST_TEST(a.keep_dim_bindings == b.keep_dim_bindings);
    BOOST_TEST(a.rcode == b.rcode);
    BOOST_REQUIRE_EQUAL(a.locs.size(), b.locs.size());
    for (size_t i = 0; i < a.locs.size(); ++i) BOOST_TEST((a.locs[i].line == b.locs[i].line && a.locs[i].col == b.locs[i].col));
    values(a.consts, b.consts);
    BOOST_REQUIRE_EQUAL(a.kernels.size(), b.kernels.size());
    for (size_t i = 0; i < a.kernels.size(); ++i) {
      const KernelDesc &k = a.kernels[i], &l = b.kernels[i];
      BOOST_TEST((k.kind == l.kind && k.arity == l.arity && k.act == l.act && k.has_bias == l.has_bias));
      BOOST_REQUIRE_EQUAL(k.steps.size(), l.steps.size());
      for (size_t s = 0; s < k.steps.size(); ++s) {
        const EwStep &x = k.steps[s], &y = l.steps[s];
        BOOST_TEST((x.kind == y.kind && x.op == y.op && x.a == y.a && x.b == y.b && x.c == y.c && x.imm == y.imm));
      }
    }
  }

  void values(const std::vector<Value>& a, const std::vector<Value>& b) {
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) value(a[i], b[i]);
  }

 private:
  std::unordered_map<Obj*, Obj*> map_, reverse_;
};

void same_program(const Program& a, const Program& b, bool stripped) {
  const Manifest &m = a.manifest, &n = b.manifest;
  BOOST_TEST(m.is_script == n.is_script);
  BOOST_TEST(m.name == n.name);
  BOOST_TEST(m.source_name == n.source_name);
  BOOST_TEST(m.entry == n.entry);
  BOOST_TEST(m.producer == n.producer);
  BOOST_TEST(m.dim_names == n.dim_names);
  BOOST_REQUIRE_EQUAL(m.inputs.size(), n.inputs.size());
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    BOOST_TEST(m.inputs[i].name == n.inputs[i].name);
    same_annotation(m.inputs[i].annotation, n.inputs[i].annotation);
  }
  same_annotation(m.output, n.output);
  GraphCompare g;
  g.value(a.entry, b.entry);
  BOOST_REQUIRE_EQUAL(a.modules.size(), b.modules.size());
  for (size_t i = 0; i < a.modules.size(); ++i) {
    BOOST_TEST(a.modules[i].name == b.modules[i].name);
    BOOST_TEST(a.modules[i].path == b.modules[i].path);
    g.value(obj(a.modules[i].code), obj(b.modules[i].code));
  }
  if (stripped) BOOST_TEST(b.sources.empty());
  else BOOST_TEST((a.sources == b.sources));
}


// The PackageError loading `bytes` gives ("" when it loads).
std::string load_error(const Bytes& bytes, int* exit_code = nullptr) {
  try {
    std::unique_ptr<Program> p = load_program_memory(bytes.data(), bytes.size());
    return "";
  } catch (const PackageError& e) {
    if (exit_code) *exit_code = e.exit_code();
    return e.what();
  }
}

std::string pack_error(const Program& p, int* exit_code = nullptr) {
  try {
    write_program(p, {});
    return "";
  } catch (const PackageError& e) {
    if (exit_code) *exit_code = e.exit_code();
    return e.what();
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------- verifier fixtures

// A well-formed code of 8 registers and a constant of each kind the rules look at; each case
// changes one thing.
struct VerifierCase {
  CodeObj code;
  VerifyContext ctx;
  Program holder;  // owns the constants

  VerifierCase() {
    code.is_register = true;
    code.name = "f";
    code.nparams = 2;
    code.nregs = 8;
    code.slot_names = {intern("a"), intern("b")};
    auto* nested = own(holder, new CodeObj());
    nested->is_register = true;
    nested->nregs = 1;
    nested->rcode = {rencode(ROp::RETURN, 0, 0)};
    set_locs(nested, 1);
    auto* kw = own(holder, new TupleObj());
    kw->items = {obj(intern("k"))};
    auto* bad_kw = own(holder, new TupleObj());
    bad_kw->items = {Value::small_int(1)};
    // K0 an int, K1 an interned str, K2 a str not interned, K3 register code, K4 keyword names,
    // K5 a tuple holding an int
    code.consts = {Value::small_int(5), obj(intern("name")), str(holder, "plain"), obj(nested), obj(kw), obj(bad_kw)};
    KernelDesc k;
    k.kind = KernelDesc::Gemm;
    k.arity = 2;
    code.kernels = {k};
    ctx.nglobals = 3;
    set({rencode(ROp::RETURN, 0, 0)});
  }
  void set(std::vector<RInstr> instrs) {
    code.rcode = std::move(instrs);
    set_locs(&code, 1);
  }
  // The verifier's verdict on `instrs` followed by a RETURN.
  std::string with(std::vector<RInstr> instrs) {
    instrs.push_back(rencode(ROp::RETURN, 0, 0));
    set(std::move(instrs));
    return verify_code(code, ctx);
  }
};

void expect_refused(const std::string& verdict, const std::string& part) {
  BOOST_TEST_INFO("verdict: " << verdict);
  BOOST_TEST(contains(verdict, part));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pkg_code)

// ---------------------------------------------------------------- round trip

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_field) {
  std::unique_ptr<Program> p = sample_program();
  Bytes bytes = write_program(*p, {});
  std::unique_ptr<Program> q = load_program_memory(bytes.data(), bytes.size());
  same_program(*p, *q, false);

  // What the loader promises beyond equality: immortal, untracked, hashed, aligned, shared once.
  for (Obj* o : q->objects) {
    BOOST_TEST(o->refcount == Obj::kImmortal);
    if (is_gc_type(o->type)) BOOST_TEST(static_cast<GcObj*>(o)->gc_next == static_cast<GcLink*>(static_cast<GcObj*>(o)));
    if (o->type == ObjType::Str) BOOST_TEST((static_cast<StrObj*>(o)->hash != 0 && static_cast<StrObj*>(o)->length >= 0));
  }
  const CodeObj* code = as_obj<FunctionObj>(q->entry)->code;
  const auto* w1 = as_tensor(code->consts[8]);
  BOOST_TEST(code->consts[8].bits() == code->consts[9].bits());  // one tensor, stored once
  BOOST_TEST(reinterpret_cast<uintptr_t>(w1->data) % 64 == 0);
  BOOST_TEST(reinterpret_cast<uintptr_t>(as_tensor(code->consts[10])->data) % 64 == 0);
  const uint8_t* base = static_cast<const uint8_t*>(q->weight_storage.get());
  BOOST_TEST((reinterpret_cast<const uint8_t*>(w1->data) >= base));
  BOOST_TEST(std::isnan(code->consts[5].as_double()));
  BOOST_TEST(as_obj<StrObj>(code->consts[7]) == intern("shape"));  // a Name operand: interned
  BOOST_TEST(!as_obj<StrObj>(code->consts[6])->interned);
  BOOST_TEST(*frozen_name(as_obj<ListObj>(code->consts[12])) == "layers");
  BOOST_TEST((as_obj<ListObj>(code->consts[12])->flags & Obj::kFrozen));
  BOOST_TEST(frozen_name(code->consts[24].as_obj()) == nullptr);
  BOOST_TEST((code->consts[24].as_obj()->flags & Obj::kFrozen));
  // The list that holds itself, the module's function that refers back to its module.
  auto* layers = as_obj<ListObj>(code->consts[12]);
  BOOST_TEST(layers->items[4].as_obj() == layers);
  auto* module = as_obj<FunctionObj>(q->entry)->module;
  BOOST_TEST(module->get("forward").bits() == q->entry.bits());
}

BOOST_AUTO_TEST_CASE(deterministic_and_stable_through_a_round_trip) {
  std::unique_ptr<Program> p = sample_program();
  Bytes a = write_program(*p, {}), b = write_program(*p, {});
  BOOST_TEST(a == b);
  std::unique_ptr<Program> q = load_program_memory(a.data(), a.size());
  BOOST_TEST(write_program(*q, {}) == a);  // a loaded program writes the same bytes again
  std::unique_ptr<Program> other = sample_program();  // other addresses, same bytes
  BOOST_TEST(write_program(*other, {}) == a);
}

BOOST_AUTO_TEST_CASE(sections_and_strip) {
  std::unique_ptr<Program> p = sample_program();
  std::vector<OwnedSection> full = program_sections(*p, {});
  std::vector<std::string> kinds;
  for (auto& s : full) kinds.push_back(std::string(s.kind, 4));
  BOOST_TEST((kinds == std::vector<std::string>{"MANI", "CODE", "CNST", "WGHT", "DBUG", "SRCE"}));
  BOOST_TEST(full[3].align == 64u);
  // Weights: (2, 3) at 0, () at 64, (0, 5) at 128: each start 64-byte aligned, padding between.
  BOOST_TEST(full[3].data.size() == 128u);

  WriteOptions strip;
  strip.strip = true;
  Bytes bytes = write_program(*p, strip);
  PackageReader r = PackageReader::from_memory(bytes, "s.pkg");
  BOOST_TEST(r.find("SRCE") == -1);
  std::unique_ptr<Program> q = load_program(r);
  same_program(*p, *q, true);
}

BOOST_AUTO_TEST_CASE(files_and_magic) {
  TempDir dir;
  std::unique_ptr<Program> p = sample_program();
  std::string path = dir.file("m.pkg");
  write_program_file(path, *p, {});
  BOOST_TEST(looks_like_package(path));
  std::unique_ptr<Program> q = load_program_file(path);
  same_program(*p, *q, false);
  tvm::test::write_file(dir.file("s.tl"), Bytes{'x', '=', '1', '\n'});
  BOOST_TEST(!looks_like_package(dir.file("s.tl")));
  BOOST_TEST(!looks_like_package(dir.file("missing")));
  BOOST_TEST(!looks_like_package(dir.path().string()));
}

// ---------------------------------------------------------------- pack-time errors

BOOST_AUTO_TEST_CASE(values_a_package_cannot_hold) {
  {
    std::unique_ptr<Program> p = sample_program();
    auto* code = as_obj<FunctionObj>(p->entry)->code;
    auto* it = own(*p, new IterObj(IterObj::RangeIt, Value::none()));
    code->consts.push_back(obj(it));
    int rc = 0;
    BOOST_TEST(pack_error(*p, &rc) == "cannot freeze a 'iterator' value");
    BOOST_TEST(rc == 1);
  }
  {
    std::unique_ptr<Program> p = sample_program();
    auto* stack = own(*p, new CodeObj());  // stack bytecode
    as_obj<FunctionObj>(p->entry)->code->consts.push_back(obj(stack));
    BOOST_TEST(pack_error(*p) == "internal: stack code in a package");
  }
  {
    // Code the verifier refuses fails the pack, not the run.
    std::unique_ptr<Program> p = sample_program();
    as_obj<FunctionObj>(p->entry)->code->rcode[1] = rencode(ROp::MOVE, 1, 99);
    int rc = 0;
    std::string e = pack_error(*p, &rc);
    BOOST_TEST(e == "internal: code 'forward' does not verify: instruction 1 (MOVE): register 99 out of range (the frame has 4)");
    BOOST_TEST(rc == 1);
  }
  {
    std::unique_ptr<Program> p = sample_program();
    p->manifest.dim_names.clear();
    BOOST_TEST(pack_error(*p) == "internal: manifest: input 'x': dimension 'B' has index 0 of 0");
  }
  {
    std::unique_ptr<Program> p = sample_program();
    p->modules[0].code->slot_names.push_back(intern("version"));
    BOOST_TEST(pack_error(*p) == "internal: module 'util' names global 'version' twice");
  }
}

// ---------------------------------------------------------------- load-time errors

// The sections of the sample program with one section's data changed by `edit`.
Bytes edited(const char* kind, const std::function<void(std::vector<uint8_t>&)>& edit) {
  std::unique_ptr<Program> p = sample_program();
  std::vector<OwnedSection> sections = program_sections(*p, {});
  for (OwnedSection& s : sections)
    if (std::memcmp(s.kind, kind, 4) == 0) edit(s.data);
  return write_package(section_views(sections));
}

void replace_word(std::vector<uint8_t>& data, RInstr from, RInstr to) {
  uint8_t f[8], t[8];
  for (int i = 0; i < 8; ++i) {
    f[i] = uint8_t(from >> (8 * i));
    t[i] = uint8_t(to >> (8 * i));
  }
  auto it = std::search(data.begin(), data.end(), f, f + 8);
  BOOST_REQUIRE(it != data.end());
  std::copy(t, t + 8, it);
}

BOOST_AUTO_TEST_CASE(load_errors_are_clear) {
  int rc = 0;
  Bytes bad = edited("CODE", [](auto& d) { replace_word(d, rencode(ROp::MOVE, 1, 0), rencode(ROp::MOVE, 1, 99)); });
  BOOST_TEST(load_error(bad, &rc) ==
             "'<memory>': code 'forward' does not verify: instruction 1 (MOVE): register 99 out of range (the frame has 4)");
  BOOST_TEST(rc == 3);

  std::unique_ptr<Program> p = sample_program();
  std::vector<OwnedSection> sections = program_sections(*p, {});
  sections.erase(sections.begin() + 1);  // no CODE
  BOOST_TEST(load_error(write_package(section_views(sections))) == "'<memory>': not a complete package (no section 'CODE')");

  Bytes extra = edited("CNST", [](auto& d) { d.push_back(0); });
  BOOST_TEST(load_error(extra) == "'<memory>': corrupt package (CNST): 1 byte left over");

  Bytes truncated = edited("DBUG", [](auto& d) { d.pop_back(); });
  BOOST_TEST(contains(load_error(truncated), "corrupt package (DBUG, code "));

  // A section whose data is empty: every count is missing.
  Bytes empty = edited("MANI", [](auto& d) { d.clear(); });
  BOOST_TEST(load_error(empty) == "'<memory>': corrupt package (MANI): truncated");
}

// ---------------------------------------------------------------- damaged packages

// Loads a damaged package: a PackageError with exit code 3 and a message, or (where the damage
// may leave a well-formed package) a Program, freed at once. Counts what loaded.
void expect_package_error(const Bytes& bytes, bool may_load, size_t& loaded) {
  int rc = 0;
  std::string e = load_error(bytes, &rc);
  if (e.empty()) {
    if (!may_load) BOOST_FAIL("a damaged package loaded");
    ++loaded;
    return;
  }
  if (rc != 3 || e.size() < 5) BOOST_FAIL("bad error: exit " << rc << ": " << e);
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused) {
  std::unique_ptr<Program> p = sample_program();
  Bytes good = write_program(*p, {});
  size_t loaded = 0;
  for (size_t n = 0; n < good.size(); ++n) expect_package_error(Bytes(good.begin(), good.begin() + n), false, loaded);
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes b = good;
    b[i] ^= uint8_t(1u << (i % 8));
    expect_package_error(b, false, loaded);
  }
  BOOST_TEST(loaded == 0u);
}

// Damage inside the sections, re-wrapped in a valid container so that it gets past the
// checksums: every truncation and every bit flip of every section's data. Some flips give a
// package that loads (a weight, a character of a name or of the source); the rest must be a
// PackageError. Every truncation but the weights' is refused.
BOOST_AUTO_TEST_CASE(damaged_sections_never_crash) {
  std::unique_ptr<Program> p = sample_program();
  std::vector<OwnedSection> sections = program_sections(*p, {});
  size_t loaded = 0, tried = 0;
  for (size_t s = 0; s < sections.size(); ++s) {
    const std::vector<uint8_t> original = sections[s].data;
    for (size_t n = 0; n < original.size(); ++n) {
      sections[s].data.assign(original.begin(), original.begin() + n);
      expect_package_error(write_package(section_views(sections)), std::memcmp(sections[s].kind, "WGHT", 4) == 0, loaded);
      ++tried;
    }
    for (size_t i = 0; i < original.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        sections[s].data = original;
        sections[s].data[i] ^= uint8_t(1u << bit);
        expect_package_error(write_package(section_views(sections)), true, loaded);
        ++tried;
      }
    sections[s].data = original;
  }
  BOOST_TEST_MESSAGE(tried << " damaged packages, " << loaded << " loaded");
  BOOST_TEST(loaded < tried);
}

// ---------------------------------------------------------------- the verifier, rule by rule

BOOST_AUTO_TEST_CASE(verifier_accepts_well_formed_code) {
  VerifierCase v;
  std::string verdict = v.with({
      rencode(ROp::CHECKARGS, 0),
      rencode(ROp::LOADK, 2, 0),
      rencode(ROp::ADD, 3, 2, rk_const(0)),
      rencode(ROp::GETGLOBAL, 4, 2),
      rencode(ROp::GETATTR, 4, 4, 1),
      rencode(ROp::NEWLIST, 5, 2, 3),
      rencode(ROp::NEWDICT, 5, 2, 3),
      rencode(ROp::CALL, 4, 3, 5),
      rencode(ROp::CALL, 2, 1, 0),
      rencode(ROp::IFLT, 1, 2, 3),
      rencode(ROp::JMP, 0, 11),
      rencode(ROp::FORITER, 6, 5),
      rencode(ROp::JMP, 0, 13),
      rencode(ROp::CLOSURE, 7, 3, 5),
      rencode(ROp::KCALL, 7, 6, 0),
      rencode(ROp::FORMAT, 6, 6, 6),
      rencode(ROp::CALLEX, 5, 1),
      rencode(ROp::UNPACK, 5, 0, 3),
  });
  BOOST_TEST(verdict == "");
}

BOOST_AUTO_TEST_CASE(verifier_rules) {
  using R = std::vector<RInstr>;
  struct Rule {
    R code;
    const char* refused;
  };
  const Rule rules[] = {
      {{RInstr(kNumROps)}, "instruction 0: unknown opcode"},
      {{rencode(ROp::MOVE, 8, 0)}, "(MOVE): register 8 out of range (the frame has 8)"},
      {{rencode(ROp::MOVE, 0, 9)}, "(MOVE): register 9 out of range"},
      {{rencode(ROp::ADD, 0, 8, 0)}, "(ADD): register 8 out of range"},
      {{rencode(ROp::ADD, 0, 0, rk_const(6))}, "(ADD): constant 6 out of range (the code has 6)"},
      {{rencode(ROp::LOADK, 0, 6)}, "(LOADK): constant 6 out of range"},
      {{rencode(ROp::GETATTR, 0, 0, 0)}, "(GETATTR): constant 0 is not an interned str"},
      {{rencode(ROp::GETATTR, 0, 0, 2)}, "(GETATTR): constant 2 is not an interned str"},
      {{rencode(ROp::GETGLOBAL, 0, 3)}, "(GETGLOBAL): global slot 3 out of range (the module has 3)"},
      {{rencode(ROp::GETFREE, 0, 0)}, "(GETFREE): closure cell 0 out of range (the code has 0)"},
      {{rencode(ROp::JMP, 0, 2)}, "(JMP): jump to 2 out of range (the code has 2 instructions)"},
      {{rencode(ROp::NEWLIST, 0, 5, 4)}, "(NEWLIST): registers 5..8 out of range"},
      {{rencode(ROp::NEWTUPLE, 0, 8, 1)}, "(NEWTUPLE): register 8 out of range"},
      {{rencode(ROp::NEWDICT, 0, 4, 3)}, "(NEWDICT): registers 4..9 out of range"},
      {{rencode(ROp::NEWSLICE, 0, 0, 4)}, "(NEWSLICE): a slice of 4 parts"},
      {{rencode(ROp::UNPACK, 6, 0, 3)}, "(UNPACK): registers 6..8 out of range"},
      {{rencode(ROp::CALL, 5, 3, 0)}, "(CALL): registers 5..8 out of range"},
      {{rencode(ROp::CALL, 0, 1, 7)}, "(CALL): constant 6 out of range"},
      {{rencode(ROp::CALL, 0, 1, 1)}, "(CALL): keyword names K[0] are not a tuple"},
      {{rencode(ROp::CALL, 0, 0, 5)}, "(CALL): 1 keyword names for 0 arguments"},
      {{rencode(ROp::CALL, 0, 1, 6)}, "(CALL): a keyword name is not an interned str"},
      {{rencode(ROp::CALLMETHOD, 6, 2, 1)}, "(CALLMETHOD): registers 6..8 out of range"},
      {{rencode(ROp::CALLEX, 0, 2)}, "(CALLEX): flag 2 out of range"},
      {{rencode(ROp::CALLEX, 6, 1)}, "(CALLEX): registers 6..8 out of range"},
      {{rencode(ROp::FORMAT, 0, 0, 3)}, "(FORMAT): bad format flags 3"},
      {{rencode(ROp::FORMAT, 0, 7, 4)}, "(FORMAT): registers 7..8 out of range"},
      {{rencode(ROp::ASSERTFAIL, 0, 2)}, "(ASSERTFAIL): flag 2 out of range"},
      {{rencode(ROp::CLOSURE, 0, 0, 0)}, "(CLOSURE): constant 0 is not register code"},
      {{rencode(ROp::CLOSURE, 0, 3, 7)}, "(CLOSURE): registers 7..8 out of range"},
      {{rencode(ROp::KCALL, 0, 0, 1)}, "(KCALL): kernel 1 out of range (the code has 1)"},
      {{rencode(ROp::KCALL, 0, 7, 0)}, "(KCALL): registers 7..8 out of range"},
      {{rencode(ROp::IFLT, 2, 0, 0), rencode(ROp::JMP, 0, 0)}, "(IFLT): flag 2 out of range"},
      {{rencode(ROp::IFEQ, 0, 0, 0), rencode(ROp::MOVE, 0, 0)}, "(IFEQ): not followed by a JMP"},
      {{rencode(ROp::FORITER, 0, 1), rencode(ROp::NOP, 0)}, "(FORITER): not followed by a JMP"},
      {{rencode(ROp::IFNEI, 0, 0, imm_operand(-7)), rencode(ROp::MOVE, 0, 0)}, "(IFNEI): not followed by a JMP"},
      {{rencode(ROp::IFLTI, 2, 0, imm_operand(kMaxImm)), rencode(ROp::JMP, 0, 0)}, "(IFLTI): flag 2 out of range"},
      {{rencode(ROp::SUBI, 0, 8, imm_operand(kMinImm))}, "(SUBI): register 8 out of range"},
      {{rencode(ROp::NOP, 1)}, "(NOP): unused operand A is 1, not 0"},
      {{rencode(ROp::RETURN, 0, 0, 1)}, "(RETURN): unused operand C is 1, not 0"},
      {{rencode(ROp::MOVE, 0, 0), rencode(ROp::CHECKARGS, 0)}, "(CHECKARGS): not the first instruction"},
      {{rencode(ROp::CHECKARGS, 0), rencode(ROp::JMP, 0, 0)}, "(JMP): jump to the CHECKARGS at 0"},
      {{rencode(ROp::CHECKRETURN, 0), rencode(ROp::MOVE, 0, 0)}, "(CHECKRETURN): not followed by a RETURN"},
  };
  for (const Rule& rule : rules) {
    VerifierCase v;
    expect_refused(v.with(rule.code), rule.refused);
  }
  {
    VerifierCase v;  // IF* as the last instruction: nothing follows it
    v.set({rencode(ROp::RETURN, 0, 0), rencode(ROp::IFLT, 0, 0, 0)});
    expect_refused(verify_code(v.code, v.ctx), "(IFLT): not followed by a JMP");
  }
  {
    VerifierCase v;
    v.set({rencode(ROp::MOVE, 0, 1)});
    expect_refused(verify_code(v.code, v.ctx), "the last instruction is not RETURN, JMP or ASSERTFAIL");
    v.set({rencode(ROp::ASSERTFAIL, 0, 0)});
    BOOST_TEST(verify_code(v.code, v.ctx) == "");
  }
  {
    VerifierCase v;
    v.set({});
    expect_refused(verify_code(v.code, v.ctx), "no instructions");
  }
  {
    VerifierCase v;
    v.ctx.require_interned = false;  // the writer's view: any str will do
    BOOST_TEST(v.with({rencode(ROp::GETATTR, 0, 0, 2)}) == "");
  }
  {
    VerifierCase v;
    v.code.kernels[0].arity = 99;  // check_kernel refuses it
    BOOST_TEST(contains(v.with({}), "kernel 0: "));
  }
}

BOOST_AUTO_TEST_CASE(verifier_frame_layout_rules) {
  auto verdict = [](const std::function<void(CodeObj&)>& change) {
    VerifierCase v;
    change(v.code);
    if (v.code.locs.size() == v.code.rcode.size()) set_locs(&v.code, 1);
    return verify_code(v.code, v.ctx);
  };
  expect_refused(verdict([](CodeObj& c) { c.is_register = false; }), "not register code");
  expect_refused(verdict([](CodeObj& c) { c.nregs = kMaxRegisters + 1; }), "registers (at most 65536)");
  expect_refused(verdict([](CodeObj& c) { c.nregs = 2, c.has_varargs = true; }), "3 parameters but 2 registers");
  expect_refused(verdict([](CodeObj& c) { c.slot_names.pop_back(); }), "1 parameter names for 2 parameters");
  expect_refused(verdict([](CodeObj& c) { c.nfree = 1; }), "0 free variable names for 1 cells");
  expect_refused(verdict([](CodeObj& c) { c.param_annotations.resize(1); }), "1 parameter annotations for 2 parameters");
  expect_refused(verdict([](CodeObj& c) { c.return_annotation = tensor_b4(); }),
                 "return annotation: dimension 'B' has index 0 of 0");
  expect_refused(verdict([](CodeObj& c) {
                   c.param_annotations = {Annotation(), Annotation()};
                   c.param_annotations[1].kind = Annotation::Int;
                   c.param_annotations[1].has_dims = true;
                 }),
                 "annotation of parameter 1: dimensions on a non-Tensor annotation");
  expect_refused(verdict([](CodeObj& c) { c.locs.push_back({1, 1}); }), "2 line table entries for 1 instructions");
  expect_refused(verdict([](CodeObj& c) { c.keep_dim_bindings = true; }), "keeps dimension bindings but does not start with CHECKARGS");
}

// tvm-pkg(5) lists the opcodes with their numbers and operand kinds: the table must be
// vm/reg_opcodes.h's, row for row.
BOOST_AUTO_TEST_CASE(documented_opcode_table_is_the_instruction_set) {
  std::string page_path = (std::filesystem::path(__FILE__).parent_path() / "../../man/tvm-pkg.5").string();
  Bytes page = tvm::test::read_file(page_path);
  std::string text(page.begin(), page.end());
  auto kind = [](RegOperand k) -> std::string {
    switch (k) {
      case RegOperand::None: return "\\(em";
      case RegOperand::Reg: return "reg";
      case RegOperand::RegOut: return "out";
      case RegOperand::RK: return "rk";
      case RegOperand::Const: return "const";
      case RegOperand::Name: return "name";
      case RegOperand::Global: return "global";
      case RegOperand::Free: return "free";
      case RegOperand::Jump: return "jump";
      case RegOperand::Count: return "count";
      case RegOperand::Flag: return "flag";
      case RegOperand::Kernel: return "kernel";
      case RegOperand::Imm: return "imm";
    }
    return "?";
  };
  std::string expected;
  for (int i = 0; i < kNumROps; ++i) {
    const ROpInfo& r = kROpInfo[i];
    expected += ".It " + std::to_string(i) + " Ta " + r.name + " Ta " + kind(r.a) + " Ta " + kind(r.b) + " Ta " + kind(r.c) + "\n";
  }
  size_t start = text.find(".It 0 Ta NOP");
  BOOST_REQUIRE(start != std::string::npos);
  size_t end = text.find(".El", start);
  BOOST_TEST(text.substr(start, end - start) == expected);
}

BOOST_AUTO_TEST_SUITE_END()
