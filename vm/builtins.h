// The builtin functions: one table (vm/builtins.cpp). The VM checks arity and keyword names
// from the table before calling, so a NativeFn sees only well-formed calls.
#pragma once

#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "object.h"

namespace tvm {

std::span<const BuiltinDef> builtins();
// The index of the builtin called `name` in builtins(), or -1.
int builtin_index(std::string_view name);
// The immortal BuiltinObj for builtins()[index] (borrowed).
Value builtin_value(int index);

// Arity and keyword checks shared by every native call:
// "len() takes 1 positional argument but 2 were given", "print() got an unexpected keyword argument 'x'".
void check_native_call(const BuiltinDef& def, const CallArgs& args, bool is_method);

}  // namespace tvm

// ---------------------------------------------------------------- helpers for native functions
// Shared by builtins.cpp, methods.cpp and the tensor builtins.

namespace tvm {

class VM;

// The new references in a vector (what collect() returns), released when it goes out of scope
// unless handed on with take().
struct OwnedValues {
  std::vector<Value> items;
  OwnedValues() = default;
  explicit OwnedValues(std::vector<Value> v) : items(std::move(v)) {}
  OwnedValues(const OwnedValues&) = delete;
  OwnedValues& operator=(const OwnedValues&) = delete;
  ~OwnedValues() {
    for (Value v : items) decref(v);
  }
  std::vector<Value> take() { return std::exchange(items, {}); }
};

// Parameter `i` of a native (the receiver counts for methods), given by position or as the
// keyword `name`: Undefined when neither, "fn() got multiple values for argument 'name'" when both.
Value native_arg(const CallArgs& args, uint32_t i, std::string_view name, const char* fn);
// An integer argument (a bool counts, as in Python); else "'str' object cannot be interpreted
// as an integer".
int64_t int_arg(Value v);
// Truncates a float to an int as int() does: "cannot convert float infinity to integer",
// "cannot convert float NaN to integer", "integer overflow".
int64_t float_to_int(double d);
// Python's list.sort on owned references, reordered in place: stable, by `<` (less()); with a
// key (not Undefined or None) the key is called once per item and the items sorted by the
// results; reverse keeps equal items in their original order. On a throw every item is still
// in `items`, in some order.
void sort_values(VM& vm, std::vector<Value>& items, Value key, bool reverse);

// Python's str.isspace() for one code point (Unicode whitespace included).
bool is_space(char32_t c);
// s without leading and trailing whitespace, as Python's str.strip().
std::string_view strip_whitespace(std::string_view s);

}  // namespace tvm
