// CRC-32 and inflate (RFC 1951).
//
// The decoder follows the structure of Mark Adler's puff.c (canonical Huffman codes described
// by per-length counts and a symbol list), with one speed-up: a table indexed by the next
// kFastBits input bits decodes short codes in one lookup; longer codes fall back to puff's
// bit-at-a-time walk. Every input is untrusted, so each code set is checked for being over-
// or under-subscribed, every symbol, length and distance is range-checked, and reading past
// the end of the input is detected rather than done.
#include "inflate.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace tvm {
namespace {

// ---------------------------------------------------------------- CRC-32

// Slicing-by-8: table[0] is the classic byte-at-a-time table; table[k][b] is the CRC of byte b
// followed by k zero bytes, so eight bytes are folded in per step.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k)
    for (int i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}
constexpr CrcTables kCrc = make_crc_tables();

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// ---------------------------------------------------------------- Huffman codes

constexpr int kMaxBits = 15;       // longest code DEFLATE allows
constexpr int kFastBits = 9;       // codes this short decode in one table lookup
constexpr int kMaxSymbols = 288;   // literal/length alphabet (the largest)

// A canonical Huffman code, as DEFLATE transmits it: code lengths per symbol.
struct Huffman {
  uint16_t count[kMaxBits + 1];   // number of codes of each length (count[0]: unused symbols)
  uint16_t symbol[kMaxSymbols];   // symbols in canonical order: by length, then by value
  // The next kFastBits input bits -> (code length << 9) | symbol, for codes of at most
  // kFastBits bits; 0 where the code is longer (or where no code matches).
  uint16_t fast[1 << kFastBits];

  // Builds the code from lengths[0..n). Returns 0 for a complete code, a positive number for
  // an incomplete one (some bit patterns match no symbol) and a negative one for an
  // over-subscribed one (not a prefix code at all).
  int build(const uint8_t* lengths, int n) {
    std::memset(count, 0, sizeof count);
    for (int s = 0; s < n; ++s) ++count[lengths[s]];
    std::memset(fast, 0, sizeof fast);
    if (count[0] == n) return 0;  // no codes: complete, but decoding anything fails

    int left = 1;  // patterns of the current length not yet used
    for (int len = 1; len <= kMaxBits; ++len) {
      left = left * 2 - count[len];
      if (left < 0) return left;
    }

    uint16_t offset[kMaxBits + 2];
    offset[1] = 0;
    for (int len = 1; len <= kMaxBits; ++len) offset[len + 1] = offset[len] + count[len];
    for (int s = 0; s < n; ++s)
      if (lengths[s]) symbol[offset[lengths[s]]++] = uint16_t(s);

    // Codes are assigned in canonical order; the stream sends them most significant bit
    // first while bits are read least significant first, so the table index is the code
    // reversed, with every value of the bits after it.
    unsigned code = 0;
    int index = 0;
    for (int len = 1; len <= kFastBits; ++len, code <<= 1) {
      for (int k = 0; k < count[len]; ++k, ++index, ++code) {
        unsigned reversed = 0;
        for (int b = 0; b < len; ++b) reversed |= ((code >> b) & 1u) << (len - 1 - b);
        for (unsigned i = reversed; i < (1u << kFastBits); i += 1u << len)
          fast[i] = uint16_t(len << 9 | symbol[index]);
      }
    }
    return left;
  }
};

// ---------------------------------------------------------------- the decoder

// Base values and extra bits of length symbols 257..285 and distance symbols 0..29.
constexpr uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                    33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// The order in which a dynamic block sends the code-length code's lengths.
constexpr uint8_t kCodeLengthOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// The fixed codes of block type 1 (RFC 1951 3.2.6), built once.
struct FixedCodes {
  Huffman lit, dist;
  FixedCodes() {
    uint8_t lengths[kMaxSymbols];
    std::fill(lengths, lengths + 144, 8);
    std::fill(lengths + 144, lengths + 256, 9);
    std::fill(lengths + 256, lengths + 280, 7);
    std::fill(lengths + 280, lengths + 288, 8);
    lit.build(lengths, 288);
    std::fill(lengths, lengths + 32, 5);  // symbols 30 and 31 exist but are invalid
    dist.build(lengths, 32);
  }
};

class Inflater {
 public:
  Inflater(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), out_(out),
        start_(out.size()), pos_(out.size()), limit_(max_out) {}

  size_t run() {
    bool last;
    do {
      last = bits(1);
      switch (bits(2)) {
        case 0: stored(); break;
        case 1: {
          static const FixedCodes fixed;
          codes(fixed.lit, fixed.dist);
          break;
        }
        case 2: dynamic(); break;
        default: throw InflateError("invalid block type");
      }
    } while (!last);
    out_.resize(pos_);
    // Input bytes used: those read, less whole bytes of real input still in the bit buffer.
    return size_t(p_ - begin_) - (nbits_ / 8 - pad_);
  }

 private:
  // ---- input: a 64-bit buffer, filled a byte at a time. Past the end of the input it is
  // filled with zero bytes (counted in pad_) so that lookups can peek freely; consuming any
  // of those bits means the stream is truncated.
  void refill() {
    if (nbits_ > 56) return;
    if (end_ - p_ >= 8) {
      // Eight bytes at once; only the whole bytes that fit are counted as read. The bits of the
      // next byte already placed above them are the same ones the next refill puts there.
      buf_ |= (uint64_t(load_le32(p_)) | uint64_t(load_le32(p_ + 4)) << 32) << nbits_;
      p_ += (63 - nbits_) >> 3;
      nbits_ |= 56;
      return;
    }
    while (nbits_ <= 56) {
      uint64_t byte = 0;
      if (p_ < end_)
        byte = *p_++;
      else
        ++pad_;
      buf_ |= byte << nbits_;
      nbits_ += 8;
    }
  }
  void consume(int n) {
    buf_ >>= n;
    nbits_ -= n;
    if (nbits_ < pad_ * 8) throw InflateError("stream is truncated");
  }
  uint32_t bits(int n) {  // n <= 32
    if (nbits_ < n) refill();
    uint32_t v = uint32_t(buf_ & ((uint64_t(1) << n) - 1));
    consume(n);
    return v;
  }
  int decode(const Huffman& h) {
    refill();
    if (uint16_t e = h.fast[buf_ & ((1u << kFastBits) - 1)]) {
      consume(e >> 9);
      return e & 511;
    }
    // A long code (or none): walk the lengths one bit at a time (puff's decode()).
    uint64_t b = buf_;
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= kMaxBits; ++len) {
      code |= int(b & 1);
      b >>= 1;
      int count = h.count[len];
      if (code - count < first) {
        consume(len);
        return h.symbol[index + (code - first)];
      }
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    // Only an incomplete code (or one with no codes) leaves patterns unmatched.
    throw InflateError("invalid Huffman code");
  }

  // ---- output
  uint8_t* reserve(size_t n) {
    if (n > limit_ - (pos_ - start_)) throw InflateError("output is larger than expected");
    if (pos_ + n > out_.size()) {
      // Grow geometrically, but never past the limit (which may be "no limit": SIZE_MAX).
      size_t cap = limit_ > SIZE_MAX - start_ ? SIZE_MAX : start_ + limit_;
      size_t want = std::max({pos_ + n, out_.size() * 2, start_ + size_t(4096)});
      out_.resize(std::min(want, cap));
    }
    return out_.data() + pos_;
  }

  // ---- blocks
  void stored() {
    consume(nbits_ % 8);  // to a byte boundary
    p_ -= nbits_ / 8 - pad_;  // give back the whole bytes of input still buffered
    buf_ = 0;
    nbits_ = 0;
    pad_ = 0;
    if (end_ - p_ < 4) throw InflateError("stream is truncated");
    unsigned len = p_[0] | unsigned(p_[1]) << 8;
    unsigned nlen = p_[2] | unsigned(p_[3]) << 8;
    p_ += 4;
    if (len != (~nlen & 0xFFFFu)) throw InflateError("stored block length does not match its complement");
    if (size_t(end_ - p_) < len) throw InflateError("stream is truncated");
    if (len) std::memcpy(reserve(len), p_, len);
    pos_ += len;
    p_ += len;
  }

  void dynamic() {
    int nlen = int(bits(5)) + 257;
    int ndist = int(bits(5)) + 1;
    int ncode = int(bits(4)) + 4;
    if (nlen > 286 || ndist > 30) throw InflateError("too many length or distance codes");

    uint8_t lengths[286 + 30] = {};
    for (int i = 0; i < ncode; ++i) lengths[kCodeLengthOrder[i]] = uint8_t(bits(3));
    Huffman lencode, distcode;
    if (lencode.build(lengths, 19) != 0) throw InflateError("invalid code-length code");

    // Literal/length and distance code lengths, run-length coded with the code-length code.
    int index = 0;
    while (index < nlen + ndist) {
      int sym = decode(lencode);
      if (sym < 16) {
        lengths[index++] = uint8_t(sym);
        continue;
      }
      uint8_t len = 0;
      int repeat;
      if (sym == 16) {
        if (index == 0) throw InflateError("repeated code length with no previous length");
        len = lengths[index - 1];
        repeat = 3 + int(bits(2));
      } else if (sym == 17) {
        repeat = 3 + int(bits(3));
      } else {
        repeat = 11 + int(bits(7));
      }
      if (index + repeat > nlen + ndist) throw InflateError("too many code lengths");
      while (repeat--) lengths[index++] = len;
    }
    if (lengths[256] == 0) throw InflateError("no end-of-block code");

    // An incomplete code is allowed only when it is a single code of length 1.
    int err = lencode.build(lengths, nlen);
    if (err < 0 || (err > 0 && nlen != lencode.count[0] + lencode.count[1]))
      throw InflateError("invalid literal/length code lengths");
    err = distcode.build(lengths + nlen, ndist);
    if (err < 0 || (err > 0 && ndist != distcode.count[0] + distcode.count[1]))
      throw InflateError("invalid distance code lengths");
    codes(lencode, distcode);
  }

  // The compressed data of a block: literals and (length, distance) copies up to end-of-block.
  void codes(const Huffman& lencode, const Huffman& distcode) {
    for (;;) {
      int sym = decode(lencode);
      if (sym < 256) {
        *reserve(1) = uint8_t(sym);
        ++pos_;
        continue;
      }
      if (sym == 256) return;
      sym -= 257;
      if (sym >= 29) throw InflateError("invalid literal/length code");
      size_t len = kLengthBase[sym] + bits(kLengthExtra[sym]);
      int dsym = decode(distcode);
      if (dsym >= 30) throw InflateError("invalid distance code");
      size_t dist = kDistBase[dsym] + bits(kDistExtra[dsym]);
      if (dist > pos_ - start_) throw InflateError("distance too far back");
      uint8_t* dst = reserve(len);
      const uint8_t* src = dst - dist;
      if (dist >= len) {
        std::memcpy(dst, src, len);
      } else {
        for (size_t i = 0; i < len; ++i) dst[i] = src[i];  // overlapping: repeats a pattern
      }
      pos_ += len;
    }
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t buf_ = 0;
  int nbits_ = 0;
  int pad_ = 0;  // zero bytes put in buf_ past the end of the input

  std::vector<uint8_t>& out_;
  size_t start_;  // out_.size() on entry: distances may not reach before it
  size_t pos_;    // bytes of out_ written so far (out_ may be larger: room reserved)
  size_t limit_;  // at most this many bytes after start_
};

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (; size >= 8; size -= 8, p += 8) {
    uint32_t a = load_le32(p) ^ crc;
    uint32_t b = load_le32(p + 4);
    crc = kCrc[7][a & 0xFF] ^ kCrc[6][(a >> 8) & 0xFF] ^ kCrc[5][(a >> 16) & 0xFF] ^ kCrc[4][a >> 24] ^
          kCrc[3][b & 0xFF] ^ kCrc[2][(b >> 8) & 0xFF] ^ kCrc[1][(b >> 16) & 0xFF] ^ kCrc[0][b >> 24];
  }
  for (; size; --size) crc = kCrc[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

size_t inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  size_t start = out.size();
  try {
    return Inflater(in, out, max_out).run();
  } catch (...) {
    out.resize(start);
    throw;
  }
}

}  // namespace tvm
