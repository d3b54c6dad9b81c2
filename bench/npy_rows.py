#!/usr/bin/env python3
"""The .npy files around bench/mlp.sh's "tvm-pack (tvm-run --bench)" peer, without numpy
(any python3 runs it; rank-2 little-endian float32 in C order only):

    npy_rows.py input WEIGHTS_DIR BATCH OUT.npy
        writes the input every mlp.sh peer uses at BATCH (x.npy at batch 1, else the first
        BATCH rows of x_batch.npy) to OUT.npy, for tvm-run --input x=OUT.npy
    npy_rows.py rows Y.npy
        prints "out V V ... V": the first and the last row of Y.npy (%.6f), as the peers do"""
import ast
import struct
import sys


def load(path):
    """(rows, cols, data bytes) of a rank-2 '<f4' C-order .npy file."""
    with open(path, 'rb') as f:
        blob = f.read()
    if blob[:6] != b'\x93NUMPY':
        sys.exit(f'npy_rows.py: {path} is not a .npy file')
    if blob[6] == 1:
        (hlen,), start = struct.unpack('<H', blob[8:10]), 10
    else:
        (hlen,), start = struct.unpack('<I', blob[8:12]), 12
    header = ast.literal_eval(blob[start:start + hlen].decode('latin1'))
    shape = header['shape']
    if header['descr'] != '<f4' or header['fortran_order'] or len(shape) != 2:
        sys.exit(f'npy_rows.py: {path}: expected a rank-2 little-endian float32 array in C order')
    data = blob[start + hlen:]
    if len(data) < shape[0] * shape[1] * 4:
        sys.exit(f'npy_rows.py: {path} is truncated')
    return shape[0], shape[1], data


def save(path, rows, cols, data):
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"
    header += ' ' * (-(10 + len(header) + 1) % 64) + '\n'  # the data starts 64-byte aligned
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1'))
        f.write(data[:rows * cols * 4])


def main():
    if len(sys.argv) == 5 and sys.argv[1] == 'input':
        wdir, batch, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        src = f'{wdir}/x.npy' if batch == 1 else f'{wdir}/x_batch.npy'
        rows, cols, data = load(src)
        if rows < batch:
            sys.exit(f'npy_rows.py: {src} has {rows} rows, fewer than {batch}')
        save(out, batch, cols, data)
    elif len(sys.argv) == 3 and sys.argv[1] == 'rows':
        rows, cols, data = load(sys.argv[2])
        first = struct.unpack_from(f'<{cols}f', data, 0)
        last = struct.unpack_from(f'<{cols}f', data, (rows - 1) * cols * 4)
        print('out ' + ' '.join(f'{v:.6f}' for v in first + last))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
