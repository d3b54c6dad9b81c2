// The package file container (packager/pkg_file.cpp): round trips, determinism, the layout
// man/tvm-pkg.5 documents (checked against a writer written here from that page), versions, the
// atomic file write, and damaged or hostile files, which must fail with one PackageError (exit
// code 3) and never crash or allocate what a lying header asks for.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "inflate.h"  // crc32
#include "pkg_file.h"
#include "file_helpers.h"

using namespace tvm::pkg;
using tvm::test::Bytes;
using tvm::test::read_file;
using tvm::test::TempDir;
using tvm::test::write_file;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- data

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(g());
  return b;
}

Bytes text_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Float-like data that compresses: a slow ramp of small integers as float32.
Bytes ramp_floats(size_t count) {
  Bytes b(count * 4);
  for (size_t i = 0; i < count; ++i) {
    float f = float(i / 16);
    std::memcpy(b.data() + 4 * i, &f, 4);
  }
  return b;
}

SectionIn section(const char* kind, const Bytes& data, uint32_t align = 1) {
  SectionIn s;
  std::memcpy(s.kind, kind, 4);
  s.data = data;
  s.align = align;
  return s;
}
// A section only points at its data: a temporary would be gone before the section is written.
SectionIn section(const char* kind, Bytes&& data, uint32_t align = 1) = delete;

// A buffer of `size` bytes aligned to `align`, as a tensor's final buffer would be.
class AlignedBuffer {
 public:
  AlignedBuffer(size_t size, size_t align)
      : size_(size), align_(align), p_(static_cast<uint8_t*>(::operator new(size ? size : 1, std::align_val_t(align)))) {}
  ~AlignedBuffer() { ::operator delete(p_, std::align_val_t(align_)); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  std::span<uint8_t> span() { return {p_, size_}; }
  Bytes bytes() const { return Bytes(p_, p_ + size_); }

 private:
  size_t size_, align_;
  uint8_t* p_;
};

// ---------------------------------------------------------------- the layout, from man/tvm-pkg.5

void put(Bytes& f, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) f[at + i] = uint8_t(v >> (8 * i));
}
uint64_t get(const Bytes& f, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(f[at + i]) << (8 * i);
  return v;
}

// Header fields: offset (size).
constexpr size_t H_MAJOR = 8, H_MINOR = 10, H_FLAGS = 12, H_FILE_SIZE = 16, H_TABLE_OFFSET = 24, H_COUNT = 32,
                 H_TABLE_CRC = 36, H_RESERVED = 40, H_CRC = 44, HEADER = 48;
// Table entry fields.
constexpr size_t E_KIND = 0, E_FLAGS = 4, E_OFFSET = 8, E_COMPRESSED = 16, E_UNCOMPRESSED = 24, E_ALIGN = 32,
                 E_CRC = 36, ENTRY = 40;

size_t entry_at(size_t i) { return HEADER + ENTRY * i; }  // where write_package puts entry i

// A zstd frame as the writer makes it (or without the checksum or the content size).
Bytes zstd_frame(const Bytes& data, bool checksum = true, bool content_size = true) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size);
  Bytes out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(c);
  BOOST_REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A section as it lies in the file, every field given.
struct Raw {
  std::string kind;
  Bytes frame;
  uint64_t uncompressed;
  uint32_t align = 1;
  uint32_t flags = 0;
};

Raw raw(const std::string& kind, const Bytes& data, uint32_t align = 1) { return {kind, zstd_frame(data), data.size(), align}; }

// A package laid out from man/tvm-pkg.5 alone: header, table, frames in order, checksums.
Bytes assemble(const std::vector<Raw>& sections, uint16_t major = 1, uint16_t minor = 0, uint32_t flags = 0) {
  Bytes f(HEADER + ENTRY * sections.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    const Raw& s = sections[i];
    size_t e = entry_at(i);
    std::memcpy(&f[e + E_KIND], s.kind.data(), 4);
    put(f, e + E_FLAGS, s.flags, 4);
    put(f, e + E_OFFSET, f.size(), 8);
    put(f, e + E_COMPRESSED, s.frame.size(), 8);
    put(f, e + E_UNCOMPRESSED, s.uncompressed, 8);
    put(f, e + E_ALIGN, s.align, 4);
    put(f, e + E_CRC, tvm::crc32(s.frame.data(), s.frame.size()), 4);
    f.insert(f.end(), s.frame.begin(), s.frame.end());
  }
  std::memcpy(f.data(), "TVMPKG\0\0", 8);
  put(f, H_MAJOR, major, 2);
  put(f, H_MINOR, minor, 2);
  put(f, H_FLAGS, flags, 4);
  put(f, H_FILE_SIZE, f.size(), 8);
  put(f, H_TABLE_OFFSET, HEADER, 8);
  put(f, H_COUNT, sections.size(), 4);
  put(f, H_TABLE_CRC, tvm::crc32(&f[HEADER], ENTRY * sections.size()), 4);
  put(f, H_RESERVED, 0, 4);
  put(f, H_CRC, tvm::crc32(f.data(), H_CRC), 4);
  return f;
}

// Recomputes the checksums of an edited package, so that the edit reaches the checks behind
// them: each section's CRC (where its entry's extent lies in the file), the table's, the header's.
void reseal(Bytes& f, bool sections = true) {
  uint64_t table = get(f, H_TABLE_OFFSET, 8), count = get(f, H_COUNT, 4);
  if (table <= f.size() && count * ENTRY <= f.size() - table) {
    if (sections)
      for (uint64_t i = 0; i < count; ++i) {
        size_t e = size_t(table + ENTRY * i);
        uint64_t off = get(f, e + E_OFFSET, 8), size = get(f, e + E_COMPRESSED, 8);
        if (off <= f.size() && size <= f.size() - off) put(f, e + E_CRC, tvm::crc32(&f[off], size), 4);
      }
    put(f, H_TABLE_CRC, tvm::crc32(&f[table], count * ENTRY), 4);
  }
  put(f, H_CRC, tvm::crc32(f.data(), H_CRC), 4);
}

// ---------------------------------------------------------------- outcomes

// What became of a file: opened and every section read (into a buffer aligned as the section
// asks), or refused with a PackageError at open or at read, or something else went wrong.
struct Outcome {
  enum Kind { Ok, RefusedAtOpen, RefusedAtRead, Wrong } kind;
  std::string message;
  std::vector<Bytes> data;  // when Ok
};

std::ostream& operator<<(std::ostream& os, Outcome::Kind k) {
  const char* names[] = {"opened and read", "refused at open", "refused at read", "wrong"};
  return os << names[k];
}

Outcome try_package(const Bytes& f) {
  Outcome out{Outcome::Ok, "", {}};
  std::optional<PackageReader> r;
  try {
    r.emplace(PackageReader::from_memory(f, "model.pkg"));
  } catch (const PackageError& e) {
    return {e.exit_code() == 3 ? Outcome::RefusedAtOpen : Outcome::Wrong, e.what(), {}};
  } catch (const std::exception& e) {
    return {Outcome::Wrong, std::string("not a PackageError: ") + e.what(), {}};
  }
  for (size_t i = 0; i < r->section_count(); ++i) {
    try {
      AlignedBuffer buf(size_t(r->uncompressed_size(i)), r->alignment(i));
      r->read_section(i, buf.span());
      out.data.push_back(buf.bytes());
    } catch (const PackageError& e) {
      return {e.exit_code() == 3 ? Outcome::RefusedAtRead : Outcome::Wrong, e.what(), {}};
    } catch (const std::exception& e) {
      return {Outcome::Wrong, std::string("not a PackageError: ") + e.what(), {}};
    }
  }
  return out;
}

// The file must be refused (at open or at read) with exactly this message.
void expect_refused(const Bytes& f, const std::string& message) {
  Outcome o = try_package(f);
  BOOST_CHECK_MESSAGE(o.kind == Outcome::RefusedAtOpen || o.kind == Outcome::RefusedAtRead,
                      "not refused; expected: " << message);
  BOOST_CHECK_EQUAL(o.message, message);
}

// A small package of a few hundred bytes: text, incompressible bytes (a raw zstd block),
// compressible aligned floats, an empty section, a repeated kind.
std::vector<Bytes> small_data() {
  return {text_bytes("{\"entry\": \"main\", \"inputs\": [[1, 4]], \"outputs\": [[1, 2]]}"), random_bytes(48, 7),
          ramp_floats(96), {}, text_bytes("def main(x):\n    return relu(x @ w.T + b)\n")};
}
Bytes small_package() {
  auto d = small_data();
  SectionIn s[] = {section("MANI", d[0]), section("CODE", d[1]), section("WGHT", d[2], 64), section("WGHT", d[3], 64),
                   section("SRCE", d[4])};
  return write_package(s);
}

// ---------------------------------------------------------------- files




// Runs f, which must throw PackageError (exit code 3) with exactly this message.
template <class F>
void expect_error(F&& f, const std::string& message) {
  try {
    f();
  } catch (const PackageError& e) {
    BOOST_CHECK_EQUAL(e.exit_code(), 3);
    BOOST_CHECK_EQUAL(std::string(e.what()), message);
    return;
  }
  BOOST_ERROR("no PackageError; expected: " << message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pkg_file)

// ---------------------------------------------------------------- round trips

BOOST_AUTO_TEST_CASE(empty_package) {
  Bytes f = write_package({});
  BOOST_CHECK_EQUAL(f.size(), HEADER);
  PackageReader r = PackageReader::from_memory(f);
  BOOST_CHECK_EQUAL(r.section_count(), 0u);
  BOOST_CHECK_EQUAL(r.find("CODE"), -1);
  BOOST_CHECK_EQUAL(r.version_major(), 1);
  BOOST_CHECK_EQUAL(r.version_minor(), 0);
  BOOST_CHECK_EQUAL(r.name(), "<memory>");
}

BOOST_AUTO_TEST_CASE(one_section) {
  Bytes data = text_bytes("hello, package");
  SectionIn s[] = {section("MANI", data)};
  PackageReader r = PackageReader::from_memory(write_package(s), "one.pkg");
  BOOST_REQUIRE_EQUAL(r.section_count(), 1u);
  BOOST_CHECK_EQUAL(r.kind(0), "MANI");
  BOOST_CHECK_EQUAL(r.uncompressed_size(0), data.size());
  BOOST_CHECK_EQUAL(r.alignment(0), 1u);
  BOOST_CHECK_EQUAL(r.find("MANI"), 0);
  BOOST_CHECK(r.read_section(0) == data);
}

BOOST_AUTO_TEST_CASE(many_sections_empty_ones_and_repeated_kinds) {
  // 200 sections: sizes 0..~4 KiB, kinds repeating, every alignment from 1 to 4096.
  std::vector<Bytes> data;
  std::vector<SectionIn> secs;
  const char* kinds[] = {"MANI", "CODE", "CNST", "WGHT", "DBUG", "SRCE", "X 1~"};
  for (int i = 0; i < 200; ++i) data.push_back(i % 3 == 0 ? random_bytes(size_t(i * 20), uint32_t(i)) : ramp_floats(size_t(i)));
  data[5].clear();
  data[6].clear();
  for (int i = 0; i < 200; ++i) secs.push_back(section(kinds[i % 7], data[size_t(i)], uint32_t(1) << (i % 13)));
  PackageReader r = PackageReader::from_memory(write_package(secs));
  BOOST_REQUIRE_EQUAL(r.section_count(), 200u);
  for (size_t i = 0; i < 200; ++i) {
    BOOST_CHECK_EQUAL(r.kind(i), std::string_view(kinds[i % 7], 4));
    BOOST_CHECK_EQUAL(r.uncompressed_size(i), data[i].size());
    BOOST_CHECK_EQUAL(r.alignment(i), uint32_t(1) << (i % 13));
    AlignedBuffer buf(data[i].size(), r.alignment(i));
    r.read_section(i, buf.span());
    BOOST_CHECK(buf.bytes() == data[i]);
    BOOST_CHECK(r.read_section(i) == data[i]);
  }
  BOOST_CHECK_EQUAL(r.find("WGHT"), 3);  // the first of its kind
  BOOST_CHECK_EQUAL(r.find("X 1~"), 6);
  BOOST_CHECK_EQUAL(r.find("NONE"), -1);
  BOOST_CHECK_EQUAL(r.find("WGH"), -1);
}

BOOST_AUTO_TEST_CASE(aligned_destinations) {
  Bytes w = ramp_floats(1000);
  for (uint32_t align : {1u, 64u, 4096u}) {
    SectionIn s[] = {section("WGHT", w, align)};
    PackageReader r = PackageReader::from_memory(write_package(s));
    BOOST_CHECK_EQUAL(r.alignment(0), align);
    AlignedBuffer buf(w.size(), align);
    r.read_section(0, buf.span());
    BOOST_CHECK(buf.bytes() == w);
    if (align > 1) {  // one byte off: the caller's mistake, not the file's
      AlignedBuffer big(w.size() + 1, align);
      BOOST_CHECK_THROW(r.read_section(0, big.span().subspan(1)), std::invalid_argument);
    }
    BOOST_CHECK_THROW(r.read_section(0, buf.span().first(w.size() - 1)), std::invalid_argument);
  }
}

BOOST_AUTO_TEST_CASE(large_incompressible_and_compressible) {
  Bytes noise = random_bytes(size_t(8) << 20, 42);
  Bytes zeros(size_t(32) << 20, 0);
  Bytes floats = ramp_floats(size_t(4) << 20);
  SectionIn s[] = {section("WGHT", noise, 64), section("WGHT", zeros, 64), section("WGHT", floats, 4096)};
  Bytes f = write_package(s);
  PackageReader r = PackageReader::from_memory(f);
  BOOST_CHECK_LE(r.compressed_size(0), noise.size() + noise.size() / 1000 + 64);  // stored, nearly as is
  BOOST_CHECK_LT(r.compressed_size(1), zeros.size() / 1000);
  BOOST_CHECK_LT(r.compressed_size(2), floats.size() / 4);
  BOOST_CHECK_EQUAL(f.size(), HEADER + 3 * ENTRY + r.compressed_size(0) + r.compressed_size(1) + r.compressed_size(2));
  for (size_t i = 0; i < 3; ++i) {
    AlignedBuffer buf(size_t(r.uncompressed_size(i)), r.alignment(i));
    r.read_section(i, buf.span());
    BOOST_CHECK(buf.bytes() == (i == 0 ? noise : i == 1 ? zeros : floats));
  }
}

BOOST_AUTO_TEST_CASE(from_memory_keeps_its_own_copy) {
  Bytes f = small_package();
  PackageReader r = PackageReader::from_memory(f);
  std::fill(f.begin(), f.end(), 0);
  BOOST_CHECK(r.read_section(0) == small_data()[0]);
}

BOOST_AUTO_TEST_CASE(sections_read_from_many_threads) {
  Bytes big = ramp_floats(size_t(1) << 18);
  SectionIn s[] = {section("WGHT", big, 64), section("CODE", big)};
  const PackageReader r = PackageReader::from_memory(write_package(s));
  std::vector<int> good(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 4; ++k) good[size_t(t)] += r.read_section(size_t(t % 2)) == big;
    });
  for (auto& t : threads) t.join();
  BOOST_CHECK(std::all_of(good.begin(), good.end(), [](int g) { return g == 4; }));
}

// ---------------------------------------------------------------- the bytes themselves

BOOST_AUTO_TEST_CASE(deterministic) {
  auto d = small_data();
  Bytes a = small_package(), b = small_package();
  BOOST_CHECK(a == b);
  // The same contents at other addresses, and a large section, give the same bytes too.
  std::vector<Bytes> copy = d;
  Bytes big = ramp_floats(size_t(1) << 20), big2 = big;
  SectionIn s1[] = {section("MANI", d[0]), section("WGHT", big, 64)};
  SectionIn s2[] = {section("MANI", copy[0]), section("WGHT", big2, 64)};
  BOOST_CHECK(write_package(s1) == write_package(s2));
}

BOOST_AUTO_TEST_CASE(layout_is_the_documented_one) {
  // The writer's bytes equal a package assembled here from man/tvm-pkg.5's tables.
  auto d = small_data();
  Bytes expected = assemble({raw("MANI", d[0]), raw("CODE", d[1]), raw("WGHT", d[2], 64), raw("WGHT", d[3], 64),
                             raw("SRCE", d[4])});
  Bytes f = small_package();
  BOOST_CHECK(f == expected);
  BOOST_CHECK(std::memcmp(f.data(), "TVMPKG\0\0", 8) == 0);
  BOOST_CHECK_EQUAL(get(f, H_FILE_SIZE, 8), f.size());
  BOOST_CHECK_EQUAL(get(f, H_TABLE_OFFSET, 8), HEADER);
  BOOST_CHECK_EQUAL(get(f, H_COUNT, 4), 5u);
  BOOST_CHECK_EQUAL(get(f, entry_at(0) + E_OFFSET, 8), HEADER + 5 * ENTRY);
  BOOST_CHECK_EQUAL(get(f, entry_at(2) + E_ALIGN, 4), 64u);
  // A package of a few hundred bytes, as the damaged-file tests below want.
  BOOST_CHECK_GT(f.size(), 300u);
  BOOST_CHECK_LT(f.size(), 700u);
}

// ---------------------------------------------------------------- versions

BOOST_AUTO_TEST_CASE(newer_major_version_refused) {
  Bytes f = assemble({raw("CODE", text_bytes("x"))}, 2, 0);
  expect_refused(f, "'model.pkg': package format version 2.0 is newer than this runtime's 1.0");
  // Whatever a newer major version's header holds: the version alone decides.
  Bytes g = small_package();
  put(g, H_MAJOR, 7, 2);
  put(g, H_MINOR, 3, 2);
  std::fill(g.begin() + H_FLAGS, g.end(), 0xEE);
  expect_refused(g, "'model.pkg': package format version 7.3 is newer than this runtime's 1.0");
  expect_refused(assemble({}, 0, 9), "'model.pkg': package format version 0.9 is not supported (this runtime reads 1.x)");
}

BOOST_AUTO_TEST_CASE(newer_minor_version_accepted) {
  // A 1.7 file with a kind this runtime does not know and flag bits it may ignore (16-31).
  Raw extra = raw("XNEW", text_bytes("something a later 1.x adds"));
  extra.flags = 0x80010000;
  Bytes data = text_bytes("code");
  Bytes f = assemble({raw("CODE", data), extra}, 1, 7, 0x00020000);
  Outcome o = try_package(f);
  BOOST_REQUIRE_EQUAL(o.kind, Outcome::Ok);
  PackageReader r = PackageReader::from_memory(f);
  BOOST_CHECK_EQUAL(r.version_minor(), 7);
  BOOST_CHECK_EQUAL(r.kind(1), "XNEW");
  BOOST_CHECK(r.read_section(r.find("CODE")) == data);
  // Same-major, same-or-older minor: this runtime's own version, written either way.
  BOOST_CHECK(assemble({raw("CODE", data)}, 1, 0) == write_package(std::vector{section("CODE", data)}));
  BOOST_CHECK_EQUAL(try_package(assemble({raw("CODE", data)}, 1, 0)).kind, Outcome::Ok);
}

BOOST_AUTO_TEST_CASE(required_flags_refused) {
  Raw s = raw("CODE", text_bytes("code"));
  s.flags = 0x00000004;
  expect_refused(assemble({s}, 1, 3),
                 "'model.pkg': section 'CODE' has flags 0x00000004 this runtime does not know (package format 1.3, runtime 1.0)");
  expect_refused(assemble({raw("CODE", text_bytes("code"))}, 1, 2, 0x00010001),
                 "'model.pkg': header flags 0x00010001 include ones this runtime does not know (package format 1.2, runtime 1.0)");
}

// ---------------------------------------------------------------- messages

BOOST_AUTO_TEST_CASE(bad_magic_and_truncated) {
  expect_refused(text_bytes("PK\x03\x04 this is a zip file, not a package........................"),
                 "'model.pkg': not a tvm package (bad magic)");
  expect_refused({}, "'model.pkg': truncated (file has 0 bytes, a package header alone is 48)");
  Bytes f = small_package();
  expect_refused(Bytes(f.begin(), f.begin() + 20), "'model.pkg': truncated (file has 20 bytes, a package header alone is 48)");
  expect_refused(Bytes(f.begin(), f.end() - 1),
                 "'model.pkg': truncated (the header says the file has " + std::to_string(f.size()) + " bytes, it has " +
                     std::to_string(f.size() - 1) + ")");
  Bytes longer = f;
  longer.push_back(0);
  expect_refused(longer, "'model.pkg': unexpected data after the package's end (the header says the file has " +
                             std::to_string(f.size()) + " bytes, it has " + std::to_string(f.size() + 1) + ")");
}

BOOST_AUTO_TEST_CASE(checksum_mismatches) {
  Bytes f = small_package();
  Bytes h = f;
  h[H_FILE_SIZE + 7] ^= 0x01;
  expect_refused(h, "'model.pkg': checksum mismatch in the header");
  Bytes t = f;
  t[entry_at(1) + E_UNCOMPRESSED] ^= 0x10;
  expect_refused(t, "'model.pkg': checksum mismatch in the section table");
  Bytes c = f;
  c[get(f, entry_at(1) + E_OFFSET, 8) + 20] ^= 0x40;  // inside CODE's stored bytes
  expect_refused(c, "'model.pkg': checksum mismatch in section 'CODE'");
  // The same damage with its CRC-32 recomputed is still caught, by zstd's content checksum.
  reseal(c);
  Outcome o = try_package(c);
  BOOST_CHECK_EQUAL(o.kind, Outcome::RefusedAtRead);
  BOOST_CHECK_EQUAL(o.message, "'model.pkg': checksum mismatch in section 'CODE' (zstd content checksum)");
}

BOOST_AUTO_TEST_CASE(lying_headers) {
  const Bytes f = small_package();
  const std::string n = std::to_string(f.size());
  auto edit = [&](auto&& change) {
    Bytes g = f;
    change(g);
    reseal(g);
    return g;
  };
  size_t wght = entry_at(2), code = entry_at(1);
  uint64_t wght_off = get(f, wght + E_OFFSET, 8), wght_size = get(f, wght + E_COMPRESSED, 8);

  // Extents.
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_OFFSET, f.size() - 4, 8); }),
                 "'model.pkg': truncated (section 'WGHT' #2 ends at byte " + std::to_string(f.size() - 4 + wght_size) +
                     ", file has " + n + ")");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_OFFSET, ~uint64_t(0), 8); }),
                 "'model.pkg': section 'WGHT' #2 has an impossible extent (offset 18446744073709551615, size " +
                     std::to_string(wght_size) + ")");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_COMPRESSED, f.size(), 8); }),
                 "'model.pkg': truncated (section 'WGHT' #2 ends at byte " + std::to_string(wght_off + f.size()) +
                     ", file has " + n + ")");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_OFFSET, get(f, code + E_OFFSET, 8), 8); }),
                 "'model.pkg': section 'CODE' overlaps section 'WGHT' #2 (at byte " +
                     std::to_string(get(f, code + E_OFFSET, 8)) + ")");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_OFFSET, 16, 8); }),
                 "'model.pkg': section 'WGHT' #2 overlaps the header (at byte 16)");
  Bytes empty_table_inside_header = write_package({});  // a table that holds the header's CRC could not be sealed
  put(empty_table_inside_header, H_TABLE_OFFSET, 8, 8);
  reseal(empty_table_inside_header);
  expect_refused(empty_table_inside_header, "'model.pkg': the section table overlaps the header (at byte 8)");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_COMPRESSED, wght_size - 1, 8); }),
                 "'model.pkg': bytes " + std::to_string(wght_off + wght_size - 1) + " to " +
                     std::to_string(wght_off + wght_size - 1) + " belong to no section");

  // Counts and the table.
  expect_refused(edit([&](Bytes& g) { put(g, H_COUNT, 0xFFFFFFFF, 4); }),
                 "'model.pkg': truncated (the section table of 4294967295 entries at byte 48 does not fit in the file's " + n +
                     " bytes)");
  expect_refused(edit([&](Bytes& g) { put(g, H_TABLE_OFFSET, ~uint64_t(0), 8); }),
                 "'model.pkg': truncated (the section table of 5 entries at byte 18446744073709551615 does not fit in the "
                 "file's " + n + " bytes)");
  expect_refused(edit([&](Bytes& g) { put(g, H_COUNT, 4, 4); }),  // the last section's frame is left over
                 "'model.pkg': bytes 208 to 247 belong to no section");
  expect_refused(edit([&](Bytes& g) { put(g, H_RESERVED, 1, 4); }), "'model.pkg': reserved header field is not zero");

  // Uncompressed sizes: bounded before anything is allocated.
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_UNCOMPRESSED, ~uint64_t(0), 8); }),
                 "'model.pkg': section 'WGHT' #2 claims 18446744073709551615 bytes uncompressed, over this runtime's limit "
                 "of 64 GiB per section");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_UNCOMPRESSED, uint64_t(40) << 30, 8); }),
                 "'model.pkg': section 'WGHT' #2 claims 42949672960 bytes uncompressed from " + std::to_string(wght_size) +
                     " compressed, more than zstd can expand");
  expect_refused(edit([&](Bytes& g) { put(g, wght + E_UNCOMPRESSED, 385, 8); }),
                 "'model.pkg': section 'WGHT' #2: zstd frame holds 384 bytes, the section table says 385");

  // Alignments and kinds.
  for (uint32_t a : {0u, 3u, 96u, 8192u, 0x80000000u})
    expect_refused(edit([&](Bytes& g) { put(g, wght + E_ALIGN, a, 4); }),
                   "'model.pkg': section 'WGHT' #2 has alignment " + std::to_string(a) +
                       " (must be a power of two from 1 to 4096)");
  expect_refused(edit([&](Bytes& g) { g[code + E_KIND + 2] = 0; }),
                 "'model.pkg': section #1 has an invalid kind 'CO\\x00E' (four printable ASCII characters)");
}

BOOST_AUTO_TEST_CASE(frames_the_writer_never_makes) {
  Bytes data = text_bytes("a section of text, long enough to compress a little: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  expect_refused(assemble({{"CODE", zstd_frame(data, false), data.size()}}),
                 "'model.pkg': section 'CODE': zstd frame has no content checksum");
  expect_refused(assemble({{"CODE", zstd_frame(data, true, false), data.size()}}),
                 "'model.pkg': section 'CODE': zstd frame does not record its size");
  Bytes two = zstd_frame(data);
  Bytes second = zstd_frame(data);
  two.insert(two.end(), second.begin(), second.end());
  expect_refused(assemble({{"CODE", two, data.size()}}),
                 "'model.pkg': section 'CODE': " + std::to_string(second.size()) + " bytes after its zstd frame");
  // Dictionary_ID_flag = 1 and a one-byte dictionary id, after the window descriptor (RFC 8878).
  Bytes dict = zstd_frame(data);
  dict[4] |= 0x01;
  dict.insert(dict.begin() + ((dict[4] & 0x20) ? 5 : 6), 7);
  expect_refused(assemble({{"CODE", dict, data.size()}}), "'model.pkg': section 'CODE': zstd frame needs a dictionary");
  expect_refused(assemble({{"CODE", data, data.size()}}), "'model.pkg': section 'CODE' is not a zstd frame");
  expect_refused(assemble({{"CODE", {}, 0}}), "'model.pkg': section 'CODE' is not a zstd frame");
  // A frame cut short (its blocks end before the section does not; the section ends first).
  Bytes cut = zstd_frame(random_bytes(300, 3));
  cut.resize(cut.size() - 10);
  Outcome o = try_package(assemble({{"CODE", cut, 300}}));
  BOOST_CHECK_EQUAL(o.kind, Outcome::RefusedAtOpen);
  BOOST_CHECK_EQUAL(o.message.rfind("'model.pkg': section 'CODE': damaged zstd frame (", 0), 0u);
}

// ---------------------------------------------------------------- damaged files, exhaustively

BOOST_AUTO_TEST_CASE(every_truncation_refused) {
  const Bytes f = small_package();
  BOOST_REQUIRE_EQUAL(try_package(f).kind, Outcome::Ok);
  int wrong = 0;
  std::string first;
  for (size_t len = 0; len < f.size(); ++len) {
    Outcome o = try_package(Bytes(f.begin(), f.begin() + ptrdiff_t(len)));
    if (o.kind != Outcome::RefusedAtOpen && wrong++ == 0) first = std::to_string(len) + ": " + o.message;
  }
  BOOST_CHECK_MESSAGE(wrong == 0, wrong << " truncations not refused at open; first: " << first);
}

BOOST_AUTO_TEST_CASE(every_bit_flip_refused) {
  // CRC-32 catches every burst of up to 32 bits, so every damaged byte is caught at open.
  const Bytes f = small_package();
  int wrong = 0;
  std::string first;
  for (size_t i = 0; i < f.size(); ++i)
    for (unsigned m : {0x01u, 0x02u, 0x04u, 0x08u, 0x10u, 0x20u, 0x40u, 0x80u, 0xFFu, 0x5Au}) {
      Bytes g = f;
      g[i] ^= uint8_t(m);
      Outcome o = try_package(g);
      if (o.kind != Outcome::RefusedAtOpen && wrong++ == 0)
        first = "byte " + std::to_string(i) + " ^ " + std::to_string(m) + ": " + o.message;
    }
  BOOST_CHECK_MESSAGE(wrong == 0, wrong << " flips not refused at open; first: " << first);
}

BOOST_AUTO_TEST_CASE(every_bit_flip_behind_recomputed_crcs) {
  // The same flips with the CRC-32s recomputed, as a hostile file would have them: each must
  // still be refused by the structural and zstd checks behind the CRCs, or make a consistent
  // file (another kind tag, say) that reads back whole.
  const Bytes f = small_package();
  const std::vector<Bytes> data = small_data();
  int wrong = 0, refused = 0, consistent = 0;
  std::string first;
  auto in = [](size_t i, size_t field) { return i >= field && i < field + 4; };
  for (size_t i = 0; i < f.size(); ++i) {
    bool crc_field = in(i, H_TABLE_CRC) || in(i, H_CRC);  // recomputed anyway
    for (size_t s = 0; s < 5; ++s) crc_field |= in(i, entry_at(s) + E_CRC);
    if (crc_field) continue;
    for (int bit = 0; bit < 8; ++bit) {
      Bytes g = f;
      g[i] ^= uint8_t(1 << bit);
      reseal(g);
      Outcome o = try_package(g);
      if (o.kind == Outcome::RefusedAtOpen || o.kind == Outcome::RefusedAtRead) {
        ++refused;
      } else if (o.kind == Outcome::Ok) {
        ++consistent;
        // A flip in section data that zstd accepts must not change what it decompresses to.
        if (i >= HEADER + 5 * ENTRY && o.data != data && wrong++ == 0)
          first = "byte " + std::to_string(i) + " bit " + std::to_string(bit) + ": data changed";
      } else if (wrong++ == 0) {
        first = "byte " + std::to_string(i) + " bit " + std::to_string(bit) + ": " + o.message;
      }
    }
  }
  BOOST_CHECK_MESSAGE(wrong == 0, wrong << " wrong outcomes; first: " << first);
  BOOST_TEST_MESSAGE("recomputed-CRC flips: " << refused << " refused, " << consistent << " consistent");
  BOOST_CHECK_GT(refused, 8 * int(f.size()) * 3 / 4);
}

// ---------------------------------------------------------------- files on disk

BOOST_AUTO_TEST_CASE(write_and_open_file) {
  TempDir dir("tvm-pkg-file");
  std::string path = dir.file("model.pkg");
  auto d = small_data();
  SectionIn s[] = {section("MANI", d[0]), section("CODE", d[1])};
  write_package_file(path, s);
  BOOST_CHECK(read_file(path) == write_package(s));
  PackageReader r = PackageReader::open_file(path);
  BOOST_CHECK_EQUAL(r.name(), path);
  BOOST_CHECK(r.read_section(1) == d[1]);
  // Overwriting replaces the file whole, and leaves no temporary file behind.
  SectionIn t[] = {section("CODE", d[4])};
  write_package_file(path, t);
  BOOST_CHECK(read_file(path) == write_package(t));
  BOOST_CHECK(dir.listing() == std::vector<std::string>{"model.pkg"});
  // Damage on disk names the file.
  Bytes bad = read_file(path);
  bad[0] = 'X';
  write_file(path, bad);
  expect_error([&] { PackageReader::open_file(path); }, "'" + path + "': not a tvm package (bad magic)");
}

BOOST_AUTO_TEST_CASE(open_errors) {
  TempDir dir("tvm-pkg-file");
  std::string missing = dir.file("missing.pkg");
  expect_error([&] { PackageReader::open_file(missing); }, "cannot open '" + missing + "': No such file or directory");
  expect_error([&] { PackageReader::open_file(dir.path().string()); },
               "cannot open '" + dir.path().string() + "': Is a directory");
  std::string fifo = dir.file("fifo");
  BOOST_REQUIRE_EQUAL(mkfifo(fifo.c_str(), 0600), 0);
  expect_error([&] { PackageReader::open_file(fifo); }, "cannot open '" + fifo + "': not a regular file");
}

BOOST_AUTO_TEST_CASE(write_into_missing_directory) {
  TempDir dir("tvm-pkg-file");
  std::string path = dir.file("no/such/dir/model.pkg");
  Bytes x = text_bytes("x");
  SectionIn s[] = {section("CODE", x)};
  expect_error([&] { write_package_file(path, s); }, "cannot write '" + path + "': No such file or directory");
  BOOST_CHECK(dir.listing().empty());
  expect_error([&] { write_package_file("", s); }, "cannot write '': No such file or directory");
}

BOOST_AUTO_TEST_CASE(failed_write_keeps_the_old_file) {
  TempDir dir("tvm-pkg-file");
  std::string path = dir.file("model.pkg");
  Bytes old_data = text_bytes("the old package");
  SectionIn old_s[] = {section("CODE", old_data)};
  write_package_file(path, old_s);
  const Bytes old_file = read_file(path);
  Bytes noise = random_bytes(size_t(1) << 20, 9);
  SectionIn new_s[] = {section("WGHT", noise, 64)};

  // The temporary file cannot be created: a read-only directory (root writes there anyway).
  if (geteuid() != 0) {
    fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::remove);
    expect_error([&] { write_package_file(path, new_s); }, "cannot write '" + path + "': Permission denied");
    fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::add);
    BOOST_CHECK(read_file(path) == old_file);
    BOOST_CHECK(dir.listing() == std::vector<std::string>{"model.pkg"});
  } else {
    BOOST_TEST_MESSAGE("running as root: the read-only directory case is skipped");
  }

  // The write itself fails part way (as on a full disk): a file size limit of 64 KiB, which
  // holds for root too. SIGXFSZ is ignored so that write() reports EFBIG instead.
  {
    struct rlimit saved;
    BOOST_REQUIRE_EQUAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct sigaction ignore = {}, saved_action;
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &ignore, &saved_action);
    struct rlimit small = saved;
    small.rlim_cur = 64 << 10;
    BOOST_REQUIRE_EQUAL(setrlimit(RLIMIT_FSIZE, &small), 0);
    std::string message;
    try {
      write_package_file(path, new_s);
    } catch (const PackageError& e) {
      message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    sigaction(SIGXFSZ, &saved_action, nullptr);
    BOOST_CHECK_EQUAL(message, "cannot write '" + path + "': File too large");
    BOOST_CHECK(read_file(path) == old_file);
    BOOST_CHECK(dir.listing() == std::vector<std::string>{"model.pkg"});
  }

  // The rename fails: path is a non-empty directory. It stays, and the temporary file goes.
  std::string taken = dir.file("taken.pkg");
  fs::create_directory(taken);
  write_file(taken + "/inside", old_data);
  BOOST_CHECK_THROW(write_package_file(taken, old_s), PackageError);
  BOOST_CHECK(read_file(taken + "/inside") == old_data);
  BOOST_CHECK(dir.listing() == (std::vector<std::string>{"model.pkg", "taken.pkg"}));
}

BOOST_AUTO_TEST_CASE(killed_write_leaves_old_or_new) {
  // A writer killed at some moment (wherever it lands, the outcome must be one of two).
  TempDir dir("tvm-pkg-file");
  std::string path = dir.file("model.pkg");
  Bytes old_data = text_bytes("the old package");
  SectionIn old_s[] = {section("CODE", old_data)};
  write_package_file(path, old_s);
  const Bytes old_file = read_file(path);
  Bytes big = ramp_floats(size_t(8) << 20);
  SectionIn new_s[] = {section("WGHT", big, 64)};
  const Bytes new_file = write_package(new_s);
  for (int delay_us : {0, 2000, 20000, 100000}) {
    pid_t child = fork();
    BOOST_REQUIRE_GE(child, 0);
    if (child == 0) {
      try {
        write_package_file(path, new_s);
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    usleep(useconds_t(delay_us));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    Bytes now = read_file(path);
    BOOST_CHECK_MESSAGE(now == old_file || now == new_file, "after " << delay_us << " us: a partial package");
    write_package_file(path, old_s);
  }
}

// ---------------------------------------------------------------- misuse

BOOST_AUTO_TEST_CASE(caller_mistakes) {
  Bytes x = text_bytes("x");
  for (uint32_t a : {0u, 3u, 8192u}) {
    SectionIn s[] = {section("CODE", x, a)};
    BOOST_CHECK_THROW(write_package(s), std::invalid_argument);
  }
  SectionIn bad_kind[] = {section("CO\nE", x)};
  BOOST_CHECK_THROW(write_package(bad_kind), std::invalid_argument);
  PackageReader r = PackageReader::from_memory(small_package());
  BOOST_CHECK_THROW(r.kind(5), std::out_of_range);
  BOOST_CHECK_THROW(r.read_section(5), std::out_of_range);
  BOOST_CHECK_THROW(r.uncompressed_size(99), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()
