#include "loader.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../vm/error.h"
#include "diag.h"
#include "emit_stack.h"

namespace tvm {
namespace fs = std::filesystem;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string dir_of(const std::string& path) {
  if (path.empty() || path == "-") return ".";
  fs::path p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Compiles src into module; compile errors become a ProgramError holding every diagnostic.
CodeObj* compile_or_throw(const SourceFile& src, ModuleObj* module, std::unique_ptr<ast::Module>* keep_ast) {
  Diagnostics diag(src);
  CodeObj* code = compile_source(src, module, diag, keep_ast);
  if (!code) {
    std::string text;
    for (const Diagnostic& d : diag.errors()) text += diag.format(d);
    throw ProgramError{text, kExitProgramFailed};
  }
  return code;
}

ModuleObj* new_module(const std::string& name, const std::string& path, const std::string& dunder_name) {
  auto* m = new ModuleObj(intern(name));
  m->path = path;
  int slot = m->slot("__name__");
  m->slots[slot] = make_str(dunder_name);
  return m;
}

}  // namespace

std::vector<std::string> default_search_path() {
  std::vector<std::string> dirs;
  if (const char* p = std::getenv("TVM_PATH")) {
    std::string s = p;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "tvm" / "stdlib").string());
  return dirs;
}

bool find_module(const std::string& name, const std::string& from, const std::vector<std::string>& search_path,
                 std::string& path, std::string& text) {
  std::vector<std::string> dirs{dir_of(from)};
  dirs.insert(dirs.end(), search_path.begin(), search_path.end());
  for (const std::string& dir : dirs) {
    path = (fs::path(dir) / (name + ".tl")).string();
    if (read_file(path, text)) return true;
  }
  return false;
}

void install_importer(StackVM& vm, const LoaderOptions& options) {
  vm.importer = [search = options.search_path, keep = options.keep](StackVM& vm, const std::string& name, const std::string& from) -> ModuleObj* {
    std::string path, text;
    if (find_module(name, from, search, path, text)) {
      auto src = std::make_unique<SourceFile>(path, std::move(text));
      ModuleObj* m = new_module(name, path, name);
      // Registered before it runs: a circular import sees the partly initialised module.
      vm.modules[name] = m;
      std::unique_ptr<ast::Module> tree;
      CodeObj* code = compile_or_throw(*src, m, keep ? &tree : nullptr);
      if (keep) keep->push_back({name, std::move(src), std::move(tree)});
      Ref hold = Ref::steal(Value::object(code));
      vm.run_module(m, code);
      incref(m);
      return m;
    }
    throw RuntimeError("no module named '" + name + "'");
  };
}

int run_main(StackVM& vm, const std::string& filename, std::string source, const LoaderOptions& options) {
  auto owned_src = std::make_unique<SourceFile>(filename, std::move(source));
  const SourceFile& src = *owned_src;
  ModuleObj* m = new_module(options.main_name, filename, options.main_name);
  vm.modules[options.main_name] = m;
  Diagnostics diag(src);
  std::unique_ptr<ast::Module> tree;
  CodeObj* code = compile_source(src, m, diag, options.keep ? &tree : nullptr);
  if (code && options.keep) options.keep->push_back({options.main_name, std::move(owned_src), std::move(tree)});
  if (!code) {
    std::fflush(stdout);
    diag.print();
    return kExitProgramFailed;
  }
  Ref hold = Ref::steal(Value::object(code));
  if (options.disasm) {
    std::string text = disassemble(code, &src, m);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  vm.run_module(m, code);
  return kExitOk;
}

}  // namespace tvm
