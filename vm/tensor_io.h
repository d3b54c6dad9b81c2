// Tensor files: .npy, .npz and .safetensors (LANGUAGE.md §7, "files"), behind `load` and `save`.
//
// The file type is chosen by the path's extension (exactly ".npy", ".npz" or ".safetensors").
//
// Reading:
//   * .npy (versions 1.0, 2.0 and 3.0) gives a tensor. The header is parsed as the Python dict
//     literal numpy writes (keys in any order, either quote, trailing commas). Data of dtype
//     f4, f8, f2, i1, u1, i2, u2, i4, u4, i8, u8 or b1, in either byte order, is converted to
//     float32 (f8 and 64-bit integers round to nearest); Fortran-order data is transposed into
//     C order; shape () gives a rank-0 tensor. Exactly the bytes the header promises must
//     follow it.
//   * .npz gives a dict of member name (without ".npy") -> tensor, in central-directory order.
//     Members may be stored or deflated; each member's CRC-32 is checked. ZIP64 archives
//     (the extra fields and end records) are read.
//   * .safetensors gives a dict of name -> tensor in the order of the tensors' data in the
//     file (ascending data offset; ties, which only zero-size tensors can have, in header
//     order). Dtypes F32 F64 F16 BF16 I8 U8 I16 U16 I32 U32 I64 U64 BOOL are converted to
//     float32. As the reference implementation requires, the tensors' byte ranges must tile
//     the data area exactly (no gaps, no overlap, nothing left over). `__metadata__` must be
//     an object of strings and is otherwise ignored.
// Every size in a header is checked against the file before anything is allocated, so a
// lying header fails cleanly instead of asking for a huge buffer.
//
// Writing goes to a temporary file in the destination's directory, renamed over the path
// once complete: a failure never leaves a partial file behind (nor removes an older one).
//   * .npy: little-endian '<f4', C order, version 1.0, byte for byte what numpy.save writes
//     (the header padded to a multiple of 64 bytes in all).
//   * .npz: a zip of stored (uncompressed) members NAME.npy, in dict order, as numpy.savez
//     writes; ZIP64 records only where sizes or offsets need them.
//   * .safetensors: F32 tensors in dict order, the header JSON's keys in that order, padded
//     with spaces to a multiple of 8 bytes as the reference implementation does.
//
// Errors (RuntimeError):
//   load, unknown extension   "load: 'PATH': unknown file type (expected .npy, .npz or .safetensors)"  exit 1
//   load, cannot open / read  "load: cannot open 'PATH': <strerror>", "load: cannot read 'PATH': ..."  exit 3
//   load, bad contents        "load: 'PATH': <reason>"; inside an .npz "load: 'PATH': member 'NAME': <reason>"
//                             (truncated, bad magic, bad header syntax, unknown dtype, lying sizes or
//                             offsets, bad CRC-32 or deflate data, rank > 8, ...)           exit 3
//   save, unknown extension   "save: 'PATH': unknown file type (expected .npy, .npz or .safetensors)"  exit 1
//   save, wrong value         "save: expected a tensor for .npy, got 'list'",
//                             "save: .npz needs a dict of str to tensor, got 'list'" (and the like)   exit 1
//   save, cannot write        "save: cannot write 'PATH': <strerror>"                                 exit 3
#pragma once

#include <string>

#include "object.h"

namespace tvm {

struct Device;

// A tensor (.npy) or a dict of str -> tensor (.npz, .safetensors); a new reference. Read on the
// host, then moved to default_device() (vm/tensor.h).
Value load_tensor_file(const std::string& path);

// Writes a tensor (.npy) or a dict of str -> tensor (.npz, .safetensors) to path.
void save_tensor_file(const std::string& path, Value value);

// v with its tensors on `device` (null: the host): a tensor, or the tensors in a tuple, list or
// dict (nested). v itself when nothing moves, else a copy. A new reference.
Value tensors_to(Value v, const Device* device);

namespace tensor_io_detail {
// save_tensor_file for .npz, with ZIP64 records written even where they are not needed (so
// that tests can exercise them without writing 4 GiB).
void save_npz(const std::string& path, Value dict, bool force_zip64);
}  // namespace tensor_io_detail

}  // namespace tvm
