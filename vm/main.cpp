// tvm-run: runs a TL script on the stack VM, or a package (tvm-pack's output) on the register VM.
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
#include "../packager/pkg_code.h"
#include "cli.h"
#include "error.h"
#include "run_package.h"
#include "stack_vm.h"
#include "tensor.h"

using namespace tvm;

int main(int argc, char** argv) {
  std::vector<cli::Flag> flags{
      {"--disasm", false, "print the bytecode (a package: its manifest and register code) instead of running"},
      {"--input", true, "NAME=VALUE: a package input: a .npy/.npz/.safetensors file or a number (repeatable)"},
      {"--random", false, "random tensors of the declared shapes for the package inputs not given"},
      {"--dim", true, "NAME=SIZE: a symbolic dimension's size for --random (repeatable)"},
      {"-o", true, "write the package's result to a .npy file (a tuple: .npz)"},
      {"--bench", true, "N: time N calls of the package's entry after a warm-up"},
      {"--device", true, "cpu, cuda or auto: where tensor work runs (default: auto for a package, cpu for a script)"},
      {"--help", false, "show this help"},
      {"--version", false, "show the version"}};
  const char* usage = "tvm-run [--disasm] SCRIPT.tl|- [ARGS...]\n       tvm-run [OPTIONS] MODEL.pkg [OPTIONS]";
  cli::Args args("tvm-run", flags, usage);
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

  auto check_device_flag = [](const cli::Args& a) {
    for (const std::string& d : a.values("--device"))
      if (d != "cpu" && d != "cuda" && d != "auto") a.usage_error("--device must be cpu, cuda or auto, got '" + d + "'");
  };
  check_device_flag(args);

  // A package (by its magic, or named .pkg so that a truncated one is still reported as a
  // package): the options may also follow it; a script package's other arguments are its argv().
  const std::string& first = args.operands()[0];
  bool named_pkg = first.size() > 4 && first.compare(first.size() - 4, 4, ".pkg") == 0;
  if (pkg::looks_like_package(first) || named_pkg) {
    cli::Args more("tvm-run", flags, usage);
    more.parse(std::vector<std::string>(args.operands().begin() + 1, args.operands().end()), true);
    RunOptions options;
    options.argv = more.operands();
    for (const cli::Args* a : {&args, &more}) {
      for (auto& v : a->values("--input")) options.inputs.push_back(v);
      for (auto& v : a->values("--dim")) options.dims.push_back(v);
      options.random = options.random || a->has("--random");
      options.disasm = options.disasm || a->has("--disasm");
      if (a->has("-o")) options.output = a->value("-o");
      if (a->has("--device")) options.device = a->value("--device");
      check_device_flag(*a);
      if (a->has("--bench")) {
        std::string n = a->value("--bench");
        char* end = nullptr;
        long v = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || v < 1) a->usage_error("--bench needs a number of calls >= 1, got '" + n + "'");
        options.bench = v;
      }
    }
    static char pkgbuf[1 << 16];
    if (!isatty(STDOUT_FILENO)) std::setvbuf(stdout, pkgbuf, _IOFBF, sizeof pkgbuf);
    int rc = run_package(args.operands()[0], options);
    std::fflush(stdout);
    collect_cycles();
    return rc;
  }
  for (const char* f : {"--input", "--random", "--dim", "-o", "--bench"})
    if (args.has(f)) args.usage_error(std::string(f) + " is for packages; '" + args.operands()[0] + "' is a script");
  // The interpreter on a device: tensors are made there and each op runs there, unfused.
  const Device* device = device_for(args.has("--device") ? args.value("--device") : "cpu");
  if (!device) return kExitDevice;
  set_default_device(device);

  const std::string& script = args.operands()[0];
  std::string source;
  if (!cli::read_source("tvm-run", script, source)) return kExitFile;
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
  if (rc == kExitOk) {
    try {
      check_device(device);  // kernels still queued when the program ended
    } catch (const RuntimeError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "tvm-run: %s\n", e.what());
      rc = e.exit_code();
    }
  }
  std::fflush(stdout);
  vm.reset();  // frees every object the program left, cycles included
  return rc;
}
