// Tensor files (vm/tensor_io.cpp) and their inflate and CRC-32 (vm/inflate.cpp): round trips,
// the numpy- and torch-written samples in tests/programs/data (tests/gen_tensor_files.py), the
// bytes numpy itself writes, and damaged files, which must fail with one clean RuntimeError
// (exit code 3) and never crash, hang or allocate what a lying header asks for.
#include <boost/test/unit_test.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "inflate.h"
#include "object.h"
#include "ops.h"
#include "tensor.h"
#include "tensor_io.h"
#include "file_helpers.h"

using namespace tvm;
using tvm::test::Bytes;
using tvm::test::read_file;
using tvm::test::TempDir;
using tvm::test::write_file;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- files

// tests/programs/data, found from this file's path (the tests run from the repository root).
std::string data(const std::string& name) {
  return (fs::path(__FILE__).parent_path().parent_path() / "programs" / "data" / name).string();
}





// ---------------------------------------------------------------- values

Ref load(const std::string& path) { return Ref::steal(load_tensor_file(path)); }

Ref make_tensor(const std::vector<int64_t>& shape, const std::function<float(int64_t)>& f) {
  TensorObj* t = new_tensor(shape);
  for (int64_t i = 0; i < t->numel; ++i) t->data[i] = f(i);
  return Ref::steal(Value::object(t));
}

std::vector<int64_t> shape_of(Value t) {
  auto d = as_tensor(t)->dims();
  return {d.begin(), d.end()};
}

std::vector<float> values_of(Value t) {
  const TensorObj* x = as_tensor(t);
  return {x->data, x->data + x->numel};
}

// Same shape and the same bits (NaN payloads included).
bool same_tensor(Value a, Value b) {
  if (!is_tensor(a) || !is_tensor(b)) return false;
  const TensorObj *x = as_tensor(a), *y = as_tensor(b);
  return shape_of(a) == shape_of(b) && std::memcmp(x->data, y->data, size_t(x->numel) * 4) == 0;
}

std::vector<std::string> keys_of(Value dict) {
  std::vector<std::string> out;
  for (const auto& e : as_obj<DictObj>(dict)->entries) out.emplace_back(str_view(e.key));
  return out;
}

// dict[key], borrowed (Undefined when absent).
Value item(Value dict, std::string_view key) {
  Ref k = Ref::steal(make_str(key));
  return as_obj<DictObj>(dict)->get(k.get());
}

Ref make_tensor_dict(const std::vector<std::pair<std::string, Ref>>& entries) {
  Ref d = Ref::steal(make_dict());
  for (const auto& [name, t] : entries) {
    Ref k = Ref::steal(make_str(name));
    as_obj<DictObj>(d.get())->set(k.get(), t.get());
  }
  return d;
}

// Float32 bit patterns worth preserving: signed zeros, infinities, NaN payloads (quiet and
// signalling), subnormals, extremes.
float interesting(int64_t i) {
  static const uint32_t kBits[] = {0x00000000, 0x80000000, 0x3F800000, 0x7F800000, 0xFF800000, 0x7FC01234,
                                   0x7F800001, 0xFFFFFFFF, 0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0x3DCCCCCD};
  constexpr int64_t n = sizeof kBits / sizeof kBits[0];
  if (i < n) return std::bit_cast<float>(kBits[i]);
  return float(i) * 0.37f - 11.0f;
}

// ---------------------------------------------------------------- errors

struct Failure {
  std::string message;
  int code;
};

template <typename Fn>
std::optional<Failure> failure_of(Fn f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return Failure{e.what(), e.exit_code()};
  }
  return std::nullopt;
}

// Loads path, which must either load or fail as a damaged file does: a RuntimeError with exit
// code 3 and a message "load: 'PATH': ...". Anything else (another exception, a crash under
// the sanitizers) fails the test. Returns whether it loaded.
bool loads_or_rejects(const std::string& path, const std::string& context) {
  try {
    Ref r = load(path);
    return true;
  } catch (const RuntimeError& e) {
    std::string m = e.what();
    if (e.exit_code() != kExitFile || !m.starts_with("load: '" + path + "': "))
      BOOST_ERROR(context << ": wrong failure (exit " << e.exit_code() << "): " << m);
    return false;
  }
}

// The message of the RuntimeError that loading `bytes` (written as NAME) throws, after the
// "load: 'PATH': " prefix; checks the exit code is 3. "" when it loads.
std::string load_error(const TempDir& dir, const std::string& name, const Bytes& bytes) {
  std::string path = dir.file(name);
  write_file(path, bytes);
  auto f = failure_of([&] { load(path); });
  if (!f) return "";
  BOOST_TEST(f->code == kExitFile);
  std::string prefix = "load: '" + path + "': ";
  BOOST_TEST(f->message.starts_with(prefix), f->message);
  return f->message.substr(std::min(prefix.size(), f->message.size()));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define CHECK_LOAD_ERROR(name, bytes, part)                                   \
  do {                                                                        \
    std::string got_ = load_error(dir, name, bytes);                          \
    BOOST_TEST(contains(got_, part), "expected '" << part << "' in '" << got_ << "'"); \
  } while (0)

// Every damage to `good` (the bytes of a valid file) saved as NAME: each truncation must fail;
// each byte flipped, single bits flipped and random bytes overwritten may load or fail, but
// only cleanly.
void corruption_suite(const Bytes& good, const std::string& name) {
  TempDir dir("tvm-tensor-io");
  std::string path = dir.file(name);
  write_file(path, good);
  BOOST_TEST_REQUIRE(loads_or_rejects(path, name + " (intact)"));

  for (size_t n = 0; n < good.size(); ++n) {
    write_file(path, Bytes(good.begin(), good.begin() + std::ptrdiff_t(n)));
    if (loads_or_rejects(path, name + " truncated to " + std::to_string(n)))
      BOOST_ERROR(name << " truncated to " << n << " bytes loaded");
  }

  int loaded = 0, rejected = 0;
  auto damaged = [&](const Bytes& b, const std::string& what) {
    write_file(path, b);
    (loads_or_rejects(path, name + " " + what) ? loaded : rejected)++;
  };
  bool small = good.size() <= 2048;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t x : {uint8_t(0xFF), uint8_t(0x01), uint8_t(0x80)}) {
      if (x != 0xFF && !small && i >= 256 && i + 256 < good.size()) continue;
      Bytes b = good;
      b[i] ^= x;
      damaged(b, "with byte " + std::to_string(i) + " ^ " + std::to_string(x));
    }
  }
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 300; ++trial) {
    Bytes b = good;
    int n = 1 + int(rng() % 4);
    for (int k = 0; k < n; ++k) b[rng() % b.size()] = uint8_t(rng());
    damaged(b, "random trial " + std::to_string(trial));
  }
  BOOST_TEST_MESSAGE(name << ": " << good.size() << " truncations rejected, " << loaded << " damaged copies loaded, "
                          << rejected << " rejected");
  BOOST_TEST(rejected > 0);
}

// ---------------------------------------------------------------- building files

void put16(Bytes& b, size_t at, uint32_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}
void put32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
void put64(Bytes& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
uint32_t get16(const Bytes& b, size_t at) { return b[at] | uint32_t(b[at + 1]) << 8; }
uint32_t get32(const Bytes& b, size_t at) {
  return b[at] | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

// An .npy file with this header text (padded as numpy pads it) and data_size zero bytes.
Bytes npy_with(const std::string& header, size_t data_size, int major = 1) {
  size_t prefix = major == 1 ? 10 : 12;
  std::string h = header;
  while ((prefix + h.size() + 1) % 64) h += ' ';
  h += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) b.push_back(uint8_t(h.size() >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  b.resize(b.size() + data_size);
  return b;
}

std::string npy_dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

// A .safetensors file with this header JSON and data_size bytes of data.
Bytes st_with(const std::string& json, size_t data_size) {
  Bytes b(8);
  put64(b, 0, json.size());
  b.insert(b.end(), json.begin(), json.end());
  b.resize(b.size() + data_size);
  return b;
}

// Offsets in a zip archive without a comment.
struct ZipLayout {
  size_t end;        // the end of central directory record
  size_t cd;         // the central directory
  size_t entries;
};
ZipLayout zip_layout(const Bytes& z) {
  size_t end = z.size() - 22;
  BOOST_TEST_REQUIRE(get32(z, end) == 0x06054b50u);
  return {end, get32(z, end + 16), get16(z, end + 10)};
}
// Offset of central directory entry i.
size_t cd_entry(const Bytes& z, size_t i) {
  size_t at = zip_layout(z).cd;
  for (; i > 0; --i) at += 46 + get16(z, at + 28) + get16(z, at + 30) + get16(z, at + 32);
  return at;
}

// Raw deflate streams written bit by bit.
class BitWriter {
 public:
  void bits(uint32_t v, int n) {  // least significant bit first (header fields, extra bits)
    for (int i = 0; i < n; ++i) bit((v >> i) & 1);
  }
  void code(uint32_t c, int n) {  // most significant bit first (Huffman codes)
    for (int i = n - 1; i >= 0; --i) bit((c >> i) & 1);
  }
  Bytes done() const { return out_; }

 private:
  void bit(uint32_t b) {
    if (n_ % 8 == 0) out_.push_back(0);
    out_.back() |= uint8_t(b << (n_ % 8));
    ++n_;
  }
  Bytes out_;
  size_t n_ = 0;
};

std::string inflate_error(const Bytes& in, size_t max_out = 1 << 20) {
  std::vector<uint8_t> out;
  try {
    inflate(in, out, max_out);
  } catch (const InflateError& e) {
    return e.what();
  }
  return "";
}

// deflate_cases.bin: "TVMDEFL1", u32 count, then per case u32 raw length, u32 raw CRC-32,
// u32 compressed length and the compressed bytes.
struct DeflateCase {
  uint32_t raw_len, raw_crc;
  Bytes packed;
};
std::vector<DeflateCase> deflate_cases() {
  Bytes b = read_file(data("deflate_cases.bin"));
  BOOST_TEST_REQUIRE(std::string(b.begin(), b.begin() + 8) == "TVMDEFL1");
  std::vector<DeflateCase> out;
  size_t at = 12;
  for (uint32_t i = 0, n = get32(b, 8); i < n; ++i) {
    DeflateCase c{get32(b, at), get32(b, at + 4), {}};
    uint32_t len = get32(b, at + 8);
    c.packed.assign(b.begin() + std::ptrdiff_t(at + 12), b.begin() + std::ptrdiff_t(at + 12 + len));
    at += 12 + len;
    out.push_back(std::move(c));
  }
  BOOST_TEST_REQUIRE(at == b.size());
  return out;
}

const std::vector<std::vector<int64_t>> kShapes = {{}, {0}, {5}, {2, 3}, {3, 0, 2}, {1, 2, 3, 4}, {1, 2, 1, 2, 1, 2, 1, 2}, {0, 0}, {7, 1}};

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor_io)

// ---------------------------------------------------------------- CRC-32 and inflate

BOOST_AUTO_TEST_CASE(crc32_values) {
  BOOST_TEST(crc32("", 0) == 0u);
  BOOST_TEST(crc32("123456789", 9) == 0xCBF43926u);
  BOOST_TEST(crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
  // Against the bit-at-a-time definition, at every length and alignment, whole and in pieces.
  std::mt19937 rng(7);
  Bytes buf(300);
  for (auto& x : buf) x = uint8_t(rng());
  auto slow = [](const uint8_t* p, size_t n) {
    uint32_t c = 0xFFFFFFFF;
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
  };
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; start + n <= buf.size(); n += 7) {
      uint32_t want = slow(buf.data() + start, n);
      BOOST_TEST(crc32(buf.data() + start, n) == want);
      size_t half = n / 3;
      BOOST_TEST(crc32(buf.data() + start + half, n - half, crc32(buf.data() + start, half)) == want);
    }
  }
}

BOOST_AUTO_TEST_CASE(inflate_zlib_streams) {
  auto cases = deflate_cases();
  BOOST_TEST(cases.size() >= 10u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const DeflateCase& c = cases[i];
    BOOST_TEST_CONTEXT("case " << i) {
      // Appends after what out holds; copies may not reach back into it.
      std::vector<uint8_t> out = {'x', 'y', 'z'};
      Bytes in = c.packed;
      in.push_back(0xAB);  // bytes after the stream are not looked at
      size_t used = inflate(in, out, c.raw_len);
      BOOST_TEST(used == c.packed.size());
      BOOST_TEST(out.size() == 3 + c.raw_len);
      BOOST_TEST(crc32(out.data() + 3, c.raw_len) == c.raw_crc);
      BOOST_TEST((out[0] == 'x' && out[2] == 'z'));
      if (c.raw_len > 0) {  // one byte short of room: refused, out left as it was
        std::vector<uint8_t> small = {1, 2};
        BOOST_CHECK_THROW(inflate(c.packed, small, c.raw_len - 1), InflateError);
        BOOST_TEST(small.size() == 2u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(inflate_damaged_streams) {
  for (const DeflateCase& c : deflate_cases()) {
    // Every proper prefix ends before the final block does.
    for (size_t n = 0; n < c.packed.size(); ++n) {
      Bytes cut(c.packed.begin(), c.packed.begin() + std::ptrdiff_t(n));
      if (inflate_error(cut, c.raw_len + 1).empty()) BOOST_ERROR("a prefix of " << n << " bytes inflated");
    }
    // Flipped bits: any outcome but a crash, and never more output than allowed.
    for (size_t i = 0; i < c.packed.size(); ++i) {
      for (int bit = 0; bit < 8; bit += 3) {
        Bytes b = c.packed;
        b[i] ^= uint8_t(1 << bit);
        std::vector<uint8_t> out;
        try {
          inflate(b, out, c.raw_len + 100);
          BOOST_TEST(out.size() <= c.raw_len + 100);
        } catch (const InflateError&) {
          BOOST_TEST(out.empty());
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(inflate_hand_made_streams) {
  BOOST_TEST(inflate_error({}) == "stream is truncated");
  {
    BitWriter w;  // final block of the reserved type 3
    w.bits(1, 1);
    w.bits(3, 2);
    BOOST_TEST(inflate_error(w.done()) == "invalid block type");
  }
  {
    BitWriter w;  // stored block whose length and complement disagree
    w.bits(1, 1);
    w.bits(0, 2);
    Bytes b = w.done();
    for (int x : {5, 0, 0, 0}) b.push_back(uint8_t(x));
    BOOST_TEST(inflate_error(b) == "stored block length does not match its complement");
    b = w.done();
    for (int x : {5, 0, 0xFA, 0xFF, int('a'), int('b')}) b.push_back(uint8_t(x));  // 5 bytes promised, 2 there
    BOOST_TEST(inflate_error(b) == "stream is truncated");
    b.insert(b.end(), {'c', 'd', 'e'});
    std::vector<uint8_t> out;
    BOOST_TEST(inflate(b, out, 5) == b.size());
    BOOST_TEST(std::string(out.begin(), out.end()) == "abcde");
  }
  // Fixed Huffman: literal 'a' is 8 bits 0x30 + 'a'; length 3 is code 257 (7 bits 0000001);
  // distance codes are 5 bits; end of block is 256 (7 bits 0000000).
  {
    BitWriter w;  // a copy before anything was written
    w.bits(1, 1);
    w.bits(1, 2);
    w.code(1, 7);  // length 3
    w.code(0, 5);  // distance 1
    w.code(0, 7);
    BOOST_TEST(inflate_error(w.done()) == "distance too far back");
  }
  {
    BitWriter w;  // 'a' then copy 3 at distance 1 -> "aaaa"; then an invalid distance code 30
    w.bits(1, 1);
    w.bits(1, 2);
    w.code(0x30 + 'a', 8);
    w.code(1, 7);
    w.code(0, 5);
    w.code(0, 7);
    std::vector<uint8_t> out;
    inflate(w.done(), out, 100);
    BOOST_TEST(std::string(out.begin(), out.end()) == "aaaa");
    BitWriter v;
    v.bits(1, 1);
    v.bits(1, 2);
    v.code(0x30 + 'a', 8);
    v.code(1, 7);
    v.code(30, 5);
    BOOST_TEST(inflate_error(v.done()) == "invalid distance code");
  }
  {
    BitWriter w;  // literal/length symbol 286 (8 bits 11000000 + 6) does not exist
    w.bits(1, 1);
    w.bits(1, 2);
    w.code(0xC0 + 6, 8);
    BOOST_TEST(inflate_error(w.done()) == "invalid literal/length code");
  }
  {
    BitWriter w;  // dynamic block with 287 literal/length codes (at most 286)
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(30, 5);
    w.bits(0, 5);
    w.bits(0, 4);
    BOOST_TEST(inflate_error(w.done()) == "too many length or distance codes");
  }
  {
    BitWriter w;  // dynamic block whose code-length code is over-subscribed (four 1-bit codes)
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(0, 4);
    for (int i = 0; i < 4; ++i) w.bits(1, 3);
    BOOST_TEST(inflate_error(w.done()) == "invalid code-length code");
  }
}

// ---------------------------------------------------------------- round trips

BOOST_AUTO_TEST_CASE(npy_round_trip) {
  TempDir dir("tvm-tensor-io");
  for (const auto& shape : kShapes) {
    BOOST_TEST_CONTEXT("shape " << shape_str(shape)) {
      Ref t = make_tensor(shape, interesting);
      std::string path = dir.file("t.npy");
      save_tensor_file(path, t.get());
      Ref back = load(path);
      BOOST_TEST(same_tensor(t.get(), back.get()));
      BOOST_TEST(read_file(path).size() % 64 == (size_t(as_tensor(t.get())->numel) * 4) % 64);
    }
  }
  BOOST_TEST(dir.listing() == std::vector<std::string>{"t.npy"});  // no temporary files left
}

BOOST_AUTO_TEST_CASE(npy_written_as_numpy_writes) {
  TempDir dir("tvm-tensor-io");
  struct {
    const char* golden;
    std::vector<int64_t> shape;
    std::function<float(int64_t)> values;
  } cases[] = {
      {"np_save_2x3.npy", {2, 3}, [](int64_t i) { return float(i); }},
      {"np_save_rank0.npy", {}, [](int64_t) { return -1.25f; }},
      {"np_save_empty.npy", {0}, [](int64_t) { return 0.0f; }},
      {"np_save_big_dim.npy", {1234567, 0}, [](int64_t) { return 0.0f; }},
  };
  for (const auto& c : cases) {
    std::string path = dir.file("t.npy");
    save_tensor_file(path, make_tensor(c.shape, c.values).get());
    BOOST_TEST((read_file(path) == read_file(data(c.golden))), c.golden);
  }
}

BOOST_AUTO_TEST_CASE(npz_and_safetensors_round_trip) {
  TempDir dir("tvm-tensor-io");
  std::vector<std::pair<std::string, Ref>> entries;
  for (size_t i = 0; i < kShapes.size(); ++i)
    entries.emplace_back("t" + std::to_string(i), make_tensor(kShapes[i], [i](int64_t k) { return interesting(k + int64_t(i)); }));
  entries.emplace_back("\xc3\xbcnic\xc3\xb6" "de", make_tensor({2}, interesting));
  entries.emplace_back("quote\"back\\slash\nnewline", make_tensor({1}, interesting));
  entries.emplace_back("", make_tensor({3}, interesting));
  entries.emplace_back("a.npy", make_tensor({2, 2}, interesting));  // member a.npy.npy
  entries.emplace_back("dir/name", make_tensor({1, 1}, interesting));
  Ref dict = make_tensor_dict(entries);

  auto check = [&](const std::string& path) {
    Ref back = load(path);
    BOOST_TEST_REQUIRE(is_type(back.get(), ObjType::Dict));
    std::vector<std::string> want;
    for (const auto& e : entries) want.push_back(e.first);
    BOOST_TEST(keys_of(back.get()) == want, path);
    for (const auto& [name, t] : entries) BOOST_TEST(same_tensor(item(back.get(), name), t.get()), name);
  };
  for (const char* name : {"d.npz", "d.safetensors"}) {
    save_tensor_file(dir.file(name), dict.get());
    check(dir.file(name));
  }
  tensor_io_detail::save_npz(dir.file("z64.npz"), dict.get(), true);
  check(dir.file("z64.npz"));
  BOOST_TEST(read_file(dir.file("z64.npz")) != read_file(dir.file("d.npz")));

  // Empty dicts.
  Ref empty = Ref::steal(make_dict());
  for (const char* name : {"e.npz", "e.safetensors"}) {
    save_tensor_file(dir.file(name), empty.get());
    Ref back = load(dir.file(name));
    BOOST_TEST(as_obj<DictObj>(back.get())->size() == 0u);
  }
  BOOST_TEST(read_file(dir.file("e.npz")).size() == 22u);  // just the end record
  tensor_io_detail::save_npz(dir.file("e64.npz"), empty.get(), true);
  BOOST_TEST(as_obj<DictObj>(load(dir.file("e64.npz")).get())->size() == 0u);
}

BOOST_AUTO_TEST_CASE(safetensors_written_as_reference_writes) {
  TempDir dir("tvm-tensor-io");
  Ref dict = make_tensor_dict({{"b", make_tensor({2, 3}, [](int64_t i) { return float(i); })},
                               {"a", make_tensor({}, [](int64_t) { return 1.0f; })}});
  save_tensor_file(dir.file("s.safetensors"), dict.get());
  Bytes b = read_file(dir.file("s.safetensors"));
  std::string json = R"({"b":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                     R"("a":{"dtype":"F32","shape":[],"data_offsets":[24,28]}})";
  json.append((8 - json.size() % 8) % 8, ' ');
  Bytes want = st_with(json, 0);
  for (int i = 0; i < 6; ++i) {
    float f = float(i);
    want.insert(want.end(), reinterpret_cast<uint8_t*>(&f), reinterpret_cast<uint8_t*>(&f) + 4);
  }
  float one = 1.0f;
  want.insert(want.end(), reinterpret_cast<uint8_t*>(&one), reinterpret_cast<uint8_t*>(&one) + 4);
  BOOST_TEST((b == want));
}

// ---------------------------------------------------------------- files from numpy and torch

BOOST_AUTO_TEST_CASE(npy_every_dtype) {
  Ref expected = load(data("dt_expected.npz"));
  std::vector<std::string> stems = keys_of(expected.get());
  BOOST_TEST(stems.size() == 21u);
  for (const std::string& stem : stems) {
    Ref t = load(data(stem + ".npy"));
    BOOST_TEST(same_tensor(t.get(), item(expected.get(), stem)), stem);
  }
  // Spot checks that do not rely on numpy's conversions.
  std::vector<float> f2 = values_of(load(data("dt_f2_be.npy")).get());
  BOOST_TEST(f2[2] == 0x1p-24f);  // the smallest half subnormal
  BOOST_TEST(f2[3] == 65504.0f);
  BOOST_TEST((std::isinf(f2[5]) && f2[5] < 0));
  BOOST_TEST(std::isnan(f2[6]));
  BOOST_TEST(std::signbit(f2[1]));
  std::vector<float> f8 = values_of(load(data("dt_f8.npy")).get());
  BOOST_TEST(f8[0] == 0.1f);
  BOOST_TEST(std::isinf(f8[2]));
  BOOST_TEST(f8[5] == 1.0f);                 // 1 + 2^-24 rounds to even
  BOOST_TEST(f8[6] == 1.0f + 0x1p-22f);      // 1 + 3 * 2^-24 rounds up
  std::vector<float> u8 = values_of(load(data("dt_u8_be.npy")).get());
  BOOST_TEST(u8[1] == 18446744073709551616.0f);
  BOOST_TEST(u8[3] == 16777216.0f);
  std::vector<float> i1 = values_of(load(data("dt_i1.npy")).get());
  BOOST_TEST(i1[0] == -128.0f);
  BOOST_TEST((values_of(load(data("dt_b1.npy")).get()) == std::vector<float>{1, 0, 1, 1, 0, 0, 1, 0}));
  BOOST_TEST((shape_of(load(data("dt_i4_be.npy")).get()) == std::vector<int64_t>{2, 4}));
}

BOOST_AUTO_TEST_CASE(npy_versions_orders_and_ranks) {
  auto iota = [](int64_t n) {
    std::vector<float> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(float(i));
    return v;
  };
  for (const char* name : {"v2.npy", "v3.npy"}) {
    Ref t = load(data(name));
    BOOST_TEST((shape_of(t.get()) == std::vector<int64_t>{3, 2}));
    BOOST_TEST(values_of(t.get()) == iota(6));
  }
  Ref f4 = load(data("fortran_f4.npy"));
  BOOST_TEST((shape_of(f4.get()) == std::vector<int64_t>{3, 4}));
  BOOST_TEST(values_of(f4.get()) == iota(12));
  Ref f8 = load(data("fortran_f8_be.npy"));
  BOOST_TEST((shape_of(f8.get()) == std::vector<int64_t>{2, 3, 4}));
  BOOST_TEST(values_of(f8.get()) == iota(24));
  Ref r0 = load(data("rank0.npy"));
  BOOST_TEST(shape_of(r0.get()).empty());
  BOOST_TEST(values_of(r0.get()) == std::vector<float>{3.5f});
  Ref e = load(data("empty.npy"));
  BOOST_TEST((shape_of(e.get()) == std::vector<int64_t>{0, 3}));
  Ref r8 = load(data("rank8.npy"));
  BOOST_TEST((shape_of(r8.get()) == std::vector<int64_t>{1, 2, 1, 2, 1, 2, 1, 2}));
  BOOST_TEST(values_of(r8.get()) == iota(16));
}

BOOST_AUTO_TEST_CASE(npy_header_syntax) {
  TempDir dir("tvm-tensor-io");
  // Accepted: what numpy's literal_eval would accept for these keys.
  const std::pair<std::string, std::vector<int64_t>> good[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", {2, 3}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", {2, 3}},
      {"{\"shape\": (2,3,), \"fortran_order\": False, \"descr\": \"<f4\"}", {2, 3}},
      {"  {'shape':(6,),'descr':'=f4','fortran_order':False}  ", {6}},
      {"{\n 'descr' : '|f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 3 , 2 ) ,\n}", {3, 2}},
      {"{'descr': 'f4', 'fortran_order': True, 'shape': (6,), }", {6}},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", {3, 2}},
  };
  for (const auto& [header, shape] : good) {
    std::string err = load_error(dir, "h.npy", npy_with(header, 24));
    BOOST_TEST(err.empty(), header << ": " << err);
    if (err.empty()) BOOST_TEST(shape_of(load(dir.file("h.npy")).get()) == shape);
  }
  BOOST_TEST(load_error(dir, "h.npy", npy_with(npy_dict("?", "(3,)"), 3)).empty());  // '?' is bool

  const std::pair<std::string, std::string> bad[] = {
      {"", "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6) }", "shape is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [6] }", "expected '('"},
      {"{'descr': '<f4', 'fortran_order': False }", "no 'shape' key"},
      {"{'descr': '<f4', 'shape': (6,) }", "no 'fortran_order' key"},
      {"{'fortran_order': False, 'shape': (6,) }", "no 'descr' key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x", "unexpected text after the dict"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", "expected '}'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (6,)}", "expected ':'"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", "fortran_order is not True or False"},
      {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (6,)}", "fortran_order is not True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (06,)}", "bad integer in shape"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "shape is not a tuple of ints"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6.0,)}", "expected ')'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}", "structured dtypes are not supported"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", "expected '}'"},
      {"{'descr': 'a\\'b', 'fortran_order': False, 'shape': (6,)}", "unsupported string literal"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", "unsupported dtype '<c8'"},
      {"{'descr': '<U1', 'fortran_order': False, 'shape': (6,)}", "unsupported dtype '<U1'"},
      {"{'descr': '<f4 ', 'fortran_order': False, 'shape': (6,)}", "unsupported dtype '<f4 '"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "negative dimension -3 in shape (2, -3)"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}", "array has 9 dimensions; tensors have at most 8"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}", "dimension is too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999999,)}", "dimension is too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", "shape (4611686018427387904, 4) has too many elements"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}", "has too many elements"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000)}",
       "truncated data: shape (1000000, 1000000) of '<f4' needs 4000000000000 bytes of data, 24 present"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}", "4 unexpected bytes after the data"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(200, '1') + ",)}", "dimension is too large"},
  };
  for (const auto& [header, part] : bad) CHECK_LOAD_ERROR("h.npy", npy_with(header, 24), part);
  std::string deep = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < 100; ++i) deep += "1, ";
  CHECK_LOAD_ERROR("h.npy", npy_with(deep + ")}", 4), "shape has too many dimensions");

  // The prefix: magic, version, header length.
  Bytes ok = npy_with(npy_dict("<f4", "(6,)"), 24);
  Bytes b = ok;
  b[1] = 'n';
  CHECK_LOAD_ERROR("h.npy", b, "not a .npy file (bad magic string)");
  CHECK_LOAD_ERROR("h.npy", Bytes(ok.begin(), ok.begin() + 3), "not a .npy file (bad magic string)");
  CHECK_LOAD_ERROR("h.npy", Bytes(ok.begin(), ok.begin() + 9), "truncated header");
  b = ok;
  b[6] = 4;
  CHECK_LOAD_ERROR("h.npy", b, "unsupported .npy version 4.0");
  b = ok;
  b[7] = 1;
  CHECK_LOAD_ERROR("h.npy", b, "unsupported .npy version 1.1");
  b = ok;
  put16(b, 8, 0xFFFF);
  CHECK_LOAD_ERROR("h.npy", b, "truncated header (65535 bytes promised, " + std::to_string(b.size() - 10) + " present)");
  Bytes v2 = npy_with(npy_dict("<f4", "(6,)"), 24, 2);
  BOOST_TEST(load_error(dir, "h.npy", v2).empty());
  put32(v2, 8, 0xFFFFFFFF);
  CHECK_LOAD_ERROR("h.npy", v2, "truncated header (4294967295 bytes promised");
  CHECK_LOAD_ERROR("h.npy", npy_with(npy_dict("<f4", "(2, 3)"), 20), "truncated data: shape (2, 3) of '<f4' needs 24 bytes of data, 20 present");
  CHECK_LOAD_ERROR("h.npy", npy_with(npy_dict(">i8", "(2, 3)"), 47), "needs 48 bytes of data, 47 present");
  CHECK_LOAD_ERROR("h.npy", npy_with(npy_dict("<f2", "(3, 5)", "True"), 29), "needs 30 bytes");
}

BOOST_AUTO_TEST_CASE(npz_from_numpy) {
  Ref plain = load(data("savez.npz"));
  Ref packed = load(data("savez_compressed.npz"));
  std::vector<std::string> names = {"a", "b", "c", "d", "e", "zeros", "random", "wave", "period"};
  BOOST_TEST(keys_of(plain.get()) == names);
  BOOST_TEST(keys_of(packed.get()) == names);
  for (const std::string& n : names) BOOST_TEST(same_tensor(item(plain.get(), n), item(packed.get(), n)), n);
  BOOST_TEST((values_of(item(plain.get(), "a")) == std::vector<float>{0, 1, 2, 3, 4, 5}));
  BOOST_TEST((shape_of(item(plain.get(), "a")) == std::vector<int64_t>{2, 3}));
  BOOST_TEST((values_of(item(plain.get(), "b")) == std::vector<float>{2.5f}));
  BOOST_TEST((shape_of(item(plain.get(), "c")) == std::vector<int64_t>{0, 2}));
  BOOST_TEST((values_of(item(plain.get(), "d")) == std::vector<float>{-2, -1, 0, 1, 2}));
  BOOST_TEST((values_of(item(plain.get(), "e")) == std::vector<float>{1, 1, 1}));
  BOOST_TEST(values_of(item(plain.get(), "zeros")) == std::vector<float>(400, 0.0f));

  Ref z64 = load(data("zip64.npz"));
  BOOST_TEST((keys_of(z64.get()) == std::vector<std::string>{"a", "d", "c"}));
  for (const char* n : {"a", "d", "c"}) BOOST_TEST(same_tensor(item(z64.get(), n), item(plain.get(), n)), n);
}

BOOST_AUTO_TEST_CASE(safetensors_every_dtype) {
  Ref st = load(data("sample.safetensors"));
  Ref expected = load(data("sample_expected.npz"));
  std::vector<std::string> names = {"f32", "f64", "f16", "bf16", "i8", "u8", "i16", "u16", "w\xc3\xa9ight",
                                    "u32", "i64", "empty", "u64", "quote\"d", "scalar"};
  BOOST_TEST(keys_of(st.get()) == names);  // data order, not the header's order
  BOOST_TEST(keys_of(expected.get()) == names);
  for (const std::string& n : names) BOOST_TEST(same_tensor(item(st.get(), n), item(expected.get(), n)), n);
  BOOST_TEST(values_of(item(st.get(), "bf16"))[1] == -2.5f);
  BOOST_TEST(shape_of(item(st.get(), "scalar")).empty());
}

// ---------------------------------------------------------------- lying headers

BOOST_AUTO_TEST_CASE(safetensors_lying_headers) {
  TempDir dir("tvm-tensor-io");
  auto one = [](const std::string& info) { return "{\"w\":{" + info + "}}"; };
  BOOST_TEST(load_error(dir, "s.safetensors", st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), 8)).empty());

  const std::pair<Bytes, std::string> bad[] = {
      {Bytes{1, 2, 3}, "truncated header size (the file has 3 bytes)"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), 4), "truncated data: the tensors need 8 bytes, 4 present"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), 9), "1 unexpected bytes after the last tensor"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])"), 8), "data_offsets that end before they begin"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,12])"), 12), "shape (2,) of F32 needs 8 bytes, its data_offsets give 12"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[4,12])"), 12), "starts at data offset 4, expected 0"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615])"), 8), "a data offset is too large"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999])"), 8), "a data offset is too large"},
      {st_with(one(R"("dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8])"), 8), "has too many elements"},
      {st_with(one(R"("dtype":"F32","shape":[4611686018427387904,2],"data_offsets":[0,8])"), 8), "has too many elements"},
      {st_with(one(R"("dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8])"), 8), "a dimension is too large"},
      {st_with(one(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), 8), "a dimension is not a non-negative integer"},
      {st_with(one(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), 8), "a dimension is not a non-negative integer"},
      {st_with(one(R"("dtype":"F32","shape":[1e1],"data_offsets":[0,8])"), 8), "a dimension is not a non-negative integer"},
      {st_with(one(R"("dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4])"), 4), "has 9 dimensions; tensors have at most 8"},
      {st_with(one(R"("dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2])"), 2), "unsupported dtype 'F8_E4M3'"},
      {st_with(one(R"("dtype":"F32","shape":[2])"), 8), "lacks dtype, shape or data_offsets"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1)"), 8), "has unexpected key 'x'"},
      {st_with(one(R"("dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8])"), 8), "duplicate key 'dtype'"},
      {st_with(one(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"), 8), "shape is not an array"},
      {st_with(one(R"("dtype":"F32","shape":[2],"data_offsets":[0])"), 8), "data_offsets is not a pair"},
      {st_with(one(R"("dtype":32,"shape":[2],"data_offsets":[0,8])"), 8), "dtype is not a string"},
      {st_with(R"({"w":[1]})", 0), "tensor 'w' is not described by an object"},
      {st_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "duplicate tensor name 'a'"},
      {st_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12),
       "tensor 'b' starts at data offset 8, expected 4"},
      {st_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "tensor 'b' starts at data offset 4, expected 8"},
      {st_with(R"({"__metadata__":{"a":1}})", 0), "__metadata__ values must be strings"},
      {st_with(R"({"__metadata__":[]})", 0), "__metadata__ is not an object"},
      {st_with("[]", 0), "header is not a JSON object"},
      {st_with("{", 0), "bad header JSON at byte 1: expected a string key"},
      {st_with("{}x", 0), "unexpected text after the header object"},
      {st_with("{} {}", 0), "unexpected text after the header object"},
      {st_with(R"({"a\q":1})", 0), "bad escape in a string"},
      {st_with(R"({"\ud800":1})", 0), "lone surrogate"},
      {st_with(R"({"\udc00x":1})", 0), "lone surrogate"},
      {st_with("{\"a\tb\":1}", 0), "control character in a string"},
      {st_with("{\"\xff\":1}", 0), "header is not valid UTF-8"},
      {st_with("{\"a\":01}", 0), "expected ',' or '}'"},
      {st_with("{\"a\":-}", 0), "bad number"},
      {st_with("{\"a\":tru}", 0), "unexpected character"},
      {st_with("{\"a\":[1,]}", 0), "unexpected character"},
      {st_with("{\"__metadata__\":{\"x\":" + std::string(1000, '[') + std::string(1000, ']') + "}}", 0), "nested too deeply"},
  };
  for (const auto& [bytes, part] : bad) CHECK_LOAD_ERROR("s.safetensors", bytes, part);

  // Header sizes that lie.
  Bytes b = st_with("{}", 0);
  put64(b, 0, UINT64_MAX);
  CHECK_LOAD_ERROR("s.safetensors", b, "header size 18446744073709551615 is larger than the file");
  put64(b, 0, 3);
  CHECK_LOAD_ERROR("s.safetensors", b, "header size 3 is larger than the file");
  put64(b, 0, 1);
  CHECK_LOAD_ERROR("s.safetensors", b, "bad header JSON");
  // Metadata and escapes that are fine; zero-size tensors sharing an offset keep header order.
  std::string fine = R"({"__metadata__":{"k":"v\u00e9\n"},"z2":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},)"
                     R"("z1":{"dtype":"U8","shape":[3,0],"data_offsets":[0,0]},"\ud83d\ude00":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}   )";
  BOOST_TEST(load_error(dir, "s.safetensors", st_with(fine, 1)).empty());
  BOOST_TEST((keys_of(load(dir.file("s.safetensors")).get()) == std::vector<std::string>{"z2", "z1", "\xf0\x9f\x98\x80"}));
}

BOOST_AUTO_TEST_CASE(npz_lying_headers) {
  TempDir dir("tvm-tensor-io");
  Ref dict = make_tensor_dict({{"a", make_tensor({2, 3}, interesting)}, {"b", make_tensor({4}, interesting)}});
  save_tensor_file(dir.file("good.npz"), dict.get());
  const Bytes good = read_file(dir.file("good.npz"));
  ZipLayout z = zip_layout(good);
  BOOST_TEST(z.entries == 2u);
  size_t e0 = cd_entry(good, 0), e1 = cd_entry(good, 1);
  BOOST_TEST(get32(good, e0) == 0x02014b50u);

  auto patched = [&](const std::function<void(Bytes&)>& f) {
    Bytes b = good;
    f(b);
    return b;
  };
  CHECK_LOAD_ERROR("z.npz", Bytes(good.begin(), good.begin() + 21), "not a zip archive (too short)");
  CHECK_LOAD_ERROR("z.npz", Bytes(good.begin(), good.end() - 1), "not a zip archive (no end of central directory record)");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, z.end + 20, 5); }), "no end of central directory record");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, z.end + 8, 0xFFFF); put16(b, z.end + 10, 0xFFFF); }),
                   "central directory is too small for its entry count");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, z.end + 4, 1); }), "multi-disk zip archives are not supported");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, z.end + 16, 0xFFFFFFF0); }), "central directory is not where the end record says");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, z.end + 12, 0xFFFFFFF0); }), "central directory is not where the end record says");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, z.end + 8, 1); put16(b, z.end + 10, 1); }),
                   "central directory has unexpected bytes after its entries");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { b[e1] = 'X'; }), "bad central directory entry");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, e1 + 28, 0xFFFF); }), "bad central directory entry");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, e0 + 8, 1); }), "member 'a.npy': encrypted members are not supported");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put16(b, e0 + 10, 12); }), "member 'a.npy': unsupported compression method 12");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e0 + 16, get32(b, e0 + 16) ^ 1); }), "member 'a.npy': CRC-32 mismatch");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e0 + 24, 0xFFFFFFF0); }), "member 'a.npy': stored member's sizes disagree");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e0 + 20, 0xFFFFFFF0); put32(b, e0 + 24, 0xFFFFFFF0); }),
                   "member 'a.npy': member data is outside the archive");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e1 + 42, 0xFFFFFFF0); }), "member 'b.npy': local header is outside the archive");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e1 + 42, 0); }), "member 'b.npy': names in the local header and the central directory differ");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e1 + 42, 1); }), "member 'b.npy': bad local header");
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { b[e1 + 46] = 'a'; b[get32(b, e1 + 42) + 30] = 'a'; }), "member 'a.npy': duplicate member");
  // A member whose stored size covers less than its .npy.
  CHECK_LOAD_ERROR("z.npz", patched([&](Bytes& b) { put32(b, e0 + 20, get32(b, e0 + 20) - 4); put32(b, e0 + 24, get32(b, e0 + 24) - 4); }),
                   "member 'a.npy': truncated data");

  // Deflated members (numpy.savez_compressed): the sizes must agree with what inflates.
  const Bytes packed = read_file(data("savez_compressed.npz"));
  size_t p0 = cd_entry(packed, 0);
  BOOST_TEST(get16(packed, p0 + 10) == 8u);
  auto patched_packed = [&](const std::function<void(Bytes&)>& f) {
    Bytes b = packed;
    f(b);
    return b;
  };
  uint32_t usize = get32(packed, p0 + 24);
  CHECK_LOAD_ERROR("z.npz", patched_packed([&](Bytes& b) { put32(b, p0 + 24, usize + 1); }),
                   "member 'a.npy': decompressed to " + std::to_string(usize) + " bytes, the directory says " + std::to_string(usize + 1));
  CHECK_LOAD_ERROR("z.npz", patched_packed([&](Bytes& b) { put32(b, p0 + 24, usize - 1); }), "member 'a.npy': bad deflate data: output is larger than expected");
  CHECK_LOAD_ERROR("z.npz", patched_packed([&](Bytes& b) { put32(b, p0 + 24, 0xFFFFFFF0); }), "uncompressed size is impossible for its compressed size");
  CHECK_LOAD_ERROR("z.npz", patched_packed([&](Bytes& b) { put32(b, p0 + 20, get32(b, p0 + 20) - 3); }), "member 'a.npy': bad deflate data: stream is truncated");
  CHECK_LOAD_ERROR("z.npz", patched_packed([&](Bytes& b) { put32(b, p0 + 16, get32(b, p0 + 16) ^ 0x100); }), "member 'a.npy': CRC-32 mismatch");

  // ZIP64 records (written by save even where not needed).
  tensor_io_detail::save_npz(dir.file("good64.npz"), dict.get(), true);
  const Bytes good64 = read_file(dir.file("good64.npz"));
  size_t end = good64.size() - 22, locator = end - 20, z64 = locator - 56;
  BOOST_TEST(get32(good64, locator) == 0x07064b50u);
  BOOST_TEST(get32(good64, z64) == 0x06064b50u);
  auto patched64 = [&](const std::function<void(Bytes&)>& f) {
    Bytes b = good64;
    f(b);
    return b;
  };
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, locator + 8, UINT64_MAX); }), "bad ZIP64 end of central directory locator");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, locator + 8, z64 + 1); }), "bad ZIP64 end of central directory locator");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, locator + 8, z64 - 1); }), "bad ZIP64 end of central directory record");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put32(b, locator + 16, 2); }), "multi-disk zip archives are not supported");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, z64 + 32, UINT64_MAX); put64(b, z64 + 24, UINT64_MAX); }),
                   "central directory is too small for its entry count");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, z64 + 48, UINT64_MAX); }), "central directory is not where the end record says");
  BOOST_TEST(get32(good64, end + 16) == 0xFFFFFFFFu);
  size_t c0 = get32(good64, z64 + 48);  // the 64-bit directory offset (small here)
  BOOST_TEST(get32(good64, c0) == 0x02014b50u);
  BOOST_TEST(get16(good64, c0 + 30) == 28u);  // the ZIP64 extra field: sizes and offset
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put16(b, c0 + 46 + 5 + 2, 8); }), "bad ZIP64 extra field");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put16(b, c0 + 46 + 5 + 2, 100); }), "bad extra field in the central directory");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, c0 + 46 + 5 + 4, UINT64_MAX); }), "member 'a.npy': stored member's sizes disagree");
  CHECK_LOAD_ERROR("z.npz", patched64([&](Bytes& b) { put64(b, c0 + 46 + 5 + 4 + 16, UINT64_MAX - 5); }), "member 'a.npy': local header is outside the archive");
}

// ---------------------------------------------------------------- damaged files

BOOST_AUTO_TEST_CASE(damaged_npy) {
  for (const char* name : {"dt_f4.npy", "fortran_f8_be.npy", "v3.npy", "dt_f2_be.npy", "rank0.npy"})
    corruption_suite(read_file(data(name)), "x.npy");
}

BOOST_AUTO_TEST_CASE(damaged_npz) {
  for (const char* name : {"savez.npz", "savez_compressed.npz", "zip64.npz", "sample_expected.npz"})
    corruption_suite(read_file(data(name)), "x.npz");
  TempDir dir("tvm-tensor-io");
  Ref dict = make_tensor_dict({{"a", make_tensor({2, 3}, interesting)}, {"b", make_tensor({}, interesting)}});
  tensor_io_detail::save_npz(dir.file("z64.npz"), dict.get(), true);
  corruption_suite(read_file(dir.file("z64.npz")), "x.npz");
}

BOOST_AUTO_TEST_CASE(damaged_safetensors) {
  corruption_suite(read_file(data("sample.safetensors")), "x.safetensors");
  TempDir dir("tvm-tensor-io");
  Ref dict = make_tensor_dict({{"a", make_tensor({2, 3}, interesting)}, {"b", make_tensor({}, interesting)}});
  save_tensor_file(dir.file("s.safetensors"), dict.get());
  corruption_suite(read_file(dir.file("s.safetensors")), "x.safetensors");
}

// ---------------------------------------------------------------- errors

BOOST_AUTO_TEST_CASE(load_errors) {
  TempDir dir("tvm-tensor-io");
  auto f = failure_of([&] { load("weights.txt"); });
  BOOST_TEST_REQUIRE(f.has_value());
  BOOST_TEST(f->message == "load: 'weights.txt': unknown file type (expected .npy, .npz or .safetensors)");
  BOOST_TEST(f->code == kExitProgramFailed);

  std::string missing = dir.file("missing.npz");
  f = failure_of([&] { load(missing); });
  BOOST_TEST_REQUIRE(f.has_value());
  BOOST_TEST(f->message == "load: cannot open '" + missing + "': No such file or directory");
  BOOST_TEST(f->code == kExitFile);

  fs::create_directory(dir.file("d.npy"));
  f = failure_of([&] { load(dir.file("d.npy")); });
  BOOST_TEST_REQUIRE(f.has_value());
  BOOST_TEST(f->message == "load: cannot open '" + dir.file("d.npy") + "': Is a directory");
  BOOST_TEST(f->code == kExitFile);

  for (const char* name : {"e.npy", "e.npz", "e.safetensors"}) {
    write_file(dir.file(name), {});
    BOOST_TEST(!load_error(dir, name, {}).empty());
  }
  BOOST_TEST(load_error(dir, "e.npy", {}) == "not a .npy file (bad magic string)");
  BOOST_TEST(load_error(dir, "e.npz", {}) == "not a zip archive (too short)");
  BOOST_TEST(load_error(dir, "e.safetensors", {}) == "truncated header size (the file has 0 bytes)");
}

BOOST_AUTO_TEST_CASE(save_errors) {
  TempDir dir("tvm-tensor-io");
  Ref t = make_tensor({2}, interesting);
  Ref list = Ref::steal(make_list({}));
  auto check = [](std::optional<Failure> f, const std::string& message, int code) {
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST(f->message == message);
    BOOST_TEST(f->code == code);
  };
  std::string p = dir.file("x.npy");
  check(failure_of([&] { save_tensor_file(p, list.get()); }), "save: expected a tensor for .npy, got 'list'", 1);
  check(failure_of([&] { save_tensor_file(dir.file("x.npz"), t.get()); }),
        std::string("save: .npz needs a dict of str to tensor, got '") + type_name(t.get()) + "'", 1);
  Ref bad_key = Ref::steal(make_dict());
  Ref one = Ref::steal(Value::integer(1));
  as_obj<DictObj>(bad_key.get())->set(one.get(), t.get());
  check(failure_of([&] { save_tensor_file(dir.file("x.safetensors"), bad_key.get()); }),
        "save: .safetensors needs a dict of str to tensor, got a key of type 'int'", 1);
  Ref bad_value = make_tensor_dict({{"w", list}});
  check(failure_of([&] { save_tensor_file(dir.file("x.npz"), bad_value.get()); }),
        "save: .npz needs a dict of str to tensor, got 'list' for key 'w'", 1);
  Ref meta = make_tensor_dict({{"__metadata__", t}});
  check(failure_of([&] { save_tensor_file(dir.file("x.safetensors"), meta.get()); }),
        "save: '__metadata__' cannot name a tensor in .safetensors", 1);
  check(failure_of([&] { save_tensor_file(dir.file("x.pt"), t.get()); }),
        "save: '" + dir.file("x.pt") + "': unknown file type (expected .npy, .npz or .safetensors)", 1);
  std::string nodir = dir.file("no/such/dir/x.npy");
  check(failure_of([&] { save_tensor_file(nodir, t.get()); }), "save: cannot write '" + nodir + "': No such file or directory", 3);
  // The destination is a directory: the rename fails, and nothing is left behind.
  fs::create_directory(dir.file("taken.npy"));
  check(failure_of([&] { save_tensor_file(dir.file("taken.npy"), t.get()); }),
        "save: cannot write '" + dir.file("taken.npy") + "': Is a directory", 3);
  BOOST_TEST(dir.listing() == std::vector<std::string>{"taken.npy"});

  // Saving over an existing file replaces it whole.
  write_file(dir.file("old.npy"), Bytes(5000, 7));
  save_tensor_file(dir.file("old.npy"), t.get());
  BOOST_TEST(same_tensor(load(dir.file("old.npy")).get(), t.get()));
  BOOST_TEST((dir.listing() == std::vector<std::string>{"old.npy", "taken.npy"}));
  // A relative path with no directory part.
  fs::path cwd = fs::current_path();
  fs::current_path(dir.file(""));
  save_tensor_file("rel.npy", t.get());
  BOOST_TEST(same_tensor(load("rel.npy").get(), t.get()));
  fs::current_path(cwd);
}

BOOST_AUTO_TEST_CASE(golden_program_files) {
  // The damaged files the golden programs in tests/programs load (with cwd tests/programs),
  // and the messages their .err files expect.
  const std::pair<const char*, const char*> cases[] = {
      {"bad_magic.npy", "not a .npy file (bad magic string)"},
      {"truncated.npy", "truncated data: shape (2, 3) of '<f4' needs 24 bytes of data, 20 present"},
      {"bad_header.npy", "bad .npy header: expected ')'"},
      {"bad_dtype.npy", "unsupported dtype '<c8'"},
      {"rank9.npy", "array has 9 dimensions; tensors have at most 8"},
      {"huge_shape.npy", "truncated data: shape (1000000, 1000000) of '<f4' needs 4000000000000 bytes of data, 4 present"},
      {"bad_crc.npz", "member 'w.npy': CRC-32 mismatch"},
      {"bad_deflate.npz", "member 'w.npy': bad deflate data: invalid block type"},
      {"not_zip.npz", "not a zip archive (no end of central directory record)"},
      {"truncated.safetensors", "truncated data: the tensors need 16 bytes, 13 present"},
      {"bad_offsets.safetensors", "truncated data: the tensors need 16 bytes, 0 present"},
  };
  for (const auto& [name, message] : cases) {
    std::string path = data(name);
    auto f = failure_of([&] { load(path); });
    BOOST_TEST_REQUIRE(f.has_value(), name);
    BOOST_TEST(f->code == kExitFile);
    BOOST_TEST(f->message.starts_with("load: '" + path + "': " + message), f->message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
