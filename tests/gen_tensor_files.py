#!/usr/bin/python3
"""Write the tensor files that tests read (tests/programs/data/), from numpy and torch.

usage: /usr/bin/python3 tests/gen_tensor_files.py     (Debian's python3: numpy 1.24, torch 1.13)

The files are committed; run this again only to change them. Everything is deterministic
(fixed random seeds, zip timestamps pinned to 2020-01-01 00:00 UTC), so a second run writes the
same bytes. What is written:

  dt_CODE[_be].npy       one (2, 4) array per numpy dtype and byte order the reader converts
  dt_expected.npz        the same arrays as '<f4' (numpy's astype), keyed by file stem
  v2.npy, v3.npy         format versions 2.0 and 3.0 (arange(6), shape (3, 2), '<f4')
  fortran_f4.npy         Fortran order, arange(12).reshape(3, 4), '<f4'
  fortran_f8_be.npy      Fortran order, arange(24).reshape(2, 3, 4), '>f8'
  rank0.npy, empty.npy, rank8.npy     3.5; zeros((0, 3)); arange(16).reshape(1,2,1,2,1,2,1,2)
  np_save_*.npy          numpy.save of '<f4' arrays: what `save` must write byte for byte
  savez.npz              numpy.savez of mixed dtypes (stored members)
  savez_compressed.npz   numpy.savez_compressed of the same arrays (deflated members)
  zip64.npz              numpy.savez with ZIP64 extra fields and end records forced
  deflate_cases.bin      raw deflate streams from zlib with every block type and strategy
  sample.safetensors     every safetensors dtype, written by hand as the format's spec says
  sample_expected.npz    its tensors as '<f4', in the file's (data offset) order
  corrupt: bad_magic.npy truncated.npy bad_header.npy bad_dtype.npy rank9.npy huge_shape.npy
           bad_crc.npz bad_deflate.npz not_zip.npz truncated.safetensors bad_offsets.safetensors
and, in tests/programs/, load_files.out (the expected output of load_files.tl).
"""

import json
import os
import struct
import time
import zipfile
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
DATA = os.path.join(PROGRAMS, "data")

# Pinned zip timestamps: zipfile stamps members with time.localtime(time.time()).
os.environ["TZ"] = "UTC"
time.tzset()
time.time = lambda: 1577836800.0  # 2020-01-01 00:00:00 UTC


def path(name):
    return os.path.join(DATA, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def npy_bytes(arr):
    import io
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


# ---------------------------------------------------------------- .npy: every dtype

F4 = [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38]
F8 = [0.1, -0.0, 1e300, -1e-300, np.nan, 1 + 2**-24, 1 + 3 * 2**-24, 3.4028235677973366e38]
F2 = [0.0, -0.0, 2.0**-24, 65504.0, np.inf, -np.inf, np.nan, 0.333]
INTS = {
    "i1": [-128, 127, 0, -1, 5, 100, -100, 1],
    "u1": [0, 255, 1, 2, 128, 127, 64, 3],
    "i2": [-32768, 32767, 0, -1, 1000, -1000, 2, 3],
    "u2": [0, 65535, 1, 2, 40000, 3, 4, 5],
    "i4": [-2**31, 2**31 - 1, 16777217, -16777217, 0, -1, 7, 8],
    "u4": [0, 2**32 - 1, 16777217, 16777219, 1, 2, 3, 4],
    "i8": [-2**63, 2**63 - 1, 2**53 + 1, -(2**40) - 1, 0, -1, 16777217, 9],
    "u8": [0, 2**64 - 1, 2**63, 16777217, 1, 2, 3, 4],
}


def dtype_arrays():
    out = {}
    for code, values in [("f4", F4), ("f8", F8), ("f2", F2)] + list(INTS.items()):
        for order in ("<", ">"):
            a = np.array(values, dtype=order + code).reshape(2, 4)
            out["dt_" + code + ("_be" if order == ">" else "")] = a
            if code in ("i1", "u1"):
                break  # one byte: no byte order
    out["dt_b1"] = np.array([True, False, True, True, False, False, True, False]).reshape(2, 4)
    return out


def write_npy_files():
    arrays = dtype_arrays()
    for stem, a in arrays.items():
        write(stem + ".npy", npy_bytes(a))
    with np.errstate(over="ignore"):
        np.savez(path("dt_expected.npz"), **{k: v.astype("<f4") for k, v in arrays.items()})

    six = np.arange(6, dtype="<f4").reshape(3, 2)
    for version in ((2, 0), (3, 0)):
        with open(path("v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, six, version=version)
    write("fortran_f4.npy", npy_bytes(np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4))))
    write("fortran_f8_be.npy", npy_bytes(np.asfortranarray(np.arange(24, dtype=">f8").reshape(2, 3, 4))))
    write("rank0.npy", npy_bytes(np.array(3.5, dtype="<f4")))
    write("empty.npy", npy_bytes(np.zeros((0, 3), dtype="<f4")))
    write("rank8.npy", npy_bytes(np.arange(16, dtype="<f4").reshape(1, 2, 1, 2, 1, 2, 1, 2)))

    # What the writer must reproduce exactly.
    write("np_save_2x3.npy", npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3)))
    write("np_save_rank0.npy", npy_bytes(np.array(-1.25, dtype="<f4")))
    write("np_save_empty.npy", npy_bytes(np.zeros((0,), dtype="<f4")))
    write("np_save_big_dim.npy", npy_bytes(np.zeros((1234567, 0), dtype="<f4")))


# ---------------------------------------------------------------- .npz

def npz_arrays():
    rng = np.random.default_rng(1234)
    return {
        "a": np.arange(6, dtype="<f4").reshape(2, 3),
        "b": np.array(2.5, dtype="<f8"),
        "c": np.zeros((0, 2), dtype="<i4"),
        "d": np.arange(-2, 3, dtype=">i2"),
        "e": np.ones(3, dtype=bool),
        # For the deflate decoder: long runs (length-258 copies), a stored block (random
        # bytes do not compress), a dynamic-Huffman block, and matches far back.
        "zeros": np.zeros(400, dtype="<f4"),
        "random": rng.integers(0, 256, 1200, dtype=np.uint8),
        "wave": np.sin(np.arange(300, dtype="<f4") / 7).astype("<f4"),
        "period": np.tile(rng.standard_normal(97).astype("<f4"), 4),
    }


def write_npz_files():
    arrays = npz_arrays()
    np.savez(path("savez.npz"), **arrays)
    np.savez_compressed(path("savez_compressed.npz"), **arrays)

    # ZIP64 everywhere it can appear: zipfile uses it past these limits (module globals).
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        np.savez(path("zip64.npz"), a=arrays["a"], d=arrays["d"], c=arrays["c"])
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
    with zipfile.ZipFile(path("zip64.npz")) as z:  # the file really has the ZIP64 records
        assert z.testzip() is None
    with open(path("zip64.npz"), "rb") as f:
        assert struct.pack("<I", 0x06064b50) in f.read()


# ---------------------------------------------------------------- raw deflate streams

def deflate(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, flushes=()):
    """Raw deflate (no zlib header) of data; `flushes` are (offset, mode) pairs."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, strategy)
    out, pos = b"", 0
    for at, mode in flushes:
        out += c.compress(data[pos:at]) + c.flush(mode)
        pos = at
    return out + c.compress(data[pos:]) + c.flush()


def write_deflate_cases():
    rng = np.random.default_rng(99)
    text = b" ".join(b"the quick brown fox %d jumps over the lazy dog %d" % (i, i * i % 97)
                     for i in range(40))
    noise = rng.integers(0, 256, 700, dtype=np.uint8).tobytes()
    floats = (np.sin(np.arange(250) / 3.0) * 1000).astype("<f4").tobytes()
    cases = [
        b"", 0, zlib.Z_DEFAULT_STRATEGY, (),
        b"", 6, zlib.Z_DEFAULT_STRATEGY, (),
        b"a", 6, zlib.Z_FIXED, (),
        b"hello hello hello hello hello", 6, zlib.Z_FIXED, (),
        text, 9, zlib.Z_DEFAULT_STRATEGY, (),
        text, 6, zlib.Z_HUFFMAN_ONLY, (),
        text, 6, zlib.Z_FIXED, (),
        b"\x00" * 3000 + b"\x01" * 500, 6, zlib.Z_RLE, (),
        b"a" * 5000, 9, zlib.Z_DEFAULT_STRATEGY, (),
        noise, 6, zlib.Z_DEFAULT_STRATEGY, (),
        noise + text, 0, zlib.Z_DEFAULT_STRATEGY, ((300, zlib.Z_FULL_FLUSH), (900, zlib.Z_SYNC_FLUSH)),
        text + noise, 6, zlib.Z_DEFAULT_STRATEGY, ((1000, zlib.Z_SYNC_FLUSH), (2000, zlib.Z_FULL_FLUSH)),
        floats, 1, zlib.Z_DEFAULT_STRATEGY, (),
        floats + floats, 9, zlib.Z_FILTERED, (),
    ]
    out = [b"TVMDEFL1", struct.pack("<I", len(cases) // 4)]
    for i in range(0, len(cases), 4):
        data, level, strategy, flushes = cases[i:i + 4]
        packed = deflate(data, level, strategy, flushes)
        assert zlib.decompress(packed, -15) == data
        # The raw data is not stored: its length and CRC-32 identify it.
        out.append(struct.pack("<III", len(data), zlib.crc32(data), len(packed)) + packed)
    write("deflate_cases.bin", b"".join(out))


# ---------------------------------------------------------------- .safetensors

def safetensors_bytes(tensors, header_order, metadata=None):
    """tensors: (name, dtype, shape, raw bytes) in data order; header_order: the JSON key order
    (names and "__metadata__"). As the reference implementation writes: u64 header size, the
    header JSON padded with spaces to a multiple of 8 bytes, then the data."""
    info, offset = {}, 0
    for name, dtype, shape, raw in tensors:
        info[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header = {}
    for key in header_order:
        header[key] = metadata if key == "__metadata__" else info[key]
    text = json.dumps(header, separators=(",", ":")).encode()  # non-ASCII as \u escapes
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def sample_tensors():
    """(name, dtype, shape, raw bytes, expected float32) in data order."""
    def np_case(name, dtype, np_dtype, values, shape):
        a = np.array(values, dtype=np_dtype).reshape(shape)
        with np.errstate(over="ignore"):
            return (name, dtype, shape, a.tobytes(), a.astype("<f4"))

    bf = torch.tensor([1.0, -2.5, 3.14159, 1e30, -1e-30, float("inf")]).to(torch.bfloat16)
    bf_raw = bf.view(torch.int16).numpy().astype("<i2").tobytes()
    return [
        np_case("f32", "F32", "<f4", [0.5, -0.0, np.inf, np.nan, 1e-45, 3.4028235e38], (2, 3)),
        np_case("f64", "F64", "<f8", [0.1, 1e300, -1e-300, 1 + 2**-24, 1 + 3 * 2**-24, np.nan], (6,)),
        np_case("f16", "F16", "<f2", [2.0**-24, 65504, -np.inf, np.nan, -0.0, 0.333], (3, 2)),
        ("bf16", "BF16", (2, 3), bf_raw, bf.float().numpy().reshape(2, 3)),
        np_case("i8", "I8", "i1", [-128, 127, 0, -1], (4,)),
        np_case("u8", "U8", "u1", [0, 255, 7, 8], (2, 2)),
        np_case("i16", "I16", "<i2", [-32768, 32767, 1, -1], (4,)),
        np_case("u16", "U16", "<u2", [0, 65535, 3, 4], (4,)),
        np_case("w\u00e9ight", "I32", "<i4", [-2**31, 2**31 - 1, 16777217, -16777217], (2, 2)),
        np_case("u32", "U32", "<u4", [0, 2**32 - 1, 16777217, 5], (4,)),
        np_case("i64", "I64", "<i8", [-2**63, 2**63 - 1, 2**53 + 1, -3], (4,)),
        np_case("empty", "F32", "<f4", [], (0, 3)),
        np_case("u64", "U64", "<u8", [0, 2**64 - 1, 2**24 + 1, 7], (4,)),
        np_case('quote"d', "BOOL", "u1", [1, 0, 1, 1], (4,)),
        np_case("scalar", "F32", "<f4", [42.0], ()),
    ]


def write_safetensors_files():
    tensors = sample_tensors()
    names = [t[0] for t in tensors]
    # The header lists the tensors in another order than their data, metadata in the middle.
    order = names[7:] + ["__metadata__"] + names[:7][::-1]
    write("sample.safetensors", safetensors_bytes([t[:4] for t in tensors], order, {"format": "pt"}))
    np.savez(path("sample_expected.npz"), **{t[0]: t[4] for t in tensors})


# ---------------------------------------------------------------- corrupt files (golden programs)

def npy_with_header(header, data):
    header = header.encode()
    hlen = len(header) + 1
    hlen += -(10 + hlen) % 64
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", hlen) + header.ljust(hlen - 1) + b"\n" + data


def write_corrupt_files():
    good = npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3))
    write("bad_magic.npy", b"\x93NUMPX" + good[6:])
    write("truncated.npy", good[:-4])
    write("bad_header.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3 }", bytes(24)))
    write("bad_dtype.npy", npy_with_header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", bytes(8)))
    write("rank9.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", bytes(4)))
    write("huge_shape.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", bytes(4)))

    # A damaged data byte in a stored member: only the CRC can tell.
    np.savez(path("bad_crc.npz"), w=np.arange(4, dtype="<f4"))
    with open(path("bad_crc.npz"), "rb") as f:
        z = bytearray(f.read())
    z[z.index(b"\x00\x00\x80\x3f")] ^= 0x01  # the bytes of 1.0f
    write("bad_crc.npz", bytes(z))

    # A deflated member whose first block has the reserved block type 3.
    np.savez_compressed(path("bad_deflate.npz"), w=np.arange(4, dtype="<f4"))
    with open(path("bad_deflate.npz"), "rb") as f:
        z = bytearray(f.read())
    name_len, extra_len = struct.unpack("<HH", z[26:30])
    z[30 + name_len + extra_len] |= 0x06
    write("bad_deflate.npz", bytes(z))

    write("not_zip.npz", b"this is not a zip archive, just some text\n")

    st = safetensors_bytes([("w", "F32", (2, 2), np.arange(4, dtype="<f4").tobytes())], ["w"])
    write("truncated.safetensors", st[:-3])
    # data_offsets [0, 16] in a file with no data at all.
    lying = safetensors_bytes([("w", "F32", (2, 2), bytes(16))], ["w"])[:-16]
    write("bad_offsets.safetensors", lying)


# ---------------------------------------------------------------- golden program output

def write_program_outputs():
    """load_files.tl's expected stdout, computed the way the program computes it."""
    def tolist(a):
        return np.asarray(a, dtype="<f4").astype(np.float64).tolist()

    lines = []
    t = np.load(path("dt_i2.npy"))
    lines.append(str(tuple(t.shape)))
    lines.append(str(tolist(t)))
    d = np.load(path("savez.npz"))
    lines.append(str(list(d.keys())))
    lines.append(str(tolist(d["wave"])[:3]))
    tensors = sample_tensors()
    lines.append(str([n for n, *_ in tensors]))
    bf = [x for n, _, _, _, x in tensors if n == "bf16"][0]
    lines.append(str(tolist(bf)))
    lines.append(str(tuple(np.load(path("fortran_f8_be.npy")).shape)))
    lines.append(str(tolist(np.load(path("fortran_f8_be.npy")))[1][2]))
    with open(os.path.join(PROGRAMS, "load_files.out"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(DATA, exist_ok=True)
    write_npy_files()
    write_npz_files()
    write_deflate_cases()
    write_safetensors_files()
    write_corrupt_files()
    write_program_outputs()


if __name__ == "__main__":
    main()
