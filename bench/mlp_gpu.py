#!/usr/bin/env python3
"""The seed's MLP (512 -> 256 -> 128 -> 2) in PyTorch on a CUDA GPU, as bench/mlp_gpu.sh's peers.

    mlp_gpu.py eager|compile WEIGHTS_DIR BATCH CALLS REPEATS
    mlp_gpu.py input WEIGHTS_DIR BATCH OUT.npy
    mlp_gpu.py check

eager: the nn.Sequential moved to the GPU (net.cuda()) and called under torch.inference_mode();
compile: the same net as torch.compile(net, mode="reduce-overhead"), whose CUDA graphs are
recorded during the warm-up. To compare with `tvm-run mlp.pkg --device cuda --bench`, whose
every call copies its input to the GPU and its result back, one timed call here is the same
round trip from host memory to host memory:

    net(x.to("cuda")).cpu()      x: the input, a float32 CPU tensor (pageable memory);
                                 .to() with non_blocking=False, and .cpu() waits for the GPU

Loads WEIGHTS_DIR/mlp.safetensors (its F32 tensors, with bench/mlp_peer.py as
bench/mlp_torch.py does, without numpy) and the input: x.npy at batch 1, else the first BATCH
rows of x_batch.npy, and past its rows (it has 256) seeded rows: random.Random(0).gauss(0, 1) in
row-major order, the same on every machine. Full float32 GEMMs: TF32 is off, as in tvm-run
unless TVM_CUDA_TF32 is set. Then prints

    out V V ... V     the outputs of the first and the last row (%.6f)
    us T              microseconds per call: the median of REPEATS timed loops of CALLS calls
                      each, after a warm-up of max(10, CALLS // 10) calls

input writes that same input to OUT.npy (float32 [BATCH, 512]) for tvm-run --input x=OUT.npy;
it needs no torch. check prints "torch V, CUDA V, GPU NAME". Without a CUDA device that torch
can use (or without torch), eager, compile and check print why and exit with status 3.

Run it with a python3 whose torch has CUDA (not Debian's python3-torch, which is CPU-only).
"""

import array
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp_peer  # noqa: E402  # bench/mlp_peer.py: the weights without numpy, the out/us lines
import npy_rows  # noqa: E402  # bench/npy_rows.py: .npy files without numpy

FEATURES = 512
SEED = 0
EXIT_NO_CUDA = 3


def input_bytes(wdir, batch):
    """The input at BATCH as little-endian float32 bytes, row-major [BATCH, 512]."""
    if batch == 1:
        rows, cols, data = npy_rows.load(f"{wdir}/x.npy")
    else:
        rows, cols, data = npy_rows.load(f"{wdir}/x_batch.npy")
    if cols != FEATURES:
        sys.exit(f"mlp_gpu.py: the input has {cols} columns, expected {FEATURES}")
    take = min(rows, batch)
    data = data[:take * cols * 4]
    if take < batch:  # past the file's rows: seeded N(0, 1) rows
        rng = random.Random(SEED)
        extra = array.array("f", (rng.gauss(0.0, 1.0) for _ in range((batch - take) * cols)))
        if sys.byteorder == "big":
            extra.byteswap()
        data += extra.tobytes()
    return data


def import_cuda_torch():
    """torch, when it can run on a CUDA device; else print why and exit with status 3."""
    try:
        import torch
    except ImportError as e:
        print(f"mlp_gpu.py: {sys.executable} cannot import torch: {e}", file=sys.stderr)
        sys.exit(EXIT_NO_CUDA)
    if not torch.cuda.is_available():
        why = ("a CPU-only build" if torch.version.cuda is None
               else f"built for CUDA {torch.version.cuda}, but no CUDA device or driver is usable")
        print(f"mlp_gpu.py: torch {torch.__version__} ({sys.executable}) has no CUDA: {why}",
              file=sys.stderr)
        sys.exit(EXIT_NO_CUDA)
    return torch


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "input":
        wdir, batch, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        npy_rows.save(out, batch, FEATURES, input_bytes(wdir, batch))
        return
    if len(sys.argv) == 2 and sys.argv[1] == "check":
        torch = import_cuda_torch()
        print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
              f"GPU {torch.cuda.get_device_name(0)}")
        return
    if len(sys.argv) != 6 or sys.argv[1] not in ("eager", "compile"):
        sys.exit(__doc__)
    mode, wdir = sys.argv[1], sys.argv[2]
    batch, calls, repeats = (int(a) for a in sys.argv[3:])

    torch = import_cuda_torch()
    from torch import nn

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")

    net = nn.Sequential(nn.Linear(512, 256),
                        nn.ReLU(),
                        nn.Linear(256, 128),
                        nn.ReLU(),
                        nn.Linear(128, 2))
    net.load_state_dict(mlp_peer.load_safetensors(f"{wdir}/mlp.safetensors", torch))
    net.eval().cuda()
    x = torch.frombuffer(bytearray(input_bytes(wdir, batch)), dtype=torch.float32)
    x = x.reshape(batch, FEATURES)  # on the host: each call copies it to the GPU
    if mode == "compile":
        net = torch.compile(net, mode="reduce-overhead")

    with torch.inference_mode():
        # The warm-up: cuBLAS's handles and workspaces; for compile, the compilation, then
        # CUDA graph trees' warm-up run and recording (later calls replay the graph).
        for _ in range(max(10, calls // 10)):
            y = net(x.to("cuda", non_blocking=False)).cpu()
        us = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                net(x.to("cuda", non_blocking=False)).cpu()
            us.append((time.perf_counter() - start) * 1e6 / calls)

    mlp_peer.report(y, us)


if __name__ == "__main__":
    main()
