#!/usr/bin/env python3
"""Generate the expected-value tables of test_values.cpp and test_format.cpp with CPython.

TL's scalar semantics are Python 3's with 64-bit ints (LANGUAGE.md), so Python computes the
expected results: repr of operator results, comparisons, slicing, repr(float), format().
Python's exceptions become TL's messages where they differ (division by zero, int64 overflow).

usage: python3 tests/unit/gen_tables.py    (rewrites tests/unit/*_table.inc)
"""

import math
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def c_string(s, sv=False):
    """A C++ string literal of s's UTF-8 bytes (octal escapes: they stop after 3 digits); a
    std::string_view literal when sv (the text may hold a NUL). Plain char arrays keep the
    tables constant-initialised: thousands of string_view members compile very slowly."""
    out = []
    for b in s.encode('utf-8', 'surrogatepass'):
        c = chr(b)
        if c in '"\\':
            out.append('\\' + c)
        elif 0x20 <= b < 0x7f and c != '?':
            out.append(c)
        else:
            out.append('\\%03o' % b)
    return '"' + ''.join(out) + ('"sv' if sv else '"')


def double_bits(d):
    return '0x%016xull' % struct.unpack('<Q', struct.pack('<d', d))[0]


def lit(v):
    """v as a C++ string literal of its Python repr, which tests/unit/py_literal.h parses."""
    if isinstance(v, slice):
        return c_string('slice(%r, %r, %r)' % (v.start, v.stop, v.step))
    return c_string(repr(v))


def fits(v):
    """Would TL compute this result? Any int inside it must fit in int64."""
    if isinstance(v, bool):
        return True
    if isinstance(v, int):
        return INT64_MIN <= v <= INT64_MAX
    if isinstance(v, (list, tuple)):
        return all(fits(x) for x in v)
    return True


# ---------------------------------------------------------------- binary operators

BINOPS = {
    '+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b,
    '/': lambda a, b: a / b, '//': lambda a, b: a // b, '%': lambda a, b: a % b,
    '**': lambda a, b: a ** b, '<<': lambda a, b: a << b, '>>': lambda a, b: a >> b,
    '&': lambda a, b: a & b, '|': lambda a, b: a | b, '^': lambda a, b: a ^ b,
}


def binop_expected(op, a, b):
    try:
        r = BINOPS[op](a, b)
    except ZeroDivisionError:
        return '!division by zero'
    except OverflowError:
        return '!numeric result out of range'
    except TypeError:
        return "!unsupported operand type(s) for %s: '%s' and '%s'" % (op, type(a).__name__, type(b).__name__)
    except ValueError as e:
        return '!' + str(e)
    if isinstance(r, complex):
        return '!negative number cannot be raised to a fractional power'
    if not fits(r):
        return '!integer overflow'
    return repr(r)


def binop_cases():
    nums = [0, 1, -1, 2, 3, -3, 7, -7, 10, 100, 2**31, 2**47, -2**47, 2**47 - 1, 2**53 + 1,
            INT64_MAX, INT64_MIN, True, False,
            0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 7.5, -7.5, 3.0, 1e300, -1e300, 1e-300,
            math.inf, -math.inf, math.nan]
    cases = []
    # Every operator over a grid of numbers, chosen to cover signs, zeros and boundaries.
    small = [0, 1, -1, 3, -3, 7, -7, 2**47, INT64_MAX, INT64_MIN, True, False,
             0.0, -0.0, 1.5, -2.5, 7.5, -7.5, math.inf, -math.inf, math.nan]
    for op in BINOPS:
        for a in small:
            for b in small:
                if op == '**' and isinstance(a, int) and isinstance(b, int) and b > 64 and abs(a) > 1:
                    r = '!integer overflow'
                elif op == '<<' and isinstance(a, int) and isinstance(b, int) and b > 64:
                    r = '!integer overflow' if a else '0'
                else:
                    r = binop_expected(op, a, b)
                cases.append((a, op, b, r))
    # Powers and shifts around the int64 boundary.
    for a in [2, -2, 3, -3, 10, 7, -1, 0, 1]:
        for b in [0, 1, 2, 5, 39, 40, 62, 63, 64, 100, -1, -2, 0.5]:
            cases.append((a, '**', b, binop_expected('**', a, b) if not (isinstance(b, int) and b > 64 and abs(a) > 1) else '!integer overflow'))
    for a in [1, -1, 3, -3, 2**46, -2**46, 2**62, -2**62, INT64_MAX, INT64_MIN]:
        for b in [0, 1, 2, 16, 17, 46, 47, 62, 63, 64, 65]:
            cases.append((a, '<<', b, binop_expected('<<', a, b)))
            cases.append((a, '>>', b, binop_expected('>>', a, b)))
    for a in [-8.0, -8, -0.5, 10.0, 2.0, 1e10]:
        for b in [1 / 3, 0.5, -1.5, 308, 400, 400.5, -400, 2.0]:
            cases.append((a, '**', b, binop_expected('**', a, b)))
    # Correctly rounded int / int beyond 2^53.
    for a in [2**53 + 1, 2**60 + 3, INT64_MAX, INT64_MIN, -(2**62) - 12345, 12345678901234567]:
        for b in [1, 3, -7, 10, 2**53 + 1, INT64_MAX, 1000003]:
            cases.append((a, '/', b, binop_expected('/', a, b)))
    # Sequences.
    seqs = ['ab', '', [1, 'a'], [], (1,), (), (2, 3)]
    for a in seqs:
        for b in seqs + [2, 0, -1, True, 1.5]:
            for op in ['+', '*']:
                cases.append((a, op, b, binop_expected(op, a, b)))
        for n in [3, -2, False]:
            cases.append((n, '*', a, binop_expected('*', n, a)))
    cases.append(('a', '-', 'b', binop_expected('-', 'a', 'b')))
    cases.append(([1], '%', 2, binop_expected('%', [1], 2)))
    cases.append((None, '+', 1, binop_expected('+', None, 1)))
    return cases


# ---------------------------------------------------------------- comparisons

CMPS = ['<', '<=', '>', '>=', '==', '!=']


def cmp_expected(op, a, b):
    try:
        r = eval('a %s b' % op, {'a': a, 'b': b})
    except TypeError as e:  # TL's message drops Python's "instances of"
        return '!' + str(e).replace('between instances of', 'between')
    return repr(r)


def compare_cases():
    vals = [0, 1, -1, True, False, 1.0, 0.5, -0.0, 2**53, 2**53 + 1, 2.0**53, 2**63 - 1, 2.0**63,
            INT64_MIN, -2.0**63, -2.0**63 - 4096, math.inf, -math.inf, math.nan,
            'a', 'b', 'ab', '', 'é', 'z', None, [1, 2], [1, 3], [1], [], (1, 2), (1, 2.0), (), (1, 'a'),
            [1, 'a']]
    out = []
    for a in vals:
        for b in vals:
            for op in CMPS:
                out.append((a, op, b, cmp_expected(op, a, b)))
    return out


# ---------------------------------------------------------------- indexing and slicing

def index_cases():
    seqs = ['hello', 'héllo wörld', '中文字符串', [0, 1, 2, 3, 4, 5, 6], (0, 'a', 2.5, None)]
    bounds = [None, 0, 1, 2, -1, -2, -3, 3, 5, 100, -100]
    steps = [None, 1, 2, 3, -1, -2, -3]
    out = []
    for s in seqs:
        for i in [0, 1, -1, -len(s), len(s) - 1, len(s), -len(s) - 1, True]:
            try:
                r = repr(s[i])
            except IndexError:
                r = '!index out of range'
            out.append((s, ('i', i), r))
        for lo in bounds:
            for hi in bounds:
                for st in steps:
                    out.append((s, ('s', lo, hi, st), repr(s[lo:hi:st])))
    return out


def range_cases():
    ranges = [(0, 10, 1), (0, 10, 3), (10, 0, -1), (10, 0, -3), (5, 5, 1), (-5, 5, 2), (0, -10, -4),
              (INT64_MAX - 10, INT64_MAX, 3), (INT64_MIN, INT64_MIN + 10, 4), (INT64_MAX, INT64_MAX - 7, -2)]
    out = []
    for r in ranges:
        rr = range(*r)
        items = list(rr)
        out.append((r, repr(items), len(rr)))
    return out


# ---------------------------------------------------------------- str repr

def repr_cases():
    return ["", "a", "it's", 'say "hi"', "both ' and \"", "back\\slash", "new\nline", "tab\there",
            "cr\rx", "\x00\x01\x1f", "\x7f", "é", "中文", "😀", "\xa0", "\xad", "\u200b", "\u2028",
            "\ue000", "\ufeff", "a'b\"c", "'", '"', "\\'", "x\x85y"]


# ---------------------------------------------------------------- float repr

def float_repr_values():
    rng = random.Random(20240607)
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1.5, 100.0, 1e16, 1e15, 9999999999999998.0,
            1e16 - 2, 1e17, 123456789012345.0, 1234567890123456.0, 12345678901234567.0, 0.0001,
            0.00010000000000000002, 0.00009999999999999999, 1e-5, 1e-4, 1e-3, 5e-324, 2.2250738585072014e-308,
            1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64, math.pi, math.e, 1e22, 1e23,
            0.1 + 0.2, 4.35, 2.675, 1e-7, 1.5e300, -1.5e-300, 299792458.0, 6.02214076e23, 1.602176634e-19]
    for k in range(-8, 25):
        vals.append(10.0 ** k)
        vals.append(-(10.0 ** k) * 1.5)
    for k in range(-6, 3):
        vals.append(float('1e%d' % k) * 9.999)
    while len(vals) < 260:
        kind = rng.randrange(4)
        if kind == 0:  # any finite bit pattern
            bits = rng.getrandbits(64)
            d = struct.unpack('<d', struct.pack('<Q', bits))[0]
            if math.isfinite(d):
                vals.append(d)
        elif kind == 1:  # a short decimal at any magnitude
            vals.append(float('%d.%de%d' % (rng.randrange(1, 10), rng.randrange(0, 1000), rng.randrange(-320, 306))))
        elif kind == 2:  # an integer as a float
            vals.append(float(rng.randrange(-2**60, 2**60)) / (1 if rng.random() < 0.5 else 2**rng.randrange(1, 40)))
        else:  # uniform in [0, 1) and scaled
            vals.append(rng.random() * 10.0 ** rng.randrange(-10, 20))
    return vals


# ---------------------------------------------------------------- format()

def format_cases():
    ints = [0, 7, -7, 42, 255, -255, 1234567, -1234567, INT64_MAX, INT64_MIN, True, False, 65]
    floats = [0.0, -0.0, 1.0, 1.5, -1.5, 2.5, 0.125, 3.14159265358979, -2.718281828, 1234567.891,
              1e-7, 1e20, 1e16, 123456789.0, 0.000123456, 100.0, 9.9999, 0.5, math.inf, -math.inf, math.nan,
              -0.0001]
    strs = ['abc', '', 'héllo', '中文']
    int_specs = ['', 'd', '5d', '<5', '>5', '^7', '*^9', '=+8', '+', ' ', '-', '05', '010', ',', '_', '08,',
                 '012,d', ',d', 'x', '#x', 'X', '#X', 'o', '#o', 'b', '#b', '_b', '#_x', '#012_x', 'c',
                 'f', '.2f', 'e', '%', 'g', 'n', '€^9', '0=+12,', '.2', 's', 'z', 'abc', ',x', '_c']
    float_specs = ['', 'f', '.2f', '10.3f', '+.1f', ',.2f', ',', '_.3f', 'e', '.3e', 'E', '#.0e', 'g', '.3g',
                   'G', '.10g', '#g', '#.3g', '%', '.1%', '.0%', '.0f', '#.0f', '.3', '.1', '10', '<10', '^12.2f',
                   '=+10.2f', '012.3f', '010', 'z.1f', 'z', '-^11,.2f', 'n', ' .2e', 'd', 'x', '.', ',_', '15,.4f',
                   '.20f', '.17g', '.0e', '.0g']
    str_specs = ['', 's', '>8s', '<8', '^9', '.2s', '*^8.1', '05', '€>6', 'd', '+', '=5', ',', '#', 'z', 'abc']
    out = []
    for vals, specs in ((ints, int_specs), (floats, float_specs), (strs, str_specs)):
        for v in vals:
            for s in specs:
                try:
                    r = format(v, s)
                except (ValueError, TypeError, OverflowError) as e:
                    r = '!' + str(e)
                if '\x00' not in r:  # the table's strings are C strings
                    out.append((v, s, r))
    return out


# ---------------------------------------------------------------- output

def write(name, lines):
    with open(os.path.join(HERE, name), 'w') as f:
        f.write('// Generated by tests/unit/gen_tables.py with %s; do not edit.\n' % 'CPython')
        f.write('\n'.join(lines) + '\n')


def main():
    lines = ['static const OpCase kBinopCases[] = {']
    for a, op, b, r in binop_cases():
        lines.append('    {%s, "%s", %s, %s},' % (lit(a), op, lit(b), c_string(r)))
    lines.append('};')
    lines.append('static const OpCase kCompareCases[] = {')
    for a, op, b, r in compare_cases():
        lines.append('    {%s, "%s", %s, %s},' % (lit(a), op, lit(b), c_string(r)))
    lines.append('};')
    lines.append('static const IndexCase kIndexCases[] = {')
    for s, idx, r in index_cases():
        index = idx[1] if idx[0] == 'i' else slice(*idx[1:])
        lines.append('    {%s, %s, %s},' % (lit(s), lit(index), c_string(r)))
    lines.append('};')
    lines.append('static const RangeCase kRangeCases[] = {')
    for (a, b, c), items, n in range_cases():
        lines.append('    {%s, %s, %s, %s, %dLL},' % (int64(a), int64(b), int64(c), c_string(items), n))
    lines.append('};')
    lines.append('static const StrReprCase kStrReprCases[] = {')
    for s in repr_cases():
        lines.append('    {%s, %s},' % (c_string(s, sv=True), c_string(repr(s))))
    lines.append('};')
    write('values_table.inc', lines)

    lines = ['static const FloatReprCase kFloatReprCases[] = {']
    for d in float_repr_values():
        lines.append('    {%s, %s},' % (double_bits(d), c_string(repr(d))))
    lines.append('};')
    lines.append('static const FormatCase kFormatCases[] = {')
    for v, s, r in format_cases():
        lines.append('    {%s, %s, %s},' % (lit(v), c_string(s), c_string(r)))
    lines.append('};')
    write('format_table.inc', lines)


def int64(i):
    return 'INT64_MIN' if i == INT64_MIN else '%dLL' % i


if __name__ == '__main__':
    main()
