"""What the PyTorch peers of the seed's MLP share, bench/mlp_torch.py (Debian's torch 1.13, as
bench/mlp.sh's peers) and bench/mlp_gpu.py (a current torch, which may come without numpy, as
bench/mlp_gpu.sh's): the weights, read with the standard library and torch.frombuffer (torch
1.10 and later), and the lines a peer prints for bench/peers.sh. The timed loops stay in each
script, so that no extra Python call is timed."""
import array
import json
import struct
import sys


def load_safetensors(path, torch):
    """name -> float32 tensor, for the F32 tensors of the safetensors file at path."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: only F32 is supported"
        a, b = entry["data_offsets"]
        data = array.array("f", blob[8 + n + a:8 + n + b])  # safetensors are little-endian
        if sys.byteorder == "big":
            data.byteswap()
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(entry["shape"]).clone()
    return out


def report(y, us):
    """Prints "out V V ... V", the outputs of the first and the last row of y (%.6f), and
    "us T", the median of the timed loops' microseconds per call us."""
    rows = y[0].tolist() + y[-1].tolist()
    print("out " + " ".join(f"{v:.6f}" for v in rows))
    print(f"us {sorted(us)[len(us) // 2]:.3f}")
