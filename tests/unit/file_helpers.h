// Files for the unit tests that read and write them (tensor files, packages): whole-file
// reads and writes, and a scratch directory removed with everything in it.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace tvm::test {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

inline Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("test: cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  if (!f) throw std::runtime_error("test: cannot write " + path);
}

// Under $TMPDIR when set, else in memory (/dev/shm) where there is one, since the damaged-file
// tests write tens of thousands of files.
inline fs::path temp_root() {
  std::error_code ec;
  if (!std::getenv("TMPDIR") && fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path();
}

// A fresh directory NAME.XXXXXX, removed with everything in it (permissions restored first,
// for tests that make it read-only).
class TempDir {
 public:
  explicit TempDir(const std::string& name = "tvm-test") {
    std::string t = (temp_root() / (name + ".XXXXXX")).string();
    if (!mkdtemp(t.data())) throw std::runtime_error("test: mkdtemp failed");
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

}  // namespace tvm::test
