#include "run_package.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>

#include "../packager/pkg_code.h"
#include "call_support.h"
#include "cuda_plugin.h"
#include "device.h"
#include "error.h"
#include "placement.h"
#include "ops.h"
#include "reg_vm.h"
#include "tensor.h"
#include "tensor_io.h"
#include "tensor_ops.h"

namespace tvm {

namespace {

// A usage-level problem with the inputs: exit code 2, and what the package expects.
struct InputError {
  std::string message;
};

std::string signature(const Manifest& m) { return describe_signature(m); }

bool parse_int(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool parse_float(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value of --input NAME=TEXT for a parameter with annotation `a` (a new reference).
Value input_value(const Manifest::Input& in, const std::string& text) {
  const Annotation& a = in.annotation;
  auto bad = [&](const std::string& why) -> InputError {
    return InputError{"input '" + in.name + "' (" + a.text + "): " + why};
  };
  switch (a.kind) {
    case Annotation::Tensor: {
      double d;
      if (parse_float(text, d)) {  // a number: a rank-0 tensor
        TensorObj* t = new_tensor({});
        t->data[0] = float(d);
        return Value::object(t);
      }
      Ref v;
      try {
        v = Ref::steal(load_tensor_file(text));
      } catch (const RuntimeError& e) {  // a bad file is exit 3; anything else is a bad argument
        if (e.exit_code() == kExitFile) throw;
        throw bad(std::string(e.what()) + " (give a .npy, .npz or .safetensors file, or a number)");
      }
      if (is_tensor(v.get())) return v.release();
      // An archive: the entry named like the input, or its only entry.
      auto* d2 = as_obj<DictObj>(v.get());
      Value t = d2->size() == 1 ? d2->entries[0].value : d2->get(Value::object(intern(in.name)));
      if (t.is_undefined()) throw bad("'" + text + "' holds " + std::to_string(d2->size()) + " tensors and none is named '" + in.name + "'");
      incref(t);
      return t;
    }
    case Annotation::Int: {
      int64_t i;
      if (!parse_int(text, i)) throw bad("'" + text + "' is not an int");
      return Value::integer(i);
    }
    case Annotation::Float: {
      double d;
      if (!parse_float(text, d)) throw bad("'" + text + "' is not a number");
      return Value::number(d);
    }
    case Annotation::Bool:
      if (text == "True" || text == "true" || text == "1") return Value::boolean(true);
      if (text == "False" || text == "false" || text == "0") return Value::boolean(false);
      throw bad("'" + text + "' is not True or False");
    case Annotation::Str: return make_str(text);
    case Annotation::NoneType:
      if (text == "None") return Value::none();
      throw bad("'" + text + "' is not None");
    default: throw bad("inputs of this type cannot be given on the command line");
  }
}

// A random tensor for --random: uniform [0, 1) from the runner's own generator (seeded 0, the
// algorithm of rand()), shaped by the annotation with named dimensions from --dim (else 1).
Value random_input(const Manifest::Input& in, const std::map<std::string, int64_t>& dims, std::vector<int64_t>& bound,
                   const Manifest& m, Rng& rng) {
  std::vector<int64_t> shape;
  for (const Annotation::Dim& d : in.annotation.dims) {
    if (d.size >= 0) {
      shape.push_back(d.size);
      continue;
    }
    int64_t size = 1;
    if (auto it = dims.find(d.name); it != dims.end()) size = it->second;
    else if (d.index >= 0 && size_t(d.index) < bound.size() && bound[d.index] >= 0) size = bound[d.index];
    shape.push_back(size);
  }
  TensorObj* t = new_tensor(shape);
  for (int64_t i = 0; i < t->numel; ++i) t->data[i] = float(rng.next() >> 8) * (1.0f / 16777216.0f);
  return Value::object(t);
}

double percentile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

std::string fmt_us(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f us", seconds * 1e6);
  return buf;
}

void write_output(const std::string& path, Value result) {
  if (ends_with(path, ".npy")) {
    if (!is_tensor(result)) throw InputError{"-o " + path + ": the result is a " + std::string(type_name(result)) + ", not a tensor"};
    save_tensor_file(path, result);
    return;
  }
  if (ends_with(path, ".npz") || ends_with(path, ".safetensors")) {
    if (is_type(result, ObjType::Dict)) {
      save_tensor_file(path, result);
      return;
    }
    Ref d = Ref::steal(make_dict());
    if (is_tensor(result)) {
      as_obj<DictObj>(d.get())->set(Value::object(intern("0")), result);
    } else if (is_type(result, ObjType::Tuple) || is_type(result, ObjType::List)) {
      auto& items = is_type(result, ObjType::Tuple) ? as_obj<TupleObj>(result)->items : as_obj<ListObj>(result)->items;
      for (size_t i = 0; i < items.size(); ++i) as_obj<DictObj>(d.get())->set(Value::object(intern(std::to_string(i))), items[i]);
    } else {
      throw InputError{"-o " + path + ": the result is a " + std::string(type_name(result)) + ", not tensors"};
    }
    save_tensor_file(path, d.get());
    return;
  }
  throw InputError{"-o " + path + ": the output must be a .npy, .npz or .safetensors file"};
}

int run_loaded(const std::string& path, Program& program, const Device& device, const RunOptions& options) {
  const Manifest& m = program.manifest;
  if (options.disasm) {
    std::string text = describe_program(program);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  if (m.is_script &&
      (!options.inputs.empty() || options.random || !options.output.empty() || options.bench > 0 || !options.dims.empty()))
    throw InputError{"'" + path + "' is a script package: it takes no inputs (--input, --random, --dim, -o and --bench are for function packages)"};
  prepare_device(program, device);
  Placement placement(program, device);  // the weights go to the device once
  if (m.is_script) {
    RegisterVM vm(program);
    vm.argv = options.argv;
    vm.argv.insert(vm.argv.begin(), path);
    placement.run_script(vm);
    return kExitOk;
  }
  if (!options.argv.empty()) throw InputError{"unexpected argument '" + options.argv[0] + "' (inputs are given with --input NAME=VALUE)"};

  // Inputs by name.
  std::map<std::string, int64_t> dims;
  for (const std::string& d : options.dims) {
    size_t eq = d.find('=');
    int64_t size;
    if (eq == std::string::npos || !parse_int(std::string_view(d).substr(eq + 1), size) || size < 0)
      throw InputError{"--dim " + d + ": expected NAME=SIZE with a size >= 0"};
    std::string name = d.substr(0, eq);
    if (std::find(m.dim_names.begin(), m.dim_names.end(), name) == m.dim_names.end())
      throw InputError{"--dim " + d + ": the package has no dimension named '" + name + "'" +
                       (m.dim_names.empty() ? std::string() : " (its dimensions: " + [&] {
                         std::string s;
                         for (auto& n : m.dim_names) s += (s.empty() ? "" : ", ") + n;
                         return s;
                       }() + ")")};
    dims[name] = size;
  }
  std::vector<Ref> values(m.inputs.size());
  for (const std::string& spec : options.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) throw InputError{"--input " + spec + ": expected NAME=VALUE"};
    std::string name = spec.substr(0, eq);
    size_t i = 0;
    while (i < m.inputs.size() && m.inputs[i].name != name) ++i;
    if (i == m.inputs.size()) throw InputError{"unknown input '" + name + "'"};
    if (values[i]) throw InputError{"input '" + name + "' given twice"};
    values[i] = Ref::steal(input_value(m.inputs[i], spec.substr(eq + 1)));
  }
  // Check what was given against the annotations (binding named dimensions), then fill the rest.
  std::vector<int64_t> bound(m.dim_names.size(), -1);
  for (auto& [name, size] : dims)
    for (size_t k = 0; k < m.dim_names.size(); ++k)
      if (m.dim_names[k] == name) bound[k] = size;
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    if (!values[i]) continue;
    Value v = values[i].get();
    if (std::string why = check_input(m.inputs[i], v, bound.data()); !why.empty()) throw InputError{why};
  }
  Rng rng;
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    if (values[i]) continue;
    const Manifest::Input& in = m.inputs[i];
    if (!options.random || in.annotation.kind != Annotation::Tensor)
      throw InputError{"missing input '" + in.name + "'" +
                       (options.random ? " (--random makes tensors only; give it with --input " + in.name + "=VALUE)" : "")};
    values[i] = Ref::steal(random_input(in, dims, bound, m, rng));
    tensor_matches(in.annotation, as_tensor(values[i].get()), bound.data());  // binds its names for later inputs
  }
  std::vector<Value> args;
  for (auto& v : values) args.push_back(v.get());

  RegisterVM vm(program);
  if (options.bench > 0) {
    warm_up(program, placement, vm);  // "first call" is then what an embedder's first call after loading costs
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    decref(placement.call(vm, args.data(), args.size()));
    double first = std::chrono::duration<double>(clock::now() - t0).count();
    long warm = std::clamp(options.bench / 10, 1L, 1000L);
    for (long i = 0; i < warm; ++i) decref(placement.call(vm, args.data(), args.size()));
    std::vector<double> times(size_t(options.bench));
    auto start = clock::now();
    for (long i = 0; i < options.bench; ++i) {
      auto a = clock::now();
      decref(placement.call(vm, args.data(), args.size()));
      times[size_t(i)] = std::chrono::duration<double>(clock::now() - a).count();
    }
    double total = std::chrono::duration<double>(clock::now() - start).count();
    double mean = 0;
    for (double t : times) mean += t;
    mean /= double(times.size());
    std::sort(times.begin(), times.end());
    std::printf("%s: %ld calls after %ld warm-up calls\n", signature(m).c_str(), options.bench, warm);
    std::printf("  first call  %s\n  min         %s\n  median      %s\n  mean        %s\n  calls/s     %.0f\n",
                fmt_us(first).c_str(), fmt_us(times.front()).c_str(), fmt_us(percentile_sorted(times, 0.5)).c_str(),
                fmt_us(mean).c_str(), double(options.bench) / total);
    if (!placement.on_host())
      std::printf("  device      %s: %llu CUDA graph(s) recorded, %llu replayed calls\n", device.name,
                  (unsigned long long)placement.graphs_recorded(), (unsigned long long)placement.graph_replays());
    return kExitOk;
  }
  Ref result = Ref::steal(placement.call(vm, args.data(), args.size()));
  if (!options.output.empty()) {
    write_output(options.output, result.get());
    return kExitOk;
  }
  std::string text = to_str(result.get()) + "\n";
  vm.write(text);
  return kExitOk;
}

}  // namespace

std::string check_input(const Manifest::Input& in, Value v, int64_t* bound) {
  if (annotation_matches(in.annotation, v, bound)) return "";
  return "input '" + in.name + "': expected " + in.annotation.text + ", got " + annotation_describe(v);
}

std::string check_inputs(const Manifest& m, const Value* values, size_t n, int64_t* bound) {
  if (n < m.inputs.size()) return "missing input '" + m.inputs[n].name + "'";
  if (n > m.inputs.size()) return "too many inputs: " + std::to_string(n) + " given, the package takes " + std::to_string(m.inputs.size());
  for (size_t k = 0; k < m.dim_names.size(); ++k) bound[k] = -1;
  for (size_t i = 0; i < n; ++i)
    if (std::string why = check_input(m.inputs[i], values[i], bound); !why.empty()) return why;
  return "";
}

std::string describe_signature(const Manifest& m) {
  std::string s = m.entry + "(" + describe_inputs(m) + ")";
  if (m.output.kind != Annotation::Any) s += " -> " + m.output.text;
  return s;
}

std::string describe_inputs(const Manifest& m) {
  std::string s;
  for (auto& in : m.inputs) s += (s.empty() ? "" : ", ") + in.name + ": " + in.annotation.text;
  return s;
}

std::string describe_program(const Program& p) {
  const Manifest& m = p.manifest;
  std::string out = "package " + m.name + " (from " + m.source_name + ", " + m.producer + ")\n";
  if (m.is_script) {
    out += "kind: script\n";
  } else {
    out += "kind: function\nentry: " + signature(m) + "\n";
    if (!m.dim_names.empty()) {
      out += "dimensions:";
      for (auto& d : m.dim_names) out += " " + d;
      out += "\n";
    }
  }
  for (auto& mod : p.modules) out += "module: " + mod.name + " (" + mod.path + ")\n";
  out += "\n";
  if (is_type(p.entry, ObjType::Function)) out += disassemble_register(as_obj<FunctionObj>(p.entry)->code);
  for (auto& mod : p.modules) out += "\n" + disassemble_register(mod.code);
  return out;
}

namespace {

// A zero of the annotation's type (a tensor with named dimensions 1); Undefined for any other.
Value zero_of(const Annotation& a) {
  switch (a.kind) {
    case Annotation::Int: return Value::small_int(0);
    case Annotation::Float: return Value::number(0.0);
    case Annotation::Bool: return Value::boolean(false);
    case Annotation::Str: return make_str("");
    case Annotation::Tensor: {
      if (!a.has_dims) return Value::undefined();
      std::vector<int64_t> shape;
      for (const Annotation::Dim& d : a.dims) shape.push_back(d.size >= 0 ? d.size : 1);
      TensorObj* t = new_tensor(shape);
      std::fill(t->data, t->data + t->numel, 0.f);
      return Value::object(t);
    }
    default: return Value::undefined();
  }
}

}  // namespace

void warm_up(const Program& program, Placement& placement, RegisterVM& vm) {
  if (!entry_is_straight_line(program)) return;
  std::vector<Ref> args;
  for (const Manifest::Input& in : program.manifest.inputs) {
    Value v = zero_of(in.annotation);
    if (v.is_undefined()) return;
    args.push_back(Ref::steal(v));
  }
  std::vector<Value> values;
  for (const Ref& r : args) values.push_back(r.get());
  std::string sink;
  std::string* saved = std::exchange(vm.capture, &sink);
  try {
    decref(placement.call(vm, values.data(), values.size()));
  } catch (const std::exception&) {
    // zeros the entry refuses (a division by zero, an assert): the warm-up only warms
  } catch (const ProgramError&) {
  }
  vm.capture = saved;
}

const Device* device_for(const std::string& name) {
  std::string why;
  const Device* d = select_device(name, &why);
  if (!d) std::fprintf(stderr, "tvm-run: --device %s: %s\n", name.c_str(), why.c_str());
  return d;
}

int run_package(const std::string& path, const RunOptions& options) {
  const Device* device = options.disasm ? &cpu_device() : device_for(options.device);
  if (!device) return kExitDevice;
  try {
    std::unique_ptr<Program> program;
    try {
      program = pkg::load_program_file(path);
    } catch (const std::bad_alloc&) {
      throw pkg::PackageError("'" + path + "': out of memory while loading the package");
    }
    try {
      return run_loaded(path, *program, *device, options);
    } catch (const InputError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "tvm-run: %s\n", e.message.c_str());
      if (!program->manifest.is_script) std::fprintf(stderr, "tvm-run: the package takes: %s\n", signature(program->manifest).c_str());
      return kExitUsage;
    }
  } catch (const pkg::PackageError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tvm-run: %s\n", e.what());
    return e.exit_code();
  } catch (const ProgramError& e) {
    std::fflush(stdout);
    std::fputs(e.message.c_str(), stderr);
    return e.exit_code;
  } catch (const RuntimeError& e) {  // reading an input file, writing -o
    std::fflush(stdout);
    std::fprintf(stderr, "tvm-run: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {  // making the inputs or the result's text
    std::fflush(stdout);
    std::fprintf(stderr, "tvm-run: out of memory\n");
    return kExitProgramFailed;
  }
}

}  // namespace tvm
