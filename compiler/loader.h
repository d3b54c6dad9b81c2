// Running TL source on the stack VM: the main script, and `import` (LANGUAGE.md §5): a module
// is searched for in the importing file's directory, then each directory of $TVM_PATH, then
// the installed stdlib, and runs once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../vm/stack_vm.h"
#include "ast.h"
#include "diag.h"

namespace tvm {

// A module the loader compiled, kept for the packager: its source and resolved tree (the
// CodeObjs' `ast` pointers point into `ast`).
struct LoadedModule {
  std::string name;  // "__main__" for the script
  std::unique_ptr<SourceFile> source;
  std::unique_ptr<ast::Module> ast;
};

struct LoaderOptions {
  std::vector<std::string> search_path;  // $TVM_PATH's directories, then the stdlib's
  bool disasm = false;                   // print the bytecode instead of running
  // When set, every module compiled (the script and each import, in load order) is kept here.
  std::vector<LoadedModule>* keep = nullptr;
  // The main module's __name__ and module name: "__main__" under tvm-run, the file's stem
  // under tvm-pack (LANGUAGE.md section 9).
  std::string main_name = "__main__";
};

// Finds module `name` imported from the file `from`: NAME.tl in from's directory, then in each
// of search_path's. True with the file's path and text; false when there is none.
bool find_module(const std::string& name, const std::string& from, const std::vector<std::string>& search_path,
                 std::string& path, std::string& text);

// Installs the importer on vm. The directories of TVM_PATH and the stdlib are read once.
void install_importer(StackVM& vm, const LoaderOptions& options);

// Compiles and runs `source` as the main module (`__name__ == "__main__"`). Compile errors
// are printed to stderr and give exit code 1; runtime errors throw ProgramError.
int run_main(StackVM& vm, const std::string& filename, std::string source, const LoaderOptions& options);

// The default search path: $TVM_PATH's directories, then the stdlib next to the executable
// (EXE_DIR/../share/tvm/stdlib).
std::vector<std::string> default_search_path();

}  // namespace tvm
