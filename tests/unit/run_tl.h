// Runs TL source end to end (resolver, emitter, stack VM) with output captured: the harness
// shared by the unit tests that check programs.
#pragma once

#include <string>

#include "../../compiler/emit_stack.h"
#include "../../compiler/loader.h"
#include "../../vm/stack_vm.h"

namespace tvm::test {

struct Run {
  int rc = 0;
  std::string out;
  std::string err;
};

// Compiles and runs `src` as the file t.tl in a fresh VM.
inline Run run(const std::string& src) {
  StackVM vm;
  Run r;
  vm.capture = &r.out;
  LoaderOptions opt;
  install_importer(vm, opt);
  SourceFile file("t.tl", src);
  auto* m = new ModuleObj(intern("__main__"));
  m->path = "t.tl";
  vm.modules["__main__"] = m;
  Diagnostics diag(file);
  CodeObj* code = compile_source(file, m, diag);
  if (!code) {
    r.rc = 1;
    r.err = diag.format(diag.errors().front());
    return r;
  }
  try {
    vm.run_module(m, code);
  } catch (const ProgramError& e) {
    r.rc = e.exit_code;
    r.err = e.message;
  }
  decref(code);
  return r;
}

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace tvm::test
