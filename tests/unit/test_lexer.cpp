// The lexer: tokens for every literal form, line structure, and every lexical error.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "../../compiler/parse.h"

namespace {

// The token stream as one string, without the final EOF.
std::string lex(const std::string& text, std::string* errors = nullptr) {
  tvm::SourceFile src("t.tl", text);
  tvm::Diagnostics diag(src);
  std::vector<std::string> names = tvm::token_names(src, diag);
  std::string out;
  for (auto& n : names) {
    if (n == "EOF") continue;
    if (!out.empty()) out += ' ';
    out += n;
  }
  std::string errs;
  for (auto& d : diag.errors())
    errs += std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message + "\n";
  if (errors) *errors = errs;
  else BOOST_CHECK_MESSAGE(errs.empty(), "unexpected errors: " + errs);
  return out;
}

// The errors a text gives, "LINE:COL: MESSAGE" one per line.
std::string lex_errors(const std::string& text) {
  std::string errs;
  lex(text, &errs);
  return errs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lexer)

BOOST_AUTO_TEST_CASE(names_and_keywords) {
  BOOST_TEST(lex("x _y z9 ifx") == "NAME(x) NAME(_y) NAME(z9) NAME(ifx) NEWLINE");
  BOOST_TEST(lex("and as assert break continue def elif else False for from global if import") ==
             "and as assert break continue def elif else False for from global if import NEWLINE");
  BOOST_TEST(lex("in is lambda None nonlocal not or pass return True while") ==
             "in is lambda None nonlocal not or pass return True while NEWLINE");
}

BOOST_AUTO_TEST_CASE(integers) {
  BOOST_TEST(lex("0 123 1_000 0x1F 0X_ff 0o17 0b101 00") ==
             "INT(0) INT(123) INT(1000) INT(31) INT(255) INT(15) INT(5) INT(0) NEWLINE");
  BOOST_TEST(lex("9223372036854775807") == "INT(9223372036854775807) NEWLINE");
}

BOOST_AUTO_TEST_CASE(integer_too_large) {
  BOOST_TEST(lex_errors("x = 9223372036854775808") == "1:5: integer literal is too large\n");
  BOOST_TEST(lex_errors("x = 0xFFFFFFFFFFFFFFFFFF") == "1:5: integer literal is too large\n");
}

BOOST_AUTO_TEST_CASE(floats) {
  BOOST_TEST(lex("1.0 .5 1. 1e-3 2.5E+4 1_0.2_5 1e999") ==
             "FLOAT(1.0) FLOAT(0.5) FLOAT(1.0) FLOAT(0.001) FLOAT(25000.0) FLOAT(10.25) FLOAT(inf) NEWLINE");
  // Exact conversion: the nearest double, as Python's float().
  BOOST_TEST(lex("0.1 2.2250738585072014e-308") == "FLOAT(0.1) FLOAT(2.2250738585072014e-308) NEWLINE");
}

BOOST_AUTO_TEST_CASE(bad_numbers) {
  BOOST_TEST(lex_errors("x = 1_") == "1:5: invalid decimal literal\n");
  BOOST_TEST(lex_errors("x = 12abc") == "1:5: invalid decimal literal\n");
  BOOST_TEST(lex_errors("x = 0x") == "1:5: invalid hexadecimal literal\n");
  BOOST_TEST(lex_errors("x = 0o8") == "1:5: invalid octal literal\n");
  BOOST_TEST(lex_errors("x = 0b2") == "1:5: invalid binary literal\n");
  BOOST_TEST(lex_errors("x = 0123") == "1:5: leading zeros in decimal integer literals are not permitted\n");
}

BOOST_AUTO_TEST_CASE(strings) {
  BOOST_TEST(lex(R"('a' "b" '' "it's")") == R"(STRING("abit's") NEWLINE)");
  BOOST_TEST(lex(R"(x = 'a'
y = "b")") == R"(NAME(x) = STRING("a") NEWLINE NAME(y) = STRING("b") NEWLINE)");
}

BOOST_AUTO_TEST_CASE(string_escapes) {
  BOOST_TEST(lex(R"('\\ \' \" \n \t \r \0 \x41 \x7e')") == R"(STRING("\\ ' \" \n \t \r \x00 A ~") NEWLINE)");
  // Python's others: \a \b \f \v, octal, \u and \U.
  BOOST_TEST(lex(R"('\101\7\u00e9\U0001F600\a')") == "STRING(\"A\\x07\xC3\xA9\xF0\x9F\x98\x80\\x07\") NEWLINE");
  // \xHH is a code point, encoded as UTF-8.
  BOOST_TEST(lex(R"('\xe9')") == "STRING(\"\xC3\xA9\") NEWLINE");
  // An unknown escape keeps its backslash.
  BOOST_TEST(lex(R"('\d\q')") == R"(STRING("\\d\\q") NEWLINE)");
  // A backslash-newline inside a string continues it.
  BOOST_TEST(lex("'ab\\\ncd'") == R"(STRING("abcd") NEWLINE)");
}

BOOST_AUTO_TEST_CASE(bad_escapes) {
  BOOST_TEST(lex_errors(R"(x = 'a\x4')") == "1:7: truncated \\xXX escape\n");
  BOOST_TEST(lex_errors(R"(x = '\U00110000')") == "1:6: illegal Unicode character\n");
}

BOOST_AUTO_TEST_CASE(raw_and_prefixed_strings) {
  BOOST_TEST(lex(R"(r'\d+\n' R"\t" u'x' U"y")") == R"(STRING("\\d+\\n\\txy") NEWLINE)");
}

BOOST_AUTO_TEST_CASE(triple_quoted_strings) {
  BOOST_TEST(lex("x = '''a\nb'c''d'''") == R"(NAME(x) = STRING("a\nb'c''d") NEWLINE)");
  BOOST_TEST(lex("\"\"\"one \"quoted\"\n  two\"\"\"") == R"(STRING("one \"quoted\"\n  two") NEWLINE)");
  BOOST_TEST(lex("''''''") == R"(STRING("") NEWLINE)");
  // Indentation inside a triple-quoted string is text, not INDENT.
  BOOST_TEST(lex("if x:\n    s = '''\n  a\n'''\ny") ==
             R"(if NAME(x) : NEWLINE INDENT NAME(s) = STRING("\n  a\n") NEWLINE DEDENT NAME(y) NEWLINE)");
}

BOOST_AUTO_TEST_CASE(adjacent_strings_concatenate) {
  BOOST_TEST(lex("x = ('a'\n     'b' \"c\")") == R"(NAME(x) = ( STRING("abc") ) NEWLINE)");
  BOOST_TEST(lex("'a' \\\n'b'") == R"(STRING("ab") NEWLINE)");
  // Not across statements.
  BOOST_TEST(lex("'a'\n'b'") == R"(STRING("a") NEWLINE STRING("b") NEWLINE)");
}

BOOST_AUTO_TEST_CASE(unterminated_strings) {
  BOOST_TEST(lex_errors("x = 'abc\ny = 1") == "1:5: unterminated string literal\n");
  BOOST_TEST(lex_errors("x = f\"abc") == "1:6: unterminated string literal\n");
  BOOST_TEST(lex_errors("x = 1\ny = '''abc\n\nz") == "2:5: unterminated triple-quoted string literal\n");
  BOOST_TEST(lex_errors("s = 'a\\") == "1:5: unterminated string literal\n");
}

BOOST_AUTO_TEST_CASE(fstring_fields) {
  BOOST_TEST(lex(R"(f"a{x}b{y!r}{z:>10}{w!s:.2f}")") ==
             R"(FSTRING("a" {x} "b" {y!r} {z:>10} {w!s:.2f}) NEWLINE)");
  BOOST_TEST(lex(R"(F'{{x}}')") == R"(FSTRING("{x}") NEWLINE)");
  BOOST_TEST(lex("f'''{a\n + b}'''") == "FSTRING({a\n + b}) NEWLINE");
  // Brackets, strings and != inside a field; a ':' inside brackets is not a spec.
  BOOST_TEST(lex(R"(f"{d['}']}{a != b}{x[1:2]}")") == R"(FSTRING({d['}']} {a != b} {x[1:2]}) NEWLINE)");
}

BOOST_AUTO_TEST_CASE(fstring_concatenation) {
  BOOST_TEST(lex(R"('a' f'{x}' "b" f"c")") == R"(FSTRING("a" {x} "b" "c") NEWLINE)");
  BOOST_TEST(lex(R"(rf'\d{x}')") == R"(FSTRING("\\d" {x}) NEWLINE)");
}

BOOST_AUTO_TEST_CASE(fstring_errors) {
  BOOST_TEST(lex_errors("x = f'a}b'") == "1:8: f-string: single '}' is not allowed\n");
  BOOST_TEST(lex_errors("x = f'{}'") == "1:7: f-string: empty expression not allowed\n");
  BOOST_TEST(lex_errors("x = f'{ }'") == "1:7: f-string: empty expression not allowed\n");
  BOOST_TEST(lex_errors("x = f'{x'") == "1:7: f-string: expecting '}'\n");
  BOOST_TEST(lex_errors("x = f'{x!a}'") == "1:9: f-string: invalid conversion character: expected 's' or 'r'\n");
  BOOST_TEST(lex_errors(R"(x = f'{"\n"}')") == "1:9: f-string expression part cannot include a backslash\n");
  BOOST_TEST(lex_errors("x = f'{x:{w}}'") == "1:10: f-string: nested replacement fields are not supported in TL\n");
}

BOOST_AUTO_TEST_CASE(operators) {
  BOOST_TEST(lex("+ - * / // % ** @ << >> & | ^ ~ < > <= >= == != -> . , : ; =") ==
             "+ - * / // % ** @ << >> & | ^ ~ < > <= >= == != -> . , : ; = NEWLINE");
  BOOST_TEST(lex("a += b -= c *= d /= e //= f %= g **= h @= i &= j |= k ^= l <<= m >>= n") ==
             "NAME(a) += NAME(b) -= NAME(c) *= NAME(d) /= NAME(e) //= NAME(f) %= NAME(g) **= NAME(h) @= "
             "NAME(i) &= NAME(j) |= NAME(k) ^= NAME(l) <<= NAME(m) >>= NAME(n) NEWLINE");
  BOOST_TEST(lex("a**-b") == "NAME(a) ** - NAME(b) NEWLINE");
}

BOOST_AUTO_TEST_CASE(comments_and_shebang) {
  BOOST_TEST(lex("#!/usr/bin/env tvm-run\nx = 1  # one\n# alone\n") == "NAME(x) = INT(1) NEWLINE");
  BOOST_TEST(lex("x = '#not a comment'") == R"(NAME(x) = STRING("#not a comment") NEWLINE)");
}

BOOST_AUTO_TEST_CASE(indent_and_dedent) {
  BOOST_TEST(lex("if a:\n    b\n    if c:\n        d\ne") ==
             "if NAME(a) : NEWLINE INDENT NAME(b) NEWLINE if NAME(c) : NEWLINE INDENT NAME(d) NEWLINE "
             "DEDENT DEDENT NAME(e) NEWLINE");
}

BOOST_AUTO_TEST_CASE(dedents_at_eof) {
  BOOST_TEST(lex("def f():\n  if x:\n    return 1") ==
             "def NAME(f) ( ) : NEWLINE INDENT if NAME(x) : NEWLINE INDENT return INT(1) NEWLINE DEDENT DEDENT");
  BOOST_TEST(lex("") == "");
  BOOST_TEST(lex("\n\n  \n# c\n") == "");
}

BOOST_AUTO_TEST_CASE(blank_and_comment_lines_keep_indentation) {
  BOOST_TEST(lex("if a:\n    b\n\n  # comment\n        \n    c\n") ==
             "if NAME(a) : NEWLINE INDENT NAME(b) NEWLINE NAME(c) NEWLINE DEDENT");
}

BOOST_AUTO_TEST_CASE(implicit_line_joining) {
  BOOST_TEST(lex("x = [1,\n  2,\n      3]\ny = {\n}\nz = (a\n)") ==
             "NAME(x) = [ INT(1) , INT(2) , INT(3) ] NEWLINE NAME(y) = { } NEWLINE NAME(z) = ( NAME(a) ) NEWLINE");
  // A tab inside brackets is not indentation.
  BOOST_TEST(lex("f(a,\n\tb)") == "NAME(f) ( NAME(a) , NAME(b) ) NEWLINE");
}

BOOST_AUTO_TEST_CASE(explicit_line_joining) {
  BOOST_TEST(lex("x = 1 + \\\n    2\ny") == "NAME(x) = INT(1) + INT(2) NEWLINE NAME(y) NEWLINE");
  BOOST_TEST(lex("x = 1 + \\\r\n    2\r\n") == "NAME(x) = INT(1) + INT(2) NEWLINE");
}

BOOST_AUTO_TEST_CASE(semicolons) {
  BOOST_TEST(lex("a = 1; b = 2;") == "NAME(a) = INT(1) ; NAME(b) = INT(2) ; NEWLINE");
}

BOOST_AUTO_TEST_CASE(tab_in_indentation) {
  BOOST_TEST(lex_errors("if x:\n\ty = 1") == "2:1: tabs are not allowed in indentation\n");
  BOOST_TEST(lex_errors("if x:\n  \t y = 1") == "2:1: tabs are not allowed in indentation\n");
  // Tabs elsewhere are whitespace.
  BOOST_TEST(lex_errors("x\t=\t1") == "");
}

BOOST_AUTO_TEST_CASE(inconsistent_dedent) {
  BOOST_TEST(lex_errors("if x:\n    a\n  b") == "3:1: unindent does not match any outer indentation level\n");
}

BOOST_AUTO_TEST_CASE(unexpected_indent) {
  std::string errs;
  // The indent is reported once and otherwise ignored: no INDENT, and no DEDENT later.
  BOOST_TEST(lex("a\n  b\nc", &errs) == "NAME(a) NEWLINE NAME(b) NEWLINE NAME(c) NEWLINE");
  BOOST_TEST(errs == "2:3: unexpected indent\n");
}

BOOST_AUTO_TEST_CASE(too_many_indentation_levels) {
  std::string text;
  for (int i = 0; i <= 100; ++i) text += std::string(size_t(i), ' ') + "if x:\n";
  text += std::string(101, ' ') + "pass\n";
  BOOST_TEST(lex_errors(text) == "102:102: too many levels of indentation\n");
}

BOOST_AUTO_TEST_CASE(too_many_nested_parentheses) {
  std::string ok = "x = " + std::string(200, '(') + "1" + std::string(200, ')');
  BOOST_TEST(lex_errors(ok) == "");
  std::string bad = "x = " + std::string(100, '(') + std::string(101, '[');
  BOOST_TEST(lex_errors(bad) == "1:205: too many nested parentheses\n");
}

BOOST_AUTO_TEST_CASE(reserved_keywords) {
  for (const char* kw : {"class", "try", "except", "finally", "raise", "with", "yield", "async", "await", "del"}) {
    BOOST_TEST(lex_errors("x = 1\n" + std::string(kw) + " y") ==
               "2:1: '" + std::string(kw) + "' is not supported in TL\n");
  }
  BOOST_TEST(lex_errors("x = yield") == "1:5: 'yield' is not supported in TL\n");
}

BOOST_AUTO_TEST_CASE(invalid_characters) {
  BOOST_TEST(lex_errors("x = $") == "1:5: invalid character '$'\n");
  BOOST_TEST(lex_errors("a ? b") == "1:3: invalid character '?'\n");
  BOOST_TEST(lex_errors("a ! b") == "1:3: invalid character '!'\n");
  BOOST_TEST(lex_errors("x = `") == "1:5: invalid character '`'\n");
  BOOST_TEST(lex_errors("x = \xE2\x82\xAC") == "1:5: invalid character '\xE2\x82\xAC' (U+20AC)\n");
  BOOST_TEST(lex_errors(std::string("x = \x01", 5)) == "1:5: invalid non-printable character U+0001\n");
}

BOOST_AUTO_TEST_CASE(stray_backslash) {
  BOOST_TEST(lex_errors("x = 1 \\ 2") == "1:7: unexpected character after line continuation character\n");
}

BOOST_AUTO_TEST_CASE(invalid_utf8) {
  BOOST_TEST(lex_errors("x = 'a\xFF'") == "1:7: invalid UTF-8 byte 0xff in source\n");
}

BOOST_AUTO_TEST_CASE(columns_count_code_points) {
  std::string errs;
  // "é" and "€" are one column each; the error is on the '$'.
  lex("s = '\xC3\xA9\xE2\x82\xAC'; $", &errs);
  BOOST_TEST(errs == "1:11: invalid character '$'\n");
  errs.clear();
  lex("s = '''\xC3\xA9\n\xE2\x82\xAC''' $", &errs);
  BOOST_TEST(errs == "2:6: invalid character '$'\n");
}

BOOST_AUTO_TEST_CASE(utf8_bom_is_skipped) {
  BOOST_TEST(lex("\xEF\xBB\xBFx = 1") == "NAME(x) = INT(1) NEWLINE");
}

BOOST_AUTO_TEST_SUITE_END()
