// AtomicFile: temporary file, fsync, rename (see atomic_file.h).
#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <utility>

namespace tvm {

AtomicFile::AtomicFile(const std::string& path, Fail fail) : path_(path), fail_(fail) {
  if (path.empty()) this->fail(ENOENT);
  size_t slash = path.rfind('/');
  dir_ = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0;; ++attempt) {
    tmp_ = dir_ + "." + base + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST || attempt == 100) this->fail(errno);
  }
  buf_.reserve(kBuffer);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(int err) const {
  fail_(path_, err);
  throw std::logic_error("AtomicFile: the failure handler returned");  // Fail must throw
}

void AtomicFile::write(const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  if (buf_.size() + n <= kBuffer) {
    buf_.insert(buf_.end(), p, p + n);
    return;
  }
  flush();
  if (n < kBuffer) {
    buf_.insert(buf_.end(), p, p + n);
    return;
  }
  write_all(p, n);  // large blocks (tensor data) straight from the caller's memory
}

void AtomicFile::commit() {
  flush();
  if (::fsync(fd_) != 0) fail(errno);
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail(errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail(errno);
  committed_ = true;
  // Make the rename itself durable. Best effort: the new file is complete at the path whatever
  // happens here, and some file systems cannot sync a directory.
  int dirfd = ::open(dir_.empty() ? "." : dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    ::fsync(dirfd);
    ::close(dirfd);
  }
}

void AtomicFile::put_le(uint64_t v, int n) {
  uint8_t b[8];
  for (int i = 0; i < n; ++i) b[i] = uint8_t(v >> (8 * i));
  write(b, size_t(n));
}

void AtomicFile::flush() {
  write_all(buf_.data(), buf_.size());
  buf_.clear();
}

void AtomicFile::write_all(const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t done = ::write(fd_, p, std::min(n, size_t(1) << 30));
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) fail(errno);
    if (done == 0) fail(EIO);
    p += done;
    n -= size_t(done);
    written_ += uint64_t(done);
  }
}

}  // namespace tvm
