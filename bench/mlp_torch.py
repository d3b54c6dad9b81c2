#!/usr/bin/python3
"""The seed's MLP (512 -> 256 -> 128 -> 2) in PyTorch, one thread, as bench/mlp.sh's peers.

    mlp_torch.py eager|script WEIGHTS_DIR BATCH CALLS REPEATS

eager: the nn.Sequential called under torch.no_grad(); script: the same net as frozen
TorchScript, torch.jit.freeze(torch.jit.script(net.eval())). Loads WEIGHTS_DIR/mlp.safetensors
(with bench/mlp_peer.py, as bench/mlp_gpu.py does) and the input (x.npy at batch 1, else
the first BATCH rows of x_batch.npy), then prints

    out V V ... V     the outputs of the first and the last row (%.6f)
    us T              microseconds per call: the median of REPEATS timed loops of CALLS calls
                      each, after a warm-up

Run it with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""

import os

# Debian's torch does its GEMMs in OpenBLAS, whose threads torch.set_num_threads does not limit.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp_peer  # noqa: E402  # bench/mlp_peer.py, shared with bench/mlp_gpu.py


def get_net():
    return nn.Sequential(nn.Linear(512, 256),
                         nn.ReLU(),
                         nn.Linear(256, 128),
                         nn.ReLU(),
                         nn.Linear(128, 2))


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("eager", "script"):
        sys.exit(__doc__)
    mode, wdir = sys.argv[1], sys.argv[2]
    batch, calls, repeats = (int(a) for a in sys.argv[3:])
    torch.set_num_threads(1)

    net = get_net()
    net.load_state_dict(mlp_peer.load_safetensors(f"{wdir}/mlp.safetensors", torch))
    net.eval()
    if batch == 1:
        x = torch.from_numpy(np.load(f"{wdir}/x.npy"))
    else:
        x = torch.from_numpy(np.load(f"{wdir}/x_batch.npy")[:batch].copy())
    assert x.shape == (batch, 512), f"input has shape {tuple(x.shape)}"

    with torch.no_grad():
        if mode == "script":
            net = torch.jit.freeze(torch.jit.script(net))
        for _ in range(max(10, calls // 10)):  # TorchScript's profiling executor optimises here
            y = net(x)
        us = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                net(x)
            us.append((time.perf_counter() - start) * 1e6 / calls)

    mlp_peer.report(y, us)


if __name__ == "__main__":
    main()
