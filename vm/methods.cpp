// Methods of str, list and dict (LANGUAGE.md §7): one table of BuiltinDef rows per receiver
// type. A method's first positional argument is its receiver, and min/max count it.
// Semantics are Python 3's; the simplifications TL makes are noted where they happen.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "builtins.h"
#include "error.h"
#include "ops.h"
#include "program.h"
#include "tensor_ops.h"
#include "vm.h"

namespace tvm {

// ---------------------------------------------------------------- UTF-8
// Code points are walked with utf8_decode (object.h), so every count here agrees with
// StrObj::len() even on malformed text.

bool is_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {


// Which code points `chars` lists (strip's argument); Undefined means whitespace.
struct CharSet {
  std::vector<char32_t> chars;
  bool whitespace;
  explicit CharSet(Value v) : whitespace(v.is_undefined()) {
    if (whitespace) return;
    std::string_view s = str_view(v);
    for (size_t i = 0; i < s.size();) chars.push_back(utf8_decode(s, i));
  }
  bool has(char32_t c) const {
    return whitespace ? is_space(c) : std::find(chars.begin(), chars.end(), c) != chars.end();
  }
};

std::string_view strip_set(std::string_view s, const CharSet& set, bool left, bool right) {
  size_t begin = 0;
  while (left && begin < s.size()) {
    size_t next = begin;
    if (!set.has(utf8_decode(s, next))) break;
    begin = next;
  }
  size_t end = s.size();
  if (right) {  // forwards, as UTF-8 cannot be decoded backwards reliably when malformed
    end = begin;
    for (size_t pos = begin; pos < s.size();)
      if (!set.has(utf8_decode(s, pos))) end = pos;
  }
  return s.substr(begin, end - begin);
}

}  // namespace

std::string_view strip_whitespace(std::string_view s) {
  return strip_set(s, CharSet(Value::undefined()), true, true);
}

namespace {

// ---------------------------------------------------------------- helpers

Value new_ref(Value v) {
  incref(v);
  return v;
}
bool is_str(Value v) { return is_type(v, ObjType::Str); }

// The receiver as a StrObj, with its length (and so its `ascii` flag) computed.
StrObj* receiver_str(const CallArgs& a) {
  StrObj* s = as_obj<StrObj>(a.pos[0]);
  s->len();
  return s;
}

// A str argument, else Python's "must be str, not int".
std::string_view str_arg(Value v, const char* prefix = "") {
  if (!is_str(v)) throw_error(std::string(prefix) + "must be str, not " + type_name(v));
  return str_view(v);
}

// Code point index <-> byte offset in s (0 <= cp <= len).
size_t byte_offset(StrObj* s, int64_t cp) {
  if (s->ascii || cp == 0) return size_t(cp);
  if (cp >= s->len()) return s->data.size();
  size_t pos = 0;
  for (int64_t k = 0; k < cp; ++k) utf8_decode(s->data, pos);
  return pos;
}
int64_t code_point_index(StrObj* s, size_t byte) {
  if (s->ascii) return int64_t(byte);
  int64_t n = 0;
  for (size_t pos = 0; pos < byte; ++n) utf8_decode(s->data, pos);
  return n;
}

// The optional start/end arguments of find, count, startswith and endswith, adjusted as
// CPython's ADJUST_INDICES: end is clamped into [0, len], start only from below.
struct CodePointRange {
  int64_t start, end;
};
CodePointRange slice_args(const CallArgs& a, uint32_t first, int64_t len) {
  auto index = [&](uint32_t i, int64_t dflt) {
    if (i >= a.npos || a.pos[i].is_none()) return dflt;
    Value v = a.pos[i];
    if (!v.is_int() && !v.is_bool()) throw_error("slice indices must be integers or None or have an __index__ method");
    return int_arg(v);
  };
  int64_t start = index(first, 0), end = index(first + 1, len);
  if (end > len) end = len;
  else if (end < 0) end = std::max<int64_t>(end + len, 0);
  if (start < 0) start = std::max<int64_t>(start + len, 0);
  return {start, end};
}

// s[range] as bytes; precondition: range.start <= range.end.
std::string_view byte_view(StrObj* s, CodePointRange r) {
  size_t b0 = byte_offset(s, r.start), b1 = byte_offset(s, r.end);
  return std::string_view(s->data).substr(b0, b1 - b0);
}

// ---------------------------------------------------------------- str

Value str_split(VM&, const CallArgs& a) {
  std::string_view s = str_view(a.pos[0]);
  Value sep_arg = native_arg(a, 1, "sep", "split"), max_arg = native_arg(a, 2, "maxsplit", "split");
  int64_t maxsplit = max_arg.is_undefined() ? -1 : int_arg(max_arg);
  if (maxsplit < 0) maxsplit = INT64_MAX;
  OwnedValues parts;
  if (sep_arg.is_undefined() || sep_arg.is_none()) {
    // Runs of whitespace separate; the result has no empty strings. Once maxsplit is reached
    // the rest, less its leading whitespace, is the last part.
    size_t i = 0;
    auto skip = [&](bool space) {  // past code points that are (or are not) whitespace
      for (size_t next = i; i < s.size() && is_space(utf8_decode(s, next)) == space; next = i) i = next;
    };
    for (; maxsplit > 0; --maxsplit) {
      skip(true);
      if (i == s.size()) break;
      size_t j = i;
      skip(false);
      parts.items.push_back(make_str(s.substr(j, i - j)));
    }
    skip(true);
    if (i < s.size()) parts.items.push_back(make_str(s.substr(i)));
  } else {
    if (!is_str(sep_arg)) throw_error(std::string("must be str or None, not ") + type_name(sep_arg));
    std::string_view sep = str_view(sep_arg);
    if (sep.empty()) throw_error("empty separator");
    size_t i = 0;
    for (; maxsplit > 0; --maxsplit) {
      size_t j = s.find(sep, i);
      if (j == std::string_view::npos) break;
      parts.items.push_back(make_str(s.substr(i, j - i)));
      i = j + sep.size();
    }
    parts.items.push_back(make_str(s.substr(i)));
  }
  return make_list(parts.take());
}

Value str_join(VM&, const CallArgs& a) {
  std::string_view sep = str_view(a.pos[0]);
  OwnedValues items(collect(a.pos[1]));
  std::string out;
  for (size_t i = 0; i < items.items.size(); ++i) {
    Value v = items.items[i];
    if (!is_str(v))
      throw_error("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(v) + " found");
    if (i) out += sep;
    out += str_view(v);
  }
  return make_str(out);
}

Value strip_impl(const CallArgs& a, bool left, bool right, const char* name) {
  Value chars = a.npos > 1 && !a.pos[1].is_none() ? a.pos[1] : Value::undefined();
  if (!chars.is_undefined() && !is_str(chars)) throw_error(std::string(name) + " arg must be None or str");
  std::string_view s = str_view(a.pos[0]), stripped = strip_set(s, CharSet(chars), left, right);
  return stripped.size() == s.size() ? new_ref(a.pos[0]) : make_str(stripped);
}
Value str_strip(VM&, const CallArgs& a) { return strip_impl(a, true, true, "strip"); }
Value str_lstrip(VM&, const CallArgs& a) { return strip_impl(a, true, false, "lstrip"); }
Value str_rstrip(VM&, const CallArgs& a) { return strip_impl(a, false, true, "rstrip"); }

// startswith / endswith: the affix is a str or a tuple of str.
Value affix_impl(const CallArgs& a, bool at_start, const char* name) {
  StrObj* s = receiver_str(a);
  CodePointRange r = slice_args(a, 2, s->len());
  auto matches = [&](Value affix) {
    if (!is_str(affix))
      throw_error(std::string("tuple for ") + name + " must only contain str, not " + type_name(affix));
    StrObj* p = as_obj<StrObj>(affix);
    if (r.end - r.start < p->len()) return false;
    std::string_view view = byte_view(s, r);
    return at_start ? view.starts_with(p->data) : view.ends_with(p->data);
  };
  Value affix = a.pos[1];
  if (is_type(affix, ObjType::Tuple)) {
    for (Value item : as_obj<TupleObj>(affix)->items)
      if (matches(item)) return Value::boolean(true);
    return Value::boolean(false);
  }
  if (!is_str(affix))
    throw_error(std::string(name) + " first arg must be str or a tuple of str, not " + type_name(affix));
  return Value::boolean(matches(affix));
}
Value str_startswith(VM&, const CallArgs& a) { return affix_impl(a, true, "startswith"); }
Value str_endswith(VM&, const CallArgs& a) { return affix_impl(a, false, "endswith"); }

// find(sub[, start[, end]]): the code point index of the first match, or -1.
Value str_find(VM&, const CallArgs& a) {
  StrObj* s = receiver_str(a);
  str_arg(a.pos[1]);
  StrObj* sub = as_obj<StrObj>(a.pos[1]);
  CodePointRange r = slice_args(a, 2, s->len());
  if (r.end - r.start < sub->len()) return Value::small_int(-1);
  size_t from = byte_offset(s, r.start);
  size_t at = byte_view(s, r).find(sub->data);
  return Value::integer(at == std::string_view::npos ? -1 : code_point_index(s, from + at));
}

// count(sub[, start[, end]]): non-overlapping matches.
Value str_count(VM&, const CallArgs& a) {
  StrObj* s = receiver_str(a);
  str_arg(a.pos[1]);
  StrObj* sub = as_obj<StrObj>(a.pos[1]);
  CodePointRange r = slice_args(a, 2, s->len());
  if (r.end - r.start < sub->len()) return Value::small_int(0);
  if (sub->data.empty()) return Value::integer(r.end - r.start + 1);
  std::string_view view = byte_view(s, r);
  int64_t n = 0;
  for (size_t at = view.find(sub->data); at != std::string_view::npos; at = view.find(sub->data, at + sub->data.size()))
    ++n;
  return Value::integer(n);
}

Value str_replace(VM&, const CallArgs& a) {
  std::string_view s = str_view(a.pos[0]);
  std::string_view old = str_arg(a.pos[1], "replace() argument 1 "), repl = str_arg(a.pos[2], "replace() argument 2 ");
  int64_t count = a.npos > 3 ? int_arg(a.pos[3]) : -1;
  if (count < 0) count = INT64_MAX;
  std::string out;
  int64_t done = 0;
  if (old.empty()) {
    // An empty pattern matches before every code point and at the end.
    for (size_t i = 0;;) {
      if (done < count) {
        out += repl;
        ++done;
      }
      if (i == s.size()) break;
      size_t start = i;
      utf8_decode(s, i);
      out += s.substr(start, i - start);
    }
  } else {
    size_t i = 0;
    for (size_t at; done < count && (at = s.find(old, i)) != std::string_view::npos; ++done) {
      out += s.substr(i, at - i);
      out += repl;
      i = at + old.size();
    }
    out += s.substr(i);
  }
  return done == 0 ? new_ref(a.pos[0]) : make_str(out);
}

// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic, one code point to
// one (plus 'ß'.upper() == 'SS'); other code points map to themselves. Python maps all of
// Unicode, including context rules such as the final sigma, which TL does not.
char32_t to_lower(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  return c;
}
char32_t to_upper(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0x131) return 'I';
  if (c == 0x17F) return 'S';
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c & ~char32_t(1);
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 ? c : c - 1;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3C2) return 0x3A3;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x3B1 && c <= 0x3CB) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

Value change_case(const CallArgs& a, bool upper) {
  StrObj* s = receiver_str(a);
  std::string out;
  out.reserve(s->data.size());
  if (s->ascii) {
    for (char c : s->data) out += char(upper ? to_upper(uint8_t(c)) : to_lower(uint8_t(c)));
  } else {
    for (size_t i = 0; i < s->data.size();) {
      char32_t c = utf8_decode(s->data, i);
      if (upper && c == 0xDF) out += "SS";
      else append_utf8(out, upper ? to_upper(c) : to_lower(c));
    }
  }
  return make_str(out);
}
Value str_upper(VM&, const CallArgs& a) { return change_case(a, true); }
Value str_lower(VM&, const CallArgs& a) { return change_case(a, false); }

// isdigit / isalpha / isspace: true when the string is not empty and every code point is one.
// Digits are ASCII's and the superscripts ¹ ² ³; letters are exact for ASCII and Latin-1,
// and beyond that any code point outside the blocks of marks, punctuation, symbols and
// whitespace (Python consults the full Unicode database).
bool is_digit(char32_t c) { return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9; }
bool is_alpha(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  if (c < 0x100) return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
  return !(c >= 0x300 && c <= 0x36F) && !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0x3000 && c <= 0x303F) &&
         !(c >= 0xFF00 && c <= 0xFF20) && c < 0x1F000 && !is_space(c);
}
Value classify(const CallArgs& a, bool (*pred)(char32_t)) {
  std::string_view s = str_view(a.pos[0]);
  if (s.empty()) return Value::boolean(false);
  for (size_t i = 0; i < s.size();)
    if (!pred(utf8_decode(s, i))) return Value::boolean(false);
  return Value::boolean(true);
}
Value str_isdigit(VM&, const CallArgs& a) { return classify(a, is_digit); }
Value str_isalpha(VM&, const CallArgs& a) { return classify(a, is_alpha); }
Value str_isspace(VM&, const CallArgs& a) { return classify(a, is_space); }

constexpr BuiltinDef kStrMethods[] = {
    // name         fn              min max keywords (min/max count the receiver)
    {"split",      str_split,      1, 3, "sep maxsplit"},
    {"join",       str_join,       2, 2, ""},
    {"strip",      str_strip,      1, 2, ""},
    {"lstrip",     str_lstrip,     1, 2, ""},
    {"rstrip",     str_rstrip,     1, 2, ""},
    {"startswith", str_startswith, 2, 4, ""},
    {"endswith",   str_endswith,   2, 4, ""},
    {"find",       str_find,       2, 4, ""},
    {"count",      str_count,      2, 4, ""},
    {"replace",    str_replace,    3, 4, ""},
    {"upper",      str_upper,      1, 1, ""},
    {"lower",      str_lower,      1, 1, ""},
    {"isdigit",    str_isdigit,    1, 1, ""},
    {"isalpha",    str_isalpha,    1, 1, ""},
    {"isspace",    str_isspace,    1, 1, ""},
};

// ---------------------------------------------------------------- list

ListObj* receiver_list(const CallArgs& a) { return as_obj<ListObj>(a.pos[0]); }
// The receiver of a method that changes the list: not a frozen one (vm/program.h).
ListObj* mutable_list(const CallArgs& a) {
  check_not_frozen(a.pos[0].as_obj());
  return receiver_list(a);
}

Value list_append(VM&, const CallArgs& a) {
  mutable_list(a)->items.push_back(new_ref(a.pos[1]));
  return Value::none();
}

Value list_pop(VM&, const CallArgs& a) {
  std::vector<Value>& items = mutable_list(a)->items;
  int64_t i = a.npos > 1 ? int_arg(a.pos[1]) : -1;
  if (items.empty()) throw_error("pop from empty list");
  int64_t n = int64_t(items.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) throw_error("pop index out of range");
  Value v = items[size_t(i)];  // the list's reference passes to the caller
  items.erase(items.begin() + i);
  return v;
}

Value list_extend(VM&, const CallArgs& a) {
  std::vector<Value>& items = mutable_list(a)->items;
  std::vector<Value> more = collect(a.pos[1]);  // a snapshot first, so l.extend(l) doubles l
  items.insert(items.end(), more.begin(), more.end());
  return Value::none();
}

Value list_insert(VM&, const CallArgs& a) {
  std::vector<Value>& items = mutable_list(a)->items;
  int64_t n = int64_t(items.size()), i = int_arg(a.pos[1]);
  if (i < 0) i = std::max<int64_t>(i + n, 0);
  i = std::min(i, n);
  items.insert(items.begin() + i, new_ref(a.pos[2]));
  return Value::none();
}

// index(x[, start[, stop]]) with slice-style bounds, as Python.
Value list_index(VM&, const CallArgs& a) {
  const std::vector<Value>& items = receiver_list(a)->items;
  int64_t n = int64_t(items.size());
  auto bound = [&](uint32_t i, int64_t dflt) {
    if (i >= a.npos) return dflt;
    int64_t b = int_arg(a.pos[i]);
    return b < 0 ? std::max<int64_t>(b + n, 0) : std::min(b, n);
  };
  int64_t start = bound(2, 0), stop = bound(3, n);
  for (int64_t i = start; i < stop && i < int64_t(items.size()); ++i)
    if (equal(items[size_t(i)], a.pos[1])) return Value::integer(i);
  throw_error(repr(a.pos[1]) + " is not in list");
}

Value list_count(VM&, const CallArgs& a) {
  const std::vector<Value>& items = receiver_list(a)->items;
  return Value::integer(std::count_if(items.begin(), items.end(), [&](Value v) { return equal(v, a.pos[1]); }));
}

Value list_remove(VM&, const CallArgs& a) {
  std::vector<Value>& items = mutable_list(a)->items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (equal(items[i], a.pos[1])) {
      Value v = items[i];
      items.erase(items.begin() + ptrdiff_t(i));
      decref(v);
      return Value::none();
    }
  }
  throw_error("list.remove(x): x not in list");
}

Value list_reverse(VM&, const CallArgs& a) {
  std::vector<Value>& items = mutable_list(a)->items;
  std::reverse(items.begin(), items.end());
  return Value::none();
}

// sort(key=None, reverse=False). As CPython, the list is empty while it is being sorted, and a
// key function that changes it is the error "list modified during sort".
Value list_sort(VM& vm, const CallArgs& a) {
  ListObj* list = mutable_list(a);
  Value reverse_arg = a.kw("reverse");
  bool reverse = !reverse_arg.is_undefined() && int_arg(reverse_arg) != 0;
  OwnedValues items(std::exchange(list->items, {}));
  auto put_back = [&] {
    OwnedValues added(std::exchange(list->items, items.take()));
    return added.items.empty();
  };
  try {
    sort_values(vm, items.items, a.kw("key"), reverse);
  } catch (...) {
    put_back();
    throw;
  }
  if (!put_back()) throw_error("list modified during sort");
  return Value::none();
}

Value list_copy(VM&, const CallArgs& a) {
  std::vector<Value> items = receiver_list(a)->items;
  for (Value v : items) incref(v);
  return make_list(std::move(items));
}

constexpr BuiltinDef kListMethods[] = {
    // name      fn            min max keywords (min/max count the receiver)
    {"append",  list_append,  2, 2, ""},
    {"pop",     list_pop,     1, 2, ""},
    {"extend",  list_extend,  2, 2, ""},
    {"insert",  list_insert,  3, 3, ""},
    {"index",   list_index,   2, 4, ""},
    {"count",   list_count,   2, 2, ""},
    {"remove",  list_remove,  2, 2, ""},
    {"reverse", list_reverse, 1, 1, ""},
    {"sort",    list_sort,    1, 1, "key reverse"},
    {"copy",    list_copy,    1, 1, ""},
};

// ---------------------------------------------------------------- dict
// keys(), values() and items() give lists in TL (Python gives views). TL dicts have no
// deletion in v1, so there is no pop or del.

const std::vector<DictObj::Entry>& receiver_entries(const CallArgs& a) { return as_obj<DictObj>(a.pos[0])->entries; }

template <typename F>
Value entries_to_list(const CallArgs& a, F item) {
  OwnedValues out;
  out.items.reserve(receiver_entries(a).size());
  for (const DictObj::Entry& e : receiver_entries(a)) out.items.push_back(item(e));
  return make_list(out.take());
}
Value dict_keys(VM&, const CallArgs& a) {
  return entries_to_list(a, [](const DictObj::Entry& e) { return new_ref(e.key); });
}
Value dict_values(VM&, const CallArgs& a) {
  return entries_to_list(a, [](const DictObj::Entry& e) { return new_ref(e.value); });
}
Value dict_items(VM&, const CallArgs& a) {
  return entries_to_list(a, [](const DictObj::Entry& e) { return make_tuple({new_ref(e.key), new_ref(e.value)}); });
}

Value dict_get(VM&, const CallArgs& a) {
  Value v = as_obj<DictObj>(a.pos[0])->get(a.pos[1]);
  if (v.is_undefined()) v = a.npos > 2 ? a.pos[2] : Value::none();
  return new_ref(v);
}

constexpr BuiltinDef kDictMethods[] = {
    // name     fn           min max keywords (min/max count the receiver)
    {"keys",   dict_keys,   1, 1, ""},
    {"values", dict_values, 1, 1, ""},
    {"items",  dict_items,  1, 1, ""},
    {"get",    dict_get,    2, 3, ""},
};

// ---------------------------------------------------------------- lookup

class MethodTable {
 public:
  explicit MethodTable(std::span<const BuiltinDef> rows) {
    for (const BuiltinDef& row : rows) by_name_.emplace(row.name, &row);
  }
  const BuiltinDef* find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string_view, const BuiltinDef*> by_name_;
};

}  // namespace

const BuiltinDef* find_method(Value obj, std::string_view name) {
  if (!obj.is_obj()) return nullptr;
  static const MethodTable str_methods(kStrMethods), list_methods(kListMethods), dict_methods(kDictMethods);
  switch (obj.as_obj()->type) {
    case ObjType::Str: return str_methods.find(name);
    case ObjType::List: return list_methods.find(name);
    case ObjType::Dict: return dict_methods.find(name);
    case ObjType::Tensor: return tensor_method(name);
    default: return nullptr;
  }
}

}  // namespace tvm
