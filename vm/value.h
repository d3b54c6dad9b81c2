// The TL value: 8 bytes, NaN-boxed.
//
//   any double that is not one of our tagged NaNs   a float (NaNs are canonicalised on entry)
//   0xFFFC | 48-bit two's-complement payload        an int in [-2^47, 2^47)
//   0xFFFD | 0 / 1 / 2 / 3                          None / False / True / Undefined (empty slot)
//   0xFFFE | 48-bit pointer                         a heap object (Obj*)
//
// Ints are 64-bit in TL. Those outside the 48-bit inline range (rare: |x| >= 2^47) are boxed
// in an immutable BigIntObj; `as_int` hides the difference. Doubles with the sign bit set and
// the hardware's default NaN (0xFFF8...) sort below 0xFFFC..., so `is_double` is one compare.
// Tagged NaNs can only be produced from outside data (a float32 NaN payload, bit patterns from
// a file), so Value::number() canonicalises at those boundaries and arithmetic stays a bitcast.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tvm {

struct Obj;

class Value {
 public:
  static constexpr uint64_t kTagMask = 0xFFFF000000000000ull;
  static constexpr uint64_t kPayloadMask = 0x0000FFFFFFFFFFFFull;
  static constexpr uint64_t kIntTag = 0xFFFC000000000000ull;
  static constexpr uint64_t kSpecialTag = 0xFFFD000000000000ull;
  static constexpr uint64_t kObjTag = 0xFFFE000000000000ull;
  static constexpr int64_t kSmallIntMin = -(int64_t(1) << 47);
  static constexpr int64_t kSmallIntMax = (int64_t(1) << 47) - 1;
  static constexpr uint64_t kCanonicalNaN = 0x7FF8000000000000ull;

  constexpr Value() : bits_(kSpecialTag | 3) {}  // Undefined

  // --- constructors
  static constexpr Value none() { return Value(kSpecialTag | 0); }
  static constexpr Value boolean(bool b) { return Value(kSpecialTag | (b ? 2 : 1)); }
  static constexpr Value undefined() { return Value(kSpecialTag | 3); }
  // A double straight from arithmetic on doubles (cannot be a tagged NaN).
  static Value from_double(double d) { return Value(std::bit_cast<uint64_t>(d)); }
  // A double from anywhere else: NaNs are canonicalised.
  static Value number(double d) { return d != d ? Value(kCanonicalNaN) : from_double(d); }
  static constexpr bool fits_small(int64_t i) { return i >= kSmallIntMin && i <= kSmallIntMax; }
  // Precondition: fits_small(i).
  static constexpr Value small_int(int64_t i) { return Value(kIntTag | (uint64_t(i) & kPayloadMask)); }
  // Any int64: inline when it fits, else a new BigIntObj (defined in object.cpp).
  static Value integer(int64_t i) { return fits_small(i) ? small_int(i) : boxed_int(i); }
  static Value object(const Obj* o) { return Value(kObjTag | reinterpret_cast<uint64_t>(o)); }

  // --- tests
  bool is_double() const { return bits_ < kIntTag; }
  bool is_small_int() const { return (bits_ & kTagMask) == kIntTag; }
  bool is_obj() const { return bits_ >= kObjTag; }  // nothing is tagged above objects: one compare
  bool is_none() const { return bits_ == (kSpecialTag | 0); }
  bool is_bool() const { return bits_ == (kSpecialTag | 1) || bits_ == (kSpecialTag | 2); }
  bool is_true() const { return bits_ == (kSpecialTag | 2); }
  bool is_false() const { return bits_ == (kSpecialTag | 1); }
  bool is_undefined() const { return bits_ == (kSpecialTag | 3); }
  inline bool is_int() const;     // small or boxed (not bool)
  inline bool is_number() const;  // int, float or bool

  // --- accessors (preconditions: the matching test)
  double as_double() const { return std::bit_cast<double>(bits_); }
  int64_t as_small_int() const { return int64_t(bits_ << 16) >> 16; }
  bool as_bool() const { return bits_ == (kSpecialTag | 2); }
  Obj* as_obj() const { return reinterpret_cast<Obj*>(bits_ & kPayloadMask); }
  inline int64_t as_int() const;    // small or boxed int
  inline double to_double() const; // int, bool or float as a double

  uint64_t bits() const { return bits_; }
  static constexpr Value from_bits(uint64_t b) { return Value(b); }
  bool same(Value o) const { return bits_ == o.bits_; }  // identity (`is`)

 private:
  constexpr explicit Value(uint64_t b) : bits_(b) {}
  static Value boxed_int(int64_t i);
  uint64_t bits_;
};

static_assert(sizeof(Value) == 8);

}  // namespace tvm
