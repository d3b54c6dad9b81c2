// The semantics of TL's operators on values: the slow paths the VMs fall back to after their
// inline int/float fast paths, and what builtins use. Every function throws RuntimeError with
// LANGUAGE.md's message on a bad operand. Returned Values are new references; arguments are
// borrowed.
#pragma once

#include <string>
#include <string_view>

#include "object.h"

namespace tvm {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, MatMul, LShift, RShift, And, Or, Xor };
enum class CompareOp : uint8_t { Lt, Le, Gt, Ge, Eq, Ne };

// The operator as written: "+", "//", "<=".
const char* op_symbol(BinaryOp op);
const char* op_symbol(CompareOp op);

// 'int', 'float', 'bool', 'NoneType', 'str', 'list', 'tuple', 'dict', 'range', 'function',
// 'builtin', 'module', 'tensor', ... — what type(x) returns and messages name.
const char* type_name(Value v);

bool truthy(Value v);
// truthy(v), releasing the reference to v (also when it throws: an ambiguous tensor).
bool truthy_consume(Value v);

Value binary_op(BinaryOp op, Value a, Value b);
Value unary_neg(Value v);
Value unary_pos(Value v);
Value unary_invert(Value v);
// a < b etc.; == and != never throw (different types are unequal).
Value compare(CompareOp op, Value a, Value b);
bool equal(Value a, Value b);
bool less(Value a, Value b);  // a < b, throwing "'<' not supported between ..." when unordered
bool contains(Value container, Value item);  // `item in container`
uint64_t hash_value(Value v);  // throws "unhashable type: 'list'"
uint64_t hash_str(std::string_view text);  // hash_value of a str with this text (never 0)

// Checked int64 arithmetic: "integer overflow" when the result does not fit.
int64_t int_add(int64_t a, int64_t b);
int64_t int_sub(int64_t a, int64_t b);
int64_t int_mul(int64_t a, int64_t b);

// Printing: repr (for containers' elements and !r) and str (print and str()).
std::string repr(Value v);
std::string to_str(Value v);
void append_repr(std::string& out, Value v);
void append_str(std::string& out, Value v);
std::string float_repr(double d);  // Python's shortest round-trip repr: 0.1, 1e-05, 1e+16, inf
// f-string field: format(value, spec) per Python's mini-language.
std::string format_value(Value v, std::string_view spec);

// Containers.
Value get_item(Value obj, Value index);              // obj[index] (index may be a SliceObj or tuple)
void set_item(Value obj, Value index, Value value);  // obj[index] = value
int64_t length(Value v);                             // len(v)
// Normalises a possibly negative index against len; throws "index out of range".
int64_t normalize_index(int64_t i, int64_t len);

// Attributes: module globals, tensor properties, and bound methods of str/list/dict/tensor.
Value get_attr(Value obj, StrObj* name);
// The method `name` of obj's type, or null. (The VM calls it with obj as the first argument.)
const BuiltinDef* find_method(Value obj, std::string_view name);

// Unpacking `a, b = v`: exactly n items as new references into out, or the Python error.
void unpack(Value v, size_t n, Value* out);
// All items of an iterable as new references (list(), *spread, sorted, ...).
std::vector<Value> collect(Value iterable);

}  // namespace tvm
