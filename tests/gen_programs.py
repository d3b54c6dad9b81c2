#!/usr/bin/env python3
"""Random TL program generator for differential testing.

    gen_programs.py SEED [--tensors]

Prints one TL program to stdout, deterministic for SEED.  Without --tensors the
program uses only scalars, strings, lists, tuples and dicts, so it is also a
valid Python 3 program that must print the same thing (compare with python3).
With --tensors it also contains small tensor code (TL only).

Safety by construction:
  * every int variable is assigned `(...) % M` (or a bounded update), every
    product is reduced mod a constant, so ints stay far inside int64;
  * floats are clamped on assignment, so no inf/nan ever appears;
  * divisors are guarded (`b if b != 0 else 7`), indices are `i % len(l)`
    under `if l:`, pops are guarded, `.index(v)` under `if v in l:`;
  * loops are bounded: `for` over range(small) or over copies (`l[:6]`,
    sorted(d)), `while` increments its counter first; recursion depth <= 14;
  * reversed/enumerate/zip/keys/values/items (lists in TL, iterators in Python)
    are only iterated or passed to list()/sorted().
Python 3.12 changed sum() of floats (compensated summation), so sum() is only
used on ints.
"""
import random
import sys

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "io", "kappa",
         "Lam", "MU", "nu", " xi ", "omicron", "pi", "rho", "sig ma", "tau", "up-silon", "", "a,b,c"]
MODS = [97, 101, 1009, 10007, 65521, 1000003]


class Gen:
    def __init__(self, seed, tensors):
        self.r = random.Random(seed)
        self.tensors = tensors
        self.lines = []
        self.ind = 0
        self.n = 0
        # scope stack: list of dicts name -> type
        self.scopes = [{}]
        self.funcs = []        # (name, nparams_required, nparams_total, has_star) -> int result
        self.in_func = False
        self.loop_depth = 0
        self.block_depth = 0
        self.globals_int = []  # global int vars usable with `global`
        self.protected = set()  # while counters: never reassigned

    # ---------- helpers ----------
    def emit(self, s):
        self.lines.append("    " * self.ind + s)

    def fresh(self, p="v"):
        self.n += 1
        return "%s%d" % (p, self.n)

    def vars(self, t):
        out = []
        for sc in self.scopes:
            for k, v in sc.items():
                if v == t:
                    out.append(k)
        return out

    def declare(self, name, t):
        self.scopes[-1][name] = t

    def ch(self, seq):
        return self.r.choice(seq)

    def p(self, x):
        return self.r.random() < x

    # ---------- expressions ----------
    def small_int(self):
        return str(self.r.randint(-20, 40))

    def int_expr(self, d=0):
        r = self.r
        vs = self.vars("int")
        if d >= 3 or (d > 0 and self.p(0.3)):
            if vs and self.p(0.6):
                return self.ch(vs)
            return self.small_int() if self.p(0.8) else str(r.randint(-100000, 100000))
        k = r.randint(0, 24)
        a = lambda: self.int_expr(d + 1)
        if k <= 3:
            return "(%s %s %s)" % (a(), self.ch(["+", "-", "+"]), a())
        if k == 4:
            if self.p(0.3):
                # large (but bounded: |x| < 1.1e15) values
                return "((%s %% 1000003) * %d)" % (a(), r.randint(-10**9, 10**9))
            return "(((%s %% 1000003) * (%s %% 1000003)) %% %d)" % (a(), a(), self.ch(MODS))
        if k == 5:
            b = a()
            return "(%s %s (%s if %s != 0 else %d))" % (a(), self.ch(["//", "%"]), b, b, r.randint(1, 9))
        if k == 6:
            return "(%s %s %s)" % (a(), self.ch(["&", "|", "^"]), a())
        if k == 7:
            return "((%s %% 16) << %d)" % (a(), r.randint(0, 5))
        if k == 8:
            return "(abs(%s) >> %d)" % (a(), r.randint(0, 4))
        if k == 9:
            return "((%s %% 13) ** %d)" % (a(), r.randint(0, 4))
        if k == 10:
            ls = self.vars("list")
            if ls:
                return "len(%s)" % self.ch(ls)
            return "len(%s)" % self.str_expr(d + 1)
        if k == 11:
            ls = self.vars("list")
            if ls:
                l = self.ch(ls)
                return self.ch(["sum(%s)" % l, "(sum(%s) %% 1000)" % l,
                                "(max(%s) if %s else 0)" % (l, l), "(min(%s) if %s else -1)" % (l, l),
                                "(%s[%s %% len(%s)] if %s else 3)" % (l, a(), l, l),
                                "%s.count(%s)" % (l, a()) if False else "len(%s[1:])" % l])
            return a()
        if k == 12:
            return "%s(%s, %s)" % (self.ch(["min", "max"]), a(), a())
        if k == 13:
            fs = self.vars("float")
            if fs:
                return "%s(%s)" % (self.ch(["int", "round"]), self.ch(fs))
            return a()
        if k == 14 and self.funcs and self.block_depth < 4:
            return self.call_func(d)
        if k == 15:
            return "(%s if %s else %s)" % (a(), self.bool_expr(d + 1), a())
        if k == 16:
            ds = self.vars("dict")
            if ds:
                dd = self.ch(ds)
                kk = self.key_expr()
                return self.ch(["%s.get(%s, %s)" % (dd, self.key_expr(), a()), "len(%s)" % dd,
                                "(%s[%s] if %s in %s else -5)" % (dd, kk, kk, dd)]) \
                    if self.p(0.7) else "sum(%s.values())" % dd
            return a()
        if k == 17:
            ss = self.vars("str")
            s = self.ch(ss) if ss else self.str_expr(d + 1)
            return self.ch(["%s.find(%r)" % (s, self.ch(["a", "e", "ta", "x", ""])), "len(%s)" % s,
                            "int(%s)" % repr(str(r.randint(-500, 500)))])
        if k == 18:
            ts = self.vars("tuple")
            if ts:
                return "%s[%d]" % (self.ch(ts), r.randint(-2, 1))
            return a()
        if k == 19:
            return "(-%s)" % a()
        if k == 20:
            return "int(%s)" % self.bool_expr(d + 1)
        if k == 21:
            lam = self.vars("lambda")
            if lam:
                return "%s(%s)" % (self.ch(lam), a())
            return a()
        if vs:
            return self.ch(vs)
        return self.small_int()

    def call_func(self, d):
        name, req, tot, star, kw = self.ch(self.funcs)
        n = self.r.randint(req, tot + (3 if star else 0))
        args = [self.int_expr(d + 1) for _ in range(n)]
        if kw and n == req and n < tot and self.p(0.5):
            # pass a defaulted parameter by keyword
            return "%s(%s)" % (name, ", ".join(args + ["%s=%s" % (kw, self.int_expr(d + 1))]))
        if star and n > tot and self.p(0.3):
            return "%s(%s, *[%s])" % (name, ", ".join(args[:tot]), ", ".join(args[tot:]))
        return "%s(%s)" % (name, ", ".join(args))

    def float_lit(self):
        return self.ch(["0.1", "0.5", "1.25", "2.0", "3.14159", "1e-3", "2.5e3", "0.3", "7.0", "1e-5",
                        "123.456", "0.2", "1e15", "-0.75", "100.0", "1e16", "1e22", "1.5e-7", "(1 / 3)", "(2 / 7)", "0.1 * 3", "-0.0", "True", str(round(self.r.uniform(-50, 50), 3))])

    def float_expr(self, d=0):
        fs = self.vars("float")
        if d >= 3 or (d > 0 and self.p(0.35)):
            if fs and self.p(0.6):
                return self.ch(fs)
            return self.float_lit()
        k = self.r.randint(0, 8)
        a = lambda: self.float_expr(d + 1)
        if k <= 2:
            return "(%s %s %s)" % (a(), self.ch(["+", "-", "*"]), self.ch([a(), self.int_expr(d + 1)]))
        if k == 3:
            b = a()
            return "(%s / (%s if %s != 0 else 0.5))" % (self.ch([a(), self.int_expr(d + 1)]), b, b)
        if k == 4:
            b = self.int_expr(d + 1)
            return "(%s / (%s if %s != 0 else 3))" % (self.int_expr(d + 1), b, b)
        if k == 5:
            return "float(%s)" % self.int_expr(d + 1)
        if k == 6:
            return "round(%s, %d)" % (a(), self.r.randint(0, 4))
        if k == 7:
            b = a()
            return "(%s %s (%s if %s != 0 else 1.5))" % (a(), self.ch(["%", "//"]), b, b)
        return "abs(%s)" % a()

    def str_lit(self):
        return repr(self.ch(WORDS))

    def str_expr(self, d=0):
        ss = self.vars("str")
        if d >= 2 or (d > 0 and self.p(0.4)):
            if ss and self.p(0.6):
                return self.ch(ss)
            return self.str_lit()
        k = self.r.randint(0, 12)
        a = lambda: self.str_expr(d + 1)
        if k == 0:
            return "(%s + %s)" % (a(), a())
        if k == 1:
            return "%s.%s()" % (a(), self.ch(["upper", "lower", "strip"]))
        if k == 2:
            return "%s.replace(%r, %r)" % (a(), self.ch(["a", "e", " ", "ta"]), self.ch(["", "_", "AA"]))
        if k == 3:
            return "%s[%d:%d]" % (a(), self.r.randint(-4, 3), self.r.randint(-2, 8))
        if k == 4:
            return "str(%s)" % self.ch([self.int_expr(d + 1), self.float_expr(d + 1), self.bool_expr(d + 1)])
        if k == 5:
            return "(%s * %d)" % (a(), self.r.randint(0, 3))
        if k == 6:
            ls = self.vars("slist")
            if ls:
                return "%r.join(%s)" % (self.ch([",", "-", "", " | "]), self.ch(ls))
            return "%r.join(%s.split(%r))" % (self.ch(["+", ""]), a(), self.ch([" ", ",", "a"]))
        if k == 7 and d == 0:
            return self.fstring(d)
        if k == 8:
            return "repr(%s)" % self.ch([a(), self.int_expr(d + 1), self.float_expr(d + 1)])
        if k == 9:
            s = a()
            return "(%s[%s %% len(%s)] if %s else 'z')" % (s, self.int_expr(d + 1), s, s)
        if k == 10:
            return "%s[::%d]" % (a(), self.ch([-1, 2, -2, 1]))
        return a()

    def fstring(self, d):
        parts = []
        for _ in range(self.r.randint(1, 3)):
            parts.append(self.ch(["x=", " ", "[", "] ", "val:", "", "{{", "}}"]))
            t = self.r.randint(0, 4)
            if t == 0:
                spec = self.ch(["", ":d", ":5d", ":<6", ":>8", ":^9", ":+d", ":08d", ":,", ":x", ":*>7", "!r", ":_>5"])
                parts.append("{%s%s}" % (self.int_expr(d + 1), spec))
            elif t == 1:
                spec = self.ch(["", ":.2f", ":8.3f", ":e", ":.3e", ":g", ":.4g", ":%", ":.1%", ":+.2f", ":010.4f", ":,.2f", "!r", ":>12"])
                parts.append("{%s%s}" % (self.float_expr(d + 1), spec))
            elif t == 2:
                spec = self.ch(["", ":>10", ":<8", ":^11", "!r", ":s", ":.3"])
                parts.append("{%s%s}" % (self.str_expr(d + 1).replace('"', "'"), spec))
            elif t == 3:
                ls = self.vars("list") + self.vars("dict") + self.vars("tuple")
                parts.append("{%s}" % (self.ch(ls) if ls else self.bool_expr(d + 1)))
            else:
                parts.append("{%s}" % self.bool_expr(d + 1))
        body = "".join(parts)
        return 'f"%s"' % body.replace('"', "'")

    def bool_expr(self, d=0):
        k = self.r.randint(0, 11)
        if d >= 2:
            k = self.ch([0, 1, 9])
        a = lambda: self.bool_expr(d + 1)
        if k <= 2:
            return "(%s %s %s)" % (self.int_expr(d + 1), self.ch(["<", "<=", ">", ">=", "==", "!="]), self.int_expr(d + 1))
        if k == 3:
            return "(%s %s %s)" % (a(), self.ch(["and", "or"]), a())
        if k == 4:
            return "(not %s)" % a()
        if k == 5:
            return "(%s < %s <= %s)" % (self.int_expr(d + 1), self.int_expr(d + 1), self.int_expr(d + 1))
        if k == 6:
            ls = self.vars("list")
            if ls:
                return "(%s %s %s)" % (self.int_expr(d + 1), self.ch(["in", "not in"]), self.ch(ls))
            return "(%r in %s)" % (self.ch(["a", "et", "z"]), self.str_expr(d + 1))
        if k == 7:
            s = self.str_expr(d + 1)
            return "%s.%s(%r)" % (s, self.ch(["startswith", "endswith"]), self.ch(["a", "al", "", "ta", "A"]))
        if k == 8:
            return "(%s %s %s)" % (self.float_expr(d + 1), self.ch(["<", ">=", "==", "!="]), self.ch([self.float_expr(d + 1), self.int_expr(d + 1)]))
        if k == 9:
            bs = self.vars("bool")
            if bs:
                return self.ch(bs)
            return self.ch(["True", "False"])
        if k == 10:
            ds = self.vars("dict")
            if ds:
                return "(%s in %s)" % (self.key_expr(), self.ch(ds))
            vs = self.vars("int")
            return "(%s is %sNone)" % (self.ch(vs) if vs else "None", self.ch(["", "not "]))
        return "(%s %s %s)" % (self.str_expr(d + 1), self.ch(["==", "<", ">", "!="]), self.str_expr(d + 1))

    def key_expr(self):
        return repr(self.ch(["a", "b", "c", "k1", "k2", "zz"])) if self.p(0.8) else "str(%s %% 3)" % self.int_expr(2)

    def list_expr(self, d=0):
        ls = self.vars("list")
        k = self.r.randint(0, 9)
        if k == 0 or (not ls and k < 5):
            return "[%s]" % ", ".join(self.int_expr(2) for _ in range(self.r.randint(0, 5)))
        if k == 1:
            return "list(range(%d, %d, %d))" % (self.r.randint(-5, 5), self.r.randint(0, 15), self.ch([1, 2, 3, -1]))
        if k == 2 and ls:
            l = self.ch(ls)
            return "[%s for x in %s if %s]" % (self.ch(["(x * %d) %% 97" % self.r.randint(1, 9), "x + 1", "-x", "x // 2"]), l,
                                               self.ch(["x > 0", "x % 2 == 0", "x != 3", "True"]))
        if k == 3 and ls:
            return "sorted(%s%s)" % (self.ch(ls), self.ch(["", ", reverse=True", ", key=lambda t: (t % 5, t)"]))
        if k == 4 and ls:
            return "list(reversed(%s))" % self.ch(ls)
        if k == 5 and ls:
            return "(%s + %s)[:12]" % (self.ch(ls), self.list_expr(d + 1) if d < 1 else self.ch(ls))
        if k == 6 and ls:
            return "%s[%d:%d]" % (self.ch(ls), self.r.randint(-5, 3), self.r.randint(-3, 10))
        if k == 7 and ls:
            return "[(a %% 1000) * (b %% 1000) %% 101 for a, b in zip(%s, %s)]" % (self.ch(ls), self.ch(ls))
        if k == 8 and ls:
            return "[i + v for i, v in enumerate(%s)]" % self.ch(ls)
        return "[(i * i + %s) %% 50 for i in range(%d)]" % (self.small_int(), self.r.randint(0, 7))

    def any_expr(self):
        t = self.r.randint(0, 9)
        if t <= 2:
            return self.int_expr()
        if t == 3:
            return self.float_expr()
        if t == 4:
            return self.str_expr()
        if t == 5:
            return self.bool_expr()
        if t == 6:
            c = self.vars("list") + self.vars("dict") + self.vars("tuple") + self.vars("slist")
            return self.ch(c) if c else "None"
        if t == 7:
            return self.list_expr()
        if t == 8:
            return "(%s, %s)" % (self.int_expr(1), self.str_expr(1))
        return self.ch(["None", "[]", "{}", "()", "(1,)", "describe(%s)" % self.int_expr(1),
                        "describe(%s, %r)" % (self.float_expr(1), self.ch(["f", "x"])),
                        "describe(%s, sep=%r)" % (self.str_expr(1), self.ch(["=", " -> "])),
                        "apply(lambda q: (q * 3) %% 11, %s, %s)" % (self.int_expr(2), self.int_expr(2))])

    # ---------- statements ----------
    def assign_new(self):
        t = self.r.randint(0, 11)
        name = self.fresh()
        if t <= 3:
            self.emit("%s = (%s) %% %d" % (name, self.int_expr(), self.ch(MODS)))
            self.declare(name, "int")
        elif t == 4:
            self.emit("%s = max(-1e6, min(1e6, %s))" % (name, self.float_expr()))
            self.declare(name, "float")
        elif t == 5:
            self.emit("%s = (%s)[:30]" % (name, self.str_expr()))
            self.declare(name, "str")
        elif t == 6:
            self.emit("%s = %s" % (name, self.list_expr()))
            self.declare(name, "list")
        elif t == 7:
            if self.p(0.5):
                self.emit("%s = {%s}" % (name, ", ".join("%r: %s" % (k, self.int_expr(2)) for k in
                                                          self.r.sample(["a", "b", "c", "k1", "k2", "zz"], self.r.randint(0, 4)))))
            else:
                self.emit("%s = {str(i): (i * %d) %% 17 for i in range(%d)}" % (name, self.r.randint(1, 9), self.r.randint(0, 5)))
            self.declare(name, "dict")
        elif t == 8:
            self.emit("%s = (%s, %s)" % (name, self.int_expr(1), self.int_expr(1)))
            self.declare(name, "tuple")
        elif t == 9:
            self.emit("%s = %s" % (name, self.bool_expr()))
            self.declare(name, "bool")
        elif t == 10:
            self.emit("%s = %s.split(%r)" % (name, self.str_expr(1), self.ch([" ", ",", "a", "-"])))
            self.declare(name, "slist")
        else:
            self.emit("%s = lambda x, y=%d: ((x %% 100003) * y + %s) %% %d" % (name, self.r.randint(1, 9), self.small_int(), self.ch(MODS)))
            self.declare(name, "lambda")
            return
        if self.p(0.5):
            self.emit("print(%s)" % name)

    def assign_existing(self):
        ints = [v for v in self.vars("int") if v not in self.protected]
        if ints and self.p(0.5):
            v = self.ch(ints)
            if self.p(0.5):
                self.emit("%s = (%s) %% %d" % (v, self.int_expr(), self.ch(MODS)))
            else:
                self.emit("%s %s %s" % (v, self.ch(["+=", "-=", "^=", "//=", "%="]), self.ch(["3", "7", "2"])))
                self.emit("%s %%= %d" % (v, self.ch(MODS)) if self.p(0.5) else "%s = max(-1000000, min(1000000, %s))" % (v, v))
            return
        fs = self.vars("float")
        if fs and self.p(0.3):
            v = self.ch(fs)
            self.emit("%s %s %s" % (v, self.ch(["+=", "-=", "*=", "/="]), self.ch(["0.5", "1.5", "3", "2.25"])))
            self.emit("%s = max(-1e6, min(1e6, %s))" % (v, v))
            return
        ss = self.vars("str")
        if ss and self.p(0.4):
            v = self.ch(ss)
            self.emit("%s = (%s + %s)[-25:]" % (v, v, self.str_expr(1)))
            return
        self.assign_new()

    def list_stmt(self):
        ls = self.vars("list")
        if not ls:
            return self.assign_new()
        l = self.ch(ls)
        k = self.r.randint(0, 9)
        if k == 0:
            self.emit("%s.append(%s)" % (l, self.int_expr(1)))
        elif k == 1:
            self.emit("if %s:" % l)
            self.emit("    print(%s.pop(%s))" % (l, self.ch(["", "0", "-1"])))
        elif k == 2:
            self.emit("%s.extend(%s)" % (l, self.ch(["[1, 2]", "[%s]" % self.int_expr(2), "range(3)", "(4, 5)"])))
        elif k == 3:
            self.emit("%s.insert(%d, %s)" % (l, self.r.randint(-3, 5), self.int_expr(1)))
        elif k == 4:
            x = self.int_expr(2)
            self.emit("if %s in %s:" % (x, l))
            self.emit("    print('index', %s.index(%s))" % (l, x))
            self.emit("else:")
            self.emit("    print('absent', %s)" % x)
        elif k == 5:
            self.emit("if %s:" % l)
            self.emit("    %s[%s %% len(%s)] = %s" % (l, self.int_expr(2), l, self.int_expr(2)))
        elif k == 6:
            self.emit("%s = %s[-10:]" % (l, l))
        elif k == 7:
            self.emit("%s += [%s]" % (l, self.int_expr(2)))
        elif k == 8:
            self.emit("%s = %s" % (l, self.list_expr()))
        else:
            self.emit("print(len(%s), %s[:5], %s[::-1][:3])" % (l, l, l))
        if self.p(0.4):
            self.emit("print(%s)" % l)

    def dict_stmt(self):
        ds = self.vars("dict")
        if not ds:
            return self.assign_new()
        dd = self.ch(ds)
        k = self.r.randint(0, 5)
        if k == 0:
            self.emit("%s[%s] = %s" % (dd, self.key_expr(), self.int_expr(1)))
        elif k == 1:
            kk = self.key_expr()
            self.emit("%s[%s] = (%s.get(%s, 0) + %s) %% 1000" % (dd, kk, dd, kk, self.int_expr(2)))
        elif k == 2:
            self.emit("for dk, dv in sorted(%s.items()):" % dd)
            self.emit("    print(dk, dv, end='; ')")
            self.emit("print()")
        elif k == 3:
            self.emit("print(list(%s.keys()), list(%s.values()))" % (dd, dd))
        elif k == 4:
            self.emit("print(sorted(%s), len(%s), %s)" % (dd, dd, dd))
        else:
            self.emit("print([(k, v) for k, v in %s.items() if v %% 2 == 0])" % dd)

    def misc_stmt(self):
        r = self.r
        k = r.randint(0, 9)
        ls = self.vars("list")
        if k == 0:
            n = self.fresh()
            self.emit("%s = [[%s, %s], [%s], []]" % (n, self.int_expr(2), self.float_lit(), self.str_lit()))
            self.emit("%s[0][1] = %s" % (n, self.any_expr()))
            self.emit("print(%s, %s[0], %s[-3][0], len(%s[2]))" % (n, n, n, n))
        elif k == 1:
            n = self.fresh()
            self.emit("%s = {(%s, %d): %s, %d: None, 2.5: %r, 'n': [1, (2, 3)]}" % (n, self.small_int(), r.randint(0, 5), self.float_expr(1), r.randint(0, 5), self.ch(WORDS)))
            self.emit("%s[%d] = %s" % (n, r.randint(0, 5), self.ch(["True", "1.0", "'x'", "(1,)"])))
            self.emit("print(%s, %s.get(2.5), list(%s.items())[-1])" % (n, n, n))
        elif k == 2:
            self.emit("print(accum(%s), accum(%s))" % (self.int_expr(1), self.str_expr(1)))
        elif k == 3:
            self.emit("print(describe(label=%r, x=%s), describe(sep=%r, x=%s))" % (self.ch(WORDS), self.any_expr(), self.ch(["", "::"]), self.int_expr()))
        elif k == 4 and ls:
            self.emit("print(*%s[:4], sep=%r)" % (self.ch(ls), self.ch([",", " ", "-"])))
        elif k == 5:
            self.emit("print(%s.split(), %s * 2, (%s,) * 2, [%s] * 3)" % (self.str_expr(1), self.list_expr(1), self.int_expr(1), self.str_expr(1)))
        elif k == 6:
            ds = self.vars("dict")
            if ds:
                self.emit("print(sorted(%s.items(), key=lambda kv: (kv[1], kv[0])), max(%s, key=lambda q: %s[q]) if %s else None)" % ((self.ch(ds),) * 4))
            else:
                self.emit("print(sorted({'b': 2, 'a': 3}.items(), key=lambda kv: kv[1]))")
        elif k == 7:
            self.emit("print(True + %s, %s * 1.0, [None, %s, %s], -(%s) // 7, 7 // (%s or 1))" % (self.bool_expr(1), self.bool_expr(1), self.bool_expr(1), self.float_expr(1), self.int_expr(1), self.int_expr(2)))
        elif k == 8:
            self.emit("print(sorted([%s, %s, %s]), max(%s, %s, key=len), min([%s, %s]))" % tuple(self.str_expr(1) for _ in range(7)))
        else:
            self.emit("print(%s, %s)" % (self.fstring(0), self.fstring(0)))

    def print_stmt(self):
        k = self.r.randint(0, 5)
        if k == 0:
            self.emit("print(%s, %s, sep=%r)" % (self.any_expr(), self.any_expr(), self.ch([", ", "|", ""])))
        elif k == 1:
            self.emit("print(%s, end=%r)" % (self.any_expr(), self.ch([" ", ";\\n", "\\n"])))
            self.emit("print()")
        elif k == 2:
            self.emit("print(%s)" % self.fstring(0))
        elif k == 3:
            self.emit("print(%s)" % self.ch([self.str_expr(), self.float_expr()]))
        else:
            self.emit("print(%s)" % self.any_expr())

    def if_stmt(self):
        self.emit("if %s:" % self.bool_expr())
        self.block()
        for _ in range(self.r.randint(0, 2)):
            self.emit("elif %s:" % self.bool_expr())
            self.block()
        if self.p(0.5):
            self.emit("else:")
            self.block()

    def for_stmt(self):
        it = self.fresh("i")
        k = self.r.randint(0, 7)
        ls = self.vars("list")
        ds = self.vars("dict")
        ss = self.vars("str")
        tp = "int"
        if k == 0 and ls:
            src = "%s[:6]" % self.ch(ls)
        elif k == 1 and ds:
            src, tp = "sorted(%s)" % self.ch(ds), "str"
        elif k == 2 and ss:
            src, tp = "%s[:8]" % self.ch(ss), "str"
        elif k == 3 and ls:
            src = "reversed(%s[:5])" % self.ch(ls)
        elif k == 4 and ds:
            src = "list(%s.values())" % self.ch(ds)
        elif k == 5:
            src = "(%s, %s, %s)" % (self.small_int(), self.small_int(), self.small_int())
        else:
            src = "range(%s)" % self.ch(["%d" % self.r.randint(0, 6), "%d, %d" % (self.r.randint(-3, 2), self.r.randint(0, 7)),
                                         "%d, %d, -1" % (self.r.randint(2, 6), self.r.randint(-2, 1)), "len(%s) %% 6" % (self.ch(ls) if ls else "'abc'")])
        if k == 6 and ls:
            it2 = self.fresh("i")
            self.emit("for %s, %s in enumerate(%s[:5]):" % (it, it2, self.ch(ls)))
            self.scopes.append({it: "int", it2: "int"})
        else:
            self.emit("for %s in %s:" % (it, src))
            self.scopes.append({it: tp})
        self.loop_depth += 1
        self.block(push=False)
        self.loop_depth -= 1
        self.scopes.pop()
        if self.p(0.2):
            # for-else
            self.emit("else:")
            self.ind += 1
            self.emit("print('for-else')")
            self.ind -= 1

    def while_stmt(self):
        w = self.fresh("w")
        self.protected.add(w)
        self.emit("%s = 0" % w)
        self.emit("while %s < %d:" % (w, self.r.randint(0, 6)))
        self.ind += 1
        self.emit("%s += 1" % w)
        self.ind -= 1
        self.scopes.append({w: "int"})
        self.loop_depth += 1
        self.block(push=False)
        self.loop_depth -= 1
        self.scopes.pop()
        self.declare(w, "int")

    def block(self, push=True):
        self.ind += 1
        self.block_depth += 1
        if push:
            self.scopes.append({})
        n = self.r.randint(1, 4)
        start = len(self.lines)
        for _ in range(n):
            self.stmt()
        if len(self.lines) == start:
            self.emit("pass")
        if self.loop_depth and self.p(0.35):
            self.emit("if %s:" % self.bool_expr(1))
            self.emit("    %s" % self.ch(["break", "continue"]))
            self.stmt()
        if push:
            self.scopes.pop()
        self.block_depth -= 1
        self.ind -= 1

    def stmt(self):
        k = self.r.randint(0, 21)
        if k >= 20:
            k = self.ch([9, 10])
        nested_ok = self.block_depth < 3 and (self.loop_depth < 2)
        if k <= 3:
            self.assign_new()
        elif k <= 6:
            self.assign_existing()
        elif k <= 8:
            self.print_stmt()
        elif k == 9:
            self.list_stmt()
        elif k == 10:
            self.dict_stmt()
        elif k == 11 and self.block_depth < 3:
            self.if_stmt()
        elif k == 12 and nested_ok:
            self.for_stmt()
        elif k == 13 and nested_ok:
            self.while_stmt()
        elif k == 14:
            ts = self.vars("tuple")
            if ts:
                a, b = self.fresh(), self.fresh()
                self.emit("%s, %s = %s" % (a, b, self.ch(ts)))
                self.declare(a, "int")
                self.declare(b, "int")
                self.emit("print(%s, %s, %s + (%s,), %s < (%s, 0))" % (a, b, self.ch(ts), a, self.ch(ts), b))
            else:
                self.assign_new()
        elif k == 15:
            self.emit("assert %s, %r" % (self.ch(["True", "%s == %s" % ((self.ch(self.vars("int")),) * 2) if self.vars("int") else "1 < 2",
                                                   "len(%s) >= 0" % self.str_expr(1)]), "msg"))
        elif k == 19:
            self.misc_stmt()
        elif k == 18 and self.vars("counter"):
            # closures with nonlocal state (impure, so only called from statements)
            name = self.fresh()
            self.emit("%s = %s(%s)" % (name, self.ch(self.vars("counter")), self.ch(["", str(self.r.randint(1, 5)), "k=%d" % self.r.randint(1, 5)])))
            self.declare(name, "int")
            self.emit("print('counter', %s)" % name)
        elif k == 16 and self.globals_int and not self.in_func and self.block_depth < 4:
            self.emit("%s()" % self.ch(["bump_global", "print"]))
        elif k == 17 and self.funcs and self.block_depth < 4:
            self.emit("print(%s)" % self.call_func(0))
        else:
            self.print_stmt()

    # ---------- functions ----------
    def gen_function(self):
        name = self.fresh("f")
        np = self.r.randint(1, 3)
        ndef = self.r.randint(0, np - 1) if np > 1 else 0
        star = self.p(0.3)
        params = [self.fresh("p") for _ in range(np)]
        ps = []
        for i, p in enumerate(params):
            if i >= np - ndef:
                ps.append("%s=%s" % (p, self.small_int()))
            else:
                ps.append(p)
        if star:
            ps.append("*rest")
        self.emit("def %s(%s):" % (name, ", ".join(ps)))
        saved = self.scopes
        self.scopes = [{k: v for k, v in saved[0].items() if v in ("lambda",)}, {p: "int" for p in params}]
        if star:
            self.scopes[-1]["rest"] = "tuple_any"
        self.in_func = True
        self.ind += 1
        self.block_depth += 1
        for _ in range(self.r.randint(1, 5)):
            self.stmt()
        extra = " + sum(rest)" if star else ""
        self.emit("return (%s%s) %% %d" % (self.int_expr(), extra, self.ch(MODS)))
        self.block_depth -= 1
        self.ind -= 1
        self.in_func = False
        self.scopes = saved
        self.funcs.append((name, np - ndef, np, star, params[-1] if ndef else None))

    def prelude(self):
        r = self.r
        # recursion
        m = self.ch(MODS)
        self.emit("def rec(n, acc=1):")
        self.emit("    n = n % 15")
        self.emit("    if n <= 0:")
        self.emit("        return acc")
        self.emit("    return rec(n - 1, (acc * %d + n) %% %d)" % (r.randint(2, 9), m))
        self.emit("def fib(n):")
        self.emit("    return n if n < 2 else fib(n - 1) + fib(n - 2)")
        self.funcs.append(("rec", 1, 2, False, "acc"))
        # closure with nonlocal
        self.emit("def make_counter(start):")
        self.emit("    c = start")
        self.emit("    def inc(k=1):")
        self.emit("        nonlocal c")
        self.emit("        c = (c + k * %d) %% %d" % (r.randint(1, 7), self.ch(MODS)))
        self.emit("        return c")
        self.emit("    return inc")
        cn = self.fresh("cnt")
        self.emit("%s = make_counter(%s)" % (cn, self.small_int()))
        self.declare(cn, "counter")
        # global
        self.emit("gcount = %s" % self.small_int())
        self.emit("def bump_global():")
        self.emit("    global gcount")
        self.emit("    gcount = (gcount * 3 + 1) % 1009")
        self.emit("    print('gcount', gcount)")
        self.globals_int.append("gcount")
        self.emit("def accum(x, acc=[]):")
        self.emit("    acc.append(x)")
        self.emit("    return (len(acc), acc[-3:])")
        self.emit("def outer(a, b=2):")
        self.emit("    def inner(c):")
        self.emit("        return (a * c + b) % 1009")
        self.emit("    return [inner(c) for c in range(b % 5)] + [inner(a)]")
        self.emit("print(outer(%s), outer(%s, b=%s))" % (self.small_int(), self.small_int(), self.small_int()))
        self.emit("def apply(fn, *xs):")
        self.emit("    return [fn(x) for x in xs]")
        self.emit("def describe(x, label='v', sep=': '):")
        self.emit("    return label + sep + str(x)")
        self.emit("print(rec(%d), fib(%d), rec(%d, acc=%d))" % (r.randint(0, 14), r.randint(0, 12), r.randint(0, 5), r.randint(0, 9)))

    def tensor_part(self):
        r = self.r
        rows, cols = r.randint(1, 4), r.randint(1, 4)
        def mat(a, b):
            return "[%s]" % ", ".join("[%s]" % ", ".join(self.ch(["0.5", "1.0", "-2.0", "3.25", "0.0", "1.5", "-0.125", "2.0"])
                                                         for _ in range(b)) for _ in range(a))
        self.emit("ta = tensor(%s)" % mat(rows, cols))
        self.emit("tb = tensor(%s)" % mat(rows, cols))
        k = r.randint(1, 4)
        self.emit("tw = tensor(%s)" % mat(cols, k))
        self.emit("print(ta)")
        self.emit("print(ta + tb, ta * tb, ta - %s)" % self.ch(["1.0", "tb", "0.5"]))
        self.emit("print(ta @ tw)")
        self.emit("print(relu(ta - tb))")
        self.emit("print(sum(ta, axis=%d), sum(ta), ta.shape, tw.ndim)" % r.randint(0, 1))
        self.emit("print(reshape(ta, %d, %d))" % ((cols, rows) if self.p(0.5) else (rows * cols, 1)))
        self.emit("print(ta[%d], ta[%d, %d], ta.T)" % (r.randint(0, rows - 1), r.randint(0, rows - 1), r.randint(0, cols - 1)))
        self.emit("tv = ta @ tw")
        self.emit("print(relu(tv).sum(axis=-1), tv.shape, item(sum(tv)))")
        self.emit("print(%s)" % self.ch(["tolist(ta * 2.0)", "max(ta)", "mean(tb)", "softmax(ta, axis=-1)",
                                         "ta[0:%d]" % r.randint(1, rows), "arange(%d)" % r.randint(1, 6), "zeros(%d, %d)" % (rows, cols)]))
        self.emit("for trow in ta:")
        self.emit("    print(trow, float(sum(trow)))")

    def program(self):
        self.emit("# generated by tests/gen_programs.py")
        self.prelude()
        for _ in range(self.r.randint(2, 5)):
            self.gen_function()
        for _ in range(self.r.randint(3, 6)):
            self.assign_new()
        for _ in range(self.r.randint(30, 55)):
            self.stmt()
        if self.tensors:
            self.tensor_part()
        ints = self.vars("int")
        self.emit("print('done', %s)" % ", ".join(ints[:6] + ["gcount"]))
        return "\n".join(self.lines) + "\n"


def main():
    args = sys.argv[1:]
    tensors = "--tensors" in args
    args = [a for a in args if a != "--tensors"]
    if len(args) != 1:
        sys.stderr.write("usage: gen_programs.py SEED [--tensors]\n")
        sys.exit(2)
    sys.stdout.write(Gen(int(args[0]), tensors).program())


if __name__ == "__main__":
    main()
