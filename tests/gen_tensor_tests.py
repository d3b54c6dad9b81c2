#!/usr/bin/python3
"""Generate the golden tensor programs tests/programs/tensor_*.tl and their expected output.

Every tensor_*.tl starts with `# tl-only` (gen_expected.py leaves it alone) and its NAME.out is
what PyTorch prints for the same source: the program is run by this script under Debian's
python3 with a prelude that gives TL's tensor builtins on top of torch (see "The prelude"
below). The tensor_err_*.tl programs fail on purpose; their NAME.err (exit code, first stderr
line) is written from the message and position given here, and their NAME.out is what the
program prints before the failing statement (its last line), again computed with torch.

usage: /usr/bin/python3 tests/gen_tensor_tests.py [--check]
       (Debian's python3 with python3-torch and python3-numpy, not a pyenv python)
       --check writes nothing and exits 1 if a file would change.

The prelude
-----------
A TL tensor is a `TLTensor`, a thin immutable wrapper around a torch tensor: operators,
indexing, iteration, printing and methods go through it, so `x.sum(axis=1)` means TL's
`sum(x, axis=1)` (a TL method call is the function with the receiver as first argument) and
`x += 1` rebinds x instead of writing into the tensor. Every number is computed by torch; the
prelude only adapts calling conventions (axis=/keepdims=, a number operand taken as a float32
scalar, comparisons giving 0./1. tensors, `max(a, b)` of two tensors = torch.maximum, Python's
`sum`/`max`/`min`/`abs`/`round` for non-tensors, `type(x)` giving a name).

Numerical robustness
--------------------
Tensors print with 4 digits after the point, and the VM's float32 kernels are not bitwise
torch's (summation order, BLAS, libm). Each snippet of a program is therefore run several ways
and must print exactly the same each time:

  * f32: plain torch float32 - this is the expected output;
  * f64: the same inputs (float32-rounded literals and scalars) computed in float64, printed
    after rounding to float32; `item`/`tolist`/`float` give the float64 value unrounded, so
    a printed Python float must be exactly computable in float32;
  * jitter (6 runs): float32 again, but every result of an op that is not exact (its float32
    value differs from the float64 value computed from the same float32 inputs) is moved by a
    pattern (+1, -1, 4 random in [-1, 1]) times a bound on how far another correct float32
    implementation may be: 4 ulp for exp/log/tanh/..., 1 ulp for `/`, (n+1)*u*sum|x| for a sum
    of n terms, (K+1)*u*(|a|@|b|) for a matmul, and so on (`_bound_*` below). `+ - *` are
    correctly rounded and not moved.

`//` and `%` additionally refuse a quotient within 1e-5 of an integer (floor(a/b) and Python's
floor division may differ there). A snippet with random inputs (drawn with a seeded numpy
generator and written into the source as short decimal literals) that fails is drawn again;
a fixed snippet that fails is an error in this script.
"""

import ast
import builtins
import contextlib
import io
import math
import os
import sys
import textwrap
import traceback
import warnings
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, 'programs')

torch.set_printoptions(profile='default')
torch.set_num_threads(1)

U = 2.0 ** -24  # float32 unit roundoff
FUTURE_ANNOTATIONS = 0x1000000  # __future__.annotations.compiler_flag: Tensor[B, 3] stays text


# ============================================================================ the prelude

class _State:
    mode = 'f32'   # 'f32' or 'f64'
    jit = None     # None, or shape -> float64 tensor of factors in [-1, 1]
    gen = None     # torch.Generator for rand/randn (tensor_random only)


S = _State()


class Fragile(Exception):
    """A result whose printed text another correct implementation might not reproduce."""


def _wd():
    return torch.float32 if S.mode == 'f32' else torch.float64


def _tlname(v):
    if isinstance(v, TLTensor):
        return 'tensor'
    return builtins.type(v).__name__


def _is_num(v):
    return isinstance(v, (bool, int, float))


def _scalar(v):
    """A number taken as a float32 scalar, as a rank-0 tensor of the working dtype."""
    return torch.tensor(float(np.float32(float(v))), dtype=_wd())


def _T(v, fn='tensor'):
    if isinstance(v, TLTensor):
        return v.t
    if _is_num(v):
        return _scalar(v)
    raise TypeError(f"{fn}: expected a tensor, got '{_tlname(v)}'")


def _tensor_arg(v, fn):
    if not isinstance(v, TLTensor):
        raise TypeError(f"{fn}: expected a tensor, got '{_tlname(v)}'")
    return v.t


def _W(t):
    return TLTensor(t)


def _sp(r):
    """The float32 spacing at |r| (r a float64 tensor), as float64; nan where not finite."""
    a = r.abs().float()
    s = (torch.nextafter(a, torch.full_like(a, math.inf)) - a).double()
    s = torch.where(r.abs() < 2.0 ** -126, r.abs() * 2.0 ** -23, s)  # relative below normal
    return torch.where(torch.isfinite(s), s, torch.full_like(s, math.nan))


def _grain(*ts):
    """The least k such that every finite value of the tensors is a multiple of 2**-k."""
    ks = []
    for t in ts:
        v = t[torch.isfinite(t) & (t != 0)].double()
        if v.numel() == 0:
            continue
        for k in range(-160, 200):
            y = v * 2.0 ** k
            if bool((y == torch.floor(y)).all()):
                ks.append(k)
                break
        else:
            ks.append(1000)
    return builtins.max(ks) if ks else None


def _order_free(k, total):
    """Every partial sum of terms that are multiples of 2**-k, with sum |term| <= total, is
    exact in float32: so is any summation order."""
    return k is None or float(total) * 2.0 ** k < 2.0 ** 24


def _op(f, args, bound=None, order_free=None):
    """r = f(*args) in the working dtype; under jitter, moves inexact elements by the bound.

    An element is exact when its float32 value equals the float64 one computed from the same
    inputs; for a sum of more than two terms also every summation order must be exact
    (order_free(float64 args) says so), or another order may round differently."""
    r = f(*args)
    if S.jit is None or bound is None or r.numel() == 0:
        return r
    a64 = [a.double() if isinstance(a, torch.Tensor) else a for a in args]
    r64 = f(*a64)
    rd = r.double()
    exact = (rd == r64) | ~torch.isfinite(rd) | ~torch.isfinite(r64)
    if order_free is not None and not order_free(a64):
        exact = ~torch.isfinite(rd) | ~torch.isfinite(r64)
    if bool(exact.all()):
        return r
    b = torch.broadcast_to(torch.maximum(bound(a64, r64).double(), _sp(r64)), r.shape)
    b = torch.nan_to_num(b, nan=0.0)
    moved = (rd + b * S.jit(tuple(r.shape))).float()
    moved = torch.where(moved == 0, r, moved)  # keeps the sign of a zero
    return torch.where(exact, r, moved)


def _bound_ulp(k):
    return lambda a, r: k * _sp(r)


def _bound_log(a, r):
    return 4 * _sp(r) + 2 * U


def _bound_gelu(a, r):
    return 4 * _sp(r) + 2 * U * a[0].abs()


class TLTensor:
    """A TL tensor: immutable; every operation makes a new one."""
    __slots__ = ('t',)

    def __init__(self, t):
        object.__setattr__(self, 't', t)

    def __setattr__(self, name, value):
        raise AttributeError(f"'tensor' object has no attribute '{name}'")

    # -- attributes
    @property
    def shape(self):
        return tuple(int(d) for d in self.t.shape)

    @property
    def ndim(self):
        return self.t.dim()

    @property
    def T(self):
        return _W(self.t.permute(tuple(reversed(range(self.t.dim())))))

    def __getattr__(self, name):
        fn = METHODS.get(name)
        if fn is None:
            raise AttributeError(f"'tensor' has no attribute '{name}'")
        return lambda *args, **kw: fn(self, *args, **kw)

    # -- printing
    def __str__(self):
        return str(self.t.float())

    __repr__ = __str__

    def __format__(self, spec):
        if self.t.dim() == 0:  # torch: a rank-0 tensor formats its item
            return format(item(self), spec)
        if spec == '':
            return str(self)
        raise TypeError('unsupported format string passed to Tensor.__format__')

    # -- conversions
    def __float__(self):
        return item(self)

    def __int__(self):
        return int(item(self))

    def __bool__(self):
        return bool(self.t)  # torch: one element, else "ambiguous" error

    def __len__(self):
        return len(self.t)

    def __iter__(self):
        return (_W(self.t[i]) for i in range(len(self.t)))

    def __contains__(self, v):
        return bool(self.t.__contains__(_T(v)))

    def __getitem__(self, index):
        return _W(self.t[index])

    # -- arithmetic
    def __neg__(self):
        return _W(torch.neg(self.t))

    def __pos__(self):
        return _W(self.t)

    def __abs__(self):
        return _W(torch.abs(self.t))

    def __round__(self, n=None):
        if n is not None:
            raise TypeError('round: ndigits with a tensor')
        return _W(torch.round(self.t))

    # -- comparisons: elementwise, 0./1.; None, str, ... compare unequal
    def _cmp(self, other, f):
        if not (isinstance(other, TLTensor) or _is_num(other)):
            return NotImplemented
        a, b = self.t, _T(other)
        return _W(f(a, b).to(_wd()))

    def __eq__(self, o):
        r = self._cmp(o, torch.eq)
        return False if r is NotImplemented else r

    def __ne__(self, o):
        r = self._cmp(o, torch.ne)
        return True if r is NotImplemented else r

    def __lt__(self, o):
        return self._cmp(o, torch.lt)

    def __le__(self, o):
        return self._cmp(o, torch.le)

    def __gt__(self, o):
        return self._cmp(o, torch.gt)

    def __ge__(self, o):
        return self._cmp(o, torch.ge)

    __hash__ = None


def _floor_check(a, b):
    """Refuses a//b and a%b whose quotient is within 1e-5 of an integer (without being one)."""
    q = a.double() / b.double()
    q, _ = torch.broadcast_tensors(q, q)
    ok = ~torch.isfinite(q) | (b.double() == 0)
    fr = q - torch.floor(q)
    d = torch.minimum(fr, 1 - fr)
    near = (d > 0) & (d < 1e-5 * torch.clamp(q.abs(), min=1.0)) & ~ok
    if bool(near.any()):
        raise Fragile(f'quotient near an integer: {q[near].tolist()}')


def _binop(name, f, bound):
    def apply(a, b):
        if name in ('//', '%'):
            _floor_check(a, b)
        r = _op(f, [a, b], bound)
        if name == '%':
            # torch keeps fmod's sign on a zero remainder (-4. % 2. is -0.); Python gives the
            # divisor's sign. Refuse the cases where they differ.
            bb = torch.broadcast_to(b, r.shape)
            if bool(((r == 0) & (torch.signbit(r) != torch.signbit(bb))).any()):
                raise Fragile('zero remainder whose sign torch and Python disagree on')
        return _W(r)

    def left(self, other):
        if not (isinstance(other, TLTensor) or _is_num(other)):
            return NotImplemented
        return apply(self.t, _T(other))

    def right(self, other):
        if not _is_num(other):
            return NotImplemented
        return apply(_T(other), self.t)
    return left, right


def _bound_mod(a, r):
    return 2 * U * (a[0].abs() + a[1].abs())


for _name, _dunder, _f, _b in [
        ('+', 'add', torch.add, None),
        ('-', 'sub', torch.sub, None),
        ('*', 'mul', torch.mul, None),
        ('/', 'truediv', torch.div, _bound_ulp(1)),
        ('//', 'floordiv', torch.floor_divide, None),
        ('%', 'mod', torch.remainder, _bound_mod),
        ('**', 'pow', torch.pow, _bound_ulp(4))]:
    _l, _r = _binop(_name, _f, _b)
    setattr(TLTensor, f'__{_dunder}__', _l)
    setattr(TLTensor, f'__r{_dunder}__', _r)


def _matmul_bound(a, r):
    k = a[0].shape[-1]
    return (k + 1) * U * torch.matmul(a[0].abs(), a[1].abs())


def _matmul_order_free(a):
    if a[0].shape[-1] <= 1:
        return True
    ka, kb = _grain(a[0]), _grain(a[1])
    if ka is None or kb is None:
        return True
    return _order_free(ka + kb, torch.matmul(a[0].abs(), a[1].abs()).max())


def matmul(a, b):
    return _W(_op(torch.matmul, [_tensor_arg(a, 'matmul'), _tensor_arg(b, 'matmul')],
                  _matmul_bound, _matmul_order_free))


TLTensor.__matmul__ = lambda self, o: matmul(self, o) if isinstance(o, TLTensor) else NotImplemented


# -- create

def tensor(x):
    if isinstance(x, str) or not (_is_num(x) or isinstance(x, (list, tuple))):
        raise TypeError(f"tensor: expected a number or a list of numbers, got '{_tlname(x)}'")
    return _W(torch.tensor(x, dtype=torch.float32).to(_wd()))


def _shape(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def zeros(*shape):
    return _W(torch.zeros(_shape(shape), dtype=_wd()))


def ones(*shape):
    return _W(torch.ones(_shape(shape), dtype=_wd()))


def full(shape, value):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _W(torch.full(shape, float(np.float32(float(value))), dtype=_wd()))


def arange(start, stop=None, step=1):
    if stop is None:
        start, stop = 0, start
    r = torch.arange(start, stop, step, dtype=_wd())
    if S.jit is not None:  # torch computes start + i*step in double, then rounds
        r64 = torch.arange(start, stop, step, dtype=torch.float64)
        moved = (r.double() + _sp(r64) * S.jit(tuple(r.shape))).float()
        r = torch.where(r.double() == r64, r, moved)
    return _W(r)


def eye(n, m=None):
    return _W(torch.eye(n, n if m is None else m, dtype=_wd()))


def manual_seed(n):
    S.gen.manual_seed(n)


def rand(*shape):
    return _W(torch.rand(_shape(shape), generator=S.gen).to(_wd()))


def randn(*shape):
    return _W(torch.randn(_shape(shape), generator=S.gen).to(_wd()))


# -- shape

def numel(x):
    return _tensor_arg(x, 'numel').numel()


def reshape(x, *shape):
    return _W(torch.reshape(_tensor_arg(x, 'reshape'), _shape(shape)))


def transpose(x, d0, d1):
    return _W(torch.transpose(_tensor_arg(x, 'transpose'), d0, d1))


def squeeze(x, dim=None):
    t = _tensor_arg(x, 'squeeze')
    return _W(torch.squeeze(t) if dim is None else torch.squeeze(t, dim))


def unsqueeze(x, dim):
    return _W(torch.unsqueeze(_tensor_arg(x, 'unsqueeze'), dim))


def flatten(x, start_dim=0, end_dim=-1):
    return _W(torch.flatten(_tensor_arg(x, 'flatten'), start_dim, end_dim))


def cat(seq, dim=0):
    return _W(torch.cat([_tensor_arg(v, 'cat') for v in seq], dim))


def stack(seq, dim=0):
    return _W(torch.stack([_tensor_arg(v, 'stack') for v in seq], dim))


# -- elementwise

def _unary(name, f, bound=None, math_fn=None):
    def fn(x):
        if not isinstance(x, TLTensor):
            if math_fn is not None and _is_num(x):
                return math_fn(x)
            raise TypeError(f"{name}: expected a tensor, got '{_tlname(x)}'")
        return _W(_op(f, [x.t], bound))
    fn.__name__ = name
    return fn


relu = _unary('relu', torch.relu)
sigmoid = _unary('sigmoid', torch.sigmoid, _bound_ulp(4))
tanh = _unary('tanh', torch.tanh, _bound_ulp(4), math.tanh)
gelu = _unary('gelu', F.gelu, _bound_gelu)
exp = _unary('exp', torch.exp, _bound_ulp(4), math.exp)
log = _unary('log', torch.log, _bound_log, math.log)
sqrt = _unary('sqrt', torch.sqrt, _bound_ulp(1), math.sqrt)
sin = _unary('sin', torch.sin, _bound_log, math.sin)
cos = _unary('cos', torch.cos, _bound_log, math.cos)
floor = _unary('floor', torch.floor, None, math.floor)
ceil = _unary('ceil', torch.ceil, None, math.ceil)
neg = _unary('neg', torch.neg)


def abs(x):
    return _W(torch.abs(x.t)) if isinstance(x, TLTensor) else builtins.abs(x)


def round(x, *nd):
    if isinstance(x, TLTensor):
        return x.__round__(*nd)
    return builtins.round(x, *nd)


def _two(name, a, b):
    if not (isinstance(a, TLTensor) or isinstance(b, TLTensor)):
        raise TypeError(f"{name}: expected a tensor, got '{_tlname(a)}'")
    return _T(a, name), _T(b, name)


def maximum(a, b):
    return _W(torch.maximum(*_two('maximum', a, b)))


def minimum(a, b):
    return _W(torch.minimum(*_two('minimum', a, b)))


def where(c, a, b):
    c = _tensor_arg(c, 'where')
    return _W(torch.where(c != 0, _T(a, 'where'), _T(b, 'where')))


def clamp(x, lo=None, hi=None, min=None, max=None):
    lo = min if lo is None else lo
    hi = max if hi is None else hi
    f32 = lambda v: None if v is None else float(np.float32(float(v)))
    return _W(torch.clamp(_tensor_arg(x, 'clamp'), f32(lo), f32(hi)))


# -- reduce

def _axes(t, axis, dim):
    ax = dim if axis is None else axis
    if ax is None:
        return tuple(range(t.dim()))
    return ax


def _keep(keepdims, keepdim):
    return bool(keepdim) if keepdim is not None else bool(keepdims)


def _count(t, ax):
    ax = (ax,) if isinstance(ax, int) else ax
    n = 1
    for d in ax:
        n *= t.shape[d] if t.dim() else 1
    return n


def _reduce(x, axis, keepdims, dim, keepdim, kind):
    t = x.t
    ax = _axes(t, axis, dim)
    k = _keep(keepdims, keepdim)
    if kind == 'max':
        return _W(torch.amax(t, dim=ax, keepdim=k))
    if kind == 'min':
        return _W(torch.amin(t, dim=ax, keepdim=k))
    n = _count(t, ax)
    f = (lambda a: torch.sum(a, dim=ax, keepdim=k)) if kind == 'sum' else \
        (lambda a: torch.mean(a, dim=ax, keepdim=k))
    if kind == 'sum':
        bound = lambda a, r: (n + 1) * U * torch.sum(a[0].abs(), dim=ax, keepdim=k)
    else:  # the mean is the sum divided by n
        bound = lambda a, r: (n + 2) * U * torch.mean(a[0].abs(), dim=ax, keepdim=k)

    def order_free(a):
        if n <= 2 or a[0].numel() == 0:
            return True
        return _order_free(_grain(a[0]), torch.sum(a[0].abs(), dim=ax).max())
    return _W(_op(f, [t], bound, order_free))


def sum(x, *rest, axis=None, keepdims=False, dim=None, keepdim=None):
    if isinstance(x, TLTensor):
        return _reduce(x, axis, keepdims, dim, keepdim, 'sum')
    return builtins.sum(x, *rest)


def mean(x, axis=None, keepdims=False, dim=None, keepdim=None):
    return _reduce(_TT(x, 'mean'), axis, keepdims, dim, keepdim, 'mean')


def _TT(x, fn):
    _tensor_arg(x, fn)
    return x


def max(*args, axis=None, keepdims=False, dim=None, keepdim=None, **kw):
    if len(args) == 1 and isinstance(args[0], TLTensor):
        return _reduce(args[0], axis, keepdims, dim, keepdim, 'max')
    if len(args) == 2 and isinstance(args[0], TLTensor) and isinstance(args[1], TLTensor):
        return maximum(*args)
    return builtins.max(*args, **kw)


def min(*args, axis=None, keepdims=False, dim=None, keepdim=None, **kw):
    if len(args) == 1 and isinstance(args[0], TLTensor):
        return _reduce(args[0], axis, keepdims, dim, keepdim, 'min')
    if len(args) == 2 and isinstance(args[0], TLTensor) and isinstance(args[1], TLTensor):
        return minimum(*args)
    return builtins.min(*args, **kw)


def argmax(x, axis=None, dim=None):
    t = _tensor_arg(x, 'argmax')
    ax = dim if axis is None else axis
    return _W(torch.argmax(t, dim=ax).to(_wd()))


# -- nn

def _linear_bound(a, r):
    k = a[1].shape[-1]
    s = F.linear(a[0].abs(), a[1].abs(), None if len(a) < 3 else a[2].abs())
    return (k + 2) * U * s


def linear(x, w, b=None):
    args = [_tensor_arg(x, 'linear'), _tensor_arg(w, 'linear')]
    if b is not None:
        args.append(_tensor_arg(b, 'linear'))
    def order_free(a):
        if a[1].shape[-1] + (len(a) > 2) <= 1:
            return True
        ks = [_grain(a[0]), _grain(a[1])]
        if None in ks:
            return True
        k = ks[0] + ks[1]
        if len(a) > 2 and _grain(a[2]) is not None:
            k = builtins.max(k, _grain(a[2]))
        return _order_free(k, F.linear(a[0].abs(), a[1].abs(),
                                       None if len(a) < 3 else a[2].abs()).max())
    return _W(_op(lambda *a: F.linear(*a), args, _linear_bound, order_free))


def _softmax_parts(x, ax):
    n = x.shape[ax] if x.dim() else 1
    m = torch.amax(x, dim=ax, keepdim=True)
    d = (x - m).abs()
    d = torch.nan_to_num(d, nan=0.0, posinf=0.0)
    return n, m, d, torch.amax(d, dim=ax, keepdim=True)


def softmax(x, axis=-1, dim=None):
    ax = axis if dim is None else dim

    def bound(a, r):
        n, m, d, dmax = _softmax_parts(a[0], ax)
        return U * (8 + n + d + dmax) * r.abs()
    return _W(_op(lambda t: F.softmax(t, dim=ax), [_tensor_arg(x, 'softmax')], bound))


def log_softmax(x, axis=-1, dim=None):
    ax = axis if dim is None else dim

    def bound(a, r):
        # (x - max) - log(sum(exp(x - max))), as torch computes it
        n, m, d, dmax = _softmax_parts(a[0], ax)
        return U * (8 + n + d + dmax + torch.nan_to_num(r.abs(), posinf=0.0))
    return _W(_op(lambda t: F.log_softmax(t, dim=ax), [_tensor_arg(x, 'log_softmax')],
                  bound))


def layer_norm(x, w, b, eps=1e-5):
    args = [_tensor_arg(x, 'layer_norm'), _tensor_arg(w, 'layer_norm'),
            _tensor_arg(b, 'layer_norm')]
    d = args[0].shape[-1]

    def bound(a, r):
        mu = a[0].mean(-1, keepdim=True)
        var = ((a[0] - mu) ** 2).mean(-1, keepdim=True)
        xhat = (a[0] - mu) / torch.sqrt(var + eps)
        return U * (16 + 4 * d) * (a[1].abs() * (xhat.abs() + 1) + a[2].abs())
    return _W(_op(lambda t, ww, bb: F.layer_norm(t, (d,), ww, bb, eps), args, bound))


# -- convert

def item(x):
    t = _tensor_arg(x, 'item')
    if t.numel() != 1:
        raise ValueError(f'item: a tensor with {t.numel()} elements cannot be converted to a number')
    return float(t.reshape(()).item())


def tolist(x):
    return _tensor_arg(x, 'tolist').tolist()


# -- TL's type names

def type(x):
    return _tlname(x)


def isinstance_(x, name):
    if isinstance(name, str):
        return _tlname(x) == name
    return isinstance(x, name)


METHODS = {n: f for n, f in [
    ('numel', numel), ('reshape', reshape), ('transpose', transpose), ('squeeze', squeeze),
    ('unsqueeze', unsqueeze), ('flatten', flatten), ('relu', relu), ('sigmoid', sigmoid),
    ('tanh', tanh), ('gelu', gelu), ('exp', exp), ('log', log), ('sqrt', sqrt), ('abs', abs),
    ('neg', neg), ('sin', sin), ('cos', cos), ('floor', floor), ('ceil', ceil),
    ('round', round), ('maximum', maximum), ('minimum', minimum), ('where', where),
    ('clamp', clamp), ('sum', sum), ('mean', mean), ('max', max), ('min', min),
    ('argmax', argmax), ('matmul', matmul), ('linear', linear), ('softmax', softmax),
    ('log_softmax', log_softmax), ('layer_norm', layer_norm), ('item', item),
    ('tolist', tolist)]}

PRELUDE = {name: globals()[name] for name in [
    'tensor', 'zeros', 'ones', 'full', 'arange', 'eye', 'rand', 'randn', 'manual_seed',
    'numel', 'reshape', 'transpose', 'squeeze', 'unsqueeze', 'flatten', 'cat', 'stack',
    'relu', 'sigmoid', 'tanh', 'gelu', 'exp', 'log', 'sqrt', 'abs', 'neg', 'sin', 'cos',
    'floor', 'ceil', 'round', 'maximum', 'minimum', 'where', 'clamp', 'sum', 'mean', 'max',
    'min', 'argmax', 'matmul', 'linear', 'softmax', 'log_softmax', 'layer_norm', 'item',
    'tolist', 'type']}
PRELUDE['isinstance'] = isinstance_


# ============================================================================ running TL source

JITTERS = ['+', '-', 'r0', 'r1', 'r2', 'r3']


def _jitter(kind):
    if kind == '+':
        return lambda shape: torch.ones(shape, dtype=torch.float64)
    if kind == '-':
        return lambda shape: -torch.ones(shape, dtype=torch.float64)
    rng = np.random.default_rng(int(kind[1:]) + 1000)
    return lambda shape: torch.from_numpy(rng.uniform(-1.0, 1.0, size=shape))


def run(src, mode='f32', jit=None, filename='prog.tl'):
    """Runs TL source under the prelude: (stdout, exception or None, failing line or None)."""
    S.mode = mode
    S.jit = None if jit is None else _jitter(jit)
    S.gen = torch.Generator().manual_seed(0)
    ns = dict(PRELUDE)
    ns['__name__'] = '__main__'
    code = compile(src, filename, 'exec', flags=FUTURE_ANNOTATIONS, dont_inherit=True)
    buf = io.StringIO()
    exc, line = None, None
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter('error')
        try:
            exec(code, ns)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            exc = e
            for fr in traceback.extract_tb(e.__traceback__):
                if fr.filename == filename:
                    line = fr.lineno
    S.mode, S.jit = 'f32', None
    return buf.getvalue(), exc, line


def robust(src):
    """None if every way of running src prints the same, else why not."""
    ref, exc, line = run(src)
    if exc is not None:
        if isinstance(exc, Fragile):
            return f'fragile: {exc}'
        raise RuntimeError(f'snippet raised {exc!r} at line {line}:\n{src}')
    for mode, jit in [('f64', None)] + [('f32', j) for j in JITTERS]:
        out, exc, _ = run(src, mode, jit)
        if exc is not None:
            return f'{mode}/{jit}: raised {exc!r}'
        if out != ref:
            a, b = ref.splitlines(), out.splitlines()
            for i in range(builtins.max(len(a), len(b))):
                la = a[i] if i < len(a) else '<none>'
                lb = b[i] if i < len(b) else '<none>'
                if la != lb:
                    return f'{mode}/{jit} differs at output line {i + 1}: {la!r} vs {lb!r}'
            return f'{mode}/{jit} differs'
    return None


# ============================================================================ drawing inputs

def lit(v):
    """A nested list of floats as TL (and Python) source."""
    if isinstance(v, list):
        return '[' + ', '.join(lit(e) for e in v) + ']'
    if v == 0:
        v = 0.0
    return repr(float(v))


class Draw:
    """Seeded random inputs, written into the TL source as short decimal literals."""

    def __init__(self, rng):
        self.rng = rng

    def num(self, lo=-3.0, hi=3.0, dec=2, nonzero=False):
        while True:
            v = builtins.round(float(self.rng.uniform(lo, hi)), dec)
            if v == 0:
                v = 0.0
            if not (nonzero and v == 0.0):
                return v

    def vals(self, shape, **kw):
        if not shape:
            return self.num(**kw)
        return [self.vals(shape[1:], **kw) for _ in range(shape[0])]

    def t(self, *shape, **kw):
        """`tensor([...])` of random values (lo, hi, dec, nonzero)."""
        return 'tensor(' + lit(self.vals(shape, **kw)) + ')'

    def pos(self, *shape, lo=0.05, hi=4.0, dec=2):
        return self.t(*shape, lo=lo, hi=hi, dec=dec)

    def ints(self, *shape, lo=-5, hi=5):
        def go(s):
            if not s:
                return str(int(self.rng.integers(lo, hi + 1)))
            return '[' + ', '.join(go(s[1:]) for _ in range(s[0])) + ']'
        return 'tensor(' + go(shape) + ')'


# ============================================================================ programs

class Program:
    def __init__(self, name, doc, setup=''):
        self.name, self.doc = name, doc
        self.setup = textwrap.dedent(setup).strip('\n')
        self.items = []

    def add(self, item):
        """A snippet: TL source text, or a function of a Draw giving it (drawn again until
        robust). Each snippet runs after `setup` on its own, so it must not need another."""
        self.items.append(item)
        return item


ALL = []


def program(name, doc, setup=''):
    p = Program(name, doc, setup)
    ALL.append(p)
    return p


def src(s):
    return textwrap.dedent(s).strip('\n') + '\n'


# ---------------------------------------------------------------------------- create
p = program('tensor_create', 'tensor(), zeros, ones, full, arange, eye.')
p.add(src('''
    # tensor(number or nested lists/tuples of numbers and bools)
    print(tensor(3))
    print(tensor(-2.5))
    print(tensor(-0.0))
    print(tensor(True), tensor(False))
    print(tensor([1, 2, 3]))
    print(tensor([1.5, -2.25, 0.0, 100.0]))
    print(tensor([[1, 2], [3, 4], [5, 6]]))
    print(tensor(((1, 2), (3, 4))))
    print(tensor([(1.5, 2), [3, -4]]))
    print(tensor([True, False, True]))
    print(tensor([1, 2.5, True]))
    print(tensor([[[1, 2]], [[3, 4]]]))
    print(tensor([0.1, 0.2, 0.3]))
    print(tensor([1e-3, 1e5]))
    print(tensor([16777217, 0.1]))
    e = tensor([])
    print(e, e.shape)
    print(tensor([[], []]), tensor([[], []]).shape)
    print(tensor(7).shape, tensor([7]).shape, tensor([[7]]).shape)
'''))
p.add(src('''
    # zeros / ones: *shape, a tuple or a list
    print(zeros(3))
    print(zeros(2, 3))
    print(zeros((2, 3)))
    print(zeros([1, 2, 2]))
    print(zeros(0), zeros(0).shape)
    print(zeros(2, 0, 3))
    print(zeros(()), zeros(()).shape)
    print(ones(4))
    print(ones(2, 2))
    print(ones((3, 1)))
    print(ones(1, 1, 2).shape)
'''))
p.add(src('''
    # full(shape, value): shape an int, a tuple or a list
    print(full(3, 7))
    print(full((2, 2), -1.5))
    print(full([2, 3], 0.1))
    print(full((), 4))
    print(full((1, 2), 1e10))
    print(full(2, 0.5).shape, full((2, 1), 3).shape)
'''))
p.add(src('''
    # arange(start, stop=None, step=1)
    print(arange(5))
    print(arange(2, 7))
    print(arange(0, 10, 3))
    print(arange(5, 0, -1))
    print(arange(1, -1, -0.5))
    print(arange(-2.5, 2.5))
    print(arange(0, 2, 0.25))
    print(arange(1.5))
    print(arange(10, 40, 7))
    print(arange(0.5, 2))
    print(arange(0, 1, 0.1))
    print(arange(3, 3), arange(3, 3).shape)
    print(arange(6).shape, arange(1, 2, 0.3).shape)
'''))
p.add(src('''
    # eye(n), eye(n, m)
    print(eye(3))
    print(eye(2, 4))
    print(eye(3, 1))
    print(eye(1))
    print(eye(0), eye(0).shape)
    print(eye(2, 3).shape)
'''))

# ---------------------------------------------------------------------------- shape
p = program('tensor_shape', 'shape, ndim, T, numel, reshape, transpose, squeeze, unsqueeze, '
            'flatten, cat, stack, len.', setup='''
    x = reshape(arange(24), 2, 3, 4)
    m = reshape(arange(6), 2, 3)
''')
p.add(src('''
    print(x.shape, x.ndim, numel(x), len(x))
    print(x)
    print(x.shape[0], x.shape[-1], len(x.shape))
    print(m.shape, m.ndim, numel(m), len(m))
    print(tensor(5).shape, tensor(5).ndim, numel(tensor(5)))
    print(numel(zeros(3, 0)), zeros(3, 0).ndim)
    print(x.shape == (2, 3, 4), m.shape == (3, 2))
'''))
p.add(src('''
    # x.T reverses the dimensions
    print(m.T)
    print(m.T.shape)
    print(arange(3).T)
    print(x.T.shape)
    print(x.T)
    print(tensor(5).T)
    print(m.T.T)
'''))
p.add(src('''
    # reshape(x, *shape), a tuple, one -1
    print(reshape(m, 3, 2))
    print(reshape(m, (6,)))
    print(reshape(m, (2, -1)))
    print(reshape(m, -1))
    print(reshape(m, 1, 6))
    print(reshape(x, (4, -1)).shape)
    print(reshape(x, -1, 2, 2).shape)
    print(reshape(x, 2, -1, 3).shape)
    print(reshape(x, 4, 6))
    print(reshape(tensor([7]), ()))
    print(reshape(tensor(7), 1, 1))
    print(reshape(zeros(0), 0, 3).shape)
'''))
p.add(src('''
    # transpose(x, d0, d1), negative dims too
    print(transpose(m, 0, 1))
    print(transpose(m, -1, -2))
    print(transpose(x, 0, 2).shape)
    print(transpose(x, 0, 2))
    print(transpose(x, -1, 1))
    print(transpose(x, 1, 1).shape)
'''))
p.add(src('''
    # squeeze(x), squeeze(x, dim) (a dim whose size is not 1 is left alone)
    s = zeros(1, 3, 1)
    print(squeeze(s).shape, squeeze(s, 0).shape, squeeze(s, -1).shape, squeeze(s, 1).shape)
    print(squeeze(tensor([[5.0]])))
    print(squeeze(reshape(arange(3), 1, 3)))
    print(squeeze(m).shape)
    # unsqueeze(x, dim), negative dims count from the end of the result
    print(unsqueeze(arange(3), 0))
    print(unsqueeze(arange(3), 1))
    print(unsqueeze(arange(3), -1).shape)
    print(unsqueeze(m, -2).shape, unsqueeze(m, 2).shape, unsqueeze(m, -3).shape)
    print(unsqueeze(tensor(2), 0))
'''))
p.add(src('''
    # flatten(x, start_dim=0, end_dim=-1)
    print(flatten(x).shape, flatten(x, 1).shape, flatten(x, start_dim=1).shape)
    print(flatten(x, 0, 1).shape, flatten(x, -2).shape, flatten(x, 1, 1).shape)
    print(flatten(x, 1))
    print(flatten(m))
    print(flatten(tensor(2)))
    print(flatten(zeros(2, 3, 4, 5), 1, 2).shape)
'''))
p.add(src('''
    # cat(list, dim=0)
    a = tensor([[1, 2, 3], [4, 5, 6]])
    b = tensor([[7, 8, 9], [10, 11, 12]])
    print(cat([a, b]))
    print(cat([a, b], dim=1))
    print(cat([a, b, a], dim=-1))
    print(cat((a, b), 0).shape)
    print(cat([a]))
    print(cat([arange(2), arange(3)]))
    print(cat([zeros(0, 3), a]))
    print(cat([a, tensor([[0, 0, 0]])], dim=0))
'''))
p.add(src('''
    # stack(list, dim=0)
    a = tensor([[1, 2, 3], [4, 5, 6]])
    b = tensor([[7, 8, 9], [10, 11, 12]])
    print(stack([a, b]))
    print(stack([a, b]).shape)
    print(stack([a, b], dim=1))
    print(stack([a, b, a], dim=-1).shape)
    print(stack([a, b, a], dim=-1))
    print(stack([arange(3), arange(3) * 2]))
    print(stack([tensor(1), tensor(2), tensor(3)]))
    print(stack((a,), 0).shape)
'''))
p.add(src('''
    # len(x) is the size of the first dimension
    print(len(arange(5)), len(m), len(x), len(zeros(0, 4)), len(tensor([[1, 2]])))
'''))

# ---------------------------------------------------------------------------- elementwise
p = program('tensor_elementwise', 'relu sigmoid tanh gelu exp log sqrt abs neg sin cos floor '
            'ceil round, maximum, minimum, where, clamp; inf and nan inputs.')
p.add(lambda g: f'''x = {g.t(3, 4)}
print(relu(x))
print(abs(x))
print(neg(x))
''')
p.add(lambda g: f'''x = {g.t(3, 4)}
print(sigmoid(x))
print(tanh(x))
''')
p.add(lambda g: f'''x = {g.t(2, 5, lo=-1.5, hi=3)}
print(gelu(x))
print(gelu(tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 10.0])))
''')
p.add(lambda g: f'''x = {g.t(2, 4)}
print(exp(x))
print(exp(tensor([88.0, 89.0, -200.0, 0.0])))
''')
p.add(lambda g: f'''x = {g.pos(2, 4)}
print(log(x))
print(sqrt(x))
''')
p.add(lambda g: f'''x = {g.t(2, 4, lo=-4, hi=4)}
print(sin(x))
print(cos(x))
''')
p.add(lambda g: f'''x = {g.t(3, 3, lo=-4, hi=4)}
print(floor(x))
print(ceil(x))
print(round(x))
''')
p.add(src('''
    # tensor round is torch.round: halves go to even
    print(round(tensor([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49, 2.51])))
    print(floor(tensor([-0.5, 0.5, -2.0, 1e10])), ceil(tensor([-0.5, 0.5, -2.0])))
    print(log(tensor([0.0, -1.0, 1.0])))
    print(sqrt(tensor([-1.0, 0.0, 4.0, 2.0])))
    print(exp(tensor([0.0, 1.0, -1.0])))
'''))
p.add(src('''
    # nan, -inf, inf: what torch gives
    s = tensor([0.0, -1.0, 2.0]) / 0.0
    print(s)
    print(relu(s))
    print(sigmoid(s))
    print(tanh(s))
    print(gelu(s))
    print(exp(s))
    print(log(s))
    print(sqrt(s))
    print(abs(s), neg(s))
    print(sin(s), cos(s))
    print(floor(s), ceil(s), round(s))
    print(neg(tensor([0.0, 1.0])))
'''))
p.add(lambda g: f'''# maximum / minimum: tensors, a number on either side, broadcasting
a = {g.t(2, 3)}
b = {g.t(2, 3)}
print(maximum(a, b))
print(minimum(a, b))
print(maximum(a, 0))
print(minimum(1.5, a))
print(maximum(a, {g.t(3)}))
print(minimum(a, {g.t(2, 1)}))
''')
p.add(src('''
    n = tensor([0.0, 1.0, -2.0]) / tensor([0.0, 1.0, 1.0])
    print(maximum(n, 0), minimum(n, 0))
    print(maximum(tensor(2.0), tensor([1.0, 3.0])))
'''))
p.add(lambda g: f'''# where(c, a, b): c a tensor of 0. and 1.; a and b tensors or numbers; broadcasting
c = tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
a = {g.t(2, 3)}
b = {g.t(2, 3)}
print(where(c, a, b))
print(where(c, a, 0))
print(where(c, 1, -1))
print(where(a > b, a, b))
print(where(tensor([1.0, 0.0, 1.0]), a, b))
print(where(tensor([[1.0], [0.0]]), a, 7.5))
print(where(c, tensor(2.0), b))
print(where(tensor(1.0), a, b))
''')
p.add(lambda g: f'''# clamp(x, lo, hi), clamp(x, min=...), clamp(x, max=...)
x = {g.t(2, 4)}
print(clamp(x, -1, 1))
print(clamp(x, min=0))
print(clamp(x, max=0.5))
print(clamp(x, -0.5, 2.0))
print(clamp(x, min=-1, max=1))
print(clamp(tensor([0.0, -1.0, 2.0]) / 0, -1, 1))
''')

# ---------------------------------------------------------------------------- binary
p = program('tensor_binary', '+ - * / // % ** between tensors and with numbers (both orders); '
            'unary - and +; division by zero.')
p.add(lambda g: f'''a = {g.t(2, 3)}
b = {g.t(2, 3, nonzero=True)}
print(a + b)
print(a - b)
print(a * b)
print(a / b)
''')
p.add(lambda g: f'''a = {g.t(2, 4, lo=-6, hi=6, dec=1)}
b = {g.t(2, 4, lo=-3, hi=3, dec=1, nonzero=True)}
print(a // b)
print(a % b)
''')
p.add(lambda g: f'''a = {g.pos(2, 3, lo=0.1, hi=3)}
b = {g.t(2, 3, lo=-2, hi=2)}
print(a ** b)
print(a ** 2)
print(2 ** b)
print(b ** 3)
print(a ** 0.5)
print(a ** -1)
''')
p.add(lambda g: f'''a = {g.t(2, 3)}
print(-a)
print(+a)
print(-(-a))
print(a - a)
''')
p.add(lambda g: f'''# a number is taken as a float32 scalar, on either side
a = {g.t(2, 3, nonzero=True)}
print(a + 1)
print(1 + a)
print(a - 2.5)
print(2.5 - a)
print(a * 3)
print(3 * a)
print(a * 0.1)
print(a / 4)
print(4 / a)
''')
p.add(lambda g: f'''a = {g.t(2, 3, lo=-5, hi=5, dec=1, nonzero=True)}
print(a // 0.5)
print(7 // a)
print(a % 2)
print(5.5 % a)
print(a % -1.5)
''')
p.add(lambda g: f'''a = {g.t(2, 3)}
print(a + True)
print(False * a)
print(True - a)
print(a * 1.0 == a)
''')
p.add(src('''
    print(tensor([0.0, 1.0]) + 16777217)
    print(tensor([0.5, 1.0]) * 3)
    print(tensor(3.0) - 1)
    print(10 - tensor(3.0))
    print(tensor([7.0, -7.0, 7.5, -7.5]) // 2)
    print(tensor([7.0, -7.0, 7.5, -7.5]) % 2)
    print(tensor([7.0, -7.0, 7.5, -7.5]) % -2)
    print(-7 // tensor([2.0, -2.0]), -7 % tensor([2.0, -2.0]))
'''))
p.add(src('''
    # IEEE division by zero: inf and nan, not an error
    print(tensor([1.0, -1.0, 0.0]) / 0)
    print(tensor([1.0, -2.0]) / tensor([0.0, -0.0]))
    print(1 / tensor([0.0, -0.0]))
    print(tensor([0.0]) / tensor([0.0]))
    print(tensor([5.0, -5.0, 0.0]) // 0)
    print(tensor([5.0, 0.0]) % 0)
    print(tensor([0.0, 2.0]) ** -1)
    print(tensor([-8.0, 4.0]) ** 0.5, tensor([-8.0]) ** (1 / 3))
    print(tensor([-2.0]) ** 2, tensor([-2.0]) ** 3.0, 0 ** tensor([0.0, 1.0]))
    print(tensor([1e30, -1e30]) * 1e30)
'''))

# ---------------------------------------------------------------------------- broadcast
p = program('tensor_broadcast', 'NumPy broadcasting of every kind, for each operator.')
p.add(lambda g: f'''a = {g.t(2, 3)}
r = {g.t(3, nonzero=True)}
print(a + r)
print(r - a)
print(a * r)
print(a / r)
''')
p.add(lambda g: f'''a = {g.t(2, 3)}
r = {g.t(1, 3, nonzero=True)}
c = {g.t(2, 1, nonzero=True)}
print(a + r)
print(a * c)
print(c - a)
print(a / c)
print(r + c)
print((r + c).shape)
''')
p.add(lambda g: f'''# both sides expand
u = {g.t(3, 1)}
v = {g.t(1, 4)}
print(u + v)
print(u * v)
print(v - u)
w = {g.t(2, 1, 3)}
z = {g.t(4, 1)}
print((w * z).shape)
print(w * z)
''')
p.add(lambda g: f'''# rank-0 tensors and (1,) tensors with any tensor
a = {g.t(2, 3)}
print(tensor(2.5) * a)
print(a - tensor(1.0))
print(tensor(3.0) + tensor(4.0))
print(tensor([1.5]) + a)
print(a / tensor([[2.0]]))
print((tensor(2.0) + tensor([[[1.0]]])).shape)
''')
p.add(lambda g: f'''a = {g.t(2, 3, lo=-5, hi=5, dec=1)}
r = {g.t(3, lo=0.5, hi=3, dec=1)}
print(a // r)
print(a % r)
print(abs(a) ** tensor([[1.0], [2.0]]))
''')
p.add(src('''
    print((ones(2, 1, 4) + ones(3, 1)).shape)
    print((ones(5, 1, 1, 1) + ones(1, 2, 1)).shape)
    print((zeros(0, 3) + tensor([1.0, 2.0, 3.0])).shape)
    print(zeros(0, 3) + tensor([1.0, 2.0, 3.0]))
    print(tensor([1.0, 2.0, 3.0]) + ones(1, 1, 3))
    print(arange(3) * reshape(arange(3), 3, 1))
    print(reshape(arange(4), 2, 1, 2) - reshape(arange(6), 3, 2))
'''))

# ---------------------------------------------------------------------------- compare
p = program('tensor_compare', '< <= > >= == != elementwise giving 0./1. tensors; == None/str; in.')
p.add(lambda g: f'''a = {g.t(2, 3, lo=-2, hi=2, dec=1)}
b = {g.t(2, 3, lo=-2, hi=2, dec=1)}
print(a < b)
print(a <= b)
print(a > b)
print(a >= b)
print(a == b)
print(a != b)
''')
p.add(lambda g: f'''a = {g.t(2, 4, lo=-2, hi=2, dec=1)}
print(a > 0)
print(0 < a)
print(a == 0.5)
print(1 >= a)
print(a != a)
print(a <= -0.5)
print(-1 > a)
''')
p.add(lambda g: f'''a = {g.t(2, 3, lo=-2, hi=2, dec=1)}
print(a > tensor([0.0, 1.0, -1.0]))
print(tensor([[0.5], [-0.5]]) <= a)
print(tensor(0.0) < a)
print((a > 0) * a)
print(sum(a > 0))
print((a > 0) + (a < 1))
''')
p.add(src('''
    x = tensor([1.0, 2.0, 3.0])
    print(x == tensor([1.0, 0.0, 3.0]))
    print(x <= 2, x != 2, x >= 3)
    print(tensor(1.0) == 1, tensor(1.0) == True)
    n = tensor([0.0, 1.0]) / tensor([0.0, 1.0])
    print(n == n, n != n, n < 1, n >= 1)
    print(tensor([1.0, 2.0]) / 0 == tensor([1.0, 2.0]) / 0)
    # a tensor is never equal to None or a string
    print(x == None, x != None, x == "a", x != "a")
    print(2.0 in x, 5.0 in x, 3 in x)
    print(x is x, x is None)
'''))

# ---------------------------------------------------------------------------- reduce
p = program('tensor_reduce', 'sum mean max min (axis=None/int/tuple, keepdims; dim=/keepdim=), '
            'argmax; sum/max/min of Python values stay Python\'s.')
p.add(lambda g: f'''x = {g.t(2, 3, 4, dec=1)}
print(sum(x))
print(sum(x, axis=0))
print(sum(x, axis=1))
print(sum(x, axis=-1))
print(sum(x, axis=(0, 2)))
print(sum(x, axis=1, keepdims=True))
print(sum(x, keepdims=True))
print(sum(x, dim=2))
print(sum(x, dim=0, keepdim=True))
print(sum(x, axis=(-1, 0), keepdims=True))
''')
p.add(lambda g: f'''x = {g.t(2, 3, 4)}
print(mean(x))
print(mean(x, axis=0))
print(mean(x, axis=-1))
print(mean(x, axis=(1, 2)))
print(mean(x, axis=1, keepdims=True))
print(mean(x, dim=2, keepdim=True).shape)
''')
p.add(lambda g: f'''x = {g.t(2, 3, 4)}
print(max(x))
print(max(x, axis=0))
print(max(x, axis=-1))
print(max(x, axis=(0, 1)))
print(max(x, axis=1, keepdims=True))
print(max(x, dim=2))
print(min(x))
print(min(x, axis=1))
print(min(x, axis=(0, 2), keepdims=True))
print(min(x, dim=-2, keepdim=True).shape)
''')
p.add(lambda g: f'''x = {g.t(3, 4)}
print(argmax(x))
print(argmax(x, axis=0))
print(argmax(x, axis=1))
print(argmax(x, axis=-1))
print(argmax(x, dim=0))
''')
p.add(lambda g: f'''# max(a, b) and min(a, b) of two tensors are elementwise
a = {g.t(2, 3)}
b = {g.t(2, 3)}
print(max(a, b))
print(min(a, b))
print(max(a, {g.t(3)}))
''')
p.add(src('''
    # exact results as Python floats
    d = tensor([[0.25, -1.5, 2.0], [3.75, 0.5, -0.125]])
    print(item(sum(d)), item(mean(d)), item(max(d)), item(min(d)))
    print(tolist(sum(d, axis=0)), tolist(mean(d, axis=1)))
    print(item(argmax(d)), tolist(argmax(d, axis=1)))
    print(sum(tensor(3.5)), max(arange(5)), mean(arange(5)), min(tensor([[2.0]])))
    # ties: the first index
    print(argmax(tensor([1.0, 3.0, 3.0, 2.0])), argmax(tensor([[1.0, 1.0], [0.0, 2.0]]), axis=1))
    print(argmax(tensor(4.0)))
'''))
p.add(src('''
    # empty tensors, nan and inf
    print(sum(zeros(0)), sum(zeros(0, 3), axis=0), mean(zeros(0)))
    n = tensor([1.0, 0.0, 2.0]) / tensor([1.0, 0.0, 1.0])
    print(max(n), min(n), sum(n))
    f = tensor([1.0, -1.0, 2.0]) / tensor([0.0, 1.0, 1.0])
    print(sum(f), max(f), min(f), mean(f))
    print(sum(tensor([1.0, -1.0]) / 0))
'''))
p.add(src('''
    # over Python values they are Python's builtins
    print(sum([1, 2, 3]), sum([0.5, 0.25]), sum([]))
    print(max([3, 1, 4]), min([3, 1, 4]), max(3, 7), min(2.5, -1))
    print(sum([tensor([1.0, 2.0]), tensor([3.0, 4.0])]))
'''))

# ---------------------------------------------------------------------------- matmul
p = program('tensor_matmul', '@ and matmul with torch.matmul\'s rules: 1-D, 2-D, batched 3-D and '
            '4-D with broadcast batch dimensions.')
p.add(lambda g: f'''v = {g.t(3)}
w = {g.t(3)}
m = {g.t(2, 3)}
print(v @ w)
print(m @ v)
print(w @ {g.t(3, 4)})
print(m @ {g.t(3, 2)})
print(matmul(m, w))
print((v @ w).shape, (m @ v).shape)
''')
p.add(lambda g: f'''# batched: rank 3 with rank 3, 2 and 1
A = {g.t(2, 2, 3)}
B = {g.t(2, 3, 2)}
print(A @ B)
print((A @ B).shape)
print(A @ {g.t(3, 4)})
print({g.t(2, 2)} @ A)
print(A @ {g.t(3)})
print({g.t(2)} @ A)
''')
p.add(lambda g: f'''# rank 4 with broadcast batch dimensions
P = {g.t(2, 1, 2, 3, dec=1)}
Q = {g.t(3, 3, 2, dec=1)}
print((P @ Q).shape)
print(P @ Q)
print(matmul({g.t(1, 2, 2, dec=1)}, {g.t(3, 1, 2, 1, dec=1)}).shape)
''')
p.add(lambda g: f'''# small integers: exact in any order
a = {g.ints(2, 3)}
b = {g.ints(3, 2)}
print(a @ b)
print(tolist(a @ b), tolist(b @ a))
print(item({g.ints(4)} @ {g.ints(4)}))
print({g.ints(2, 2, 3)} @ {g.ints(3)})
''')
p.add(src('''
    print(tensor([[1, 2], [3, 4]]) @ tensor([[5, 6], [7, 8]]))
    print(item(tensor([1.0, 2.0, 3.0]) @ tensor([4.0, 5.0, 6.0])))
    m = reshape(arange(6), 2, 3)
    print(eye(2) @ m)
    print(m @ m.T)
    print(m.T @ m)
    print(zeros(2, 0) @ zeros(0, 3))
    print(ones(4) @ ones(4, 1))
    x = eye(2)
    x @= tensor([[1.0, 2.0], [3.0, 4.0]])
    print(x)
    print(matmul(arange(3), reshape(arange(6), 3, 2)))
'''))

# ---------------------------------------------------------------------------- nn
p = program('tensor_nn', 'linear, softmax, log_softmax, layer_norm.')
p.add(lambda g: f'''x = {g.t(2, 3)}
w = {g.t(4, 3)}
b = {g.t(4)}
print(linear(x, w))
print(linear(x, w, b))
print(linear({g.t(3)}, w, b))
print(linear({g.t(2, 2, 3)}, w, b))
print(linear(x, w, b).shape, linear(x, w, b=b).shape)
''')
p.add(lambda g: f'''s = {g.t(2, 4)}
print(softmax(s))
print(softmax(s, axis=0))
print(softmax(s, dim=1))
print(softmax(s, -1))
print(softmax(s, axis=-2))
print(softmax({g.t(5)}))
''')
p.add(lambda g: f'''s = {g.t(2, 4)}
print(log_softmax(s))
print(log_softmax(s, axis=0))
print(log_softmax(s, dim=-1))
print(log_softmax({g.t(2, 2, 3)}, 1))
''')
p.add(src('''
    # large and -inf inputs
    print(softmax(tensor([1000.0, 1001.0, 1002.0])))
    print(log_softmax(tensor([1000.0, 1001.0])))
    print(softmax(tensor([-1000.0, 0.0])))
    mask = tensor([0.0, 0.0, -1.0]) / tensor([1.0, 1.0, 0.0])
    print(mask, softmax(mask))
    print(softmax(tensor([[0.0, 0.0], [1.0, 1.0]])), softmax(zeros(4), 0))
'''))
p.add(lambda g: f'''x = {g.t(2, 4)}
w = {g.t(4)}
b = {g.t(4)}
print(layer_norm(x, w, b))
print(layer_norm(x, w, b, eps=1e-3))
print(layer_norm(x, w, b, 0.5))
print(layer_norm(x, ones(4), zeros(4)))
''')
p.add(lambda g: f'''w = {g.t(3)}
b = {g.t(3)}
print(layer_norm({g.t(3)}, w, b))
print(layer_norm({g.t(2, 2, 3)}, w, b))
print(layer_norm(tensor([[1.0, 1.0, 1.0]]), w, b))
''')

# ---------------------------------------------------------------------------- index
p = program('tensor_index', 'x[i], x[i, j], slices on one or several dimensions, x[i][j].',
            setup='''
    x = reshape(arange(12), 3, 4)
    v = arange(5) * 1.5
    r = reshape(arange(24), 2, 3, 4)
''')
p.add(src('''
    print(x[0])
    print(x[-1])
    print(x[1, 2])
    print(x[-1, -1])
    print(x[1][2])
    print(x[1, 2].shape, x[1].shape)
    print(item(x[2, 3]))
'''))
p.add(src('''
    print(x[1:3])
    print(x[::2])
    print(x[:, 1])
    print(x[1:, :-1])
    print(x[:, ::2])
    print(x[0:2, 1:3])
    print(x[:, -1])
    print(x[-2:])
    print(x[:])
    print(x[1, :])
    print(x[1:2, 3])
    print(x[::2, ::3])
'''))
p.add(src('''
    # slices past the end are cut, as in Python
    print(x[5:], x[5:].shape)
    print(x[1:100])
    print(x[2:1].shape)
    print(x[:, 10:].shape)
    print(x[-100:1])
'''))
p.add(src('''
    print(v[0], v[-1], v[3])
    print(v[1:4])
    print(v[::2])
    print(v[1::2])
    print(v[:-2])
    print(v[4:10])
    print(item(v[3]), v[-5])
'''))
p.add(src('''
    print(r[1])
    print(r[0, 2])
    print(r[0, 2, 3])
    print(r[:, 1])
    print(r[:, :, 0])
    print(r[-1, ::2, 1:3])
    print(r[1, -1].shape, r[:, 0].shape, r[0][1][2])
    print(r[1:, 1:, 1:].shape)
'''))

# ---------------------------------------------------------------------------- iter
p = program('tensor_iter', 'for over a tensor (its first dimension), enumerate, list, '
            'comprehensions.', setup='''
    x = reshape(arange(6), 2, 3)
''')
p.add(src('''
    for row in x:
        print(row)
    for v in arange(3):
        print(v, item(v))
    for i, row in enumerate(x):
        print(i, sum(row), row.shape)
'''))
p.add(src('''
    r = reshape(arange(8), 2, 2, 2)
    for m in r:
        print(m.shape)
        print(m)
    print(list(x))
    print([item(sum(row)) for row in x])
    print(stack([row * 2 for row in x]))
'''))
p.add(src('''
    acc = zeros(3)
    for row in x:
        acc = acc + row
    print(acc)
    total = 0.0
    for v in flatten(x):
        total += item(v)
    print(total)
    for i in range(len(x)):
        print(x[i][i])
    for v in zeros(0):
        print("never")
    for v in zeros(0, 3):
        print("never")
    print("done")
'''))

# ---------------------------------------------------------------------------- convert
p = program('tensor_convert', 'item, float, int, tolist, bool and truthiness of one-element '
            'tensors.')
p.add(src('''
    print(item(tensor(2.5)))
    print(item(tensor([[-3.0]])))
    print(float(tensor(0.1)))
    print(float(tensor([1e10])))
    print(int(tensor(3.9)), int(tensor(-3.9)), int(tensor([7.0])))
    print(item(tensor(1e-3)))
    print(item(tensor(16777217)))
    print(str(item(tensor(0.5))), repr(float(tensor(-0.25))))
    print(item(sum(tensor([0.5, 0.25]))) + 1)
'''))
p.add(src('''
    print(tolist(tensor([1.5, 2.0])))
    print(tolist(tensor([[0.1, 0.2], [0.3, 0.4]])))
    print(tolist(tensor(2.5)))
    print(tolist(zeros(0)), tolist(zeros(2, 0)))
    print(tolist(reshape(arange(8), 2, 2, 2)))
    print(tolist(tensor([1.0, -1.0, 0.0]) / 0))
    print(tolist(tensor([1e-8, 3e38, -7.0])))
'''))
p.add(src('''
    print(bool(tensor(0.0)), bool(tensor(2.0)), bool(tensor([[-1.0]])), bool(tensor(0.0) / 0))
    if tensor(1.0):
        print("tensor(1.) is true")
    if tensor([0.0]):
        print("never")
    else:
        print("tensor([0.]) is false")
    x = tensor([3.0])
    if x > 2:
        print("x > 2")
    while x > 0:
        x = x - 1.25
    print(x)
    print(not tensor(0.0), not tensor([5.0]))
    print(tensor(0.0) or "fallback")
    print(tensor(2.0) and "both")
    print("yes" if tensor([[1.0]]) else "no")
'''))

# ---------------------------------------------------------------------------- methods
p = program('tensor_methods', 'every tensor function as a method: x.f(args) is f(x, args).')
p.add(lambda g: f'''x = {g.t(2, 3)}
print(x.sum(axis=1))
print(x.sum())
print(x.mean(axis=0))
print(x.max())
print(x.min(axis=1))
print(x.max(dim=0, keepdim=True))
print(x.argmax(axis=1))
print(x.argmax())
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
print(x.reshape(3, 2))
print(x.reshape((6,)))
print(x.transpose(0, 1))
print(x.flatten())
print(x.unsqueeze(0).shape, x.unsqueeze(0).squeeze().shape, x.unsqueeze(-1).squeeze(-1).shape)
print(x.numel())
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
print(x.relu())
print(x.abs())
print(x.neg())
print(x.floor())
print(x.ceil())
print(x.round())
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
print(x.exp())
print(x.sigmoid())
print(x.tanh())
print(x.gelu())
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
print(x.sin())
print(x.cos())
print(x.abs().sqrt())
print((x.abs() + 1).log())
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
y = {g.t(2, 3)}
print(x.clamp(0, 1))
print(x.clamp(min=-0.5))
print(x.clamp(max=0.5))
print(x.maximum(0))
print(x.minimum(y))
c = x > 0
print(c.where(x, 0.0))
print((x > y).where(x, y))
''')
p.add(lambda g: f'''x = {g.t(2, 3)}
w = {g.t(4, 3)}
b = {g.t(4)}
print(x.matmul(w.T))
print(x.linear(w, b))
print(x.linear(w))
print(x.softmax(-1))
print(x.softmax(axis=0))
print(x.log_softmax(-1))
print(x.layer_norm({g.t(3)}, {g.t(3)}))
''')
p.add(src('''
    print(tensor(2.5).item())
    print(tensor([[0.25, -1.0]]).tolist())
    print(reshape(arange(6), 2, 3).sum(axis=0).tolist())
    print(arange(4).reshape(2, 2).T.tolist())
    print(arange(5).max().item(), arange(5).numel())
'''))

# ---------------------------------------------------------------------------- aug
p = program('tensor_aug_assign', 'augmented assignment rebinds: tensors are immutable.')
p.add(src('''
    x = tensor([1.0, 2.0])
    y = x
    x += 1
    print(x, y)
    x -= tensor([0.5, 0.5])
    print(x)
    x *= 2
    print(x)
    x /= 4
    print(x)
    x **= 2
    print(x)
    x //= 0.5
    print(x)
    x %= 3
    print(x)
    print(y)
'''))
p.add(src('''
    m = eye(2)
    k = m
    m @= tensor([[1.0, 2.0], [3.0, 4.0]])
    print(m)
    print(k)
    l = [tensor([1.0]), tensor([2.0])]
    l[0] += 10
    print(l)
    d = {"w": ones(2)}
    d["w"] *= 3
    print(d)
'''))
p.add(src('''
    acc = zeros(2)
    for i in range(3):
        acc += arange(2) * i
    print(acc)
    r = zeros(2, 3)
    r += tensor([1.0, 2.0, 3.0])
    print(r)
    n = 5
    n += tensor(1.0)
    print(n)
    def f(t):
        t += 1
        return t
    a = tensor([1.0])
    b = f(a)
    print(a, b)
'''))

# ---------------------------------------------------------------------------- types
p = program('tensor_types', "type(x) == 'tensor', isinstance(x, 'tensor'), types of results.")
p.add(src('''
    x = tensor([1.0, 2.0])
    print(type(x), type(x) == "tensor")
    print(isinstance(x, "tensor"), isinstance(3, "tensor"), isinstance(x, "list"))
    print(type(x.shape), type(x.ndim), type(numel(x)), type(len(x)))
    print(type(item(x[0])), type(tolist(x)), type(tolist(tensor(2.0))))
    print(type(x[0]), type(x.T), type(x > 0), type(sum(x)), type(argmax(x)))
    print(type(int(x[0])), type(float(x[0])), type(bool(x[0])))
    print(type(x.shape[0]), type(x.tolist()))
'''))

# ---------------------------------------------------------------------------- print
p = program('tensor_print_basic', 'printing: ranks 0-4, magnitudes 1e-8..1e12, signs, integers, '
            'nan and inf, empty tensors.')
p.add(src('''
    print(tensor(0.5))
    print(tensor(-1234.5))
    print(tensor(1e-8))
    print(tensor(1e12))
    print(tensor(123456789.0))
    print(tensor(100.0), tensor(-3.0), tensor(0.0))
    print(tensor(float("nan")), tensor(float("inf")), tensor(-float("inf")))
'''))
p.add(src('''
    print(tensor([1.0, 2.0, 3.0]))
    print(tensor([1.5, -2.25]))
    print(tensor([0.001, 1000.0]))
    print(tensor([0.001, 1001.0]))
    print(tensor([1e-8, 1.0]))
    print(tensor([1e12, 1.0]))
    print(tensor([-0.5, 0.25, 100.0]))
    print(tensor([0.0001, 0.001]))
    print(tensor([1e8, 1.0]))
    print(tensor([99999999.0, 1.5]))
    print(tensor([1e-5, 2e-5, -3e-5]))
    print(tensor([123.456, -0.001, 7.0]))
'''))
p.add(src('''
    print(tensor([1, 10, 100, 1000, 10000]))
    print(tensor([-5, 0, 5]))
    print(tensor([100000000, 3]))
    print(tensor([-0.0, 1.0]))
    print(tensor([0.0, 0.0]))
    print(tensor([1.0, float("nan"), float("inf"), -float("inf")]))
    print(tensor([1.5, float("nan")]))
    print(tensor([float("nan"), float("nan")]))
    print(tensor([float("inf"), 1e-9]))
'''))
p.add(src('''
    print(reshape(arange(6), 2, 3) * 0.5)
    print(reshape(arange(24), 2, 3, 4) - 11.5)
    print(reshape(arange(16), 2, 2, 2, 2) * 1e-5)
    print(reshape(arange(8), 2, 2, 2) * 1e9)
    print(tensor([[1e-8, 1.0], [-2.0, 1e3]]))
    print(tensor([[[[7.0]]]]))
'''))
p.add(src('''
    print(zeros(0), zeros(0, 3), zeros(2, 0), zeros(1, 0, 2))
    print(tensor([[]]))
    print([zeros(0)], str(zeros(3, 0)))
'''))
p.add(lambda g: f'''print({g.t(2, 3, lo=-100, hi=100, dec=3)})
print({g.t(3, lo=0, hi=1, dec=4)})
print({g.t(2, 2, 2, lo=-10, hi=10, dec=3)})
print({g.t(4, lo=-1e6, hi=1e6, dec=0)})
''')

p = program('tensor_print_wide', 'printing rows longer than 80 columns (line wrapping).')
p.add(src('''
    print(arange(30) * 1.5)
    print(arange(50))
    print(reshape(arange(60), 2, 30) * 0.25)
    print(reshape(arange(48), 2, 2, 12) * 1000.5)
    print(arange(20) * 1e6)
    print(arange(25) * 1e-3)
    print(tensor([1e10, -1e-10] * 8))
    print(arange(12) - 5.5)
    print(reshape(arange(26), 1, 26) * 100000)
'''))
p.add(lambda g: f'''print({g.t(17)})
print({g.t(2, 14, lo=-1000, hi=1000, dec=2)})
''')

p = program('tensor_print_summary', 'printing tensors of more than 1000 elements (summarised '
            'with ...), and of exactly 1000.')
p.add(src('''
    print(arange(1001))
    print(arange(2000) * 0.5)
    print(reshape(arange(1200), 30, 40))
    print(reshape(arange(2400), 2, 30, 40) / 7)
    print(reshape(arange(1024), 4, 4, 8, 8))
    print(zeros(2000, 1))
    print(sin(arange(1500)))
    print(reshape(arange(1000), 10, 100))
'''))
p.add(src('''
    print(arange(1000))
'''))

p = program('tensor_print_containers', 'tensors inside lists, tuples and dicts (repr), '
            'str/repr, f-strings, print with several arguments.', setup='''
    x = tensor([1.0, 2.5])
    m = tensor([[1.0, 2.0], [3.0, 4.0]])
''')
p.add(src('''
    print([x, m])
    print((x,))
    print({"w": x, "b": tensor(0.5)})
    print([tensor(1.0), 2, "a"])
    print(str(x))
    print(repr(m))
    print(str(m) == repr(m), len(str(m)))
    print(str(x) + "!")
    print("a", x, "b")
    print(x, m, sep=" | ")
    print([x.shape, m.shape])
'''))
p.add(src('''
    print(f"{x}")
    print(f"x = {x}!")
    print(f"{m}")
    print(f"{x!r}")
    # a rank-0 tensor formats its item, as torch's __format__ does
    print(f"{tensor(3.14159):.2f}")
    print(f"{tensor(2.5):8.3f}|")
    print(f"{tensor(-0.5):+.1e}")
    print(f"{tensor(7.0)}", f"{tensor(0.1)}")
    print(f"{item(tensor(0.1)):.3f}", f"{x.shape}")
'''))

# ---------------------------------------------------------------------------- annotations
p = program('tensor_annotations', 'Tensor[...] annotations that match (LANGUAGE.md section 4); '
            'the mismatches are tensor_err_annot_*.')
p.add(src('''
    def head(x: Tensor[B, 3]) -> Tensor[B]:
        return sum(x, axis=1)
    print(head(ones(2, 3)))
    print(head(reshape(arange(15), 5, 3)))
    print(head(ones(1, 3)).shape)
'''))
p.add(src('''
    def pair(x: Tensor[N, D], y: Tensor[N, D]) -> Tensor[N, D]:
        return x + y
    print(pair(ones(2, 2), eye(2)))
    print(pair(ones(1, 3), arange(3).reshape(1, 3)))
    def fixed(x: Tensor[2, 2]) -> Tensor[2, 2]:
        return x @ x
    print(fixed(tensor([[1.0, 1.0], [0.0, 1.0]])))
    def anyt(x: Tensor) -> Tensor:
        return x * 2
    print(anyt(tensor(1.5)), anyt(ones(1, 1, 2)))
'''))
p.add(src('''
    def scale(x: Tensor[B, 4], k: int, s: float) -> Tensor[B, 4]:
        return x * k + s
    print(scale(ones(2, 4), 3, 0.5))
    def lin(x: Tensor[B, IN], w: Tensor[OUT, IN], b: Tensor[OUT]) -> Tensor[B, OUT]:
        return linear(x, w, b)
    print(lin(ones(3, 2), reshape(arange(8), 4, 2), zeros(4)))
    def forward(x: Tensor[B, 512]) -> Tensor[B, 2]:
        return reshape(sum(reshape(x, len(x), 2, 256), axis=2), len(x), 2)
    print(forward(ones(1, 512)), forward(ones(3, 512)).shape)
    f = lambda t: head2(t)
    def head2(x: Tensor[B, 2]) -> Tensor[B]:
        return x[:, 0]
    print(f(tensor([[1.0, 2.0], [3.0, 4.0]])))
'''))

# ---------------------------------------------------------------------------- random
p = program('tensor_random', 'rand/randn/manual_seed: shapes, ranges and determinism only '
            '(their values come from the project\'s own generator, not torch\'s).')
p.add(src('''
    a = rand(2, 3)
    print(a.shape, randn(4).shape, rand(1, 2, 3).shape, randn(2, 2).shape)
    print(item(min(a)) >= 0.0, item(max(a)) < 1.0)
    b = rand(1000)
    print(item(min(b)) >= 0.0, item(max(b)) < 1.0)
    print(0.4 < item(mean(b)) < 0.6)
    # the generator starts seeded with 0
    manual_seed(0)
    c = rand(2, 3)
    print(tolist(c) == tolist(a))
    manual_seed(7)
    d1 = rand(5)
    manual_seed(7)
    d2 = rand(5)
    print(tolist(d1) == tolist(d2), tolist(rand(5)) == tolist(d2))
    manual_seed(1)
    n = randn(10000)
    print(abs(item(mean(n))) < 0.05, 0.9 < item(mean(n * n)) < 1.1)
    print(item(max(n)) > 2.0, item(min(n)) < -2.0)
    manual_seed(3)
    r1 = randn(3)
    manual_seed(3)
    print(tolist(randn(3)) == tolist(r1))
'''))


# ============================================================================ error programs

ERRORS = []


def error(name, source, at, message, line=None, stmt=None, occurrence=1, py_raises=True):
    """tensor_err_NAME.tl (SOURCE with a 'Generated' comment as its line 2: line numbers count
    it) fails in the top-level statement starting on line STMT (default: the last line); the error is reported on LINE (default: STMT) at the column of the
    `occurrence`-th `at` on it, with MESSAGE. Its .out is what the lines before STMT print.
    py_raises: torch raises there too (annotation mismatches are TL's own)."""
    text = src(source)
    assert text.startswith('# tl-only\n')
    text = text.replace('\n', '\n# Generated by tests/gen_tensor_tests.py; do not edit.\n', 1)
    ERRORS.append((name, text, at, message, line, stmt, occurrence, py_raises))


error('matmul_op', '''
    # tl-only
    a = ones(1, 512)
    b = ones(256, 128)
    print(a.shape, b.shape)
    print(a @ b)
''', 'a @', 'matmul: shapes (1, 512) and (256, 128) do not match')
error('matmul_fn', '''
    # tl-only
    a = ones(1, 512)
    b = ones(256, 128)
    print(matmul(ones(2, 3), ones(3)))
    c = matmul(a, b)
''', 'matmul', 'matmul: shapes (1, 512) and (256, 128) do not match')
error('broadcast_add', '''
    # tl-only
    x = ones(2, 3)
    y = arange(4)
    print(x + arange(3))
    print(x + y)
''', 'x + y', "'+': shapes (2, 3) and (4,) cannot be broadcast")
error('broadcast_maximum', '''
    # tl-only
    x = ones(2, 3)
    y = arange(4)
    print(maximum(x, 0.5))
    print(maximum(x, y))
''', 'maximum', 'maximum: shapes (2, 3) and (4,) cannot be broadcast')
error('truth_if', '''
    # tl-only
    x = tensor([1.0, 2.0, 3.0])
    if x[0]:
        print("one element is fine")
    if x:
        print("never")
''', 'x', 'truth value of a tensor with 3 elements is ambiguous', stmt=6)
error('truth_bool', '''
    # tl-only
    x = tensor([1.0, 2.0, 3.0])
    print(bool(x[1:2]))
    print(bool(x))
''', 'bool', 'truth value of a tensor with 3 elements is ambiguous')
error('annot_arg', '''
    # tl-only
    def f(x: Tensor[B, 512]) -> Tensor[B, 2]:
        return x[:, 0:2]
    print(f(ones(3, 512)).shape)
    print(f(ones(1, 256)))
''', 'f(', 'f: argument x: expected Tensor[B, 512], got Tensor[1, 256]', py_raises=False)
error('annot_named', '''
    # tl-only
    def f(x: Tensor[B, 2], y: Tensor[B, 2]) -> Tensor[B, 2]:
        return x + y
    print(f(ones(4, 2), ones(4, 2)).shape)
    print(f(ones(2, 2), ones(3, 2)))
''', 'f(', 'f: argument y: expected Tensor[B, 2], got Tensor[3, 2]', py_raises=False)
error('annot_return', '''
    # tl-only
    def f(x: Tensor[B, 3]) -> Tensor[B, 2]:
        return x
    print("calling f")
    print(f(ones(4, 3)))
''', 'return', 'f: return value: expected Tensor[B, 2], got Tensor[4, 3]', line=4,
      py_raises=False)
error('reshape', '''
    # tl-only
    x = reshape(arange(6), 2, 3)
    print(reshape(x, 3, -1).shape)
    print(reshape(x, 4, 2))
''', 'reshape', 'reshape: cannot reshape tensor of shape (2, 3) into shape (4, 2)')
error('index', '''
    # tl-only
    x = arange(3)
    print(x[2], x[-3])
    print(x[5])
''', 'x[5]', 'index out of range')
error('item', '''
    # tl-only
    x = ones(2, 2)
    print(item(x[0, 1]))
    print(item(x))
''', 'item', 'item: a tensor with 4 elements cannot be converted to a number')
error('float', '''
    # tl-only
    x = arange(3)
    print(float(x[1]))
    print(float(x))
''', 'float', 'float: a tensor with 3 elements cannot be converted to a number')
error('setitem', '''
    # tl-only
    x = zeros(3)
    print(x)
    x[0] = 1
''', 'x[0]', "'tensor' object does not support item assignment")
error('tensor_str', '''
    # tl-only
    print(tensor([1, 2]))
    print(tensor("abc"))
''', 'tensor', "tensor: expected a number or a list of numbers, got 'str'")
error('ragged', '''
    # tl-only
    print(tensor([[1, 2], [3, 4]]))
    print(tensor([[1, 2], [3, 4, 5]]))
''', 'tensor', 'tensor: ragged nested list (expected length 2 at dimension 1, got 3)')
error('cat', '''
    # tl-only
    a = ones(2, 3)
    print(cat([a, a], dim=1).shape)
    print(cat([a, ones(2, 4)]))
''', 'cat', 'cat: shapes (2, 3) and (2, 4) do not match at dimension 1')
error('relu_int', '''
    # tl-only
    print(relu(tensor([-1.0, 1.0])))
    print(relu(3))
''', 'relu', "relu: expected a tensor, got 'int'")
error('attr', '''
    # tl-only
    x = ones(2)
    print(x.ndim)
    print(x.foo())
''', 'x.foo', "'tensor' has no attribute 'foo'")
error('bad_operand', '''
    # tl-only
    x = ones(2)
    print(x + 1)
    print(x + "a")
''', 'x +', "unsupported operand type(s) for +: 'tensor' and 'str'")


# ============================================================================ writing

def wrap_literals(body, width=92):
    """Lays out a long `tensor([[...]])` literal over several lines, one row per line."""
    out = []
    for line in body.splitlines():
        start = line.find('tensor([[')
        if len(line) <= width or start < 0:
            out.append(line)
            continue
        open_at = start + len('tensor(')
        depth, end = 0, None
        for i in range(open_at, len(line)):
            depth += {'[': 1, ']': -1}.get(line[i], 0)
            if depth == 0:
                end = i + 1
                break
        value = ast.literal_eval(line[open_at:end])

        def fmt(v, col):
            if not isinstance(v[0], list):
                return lit(v)
            return '[' + (',\n' + ' ' * (col + 1)).join(fmt(e, col + 1) for e in v) + ']'
        out.append(line[:open_at] + fmt(value, open_at) + line[end:])
    return '\n'.join(out) + '\n'


def build_program(p):
    """The program's source and output, drawing its snippets until each is robust."""
    setup = p.setup + '\n' if p.setup else ''
    parts, outs = [], []
    for i, item in enumerate(p.items):
        if isinstance(item, str):
            why = robust(setup + item)
            if why:
                raise SystemExit(f'{p.name}: fixed snippet {i + 1} is not robust: {why}\n{item}')
            body = item
        else:
            for attempt in range(400):
                seed = zlib.crc32(f'{p.name}/{i}/{attempt}'.encode())
                body = wrap_literals(src(item(Draw(np.random.default_rng(seed)))))
                why = robust(setup + body)
                if why is None:
                    break
            else:
                raise SystemExit(f'{p.name}: snippet {i + 1} never robust: {why}\n{body}')
        out, _, _ = run(setup + body)
        parts.append(body)
        outs.append(out)
    header = ['# tl-only',
              '# Generated by tests/gen_tensor_tests.py (expected output from PyTorch); do not edit.']
    header += ['# ' + line for line in textwrap.wrap(p.doc, 90)]
    text = '\n'.join(header) + '\n'
    if setup:
        text += '\n' + setup
    text += ''.join('\n' + b for b in parts)
    out, exc, line = run(text, filename=p.name + '.tl')
    if exc is not None:
        raise SystemExit(f'{p.name}: the whole program raised {exc!r} at line {line}')
    if out != ''.join(outs):
        raise SystemExit(f'{p.name}: the whole program prints differently from its snippets')
    return text, out


def build_error(name, source, at, message, line, stmt, occurrence, py_raises):
    full = 'tensor_err_' + name
    lines = source.splitlines()
    stmt = stmt or len(lines)
    line = line or stmt
    before, exc, _ = run('\n'.join(lines[:stmt - 1]) + '\n', filename=full + '.tl')
    if exc is not None:
        raise SystemExit(f'{full}: the lines before the failing statement raised {exc!r}')
    out, exc, exc_line = run(source, filename=full + '.tl')
    if py_raises and (exc is None or exc_line not in (line, stmt) or out != before):
        raise SystemExit(f'{full}: expected torch to fail on line {stmt}, got {exc!r} at '
                         f'line {exc_line}')
    text = lines[line - 1]
    col = -1
    for _ in range(occurrence):
        col = text.index(at, col + 1)
    err = f'1\n{full}.tl:{line}:{col + 1}: runtime error: {message}\n'
    return source, before, err


def count_checks(text):
    return builtins.sum(1 for line in text.splitlines() if line.lstrip().startswith('print('))


def main(argv):
    check_only = '--check' in argv
    files = {}
    checks = 0
    for p in ALL:
        text, out = build_program(p)
        files[p.name + '.tl'] = text
        files[p.name + '.out'] = out
        checks += count_checks(text)
        print(f'{p.name}: {count_checks(text)} print statements, {len(out.splitlines())} lines')
    for e in ERRORS:
        source, before, err = build_error(*e)
        files['tensor_err_' + e[0] + '.tl'] = source
        files['tensor_err_' + e[0] + '.out'] = before
        files['tensor_err_' + e[0] + '.err'] = err
    stale = sorted(f for f in os.listdir(PROGRAMS)
                   if f.startswith('tensor_') and f not in files)
    changed = []
    for fname, content in sorted(files.items()):
        path = os.path.join(PROGRAMS, fname)
        old = None
        if os.path.exists(path):
            with open(path, encoding='utf-8') as f:
                old = f.read()
        if old != content:
            changed.append(fname)
            if not check_only:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(content)
    for fname in stale:
        print(f'stale (not generated; remove it?): {fname}')
    print(f'{len(ALL)} programs ({checks} print statements), {len(ERRORS)} error programs; '
          f'{len(changed)} files {"would change" if check_only else "written"}')
    return 1 if check_only and changed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
