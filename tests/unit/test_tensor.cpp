// The tensor object, its pool, the random generator and tensor semantics end to end through
// the VM. (Values against PyTorch are checked by the golden programs tests/programs/tensor_*.)
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "../../vm/error.h"
#include "../../vm/stack_vm.h"
#include "run_tl.h"
#include "../../vm/tensor.h"

// Counts every operator new in the test binary, so a test can show a loop allocates nothing.
namespace {
std::atomic<uint64_t> g_news{0};
}
void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace tvm;

namespace {

using test::first_line;
using test::Run;
using test::run;

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(new_tensor_shapes_and_alignment) {
  int64_t shape[] = {2, 3};
  TensorObj* t = new_tensor(shape);
  BOOST_TEST(t->ndim == 2);
  BOOST_TEST(t->numel == 6);
  BOOST_TEST(reinterpret_cast<uintptr_t>(t->data) % 64 == 0);
  decref(t);
  TensorObj* s = new_tensor({});
  BOOST_TEST(s->ndim == 0);
  BOOST_TEST(s->numel == 1);
  decref(s);
  int64_t empty[] = {4, 0};
  TensorObj* e = new_tensor(empty);
  BOOST_TEST(e->numel == 0);
  decref(e);
}

BOOST_AUTO_TEST_CASE(new_tensor_rejects_bad_shapes) {
  int64_t negative[] = {2, -1};
  BOOST_CHECK_THROW(new_tensor(negative), RuntimeError);
  int64_t huge[] = {int64_t(1) << 40, int64_t(1) << 40};
  BOOST_CHECK_THROW(new_tensor(huge), RuntimeError);
  int64_t rank9[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  BOOST_CHECK_THROW(new_tensor(rank9), RuntimeError);
}

BOOST_AUTO_TEST_CASE(pool_reuses_freed_blocks) {
  tensor_pool_trim();
  int64_t shape[] = {100, 7};
  TensorObj* a = new_tensor(shape);
  uint64_t before = tensor_pool_system_allocations();
  decref(a);
  BOOST_TEST(tensor_pool_free_bytes() > 0u);
  for (int i = 0; i < 100; ++i) {
    int64_t similar[] = {99 + i % 2, 7};  // the same size class
    decref(new_tensor(similar));
  }
  BOOST_TEST(tensor_pool_system_allocations() == before);
  tensor_pool_trim();
  BOOST_TEST(tensor_pool_free_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(shape_strings) {
  int64_t two[] = {2, 3}, one[] = {5};
  BOOST_TEST(shape_str(two) == "(2, 3)");
  BOOST_TEST(shape_str(one) == "(5,)");
  BOOST_TEST(shape_str({}) == "()");
  BOOST_TEST(tensor_type_str(two) == "Tensor[2, 3]");
}

// A steady-state loop of tensor ops takes its results from the pool: running it ten times
// longer makes no more heap allocations (operator new) and no more pool blocks.
BOOST_AUTO_TEST_CASE(steady_state_loop_allocates_nothing) {
  auto measure = [](const char* n) {
    std::string src = std::string(
                          "w = ones(64, 32) * 0.01\n"
                          "b = ones(64)\n"
                          "x = ones(8, 32)\n"
                          "def step(x):\n"
                          "    y = relu(linear(x, w, b)) * 2.0 + 1.0\n"
                          "    z = softmax(y, axis=-1)\n"
                          "    return sum(z, axis=1) - mean(y) + maximum(y, 3.0)[0] @ ones(64)\n"
                          "for i in range(") +
                      n + "):\n    r = step(x)\nprint(r.shape)\n";
    uint64_t news = g_news.load(), blocks = tensor_pool_system_allocations();
    Run r = run(src);
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.out == "(8,)\n");
    return std::pair(g_news.load() - news, tensor_pool_system_allocations() - blocks);
  };
  measure("10");  // warm the pool
  auto [news_short, blocks_short] = measure("100");
  auto [news_long, blocks_long] = measure("999");
  BOOST_TEST(news_long == news_short);
  BOOST_TEST(blocks_long == blocks_short);
}

// PCG32 as tl(7) documents it; these values come from an independent Python version.
BOOST_AUTO_TEST_CASE(random_numbers_are_the_documented_ones) {
  BOOST_TEST(run("print(rand(4).tolist())").out ==
             "[0.04061591625213623, 0.5923075079917908, 0.7509623765945435, 0.9429519772529602]\n");
  BOOST_TEST(run("manual_seed(42)\nprint(rand(2).tolist())").out == "[0.4421447515487671, 0.23623734712600708]\n");
  BOOST_TEST(run("print(randn(4).tolist())").out ==
             "[-2.1173102855682373, -1.3871499300003052, 0.7087336778640747, -0.26551052927970886]\n");
  BOOST_TEST(run("a = rand(3)\nmanual_seed(0)\nprint(rand(3).tolist() == a.tolist())").out == "True\n");
}

BOOST_AUTO_TEST_CASE(annotations_bind_named_dimensions) {
  const char* def =
      "def f(x: Tensor[B, 3], y: Tensor[B]) -> Tensor[B, 2]:\n"
      "    x = x[:, :2]\n"
      "    return x + y.reshape(-1, 1)\n";
  BOOST_TEST(run(std::string(def) + "print(f(ones(4, 3), ones(4)).shape)").out == "(4, 2)\n");
  BOOST_TEST(first_line(run(std::string(def) + "f(ones(4, 3), ones(5))").err) ==
             "t.tl:4:1: runtime error: f: argument y: expected Tensor[B], got Tensor[5]");
  BOOST_TEST(first_line(run(std::string(def) + "f(ones(4, 2), ones(4))").err) ==
             "t.tl:4:1: runtime error: f: argument x: expected Tensor[B, 3], got Tensor[4, 2]");
  BOOST_TEST(first_line(run(std::string(def) + "f(zeros(2), ones(4))").err) ==
             "t.tl:4:1: runtime error: f: argument x: expected Tensor[B, 3], got Tensor[2]");
  BOOST_TEST(first_line(run(std::string(def) + "f(3, ones(4))").err) ==
             "t.tl:4:1: runtime error: f: argument x: expected Tensor[B, 3], got int");
  // The return is checked against the argument's B, not a fresh one.
  const char* bad_return =
      "def g(x: Tensor[B, 3]) -> Tensor[B]:\n"
      "    return x[0]\n"
      "print(g(ones(3, 3)).shape)\n"
      "g(ones(4, 3))\n";
  Run r = run(bad_return);
  BOOST_TEST(r.out == "(3,)\n");
  BOOST_TEST(first_line(r.err) == "t.tl:2:5: runtime error: g: return value: expected Tensor[B], got Tensor[3]");
  // Recursion nests the bindings.
  const char* nested =
      "def h(x: Tensor[N], k: int) -> Tensor[N]:\n"
      "    if k > 0:\n"
      "        h(zeros(k), k - 1)\n"
      "    return x\n"
      "print(h(ones(7), 3).shape)\n";
  BOOST_TEST(run(nested).out == "(7,)\n");
}

BOOST_AUTO_TEST_CASE(ambiguous_truth_in_conditions_is_an_error_and_leaks_nothing) {
  BOOST_TEST(first_line(run("x = ones(3)\nif x:\n    pass\n").err) ==
             "t.tl:2:4: runtime error: truth value of a tensor with 3 elements is ambiguous");
  BOOST_TEST(first_line(run("x = ones(3)\nif x < 2:\n    pass\n").err) ==
             "t.tl:2:4: runtime error: truth value of a tensor with 3 elements is ambiguous");
  BOOST_TEST(run("x = ones(1)\nif x < 2:\n    print('yes')\n").out == "yes\n");
}

// Messages of argument checks that the torch-generated golden programs do not reach.
BOOST_AUTO_TEST_CASE(argument_errors) {
  auto err = [](const char* src) { return first_line(run(src).err); };
  BOOST_TEST(err("unsqueeze(ones(2))") == "t.tl:1:1: runtime error: unsqueeze() missing required argument 'dim'");
  BOOST_TEST(err("arange(0, 5, float('nan'))") == "t.tl:1:1: runtime error: arange: start, stop and step must be finite");
  BOOST_TEST(err("arange(0, 5, 0)") == "t.tl:1:1: runtime error: arange: step must be nonzero");
  BOOST_TEST(err("sum([1, 2], 0, True)") == "t.tl:1:1: runtime error: sum() takes at most 2 arguments (3 given)");
  BOOST_TEST(err("sum([1, 2], axis=0)") == "t.tl:1:1: runtime error: sum() of a non-tensor takes no axis or keepdims");
  BOOST_TEST(err("max(ones(2), ones(2), keepdim=True)") ==
             "t.tl:1:1: runtime error: max() of two tensors takes no keyword argument 'keepdim'");
  BOOST_TEST(err("clamp(ones(2))") == "t.tl:1:1: runtime error: clamp: at least one of min and max must be given");
  BOOST_TEST(err("x = ones(2) + [1]") == "t.tl:1:5: runtime error: unsupported operand type(s) for +: 'tensor' and 'list'");
  BOOST_TEST(err("x = ones(2) @ 2") == "t.tl:1:5: runtime error: unsupported operand type(s) for @: 'tensor' and 'int'");
  BOOST_TEST(err("x = ones(2, 3) < ones(4)") == "t.tl:1:5: runtime error: '<': shapes (2, 3) and (4,) cannot be broadcast");
  BOOST_TEST(err("x = ones(2)[0, 0]") == "t.tl:1:5: runtime error: too many indices for a tensor of rank 1");
  BOOST_TEST(err("len(tensor(1.))") == "t.tl:1:1: runtime error: len() of a 0-d tensor");
  BOOST_TEST(err("for r in tensor(1.):\n    pass") == "t.tl:1:1: runtime error: iteration over a 0-d tensor");
  BOOST_TEST(err("x = f'{ones(2):.2f}'") == "t.tl:1:8: runtime error: unsupported format string passed to tensor.__format__");
}

BOOST_AUTO_TEST_CASE(clamp_takes_lo_and_hi_as_language_md_names_them) {
  BOOST_TEST(run("print(clamp(tensor([-2., 0.5, 3.]), lo=0, hi=1))").out == "tensor([0.0000, 0.5000, 1.0000])\n");
  BOOST_TEST(run("print(clamp(tensor([-2., 0.5, 3.]), max=1))").out == "tensor([-2.0000,  0.5000,  1.0000])\n");
}

BOOST_AUTO_TEST_CASE(reversed_flips_the_first_dimension_as_torch) {
  BOOST_TEST(run("x = tensor([[1., 2.], [3., 4.]])\nprint(reversed(x))\nprint([r.tolist() for r in reversed(x)])").out ==
             "tensor([[3., 4.],\n        [1., 2.]])\n[[3.0, 4.0], [1.0, 2.0]]\n");
}

BOOST_AUTO_TEST_SUITE_END()
