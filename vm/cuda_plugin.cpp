#include "cuda_plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace tvm {
namespace {

namespace fs = std::filesystem;

// The plugin's entry points (gpu/cuda_device.cu).
using OpenFn = int (*)(const Device** device, char* why, size_t why_len);
using AbiFn = int (*)();

std::vector<std::string> candidates() {
  std::vector<std::string> out;
  if (const char* p = std::getenv("TVM_CUDA_PLUGIN"); p && *p) out.push_back(p);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path().parent_path() / "lib" / "libtvm_cuda.so").string());
  out.push_back("libtvm_cuda.so");
  return out;
}

CudaPlugin open_plugin() {
  CudaPlugin p;
  std::string tried;
  void* lib = nullptr;
  for (const std::string& name : candidates()) {
    // A path that is not there is skipped quietly; one that is there but fails to load is the
    // answer (its dependencies, libcublas say, are missing).
    bool is_path = name.find('/') != std::string::npos;
    if (is_path && !fs::exists(name)) {
      tried += (tried.empty() ? "" : ", ") + name;
      continue;
    }
    lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) {
      p.path = name;
      break;
    }
    const char* e = dlerror();
    if (is_path) {
      p.why = "cannot load the CUDA plugin " + name + ": " + (e ? e : "unknown error");
      return p;
    }
    tried += (tried.empty() ? "" : ", ") + name;
  }
  if (!lib) {
    p.why = "the CUDA plugin libtvm_cuda.so is not installed (looked for " + tried + ")";
    return p;
  }
  auto open = reinterpret_cast<OpenFn>(dlsym(lib, "tvm_cuda_plugin_open"));
  auto abi = reinterpret_cast<AbiFn>(dlsym(lib, "tvm_cuda_plugin_abi"));
  if (!open) {
    p.why = p.path + " is not a tvm CUDA plugin (it has no tvm_cuda_plugin_open)";
    return p;
  }
  if (!abi) {
    p.why = p.path + " was built for another version of tvm (it has no tvm_cuda_plugin_abi)";
    return p;
  }
  if (int v = abi(); v != kDeviceAbi) {
    p.why = p.path + " was built for another version of tvm (device interface " + std::to_string(v) +
            ", this runtime's is " + std::to_string(kDeviceAbi) + ")";
    return p;
  }
  char why[512] = {};
  int status = open(&p.device, why, sizeof why);
  why[sizeof why - 1] = '\0';
  if (status == 0 && p.device) {
    p.status = CudaPlugin::Ok;
    return p;
  }
  p.device = nullptr;
  p.status = status >= 1 && status <= 3 ? CudaPlugin::Status(status) : CudaPlugin::Failed;
  p.why = why[0] ? why : "the CUDA device could not be opened";
  return p;
}

}  // namespace

bool nvidia_driver_present() {
  std::error_code ec;
  return fs::exists("/dev/nvidiactl", ec) || fs::exists("/proc/driver/nvidia/version", ec);
}

const CudaPlugin& cuda_plugin() {
  static const CudaPlugin plugin = open_plugin();
  return plugin;
}

}  // namespace tvm
