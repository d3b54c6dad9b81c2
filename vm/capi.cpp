// The C API (vm/include/tvm.h) over Program, RegisterVM and the package reader. No compiler/.
#include "include/tvm.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../packager/pkg_code.h"
#include "device.h"
#include "error.h"
#include "ops.h"
#include "placement.h"
#include "reg_vm.h"
#include "run_package.h"
#include "tensor.h"

using namespace tvm;

struct tvm_package {
  std::unique_ptr<Program> program;
  std::unique_ptr<Placement> placement;
  uint64_t serial;  // tells a thread's cached VM from one made for a freed package at the same address
  std::vector<std::string> input_types;
};

struct tvm_value {
  Ref value;
  std::string text;  // tvm_value_str's buffer
};

namespace {

std::atomic<uint64_t> next_serial{1};

void set_error(tvm_error* err, int code, const std::string& message) {
  if (!err) return;
  err->code = code;
  std::string line = message.substr(0, message.find('\n'));
  size_t n = std::min(line.size(), sizeof err->message - 1);
  std::memcpy(err->message, line.data(), n);
  err->message[n] = '\0';
}

void clear_error(tvm_error* err) {
  if (err) {
    err->code = TVM_OK;
    err->message[0] = '\0';
  }
}

tvm_value* wrap(Value v) {  // adopts v
  auto* out = new (std::nothrow) tvm_value;
  if (!out) {
    decref(v);
    return nullptr;
  }
  out->value = Ref::steal(v);
  return out;
}

// Each thread keeps the VM of the package it called last: a call costs no VM set-up.
struct CachedVM {
  uint64_t serial = 0;
  std::unique_ptr<RegisterVM> vm;
};
thread_local CachedVM cached_vm;

RegisterVM& vm_for(tvm_package* pkg) {
  if (cached_vm.serial != pkg->serial || !cached_vm.vm) {
    cached_vm.vm.reset();
    cached_vm.vm = std::make_unique<RegisterVM>(*pkg->program);
    cached_vm.serial = pkg->serial;
  }
  return *cached_vm.vm;
}

// Runs f, turning every error into (code, message).
template <typename F>
auto guarded(tvm_error* err, F&& f) -> decltype(f()) {
  try {
    clear_error(err);
    return f();
  } catch (const pkg::PackageError& e) {
    set_error(err, e.exit_code(), e.what());
  } catch (const ProgramError& e) {
    set_error(err, e.exit_code, e.message);
  } catch (const RuntimeError& e) {
    set_error(err, e.exit_code(), e.what());
  } catch (const std::bad_alloc&) {
    set_error(err, TVM_ERR_PROGRAM, "out of memory");
  } catch (const std::exception& e) {
    set_error(err, TVM_ERR_PROGRAM, e.what());
  }
  return decltype(f())();
}

const Device& device_named(const char* name) {
  std::string n = name ? name : "auto";
  if (n != "cpu" && n != "cuda" && n != "auto")
    throw RuntimeError("the device must be cpu, cuda or auto, got '" + n + "'", TVM_ERR_USAGE);
  std::string why;
  const Device* d = select_device(n, &why);
  if (!d) throw RuntimeError("--device cuda: " + why, TVM_ERR_DEVICE);
  return *d;
}

tvm_package* finish_load(std::unique_ptr<Program> p, const Device& device) {
  std::unique_ptr<tvm_package> pkg(new tvm_package{std::move(p), nullptr, next_serial.fetch_add(1), {}});
  prepare_device(*pkg->program, device);  // the first call costs what later ones do
  pkg->placement = std::make_unique<Placement>(*pkg->program, device);
  warm_up(*pkg->program, *pkg->placement, vm_for(pkg.get()));
  for (auto& in : pkg->program->manifest.inputs) pkg->input_types.push_back(in.annotation.text);
  return pkg.release();
}

}  // namespace

extern "C" {

tvm_package* tvm_package_load_file_on(const char* path, const char* device, tvm_error* err) {
  if (!path) {
    set_error(err, TVM_ERR_USAGE, "no path given");
    return nullptr;
  }
  return guarded(err, [&] {
    const Device& d = device_named(device);
    return finish_load(pkg::load_program_file(path), d);
  });
}

tvm_package* tvm_package_load_memory_on(const void* data, size_t size, const char* device, tvm_error* err) {
  if (!data && size) {
    set_error(err, TVM_ERR_USAGE, "no data given");
    return nullptr;
  }
  return guarded(err, [&] {
    const Device& d = device_named(device);
    return finish_load(pkg::load_program_memory(data, size), d);
  });
}

tvm_package* tvm_package_load_file(const char* path, tvm_error* err) { return tvm_package_load_file_on(path, "auto", err); }

tvm_package* tvm_package_load_memory(const void* data, size_t size, tvm_error* err) {
  return tvm_package_load_memory_on(data, size, "auto", err);
}

const char* tvm_package_device(const tvm_package* pkg) { return pkg ? pkg->placement->device().name : ""; }

void tvm_package_free(tvm_package* pkg) {
  if (!pkg) return;
  if (cached_vm.serial == pkg->serial) cached_vm.vm.reset();
  delete pkg;
}

int tvm_package_is_script(const tvm_package* pkg) { return pkg && pkg->program->manifest.is_script ? 1 : 0; }

const char* tvm_package_entry(const tvm_package* pkg) { return pkg ? pkg->program->manifest.entry.c_str() : ""; }

size_t tvm_package_num_inputs(const tvm_package* pkg) { return pkg ? pkg->program->manifest.inputs.size() : 0; }

const char* tvm_package_input_name(const tvm_package* pkg, size_t i) {
  if (!pkg || i >= pkg->program->manifest.inputs.size()) return nullptr;
  return pkg->program->manifest.inputs[i].name.c_str();
}

const char* tvm_package_input_type(const tvm_package* pkg, size_t i) {
  if (!pkg || i >= pkg->input_types.size()) return nullptr;
  return pkg->input_types[i].c_str();
}

int tvm_package_input_shape(const tvm_package* pkg, size_t i, int64_t* dims, int max_dims) {
  if (!pkg || i >= pkg->program->manifest.inputs.size()) return -1;
  const Annotation& a = pkg->program->manifest.inputs[i].annotation;
  if (a.kind != Annotation::Tensor) return -1;
  int n = int(a.dims.size());
  for (int k = 0; k < n && k < max_dims && dims; ++k) dims[k] = a.dims[k].size;
  return n;
}

const char* tvm_package_output_type(const tvm_package* pkg) {
  if (!pkg || pkg->program->manifest.output.kind == Annotation::Any) return "";
  return pkg->program->manifest.output.text.c_str();
}

tvm_value* tvm_package_call(tvm_package* pkg, tvm_value* const* inputs, size_t n, tvm_error* err) {
  if (!pkg || (n && !inputs)) {
    set_error(err, TVM_ERR_USAGE, "no package or inputs given");
    return nullptr;
  }
  const Manifest& m = pkg->program->manifest;
  if (m.is_script) {
    set_error(err, TVM_ERR_USAGE, "a script package has no entry to call (use tvm_package_run)");
    return nullptr;
  }
  Value small[8];
  std::vector<Value> large;
  Value* args = small;
  if (n > std::size(small)) {
    large.resize(n);
    args = large.data();
  }
  for (size_t i = 0; i < n; ++i) {
    if (!inputs[i]) {
      set_error(err, TVM_ERR_USAGE, "input " + std::to_string(i) + " is NULL");
      return nullptr;
    }
    args[i] = inputs[i]->value.get();
  }
  int64_t bound_small[8];
  std::vector<int64_t> bound_large;
  int64_t* bound = bound_small;
  if (m.dim_names.size() > std::size(bound_small)) {
    bound_large.resize(m.dim_names.size());
    bound = bound_large.data();
  }
  if (std::string why = check_inputs(m, args, n, bound); !why.empty()) {
    set_error(err, TVM_ERR_USAGE, why + " (the package takes " + describe_signature(m) + ")");
    return nullptr;
  }
  return guarded(err, [&] { return wrap(pkg->placement->call(vm_for(pkg), args, n)); });
}

int tvm_package_run(tvm_package* pkg, tvm_error* err) {
  if (!pkg) {
    set_error(err, TVM_ERR_USAGE, "no package given");
    return TVM_ERR_USAGE;
  }
  if (!pkg->program->manifest.is_script) {
    set_error(err, TVM_ERR_USAGE, "a function package is run with tvm_package_call");
    return TVM_ERR_USAGE;
  }
  bool ok = guarded(err, [&] {
    RegisterVM vm(*pkg->program);  // a script's globals are fresh for every run
    pkg->placement->run_script(vm);
    std::fflush(stdout);
    return true;
  });
  return ok ? TVM_OK : (err ? err->code : TVM_ERR_PROGRAM);
}

tvm_value* tvm_tensor_new(const int64_t* shape, int ndim, const float* data, tvm_error* err) {
  if (ndim < 0 || ndim > kMaxRank || (ndim > 0 && !shape)) {
    set_error(err, TVM_ERR_USAGE, "a tensor has rank 0 to 8, got " + std::to_string(ndim));
    return nullptr;
  }
  return guarded(err, [&]() -> tvm_value* {
    TensorObj* t = new_tensor(std::span<const int64_t>(shape, size_t(ndim)));
    if (t->numel > 0) {
      if (!data) {
        decref(t);
        throw RuntimeError("no data given for a tensor of shape " + shape_str(t->dims()), TVM_ERR_USAGE);
      }
      std::memcpy(t->data, data, size_t(t->numel) * sizeof(float));
    }
    return wrap(Value::object(t));
  });
}

tvm_value* tvm_int_new(int64_t v) { return wrap(Value::integer(v)); }
tvm_value* tvm_float_new(double v) { return wrap(Value::number(v)); }
tvm_value* tvm_bool_new(int v) { return wrap(Value::boolean(v != 0)); }
tvm_value* tvm_str_new(const char* utf8) {
  try {
    return wrap(make_str(utf8 ? utf8 : ""));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void tvm_value_free(tvm_value* v) { delete v; }

tvm_kind tvm_value_kind(const tvm_value* v) {
  if (!v) return TVM_NONE;
  Value x = v->value.get();
  if (x.is_none()) return TVM_NONE;
  if (x.is_bool()) return TVM_BOOL;
  if (x.is_int()) return TVM_INT;
  if (x.is_double()) return TVM_FLOAT;
  if (is_type(x, ObjType::Str)) return TVM_STR;
  if (is_tensor(x)) return TVM_TENSOR;
  if (is_type(x, ObjType::Tuple) || is_type(x, ObjType::List)) return TVM_TUPLE;
  return TVM_OTHER;
}

int tvm_value_ndim(const tvm_value* v) { return v && is_tensor(v->value.get()) ? as_tensor(v->value.get())->ndim : -1; }
const int64_t* tvm_value_shape(const tvm_value* v) {
  return v && is_tensor(v->value.get()) ? as_tensor(v->value.get())->shape : nullptr;
}
int64_t tvm_value_numel(const tvm_value* v) { return v && is_tensor(v->value.get()) ? as_tensor(v->value.get())->numel : 0; }
const float* tvm_value_data(const tvm_value* v) { return v && is_tensor(v->value.get()) ? as_tensor(v->value.get())->data : nullptr; }

int64_t tvm_value_int(const tvm_value* v) {
  if (!v) return 0;
  Value x = v->value.get();
  if (x.is_bool()) return x.as_bool() ? 1 : 0;
  if (x.is_int()) return x.as_int();
  if (x.is_double()) return int64_t(x.as_double());
  return 0;
}

double tvm_value_float(const tvm_value* v) {
  if (!v) return 0;
  Value x = v->value.get();
  return x.is_number() ? x.to_double() : 0.0;
}

size_t tvm_value_len(const tvm_value* v) {
  if (!v) return 0;
  Value x = v->value.get();
  if (is_type(x, ObjType::Tuple)) return as_obj<TupleObj>(x)->items.size();
  if (is_type(x, ObjType::List)) return as_obj<ListObj>(x)->items.size();
  return 0;
}

tvm_value* tvm_value_item(const tvm_value* v, size_t i) {
  if (!v || i >= tvm_value_len(v)) return nullptr;
  Value x = v->value.get();
  Value item = is_type(x, ObjType::Tuple) ? as_obj<TupleObj>(x)->items[i] : as_obj<ListObj>(x)->items[i];
  incref(item);
  return wrap(item);
}

const char* tvm_value_str(tvm_value* v) {
  if (!v) return "";
  try {
    v->text = to_str(v->value.get());
  } catch (...) {
    v->text = "<unprintable>";
  }
  return v->text.c_str();
}

}  // extern "C"
