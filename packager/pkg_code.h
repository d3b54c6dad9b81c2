// A Program (vm/program.h) as package sections, and back (DESIGN.md, Package file; tvm-pkg(5)).
//
// Sections, in this order:
//   MANI  the manifest: script or function, entry, inputs with their annotations, output
//   CODE  every register CodeObj: instructions, frame layout, names, annotations, kernels
//   CNST  the object graph the code's constants and the entry reach (strs, ints, tuples,
//         lists, dicts, functions, cells, modules, builtins by name, tensors by weight index)
//   WGHT  every tensor's float32 data, each 64-byte aligned, decompressed straight into place
//   DBUG  each code object's line table (one line/column per instruction)
//   SRCE  the embedded source files (left out with --strip)
// The writer is deterministic (objects in a fixed walk order, no pointers, no time stamps).
// The reader checks every count, index, size and kind before it builds an object, then the
// verifier (packager/verify.h) checks every instruction; anything wrong is a PackageError
// (exit code 3) with a clear message, never a crash.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../vm/program.h"
#include "pkg_file.h"

namespace tvm::pkg {

struct WriteOptions {
  bool strip = false;  // leave out SRCE
};

// One section's bytes before compression.
struct OwnedSection {
  char kind[4];
  std::vector<uint8_t> data;
  uint32_t align = 1;
};

// The package's sections for `program` (whose objects need not be immortal yet). Throws
// PackageError with exit code 1 for a value a package cannot hold ("cannot freeze a 'iterator'
// value"), and for code the verifier would refuse ("internal: code 'f' does not verify: ..."):
// a package that is written always loads.
std::vector<OwnedSection> program_sections(const Program& program, const WriteOptions& options);
// The container writer's view of owned sections (they must outlive it).
std::vector<SectionIn> section_views(const std::vector<OwnedSection>& sections);

// The whole file's bytes, and the atomic write of them (temp file + rename).
std::vector<uint8_t> write_program(const Program& program, const WriteOptions& options);
void write_program_file(const std::string& path, const Program& program, const WriteOptions& options);

// Reads, checks and verifies a package. Every object is immortal and listed in the Program's
// `objects` (module code and the entry included); names the VM compares by pointer are
// interned, strs' hashes computed, frozen objects named again (freeze_object). Any failure is a
// PackageError (exit code 3) naming the file, and frees whatever was built.
std::unique_ptr<Program> load_program(const PackageReader& reader);
std::unique_ptr<Program> load_program_file(const std::string& path);
std::unique_ptr<Program> load_program_memory(const void* data, size_t size);

// True when the file starts with the package magic (tvm-run tells a package from a script).
bool looks_like_package(const std::string& path);

}  // namespace tvm::pkg
