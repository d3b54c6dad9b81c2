// Raising runtime errors from native code.
#include "error.h"

namespace tvm {

void throw_error(std::string message) { throw RuntimeError(std::move(message)); }

}  // namespace tvm
