// A chunk of bytecode: instructions, a line table and a constant pool (clox's Chunk), plus the
// frame layout and annotations of the function it implements. The same object carries stack
// bytecode (the interpreter's, `code`) or register bytecode (a package's, `rcode`): a
// FunctionObj, argument binding and annotations work the same for both.
#pragma once

#include <string>
#include <vector>

#include "fused.h"
#include "object.h"
#include "reg_opcodes.h"

namespace tvm {

// A parameter or return annotation, checked on every call (LANGUAGE.md §4).
struct Annotation {
  enum Kind : uint8_t { Any, Int, Float, Bool, Str, List, Tuple, Dict, NoneType, Tensor } kind = Any;  // Any: unannotated
  // Tensor[d, ...]: each dimension is a fixed size, or a name bound by its first use in a call.
  struct Dim {
    int64_t size = -1;  // -1: named
    std::string name;
    int index = -1;     // named: its slot among the code's dim_names
  };
  bool has_dims = false;
  std::vector<Dim> dims;
  std::string text;  // as written, for messages: "int", "Tensor[B, 512]"
};

struct SourceLoc {
  int32_t line;
  int32_t col;
};

struct CodeObj : Obj {
  std::string name;                  // the function's name, "<module>" or "<lambda>"
  std::string filename;
  std::vector<uint32_t> code;
  std::vector<SourceLoc> locs;       // one per word of code
  std::vector<Value> consts;         // owned
  int nparams = 0;                   // positional parameters
  bool has_varargs = false;          // *args in slot nparams
  int nslots = 0;                    // every frame slot: params, *args, locals
  int max_stack = 0;                 // the deepest the operand stack gets above the slots
  int frame_size = 0;                // nslots + max_stack + 1: what a call needs above its base
  int nfree = 0;                     // closure cells it expects
  std::vector<StrObj*> slot_names;   // interned; for keyword binding and messages
  std::vector<StrObj*> free_names;   // interned; the closure cells' variables, for messages
  std::vector<Annotation> param_annotations;  // nparams (+1 with varargs) entries when annotated
  Annotation return_annotation;
  bool annotated = false;
  // The dimension names of the annotations (B in Tensor[B, 512]), each bound by its first use
  // in a call; the return annotation is checked against the bindings the arguments made.
  std::vector<std::string> dim_names;
  bool keep_dim_bindings = false;  // CHECK_ARGS leaves its bindings for CHECK_RETURN

  // Register bytecode (vm/reg_opcodes.h), when is_register. nregs counts every register a
  // frame uses, the call blocks at the top included; locs has one entry per instruction.
  bool is_register = false;
  std::vector<RInstr> rcode;
  int nregs = 0;
  // R[0..clear_end) are all a call must clear above the arguments: the registers some CHECKDEF
  // or MAKECELL may read unassigned (register_clear_end); every other register is written
  // before it is read. -1 (hand-built code): all nregs.
  int clear_end = -1;
  std::vector<KernelDesc> kernels;   // KCALL's descriptors
  // The front end's node this code was compiled from (an ast::FunctionDef, ast::CompExpr or ast::Module), for
  // the packager's compiler; null in a loaded package. Not owned.
  const void* ast = nullptr;

  CodeObj() : Obj(ObjType::Code) {}
};

}  // namespace tvm
