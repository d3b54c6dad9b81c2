// The CUDA device, as a plugin (DESIGN.md, Layout: gpu/). tvm-run and libtvmrt link no CUDA
// library: libtvm_cuda.so is opened with dlopen the first time a GPU is asked for
// (--device cuda) or looked for (--device auto), so the same binary runs on machines without
// CUDA at all.
#pragma once

#include <string>

#include "device.h"

namespace tvm {

struct CudaPlugin {
  enum Status {
    Ok = 0,
    NoDriver = 1,   // no usable CUDA driver (none installed, or older than the plugin's runtime)
    NoGpu = 2,      // a driver but no CUDA-capable GPU
    Failed = 3,     // any other CUDA error while opening the device
    NoPlugin = 4,   // libtvm_cuda.so not found, or not a tvm plugin
  };
  Status status = NoPlugin;
  const Device* device = nullptr;  // set when status is Ok
  std::string why;                 // one line, when status is not Ok
  std::string path;                // the file that was loaded, when one was
};

// Finds and opens the plugin once per process (thread-safe); later calls return the same
// result. The search: $TVM_CUDA_PLUGIN (a file), then EXE_DIR/../lib/libtvm_cuda.so (the build
// tree and an installed prefix), then the dynamic linker's own search for libtvm_cuda.so.
const CudaPlugin& cuda_plugin();

// Whether an NVIDIA driver seems to be running here (its device nodes or /proc entry exist),
// without opening anything: --device auto looks no further on a machine where this is false,
// so a CPU-only run never pays for loading cuBLAS.
bool nvidia_driver_present();

}  // namespace tvm
