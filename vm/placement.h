// A loaded package placed on a device (DESIGN.md, Runtime): what `tvm-run model.pkg --device`
// and the C API run a package's entry through.
//
// On the CPU a call is the register VM's call, nothing more. On a GPU:
//   * the package's weights are uploaded once, when it is placed (the host copies are dropped);
//   * each call copies its tensor inputs to the device once and its result back once, and the
//     tensors the entry makes itself (zeros(), tensor([...])) are made on the device;
//   * an entry that takes only tensors is recorded as a CUDA graph on its first call for each
//     thread and input shapes, and later calls with those shapes replay it: one graph launch
//     per call, with the inputs copied into the recording's own input buffers. What a replay
//     could not repeat ends the recording before it happens: a value read on the host (a
//     condition on a tensor, item()), output, the clock, the random generator, a file written
//     (VM::recording). That call, and later ones with its shapes, then run plainly.
// Every thread calls on its own stream with its own recordings, so threads never share
// intermediate buffers; the weights are shared read-only.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "program.h"

namespace tvm {

struct Device;
class RegisterVM;

// Which device a name asks for: "cpu", "cuda", or "auto" (a GPU when an NVIDIA driver is
// present, or $TVM_CUDA_PLUGIN names a plugin, and the plugin opens one; else the CPU).
// Null, with *why set to one line, when "cuda" cannot be had.
const Device* select_device(const std::string& name, std::string* why);

// The entry can neither call anything (print, a function that loops) nor loop itself: what
// the warm-up at load and graph recording ask of it.
bool entry_is_straight_line(const Program& p);

class Placement {
 public:
  // Places p on `device` (the CPU: nothing to do). Throws RuntimeError with exit code 4 when
  // the weights do not fit. p must be a loaded package (its tensors external) and outlive this.
  Placement(Program& p, const Device& device);
  ~Placement();
  Placement(const Placement&) = delete;
  Placement& operator=(const Placement&) = delete;

  const Device& device() const { return *device_; }
  bool on_host() const { return host_; }

  // The entry called with host values (borrowed), on this thread: a new reference, host values
  // only. Errors are thrown as RegisterVM::call_entry throws them; a device failure is a
  // RuntimeError with exit code 4.
  Value call(RegisterVM& vm, const Value* args, size_t n);
  // Runs a script package's top level with tensors made on the device.
  void run_script(RegisterVM& vm);

  // Recordings made and replays run so far (tests and --bench).
  uint64_t graphs_recorded() const;
  uint64_t graph_replays() const;

 private:
  struct Graph;
  Value call_recorded(RegisterVM& vm, const Value* args, size_t n);
  Value call_plain(RegisterVM& vm, const Value* args, size_t n);
  Value result_to_host(Value result) const;

  const Program& program_;
  const Device* device_;
  bool host_;
  bool recordable_ = false;  // the entry qualifies for graph recording
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Graph>> graphs_;  // by thread and input shapes
  uint64_t recorded_ = 0, replays_ = 0;
};

}  // namespace tvm
