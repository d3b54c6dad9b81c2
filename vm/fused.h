// Fused tensor ops: what the register VM's one kernel-call door (KCALL) runs.
//
// The packager's fusion passes turn `linear(x, w, b)` / `x @ w.T + b` followed by relu, sigmoid,
// tanh or gelu into one Gemm descriptor (the bias and activation are the GEMM's epilogue), and a
// chain of elementwise ops into one Elementwise descriptor, a small program that the device runs
// in a single pass over memory. A descriptor lives in its CodeObj (`kernels`), is serialised in
// the package and checked by the verifier; it holds no machine code, so the same package runs on
// any device.
//
// A fused op computes exactly what the unfused ops compute, error messages included: when an
// argument is not what the fast path needs (not a tensor, shapes that do not broadcast), the door
// runs the steps one by one through the ordinary tensor builtins, which raise the same errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device.h"
#include "object.h"

namespace tvm {

// One step of an elementwise program. Operands name slots: 0..arity-1 are the KCALL's
// arguments (tensors, or numbers taken as float32 scalars), arity + i is the result of step i,
// kImmediate is the step's float32 immediate `imm`. The program's result is the last step's.
struct EwStep {
  static constexpr uint8_t kImmediate = 0xFF;
  enum Kind : uint8_t { Unary, Binary, Clamp, Where };
  Kind kind = Unary;
  uint8_t op = 0;    // UnaryKind for Unary, BinaryKind for Binary
  uint8_t a = 0;     // operand slots; Binary: a op b; Clamp: clamp(a, lo = b, hi = c); Where: where(a, b, c)
  uint8_t b = 0;
  uint8_t c = 0;
  float imm = 0.0f;
};

// The operand slots an elementwise step reads into slots[0..n): a; a, b; or a, b, c. Returns
// n, 0 for an unknown kind. (The door, vm/fused.cpp, which checks programs, and each device's
// elementwise kernel.)
inline int step_operands(const EwStep& st, uint8_t* slots) {
  slots[0] = st.a;
  slots[1] = st.b;
  slots[2] = st.c;
  switch (st.kind) {
    case EwStep::Unary: return 1;
    case EwStep::Binary: return 2;
    case EwStep::Clamp:
    case EwStep::Where: return 3;
  }
  return 0;
}

struct KernelDesc {
  enum Kind : uint8_t {
    // act(x @ wᵀ + b): arguments (x, w) or (x, w, b) when has_bias, with linear()'s shape rules.
    Gemm,
    // An elementwise program over `arity` arguments, broadcast as NumPy.
    Elementwise,
  };
  static constexpr int kMaxArity = 8;
  static constexpr int kMaxSteps = 32;
  Kind kind = Gemm;
  uint8_t arity = 0;
  Activation act = Activation::None;  // Gemm
  bool has_bias = false;              // Gemm
  std::vector<EwStep> steps;          // Elementwise
};

// Runs a descriptor on `args` (borrowed, `desc.arity` of them) on the CPU device; a new
// reference. Throws RuntimeError with the unfused ops' messages.
Value run_kernel(VM& vm, const KernelDesc& desc, const Value* args);

// The descriptor spelled out for --disasm: "gemm+bias+relu(x, w, b)",
// "elementwise[(a0 * 2) + a1 -> sigmoid]" — one line, no newline.
std::string describe_kernel(const KernelDesc& desc);

// Why a descriptor cannot run (the verifier's message), or "" when it is well formed: arity in
// range, every step's kind/op known, every operand slot defined before it is read.
std::string check_kernel(const KernelDesc& desc);

}  // namespace tvm
