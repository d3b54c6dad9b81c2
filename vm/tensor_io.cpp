// Tensor files: .npy, .npz and .safetensors (the formats and messages are in tensor_io.h).
//
// Reading never trusts a header: every count, size and offset is checked against the bytes
// actually present before anything is allocated or read, so a corrupt or hostile file ends
// in one RuntimeError (exit code 3), never a crash or a huge allocation. Data is read with
// pread straight into the tensor when no conversion is needed (little-endian float32), and
// otherwise converted in chunks.
#include "tensor_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "atomic_file.h"
#include "builtins.h"
#include "device.h"
#include "error.h"
#include "inflate.h"
#include "ops.h"
#include "tensor.h"

namespace tvm {

// Tensor data is little-endian float32 in all three formats and in memory, which is what lets
// loading and saving <f4 data be a single read or write.
static_assert(std::endian::native == std::endian::little, "tensor files assume a little-endian host");

namespace {

constexpr const char* kUnknownType = "unknown file type (expected .npy, .npz or .safetensors)";

enum class Format { Npy, Npz, Safetensors, Unknown };

Format format_of(const std::string& path) {
  std::string_view p = path;
  if (p.ends_with(".npy")) return Format::Npy;
  if (p.ends_with(".npz")) return Format::Npz;
  if (p.ends_with(".safetensors")) return Format::Safetensors;
  return Format::Unknown;
}

// Untrusted text (a zip member name, a dtype, a JSON key) made safe for a one-line message:
// control bytes become \xNN and long text is cut.
std::string printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += char(c);
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return le32(p) | uint64_t(le32(p + 4)) << 32; }

// ================================================================ reading: bytes

// What is being loaded, for messages: the path and, inside an .npz, the member's name.
struct Where {
  const std::string& path;
  const std::string* member = nullptr;
};

[[noreturn]] void corrupt(const Where& w, const std::string& reason) {
  std::string m = "load: '" + w.path + "': ";
  if (w.member) m += "member '" + printable(*w.member) + "': ";
  throw RuntimeError(m + reason, kExitFile);
}

// Bytes to read from: an open file (read with pread, never buffered whole) or memory (an
// inflated .npz member).
class Source {
 public:
  Source(int fd, uint64_t size, const std::string& path) : fd_(fd), size_(size), path_(&path) {}
  explicit Source(std::span<const uint8_t> mem) : in_memory_(true), mem_(mem.data()), size_(mem.size()) {}
  uint64_t size() const { return size_; }

  // Precondition: offset + n <= size().
  void read(uint64_t offset, void* dst, size_t n) const {
    if (in_memory_) {
      if (n) std::memcpy(dst, mem_ + offset, n);
      return;
    }
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = ::pread(fd_, out, std::min(n, size_t(1) << 30), off_t(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0)
        throw RuntimeError("load: cannot read '" + *path_ + "': " + std::strerror(errno), kExitFile);
      if (got == 0)
        throw RuntimeError("load: '" + *path_ + "': file is truncated (it shrank while being read)", kExitFile);
      out += got;
      offset += uint64_t(got);
      n -= size_t(got);
    }
  }

 private:
  int fd_ = -1;
  bool in_memory_ = false;
  const uint8_t* mem_ = nullptr;
  uint64_t size_;
  const std::string* path_ = nullptr;
};

// Reads the byte range [pos, end) of a Source front to back, folding what it reads into a
// CRC-32 when given one (a stored .npz member is checked as it is read).
class Cursor {
 public:
  Cursor(const Source& src, uint64_t begin, uint64_t end, const Where& w, uint32_t* crc = nullptr)
      : src_(src), pos_(begin), end_(end), where_(w), crc_(crc) {}
  uint64_t remaining() const { return end_ - pos_; }
  const Where& where() const { return where_; }

  // Reads n bytes or fails with "truncated WHAT".
  void read(void* dst, size_t n, const char* what) {
    if (n > remaining()) corrupt(where_, std::string("truncated ") + what);
    src_.read(pos_, dst, n);
    if (crc_) *crc_ = crc32(dst, n, *crc_);
    pos_ += n;
  }

 private:
  const Source& src_;
  uint64_t pos_, end_;
  const Where& where_;
  uint32_t* crc_;
};

// An open file, closed on scope exit.
class InputFile {
 public:
  explicit InputFile(const std::string& path) {
    // O_NONBLOCK: opening a FIFO must not hang; it is refused below like any non-file.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) cannot_open(path, std::strerror(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0) cannot_open(path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) cannot_open(path, std::strerror(EISDIR));
    if (!S_ISREG(st.st_mode)) cannot_open(path, "not a regular file");
    size_ = uint64_t(st.st_size);
  }
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  [[noreturn]] void cannot_open(const std::string& path, const char* why) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw RuntimeError("load: cannot open '" + path + "': " + why, kExitFile);
  }
  int fd_ = -1;
  uint64_t size_ = 0;
};

// ================================================================ reading: element types

enum class Elem : uint8_t { F16, BF16, F32, F64, I8, U8, I16, U16, I32, U32, I64, U64, Bool };

struct DType {
  Elem elem;
  bool big_endian = false;
  size_t size() const {
    switch (elem) {
      case Elem::I8: case Elem::U8: case Elem::Bool: return 1;
      case Elem::F16: case Elem::BF16: case Elem::I16: case Elem::U16: return 2;
      case Elem::F32: case Elem::I32: case Elem::U32: return 4;
      case Elem::F64: case Elem::I64: case Elem::U64: return 8;
    }
    return 1;
  }
};

// An unsigned integer of sizeof(U) bytes in the given byte order.
template <typename U, bool Big>
inline U load_uint(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (Big && sizeof(U) == 2) v = __builtin_bswap16(v);
  if constexpr (Big && sizeof(U) == 4) v = __builtin_bswap32(v);
  if constexpr (Big && sizeof(U) == 8) v = __builtin_bswap64(v);
  return v;
}

// IEEE half precision to single, exactly: subnormals become normal floats, infinities stay
// infinite and NaNs keep their sign and payload.
inline float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    float f = float(mant) * 0x1p-24f;
    return sign ? -f : f;
  }
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | mant << 13);
  return std::bit_cast<float>(sign | (exp + (127 - 15)) << 23 | mant << 13);
}

template <bool Big>
void convert_from(const uint8_t* s, float* d, size_t n, Elem e) {
  // d[i] = f(bytes of element i), for elements of `size` bytes.
  auto each = [&](size_t size, auto f) {
    for (size_t i = 0; i < n; ++i) d[i] = f(s + size * i);
  };
  using P = const uint8_t*;
  switch (e) {
    case Elem::F16: return each(2, [](P p) { return half_to_float(load_uint<uint16_t, Big>(p)); });
    case Elem::BF16:  // the top half of a float32
      return each(2, [](P p) { return std::bit_cast<float>(uint32_t(load_uint<uint16_t, Big>(p)) << 16); });
    case Elem::F32: return each(4, [](P p) { return std::bit_cast<float>(load_uint<uint32_t, Big>(p)); });
    // double -> float rounds to nearest (IEEE), overflowing to infinity.
    case Elem::F64: return each(8, [](P p) { return float(std::bit_cast<double>(load_uint<uint64_t, Big>(p))); });
    case Elem::I8: return each(1, [](P p) { return float(int8_t(*p)); });
    case Elem::U8: return each(1, [](P p) { return float(*p); });
    case Elem::Bool: return each(1, [](P p) { return *p ? 1.0f : 0.0f; });
    case Elem::I16: return each(2, [](P p) { return float(int16_t(load_uint<uint16_t, Big>(p))); });
    case Elem::U16: return each(2, [](P p) { return float(load_uint<uint16_t, Big>(p)); });
    case Elem::I32: return each(4, [](P p) { return float(int32_t(load_uint<uint32_t, Big>(p))); });
    case Elem::U32: return each(4, [](P p) { return float(load_uint<uint32_t, Big>(p)); });
    // 64-bit integers round to nearest.
    case Elem::I64: return each(8, [](P p) { return float(int64_t(load_uint<uint64_t, Big>(p))); });
    case Elem::U64: return each(8, [](P p) { return float(load_uint<uint64_t, Big>(p)); });
  }
}

// Reads n elements of type t from c into out as float32. Little-endian float32 is one read
// straight into out; anything else goes through a bounded buffer, a chunk at a time.
// Precondition: the caller checked that n * t.size() bytes remain.
void read_elements(Cursor& c, DType t, float* out, size_t n) {
  if (t.elem == Elem::F32 && !t.big_endian) {
    c.read(out, n * 4, "data");
    return;
  }
  constexpr size_t kChunk = size_t(1) << 16;
  size_t size = t.size();
  std::vector<uint8_t> buf(std::min(n * size, kChunk));
  while (n > 0) {
    size_t k = std::min(n, kChunk / size);
    c.read(buf.data(), k * size, "data");
    if (t.big_endian)
      convert_from<true>(buf.data(), out, k, t.elem);
    else
      convert_from<false>(buf.data(), out, k, t.elem);
    out += k;
    n -= k;
  }
}

// The element count of shape, or a message when the shape cannot be a tensor's.
// On success returns "" and sets numel and bytes (numel * elem_size).
std::string check_shape(const std::vector<int64_t>& shape, size_t elem_size, uint64_t& numel, uint64_t& bytes) {
  if (shape.size() > size_t(kMaxRank))
    return "array has " + std::to_string(shape.size()) + " dimensions; tensors have at most 8";
  numel = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) return "negative dimension " + std::to_string(d) + " in shape " + shape_str(shape);
    overflow |= __builtin_mul_overflow(numel, uint64_t(d), &numel);
  }
  overflow |= numel > uint64_t(INT64_MAX);
  overflow |= __builtin_mul_overflow(numel, uint64_t(elem_size), &bytes);
  if (overflow) return "shape " + shape_str(shape) + " has too many elements";
  return "";
}

// Reorders data stored in Fortran order (first index fastest) into C order (last index
// fastest). src is what was read: the C-order array of the reversed shape.
void fortran_to_c(const float* src, float* dst, std::span<const int64_t> shape, uint64_t numel) {
  int rank = int(shape.size());
  if (numel == 0) return;
  if (rank < 2) {
    std::memcpy(dst, src, numel * 4);
    return;
  }
  int64_t stride[kMaxRank];  // src stride of each axis of dst: the Fortran strides
  stride[0] = 1;
  for (int k = 1; k < rank; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  int64_t idx[kMaxRank] = {};
  int64_t last = shape[rank - 1], last_stride = stride[rank - 1];
  int64_t base = 0;  // src offset of idx with the last index 0
  for (uint64_t done = 0; done < numel; done += uint64_t(last)) {
    for (int64_t j = 0; j < last; ++j) *dst++ = src[base + j * last_stride];
    for (int k = rank - 2; k >= 0; --k) {  // odometer over the other axes
      base += stride[k];
      if (++idx[k] < shape[k]) break;
      base -= stride[k] * shape[k];
      idx[k] = 0;
    }
  }
}

// ================================================================ .npy

// The header of an .npy file: the repr() of a Python dict, such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed as the Python literal it is (keys in any order, either quote, optional trailing
// commas), strictly: exactly these three keys, each once, and nothing else.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const Where& w) : s_(text), w_(w) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    if (!eat('}')) {
      for (;;) {
        std::string key = string();
        expect(':');
        if (key == "descr") {
          once(seen_descr, key);
          skip_space();
          if (peek() == '[') fail("structured dtypes are not supported");
          h.descr = string();
        } else if (key == "fortran_order") {
          once(seen_fortran, key);
          h.fortran_order = boolean();
        } else if (key == "shape") {
          once(seen_shape, key);
          h.shape = shape();
        } else {
          fail("unexpected key '" + printable(key) + "'");
        }
        if (eat(',')) {
          if (eat('}')) break;
          continue;
        }
        expect('}');
        break;
      }
    }
    skip_space();
    if (i_ != s_.size()) fail("unexpected text after the dict");
    if (!seen_descr) fail("no 'descr' key");
    if (!seen_fortran) fail("no 'fortran_order' key");
    if (!seen_shape) fail("no 'shape' key");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& why) { corrupt(w_, "bad .npy header: " + why); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  void once(bool& seen, const std::string& key) {
    if (seen) fail("duplicate key '" + key + "'");
    seen = true;
  }
  // A string literal in single or double quotes, without escapes (numpy never needs them).
  std::string string() {
    skip_space();
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a string");
    size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\' || s_[i_] == '\n') fail("unsupported string literal");
      ++i_;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    return std::string(s_.substr(start, i_++ - start));
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    size_t after = i_ + w.size();
    if (after < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[after])) || s_[after] == '_')) return false;
    i_ = after;
    return true;
  }
  bool boolean() {
    skip_space();
    if (word("True")) return true;
    if (word("False")) return false;
    fail("fortran_order is not True or False");
  }
  // A Python int literal, possibly negative (which the caller rejects with a better message).
  int64_t integer() {
    skip_space();
    bool neg = peek() == '-';
    if (neg) {
      ++i_;
      skip_space();
    }
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape is not a tuple of ints");
    if (peek() == '0' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))
      fail("bad integer in shape");
    uint64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, uint64_t(s_[i_] - '0'), &v) ||
          v > uint64_t(INT64_MAX))
        fail("dimension is too large");
      ++i_;
    }
    return neg ? -int64_t(v) : int64_t(v);
  }
  // A tuple of ints: (), (n,), (n, m) or (n, m,). "(n)" is an int, not a tuple.
  std::vector<int64_t> shape() {
    expect('(');
    std::vector<int64_t> dims;
    bool comma = false;
    while (!eat(')')) {
      if (dims.size() > size_t(kMaxRank) * 4) fail("shape has too many dimensions");
      dims.push_back(integer());
      if (eat(',')) {
        comma = true;
        continue;
      }
      expect(')');
      break;
    }
    if (dims.size() == 1 && !comma) fail("shape is not a tuple");
    return dims;
  }

  std::string_view s_;
  size_t i_ = 0;
  const Where& w_;
};

// numpy's dtype string: a byte order ('<' little, '>' big, '|' or '=' native; optional) and
// one of f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 (or '?', bool).
bool parse_descr(std::string_view d, DType& t) {
  bool big = false;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    big = d[0] == '>';
    d.remove_prefix(1);
  }
  static constexpr struct {
    const char* code;
    Elem elem;
  } kCodes[] = {{"f2", Elem::F16}, {"f4", Elem::F32}, {"f8", Elem::F64}, {"i1", Elem::I8},  {"u1", Elem::U8},
                {"i2", Elem::I16}, {"u2", Elem::U16}, {"i4", Elem::I32}, {"u4", Elem::U32}, {"i8", Elem::I64},
                {"u8", Elem::U64}, {"b1", Elem::Bool}, {"?", Elem::Bool}};
  for (const auto& c : kCodes) {
    if (d == c.code) {
      t = DType{c.elem, big && DType{c.elem}.size() > 1};
      return true;
    }
  }
  return false;
}

// Reads an .npy file (or .npz member) that fills the cursor's range exactly.
Ref read_npy(Cursor& c) {
  const Where& w = c.where();
  static constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  uint8_t pre[10];
  size_t have = size_t(std::min<uint64_t>(c.remaining(), 6));
  c.read(pre, have, "magic string");
  if (have < 6 || std::memcmp(pre, kMagic, 6) != 0) corrupt(w, "not a .npy file (bad magic string)");
  c.read(pre + 6, 2, "header");
  uint8_t major = pre[6], minor = pre[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    corrupt(w, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  uint64_t header_len;
  if (major == 1) {
    c.read(pre + 8, 2, "header");
    header_len = le16(pre + 8);
  } else {
    uint8_t b[4];
    c.read(b, 4, "header");
    header_len = le32(b);
  }
  if (header_len > c.remaining())
    corrupt(w, "truncated header (" + std::to_string(header_len) + " bytes promised, " +
                   std::to_string(c.remaining()) + " present)");
  std::string text(header_len, '\0');
  c.read(text.data(), text.size(), "header");
  NpyHeader h = NpyHeaderParser(text, w).parse();

  DType t;
  if (!parse_descr(h.descr, t)) corrupt(w, "unsupported dtype '" + printable(h.descr) + "'");
  uint64_t numel, bytes;
  if (std::string why = check_shape(h.shape, t.size(), numel, bytes); !why.empty()) corrupt(w, why);
  if (bytes != c.remaining()) {
    std::string need = "shape " + shape_str(h.shape) + " of '" + printable(h.descr) + "' needs " +
                       std::to_string(bytes) + " bytes of data";
    if (bytes > c.remaining())
      corrupt(w, "truncated data: " + need + ", " + std::to_string(c.remaining()) + " present");
    corrupt(w, std::to_string(c.remaining() - bytes) + " unexpected bytes after the data (" + need + ")");
  }

  if (!h.fortran_order || h.shape.size() < 2) {
    Ref t_ref = Ref::steal(Value::object(new_tensor(h.shape)));
    read_elements(c, t, as_tensor(t_ref.get())->data, numel);
    return t_ref;
  }
  std::vector<int64_t> reversed(h.shape.rbegin(), h.shape.rend());
  Ref raw = Ref::steal(Value::object(new_tensor(reversed)));
  read_elements(c, t, as_tensor(raw.get())->data, numel);
  Ref out = Ref::steal(Value::object(new_tensor(h.shape)));
  fortran_to_c(as_tensor(raw.get())->data, as_tensor(out.get())->data, h.shape, numel);
  return out;
}

Value load_npy(const std::string& path) {
  InputFile f(path);
  Source src(f.fd(), f.size(), path);
  Where w{path};
  Cursor c(src, 0, f.size(), w);
  return read_npy(c).release();
}

// ================================================================ .npz

// Zip record signatures and sizes (PKWARE APPNOTE 4.3).
constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kZip64EndSize = 56, kZip64LocatorSize = 20;
// Deflate expands at most 1032:1: a larger claimed size is a lie, refused before inflating.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct ZipMember {
  std::string name;
  uint16_t flags, method;
  uint32_t crc;
  uint64_t csize, usize, offset;
};

struct ZipDirectory {
  std::vector<ZipMember> members;  // in central-directory order
  uint64_t offset;                 // where the directory starts: member data lies before it
};

// The central directory, from the end records.
ZipDirectory read_central_directory(const Source& src, const Where& w) {
  uint64_t size = src.size();
  if (size < kEndSize) corrupt(w, "not a zip archive (too short)");
  // The end record is the last 22 bytes plus a comment of up to 65535 bytes: find the last
  // signature whose comment ends exactly at the end of the file.
  size_t tail_len = size_t(std::min<uint64_t>(size, kEndSize + 0xFFFF));
  std::vector<uint8_t> tail(tail_len);
  src.read(size - tail_len, tail.data(), tail_len);
  size_t end_at = SIZE_MAX;
  for (size_t i = tail_len - kEndSize + 1; i-- > 0;) {
    if (le32(&tail[i]) == kEndSig && i + kEndSize + le16(&tail[i + 20]) == tail_len) {
      end_at = i;
      break;
    }
  }
  if (end_at == SIZE_MAX) corrupt(w, "not a zip archive (no end of central directory record)");
  const uint8_t* e = &tail[end_at];
  uint64_t end_pos = size - tail_len + end_at;  // where the end record starts in the file
  uint64_t disk = le16(e + 4), cd_disk = le16(e + 6), disk_entries = le16(e + 8), entries = le16(e + 10);
  uint64_t cd_size = le32(e + 12), cd_offset = le32(e + 16);
  uint64_t dir_end = end_pos;  // where the central directory must end

  // ZIP64: a locator right before the end record points at the 64-bit end record.
  if (end_pos >= kZip64LocatorSize) {
    uint8_t loc[kZip64LocatorSize];
    src.read(end_pos - kZip64LocatorSize, loc, sizeof loc);
    if (le32(loc) == kZip64LocatorSig) {
      uint64_t z_at = le64(loc + 8);
      if (le32(loc + 4) != 0 || le32(loc + 16) > 1) corrupt(w, "multi-disk zip archives are not supported");
      if (z_at > end_pos - kZip64LocatorSize || end_pos - kZip64LocatorSize - z_at < kZip64EndSize)
        corrupt(w, "bad ZIP64 end of central directory locator");
      uint8_t z[kZip64EndSize];
      src.read(z_at, z, sizeof z);
      if (le32(z) != kZip64EndSig) corrupt(w, "bad ZIP64 end of central directory record");
      disk = le32(z + 16);
      cd_disk = le32(z + 20);
      disk_entries = le64(z + 24);
      entries = le64(z + 32);
      cd_size = le64(z + 40);
      cd_offset = le64(z + 48);
      dir_end = z_at;
    }
  }
  if (disk != 0 || cd_disk != 0 || disk_entries != entries) corrupt(w, "multi-disk zip archives are not supported");
  if (cd_offset > dir_end || cd_size != dir_end - cd_offset)
    corrupt(w, "central directory is not where the end record says");
  if (entries > cd_size / kCentralSize) corrupt(w, "central directory is too small for its entry count");

  std::vector<uint8_t> cd(cd_size);
  src.read(cd_offset, cd.data(), cd.size());
  std::vector<ZipMember> members;
  members.reserve(entries);
  size_t pos = 0;
  for (uint64_t n = 0; n < entries; ++n) {
    if (cd.size() - pos < kCentralSize || le32(&cd[pos]) != kCentralSig) corrupt(w, "bad central directory entry");
    const uint8_t* h = &cd[pos];
    ZipMember m;
    m.flags = le16(h + 8);
    m.method = le16(h + 10);
    m.crc = le32(h + 16);
    m.csize = le32(h + 20);
    m.usize = le32(h + 24);
    size_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
    uint32_t start_disk = le16(h + 34);
    m.offset = le32(h + 42);
    if (cd.size() - pos - kCentralSize < name_len + extra_len + comment_len) corrupt(w, "bad central directory entry");
    m.name.assign(reinterpret_cast<const char*>(h + kCentralSize), name_len);
    // The ZIP64 extra field holds, in this order, those of the sizes, the offset and the disk
    // that did not fit in their 32- or 16-bit fields (which then read all ones).
    const uint8_t* x = h + kCentralSize + name_len;
    const uint8_t* x_end = x + extra_len;
    while (x_end - x >= 4) {
      uint16_t id = le16(x), len = le16(x + 2);
      if (size_t(x_end - x - 4) < len) corrupt(w, "bad extra field in the central directory");
      if (id == 0x0001) {
        const uint8_t* f = x + 4;
        const uint8_t* f_end = f + len;
        auto take64 = [&](uint64_t& v) {
          if (f_end - f < 8) corrupt(w, "bad ZIP64 extra field");
          v = le64(f);
          f += 8;
        };
        if (m.usize == 0xFFFFFFFF) take64(m.usize);
        if (m.csize == 0xFFFFFFFF) take64(m.csize);
        if (m.offset == 0xFFFFFFFF) take64(m.offset);
        if (start_disk == 0xFFFF) {
          if (f_end - f < 4) corrupt(w, "bad ZIP64 extra field");
          start_disk = le32(f);
        }
      }
      x += 4 + len;
    }
    if (start_disk != 0) corrupt(w, "multi-disk zip archives are not supported");
    pos += kCentralSize + name_len + extra_len + comment_len;
    members.push_back(std::move(m));
  }
  if (pos != cd.size()) corrupt(w, "central directory has unexpected bytes after its entries");
  return {std::move(members), cd_offset};
}

// One member: its local header, then the .npy inside, checked against the CRC-32.
Ref read_npz_member(const Source& src, const ZipMember& m, uint64_t data_limit, const Where& w) {
  if (m.flags & 1) corrupt(w, "encrypted members are not supported");
  if (m.method != 0 && m.method != 8) corrupt(w, "unsupported compression method " + std::to_string(m.method));
  if (m.method == 0 && m.csize != m.usize) corrupt(w, "stored member's sizes disagree");
  if (m.offset > data_limit || data_limit - m.offset < kLocalSize) corrupt(w, "local header is outside the archive");
  uint8_t h[kLocalSize];
  src.read(m.offset, h, sizeof h);
  if (le32(h) != kLocalSig) corrupt(w, "bad local header");
  uint64_t name_len = le16(h + 26), extra_len = le16(h + 28);
  uint64_t data_at = m.offset + kLocalSize + name_len + extra_len;
  if (data_at > data_limit || data_limit - data_at < m.csize) corrupt(w, "member data is outside the archive");
  std::string local_name(name_len, '\0');
  src.read(m.offset + kLocalSize, local_name.data(), name_len);
  if (local_name != m.name) corrupt(w, "names in the local header and the central directory differ");

  uint32_t crc = 0;
  Ref t;
  if (m.method == 0) {
    Cursor c(src, data_at, data_at + m.csize, w, &crc);
    t = read_npy(c);
  } else {
    if (m.usize / kMaxDeflateRatio > m.csize) corrupt(w, "uncompressed size is impossible for its compressed size");
    std::vector<uint8_t> packed(m.csize);
    src.read(data_at, packed.data(), packed.size());
    std::vector<uint8_t> raw;
    try {
      inflate(packed, raw, m.usize);
    } catch (const InflateError& e) {
      corrupt(w, std::string("bad deflate data: ") + e.what());
    }
    if (raw.size() != m.usize)
      corrupt(w, "decompressed to " + std::to_string(raw.size()) + " bytes, the directory says " +
                     std::to_string(m.usize));
    crc = crc32(raw.data(), raw.size());
    if (crc == m.crc) {  // checked before parsing: a damaged member reports the checksum
      Source mem(raw);
      Cursor c(mem, 0, raw.size(), w);
      return read_npy(c);
    }
  }
  if (crc != m.crc) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "CRC-32 mismatch (0x%08x in the directory, data gives 0x%08x)", m.crc, crc);
    corrupt(w, buf);
  }
  return t;
}

Value load_npz(const std::string& path) {
  InputFile f(path);
  Source src(f.fd(), f.size(), path);
  Where w{path};
  ZipDirectory dir = read_central_directory(src, w);
  Ref dict = Ref::steal(make_dict());
  auto* d = as_obj<DictObj>(dict.get());
  for (const ZipMember& m : dir.members) {
    Where mw{path, &m.name};
    std::string_view key = m.name;
    if (key.ends_with(".npy")) key.remove_suffix(4);
    Ref k = Ref::steal(make_str(key));
    if (!d->get(k.get()).is_undefined()) corrupt(mw, "duplicate member");
    Ref t = read_npz_member(src, m, dir.offset, mw);
    d->set(k.get(), t.get());
  }
  return dict.release();
}

// ================================================================ .safetensors

// A small strict JSON parser (RFC 8259) for the safetensors header.
struct Json {
  enum Type : uint8_t { Null, Bool, Number, String, Array, Object } type = Null;
  bool boolean = false;
  std::string text;                 // String: the decoded text; Number: the literal
  std::vector<Json> items;          // Array items, Object values
  std::vector<std::string> keys;    // Object keys (parallel to items)
};

class JsonParser {
 public:
  JsonParser(std::string_view text, const Where& w) : s_(text), w_(w) {}

  Json parse() {
    Json v = value(0);
    skip_space();
    if (i_ != s_.size()) fail("unexpected text after the header object");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(const std::string& why) {
    corrupt(w_, "bad header JSON at byte " + std::to_string(i_) + ": " + why);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    skip_space();
    Json v;
    char c = peek();
    if (i_ >= s_.size()) fail("unexpected end");
    if (c == '{') {
      v.type = Json::Object;
      ++i_;
      skip_space();
      if (peek() == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        skip_space();
        if (peek() != '"') fail("expected a string key");
        v.keys.push_back(string());
        skip_space();
        if (peek() != ':') fail("expected ':'");
        ++i_;
        v.items.push_back(value(depth + 1));
        skip_space();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() != '}') fail("expected ',' or '}'");
        ++i_;
        return v;
      }
    }
    if (c == '[') {
      v.type = Json::Array;
      ++i_;
      skip_space();
      if (peek() == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.items.push_back(value(depth + 1));
        skip_space();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() != ']') fail("expected ',' or ']'");
        ++i_;
        return v;
      }
    }
    if (c == '"') {
      v.type = Json::String;
      v.text = string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = Json::Number;
      v.text = number();
      return v;
    }
    if (literal("true")) {
      v.type = Json::Bool;
      v.boolean = true;
      return v;
    }
    if (literal("false")) {
      v.type = Json::Bool;
      return v;
    }
    if (literal("null")) return v;
    fail("unexpected character");
  }

  std::string number() {
    size_t start = i_;
    auto digits = [&] {
      size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == from) fail("bad number");
    };
    if (peek() == '-') ++i_;
    if (peek() == '0')
      ++i_;
    else
      digits();
    if (peek() == '.') {
      ++i_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      digits();
    }
    return std::string(s_.substr(start, i_ - start));
  }

  unsigned hex4() {
    if (s_.size() - i_ < 4) fail("bad \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) fail("bad \\u escape");
      v = v * 16 + unsigned(d);
    }
    return v;
  }

  // A string at s_[i_] == '"'; the text is UTF-8 (checked by the caller for the whole header).
  std::string string() {
    ++i_;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated string");
      switch (s_[i_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          char32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!literal("\\u")) fail("lone surrogate in a \\u escape");
            char32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("lone surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape in a string");
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  const Where& w_;
};

bool valid_utf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    size_t at = pos;
    char32_t cp = utf8_decode(s, pos);
    if (pos - at == 1 && cp >= 0x80) return false;  // a byte that starts no valid sequence
  }
  return true;
}

// A JSON number that is a non-negative integer fitting in int64, or fails.
uint64_t json_index(const Json& v, const Where& w, const std::string& what) {
  if (v.type == Json::Number && !v.text.empty() && v.text.find_first_not_of("0123456789") == std::string::npos) {
    uint64_t r = 0;
    bool overflow = false;
    for (char c : v.text) {
      overflow |= __builtin_mul_overflow(r, 10u, &r);
      overflow |= __builtin_add_overflow(r, uint64_t(c - '0'), &r);
    }
    if (!overflow && r <= uint64_t(INT64_MAX)) return r;
    corrupt(w, what + " is too large");
  }
  corrupt(w, what + " is not a non-negative integer");
}

struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end, numel;
  size_t index;  // position in the header
};

// The reference implementation caps the header at 100 MB.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

Value load_safetensors(const std::string& path) {
  InputFile f(path);
  Source src(f.fd(), f.size(), path);
  Where w{path};
  if (f.size() < 8) corrupt(w, "truncated header size (the file has " + std::to_string(f.size()) + " bytes)");
  uint8_t b[8];
  src.read(0, b, 8);
  uint64_t header_len = le64(b);
  if (header_len > f.size() - 8)
    corrupt(w, "header size " + std::to_string(header_len) + " is larger than the file");
  if (header_len > kMaxSafetensorsHeader) corrupt(w, "header size " + std::to_string(header_len) + " is too large");
  std::string text(header_len, '\0');
  src.read(8, text.data(), text.size());
  if (!valid_utf8(text)) corrupt(w, "header is not valid UTF-8");
  Json top = JsonParser(text, w).parse();
  if (top.type != Json::Object) corrupt(w, "header is not a JSON object");

  static constexpr struct {
    const char* name;
    Elem elem;
  } kDTypes[] = {{"F32", Elem::F32}, {"F64", Elem::F64}, {"F16", Elem::F16}, {"BF16", Elem::BF16},
                 {"I8", Elem::I8},   {"U8", Elem::U8},   {"I16", Elem::I16}, {"U16", Elem::U16},
                 {"I32", Elem::I32}, {"U32", Elem::U32}, {"I64", Elem::I64}, {"U64", Elem::U64},
                 {"BOOL", Elem::Bool}};

  std::vector<SafetensorsEntry> entries;
  std::vector<std::string_view> names;  // to find duplicates
  for (size_t k = 0; k < top.keys.size(); ++k) {
    const std::string& name = top.keys[k];
    const Json& info = top.items[k];
    names.push_back(name);
    if (name == "__metadata__") {
      if (info.type != Json::Object) corrupt(w, "__metadata__ is not an object");
      for (const Json& v : info.items)
        if (v.type != Json::String) corrupt(w, "__metadata__ values must be strings");
      continue;
    }
    std::string tw = "tensor '" + printable(name) + "'";
    if (info.type != Json::Object) corrupt(w, tw + " is not described by an object");
    SafetensorsEntry e;
    e.name = name;
    e.index = entries.size();
    bool seen[3] = {};
    for (size_t j = 0; j < info.keys.size(); ++j) {
      const std::string& key = info.keys[j];
      const Json& v = info.items[j];
      int which = key == "dtype" ? 0 : key == "shape" ? 1 : key == "data_offsets" ? 2 : -1;
      if (which < 0) corrupt(w, tw + " has unexpected key '" + printable(key) + "'");
      if (seen[which]) corrupt(w, tw + " has a duplicate key '" + key + "'");
      seen[which] = true;
      if (which == 0) {
        if (v.type != Json::String) corrupt(w, tw + ": dtype is not a string");
        e.dtype_name = v.text;
      } else if (which == 1) {
        if (v.type != Json::Array) corrupt(w, tw + ": shape is not an array");
        if (v.items.size() > size_t(kMaxRank))
          corrupt(w, tw + " has " + std::to_string(v.items.size()) + " dimensions; tensors have at most 8");
        for (const Json& d : v.items) e.shape.push_back(int64_t(json_index(d, w, tw + ": a dimension")));
      } else {
        if (v.type != Json::Array || v.items.size() != 2) corrupt(w, tw + ": data_offsets is not a pair");
        e.begin = json_index(v.items[0], w, tw + ": a data offset");
        e.end = json_index(v.items[1], w, tw + ": a data offset");
      }
    }
    if (!seen[0] || !seen[1] || !seen[2]) corrupt(w, tw + " lacks dtype, shape or data_offsets");
    bool known = false;
    for (const auto& dt : kDTypes) {
      if (e.dtype_name == dt.name) {
        e.dtype = DType{dt.elem};
        known = true;
      }
    }
    if (!known) corrupt(w, tw + " has unsupported dtype '" + printable(e.dtype_name) + "'");
    uint64_t bytes;
    std::string why = check_shape(e.shape, e.dtype.size(), e.numel, bytes);
    if (!why.empty()) corrupt(w, tw + ": " + why);
    if (e.end < e.begin) corrupt(w, tw + " has data_offsets that end before they begin");
    if (e.end - e.begin != bytes)
      corrupt(w, tw + ": shape " + shape_str(e.shape) + " of " + e.dtype_name + " needs " + std::to_string(bytes) +
                     " bytes, its data_offsets give " + std::to_string(e.end - e.begin));
    entries.push_back(std::move(e));
  }
  std::sort(names.begin(), names.end());
  if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end())
    corrupt(w, "duplicate tensor name '" + printable(*dup) + "'");

  // The file's order is the order of the data; the byte ranges must tile the data area.
  std::sort(entries.begin(), entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return std::tie(a.begin, a.end, a.index) < std::tie(b.begin, b.end, b.index);
  });
  uint64_t data_at = 8 + header_len, data_size = f.size() - data_at;
  uint64_t expected = 0;
  for (const SafetensorsEntry& e : entries) {
    if (e.begin != expected)
      corrupt(w, "tensor '" + printable(e.name) + "' starts at data offset " + std::to_string(e.begin) + ", expected " +
                     std::to_string(expected) + " (tensors must cover the data without gaps or overlap)");
    expected = e.end;
  }
  if (expected > data_size)
    corrupt(w, "truncated data: the tensors need " + std::to_string(expected) + " bytes, " + std::to_string(data_size) +
                   " present");
  if (expected < data_size)
    corrupt(w, std::to_string(data_size - expected) + " unexpected bytes after the last tensor");

  Ref dict = Ref::steal(make_dict());
  auto* d = as_obj<DictObj>(dict.get());
  for (const SafetensorsEntry& e : entries) {
    Ref t = Ref::steal(Value::object(new_tensor(e.shape)));
    Cursor c(src, data_at + e.begin, data_at + e.end, w);
    read_elements(c, e.dtype, as_tensor(t.get())->data, e.numel);
    Ref k = Ref::steal(make_str(e.name));
    d->set(k.get(), t.get());
  }
  return dict.release();
}

// ================================================================ writing

[[noreturn]] void cannot_write(const std::string& path, int err) {
  throw RuntimeError("save: cannot write '" + path + "': " + std::strerror(err), kExitFile);
}

// The .npy header numpy writes for a C-order '<f4' array: the dict, spaces numpy leaves for
// growing the first dimension in place, more spaces and '\n' up to a multiple of 64 bytes in
// all (numpy.lib.format._write_array_header with version 1.0).
std::string npy_header(std::span<const int64_t> shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_str(shape) + ", }";
  if (!shape.empty()) {
    size_t digits = std::to_string(shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');  // numpy's GROWTH_AXIS_MAX_DIGITS
  }
  size_t hlen = dict.size() + 1;
  size_t pad = 64 - (10 + hlen) % 64;  // 1..64, as numpy computes it
  std::string out("\x93NUMPY\x01\x00", 8);  // magic, version 1.0
  hlen += pad;  // rank <= 8 keeps this far below version 1.0's 65535
  out += char(hlen & 0xFF);
  out += char(hlen >> 8);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

uint64_t data_bytes(const TensorObj* t) { return uint64_t(t->numel) * 4; }

void save_npy(const std::string& path, Value v) {
  if (!is_tensor(v)) throw RuntimeError(std::string("save: expected a tensor for .npy, got '") + type_name(v) + "'");
  const TensorObj* t = as_tensor(v);
  AtomicFile f(path, cannot_write);
  f.write(npy_header(t->dims()));
  f.write(t->data, data_bytes(t));
  f.commit();
}

// The entries of a dict of str -> tensor, or the error for anything else.
std::vector<std::pair<std::string_view, const TensorObj*>> tensor_dict(Value v, const char* ext) {
  std::string need = std::string("save: ") + ext + " needs a dict of str to tensor";
  if (!is_type(v, ObjType::Dict)) throw RuntimeError(need + ", got '" + type_name(v) + "'");
  std::vector<std::pair<std::string_view, const TensorObj*>> out;
  for (const DictObj::Entry& e : as_obj<DictObj>(v)->entries) {
    if (!is_type(e.key, ObjType::Str)) throw RuntimeError(need + ", got a key of type '" + type_name(e.key) + "'");
    if (!is_tensor(e.value))
      throw RuntimeError(need + ", got '" + type_name(e.value) + "' for key '" + printable(str_view(e.key)) + "'");
    out.emplace_back(str_view(e.key), as_tensor(e.value));
  }
  return out;
}

void save_npz_impl(const std::string& path, Value v, bool force_zip64) {
  auto entries = tensor_dict(v, ".npz");
  struct Written {
    std::string name;
    uint32_t crc;
    uint64_t size, offset;
    bool utf8;
  };
  std::vector<Written> done;
  // A fixed timestamp (1980-01-01 00:00) keeps the output a function of the tensors alone.
  constexpr uint16_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;
  constexpr uint64_t kMax32 = 0xFFFFFFFF;

  AtomicFile f(path, cannot_write);
  for (auto [key, t] : entries) {
    Written m;
    m.name = std::string(key) + ".npy";
    m.utf8 = std::any_of(m.name.begin(), m.name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (m.name.size() > 0xFFFF) throw RuntimeError("save: .npz member name is too long");
    std::string header = npy_header(t->dims());
    m.crc = crc32(t->data, data_bytes(t), crc32(header.data(), header.size()));
    m.size = header.size() + data_bytes(t);
    m.offset = f.offset();
    bool zip64 = force_zip64 || m.size >= kMax32;
    f.u32(kLocalSig);
    f.u16(zip64 ? 45 : 20);      // version needed to extract
    f.u16(m.utf8 ? 0x800 : 0);   // flags: bit 11, the name is UTF-8
    f.u16(0);                    // stored
    f.u16(kDosTime);
    f.u16(kDosDate);
    f.u32(m.crc);
    f.u32(zip64 ? kMax32 : m.size);
    f.u32(zip64 ? kMax32 : m.size);
    f.u16(m.name.size());
    f.u16(zip64 ? 20 : 0);
    f.write(m.name);
    if (zip64) {
      f.u16(0x0001);
      f.u16(16);
      f.u64(m.size);
      f.u64(m.size);
    }
    f.write(header);
    f.write(t->data, data_bytes(t));
    done.push_back(std::move(m));
  }

  uint64_t cd_offset = f.offset();
  for (const Written& m : done) {
    bool big_size = force_zip64 || m.size >= kMax32, big_offset = force_zip64 || m.offset >= kMax32;
    f.u32(kCentralSig);
    f.u16(3 << 8 | 45);  // made by: Unix, zip 4.5
    f.u16(big_size || big_offset ? 45 : 20);
    f.u16(m.utf8 ? 0x800 : 0);
    f.u16(0);
    f.u16(kDosTime);
    f.u16(kDosDate);
    f.u32(m.crc);
    f.u32(big_size ? kMax32 : m.size);
    f.u32(big_size ? kMax32 : m.size);
    f.u16(m.name.size());
    f.u16((big_size || big_offset) ? 4 + (big_size ? 16 : 0) + (big_offset ? 8 : 0) : 0);
    f.u16(0);              // comment
    f.u16(0);              // disk
    f.u16(0);              // internal attributes
    f.u32(0644u << 16);    // external attributes: a regular file, rw-r--r--
    f.u32(big_offset ? kMax32 : m.offset);
    f.write(m.name);
    if (big_size || big_offset) {
      f.u16(0x0001);
      f.u16((big_size ? 16 : 0) + (big_offset ? 8 : 0));
      if (big_size) {
        f.u64(m.size);
        f.u64(m.size);
      }
      if (big_offset) f.u64(m.offset);
    }
  }
  uint64_t cd_end = f.offset(), cd_size = cd_end - cd_offset, count = done.size();
  bool zip64_end = force_zip64 || count >= 0xFFFF || cd_size >= kMax32 || cd_offset >= kMax32;
  if (zip64_end) {
    f.u32(kZip64EndSig);
    f.u64(kZip64EndSize - 12);  // size of the rest of the record
    f.u16(3 << 8 | 45);
    f.u16(45);
    f.u32(0);
    f.u32(0);
    f.u64(count);
    f.u64(count);
    f.u64(cd_size);
    f.u64(cd_offset);
    f.u32(kZip64LocatorSig);
    f.u32(0);
    f.u64(cd_end);
    f.u32(1);
  }
  f.u32(kEndSig);
  f.u16(0);
  f.u16(0);
  f.u16(zip64_end ? 0xFFFF : count);
  f.u16(zip64_end ? 0xFFFF : count);
  f.u32(zip64_end ? kMax32 : cd_size);
  f.u32(zip64_end ? kMax32 : cd_offset);
  f.u16(0);
  f.commit();
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

void save_safetensors(const std::string& path, Value v) {
  auto entries = tensor_dict(v, ".safetensors");
  std::string header = "{";
  uint64_t offset = 0;
  for (auto [key, t] : entries) {
    if (key == "__metadata__") throw RuntimeError("save: '__metadata__' cannot name a tensor in .safetensors");
    if (!valid_utf8(key)) throw RuntimeError("save: .safetensors tensor names must be valid UTF-8");
    if (header.size() > 1) header += ',';
    append_json_string(header, key);
    header += ":{\"dtype\":\"F32\",\"shape\":[";
    for (int i = 0; i < t->ndim; ++i) {
      if (i) header += ',';
      header += std::to_string(t->shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + ",";
    offset += data_bytes(t);
    header += std::to_string(offset) + "]}";
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile f(path, cannot_write);
  f.u64(header.size());
  f.write(header);
  for (auto [key, t] : entries) f.write(t->data, data_bytes(t));
  f.commit();
}

}  // namespace

Value tensors_to(Value v, const Device* device) {
  if (device == &cpu_device()) device = nullptr;
  if (is_tensor(v)) return Value::object(tensor_to(as_tensor(v), device));
  if (is_type(v, ObjType::Tuple) || is_type(v, ObjType::List)) {  // a result of several tensors
    const auto& items = is_type(v, ObjType::Tuple) ? as_obj<TupleObj>(v)->items : as_obj<ListObj>(v)->items;
    if (std::none_of(items.begin(), items.end(), [&](Value x) {
          return (is_tensor(x) && as_tensor(x)->device != device) || is_type(x, ObjType::Tuple) ||
                 is_type(x, ObjType::List) || is_type(x, ObjType::Dict);
        })) {
      incref(v);
      return v;
    }
    OwnedValues out;
    for (Value x : items) out.items.push_back(tensors_to(x, device));
    return is_type(v, ObjType::Tuple) ? make_tuple(out.take()) : make_list(out.take());
  }
  if (!is_type(v, ObjType::Dict)) {
    incref(v);
    return v;
  }
  const auto& entries = as_obj<DictObj>(v)->entries;
  if (std::none_of(entries.begin(), entries.end(),
                   [&](const DictObj::Entry& e) { return is_tensor(e.value) && as_tensor(e.value)->device != device; })) {
    incref(v);
    return v;
  }
  Ref d = Ref::steal(make_dict());
  for (const DictObj::Entry& e : entries) {
    Ref x = Ref::steal(tensors_to(e.value, device));
    as_obj<DictObj>(d.get())->set(e.key, x.get());
  }
  return d.release();
}

Value load_tensor_file(const std::string& path) {
  Ref loaded;
  switch (format_of(path)) {
    case Format::Npy: loaded = Ref::steal(load_npy(path)); break;
    case Format::Npz: loaded = Ref::steal(load_npz(path)); break;
    case Format::Safetensors: loaded = Ref::steal(load_safetensors(path)); break;
    case Format::Unknown: throw RuntimeError("load: '" + path + "': " + kUnknownType);
  }
  // Files are read on the host; under tvm-run --device cuda their tensors go to the GPU.
  if (!default_device()) return loaded.release();
  return tensors_to(loaded.get(), default_device());
}

void save_tensor_file(const std::string& path, Value v) {
  Ref host = Ref::steal(tensors_to(v, nullptr));  // device tensors are written from host copies
  const Value value = host.get();
  switch (format_of(path)) {
    case Format::Npy: return save_npy(path, value);
    case Format::Npz: return save_npz_impl(path, value, false);
    case Format::Safetensors: return save_safetensors(path, value);
    case Format::Unknown: break;
  }
  throw RuntimeError("save: '" + path + "': " + kUnknownType);
}

namespace tensor_io_detail {
void save_npz(const std::string& path, Value dict, bool force_zip64) { save_npz_impl(path, dict, force_zip64); }
}  // namespace tensor_io_detail

}  // namespace tvm
