// Operator spellings and the S-expression dumper of ast.h.
#include "ast.h"

#include <charconv>
#include <cstdio>
#include <initializer_list>

namespace tvm::ast {

const char* binop_symbol(BinOp op) {
  switch (op) {
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::FloorDiv: return "//";
    case BinOp::Mod: return "%";
    case BinOp::Pow: return "**";
    case BinOp::MatMul: return "@";
    case BinOp::LShift: return "<<";
    case BinOp::RShift: return ">>";
    case BinOp::BitAnd: return "&";
    case BinOp::BitOr: return "|";
    case BinOp::BitXor: return "^";
  }
  return "?";
}

const char* cmpop_symbol(CmpOp op) {
  switch (op) {
    case CmpOp::Lt: return "<";
    case CmpOp::Le: return "<=";
    case CmpOp::Gt: return ">";
    case CmpOp::Ge: return ">=";
    case CmpOp::Eq: return "==";
    case CmpOp::Ne: return "!=";
    case CmpOp::In: return "in";
    case CmpOp::NotIn: return "not in";
    case CmpOp::Is: return "is";
    case CmpOp::IsNot: return "is not";
  }
  return "?";
}

namespace {

class Dumper {
 public:
  std::string out;

  void expr(const Expr* e) {
    if (!e) {
      out += '_';
      return;
    }
    switch (e->kind) {
      case ExprKind::Name: out += as<NameExpr>(*e).id; return;
      case ExprKind::Int: out += std::to_string(as<IntExpr>(*e).value); return;
      case ExprKind::Float: number(as<FloatExpr>(*e).value); return;
      case ExprKind::Str: quote(as<StrExpr>(*e).value); return;
      case ExprKind::True: out += "True"; return;
      case ExprKind::False: out += "False"; return;
      case ExprKind::None: out += "None"; return;
      case ExprKind::FString: {
        out += "(f";
        for (auto& p : as<FStringExpr>(*e).parts) {
          out += ' ';
          if (!p.expr) {
            quote(p.literal);
            continue;
          }
          out += '{';
          expr(p.expr.get());
          if (p.conversion) (out += '!') += p.conversion;
          if (!p.spec.empty()) (out += ':') += p.spec;
          out += '}';
        }
        out += ')';
        return;
      }
      case ExprKind::List: list("(list", as<ListExpr>(*e).elts); return;
      case ExprKind::Tuple: list("(tuple", as<TupleExpr>(*e).elts); return;
      case ExprKind::Dict: {
        auto& d = as<DictExpr>(*e);
        out += "(dict";
        for (size_t i = 0; i < d.keys.size(); ++i) {
          out += " (";
          expr(d.keys[i].get());
          out += ' ';
          expr(d.values[i].get());
          out += ')';
        }
        out += ')';
        return;
      }
      case ExprKind::ListComp:
      case ExprKind::DictComp: {
        auto& c = as<CompExpr>(*e);
        out += e->kind == ExprKind::ListComp ? "(listcomp " : "(dictcomp ";
        expr(c.elt.get());
        if (e->kind == ExprKind::DictComp) {
          out += ' ';
          expr(c.value.get());
        }
        for (auto& g : c.generators) {
          out += " (for ";
          expr(g.target.get());
          out += ' ';
          expr(g.iter.get());
          for (auto& i : g.ifs) {
            out += " (if ";
            expr(i.get());
            out += ')';
          }
          out += ')';
        }
        out += ')';
        return;
      }
      case ExprKind::BinOp: {
        auto& b = as<BinOpExpr>(*e);
        node(binop_symbol(b.op), {b.left.get(), b.right.get()});
        return;
      }
      case ExprKind::Unary: {
        auto& u = as<UnaryExpr>(*e);
        static const char* const names[] = {"-", "+", "~", "not"};
        node(names[int(u.op)], {u.operand.get()});
        return;
      }
      case ExprKind::BoolOp: {
        auto& b = as<BoolOpExpr>(*e);
        node(b.is_and ? "and" : "or", {b.left.get(), b.right.get()});
        return;
      }
      case ExprKind::Compare: {
        auto& c = as<CompareExpr>(*e);
        out += "(cmp ";
        expr(c.left.get());
        for (size_t i = 0; i < c.ops.size(); ++i) {
          ((out += ' ') += cmpop_symbol(c.ops[i])) += ' ';
          expr(c.comparators[i].get());
        }
        out += ')';
        return;
      }
      case ExprKind::IfExp: {
        auto& i = as<IfExpExpr>(*e);
        node("ifexp", {i.cond.get(), i.then.get(), i.orelse.get()});
        return;
      }
      case ExprKind::Lambda: {
        auto& fn = *as<LambdaExpr>(*e).fn;
        out += "(lambda ";
        params(fn);
        for (auto& s : fn.body)
          if (s->kind == StmtKind::Return) {
            out += ' ';
            expr(as<ReturnStmt>(*s).value.get());
          }
        out += ')';
        return;
      }
      case ExprKind::Call: {
        auto& c = as<CallExpr>(*e);
        out += "(call ";
        expr(c.func.get());
        for (auto& a : c.args) {
          out += ' ';
          expr(a.get());
        }
        for (auto& k : c.keywords) {
          out += " (kw " + k.name + ' ';
          expr(k.value.get());
          out += ')';
        }
        out += ')';
        return;
      }
      case ExprKind::Attribute: {
        auto& a = as<AttributeExpr>(*e);
        out += "(. ";
        expr(a.value.get());
        out += ' ' + a.attr + ')';
        return;
      }
      case ExprKind::Subscript: {
        auto& s = as<SubscriptExpr>(*e);
        node("[]", {s.value.get(), s.index.get()});
        return;
      }
      case ExprKind::Slice: {
        auto& s = as<SliceExpr>(*e);
        node(":", {s.lower.get(), s.upper.get(), s.step.get()});
        return;
      }
      case ExprKind::Starred: node("*", {as<StarredExpr>(*e).value.get()}); return;
    }
  }

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Expr: expr(as<ExprStmt>(s).value.get()); return;
      case StmtKind::Assign: {
        auto& a = as<AssignStmt>(s);
        out += "(=";
        for (auto& t : a.targets) {
          out += ' ';
          expr(t.get());
        }
        out += ' ';
        expr(a.value.get());
        out += ')';
        return;
      }
      case StmtKind::AugAssign: {
        auto& a = as<AugAssignStmt>(s);
        node((std::string(binop_symbol(a.op)) + "=").c_str(), {a.target.get(), a.value.get()});
        return;
      }
      case StmtKind::If: {
        auto& i = as<IfStmt>(s);
        out += "(if ";
        expr(i.cond.get());
        block(i.body, i.orelse);
        return;
      }
      case StmtKind::While: {
        auto& w = as<WhileStmt>(s);
        out += "(while ";
        expr(w.cond.get());
        block(w.body, w.orelse);
        return;
      }
      case StmtKind::For: {
        auto& f = as<ForStmt>(s);
        out += "(for ";
        expr(f.target.get());
        out += ' ';
        expr(f.iter.get());
        block(f.body, f.orelse);
        return;
      }
      case StmtKind::Break: out += "(break)"; return;
      case StmtKind::Continue: out += "(continue)"; return;
      case StmtKind::Pass: out += "(pass)"; return;
      case StmtKind::Return: {
        auto& r = as<ReturnStmt>(s);
        out += "(return";
        if (r.value) {
          out += ' ';
          expr(r.value.get());
        }
        out += ')';
        return;
      }
      case StmtKind::FunctionDef: {
        auto& fn = as<FunctionDef>(s);
        out += "(def " + fn.name + ' ';
        params(fn);
        if (fn.returns) {
          out += " -> ";
          expr(fn.returns.get());
        }
        block(fn.body, {});
        return;
      }
      case StmtKind::Global:
      case StmtKind::Nonlocal: {
        out += s.kind == StmtKind::Global ? "(global" : "(nonlocal";
        for (auto& n : as<NamesStmt>(s).names) out += ' ' + n;
        out += ')';
        return;
      }
      case StmtKind::Import: {
        out += "(import";
        aliases(as<ImportStmt>(s).names);
        return;
      }
      case StmtKind::ImportFrom: {
        auto& i = as<ImportFromStmt>(s);
        out += "(from " + i.module;
        aliases(i.names);
        return;
      }
      case StmtKind::Assert: {
        auto& a = as<AssertStmt>(s);
        out += "(assert ";
        expr(a.test.get());
        if (a.msg) {
          out += ' ';
          expr(a.msg.get());
        }
        out += ')';
        return;
      }
    }
  }

 private:
  void node(const char* head, std::initializer_list<const Expr*> kids) {
    (out += '(') += head;
    for (const Expr* x : kids) {
      out += ' ';
      expr(x);
    }
    out += ')';
  }

  void list(const char* head, const ExprList& elts) {
    out += head;
    for (auto& x : elts) {
      out += ' ';
      expr(x.get());
    }
    out += ')';
  }

  void block(const StmtList& body, const StmtList& orelse) {
    for (auto& s : body) {
      out += ' ';
      stmt(*s);
    }
    if (!orelse.empty()) {
      out += " else";
      for (auto& s : orelse) {
        out += ' ';
        stmt(*s);
      }
    }
    out += ')';
  }

  void params(const FunctionDef& fn) {
    out += '(';
    bool first = true;
    auto sep = [&] {
      if (!first) out += ' ';
      first = false;
    };
    for (auto& p : fn.params) {
      sep();
      if (!p.annotation && !p.default_value) {
        out += p.name;
        continue;
      }
      out += '(' + p.name;
      if (p.annotation) {
        out += " : ";
        expr(p.annotation.get());
      }
      if (p.default_value) {
        out += " = ";
        expr(p.default_value.get());
      }
      out += ')';
    }
    if (!fn.vararg.empty()) {
      sep();
      if (fn.vararg_annotation) {
        out += "(*" + fn.vararg + " : ";
        expr(fn.vararg_annotation.get());
        out += ')';
      } else {
        out += '*' + fn.vararg;
      }
    }
    out += ')';
  }

  void aliases(const std::vector<ImportAlias>& names) {
    for (auto& a : names) {
      if (a.asname.empty()) out += ' ' + a.name;
      else out += " (" + a.name + " as " + a.asname + ')';
    }
    out += ')';
  }

  void number(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, end);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";  // 1.0, not 1; inf, nan as is
    out += s;
  }

  void quote(const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
          } else {
            out += char(c);
          }
      }
    }
    out += '"';
  }
};

}  // namespace

std::string dump(const Expr& e) {
  Dumper d;
  d.expr(&e);
  return d.out;
}

std::string dump(const Stmt& s) {
  Dumper d;
  d.stmt(s);
  return d.out;
}

std::string dump(const Module& m) {
  std::string out;
  for (auto& s : m.body) {
    if (!out.empty()) out += '\n';
    out += dump(*s);
  }
  return out;
}

}  // namespace tvm::ast
