// Float repr and the format mini-language (vm/format.cpp), against tables generated with
// CPython's repr() and format() (tests/unit/gen_tables.py).
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <string_view>

#include "error.h"
#include "object.h"
#include "ops.h"
#include "py_literal.h"

using namespace tvm;
using namespace std::literals;

namespace {

Ref B(bool b) { return Ref::steal(Value::boolean(b)); }
Ref I(int64_t i) { return Ref::steal(Value::integer(i)); }
Ref F(uint64_t bits) { return Ref::steal(Value::number(std::bit_cast<double>(bits))); }
Ref S(std::string_view s) { return Ref::steal(make_str(s)); }

struct FloatReprCase {
  uint64_t bits;
  const char* expected;
};
struct FormatCase {
  const char* value;     // Python's repr (py_literal.h)
  const char* spec;
  const char* expected;  // "!" and the message for an error
};

#include "format_table.inc"

std::string formatted(Value v, std::string_view spec) {
  try {
    return format_value(v, spec);
  } catch (const RuntimeError& e) {
    return std::string("!") + e.what();
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(format)

BOOST_AUTO_TEST_CASE(float_repr_table) {
  BOOST_TEST(std::size(kFloatReprCases) >= 200u);
  for (const auto& c : kFloatReprCases) {
    double d = std::bit_cast<double>(c.bits);
    BOOST_TEST(float_repr(d) == c.expected, "bits " << std::hex << c.bits);
    BOOST_TEST(float_repr(-d) == (c.expected[0] == '-' ? std::string(c.expected + 1) : "-" + std::string(c.expected)));
  }
}

BOOST_AUTO_TEST_CASE(float_repr_specials) {
  BOOST_TEST(float_repr(INFINITY) == "inf");
  BOOST_TEST(float_repr(-INFINITY) == "-inf");
  BOOST_TEST(float_repr(NAN) == "nan");
  BOOST_TEST(float_repr(-NAN) == "nan");
  BOOST_TEST(float_repr(-0.0) == "-0.0");
  BOOST_TEST(float_repr(1e16) == "1e+16");
  BOOST_TEST(float_repr(1e-5) == "1e-05");
  BOOST_TEST(float_repr(0.0001) == "0.0001");
  BOOST_TEST(float_repr(1.5e300) == "1.5e+300");
  BOOST_TEST(float_repr(123456789012345.0) == "123456789012345.0");
}

BOOST_AUTO_TEST_CASE(format_table) {
  BOOST_TEST(std::size(kFormatCases) >= 150u);
  for (const auto& c : kFormatCases) {
    Ref v = tvm_test::py_value(c.value);
    BOOST_TEST(formatted(v.get(), c.spec) == c.expected, c.value << " with '" << c.spec << "'");
  }
}

BOOST_AUTO_TEST_CASE(other_values) {
  Ref l = Ref::steal(make_list({Value::small_int(1), make_str("a")}));
  BOOST_TEST(formatted(l.get(), "") == "[1, 'a']");
  BOOST_TEST(formatted(Value::none(), "") == "None");
  BOOST_TEST(formatted(l.get(), "10") == "!unsupported format string passed to list.__format__");
  BOOST_TEST(formatted(Value::none(), "s") == "!unsupported format string passed to NoneType.__format__");
  BOOST_TEST(formatted(I(INT64_MIN).get(), "_x") == "-8000_0000_0000_0000");
  BOOST_TEST(formatted(B(true).get(), "") == "True");
  BOOST_TEST(formatted(I(0).get(), "c") == std::string(1, '\0'));
  BOOST_TEST(formatted(I(0x10FFFF).get(), "c") == "\xf4\x8f\xbf\xbf");
  BOOST_TEST(formatted(I(0x110000).get(), "c") == "!%c arg not in range(0x110000)");
  BOOST_TEST(formatted(S("x").get(), "\xe2\x82\xac^5") == "\xe2\x82\xac\xe2\x82\xacx\xe2\x82\xac\xe2\x82\xac");
  BOOST_TEST(formatted(F(0x3ff8000000000000ull).get(), ".100f").size() == 102u);
  BOOST_TEST(formatted(I(1).get(), "99999999999999999999") == "!Too many decimal digits in format string");
}

BOOST_AUTO_TEST_SUITE_END()
