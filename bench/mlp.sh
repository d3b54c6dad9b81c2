#!/usr/bin/env bash
# The seed's MLP (512 -> 256 -> 128 -> 2, examples/pytorch_weights) against its peers, all with
# the same weights and inputs, all on one thread (bench/run.sh calls this last):
#
#     bench/mlp.sh [BUILD_BIN_DIR]
#
#   c++ openblas    bench/mlp_forward.cpp, a hand-written forward over OpenBLAS CBLAS (g++ -O2)
#   torch eager     bench/mlp_torch.py eager: the nn.Sequential under torch.no_grad()
#   torchscript     bench/mlp_torch.py script: torch.jit.freeze(torch.jit.script(net.eval()))
#   tvm-run         bench/mlp.tl on tvm-run's stack VM, with stdlib/nn.tl
#
# Each peer times its own loop in-process after a warm-up and reports the median of REPEATS
# timed loops, in microseconds per call; every peer must print the same outputs to 1e-4. The
# torch peers need Debian's /usr/bin/python3 with python3-torch and python3-numpy; without them
# they are skipped. Each ratio is the peer's time over the C++ forward's (xN) and over frozen
# TorchScript's (ts xN).
set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN_DIR=${1:-$BENCH_DIR/../build/bin}
TVM_RUN=$BIN_DIR/tvm-run
WEIGHTS=$(cd "$BENCH_DIR/../examples/pytorch_weights" && pwd)
TORCH_PY=/usr/bin/python3
REPEATS=5
BATCHES=(1 256)
declare -A CALLS=([1]=10000 [256]=1000)

# One thread everywhere: OpenBLAS (tvm-run's, the C++ forward's and Debian torch's GEMMs)
# otherwise starts a thread per core.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-bench-mlp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Each peer: a name for the table and the command it runs, which takes
# WEIGHTS_DIR BATCH CALLS REPEATS and prints "out V V ..." and "us T".
PEERS=()
declare -A PEER_CMD VERSION
add_peer() { PEERS+=("$1"); PEER_CMD[$1]=$2; VERSION[$1]=$3; }

cxx=${CXX:-g++}
multiarch=$("$cxx" -print-multiarch 2>/dev/null)
if "$cxx" -O2 -std=c++17 -I"/usr/include/$multiarch/openblas-pthread" -o "$tmp/mlp_forward" \
        "$BENCH_DIR/mlp_forward.cpp" -lopenblas 2>"$tmp/cxx.log"; then
    add_peer 'c++ openblas' "$tmp/mlp_forward" \
        "$("$cxx" --version | head -n 1), $("$tmp/mlp_forward" --version)"
else
    echo "bench: mlp: could not build bench/mlp_forward.cpp (needs g++ and libopenblas-dev); skipping it:" >&2
    head -n 5 "$tmp/cxx.log" >&2
fi
if [[ -x $TORCH_PY ]] && torch_version=$("$TORCH_PY" -c \
        'import numpy, torch; print(torch.__version__)' 2>/dev/null); then
    add_peer 'torch eager' "$TORCH_PY $BENCH_DIR/mlp_torch.py eager" "torch $torch_version ($TORCH_PY)"
    add_peer 'torchscript' "$TORCH_PY $BENCH_DIR/mlp_torch.py script" "torch $torch_version, frozen"
else
    echo "bench: mlp: $TORCH_PY has no torch and numpy (apt-get install python3-torch python3-numpy); skipping the torch peers" >&2
fi
if [[ -x $TVM_RUN ]]; then
    add_peer tvm-run "$TVM_RUN $BENCH_DIR/mlp.tl" "$("$TVM_RUN" --version 2>&1)"
else
    echo "bench: mlp: $TVM_RUN not found or not executable (build it with 'make'); skipping it" >&2
fi

echo "mlp 512-256-128-2 (examples/pytorch_weights), one thread: microseconds per call, median of"
echo "$REPEATS timed loops after a warm-up; xN = time / c++ openblas's, ts xN = time / torchscript's"
for peer in "${PEERS[@]}"; do printf '  %-14s %s\n' "$peer:" "${VERSION[$peer]}"; done
echo

print_row() {
    local row
    row=$(printf '%-14s' "$1")
    shift
    for cell in "$@"; do row+=$(printf '  %-28s' "$cell"); done
    echo "${row%"${row##*[! ]}"}"
}

# Do two "out" lines agree: every value within 1e-4 (relative past 1)?
agree() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, " "); m = split(b, y, " ")
        if (n != m) exit 1
        for (i = 2; i <= n; i++) {
            d = x[i] - y[i]; if (d < 0) d = -d
            s = y[i] < 0 ? -y[i] : y[i]; if (s < 1) s = 1
            if (d > 1e-4 * s) exit 1
        }
    }'
}

status=0
declare -A us out
for batch in "${BATCHES[@]}"; do
    for peer in "${PEERS[@]}"; do
        # shellcheck disable=SC2086  # PEER_CMD holds a command and its first arguments
        if result=$(${PEER_CMD[$peer]} "$WEIGHTS" "$batch" "${CALLS[$batch]}" "$REPEATS" 2>"$tmp/err"); then
            out[$peer,$batch]=$(grep '^out ' <<<"$result")
            us[$peer,$batch]=$(sed -n 's/^us //p' <<<"$result")
        else
            echo "bench: mlp: $peer at batch $batch failed: $(head -n 1 "$tmp/err")" >&2
            status=1
        fi
    done
done

header=()
for batch in "${BATCHES[@]}"; do header+=("batch $batch (${CALLS[$batch]} calls)"); done
print_row peer "${header[@]}"
for peer in "${PEERS[@]}"; do
    cells=()
    for batch in "${BATCHES[@]}"; do
        t=${us[$peer,$batch]-}
        if [[ -z $t ]]; then cells+=(failed); continue; fi
        # The reference output: the C++ forward's, else the first peer that ran.
        ref=''
        for p in 'c++ openblas' "${PEERS[@]}"; do
            [[ -n ${out[$p,$batch]-} ]] && { ref=${out[$p,$batch]}; break; }
        done
        if ! agree "${out[$peer,$batch]}" "$ref"; then
            echo "bench: mlp: $peer at batch $batch printed '${out[$peer,$batch]}', expected '$ref'" >&2
            cells+=('wrong answer')
            status=1
            continue
        fi
        cell=$(printf '%.1fus' "$t")
        base=${us['c++ openblas',$batch]-}
        [[ -n $base ]] && cell+=$(awk -v t="$t" -v b="$base" 'BEGIN { printf " x%.2f", t / b }')
        base=${us[torchscript,$batch]-}
        [[ -n $base ]] && cell+=$(awk -v t="$t" -v b="$base" 'BEGIN { printf " ts x%.2f", t / b }')
        cells+=("$cell")
    done
    print_row "$peer" "${cells[@]}"
done
exit $status
