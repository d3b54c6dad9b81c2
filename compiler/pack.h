// The pack pipeline (DESIGN.md, Pipelines; LANGUAGE.md section 9): source -> stack VM runs the
// top level at pack time -> frozen globals + entry -> register code -> a Program, which
// packager/pkg_code.h writes as a package file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../vm/program.h"
#include "loader.h"

namespace tvm {

struct PackOptions {
  std::string entry;                     // --entry NAME; "" chooses `forward`, else a script package
  bool script = false;                   // --script: a script package even when forward exists
  std::vector<std::string> search_path;  // import search path after the script's directory
  bool fuse = true;                      // fuse tensor ops (tvm-pack always does; tests turn it off)
};

// What pack time produced: the Program and the sources it was compiled from (which stay alive
// as long as the Program's code refers to them). The Program's objects are ordinary pack-time
// objects; writing the package freezes nothing further.
struct Packed {
  std::vector<LoadedModule> sources;
  std::unique_ptr<Program> program;
};

// Packs the script at `path` (its text in `source`). A compile error, a runtime error of the
// top level at pack time, or a pack-time error (no such entry, an unannotated parameter, a
// global assignment in the entry, ...) throws ProgramError with the message to print (exit
// code 1); the interpreter that ran the top level is torn down before returning.
Packed pack_program(const std::string& path, std::string source, const PackOptions& options);

}  // namespace tvm
