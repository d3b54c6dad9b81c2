/* The seed's MLP packaged (bench/mlp_pkg.tl, tvm-pack's output) and called through the C API
 * of libtvmrt (vm/include/tvm.h): bench/mlp.sh's "tvm-pack (C API)" peer and its thread figures.
 *
 *     mlp_capi PKG WEIGHTS_DIR BATCH CALLS REPEATS
 *         Loads PKG and the input (WEIGHTS_DIR/x.npy at batch 1, else the first BATCH rows of
 *         WEIGHTS_DIR/x_batch.npy), then prints, like the other peers of bench/mlp.sh,
 *             out V V ... V   the outputs of the first and the last row (%.6f)
 *             us T            microseconds per call: the median of REPEATS timed loops of CALLS
 *                             calls each, after a warm-up
 *             first T         microseconds of the first call after loading
 *             steady T        the median microseconds of CALLS more calls timed one by one
 *     mlp_capi --threads N PKG WEIGHTS_DIR BATCH SECONDS REPEATS
 *         N threads call the one loaded package at once, each with its own input value, for
 *         SECONDS each time; prints "calls/s C", the median over REPEATS of all threads' calls
 *         over the wall time, and fails if any call's output differs from a first reference call.
 *
 * Build, as the Makefile builds tests/capi/capi_test.c:
 *     cc -O2 -std=c99 -I vm/include bench/mlp_capi.c build/lib/libtvmrt.a \
 *        -lstdc++ -lpthread -lzstd -ldl -lm
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tvm.h"

static void die(const char* what, const char* detail) {
  fprintf(stderr, "mlp_capi: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* ---- the input: a .npy of little-endian float32 in C order, rank 2 */

typedef struct {
  long rows, cols;
  float* data;
} matrix;

static matrix npy_load(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  unsigned char pre[12];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) die("not a .npy file", path);
  long hlen;
  if (pre[6] == 1) {
    hlen = pre[8] | (long)pre[9] << 8;
  } else {
    if (fread(pre + 10, 1, 2, f) != 2) die("truncated .npy header", path);
    hlen = pre[8] | (long)pre[9] << 8 | (long)pre[10] << 16 | (long)pre[11] << 24;
  }
  char* header = malloc((size_t)hlen + 1);
  if (!header || fread(header, 1, (size_t)hlen, f) != (size_t)hlen) die("truncated .npy header", path);
  header[hlen] = '\0';
  if (!strstr(header, "'<f4'") || !strstr(header, "'fortran_order': False"))
    die("expected little-endian float32 in C order", path);
  const char* shape = strstr(header, "'shape'");
  matrix m = {0, 0, NULL};
  if (!shape || !(shape = strchr(shape, '(')) || sscanf(shape, "(%ld, %ld)", &m.rows, &m.cols) != 2 ||
      m.rows < 1 || m.cols < 1)
    die("expected a rank-2 array", path);
  free(header);
  m.data = malloc(sizeof(float) * (size_t)(m.rows * m.cols));
  if (!m.data || fread(m.data, sizeof(float), (size_t)(m.rows * m.cols), f) != (size_t)(m.rows * m.cols))
    die("truncated .npy data", path);
  fclose(f);
  return m;
}

/* The input at BATCH: x.npy at batch 1, else the first BATCH rows of x_batch.npy. */
static matrix load_input(const char* dir, long batch) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, batch == 1 ? "x.npy" : "x_batch.npy");
  matrix m = npy_load(path);
  if (m.rows < batch) die("the input has fewer rows than BATCH", path);
  m.rows = batch;
  return m;
}

static void print_rows(const float* y, long rows, long cols) {
  printf("out");
  for (long j = 0; j < cols; ++j) printf(" %.6f", y[j]);
  for (long j = 0; j < cols; ++j) printf(" %.6f", y[(rows - 1) * cols + j]);
  printf("\n");
}

/* ---- calling the package */

static tvm_package* load_package(const char* path) {
  tvm_error err;
  tvm_package* pkg = tvm_package_load_file(path, &err);
  if (!pkg) die(path, err.message);
  return pkg;
}

static tvm_value* make_input(const matrix* x) {
  tvm_error err;
  int64_t shape[2] = {x->rows, x->cols};
  tvm_value* v = tvm_tensor_new(shape, 2, x->data, &err);
  if (!v) die("tvm_tensor_new", err.message);
  return v;
}

static tvm_value* call(tvm_package* pkg, tvm_value* x) {
  tvm_error err;
  tvm_value* y = tvm_package_call(pkg, &x, 1, &err);
  if (!y) die("tvm_package_call", err.message);
  return y;
}

/* ---- --threads */

typedef struct {
  tvm_package* pkg;
  const matrix* x;
  const float* expected; /* the reference outputs */
  int64_t expected_numel;
  pthread_barrier_t* start;
  volatile int* stop; /* read and written with __atomic builtins */
  long calls;
  long wrong;
} worker_args;

static void* worker(void* p) {
  worker_args* a = p;
  tvm_value* x = make_input(a->x);
  for (int i = 0; i < 10; ++i) tvm_value_free(call(a->pkg, x)); /* warm this thread's VM up */
  pthread_barrier_wait(a->start);
  long calls = 0, wrong = 0;
  while (!__atomic_load_n(a->stop, __ATOMIC_RELAXED)) {
    tvm_value* y = call(a->pkg, x);
    if (tvm_value_numel(y) != a->expected_numel ||
        memcmp(tvm_value_data(y), a->expected, sizeof(float) * (size_t)a->expected_numel) != 0)
      ++wrong;
    tvm_value_free(y);
    ++calls;
  }
  tvm_value_free(x);
  a->calls = calls;
  a->wrong = wrong;
  return NULL;
}

static int threads_mode(int threads, const char* pkg_path, const char* dir, long batch, double seconds, int repeats) {
  tvm_package* pkg = load_package(pkg_path);
  matrix xm = load_input(dir, batch);
  tvm_value* x = make_input(&xm);
  tvm_value* ref = call(pkg, x);
  int64_t numel = tvm_value_numel(ref);
  float* expected = malloc(sizeof(float) * (size_t)numel);
  memcpy(expected, tvm_value_data(ref), sizeof(float) * (size_t)numel);
  tvm_value_free(ref);
  tvm_value_free(x);

  double* rates = malloc(sizeof(double) * (size_t)repeats);
  pthread_t* tid = malloc(sizeof(pthread_t) * (size_t)threads);
  worker_args* args = malloc(sizeof(worker_args) * (size_t)threads);
  for (int r = 0; r < repeats; ++r) {
    pthread_barrier_t start;
    volatile int stop = 0;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; ++t) {
      worker_args a = {pkg, &xm, expected, numel, &start, &stop, 0, 0};
      args[t] = a;
      if (pthread_create(&tid[t], NULL, worker, &args[t]) != 0) die("pthread_create failed", NULL);
    }
    pthread_barrier_wait(&start);
    double t0 = now_seconds();
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    long calls = 0, wrong = 0;
    for (int t = 0; t < threads; ++t) {
      pthread_join(tid[t], NULL);
      calls += args[t].calls;
      wrong += args[t].wrong;
    }
    double elapsed = now_seconds() - t0;
    pthread_barrier_destroy(&start);
    if (wrong) {
      fprintf(stderr, "mlp_capi: %ld of %ld calls from %d threads returned other outputs\n", wrong, calls, threads);
      return 1;
    }
    rates[r] = (double)calls / elapsed;
  }
  printf("calls/s %.0f\n", median(rates, repeats));
  tvm_package_free(pkg);
  return 0;
}

/* ---- the peer mode */

static int peer_mode(const char* pkg_path, const char* dir, long batch, long calls, int repeats) {
  tvm_package* pkg = load_package(pkg_path);
  matrix xm = load_input(dir, batch);
  tvm_value* x = make_input(&xm);
  double t1 = now_seconds();
  tvm_value* y = call(pkg, x);
  double first = now_seconds() - t1;

  long warm = calls / 10 > 10 ? calls / 10 : 10;
  for (long i = 0; i < warm; ++i) tvm_value_free(call(pkg, x));
  double* us = malloc(sizeof(double) * (size_t)repeats);
  for (int r = 0; r < repeats; ++r) {
    double start = now_seconds();
    for (long i = 0; i < calls; ++i) tvm_value_free(call(pkg, x));
    us[r] = (now_seconds() - start) * 1e6 / (double)calls;
  }
  /* The steady state as tvm-run --bench reports it: the median of CALLS calls timed one by one. */
  double* each = malloc(sizeof(double) * (size_t)calls);
  for (long i = 0; i < calls; ++i) {
    double start = now_seconds();
    tvm_value_free(call(pkg, x));
    each[i] = (now_seconds() - start) * 1e6;
  }

  if (tvm_value_kind(y) != TVM_TENSOR || tvm_value_ndim(y) != 2 || tvm_value_shape(y)[0] != batch)
    die("the package returned something other than a [BATCH, N] tensor", NULL);
  print_rows(tvm_value_data(y), batch, (long)tvm_value_shape(y)[1]);
  printf("us %.3f\nfirst %.3f\nsteady %.3f\n", median(us, repeats), first * 1e6, median(each, (int)calls));
  tvm_value_free(y);
  tvm_value_free(x);
  tvm_package_free(pkg);
  return 0;
}

static long positive(const char* s, const char* what) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 1) die(what, "must be a positive integer");
  return v;
}

int main(int argc, char** argv) {
  if (argc == 8 && strcmp(argv[1], "--threads") == 0) {
    double seconds = atof(argv[6]);
    if (seconds <= 0) die("SECONDS must be positive", NULL);
    return threads_mode((int)positive(argv[2], "N"), argv[3], argv[4], positive(argv[5], "BATCH"), seconds,
                        (int)positive(argv[7], "REPEATS"));
  }
  if (argc == 6 && argv[1][0] != '-')
    return peer_mode(argv[1], argv[2], positive(argv[3], "BATCH"), positive(argv[4], "CALLS"),
                     (int)positive(argv[5], "REPEATS"));
  fprintf(stderr,
          "usage: mlp_capi PKG WEIGHTS_DIR BATCH CALLS REPEATS\n"
          "       mlp_capi --threads N PKG WEIGHTS_DIR BATCH SECONDS REPEATS\n");
  return 2;
}
