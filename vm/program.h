// A loaded package, in memory: what `tvm-run model.pkg`, the C API and the packager share.
//
// The packager builds a Program from frozen pack-time values and writes it
// (packager/pkg_code.h); the runtime reads one back, verifies it and runs it on the register VM.
// Every object a Program owns is immortal and never written after loading, so one Program may
// be run by many threads at once (DESIGN.md, Runtime).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "code.h"
#include "object.h"

namespace tvm {

struct Device;

// The package's interface: what the runner and the C API show and check.
struct Manifest {
  bool is_script = false;             // a script package: its top level is the entry
  std::string name;                   // the module's name (the source file's stem)
  std::string source_name;            // the source file as given to tvm-pack, for messages
  std::string entry;                  // the entry function's name ("" for a script package)
  struct Input {
    std::string name;
    Annotation annotation;            // never Any: the entry's parameters are all annotated
  };
  std::vector<Input> inputs;
  Annotation output;                  // Any when the entry has no return annotation
  std::vector<std::string> dim_names; // the symbolic dimensions the inputs name (B in Tensor[B, 512])
  std::string producer;               // "tvm-pack VERSION"
};

struct Program {
  Manifest manifest;
  // A function package: the entry, a register FunctionObj. A script package: a FunctionObj of
  // the main module's top-level code (its globals live in a fresh module for each run).
  Value entry = Value::none();
  // Script packages: the imported modules' top-level code by module name, run on first import.
  struct ModuleCode {
    std::string name;
    std::string path;
    CodeObj* code = nullptr;  // owned
  };
  std::vector<ModuleCode> modules;
  // Every object the program owns (immortal); freed together by the destructor.
  std::vector<Obj*> objects;
  // The embedded sources (unless stripped): file name -> text, for disassembly.
  std::vector<std::pair<std::string, std::string>> sources;
  // Aligned storage for the weights (tensor data points into it).
  std::shared_ptr<void> weight_storage;
  // A Program built at pack time (compiler/pack.h) holds its pack-time objects by ordinary
  // references instead (they are not immortal, and `objects` is empty).
  std::vector<Ref> holds;

  Program() = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program();
};

// Readies the device for p's first call when p does tensor work (it holds a tensor or a fused
// kernel, or takes a tensor input): see Device::prepare. tvm-run and the C API call it after
// loading a package.
void prepare_device(const Program& p, const Device& device);

// Marks the objects reachable from v frozen (LANGUAGE.md section 9): a list, dict or cell that
// is frozen cannot be changed, and the attempt is the runtime error
// "cannot modify frozen value 'NAME'", NAME the global it was reached through.
void freeze_value(Value v, const std::string& name);
// Throws that error when o is frozen. Called by every mutation of a list, dict or cell.
[[noreturn]] void frozen_error(const Obj* o);
inline void check_not_frozen(const Obj* o) {
  if (o->flags & Obj::kFrozen) frozen_error(o);
}
// The name o was frozen under, or null when it has none: what the package writer records
// (packager/pkg_code.cpp).
const std::string* frozen_name(const Obj* o);
// Marks o alone frozen under `name` (no walk; "" sets the flag and records no name): how a
// loaded package gets back each object's flag and name as they were packed. The Program
// owning o forgets the name when it frees o.
void freeze_object(Obj* o, const std::string& name);

}  // namespace tvm
