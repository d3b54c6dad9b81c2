#include "placement.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cuda_plugin.h"
#include "device.h"
#include "error.h"
#include "reg_opcodes.h"
#include "reg_vm.h"
#include "tensor.h"
#include "tensor_io.h"

namespace tvm {

namespace {

// Recordings one thread keeps per placement; past this the oldest goes (a server seeing many
// batch sizes keeps the recent ones, not one per size ever seen).
constexpr size_t kGraphsPerThread = 16;

bool graphs_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("TVM_CUDA_GRAPHS");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

}  // namespace

bool entry_is_straight_line(const Program& p) {
  if (p.manifest.is_script || !is_type(p.entry, ObjType::Function)) return false;
  const CodeObj* code = as_obj<FunctionObj>(p.entry)->code;
  for (size_t pc = 0; pc < code->rcode.size(); ++pc) {
    RInstr in = code->rcode[pc];
    switch (rop(in)) {
      case ROp::CALL:
      case ROp::CALLMETHOD:
      case ROp::CALLEX:
      case ROp::IMPORT: return false;
      case ROp::JMP:
        if (rb(in) <= pc) return false;
        break;
      default: break;
    }
  }
  return true;
}

const Device* select_device(const std::string& name, std::string* why) {
  if (name == "cpu") return &cpu_device();
  if (name == "auto") {
    // A CPU-only machine never pays for loading the plugin (and through it cuBLAS).
    const char* forced = std::getenv("TVM_CUDA_PLUGIN");
    if (!nvidia_driver_present() && !(forced && *forced)) return &cpu_device();
    const CudaPlugin& cuda = cuda_plugin();
    return cuda.status == CudaPlugin::Ok ? cuda.device : &cpu_device();
  }
  const CudaPlugin& cuda = cuda_plugin();
  if (cuda.status == CudaPlugin::Ok) return cuda.device;
  if (why) *why = cuda.why;
  return nullptr;
}

// One recording: this thread's calls with these input shapes.
struct Placement::Graph {
  std::thread::id thread;
  std::vector<std::vector<int64_t>> shapes;
  uint64_t last_use = 0;
  bool failed = false;      // could not be recorded: plain calls for these shapes
  const Device* device = nullptr;
  std::vector<Ref> inputs;  // the device tensors the recording reads its inputs from
  Ref result;               // the device values its replays write
  void* graph = nullptr;

  bool matches(const Value* args, size_t n) const {
    if (n != shapes.size()) return false;
    for (size_t i = 0; i < n; ++i) {
      const TensorObj* x = as_tensor(args[i]);
      if (!std::equal(x->shape, x->shape + x->ndim, shapes[i].begin(), shapes[i].end())) return false;
    }
    return true;
  }
  ~Graph() {
    if (graph) device->graph_destroy(graph);  // waits for its replays; then the buffers go
  }
};

Placement::Placement(Program& p, const Device& device)
    : program_(p), device_(&device), host_(&device == &cpu_device()) {
  if (host_) return;
  for (Obj* o : p.objects)
    if (o->type == ObjType::Tensor) move_external_tensor(static_cast<TensorObj*>(o), device_);
  p.weight_storage.reset();  // every tensor that pointed into it has its own device copy now
  bool all_tensors = !p.manifest.inputs.empty();
  for (const Manifest::Input& in : p.manifest.inputs) all_tensors &= in.annotation.kind == Annotation::Tensor;
  // Loops and calls are fine: a recording holds the kernels one call ran. What could differ on
  // a replay ends the recording (a read on the host, a number input, output, rand(): see
  // VM::recording), and that call and later ones with its shapes run plainly.
  recordable_ = device_->capture_begin && all_tensors && is_type(p.entry, ObjType::Function) && graphs_enabled();
}

Placement::~Placement() = default;

uint64_t Placement::graphs_recorded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return recorded_;
}
uint64_t Placement::graph_replays() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return replays_;
}

Value Placement::call(RegisterVM& vm, const Value* args, size_t n) {
  if (host_) return vm.call_entry(args, n);
  DefaultDeviceScope scope(device_);
  if (recordable_ && std::all_of(args, args + n, [](Value v) { return is_tensor(v) && tvm::on_host(as_tensor(v)); }))
    return call_recorded(vm, args, n);
  return call_plain(vm, args, n);
}

void Placement::run_script(RegisterVM& vm) {
  DefaultDeviceScope scope(host_ ? nullptr : device_);
  vm.run_script();
  check_device(device_);
}

// Inputs up, the entry, the result down: two copies and the entry's kernels.
Value Placement::call_plain(RegisterVM& vm, const Value* args, size_t n) {
  std::vector<Ref> on_device(n);
  std::vector<Value> values(n);
  for (size_t i = 0; i < n; ++i) {
    on_device[i] = Ref::steal(tensors_to(args[i], device_));
    values[i] = on_device[i].get();
  }
  Ref result = Ref::steal(vm.call_entry(values.data(), n));
  return result_to_host(result.get());
}

// The result copied to the host, once the device has reported no failure queued before the
// copy's end.
Value Placement::result_to_host(Value result) const {
  Ref host = Ref::steal(tensors_to(result, nullptr));
  check_device(device_);
  return host.release();
}

Value Placement::call_recorded(RegisterVM& vm, const Value* args, size_t n) {
  const std::thread::id me = std::this_thread::get_id();
  Graph* g = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t now = recorded_ + replays_ + 1;
    size_t mine = 0;
    Graph* oldest = nullptr;
    for (auto& x : graphs_) {
      if (x->thread != me) continue;
      if (x->matches(args, n)) g = x.get();
      ++mine;
      if (!oldest || x->last_use < oldest->last_use) oldest = x.get();
    }
    if (!g && mine >= kGraphsPerThread)  // only this thread uses its own recordings
      std::erase_if(graphs_, [&](const std::unique_ptr<Graph>& x) { return x.get() == oldest; });
    if (g) g->last_use = now;
  }
  if (g && g->failed) return call_plain(vm, args, n);

  if (!g) {  // the first call with these shapes on this thread: record it
    auto rec = std::make_unique<Graph>();
    rec->thread = me;
    rec->device = device_;
    std::vector<Value> values(n);
    for (size_t i = 0; i < n; ++i) {
      const TensorObj* x = as_tensor(args[i]);
      rec->shapes.emplace_back(x->shape, x->shape + x->ndim);
      rec->inputs.push_back(Ref::steal(tensors_to(args[i], device_)));
      values[i] = rec->inputs.back().get();
    }
    check_device(device_);
    Value result = Value::undefined();
    bool ok = device_->capture_begin();
    if (ok) {
      vm.recording = true;
      try {
        result = vm.call_entry(values.data(), n);
      } catch (...) {  // a host read or an error: the plain call below meets it for real
        ok = false;
      }
      vm.recording = false;
      void* graph = device_->capture_end();
      if (ok && graph) {
        rec->graph = graph;
        rec->result = Ref::steal(result);
      } else {
        if (graph) device_->graph_destroy(graph);
        if (!result.is_undefined()) decref(result);
        ok = false;
      }
    }
    device_->last_error();  // a failed recording's error is not the program's
    rec->failed = !ok;
    if (!ok) rec->inputs.clear();  // kept only to remember the shapes are not recordable
    g = rec.get();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (ok) ++recorded_;
      graphs_.push_back(std::move(rec));
    }
    if (!ok) return call_plain(vm, args, n);
  } else {  // a replay: this call's inputs into the recording's input buffers
    for (size_t i = 0; i < n; ++i) {
      const TensorObj* x = as_tensor(args[i]);
      TensorObj* d = as_tensor(g->inputs[i].get());
      if (x->numel) device_->to_device(d->data, x->data, size_t(x->numel) * 4);
    }
  }
  if (!device_->graph_launch(g->graph)) {
    check_device(device_);
    throw RuntimeError(std::string(device_->name) + ": a CUDA graph could not be launched", kExitDevice);
  }
  Value host = result_to_host(g->result.get());
  std::lock_guard<std::mutex> lock(mutex_);
  ++replays_;
  return host;
}

}  // namespace tvm
