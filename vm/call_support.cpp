// The call path and instruction parts both VMs share (see call_support.h).
#include "call_support.h"

#include <algorithm>

#include "builtins.h"
#include "error.h"
#include "ops.h"
#include "program.h"
#include "stack_vm.h"  // ProgramError
#include "tensor_ops.h"
#include "vm.h"

namespace tvm {

// ---------------------------------------------------------------- arguments

void bind_args(FunctionObj* fn, Value* args, uint32_t npos, uint32_t nkw, StrObj* const* kwnames) {
  const CodeObj* c = fn->code;
  const std::string& name = c->name;
  uint32_t nparams = uint32_t(c->nparams);
  std::vector<Value> slots(nparams + (c->has_varargs ? 1 : 0), Value::undefined());
  // On any error the owned values move back so nothing leaks.
  auto cleanup = [&]() {
    for (Value& v : slots) decref(v);
    for (uint32_t i = 0; i < npos + nkw; ++i) args[i] = Value::none();
  };
  auto plural = [](size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); };
  for (uint32_t i = 0; i < npos; ++i) {
    if (i < nparams) slots[i] = args[i];
    else if (!c->has_varargs) {
      for (uint32_t j = i; j < npos + nkw; ++j) decref(args[j]);
      cleanup();
      throw RuntimeError(name + "() takes " + plural(nparams, "positional argument") + " but " + std::to_string(npos) +
                         (npos == 1 ? " was" : " were") + " given");
    }
  }
  if (c->has_varargs) {
    std::vector<Value> rest;
    for (uint32_t i = nparams; i < npos; ++i) rest.push_back(args[i]);
    slots[nparams] = make_tuple(std::move(rest));
  }
  for (uint32_t k = 0; k < nkw; ++k) {
    Value v = args[npos + k];
    uint32_t i = 0;
    while (i < nparams && c->slot_names[i] != kwnames[k]) ++i;
    if (i == nparams || !slots[i].is_undefined()) {
      for (uint32_t j = k; j < nkw; ++j) decref(args[npos + j]);
      cleanup();
      if (i == nparams) throw RuntimeError(name + "() got an unexpected keyword argument '" + kwnames[k]->data + "'");
      throw RuntimeError(name + "() got multiple values for argument '" + kwnames[k]->data + "'");
    }
    slots[i] = v;
  }
  size_t ndef = fn->defaults.size();
  std::vector<std::string> missing;
  for (uint32_t i = 0; i < nparams; ++i) {
    if (!slots[i].is_undefined()) continue;
    if (i >= nparams - ndef) {
      slots[i] = fn->defaults[i - (nparams - ndef)];
      incref(slots[i]);
    } else {
      missing.push_back("'" + c->slot_names[i]->data + "'");
    }
  }
  if (!missing.empty()) {
    cleanup();
    std::string list;
    for (size_t i = 0; i < missing.size(); ++i)
      list += (i == 0 ? "" : i + 1 == missing.size() ? (missing.size() > 2 ? ", and " : " and ") : ", ") + missing[i];
    throw RuntimeError(name + "() missing " + plural(missing.size(), "required positional argument") + ": " + list);
  }
  std::copy(slots.begin(), slots.end(), args);
}

namespace {

// Runs def with a's arguments, then releases slot[0..n] (the callee's slot and the arguments).
Value run_native(VM& vm, const BuiltinDef& def, const CallArgs& a, bool method, Value* slot, uint32_t n) {
  check_native_call(def, a, method);
  maybe_collect_cycles();  // natives make containers too (list(), split(), ...)
  Value r = def.fn(vm, a);
  for (Value* p = slot; p <= slot + n; ++p) decref(std::exchange(*p, Value::undefined()));
  return r;
}

}  // namespace

Value call_native(VM& vm, Value* slot, uint32_t npos, uint32_t nkw, StrObj* const* kwnames) {
  Value callee = slot[0];
  CallArgs a;
  a.kwvals = slot + 1 + npos;
  a.kwnames = kwnames;
  a.nkw = nkw;
  if (callee.as_obj()->type == ObjType::BoundMethod) {
    // The receiver takes the callee's slot: the arguments become (self, a1..an).
    auto* bm = as_obj<BoundMethodObj>(callee);
    const BuiltinDef* def = bm->def;
    incref(bm->self);
    slot[0] = bm->self;
    decref(callee);
    a.pos = slot;
    a.npos = npos + 1;
    return run_native(vm, *def, a, true, slot, npos + nkw);
  }
  a.pos = slot + 1;
  a.npos = npos;
  return run_native(vm, *as_obj<BuiltinObj>(callee)->def, a, false, slot, npos + nkw);
}

Value call_native_method(VM& vm, const BuiltinDef* def, Value* recv, uint32_t npos) {
  CallArgs a;
  a.pos = recv;
  a.npos = npos + 1;
  return run_native(vm, *def, a, true, recv, npos);
}

KeywordNames::KeywordNames(const TupleObj* names) : n_(uint32_t(names->items.size())) {
  if (n_ > std::size(small_)) {
    large_.resize(n_);
    names_ = large_.data();
  }
  for (uint32_t i = 0; i < n_; ++i) names_[i] = as_obj<StrObj>(names->items[i]);
}

SpreadArgs::SpreadArgs(Value list, Value kwdict) {
  values = collect(list);
  npos = uint32_t(values.size());
  if (kwdict.is_none()) return;
  // The compilers build this dict from keyword arguments; only a damaged package holds another
  // (a throw from here runs no destructor: the references taken so far are given back first).
  auto invalid = [this](const char* expected, Value got) {
    for (Value v : values) decref(v);
    values.clear();
    invalid_operand("CALLEX", expected, got);
  };
  if (!is_type(kwdict, ObjType::Dict)) invalid("a dict of keyword arguments", kwdict);
  for (auto& e : as_obj<DictObj>(kwdict)->entries) {
    if (!is_type(e.key, ObjType::Str)) invalid("str keyword names", e.key);
    kwnames.push_back(intern(str_view(e.key)));
    incref(e.value);
    values.push_back(e.value);
  }
}

SpreadArgs::~SpreadArgs() {
  for (Value v : values) decref(v);
}

void SpreadArgs::move_to(Value* out) {
  if (!values.empty()) std::copy(values.begin(), values.end(), out);  // f(*[]): no copy from null
  values.clear();
}

// ---------------------------------------------------------------- annotations

bool annotation_matches(const Annotation& a, Value v, int64_t* bound) {
  switch (a.kind) {
    case Annotation::Any: return true;
    case Annotation::Int: return v.is_int() || v.is_bool();
    case Annotation::Float: return v.is_number();
    case Annotation::Bool: return v.is_bool();
    case Annotation::Str: return is_type(v, ObjType::Str);
    case Annotation::List: return is_type(v, ObjType::List);
    case Annotation::Tuple: return is_type(v, ObjType::Tuple);
    case Annotation::Dict: return is_type(v, ObjType::Dict);
    case Annotation::NoneType: return v.is_none();
    case Annotation::Tensor: return is_tensor(v) && tensor_matches(a, as_tensor(v), bound);
  }
  return false;
}

std::string annotation_describe(Value v) {
  return is_tensor(v) ? tensor_type_str(as_tensor(v)->dims()) : std::string(type_name(v));
}

void check_args(const CodeObj* c, const Value* params, std::vector<int64_t>& dim_bindings) {
  size_t base = dim_bindings.size();
  dim_bindings.resize(base + c->dim_names.size(), -1);
  int64_t* bound = dim_bindings.data() + base;
  auto mismatch = [&](size_t i, Value v) {
    dim_bindings.resize(base);
    throw RuntimeError(c->name + ": argument " + c->slot_names[i]->data + ": expected " + c->param_annotations[i].text +
                       ", got " + annotation_describe(v));
  };
  for (size_t i = 0; i < c->param_annotations.size(); ++i) {
    const Annotation& a = c->param_annotations[i];
    Value v = params[i];
    if (i == size_t(c->nparams)) {  // *args: each element
      for (Value x : as_obj<TupleObj>(v)->items)
        if (!annotation_matches(a, x, bound)) mismatch(i, x);
      continue;
    }
    if (!annotation_matches(a, v, bound)) mismatch(i, v);
  }
  if (!c->keep_dim_bindings) dim_bindings.resize(base);
}

void check_return(const CodeObj* c, Value result, std::vector<int64_t>& dim_bindings) {
  size_t n = c->dim_names.size();
  size_t base = dim_bindings.size() - (c->keep_dim_bindings ? n : 0);
  dim_bindings.resize(base + n, -1);  // without kept bindings: fresh ones
  bool ok = annotation_matches(c->return_annotation, result, dim_bindings.data() + base);
  dim_bindings.resize(base);
  if (!ok)
    throw RuntimeError(c->name + ": return value: expected " + c->return_annotation.text + ", got " + annotation_describe(result));
}

// ---------------------------------------------------------------- errors

std::string format_runtime_error(const std::string& message, std::span<const TraceFrame> frames) {
  if (frames.empty()) return "runtime error: " + message + "\n";
  auto loc_of = [](const TraceFrame& f) {
    const auto& locs = f.code->locs;
    if (locs.empty()) return SourceLoc{0, 0};
    return locs[f.index < locs.size() ? f.index : locs.size() - 1];
  };
  const TraceFrame& top = frames.back();
  SourceLoc l = loc_of(top);
  std::string out = top.code->filename + ":" + std::to_string(l.line) + ":" + std::to_string(l.col) +
                    ": runtime error: " + message + "\n";
  out += "traceback (most recent call first):\n";
  for (size_t i = frames.size(); i-- > 0;) {
    const TraceFrame& f = frames[i];
    out += "  in " + f.code->name + " at " + f.code->filename + ":" + std::to_string(loc_of(f).line) + "\n";
  }
  return out;
}

bool describe_current_exception(std::string& message, int& exit_code) {
  try {
    throw;
  } catch (const RuntimeError& e) {
    message = e.what();
    exit_code = e.exit_code();
    return true;
  } catch (const std::bad_alloc&) {  // a string or list too large for memory
  } catch (const std::length_error&) {
  } catch (...) {
    return false;
  }
  message = "out of memory";
  exit_code = kExitProgramFailed;
  return true;
}

[[noreturn]] void rethrow_located(const std::function<std::vector<TraceFrame>()>& frames) {
  std::string message;
  int exit_code;
  if (!describe_current_exception(message, exit_code)) throw;
  throw ProgramError{format_runtime_error(message, frames()), exit_code};
}

[[noreturn]] void unassigned(const char* kind, const StrObj* name) {
  throw RuntimeError(std::string(kind) + " variable '" + name->data + "' referenced before assignment");
}

// ---------------------------------------------------------------- parts of instructions

void invalid_operand(const char* op, const char* expected, Value got) {
  throw RuntimeError(std::string("invalid code: ") + op + " expects " + expected + ", not '" + type_name(got) + "'",
                     kExitFile);
}

void list_extend(Value list, Value seq) {
  check_not_frozen(list.as_obj());
  std::vector<Value> items = collect(seq);
  auto& dst = as_obj<ListObj>(list)->items;
  dst.insert(dst.end(), items.begin(), items.end());
}

Value concat_strings(const Value* parts, uint32_t n) {
  std::string s;
  for (uint32_t i = 0; i < n; ++i) {
    if (!is_type(parts[i], ObjType::Str)) invalid_operand("CONCAT", "strs", parts[i]);
    s += str_view(parts[i]);
  }
  return make_str(s);
}

Value format_field(Value v, Value spec, uint32_t conversion) {
  if (!spec.is_undefined() && !is_type(spec, ObjType::Str)) invalid_operand("FORMAT", "a str spec", spec);
  if (conversion == 0) return make_str(format_value(v, spec.is_undefined() ? std::string_view() : str_view(spec)));
  std::string text = conversion == 2 ? repr(v) : to_str(v);
  if (spec.is_undefined()) return make_str(text);
  Ref converted = Ref::steal(make_str(text));
  return make_str(format_value(converted.get(), str_view(spec)));
}

void store_attr(Value obj, StrObj* name, Value value) {
  if (!is_type(obj, ObjType::Module))
    throw RuntimeError(std::string("cannot set attribute '") + name->data + "' of '" + type_name(obj) + "'");
  auto* m = as_obj<ModuleObj>(obj);
  check_not_frozen(m);
  int slot = m->slot(name->data);
  incref(value);
  decref(std::exchange(m->slots[slot], value));
}

Value import_from(Value module, StrObj* name) {
  if (!is_type(module, ObjType::Module)) invalid_operand("IMPORTFROM", "a module", module);
  auto* m = as_obj<ModuleObj>(module);
  Value v = m->get(name->data);
  if (v.is_undefined()) throw RuntimeError("cannot import name '" + name->data + "' from '" + m->name->data + "'");
  incref(v);
  return v;
}

}  // namespace tvm
