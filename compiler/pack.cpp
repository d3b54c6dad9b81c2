#include "pack.h"

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "../vm/builtins.h"
#include "../vm/error.h"
#include "../vm/ops.h"
#include "../vm/stack_vm.h"
#include "emit_reg.h"
#include "emit_stack.h"
#include "parse.h"
#include "resolver.h"

namespace tvm {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void pack_error(const std::string& file, ast::Loc loc, const std::string& message) {
  std::string where = file;
  if (loc.line > 0) where += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
  throw ProgramError{where + ": error: " + message + "\n", kExitProgramFailed};
}

std::string stem_of(const std::string& path) {
  if (path == "-" || path.empty()) return "__stdin__";
  std::string s = fs::path(path).stem().string();
  return s.empty() ? "__main__" : s;
}


// Does the module's top level bind `name` (a def, an assignment, an import)?
bool binds_at_top_level(const ast::Module& m, const std::string& name) {
  std::function<bool(const ast::Expr&)> target_binds = [&](const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Name) return ast::as<ast::NameExpr>(e).id == name;
    if (e.kind == ast::ExprKind::Tuple)
      for (auto& x : ast::as<ast::TupleExpr>(e).elts)
        if (target_binds(*x)) return true;
    if (e.kind == ast::ExprKind::List)
      for (auto& x : ast::as<ast::ListExpr>(e).elts)
        if (target_binds(*x)) return true;
    return false;
  };
  std::function<bool(const ast::StmtList&)> scan = [&](const ast::StmtList& body) {
    for (auto& s : body) {
      switch (s->kind) {
        case ast::StmtKind::FunctionDef:
          if (ast::as<ast::FunctionDef>(*s).name == name) return true;
          break;
        case ast::StmtKind::Assign:
          for (auto& t : ast::as<ast::AssignStmt>(*s).targets)
            if (target_binds(*t)) return true;
          break;
        case ast::StmtKind::Import:
        case ast::StmtKind::ImportFrom: {
          auto& names = s->kind == ast::StmtKind::Import ? ast::as<ast::ImportStmt>(*s).names : ast::as<ast::ImportFromStmt>(*s).names;
          for (auto& a : names)
            if ((a.asname.empty() ? a.name : a.asname) == name) return true;
          break;
        }
        case ast::StmtKind::If: {
          auto& i = ast::as<ast::IfStmt>(*s);
          if (scan(i.body) || scan(i.orelse)) return true;
          break;
        }
        case ast::StmtKind::For: {
          auto& f = ast::as<ast::ForStmt>(*s);
          if (target_binds(*f.target) || scan(f.body) || scan(f.orelse)) return true;
          break;
        }
        case ast::StmtKind::While: {
          auto& w = ast::as<ast::WhileStmt>(*s);
          if (scan(w.body) || scan(w.orelse)) return true;
          break;
        }
        default: break;
      }
    }
    return false;
  };
  return scan(m.body);
}

// Every module name an `import` or `from ... import` anywhere in the tree names.
void collect_imports(const ast::StmtList& body, std::vector<std::string>& out);
void collect_imports_expr(const ast::Expr* e, std::vector<std::string>& out) {
  if (!e) return;
  switch (e->kind) {
    case ast::ExprKind::Lambda: collect_imports(ast::as<ast::LambdaExpr>(*e).fn->body, out); break;
    default: break;  // imports are statements: only nested function bodies can hold more
  }
}
void collect_imports(const ast::StmtList& body, std::vector<std::string>& out) {
  for (auto& s : body) {
    switch (s->kind) {
      case ast::StmtKind::Import:
        for (auto& a : ast::as<ast::ImportStmt>(*s).names) out.push_back(a.name);
        break;
      case ast::StmtKind::ImportFrom: out.push_back(ast::as<ast::ImportFromStmt>(*s).module); break;
      case ast::StmtKind::FunctionDef: collect_imports(ast::as<ast::FunctionDef>(*s).body, out); break;
      case ast::StmtKind::If: {
        auto& i = ast::as<ast::IfStmt>(*s);
        collect_imports(i.body, out);
        collect_imports(i.orelse, out);
        break;
      }
      case ast::StmtKind::For: {
        auto& f = ast::as<ast::ForStmt>(*s);
        collect_imports(f.body, out);
        collect_imports(f.orelse, out);
        break;
      }
      case ast::StmtKind::While: {
        auto& w = ast::as<ast::WhileStmt>(*s);
        collect_imports(w.body, out);
        collect_imports(w.orelse, out);
        break;
      }
      case ast::StmtKind::Expr: collect_imports_expr(ast::as<ast::ExprStmt>(*s).value.get(), out); break;
      default: break;
    }
  }
}

ModuleObj* new_layout_module(const std::string& name, const std::string& path) {
  auto* m = new ModuleObj(intern(name));
  m->path = path;
  int slot = m->slot("__name__");
  m->slots[slot] = make_str(name);
  return m;
}

// Parses and resolves one file; compile errors become a ProgramError with every diagnostic.
std::unique_ptr<ast::Module> parse_or_throw(const SourceFile& src) {
  Diagnostics diag(src);
  std::unique_ptr<ast::Module> m = parse_module(src, diag);
  if (!diag.has_errors()) resolve(*m, diag);
  if (diag.has_errors()) {
    std::string text;
    for (const Diagnostic& d : diag.errors()) text += diag.format(d);
    throw ProgramError{text, kExitProgramFailed};
  }
  return m;
}

// ---------------------------------------------------------------- script packages

// A script package: the script and every module it imports (transitively, found at pack time)
// compiled to register code; nothing runs.
void pack_script(Packed& out, const std::string& path, std::string source, const PackOptions& options) {
  Program& p = *out.program;
  std::vector<Ref> holds;
  std::set<std::string> seen;
  std::vector<std::pair<std::string, std::string>> queue;  // (module name, importing file)

  auto compile = [&](const std::string& name, const std::string& file, std::string text, bool is_main) -> CodeObj* {
    auto src = std::make_unique<SourceFile>(file, std::move(text));
    std::unique_ptr<ast::Module> tree = parse_or_throw(*src);
    std::vector<std::string> imports;
    collect_imports(tree->body, imports);
    for (auto& i : imports) queue.push_back({i, file});
    ModuleObj* layout = new_layout_module(is_main ? "__main__" : name, file);
    holds.push_back(Ref::steal(Value::object(layout)));
    Diagnostics diag(*src);
    RegCompileEnv env;
    env.frozen_globals = false;
    env.specialise = false;
    env.fuse = options.fuse;
    CodeObj* code = emit_register_module(*tree, layout, env, diag);
    if (!code) {
      std::string msg;
      for (const Diagnostic& d : diag.errors()) msg += diag.format(d);
      throw ProgramError{msg, kExitProgramFailed};
    }
    out.sources.push_back({name, std::move(src), std::move(tree)});
    if (is_main) {
      incref(layout);
      auto* fn = new FunctionObj(code, layout);  // adopts code
      holds.push_back(Ref::steal(Value::object(fn)));
      p.entry = Value::object(fn);
    } else {
      // An imported module's globals: the runtime makes its module with one slot per name of
      // its top-level code's slot_names, in this layout's order.
      code->slot_names = layout->slot_names;
      holds.push_back(Ref::steal(Value::object(code)));
      p.modules.push_back({name, file, code});
    }
    return code;
  };

  compile("__main__", path, std::move(source), true);
  seen.insert("__main__");
  while (!queue.empty()) {
    auto [name, from] = queue.front();
    queue.erase(queue.begin());
    if (!seen.insert(name).second) continue;
    std::string file, text;
    if (find_module(name, from, options.search_path, file, text)) compile(name, file, std::move(text), false);
    // A module not found is not an error here: the import fails at run time, at its line,
    // as it does interpreted ("no module named 'x'").
  }
  p.manifest.is_script = true;
  p.holds = std::move(holds);
}

// ---------------------------------------------------------------- function packages

// Turns the pack-time object graph into the package's: every stack-VM function reachable from
// the entry is compiled to register code specialised to its frozen closure, and every list,
// dict and cell is frozen under the name it was first reached by.
class Freezer {
 public:
  Freezer(const PackOptions& options, std::vector<LoadedModule>& sources) : options_(options), sources_(sources) {}

  // The module globals' names: a frozen list, dict or module reached through a global is
  // named after it ("cannot modify frozen value 'layers'"), whichever way the code reached it.
  // Holds a reference to each, so no address is reused while packing.
  void name_globals(ModuleObj* m) {
    for (size_t i = 0; i < m->slots.size(); ++i) {
      Value v = m->slots[i];
      if (!v.is_obj() || global_names_.count(v.as_obj())) continue;
      global_names_.emplace(v.as_obj(), std::make_pair(Ref::borrow(v), m->slot_names[i]->data));
    }
  }

  // Returns the package-side value for v (borrowed: owned by the freezer's holds).
  Value convert(Value v, const std::string& inherited_name) {
    if (!v.is_obj()) return v;
    Obj* o = v.as_obj();
    if (auto it = memo_.find(o); it != memo_.end()) return it->second;
    auto named = global_names_.find(o);
    const std::string& name = named != global_names_.end() ? named->second.second : inherited_name;
    switch (o->type) {
      case ObjType::Str:
      case ObjType::BigInt:
      case ObjType::Range:
      case ObjType::Builtin:
      case ObjType::Tensor:
        memo_[o] = v;
        return v;
      case ObjType::Slice: {
        auto* s = static_cast<SliceObj*>(o);
        memo_[o] = v;
        replace(s->lower, convert(s->lower, name));
        replace(s->upper, convert(s->upper, name));
        replace(s->step, convert(s->step, name));
        return v;
      }
      case ObjType::List:
      case ObjType::Tuple: {
        memo_[o] = v;
        auto& items = o->type == ObjType::List ? static_cast<ListObj*>(o)->items : static_cast<TupleObj*>(o)->items;
        for (Value& x : items) replace(x, convert(x, name));
        if (o->type == ObjType::List) frozen_.push_back({v, name});
        return v;
      }
      case ObjType::Dict: {
        memo_[o] = v;
        auto* d = static_cast<DictObj*>(o);
        for (auto& e : d->entries) {
          replace(e.key, convert(e.key, name));
          replace(e.value, convert(e.value, name));
        }
        frozen_.push_back({v, name});
        return v;
      }
      case ObjType::Cell: {
        memo_[o] = v;
        auto* c = static_cast<CellObj*>(o);
        if (!c->value.is_undefined()) replace(c->value, convert(c->value, name));
        frozen_.push_back({v, name});
        return v;
      }
      case ObjType::BoundMethod: {
        memo_[o] = v;
        auto* bm = static_cast<BoundMethodObj*>(o);
        replace(bm->self, convert(bm->self, name));
        return v;
      }
      case ObjType::Module: {
        // A module reached as a value keeps all its globals (frozen).
        memo_[o] = v;
        auto* m = static_cast<ModuleObj*>(o);
        for (size_t i = 0; i < m->slots.size(); ++i)
          if (!m->slots[i].is_undefined()) replace(m->slots[i], convert(m->slots[i], m->slot_names[i]->data));
        frozen_.push_back({v, name});
        return v;
      }
      case ObjType::Function: return convert_function(static_cast<FunctionObj*>(o), name);
      case ObjType::Code:
        if (static_cast<CodeObj*>(o)->is_register) {
          memo_[o] = v;
          convert_consts(static_cast<CodeObj*>(o));
          return v;
        }
        throw ProgramError{"tvm-pack: cannot freeze a code value ('" + name + "')\n", kExitProgramFailed};
      case ObjType::Iter:
        throw ProgramError{"tvm-pack: cannot freeze '" + name + "': a package cannot hold an iterator\n", kExitProgramFailed};
    }
    return v;
  }

  std::vector<Ref> holds;
  std::vector<std::pair<Value, std::string>> frozen_;

 private:
  // Stores the converted value in a slot that held the original (both alive: the memo keeps them).
  void replace(Value& slot, Value converted) {
    if (slot.bits() == converted.bits()) return;
    incref(converted);
    decref(slot);
    slot = converted;
  }

  Diagnostics& diag_for(const CodeObj* code) {
    for (auto& lm : sources_)
      if (lm.source && lm.source->name() == code->filename) {
        auto& d = diags_[lm.source.get()];
        if (!d) d = std::make_unique<Diagnostics>(*lm.source);
        return *d;
      }
    if (!fallback_src_) fallback_src_ = std::make_unique<SourceFile>(code->filename, "");
    auto& d = diags_[fallback_src_.get()];
    if (!d) d = std::make_unique<Diagnostics>(*fallback_src_);
    return *d;
  }

  void throw_diagnostics() {
    std::string text;
    for (auto& [src, d] : diags_)
      for (const Diagnostic& e : d->errors()) text += d->format(e);
    throw ProgramError{text.empty() ? "tvm-pack: cannot compile the entry\n" : text, kExitProgramFailed};
  }

  // The module a packaged function runs in: the same slot layout with every global unset, so
  // a name the code still looks up at run time falls back to the builtin or is not defined,
  // as it would be interpreted. (Frozen globals became constants in the code.)
  ModuleObj* stub_module(ModuleObj* m) {
    if (auto it = stubs_.find(m); it != stubs_.end()) return it->second;
    auto* s = new ModuleObj(m->name);
    incref(m->name);
    s->path = m->path;
    for (size_t i = 0; i < m->slot_names.size(); ++i) s->slot(m->slot_names[i]->data);
    s->slot_builtin = m->slot_builtin;
    holds.push_back(Ref::steal(Value::object(s)));
    stubs_[m] = s;
    frozen_.push_back({Value::object(s), m->name->data});
    return s;
  }

  Value convert_function(FunctionObj* fn, const std::string& name) {
    Value v = Value::object(fn);
    if (fn->code->is_register) {
      memo_[fn] = v;
      convert_consts(fn->code);
      return v;
    }
    if (!fn->code->ast)
      throw ProgramError{"tvm-pack: cannot compile '" + fn->code->name + "': no source\n", kExitProgramFailed};
    RegCompileEnv env;
    env.frozen_globals = true;
    env.specialise = true;
    env.fuse = options_.fuse;
    CodeObj* code = emit_register_function(fn, env, [this](const CodeObj* c) -> Diagnostics& { return diag_for(c); });
    if (!code) throw_diagnostics();
    auto* out = new FunctionObj(code, stub_module(fn->module));  // adopts code
    incref(out->module);
    Value ov = Value::object(out);
    holds.push_back(Ref::steal(ov));
    memo_[fn] = ov;
    for (Value d : fn->defaults) {
      Value c = convert(d, name);
      incref(c);
      out->defaults.push_back(c);
    }
    for (size_t i = 0; i < fn->cells.size(); ++i) {
      const std::string cell_name = i < fn->code->free_names.size() ? fn->code->free_names[i]->data : name;
      Value c = convert(Value::object(fn->cells[i]), cell_name);
      incref(c);
      out->cells.push_back(static_cast<CellObj*>(c.as_obj()));
    }
    convert_consts(code);
    return ov;
  }

  void convert_consts(CodeObj* code) {
    if (!consts_done_.insert(code).second) return;
    for (Value& k : code->consts) replace(k, convert(k, code->name));
  }

  const PackOptions& options_;
  std::vector<LoadedModule>& sources_;
  std::unordered_map<Obj*, std::pair<Ref, std::string>> global_names_;
  std::unordered_map<Obj*, Value> memo_;
  std::unordered_map<ModuleObj*, ModuleObj*> stubs_;
  std::set<CodeObj*> consts_done_;
  std::map<const SourceFile*, std::unique_ptr<Diagnostics>> diags_;
  std::unique_ptr<SourceFile> fallback_src_;
};

void pack_function(Packed& out, const std::string& path, std::string source, const std::string& entry, const PackOptions& options) {
  Program& p = *out.program;
  std::string module_name = stem_of(path);
  Ref entry_fn;
  Freezer freezer(options, out.sources);
  {
    StackVM vm;
    LoaderOptions lo;
    lo.search_path = options.search_path;
    lo.keep = &out.sources;
    lo.main_name = module_name;
    install_importer(vm, lo);
    std::string captured;
    int rc;
    try {
      rc = run_main(vm, path, std::move(source), lo);
    } catch (const ProgramError& e) {
      std::fflush(stdout);
      throw;
    }
    if (rc != kExitOk) throw ProgramError{"", rc};  // compile errors were printed
    ModuleObj* m = vm.modules[module_name];
    Value f = m->get(entry);
    if (f.is_undefined())
      throw ProgramError{"tvm-pack: '" + path + "' has no function '" + entry + "' to be the package's entry\n", kExitProgramFailed};
    if (!is_type(f, ObjType::Function))
      throw ProgramError{"tvm-pack: the entry '" + entry + "' is not a function (its type is '" + type_name(f) + "')\n", kExitProgramFailed};
    entry_fn = Ref::borrow(f);
    freezer.name_globals(m);
    for (auto& [name, mod] : vm.modules)
      if (mod != m) freezer.name_globals(mod);
    // The VM goes away here: the entry (and what it reaches) stays alive through entry_fn.
  }
  auto* fn = as_obj<FunctionObj>(entry_fn.get());
  const CodeObj* c = fn->code;
  auto* def = static_cast<const ast::FunctionDef*>(c->ast);
  std::string file = c->filename;
  if (c->has_varargs) pack_error(file, def ? def->vararg_loc : ast::Loc{}, "the package entry '" + entry + "' cannot take *" + (def ? def->vararg : std::string("args")));
  for (int i = 0; i < c->nparams; ++i) {
    bool annotated = size_t(i) < c->param_annotations.size() && c->param_annotations[i].kind != Annotation::Any;
    if (!annotated) {
      ast::Loc loc = def && size_t(i) < def->params.size() ? def->params[i].loc : ast::Loc{};
      pack_error(file, loc, "parameter '" + c->slot_names[i]->data + "' of the package entry '" + entry +
                                "' needs an annotation (int, float, bool, str or Tensor[...])");
    }
  }
  if (!fn->defaults.empty()) {
    // Inputs are all required by name; a default would never be used.
  }
  Value entry_value = freezer.convert(entry_fn.get(), entry);
  // Freeze in the order reached, so each object is named by the first name that reached it.
  for (auto& [v, name] : freezer.frozen_) freeze_value(v, name);
  p.entry = entry_value;
  p.holds = std::move(freezer.holds);
  p.holds.push_back(std::move(entry_fn));

  Manifest& mf = p.manifest;
  mf.is_script = false;
  mf.entry = entry;
  const CodeObj* rc = as_obj<FunctionObj>(entry_value)->code;
  for (int i = 0; i < rc->nparams; ++i) mf.inputs.push_back({rc->slot_names[i]->data, rc->param_annotations[i]});
  mf.output = rc->return_annotation;
  mf.dim_names = rc->dim_names;
}

}  // namespace

Packed pack_program(const std::string& path, std::string source, const PackOptions& options) {
  Packed out;
  out.program = std::make_unique<Program>();
  Program& p = *out.program;
  p.manifest.name = stem_of(path);
  p.manifest.source_name = path;
  p.manifest.producer = std::string("tvm-pack ") + TVM_VERSION;

  std::string entry = options.entry;
  if (entry.empty() && !options.script) {
    SourceFile probe(path, source);
    std::unique_ptr<ast::Module> tree = parse_or_throw(probe);
    if (binds_at_top_level(*tree, "forward")) entry = "forward";
  }
  if (entry.empty()) pack_script(out, path, std::move(source), options);
  else pack_function(out, path, std::move(source), entry, options);
  for (auto& lm : out.sources) p.sources.push_back({lm.source->name(), lm.source->text()});
  return out;
}

}  // namespace tvm
