// Errors raised while a TL program runs. TL has no try/except, so a runtime error unwinds to
// the top: the VM catches it once, adds the location and traceback from its own frame stack,
// prints it and exits. Native code just throws.
#pragma once

#include <stdexcept>
#include <string>

namespace tvm {

// DESIGN.md's exit codes.
enum ExitCode : int {
  kExitOk = 0,
  kExitProgramFailed = 1,  // compile or runtime error, failed assert
  kExitUsage = 2,          // bad flag, missing or badly shaped input
  kExitFile = 3,           // a file could not be used
  kExitDevice = 4,         // device unavailable or out of memory
};

class RuntimeError : public std::runtime_error {
 public:
  explicit RuntimeError(std::string message, int exit_code = kExitProgramFailed)
      : std::runtime_error(std::move(message)), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

[[noreturn]] void throw_error(std::string message);

}  // namespace tvm
