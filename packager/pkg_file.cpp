// The package file container: writer and reader (the layout is in pkg_file.h and, to the byte,
// in man/tvm-pkg.5).
//
// The reader trusts nothing in the file: every count, offset and size is checked against the
// bytes actually there before it is used, and sizes are bounded before anything is allocated
// for them, so a corrupt or hostile file ends in one PackageError, never a crash or a huge
// allocation.
#include "pkg_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "atomic_file.h"
#include "inflate.h"  // crc32

namespace tvm::pkg {
namespace {

// Byte offsets of the header's fields and of a table entry's (man/tvm-pkg.5).
namespace header {
constexpr size_t kMagicAt = 0, kMajorAt = 8, kMinorAt = 10, kFlagsAt = 12, kFileSizeAt = 16,
                 kTableOffsetAt = 24, kCountAt = 32, kTableCrcAt = 36, kReservedAt = 40,
                 kHeaderCrcAt = 44;
}
namespace entry {
constexpr size_t kKindAt = 0, kFlagsAt = 4, kOffsetAt = 8, kCompressedAt = 16, kUncompressedAt = 24,
                 kAlignAt = 32, kCrcAt = 36;
}
static_assert(header::kHeaderCrcAt + 4 == kHeaderSize && entry::kCrcAt + 4 == kTableEntrySize);

// RFC 8878: a zstd frame starts with this magic number, then the frame header descriptor,
// whose bit 2 says a content checksum ends the frame.
constexpr uint32_t kZstdMagic = 0xFD2FB528;
constexpr uint8_t kZstdChecksumFlag = 0x04;

uint16_t get16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t get64(const uint8_t* p) { return get32(p) | uint64_t(get32(p + 4)) << 32; }
void put(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * i));
}

bool printable_kind(const char kind[4]) {
  return std::all_of(kind, kind + 4, [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// A kind tag for a message; bytes outside printable ASCII become \xNN.
std::string kind_text(const char kind[4]) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    unsigned char c = static_cast<unsigned char>(kind[i]);
    if (c < 0x20 || c > 0x7E) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

bool valid_alignment(uint64_t a) { return a >= 1 && a <= kMaxAlignment && std::has_single_bit(a); }

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string version_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Compresses src onto the end of out as one zstd frame; returns its size.
size_t append_frame(ZSTD_CCtx* cctx, std::span<const uint8_t> src, std::vector<uint8_t>& out,
                    const char kind[4]) {
  size_t start = out.size();
  out.resize(start + ZSTD_compressBound(src.size()));
  size_t n = ZSTD_compress2(cctx, out.data() + start, out.size() - start, src.data(), src.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) throw std::bad_alloc();
    throw PackageError("cannot compress section '" + kind_text(kind) + "': " + ZSTD_getErrorName(n));
  }
  out.resize(start + n);
  return n;
}

// ---------------------------------------------------------------- files

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

[[noreturn]] void cannot(const char* what, const std::string& path, const std::string& why) {
  throw PackageError(std::string("cannot ") + what + " '" + path + "': " + why);
}

std::vector<uint8_t> read_whole_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below like any non-file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) cannot("open", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) cannot("open", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) cannot("open", path, std::strerror(EISDIR));
  if (!S_ISREG(st.st_mode)) cannot("open", path, "not a regular file");
  std::vector<uint8_t> bytes(size_t(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::read(fd.get(), bytes.data() + done, std::min(bytes.size() - done, size_t(1) << 30));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) cannot("read", path, std::strerror(errno));
    if (got == 0) throw PackageError("'" + path + "': truncated (it shrank while being read)");
    done += size_t(got);
  }
  return bytes;
}


}  // namespace

// ================================================================ writing

std::vector<uint8_t> write_package(std::span<const SectionIn> sections) {
  for (const SectionIn& s : sections) {
    if (!printable_kind(s.kind))
      throw std::invalid_argument("write_package: kind '" + kind_text(s.kind) + "' is not four printable ASCII characters");
    if (!valid_alignment(s.align))
      throw std::invalid_argument("write_package: section '" + kind_text(s.kind) + "': alignment " +
                                  std::to_string(s.align) + " is not a power of two from 1 to 4096");
    if (s.data.size() > kMaxSectionSize)
      throw std::invalid_argument("write_package: section '" + kind_text(s.kind) + "' is over 64 GiB");
  }
  if (sections.size() > UINT32_MAX) throw std::invalid_argument("write_package: too many sections");

  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  if (!cctx) throw std::bad_alloc();
  // One thread, no dictionary, fixed parameters: the output depends only on the input.
  const std::pair<ZSTD_cParameter, int> params[] = {
      {ZSTD_c_compressionLevel, kZstdLevel}, {ZSTD_c_checksumFlag, 1}, {ZSTD_c_contentSizeFlag, 1}, {ZSTD_c_nbWorkers, 0}};
  for (auto [param, value] : params) {
    size_t r = ZSTD_CCtx_setParameter(cctx.get(), param, value);
    if (ZSTD_isError(r)) throw PackageError(std::string("cannot set up zstd: ") + ZSTD_getErrorName(r));
  }

  const uint64_t table_offset = kHeaderSize;
  std::vector<uint8_t> out(kHeaderSize + kTableEntrySize * sections.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    const SectionIn& s = sections[i];
    uint64_t offset = out.size();
    size_t compressed = append_frame(cctx.get(), s.data, out, s.kind);
    uint8_t* e = out.data() + table_offset + kTableEntrySize * i;
    std::memcpy(e + entry::kKindAt, s.kind, 4);
    put(e + entry::kFlagsAt, 0, 4);
    put(e + entry::kOffsetAt, offset, 8);
    put(e + entry::kCompressedAt, compressed, 8);
    put(e + entry::kUncompressedAt, s.data.size(), 8);
    put(e + entry::kAlignAt, s.align, 4);
    put(e + entry::kCrcAt, crc32(out.data() + offset, compressed), 4);
  }

  uint8_t* h = out.data();
  std::memcpy(h + header::kMagicAt, kMagic, sizeof kMagic);
  put(h + header::kMajorAt, kFormatMajor, 2);
  put(h + header::kMinorAt, kFormatMinor, 2);
  put(h + header::kFlagsAt, 0, 4);
  put(h + header::kFileSizeAt, out.size(), 8);
  put(h + header::kTableOffsetAt, table_offset, 8);
  put(h + header::kCountAt, sections.size(), 4);
  put(h + header::kTableCrcAt, crc32(h + table_offset, kTableEntrySize * sections.size()), 4);
  put(h + header::kReservedAt, 0, 4);
  put(h + header::kHeaderCrcAt, crc32(h, header::kHeaderCrcAt), 4);
  return out;
}

void write_package_file(const std::string& path, std::span<const SectionIn> sections) {
  std::vector<uint8_t> bytes = write_package(sections);
  AtomicFile f(path, [](const std::string& p, int err) { cannot("write", p, std::strerror(err)); });
  f.write(bytes.data(), bytes.size());
  f.commit();
}

// ================================================================ reading

PackageReader PackageReader::open_file(const std::string& path) {
  return PackageReader(path, read_whole_file(path));
}

PackageReader PackageReader::from_memory(std::span<const uint8_t> bytes, const std::string& name) {
  return PackageReader(name, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

PackageReader::PackageReader(std::string name, std::vector<uint8_t> bytes)
    : name_(std::move(name)), bytes_(std::move(bytes)) {
  parse();
}

void PackageReader::fail(const std::string& reason) const {
  throw PackageError("'" + name_ + "': " + reason);
}

// "section 'CODE'", or "section 'WGHT' #3" where several sections share the kind.
std::string PackageReader::section_name(size_t i) const {
  const Section& s = sections_[i];
  bool shared = std::any_of(sections_.begin(), sections_.end(), [&](const Section& o) {
    return &o != &s && std::memcmp(o.kind, s.kind, 4) == 0;
  });
  std::string out = "section '" + kind_text(s.kind) + "'";
  if (shared) out += " #" + std::to_string(i);
  return out;
}

void PackageReader::parse() {
  const uint8_t* b = bytes_.data();
  const uint64_t n = bytes_.size();

  // Magic, then version: what the rest of the header means depends on the major version.
  bool magic_prefix = n == 0 || std::memcmp(b, kMagic, std::min<size_t>(n, sizeof kMagic)) == 0;
  if (!magic_prefix) fail("not a tvm package (bad magic)");
  if (n < kHeaderSize)
    fail("truncated (file has " + std::to_string(n) + " bytes, a package header alone is " + std::to_string(kHeaderSize) + ")");
  major_ = get16(b + header::kMajorAt);
  minor_ = get16(b + header::kMinorAt);
  if (major_ > kFormatMajor)
    fail("package format version " + version_text(major_, minor_) + " is newer than this runtime's " +
         version_text(kFormatMajor, kFormatMinor));
  if (major_ < kFormatMajor)
    fail("package format version " + version_text(major_, minor_) + " is not supported (this runtime reads " +
         std::to_string(kFormatMajor) + ".x)");
  if (crc32(b, header::kHeaderCrcAt) != get32(b + header::kHeaderCrcAt)) fail("checksum mismatch in the header");

  const std::string versions =
      "(package format " + version_text(major_, minor_) + ", runtime " + version_text(kFormatMajor, kFormatMinor) + ")";
  uint32_t flags = get32(b + header::kFlagsAt);
  if (flags & kRequiredFlagsMask) fail("header flags " + hex32(flags) + " include ones this runtime does not know " + versions);
  if (get32(b + header::kReservedAt) != 0) fail("reserved header field is not zero");
  uint64_t file_size = get64(b + header::kFileSizeAt);
  if (file_size > n)
    fail("truncated (the header says the file has " + std::to_string(file_size) + " bytes, it has " + std::to_string(n) + ")");
  if (file_size < n)
    fail("unexpected data after the package's end (the header says the file has " + std::to_string(file_size) +
         " bytes, it has " + std::to_string(n) + ")");

  // The table: its size is bounded by the file's before anything is allocated for it.
  uint64_t table_offset = get64(b + header::kTableOffsetAt);
  uint64_t count = get32(b + header::kCountAt);
  uint64_t table_size = count * kTableEntrySize;  // < 2^38: no overflow
  if (table_offset > n || table_size > n - table_offset)
    fail("truncated (the section table of " + std::to_string(count) + " entries at byte " + std::to_string(table_offset) +
         " does not fit in the file's " + std::to_string(n) + " bytes)");
  if (crc32(b + table_offset, table_size) != get32(b + header::kTableCrcAt)) fail("checksum mismatch in the section table");

  sections_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* e = b + table_offset + i * kTableEntrySize;
    Section s;
    std::memcpy(s.kind, e + entry::kKindAt, 4);
    if (!printable_kind(s.kind))
      fail("section #" + std::to_string(i) + " has an invalid kind '" + kind_text(s.kind) +
           "' (four printable ASCII characters)");
    s.offset = get64(e + entry::kOffsetAt);
    s.compressed_size = get64(e + entry::kCompressedAt);
    s.uncompressed_size = get64(e + entry::kUncompressedAt);
    s.align = get32(e + entry::kAlignAt);
    sections_.push_back(s);
  }

  // Each section on its own: flags, alignment, extent, and a size worth allocating.
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    const uint8_t* e = b + table_offset + i * kTableEntrySize;
    uint32_t sflags = get32(e + entry::kFlagsAt);
    if (sflags & kRequiredFlagsMask)
      fail(section_name(i) + " has flags " + hex32(sflags) + " this runtime does not know " + versions);
    if (!valid_alignment(s.align))
      fail(section_name(i) + " has alignment " + std::to_string(s.align) + " (must be a power of two from 1 to 4096)");
    if (s.offset > UINT64_MAX - s.compressed_size)
      fail(section_name(i) + " has an impossible extent (offset " + std::to_string(s.offset) + ", size " +
           std::to_string(s.compressed_size) + ")");
    uint64_t end = s.offset + s.compressed_size;
    if (end > n) fail("truncated (" + section_name(i) + " ends at byte " + std::to_string(end) + ", file has " + std::to_string(n) + ")");
    if (s.uncompressed_size > kMaxSectionSize)
      fail(section_name(i) + " claims " + std::to_string(s.uncompressed_size) +
           " bytes uncompressed, over this runtime's limit of 64 GiB per section");
    if (s.uncompressed_size > s.compressed_size * kMaxExpansion)  // compressed_size <= n: no overflow
      fail(section_name(i) + " claims " + std::to_string(s.uncompressed_size) + " bytes uncompressed from " +
           std::to_string(s.compressed_size) + " compressed, more than zstd can expand");
  }

  // The header, the table and the sections must tile the file: no overlap, and no gap that
  // would hold bytes no checksum covers.
  struct Extent {
    uint64_t begin, end;
    std::ptrdiff_t section;  // -1: the header, -2: the table
  };
  std::vector<Extent> extents;
  extents.reserve(sections_.size() + 2);
  extents.push_back({0, kHeaderSize, -1});
  extents.push_back({table_offset, table_offset + table_size, -2});
  for (size_t i = 0; i < sections_.size(); ++i)
    extents.push_back({sections_[i].offset, sections_[i].offset + sections_[i].compressed_size, std::ptrdiff_t(i)});
  std::sort(extents.begin(), extents.end(), [](const Extent& x, const Extent& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  });
  auto what = [&](const Extent& x) -> std::string {
    if (x.section == -1) return "the header";
    if (x.section == -2) return "the section table";
    return section_name(size_t(x.section));
  };
  const Extent* last = &extents[0];  // the extent reaching furthest so far
  for (size_t k = 1; k < extents.size(); ++k) {
    const Extent& x = extents[k];
    if (x.begin < last->end) {
      std::string w = what(x), l = what(*last);
      fail(w + " overlaps " + l + " (at byte " + std::to_string(x.begin) + ")");
    }
    if (x.begin > last->end)
      fail("bytes " + std::to_string(last->end) + " to " + std::to_string(x.begin - 1) +
           " belong to no section");
    last = &x;
  }
  if (last->end < n)
    fail("bytes " + std::to_string(last->end) + " to " + std::to_string(n - 1) + " belong to no section");

  // Each section's bytes, then its zstd frame's header (RFC 8878), without decompressing.
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    const uint8_t* e = b + table_offset + i * kTableEntrySize;
    const uint8_t* data = b + s.offset;
    size_t size = size_t(s.compressed_size);
    if (crc32(data, size) != get32(e + entry::kCrcAt)) fail("checksum mismatch in " + section_name(i));
    if (size < 5 || get32(data) != kZstdMagic) fail(section_name(i) + " is not a zstd frame");
    if (!(data[4] & kZstdChecksumFlag)) fail(section_name(i) + ": zstd frame has no content checksum");
    unsigned long long content = ZSTD_getFrameContentSize(data, size);
    if (content == ZSTD_CONTENTSIZE_ERROR) fail(section_name(i) + " is not a valid zstd frame");
    if (content == ZSTD_CONTENTSIZE_UNKNOWN) fail(section_name(i) + ": zstd frame does not record its size");
    if (content != s.uncompressed_size)
      fail(section_name(i) + ": zstd frame holds " + std::to_string(content) + " bytes, the section table says " +
           std::to_string(s.uncompressed_size));
    if (ZSTD_getDictID_fromFrame(data, size) != 0) fail(section_name(i) + ": zstd frame needs a dictionary");
    size_t frame = ZSTD_findFrameCompressedSize(data, size);
    if (ZSTD_isError(frame)) fail(section_name(i) + ": damaged zstd frame (" + ZSTD_getErrorName(frame) + ")");
    if (frame != size)
      fail(section_name(i) + ": " + std::to_string(size - frame) + " bytes after its zstd frame");
  }
}

const PackageReader::Section& PackageReader::at(size_t i) const {
  if (i >= sections_.size())
    throw std::out_of_range("PackageReader: section " + std::to_string(i) + " of " + std::to_string(sections_.size()));
  return sections_[i];
}

std::string_view PackageReader::kind(size_t i) const { return std::string_view(at(i).kind, 4); }
uint64_t PackageReader::uncompressed_size(size_t i) const { return at(i).uncompressed_size; }
uint64_t PackageReader::compressed_size(size_t i) const { return at(i).compressed_size; }
uint32_t PackageReader::alignment(size_t i) const { return at(i).align; }

std::ptrdiff_t PackageReader::find(std::string_view kind) const {
  if (kind.size() != 4) return -1;
  for (size_t i = 0; i < sections_.size(); ++i)
    if (std::memcmp(sections_[i].kind, kind.data(), 4) == 0) return std::ptrdiff_t(i);
  return -1;
}

void PackageReader::decompress(size_t i, uint8_t* dst, size_t size) const {
  const Section& s = sections_[i];
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  size_t got = ZSTD_decompressDCtx(dctx.get(), dst, size, bytes_.data() + s.offset, size_t(s.compressed_size));
  if (ZSTD_isError(got)) {
    ZSTD_ErrorCode code = ZSTD_getErrorCode(got);
    if (code == ZSTD_error_memory_allocation) throw std::bad_alloc();
    if (code == ZSTD_error_checksum_wrong) fail("checksum mismatch in " + section_name(i) + " (zstd content checksum)");
    fail(section_name(i) + ": corrupt zstd data (" + ZSTD_getErrorName(got) + ")");
  }
  if (got != s.uncompressed_size)
    fail(section_name(i) + " decompressed to " + std::to_string(got) + " bytes, the section table says " +
         std::to_string(s.uncompressed_size));
}

void PackageReader::read_section(size_t i, std::span<uint8_t> dst) const {
  const Section& s = at(i);
  if (dst.size() != s.uncompressed_size)
    throw std::invalid_argument("read_section: " + section_name(i) + " needs " + std::to_string(s.uncompressed_size) +
                                " bytes, the destination has " + std::to_string(dst.size()));
  if (reinterpret_cast<uintptr_t>(dst.data()) % s.align != 0)
    throw std::invalid_argument("read_section: " + section_name(i) + " needs a destination aligned to " +
                                std::to_string(s.align) + " bytes");
  decompress(i, dst.data(), dst.size());
}

std::vector<uint8_t> PackageReader::read_section(size_t i) const {
  std::vector<uint8_t> out(size_t(at(i).uncompressed_size));
  decompress(i, out.data(), out.size());
  return out;
}

}  // namespace tvm::pkg
