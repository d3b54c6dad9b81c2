#!/usr/bin/python3
"""Generate tests/unit/tensor_print_table.inc: how PyTorch prints float32 tensors.

Each case is a shape, the float32 values as bit patterns (row-major) and str(t) as Debian's
python3-torch 1.13.1 prints it with default print options, for vm/tensor_print.cpp
(tests/unit/test_tensor_print.cpp).

usage: /usr/bin/python3 tests/gen_tensor_print.py    (Debian's python3-torch, not a pyenv python)
"""

import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'unit', 'tensor_print_table.inc')

torch.set_printoptions(profile='default')
cases = []


def add(t, note=''):
    t = t.detach().to(torch.float32).contiguous()
    assert t.dim() <= 4
    bits = [b & 0xffffffff for b in t.view(torch.int32).reshape(-1).tolist()]
    cases.append((note, tuple(t.shape), bits, str(t)))


def vals(values, shape=None, note=''):
    t = torch.tensor(values, dtype=torch.float32)
    if shape is not None:
        t = t.reshape(shape)
    add(t, note)


def seeded(seed):
    torch.manual_seed(seed)


nan, inf = float('nan'), float('inf')

# Rank 0.
for x in [0.0, -0.0, 1.0, -1.0, 3.5, -2.25, 0.1, 1 / 3, 1e-5, 1e-4, 0.0001, 0.00011, 1e10,
          123456789.0, 1e8, 1e9, 99999.0, 100000000.0, 100000008.0, 0.5, 2.5, 0.03125,
          nan, inf, -inf, 1e-10, 1e12, -1e12, 3.4e38, 1e-45, 1.17549435e-38, 7.0, -7.0,
          0.00005, 12345.678, -0.0001234, 65504.0, 1.00005, 0.99995]:
    vals(x, note='scalar')
seeded(0)
for _ in range(10):
    add(torch.randn(()), 'scalar randn')

# Empty tensors.
for shape in [(0,), (0, 3), (2, 0), (1, 0), (0, 0), (1, 0, 2), (0, 0, 0, 0), (3, 0, 1, 2), (2, 3, 0)]:
    add(torch.empty(shape), 'empty')

# Hand-picked vectors.
hand = [
    [1.0, 2.0], [1.0, 2.0, 3.0], [0.0817, 0.0255], [1e-5, 1e10], [-1.0, 2.5], [0.0, 0.0, 0.0],
    [-0.0, 0.0], [-0.0, 1.0], [-0.0, 1.5], [-0.0, 1.0, 1e-5], [-0.0, 100.0, 1e9],
    [nan], [inf], [-inf], [nan, inf, -inf], [nan, 1.0], [nan, 1.5], [inf, 2.0, -3.0],
    [nan, 0.0], [inf, 1e-7], [-inf, 123456.0, 7.0], [nan, -0.0, 0.0],
    [1.0, 1000.0], [1.0, 1001.0], [1.0, 1000.5], [0.001, 1.0], [0.0001, 0.1], [0.00011, 0.1],
    [1e8, 1.0], [1e8, 100000.0], [100000008.0, 100000000.0], [123456789.0], [1e8 + 8, 2.0],
    [0.5, 1.5, 2.5, 3.5], [0.03125, 0.09375, -0.15625], [1.00005, 0.99995, 2.00015],
    [-1.0, -2.0, -3.0], [-1.5, 2.25, -3.125], [-100.0, 5.0, 0.0], [1e-10, 2e-10, -3e-10],
    [1e12, -1e12, 5e11], [3.4e38, -3.4e38], [1e-45, 1e-44], [1.17549435e-38, 1.0],
    [0.1, 0.2, 0.3], [10.0, 200.0, 3000.0], [10.5, 200.25, 3000.125],
    [99999.5, 0.5], [1234567.0, 7.0], [1234567.5, 7.0], [0.0, 0.0001], [0.0, 0.00009],
    [5e-5, 1.0], [-5e-5, 0.5], [1e-4, 0.1], [9.5, -9.5], [9.99995, 0.1], [99.99995, 0.1],
    [1e38, 1e-38], [1e30], [-1e-30], [1e20, 2e20], [4.0, -8.0, 16.0, -1024.0],
    [1e3, 1e4, 1e5, 1e6, 1e7], [1.25e7, 3.0], [65536.0, 0.25],
]
for h in hand:
    vals(h, note='hand')

# Integers.
seeded(1)
for lo, hi, n in [(0, 10, 5), (-10, 10, 8), (-1000, 1000, 12), (0, 100000, 20), (-5, 5, 40),
                  (0, 2, 30), (-99999, 99999, 50), (0, 1000, 100), (0, 1001, 7), (-3, 3, 200),
                  (0, 10**7, 15), (0, 10**9, 15), (-10**9, 10**9, 10), (1, 4, 25), (-50, 50, 64)]:
    add(torch.randint(lo, hi, (n,)).float(), 'ints')
for shape, hi in [((3, 4), 10), ((5, 5), 100), ((2, 3, 4), 50), ((2, 2, 2, 2), 1000),
                  ((4, 30), 10), ((10, 10), 100000), ((3, 3), 10**8), ((1, 1, 1, 1), 7)]:
    add(torch.randint(-hi, hi, shape).float(), 'ints nd')
add(torch.arange(40, dtype=torch.float32), 'arange')
add(torch.arange(1000, dtype=torch.float32), 'arange 1000')
add(torch.arange(1001, dtype=torch.float32), 'arange 1001')
add(torch.arange(2000, dtype=torch.float32).reshape(40, 50), 'arange 40x50')
add(torch.arange(-1200, 1200, 2, dtype=torch.float32), 'arange negative')
add(torch.zeros(5), 'zeros')
add(torch.zeros(3, 4), 'zeros')
add(torch.zeros(2, 2, 2), 'zeros')
add(-torch.zeros(4), 'negative zeros')
add(torch.ones(2, 3, 4, 5), 'ones')
add(torch.full((3, 3), nan), 'all nan')
add(torch.full((2, 40), inf), 'all inf')

# Random normal tensors of every rank at magnitudes 1e-10 .. 1e12.
seeded(2)
shapes = [(1,), (2,), (5,), (7,), (13,), (1, 2), (3, 3), (2, 7), (4, 1), (1, 20), (2, 3, 4),
          (1, 1, 5), (3, 1, 2), (2, 2, 3, 2), (1, 2, 1, 3), (2, 1, 1, 9)]
for k in range(-10, 13):
    for shape in shapes[(k + 10) % 5::5]:
        add(torch.randn(shape) * (10.0 ** k), f'randn 1e{k}')
seeded(3)
for shape in shapes:
    add(torch.randn(shape), 'randn')
    add(torch.rand(shape), 'rand')
    add(torch.randn(shape) * 100, 'randn*100')
    add(torch.randn(shape) * 1000, 'randn*1000')

# Wide rows that wrap at 80 columns, at every nesting depth.
seeded(4)
for shape in [(30,), (100,), (1, 30), (2, 25), (3, 2, 17), (2, 2, 2, 15), (11,), (12,), (13,),
              (9,), (10,), (8,), (57,), (150,)]:
    add(torch.randn(shape), 'wide')
    add(torch.randn(shape) * 1e6, 'wide sci')
    add(torch.randint(-9, 9, shape).float(), 'wide ints')
    add(torch.randint(0, 10**6, shape).float(), 'wide big ints')
for n in [16, 17, 18, 19, 20]:  # element widths straddling the line width
    add(torch.full((n,), 1.5) * torch.tensor([1.0, -1.0]).repeat(n)[:n], 'pattern')
    add(torch.full((1, 1, n), 12.25), 'pattern')

# Mixed signs, nan/inf and -0.0 inside random data.
seeded(5)
for i in range(30):
    shape = [(6,), (4, 5), (2, 3, 4), (2, 2, 2, 2), (25,)][i % 5]
    t = torch.randn(shape) * (10.0 ** ((i % 7) - 3))
    flat = t.view(-1)
    flat[i % flat.numel()] = [nan, inf, -inf, -0.0, 0.0][i % 5]
    if i % 3 == 0:
        flat[(i * 7 + 1) % flat.numel()] = [inf, nan, -0.0][i % 3 // 1 % 3]
    add(t, 'special')

# Random bit patterns (every finite float32, denormals included).
seeded(6)
for i in range(12):
    b = torch.randint(-2**31, 2**31 - 1, (8,), dtype=torch.int64).to(torch.int32)
    t = b.view(torch.float32).clone()
    t[~torch.isfinite(t)] = 1.0
    add(t, 'random bits')
for e in range(-10, 13):  # one magnitude, several values
    add(torch.tensor([10.0 ** e, -(10.0 ** e) * 1.5, 10.0 ** e * 3.25]), f'magnitude 1e{e}')

# Summarisation: more than 1000 elements.
seeded(7)
for shape in [(1001,), (1500,), (2000,), (40, 40), (10, 101), (11, 100), (6, 200), (7, 150),
              (10, 10, 11), (2, 3, 13, 13), (2000, 1), (1, 2000), (3, 400), (8, 8, 8, 2),
              (5, 5, 5, 9), (1, 1, 1, 1001), (1001, 1, 1), (12, 12, 12)]:
    add(torch.randn(shape), 'summarised')
for shape in [(1000,), (10, 100), (8, 125), (10, 10, 10)]:
    add(torch.randn(shape), 'not summarised (1000)')
add(torch.randint(-5, 5, (1200,)).float(), 'summarised ints')
add(torch.randn(1100) * 1e9, 'summarised sci')
t = torch.randn(1500)
t[500] = 1e-9  # hidden by summarisation: does not force sci mode
t[700] = nan
add(t, 'summarised, hidden extremes')
t = torch.randn(30, 40)
t[10, 10] = 1e20
t[0, 0] = -0.0
add(t, 'summarised, hidden and shown')

# More random normal tensors.
seeded(8)
for i in range(40):
    rank = i % 4 + 1
    shape = tuple(int(d) for d in torch.randint(1, 6, (rank,)))
    add(torch.randn(shape) * float(10.0 ** float(torch.randint(-6, 7, ()).item())), 'randn misc')


def c_string(s):
    out = []
    for ch in s:
        if ch == '\n':
            out.append('\\n')
        elif ch in '"\\':
            out.append('\\' + ch)
        else:
            assert 0x20 <= ord(ch) < 0x7f, repr(ch)
            out.append(ch)
    return '"' + ''.join(out) + '"'


lines = ['// Generated by tests/gen_tensor_print.py with torch %s; do not edit.' % torch.__version__]
for i, (note, shape, bits, expected) in enumerate(cases):
    if bits:
        body = []
        for j in range(0, len(bits), 8):
            body.append('    ' + ', '.join('0x%08x' % b for b in bits[j:j + 8]) + ',')
        lines.append('static const uint32_t kTensorPrintData%d[] = {' % i)
        lines.extend(body)
        lines.append('};')
lines.append('static const TensorPrintCase kTensorPrintCases[] = {')
for i, (note, shape, bits, expected) in enumerate(cases):
    data = 'kTensorPrintData%d' % i if bits else 'nullptr'
    lines.append('    {%s, %d, {%s}, %s, %d,' % (c_string(note), len(shape),
                 ', '.join(str(d) for d in shape), data, len(bits)))
    lines.append('     %s},' % c_string(expected))
lines.append('};')
with open(OUT, 'w') as f:
    f.write('\n'.join(lines) + '\n')
print('%d cases -> %s' % (len(cases), OUT))
