// Tensors on a device other than the host's (vm/tensor.h, vm/tensor_ops.cpp): made there, copied
// to and from the host, ops run on their operands' device, and operands on two devices refused.
// The device here is the CPU's kernels under another name, so every result can be read; the
// fake CUDA plugin (tests/fakecuda, run by tests/cli.sh and the golden programs) is the one
// whose memory the host cannot read.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

#include "../../vm/device.h"
#include "../../vm/error.h"
#include "../../vm/ops.h"
#include "../../vm/tensor.h"
#include "../../vm/tensor_ops.h"

using namespace tvm;

namespace {

int allocs = 0, frees = 0;
const char* pending_error = "";

void* other_alloc(size_t bytes) {
  ++allocs;
  return cpu_device().alloc(bytes);
}
void other_free(void* p) {
  ++frees;
  cpu_device().free(p);
}
const char* other_last_error() { return std::exchange(pending_error, ""); }

const Device& other_device() {
  static const Device d = [] {
    Device x = cpu_device();
    x.name = "other";
    x.alloc = other_alloc;
    x.free = other_free;
    x.last_error = other_last_error;
    return x;
  }();
  return d;
}

TensorObj* host_tensor(std::initializer_list<float> v) {
  const int64_t n = int64_t(v.size());
  TensorObj* t = new_tensor({&n, 1});
  std::memcpy(t->data, v.begin(), v.size() * 4);
  return t;
}

std::string repr_of(Value v) {
  Ref r = Ref::steal(v);
  return repr(r.get());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(device)

BOOST_AUTO_TEST_CASE(copies_to_and_from_a_device) {
  const int a0 = allocs, f0 = frees;
  {
    Ref h = Ref::steal(Value::object(host_tensor({1.f, 2.f, 3.f})));
    Ref d = Ref::steal(Value::object(tensor_to(as_tensor(h.get()), &other_device())));
    BOOST_TEST(as_tensor(d.get())->device == &other_device());
    BOOST_TEST(!on_host(as_tensor(d.get())));
    BOOST_TEST(allocs == a0 + 1);
    // Already there: the same tensor, no copy.
    TensorObj* same = tensor_to(as_tensor(d.get()), &other_device());
    BOOST_TEST(same == as_tensor(d.get()));
    decref(same);
    // Ops run on the device and make their results there.
    Ref sum = Ref::steal(tensor_binary(BinaryOp::Add, d.get(), d.get()));
    BOOST_TEST(as_tensor(sum.get())->device == &other_device());
    Ref back = Ref::steal(Value::object(tensor_to_host(as_tensor(sum.get()))));
    BOOST_TEST(on_host(as_tensor(back.get())));
    BOOST_TEST(repr(back.get()) == "tensor([2., 4., 6.])");
    // Printing reads through a host copy.
    BOOST_TEST(repr(sum.get()) == "tensor([2., 4., 6.])");
  }
  BOOST_TEST(frees - f0 == allocs - a0);  // every device block went back
}

BOOST_AUTO_TEST_CASE(operands_on_two_devices_are_refused) {
  Ref h = Ref::steal(Value::object(host_tensor({1.f, 2.f})));
  Ref d = Ref::steal(Value::object(tensor_to(as_tensor(h.get()), &other_device())));
  try {
    repr_of(tensor_binary(BinaryOp::Mul, d.get(), h.get()));
    BOOST_FAIL("no error");
  } catch (const RuntimeError& e) {
    BOOST_TEST(std::string(e.what()) == "'*': expected all tensors on one device, but found other and cpu");
  }
}

BOOST_AUTO_TEST_CASE(the_default_device_takes_new_tensors) {
  BOOST_TEST(default_device() == nullptr);
  {
    DefaultDeviceScope scope(&other_device());
    BOOST_TEST(default_device() == &other_device());
    TensorObj* t = to_default_device(host_tensor({5.f}));
    BOOST_TEST(t->device == &other_device());
    BOOST_TEST(tensor_item(t, "item") == 5.0);
    decref(t);
  }
  BOOST_TEST(default_device() == nullptr);
}

BOOST_AUTO_TEST_CASE(a_device_failure_is_exit_code_4_at_the_next_allocation) {
  Ref h = Ref::steal(Value::object(host_tensor({1.f})));
  Ref d = Ref::steal(Value::object(tensor_to(as_tensor(h.get()), &other_device())));
  pending_error = "the GPU fell off the bus";
  try {
    repr_of(tensor_unary(UnaryKind::Exp, as_tensor(d.get())));
    BOOST_FAIL("no error");
  } catch (const RuntimeError& e) {
    BOOST_TEST(std::string(e.what()) == "other: the GPU fell off the bus");
    BOOST_TEST(e.exit_code() == kExitDevice);
  }
  BOOST_TEST(std::string(pending_error).empty());  // read once, then cleared
}

BOOST_AUTO_TEST_CASE(a_weight_moves_to_the_device_once) {
  alignas(64) static float weights[16] = {1.f, 2.f};
  const int64_t n = 2;
  TensorObj* t = new_tensor_external({&n, 1}, weights);
  move_external_tensor(t, &other_device());
  BOOST_TEST(t->device == &other_device());
  BOOST_TEST(t->data != weights);
  weights[0] = 100.f;  // the device copy no longer depends on the host array
  BOOST_TEST(repr(Value::object(t)) == "tensor([1., 2.])");
  decref(t);
}

BOOST_AUTO_TEST_SUITE_END()
