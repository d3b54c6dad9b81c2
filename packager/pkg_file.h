// The package file container (man/tvm-pkg.5): a checksummed header, a section table, and one
// zstd frame per section. This layer knows nothing of what sections hold — the packager gives
// kinds ("MANI", "CODE", "WGHT", ...) their meaning; here a section is a tagged run of bytes.
//
//   offset 0    header, 48 bytes     magic, version, flags, file size, table offset and count,
//                                    table CRC-32, header CRC-32
//   offset 48   section table        40 bytes per section: kind, flags, offset, compressed and
//                                    uncompressed size, alignment, CRC-32 of the compressed bytes
//   then        sections' data       one zstd frame each (content size and content checksum
//                                    recorded), in table order
//
// Every byte of the file is covered by a checksum: the header's and the table's CRC-32, each
// section's CRC-32 over its compressed bytes, and zstd's content checksum over its decompressed
// bytes; the reader also requires the header, table and sections to tile the file exactly, so
// no byte goes unchecked. Nothing written depends on time, paths or memory addresses: the same
// sections give the same bytes (with the same libzstd; see kZstdLevel).
//
// Errors in a file are PackageError (exit code 3) naming it: "'model.pkg': not a tvm package
// (bad magic)". Misuse by the caller (an index out of range, a destination of the wrong size,
// a bad kind or alignment given to the writer) is std::out_of_range / std::invalid_argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tvm::pkg {

// The format version this code writes. A major version fixes the layout of the header and
// the table; a reader refuses any major version but its own. A newer minor version may only add
// section kinds (a reader lists them and its user ignores kinds it does not know) and flag bits,
// so a reader accepts any minor version. Flag bits come in two halves: bits 0-15 change how a
// section or the file must be read, so a reader refuses a set bit there it does not know (that
// file only, "... flags ... this runtime does not know"); bits 16-31 only add information, and
// a reader ignores those it does not know. Version 1.0 defines no flags.
constexpr uint16_t kFormatMajor = 1;
constexpr uint16_t kFormatMinor = 0;
constexpr uint32_t kRequiredFlagsMask = 0x0000FFFF;

constexpr char kMagic[8] = {'T', 'V', 'M', 'P', 'K', 'G', '\0', '\0'};
constexpr size_t kHeaderSize = 48;
constexpr size_t kTableEntrySize = 40;

// Alignments a section may ask for its decompressed data: a power of two, 1 to 4096.
constexpr uint32_t kMaxAlignment = 4096;

// Limits on a section's uncompressed size, checked before anything is allocated for it. A zstd
// block decompresses to at most 128 KiB and takes at least 4 bytes (an RLE block), so no frame
// expands more than 32768-fold: a size beyond that is a lie. The hard cap (64 GiB) bounds what
// even a consistent file can make a reader allocate for one section.
constexpr uint64_t kMaxExpansion = 32768;
constexpr uint64_t kMaxSectionSize = uint64_t(64) << 30;

// The zstd compression level, fixed because the level is part of what makes the bytes
// deterministic. Float32 weights compress the same (~8%) at every level from 1 to 19 while
// level 9 is 9x slower than 3, so packing time decides. (Another libzstd release may compress
// differently; determinism holds for a given library version.)
constexpr int kZstdLevel = 3;

// A file that cannot be used: unreadable, not a package, corrupt, or a newer major version.
class PackageError : public std::runtime_error {
 public:
  explicit PackageError(const std::string& message, int exit_code = 3)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// One section to write. `kind` is four printable ASCII characters (0x20..0x7E); `align` is the
// alignment the reader should give the decompressed data (a power of two, 1..kMaxAlignment).
// Kinds may repeat (many "WGHT" sections, say); order is kept.
struct SectionIn {
  char kind[4];
  std::span<const uint8_t> data;
  uint32_t align = 1;
};

// The whole package file's bytes: header, table, then each section's zstd frame in order.
// Throws std::invalid_argument for a bad kind, alignment or a section over kMaxSectionSize,
// PackageError if zstd fails (out of memory).
std::vector<uint8_t> write_package(std::span<const SectionIn> sections);

// Writes write_package(sections) to a temporary file in path's directory, fsyncs it, renames
// it over path and fsyncs the directory: a failure never leaves a partial file at path nor
// removes an older one, and a killed process leaves at most a stray ".NAME.tmpPID-N" beside it.
// Throws PackageError "cannot write 'PATH': <reason>" (exit code 3).
void write_package_file(const std::string& path, std::span<const SectionIn> sections);

// A package file, parsed and checked. Opening checks everything that can be checked without
// decompressing: magic, version, the header's and table's CRC-32, the recorded file size, every
// offset and size (within the file; header, table and sections tiling it with no overlap and no
// gap), kinds, flags, alignments, each section's CRC-32, and each zstd frame's header (one
// frame exactly filling the section, content size recorded and equal to the table's, content
// checksum present, no dictionary). Reading a section decompresses it, which also checks the
// zstd content checksum.
//
// The reader owns a copy of the file's bytes (open_file reads the file into memory rather than
// mapping it, so a file truncated by someone else while in use cannot fault), and is immutable
// once made: read_section may be called from many threads at once.
class PackageReader {
 public:
  // Reads the file at path into memory and checks it. Throws PackageError.
  static PackageReader open_file(const std::string& path);
  // Copies bytes and checks them; `name` stands for the path in messages.
  static PackageReader from_memory(std::span<const uint8_t> bytes, const std::string& name = "<memory>");

  const std::string& name() const { return name_; }
  uint16_t version_major() const { return major_; }
  uint16_t version_minor() const { return minor_; }

  size_t section_count() const { return sections_.size(); }
  // Section i's kind, four characters. i must be < section_count() (else std::out_of_range),
  // as for every accessor below.
  std::string_view kind(size_t i) const;
  uint64_t uncompressed_size(size_t i) const;
  uint64_t compressed_size(size_t i) const;
  uint32_t alignment(size_t i) const;
  // The index of the first section of that kind, or -1.
  std::ptrdiff_t find(std::string_view kind) const;

  // Decompresses section i straight into dst, which the caller allocates: exactly
  // uncompressed_size(i) bytes, aligned to alignment(i) (else std::invalid_argument). Throws
  // PackageError when the data is corrupt (zstd content checksum, size) — dst's contents are
  // then unspecified.
  void read_section(size_t i, std::span<uint8_t> dst) const;
  // The same into a new vector. A vector's data is only aligned for max_align_t (16 bytes), so
  // this one does not check alignment(i); use the span form for data that needs it.
  std::vector<uint8_t> read_section(size_t i) const;

 private:
  struct Section {
    char kind[4];
    uint64_t offset, compressed_size, uncompressed_size;
    uint32_t align;
  };

  PackageReader(std::string name, std::vector<uint8_t> bytes);
  [[noreturn]] void fail(const std::string& reason) const;
  std::string section_name(size_t i) const;
  const Section& at(size_t i) const;
  void parse();
  void decompress(size_t i, uint8_t* dst, size_t size) const;

  std::string name_;
  std::vector<uint8_t> bytes_;
  uint16_t major_ = 0, minor_ = 0;
  std::vector<Section> sections_;
};

}  // namespace tvm::pkg
