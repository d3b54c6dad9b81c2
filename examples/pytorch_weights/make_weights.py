#!/usr/bin/python3
"""Build the seed's MLP (512 -> 256 -> 128 -> 2) in PyTorch, train it a little, and write the
files that TL's examples, tests and benchmarks load:

    mlp.safetensors   the state_dict, names as PyTorch gives them (0.weight, 0.bias, 2.weight, ...)
    x.npy             one input, float32 [1, 512]
    x_batch.npy       a batch of inputs, float32 [256, 512] (bench/mlp.* at batch > 1)
    expected.txt      what PyTorch prints for print(net(x)) under torch.no_grad()

usage: /usr/bin/python3 make_weights.py     (Debian's python3-torch and python3-numpy)

Deterministic: torch.manual_seed(0), one thread. Training runs float32 GEMMs, whose last bits
may differ on another CPU, so regenerating elsewhere may change the files slightly.
"""

import os

# One thread: Debian's torch does its GEMMs in OpenBLAS, which torch.set_num_threads does not limit.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import copy  # noqa: E402
import json  # noqa: E402
import struct  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def get_net():
    return nn.Sequential(nn.Linear(512, 256),
                         nn.ReLU(),
                         nn.Linear(256, 128),
                         nn.ReLU(),
                         nn.Linear(128, 2))


def train(net, steps=200, batch=64):
    """A toy task: is the first half of x larger, in sum, than the second half?"""
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        x = torch.randn(batch, 512)
        y = (x[:, :256].sum(1) > x[:, 256:].sum(1)).long()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    return loss.item()


def save_safetensors(path, tensors):
    """The safetensors format: u64 little-endian header size, a JSON header padded with spaces
    to a multiple of 8, then the raw little-endian data of each tensor, in the header's order."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype('<f4').tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def rounding_margin(net, x):
    """How far (float64 forward) each output is from a boundary of 4-decimal rounding: printing
    is only reproducible by another float32 implementation when this is not tiny."""
    with torch.no_grad():
        y = copy.deepcopy(net).double()(x.double()).numpy()
    scaled = np.abs(y) * 1e4
    return float(np.min(np.abs(scaled - np.floor(scaled) - 0.5)) * 1e-4)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = get_net()
    loss = train(net)
    net.eval()

    x = torch.randn(1, 512)
    x_batch = torch.randn(256, 512)
    margin = rounding_margin(net, x)
    assert margin > 1e-6, f"net(x) is within {margin:g} of a 4-decimal rounding boundary"

    save_safetensors(os.path.join(HERE, "mlp.safetensors"), net.state_dict())
    np.save(os.path.join(HERE, "x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "x_batch.npy"), x_batch.numpy().astype(np.float32))
    with torch.no_grad():
        text = str(net(x))
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write(text + "\n")
    print(f"final training loss {loss:.4f}; rounding margin of net(x) {margin:.2g}")
    print(text)


if __name__ == "__main__":
    main()
