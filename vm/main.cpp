// tvm-run: runs a TL script on the stack VM.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "../compiler/loader.h"
#include "cli.h"
#include "error.h"
#include "stack_vm.h"

using namespace tvm;

namespace {

bool read_all(std::istream& in, std::string& out) {
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args("tvm-run",
                 {{"--disasm", false, "print the stack bytecode with source lines instead of running"},
                  {"--help", false, "show this help"},
                  {"--version", false, "show the version"}},
                 "tvm-run [--disasm] SCRIPT.tl|- [ARGS...]");
  args.parse(argc, argv);
  if (args.has("--help")) {
    args.print_help();
    return kExitOk;
  }
  if (args.has("--version")) {
    std::printf("tvm-run %s\n", TVM_VERSION);
    return kExitOk;
  }
  if (args.operands().empty()) args.usage_error("no script given");

  const std::string& script = args.operands()[0];
  std::string source;
  if (script == "-") {
    read_all(std::cin, source);
  } else {
    std::ifstream in(script, std::ios::binary);
    if (std::error_code ec; std::filesystem::is_directory(script, ec)) errno = EISDIR;
    else if (in && read_all(in, source)) errno = 0;
    if (errno != 0) {
      std::fprintf(stderr, "tvm-run: cannot open '%s': %s\n", script.c_str(), std::strerror(errno));
      return kExitFile;
    }
  }
  std::string filename = script == "-" ? "<stdin>" : script;

  // A full buffer when stdout is a file or pipe; line buffering on a terminal.
  static char outbuf[1 << 16];
  if (!isatty(STDOUT_FILENO)) std::setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

  auto vm = std::make_unique<StackVM>();
  vm->argv = args.operands();
  vm->argv[0] = filename;
  LoaderOptions options;
  options.search_path = default_search_path();
  options.disasm = args.has("--disasm");
  install_importer(*vm, options);
  int rc;
  try {
    rc = run_main(*vm, filename, std::move(source), options);
  } catch (const ProgramError& e) {
    std::fflush(stdout);
    std::fputs(e.message.c_str(), stderr);
    rc = e.exit_code;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fputs("tvm-run: out of memory\n", stderr);
    rc = kExitProgramFailed;
  }
  std::fflush(stdout);
  vm.reset();  // frees every object the program left, cycles included
  return rc;
}
