// The stack VM's instruction set, defined once.
//
// An instruction is one 32-bit word:   [ A : 24 bits | op : 8 bits ]
// Instructions marked "+W" are followed by one extra word W.
//
// Each row gives: name, the operand's kind (for the disassembler and the verifier), the stack
// effect as an expression in A (what the compiler's depth tracking reads), and the semantics.
// Notation: TOS is the top of the stack, L[i] frame slot i, K[i] constant i, G[i] module
// global slot i, C[i] the function's closure cell i.
#pragma once

#include <cstdint>

namespace tvm {

enum class OperandKind : uint8_t {
  None,    // A unused
  Int,     // A is a signed 24-bit int
  Count,   // A is a count
  Const,   // A indexes K
  Name,    // A indexes K, which holds an interned str
  Local,   // A indexes L
  Local2,  // A holds two slot indices of 12 bits each: A>>12 and A&0xFFF
  LocalInt,  // A holds a slot index (A>>12) and a signed 12-bit int (the low 12 bits)
  Free,    // A indexes C
  Global,  // A indexes G
  Jump,    // A is an absolute word offset
  Format,  // A: bit 0-1 conversion (0 none, 1 !s, 2 !r), bit 2 a spec is on the stack
};

// X(NAME, operand kind, stack effect, has extra word W, "semantics")
#define TVM_STACK_OPCODES(X)                                                                    \
  X(NOP,           None,   0,        0, "nothing")                                              \
  X(LOAD_CONST,    Const,  1,        0, "push K[A]")                                            \
  X(LOAD_INT,      Int,    1,        0, "push the int A")                                       \
  X(LOAD_NONE,     None,   1,        0, "push None")                                            \
  X(LOAD_TRUE,     None,   1,        0, "push True")                                            \
  X(LOAD_FALSE,    None,   1,        0, "push False")                                           \
  X(LOAD_LOCAL,    Local,  1,        0, "push L[A] (error if unassigned)")                      \
  X(LOAD_LOCAL2,   Local2, 2,        0, "push L[A>>12], then L[A&0xFFF] (both checked)")         \
  X(STORE_LOCAL,   Local,  -1,       0, "L[A] = pop")                                           \
  X(LOAD_CELL,     Local,  1,        0, "push the value of the cell in L[A]")                   \
  X(STORE_CELL,    Local,  -1,       0, "the cell in L[A] := pop")                              \
  X(MAKE_CELL,     Local,  0,        0, "L[A] = a new cell holding L[A]")                       \
  X(LOAD_CLOSURE,  Local,  1,        0, "push the cell object in L[A]")                         \
  X(LOAD_FREE,     Free,   1,        0, "push the value of C[A]")                               \
  X(STORE_FREE,    Free,   -1,       0, "C[A] := pop")                                          \
  X(LOAD_FREECELL, Free,   1,        0, "push the cell object C[A]")                            \
  X(LOAD_GLOBAL,   Global, 1,        0, "push G[A], else the builtin of that name")             \
  X(STORE_GLOBAL,  Global, -1,       0, "G[A] = pop")                                           \
  X(POP,           None,   -1,       0, "pop")                                                  \
  X(DUP,           None,   1,        0, "a -- a a")                                             \
  X(DUP2,          None,   2,        0, "a b -- a b a b")                                       \
  X(ROT2,          None,   0,        0, "a b -- b a")                                           \
  X(ROT3,          None,   0,        0, "a b c -- c a b")                                       \
  X(ADD,           None,   -1,       0, "a b -- a+b")                                           \
  X(SUB,           None,   -1,       0, "a b -- a-b")                                           \
  X(MUL,           None,   -1,       0, "a b -- a*b")                                           \
  X(DIV,           None,   -1,       0, "a b -- a/b")                                           \
  X(FLOORDIV,      None,   -1,       0, "a b -- a//b")                                          \
  X(MOD,           None,   -1,       0, "a b -- a%b")                                           \
  X(POW,           None,   -1,       0, "a b -- a**b")                                          \
  X(MATMUL,        None,   -1,       0, "a b -- a@b")                                           \
  X(LSHIFT,        None,   -1,       0, "a b -- a<<b")                                          \
  X(RSHIFT,        None,   -1,       0, "a b -- a>>b")                                          \
  X(BITAND,        None,   -1,       0, "a b -- a&b")                                           \
  X(BITOR,         None,   -1,       0, "a b -- a|b")                                           \
  X(BITXOR,        None,   -1,       0, "a b -- a^b")                                           \
  X(ADD_INT,       Int,    0,        0, "a -- a+A")                                             \
  X(SUB_INT,       Int,    0,        0, "a -- a-A")                                             \
  X(LOAD_LOCAL_ADD_INT, LocalInt, 1, 0, "push L[A>>12] + k, k the signed low 12 bits of A")  \
  X(INPLACE_ADD,   None,   -1,       0, "a b -- a+=b (a list is extended in place)")            \
  X(NEG,           None,   0,        0, "a -- -a")                                              \
  X(POS,           None,   0,        0, "a -- +a")                                              \
  X(INVERT,        None,   0,        0, "a -- ~a")                                              \
  X(NOT,           None,   0,        0, "a -- not a")                                           \
  X(LT,            None,   -1,       0, "a b -- a<b")                                           \
  X(LE,            None,   -1,       0, "a b -- a<=b")                                          \
  X(GT,            None,   -1,       0, "a b -- a>b")                                           \
  X(GE,            None,   -1,       0, "a b -- a>=b")                                          \
  X(EQ,            None,   -1,       0, "a b -- a==b")                                          \
  X(NE,            None,   -1,       0, "a b -- a!=b")                                          \
  X(IN,            None,   -1,       0, "a b -- a in b")                                        \
  X(NOT_IN,        None,   -1,       0, "a b -- a not in b")                                    \
  X(IS,            None,   -1,       0, "a b -- a is b")                                        \
  X(IS_NOT,        None,   -1,       0, "a b -- a is not b")                                    \
  X(JUMP,          Jump,   0,        0, "goto A")                                               \
  X(JUMP_IF_FALSE, Jump,   -1,       0, "pop; goto A if it is falsy")                           \
  X(JUMP_IF_TRUE,  Jump,   -1,       0, "pop; goto A if it is truthy")                          \
  X(JUMP_IF_NOT_LT, Jump,  -2,       0, "a b --; goto A unless a<b")                            \
  X(JUMP_IF_NOT_LE, Jump,  -2,       0, "a b --; goto A unless a<=b")                           \
  X(JUMP_IF_NOT_GT, Jump,  -2,       0, "a b --; goto A unless a>b")                            \
  X(JUMP_IF_NOT_GE, Jump,  -2,       0, "a b --; goto A unless a>=b")                           \
  X(JUMP_IF_NOT_EQ, Jump,  -2,       0, "a b --; goto A unless a==b")                           \
  X(JUMP_IF_NOT_NE, Jump,  -2,       0, "a b --; goto A unless a!=b")                           \
  X(JUMP_IF_NOT_LT_K, Jump, -1,      1, "a --; goto A unless a<W (W a signed int)")             \
  X(JUMP_IF_NOT_LE_K, Jump, -1,      1, "a --; goto A unless a<=W")                             \
  X(JUMP_IF_NOT_GT_K, Jump, -1,      1, "a --; goto A unless a>W")                              \
  X(JUMP_IF_NOT_GE_K, Jump, -1,      1, "a --; goto A unless a>=W")                             \
  X(JUMP_IF_NOT_EQ_K, Jump, -1,      1, "a --; goto A unless a==W")                             \
  X(JUMP_IF_NOT_NE_K, Jump, -1,      1, "a --; goto A unless a!=W")                             \
  X(GET_ITER,      None,   0,        0, "a -- iter(a)")                                         \
  X(FOR_ITER,      Jump,   1,        0, "it -- it next(it); when exhausted pop it, goto A")     \
  X(BUILD_LIST,    Count,  1 - A,    0, "a1..aA -- [a1..aA]")                                   \
  X(BUILD_TUPLE,   Count,  1 - A,    0, "a1..aA -- (a1..aA)")                                   \
  X(BUILD_DICT,    Count,  1 - 2 * A, 0, "k1 v1..kA vA -- {k1: v1..}")                          \
  X(BUILD_SLICE,   Count,  1 - A,    0, "lo hi [step] -- slice (A is 2 or 3)")                  \
  X(BUILD_STRING,  Count,  1 - A,    0, "s1..sA -- s1+..+sA")                                   \
  X(LIST_APPEND,   None,   -1,       0, "list a -- list (list.append(a))")                      \
  X(LIST_EXTEND,   None,   -1,       0, "list s -- list (list.extend(s))")                      \
  X(LIST_TO_TUPLE, None,   0,        0, "list -- tuple(list)")                                  \
  X(DICT_SET,      None,   -2,       0, "dict k v -- dict (dict[k] = v)")                       \
  X(SUBSCR,        None,   -1,       0, "a i -- a[i]")                                          \
  X(STORE_SUBSCR,  None,   -3,       0, "v a i -- (a[i] = v)")                                  \
  X(LOAD_ATTR,     Name,   0,        0, "a -- a.K[A]")                                          \
  X(STORE_ATTR,    Name,   -2,       0, "v a -- (a.K[A] = v)")                                  \
  X(CALL,          Count,  -A,       0, "f a1..aA -- f(a1..aA)")                                \
  X(CALL_KW,       Count,  -A,       1, "f a1..aA -- f(...): the last len(K[W]) args are keywords named by the tuple K[W]") \
  X(CALL_METHOD,   Count,  -A,       1, "o a1..aA -- o.K[W](a1..aA)")                           \
  X(CALL_EX,       Count,  -1 - A,   0, "f args [kwargs] -- f(*args, **kwargs): A=1 when kwargs (a dict) is present") \
  X(RETURN,        None,   -1,       0, "return pop")                                           \
  X(MAKE_FUNCTION, Const,  -1,       0, "defaults cells -- function of code K[A] (each a tuple or None)") \
  X(IMPORT,        Name,   1,        0, "push the module named K[A]")                           \
  X(IMPORT_FROM,   Name,   1,        0, "m -- m m.K[A]")                                        \
  X(UNPACK,        Count,  A - 1,    0, "s -- sA..s1 (exactly A items, s1 on top)")             \
  X(FORMAT,        Format, -((A >> 2) & 1), 0, "a [spec] -- format(a, spec) with conversion")   \
  X(ASSERT_FAIL,   Count,  -A,       0, "[msg] -- ; raise 'assertion failed' (A=1: with msg)")  \
  X(CHECK_ARGS,    None,   0,        0, "check the arguments against the parameter annotations") \
  X(CHECK_RETURN,  None,   0,        0, "check TOS against the return annotation")

enum class Op : uint8_t {
#define TVM_OP_ENUM(name, kind, effect, extra, doc) name,
  TVM_STACK_OPCODES(TVM_OP_ENUM)
#undef TVM_OP_ENUM
};

struct OpInfo {
  const char* name;
  OperandKind operand;
  bool extra_word;
  const char* doc;
};

inline constexpr OpInfo kOpInfo[] = {
#define TVM_OP_INFO(name, kind, effect, extra, doc) {#name, OperandKind::kind, extra != 0, doc},
    TVM_STACK_OPCODES(TVM_OP_INFO)
#undef TVM_OP_INFO
};
inline constexpr int kNumOps = sizeof(kOpInfo) / sizeof(kOpInfo[0]);

// The stack effect of an instruction (on the fall-through path).
constexpr int stack_effect(Op op, int32_t A) {
  switch (op) {
#define TVM_OP_EFFECT(name, kind, effect, extra, doc) \
  case Op::name:                                      \
    return (effect);
    TVM_STACK_OPCODES(TVM_OP_EFFECT)
#undef TVM_OP_EFFECT
  }
  return 0;
}

constexpr uint32_t encode(Op op, int32_t A) { return uint32_t(op) | (uint32_t(A) << 8); }
constexpr Op decode_op(uint32_t w) { return Op(w & 0xFF); }
constexpr uint32_t decode_a(uint32_t w) { return w >> 8; }
constexpr int32_t decode_sa(uint32_t w) { return int32_t(w) >> 8; }  // signed A
constexpr int32_t kMaxStackA = (1 << 23) - 1;  // the largest A (kMaxA is the register VM's)

}  // namespace tvm
