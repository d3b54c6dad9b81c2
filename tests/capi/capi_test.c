/* The C API's test (tests/capi.sh): a C99 program linked against libtvmrt alone.
 *   capi-test MODEL.pkg
 * Loads the package from a file and from memory, checks the interface it reports, calls it
 * (printing the result for x[i, j] = (8 i + j) / 32 - 0.5, which capi.sh compares with the
 * interpreter's), calls it from 8 threads at once checking every result against a
 * single-threaded reference, and checks the errors of bad calls and a corrupt package. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tvm.h"

#define THREADS 8
#define CALLS 300
#define ROWS 4

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                          \
  do {                                            \
    ++checks;                                     \
    if (!(cond)) {                                \
      ++failures;                                 \
      fprintf(stderr, "capi-test: FAIL line %d: ", __LINE__); \
      fprintf(stderr, __VA_ARGS__);               \
      fprintf(stderr, "\n");                      \
    }                                             \
  } while (0)

static tvm_package* pkg;
static float expected[THREADS][ROWS * 3];

static void make_input(float* x, int t) {
  for (int i = 0; i < ROWS * 8; ++i) x[i] = (float)i / 32.0f - 0.5f + 0.125f * (float)t;
}

static int call_once(int t, float* out) {
  float x[ROWS * 8];
  int64_t shape[2] = {ROWS, 8};
  tvm_error err;
  make_input(x, t);
  tvm_value* in = tvm_tensor_new(shape, 2, x, &err);
  if (!in) return 0;
  tvm_value* y = tvm_package_call(pkg, &in, 1, &err);
  tvm_value_free(in);
  if (!y) {
    fprintf(stderr, "capi-test: call failed: %s\n", err.message);
    return 0;
  }
  int ok = tvm_value_kind(y) == TVM_TENSOR && tvm_value_ndim(y) == 2 && tvm_value_shape(y)[0] == ROWS &&
           tvm_value_shape(y)[1] == 3;
  if (ok) memcpy(out, tvm_value_data(y), sizeof(float) * ROWS * 3);
  tvm_value_free(y);
  return ok;
}

static void* worker(void* arg) {
  int t = (int)(size_t)arg;
  long bad = 0;
  for (int c = 0; c < CALLS; ++c) {
    float out[ROWS * 3];
    if (!call_once(t, out) || memcmp(out, expected[t], sizeof out) != 0) ++bad;
  }
  return (void*)bad;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi-test MODEL.pkg\n");
    return 2;
  }
  tvm_error err;
  pkg = tvm_package_load_file(argv[1], &err);
  if (!pkg) {
    fprintf(stderr, "capi-test: cannot load %s: %s (code %d)\n", argv[1], err.message, err.code);
    return 1;
  }

  /* The interface. */
  CHECK(!tvm_package_is_script(pkg), "a function package");
  CHECK(strcmp(tvm_package_entry(pkg), "forward") == 0, "entry %s", tvm_package_entry(pkg));
  CHECK(tvm_package_num_inputs(pkg) == 1, "one input");
  CHECK(strcmp(tvm_package_input_name(pkg, 0), "x") == 0, "input name");
  CHECK(strcmp(tvm_package_input_type(pkg, 0), "Tensor[B, 8]") == 0, "input type %s", tvm_package_input_type(pkg, 0));
  CHECK(tvm_package_input_name(pkg, 1) == NULL, "no input 1");
  int64_t dims[8];
  CHECK(tvm_package_input_shape(pkg, 0, dims, 8) == 2 && dims[0] == -1 && dims[1] == 8, "input shape");
  CHECK(strcmp(tvm_package_output_type(pkg), "Tensor[B, 3]") == 0, "output type %s", tvm_package_output_type(pkg));

  /* One call, printed for capi.sh to compare with the interpreter. */
  {
    float x[ROWS * 8];
    int64_t shape[2] = {ROWS, 8};
    make_input(x, 0);
    tvm_value* in = tvm_tensor_new(shape, 2, x, &err);
    tvm_value* y = tvm_package_call(pkg, &in, 1, &err);
    CHECK(y != NULL, "call: %s", err.message);
    if (y) printf("%s\n", tvm_value_str(y));
    tvm_value_free(y);
    tvm_value_free(in);
  }

  /* Bad calls: usage errors with the package's signature, never a crash. */
  {
    int64_t shape[2] = {ROWS, 7};
    float x[ROWS * 7] = {0};
    tvm_value* in = tvm_tensor_new(shape, 2, x, &err);
    tvm_value* y = tvm_package_call(pkg, &in, 1, &err);
    CHECK(y == NULL && err.code == TVM_ERR_USAGE && strstr(err.message, "expected Tensor[B, 8], got Tensor[4, 7]"),
          "wrong shape: %s", err.message);
    y = tvm_package_call(pkg, NULL, 0, &err);
    CHECK(y == NULL && err.code == TVM_ERR_USAGE && strstr(err.message, "missing input 'x'"), "missing: %s", err.message);
    tvm_value* k = tvm_int_new(3);
    tvm_value* two[2] = {in, k};
    y = tvm_package_call(pkg, two, 2, &err);
    CHECK(y == NULL && err.code == TVM_ERR_USAGE, "extra input: %s", err.message);
    y = tvm_package_call(pkg, &k, 1, &err);
    CHECK(y == NULL && err.code == TVM_ERR_USAGE && strstr(err.message, "got int"), "int for a tensor: %s", err.message);
    CHECK(tvm_package_run(pkg, &err) == TVM_ERR_USAGE, "run of a function package");
    tvm_value_free(k);
    tvm_value_free(in);
    int64_t bad_rank[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(tvm_tensor_new(bad_rank, 9, x, &err) == NULL && err.code == TVM_ERR_USAGE, "rank 9");
  }

  /* From memory, and a corrupt copy. */
  {
    FILE* f = fopen(argv[1], "rb");
    CHECK(f != NULL, "reopen");
    static unsigned char buf[1 << 22];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    tvm_package* p2 = tvm_package_load_memory(buf, n, &err);
    CHECK(p2 != NULL && tvm_package_num_inputs(p2) == 1, "load from memory: %s", err.message);
    tvm_package_free(p2);
    buf[n / 2] ^= 0x40;
    p2 = tvm_package_load_memory(buf, n, &err);
    CHECK(p2 == NULL && err.code == TVM_ERR_FILE && err.message[0], "corrupt: code %d", err.code);
    p2 = tvm_package_load_memory(buf, 10, &err);
    CHECK(p2 == NULL && err.code == TVM_ERR_FILE, "truncated: code %d", err.code);
    p2 = tvm_package_load_file("/nonexistent/model.pkg", &err);
    CHECK(p2 == NULL && err.code == TVM_ERR_FILE, "missing file: code %d", err.code);
    p2 = tvm_package_load_file_on(argv[1], "gpu", &err);
    CHECK(p2 == NULL && err.code == TVM_ERR_USAGE && strstr(err.message, "cpu, cuda or auto"), "bad device: %s", err.message);
    p2 = tvm_package_load_file_on(argv[1], "cpu", &err);
    CHECK(p2 != NULL && strcmp(tvm_package_device(p2), "cpu") == 0, "load on the cpu: %s", err.message);
    tvm_package_free(p2);
  }
  /* $CAPI_DEVICE: the device "auto" must have picked (tests/capi.sh under the fake CUDA device). */
  const char* want_device = getenv("CAPI_DEVICE");
  if (want_device)
    CHECK(strcmp(tvm_package_device(pkg), want_device) == 0, "auto picked %s, not %s", tvm_package_device(pkg), want_device);

  /* 8 threads on one package, every result checked. */
  for (int t = 0; t < THREADS; ++t) CHECK(call_once(t, expected[t]), "reference call %d", t);
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; ++t) pthread_create(&threads[t], NULL, worker, (void*)(size_t)t);
  long bad = 0;
  for (int t = 0; t < THREADS; ++t) {
    void* r;
    pthread_join(threads[t], &r);
    bad += (long)r;
  }
  CHECK(bad == 0, "%ld of %d threaded calls differed", bad, THREADS * CALLS);

  tvm_package_free(pkg);
  fprintf(stderr, "capi-test: %d checks, %d failed (%d threads x %d calls, on %s)\n", checks, failures, THREADS, CALLS,
          want_device ? want_device : "the auto device");
  return failures ? 1 : 0;
}
