// Writing a file so that it is never seen half-written (DESIGN.md: "never a half-written output
// file"): the bytes go to a temporary file in the destination's directory, which commit()
// fsyncs and renames over the path. Destroyed without commit() (an error, an exception), it
// removes the temporary file and leaves whatever was at the path untouched. A process killed
// mid-write leaves at worst a stray `.NAME.tmpPID-N` beside it, never a partial NAME.
// Used by save() (vm/tensor_io.cpp) and the package writer (packager/pkg_file.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tvm {

class AtomicFile {
 public:
  // How a caller reports a failed open, write, sync or rename: throws its own error type
  // naming the path and strerror(err).
  using Fail = void (*)(const std::string& path, int err);

  AtomicFile(const std::string& path, Fail fail);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  uint64_t offset() const { return written_ + buf_.size(); }  // bytes written so far
  void write(const void* data, size_t n);                    // buffered; large blocks go straight out
  void write(std::string_view s) { write(s.data(), s.size()); }
  void u16(uint64_t v) { put_le(v, 2); }                     // little-endian integers
  void u32(uint64_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  // Flushes, fsyncs, renames over the path, then (best effort) fsyncs the directory.
  void commit();

 private:
  static constexpr size_t kBuffer = size_t(1) << 20;
  [[noreturn]] void fail(int err) const;
  void put_le(uint64_t v, int n);
  void flush();
  void write_all(const uint8_t* p, size_t n);

  std::string path_, dir_, tmp_;
  Fail fail_;
  int fd_ = -1;
  std::vector<uint8_t> buf_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace tvm
