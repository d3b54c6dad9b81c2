// CRC-32 and a DEFLATE decompressor (RFC 1951), for reading and writing .npz files without
// depending on zlib.
//
// Both work on untrusted input: inflate checks every code, length and distance, never reads
// past its input, and never writes more than the caller's limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace tvm {

// The CRC-32 of zip, gzip and PNG (reflected polynomial 0xEDB88320). `crc` is the value so far,
// so a checksum can be computed in pieces: crc32(b, nb, crc32(a, na)) == crc32(a ++ b).
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

// What inflate throws for a malformed or truncated stream; what() is a short reason
// ("invalid distance code", "stream is truncated", ...). Callers add the file's name.
class InflateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Decompresses the raw DEFLATE stream at the start of `in` (no zlib or gzip wrapper) and
// appends the result to `out`. Throws InflateError when the stream is malformed, ends before
// its final block, or would make `out` grow by more than `max_out` bytes. Returns the number
// of input bytes the stream used (bytes after the final block are not looked at).
size_t inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out);

}  // namespace tvm
