// tvm-pack: compiles a TL program ahead of time into a package (LANGUAGE.md section 9).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../compiler/pack.h"
#include "../vm/cli.h"
#include "../vm/error.h"
#include "../vm/run_package.h"
#include "pkg_code.h"

using namespace tvm;

int main(int argc, char** argv) {
  cli::Args args("tvm-pack",
                 {{"-o", true, "the package file to write (required unless --disasm)"},
                  {"--entry", true, "the entry function (default: forward, else the whole script)"},
                  {"--script", false, "a script package even when the program defines forward"},
                  {"--strip", false, "leave the embedded source out of the package"},
                  {"--disasm", false, "print the manifest and register code"},
                  {"--help", false, "show this help"},
                  {"--version", false, "show the version"}},
                 "tvm-pack [--entry NAME | --script] [--strip] [--disasm] MODEL.tl -o MODEL.pkg");
  args.parse(std::vector<std::string>(argv + 1, argv + argc), true);
  if (args.has("--help")) {
    args.print_help();
    return kExitOk;
  }
  if (args.has("--version")) {
    std::printf("tvm-pack %s\n", TVM_VERSION);
    return kExitOk;
  }
  if (args.operands().empty()) args.usage_error("no source file given");
  if (args.operands().size() > 1) args.usage_error("unexpected argument '" + args.operands()[1] + "'");
  std::string out_path = args.value("-o");
  bool disasm = args.has("--disasm");
  if (out_path.empty() && !disasm) args.usage_error("no output given (-o MODEL.pkg)");

  const std::string& script = args.operands()[0];
  std::string source;
  if (!cli::read_source("tvm-pack", script, source)) return kExitFile;

  PackOptions options;
  options.entry = args.value("--entry");
  if (args.has("--entry") && options.entry.empty()) args.usage_error("--entry needs a function name");
  options.script = args.has("--script");
  if (options.script && args.has("--entry")) args.usage_error("--entry and --script cannot be used together");
  options.search_path = default_search_path();
  int rc = kExitOk;
  try {
    Packed packed = pack_program(script, std::move(source), options);
    std::fflush(stdout);
    if (disasm) {
      std::string text = describe_program(*packed.program);
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
    if (!out_path.empty()) {
      pkg::WriteOptions wo;
      wo.strip = args.has("--strip");
      pkg::write_program_file(out_path, *packed.program, wo);
    }
  } catch (const ProgramError& e) {
    std::fflush(stdout);
    std::fputs(e.message.c_str(), stderr);
    rc = e.exit_code;
  } catch (const pkg::PackageError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tvm-pack: %s\n", e.what());
    rc = e.exit_code();
  } catch (const RuntimeError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tvm-pack: %s\n", e.what());
    rc = e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fputs("tvm-pack: out of memory\n", stderr);
    rc = kExitProgramFailed;
  }
  std::fflush(stdout);
  collect_cycles();
  return rc;
}
