// The Boost.Test runner for every unit-test file in tests/unit/.
#define BOOST_TEST_MODULE tvm
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>
