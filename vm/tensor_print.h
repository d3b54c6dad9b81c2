// Printing a float32 tensor exactly as PyTorch 1.13 (torch/_tensor_str.py) prints a CPU float32
// tensor with default print options and no grad (LANGUAGE.md section 8).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tvm {

// What Python's print(t) writes for the contiguous row-major float32 tensor `data` of `shape`,
// without the trailing newline: "tensor([1., 2.])", "tensor(3.5000)", "tensor([], size=(0, 3))".
std::string format_tensor(const float* data, const std::vector<int64_t>& shape);

}  // namespace tvm
