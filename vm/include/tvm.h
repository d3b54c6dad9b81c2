/* tvm.h — the C API of libtvmrt: load a TL package (tvm-pack's output) and call it.
 *
 *     tvm_error err;
 *     tvm_package* pkg = tvm_package_load_file("mlp.pkg", &err);
 *     if (!pkg) { fprintf(stderr, "%s\n", err.message); return err.code; }
 *     int64_t shape[2] = {1, 512};
 *     tvm_value* x = tvm_tensor_new(shape, 2, data, &err);
 *     tvm_value* y = tvm_package_call(pkg, &x, 1, &err);
 *     ... tvm_value_shape(y), tvm_value_data(y) ...
 *     tvm_value_free(y); tvm_value_free(x); tvm_package_free(pkg);
 *
 * Threads: a loaded package is immutable; any number of threads may call tvm_package_call on
 * one package at once (each call runs on its thread's own VM, frame and scratch memory). A
 * tvm_value belongs to the thread that made it: free it there, and don't share one between
 * threads without your own locking.
 *
 * Errors: a function that fails returns NULL (or a nonzero code) and, when `err` is not NULL,
 * fills it with the exit code tvm-run would give (tvm_status) and one line of message.
 * Nothing here ever aborts the process on bad input.
 *
 * Link with -ltvmrt -lzstd -ldl -lm -lstdc++ (or the shared libtvmrt.so). This header is C99.
 */
#ifndef TVM_H
#define TVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tvm_status {
  TVM_OK = 0,
  TVM_ERR_PROGRAM = 1, /* the program failed: a runtime error, a failed assert */
  TVM_ERR_USAGE = 2,   /* bad arguments: a missing, extra or wrongly shaped input */
  TVM_ERR_FILE = 3,    /* the package could not be used: unreadable, corrupt, incompatible */
  TVM_ERR_DEVICE = 4   /* the device is not available or out of memory */
} tvm_status;

typedef struct tvm_error {
  int code;           /* a tvm_status */
  char message[1024]; /* one line (the first of a traceback), NUL-terminated */
} tvm_error;

typedef struct tvm_package tvm_package;
typedef struct tvm_value tvm_value;

typedef enum tvm_kind {
  TVM_NONE = 0,
  TVM_BOOL,
  TVM_INT,
  TVM_FLOAT,
  TVM_STR,
  TVM_TENSOR,
  TVM_TUPLE, /* also lists */
  TVM_OTHER  /* dicts, functions, ...: only its text (tvm_value_str) */
} tvm_kind;

/* ---- packages */

/* Loading reads, checks and verifies the whole package, places it on a device and readies that
 * (OpenBLAS on the CPU; on a GPU the weights are uploaded once), and, when the entry is
 * straight-line code (no calls, no loops: it cannot print or run long), calls it once on zeros
 * of the declared shapes in the loading thread, so that the first real call costs what later
 * ones do. NULL on error, with err filled in.
 *
 * The device is "auto" for these two: an NVIDIA GPU when one is present and the CUDA plugin
 * (libtvm_cuda.so) opens it, else the CPU. */
tvm_package* tvm_package_load_file(const char* path, tvm_error* err);
tvm_package* tvm_package_load_memory(const void* data, size_t size, tvm_error* err);
/* The same on a named device: "cpu", "cuda" or "auto" (NULL: "auto"). "cuda" with no GPU, no
 * driver or no plugin fails with TVM_ERR_DEVICE and a message that says which. On a GPU every
 * call copies its tensor inputs in and its result out once (results are always host memory),
 * and an entry of straight-line code with tensor inputs is recorded as a CUDA graph on its
 * first call for each calling thread and input shapes, and replayed after. */
tvm_package* tvm_package_load_file_on(const char* path, const char* device, tvm_error* err);
tvm_package* tvm_package_load_memory_on(const void* data, size_t size, const char* device, tvm_error* err);
/* "cpu" or "cuda": where the package runs. */
const char* tvm_package_device(const tvm_package* pkg);
void tvm_package_free(tvm_package* pkg);

/* 1 for a script package (its top level is the entry; see tvm_package_run), 0 for a function. */
int tvm_package_is_script(const tvm_package* pkg);
/* The entry's name ("" for a script package). */
const char* tvm_package_entry(const tvm_package* pkg);
/* The entry's inputs, in call order. */
size_t tvm_package_num_inputs(const tvm_package* pkg);
const char* tvm_package_input_name(const tvm_package* pkg, size_t i);    /* NULL when i is out of range */
const char* tvm_package_input_type(const tvm_package* pkg, size_t i);    /* "Tensor[B, 512]", "int" */
/* An input's declared tensor shape: its rank (-1 when not a tensor input or i is out of range);
 * up to max_dims sizes go to dims, -1 for a named dimension. */
int tvm_package_input_shape(const tvm_package* pkg, size_t i, int64_t* dims, int max_dims);
/* The declared result type ("Tensor[B, 2]"), or "" when the entry has no return annotation. */
const char* tvm_package_output_type(const tvm_package* pkg);

/* Calls a function package's entry with inputs in order (borrowed). Returns a new value, or
 * NULL with err filled. Inputs are checked against the annotations first (TVM_ERR_USAGE). */
tvm_value* tvm_package_call(tvm_package* pkg, tvm_value* const* inputs, size_t n, tvm_error* err);
/* Runs a script package (its output goes to stdout). Returns a tvm_status. */
int tvm_package_run(tvm_package* pkg, tvm_error* err);

/* ---- values */

/* A float32 tensor (rank 0 to 8) copying `data` (numel floats, row-major). */
tvm_value* tvm_tensor_new(const int64_t* shape, int ndim, const float* data, tvm_error* err);
tvm_value* tvm_int_new(int64_t v);
tvm_value* tvm_float_new(double v);
tvm_value* tvm_bool_new(int v);
tvm_value* tvm_str_new(const char* utf8);
void tvm_value_free(tvm_value* v);

tvm_kind tvm_value_kind(const tvm_value* v);
/* Tensors: rank, sizes, and the data (numel floats, valid while v lives). */
int tvm_value_ndim(const tvm_value* v);
const int64_t* tvm_value_shape(const tvm_value* v);
int64_t tvm_value_numel(const tvm_value* v);
const float* tvm_value_data(const tvm_value* v);
/* Scalars. */
int64_t tvm_value_int(const tvm_value* v);
double tvm_value_float(const tvm_value* v); /* ints and bools convert */
/* Tuples and lists: the number of items and a new value for item i (NULL when out of range). */
size_t tvm_value_len(const tvm_value* v);
tvm_value* tvm_value_item(const tvm_value* v, size_t i);
/* What print() would write for v (valid while v lives). */
const char* tvm_value_str(tvm_value* v);

#ifdef __cplusplus
}
#endif

#endif /* TVM_H */
