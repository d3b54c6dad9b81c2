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
#   tvm-pack (tvm-run --bench)
#                   bench/mlp_pkg.tl packed by tvm-pack (from the repository root, which its
#                   load() paths are relative to), timed by `tvm-run mlp.pkg --bench CALLS`:
#                   the median over REPEATS processes of its mean per call
#   tvm-pack (C API)
#                   the same package loaded and called in-process through libtvmrt's C API:
#                   bench/mlp_capi.c, linked against the static libtvmrt.a
#
# Each peer times its own loop in-process after a warm-up and reports the median of REPEATS
# timed loops, in microseconds per call; every peer must print the same outputs to 1e-4. The
# torch peers need Debian's /usr/bin/python3 with python3-torch and python3-numpy; without them
# they are skipped. Each ratio is the peer's time over the C++ forward's (xN) and over frozen
# TorchScript's (ts xN). bench/peers.sh, shared with bench/mlp_gpu.sh, runs the peers and
# prints their table.
#
# Then, for the package: its first call against its steady state (the median of calls timed
# one by one; both package peers also print "first T" and "steady T"), the calls per second of
# one loaded package called from 1 and from 2 threads at batch 1 (bench/mlp_capi.c --threads),
# and `tvm-run mlp.pkg --random` as a whole process (bench/measure.py). Each figure is printed
# beside its goal, as information: timing never makes the bench fail.
set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN_DIR=${1:-$BENCH_DIR/../build/bin}
TVM_RUN=$BIN_DIR/tvm-run
TVM_PACK=$BIN_DIR/tvm-pack
LIBTVMRT=$BIN_DIR/../lib/libtvmrt.a
REPO=$(cd "$BENCH_DIR/.." && pwd)
WEIGHTS=$REPO/examples/pytorch_weights
TORCH_PY=/usr/bin/python3
REPEATS=5
BATCHES=(1 256)
declare -A CALLS=([1]=10000 [256]=1000)
THREAD_SECONDS=1        # each --threads measurement: this long, THREAD_REPEATS times
THREAD_REPEATS=3
PROCESS_RUNS=20         # tvm-run mlp.pkg --random, whole process

# One thread everywhere: OpenBLAS (tvm-run's, the C++ forward's and Debian torch's GEMMs)
# otherwise starts a thread per core.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-bench-mlp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# The peers (add_peer), their runs (run_peers) and their table (print_table).
BENCH_NAME=mlp
GOAL_KEYS=(first steady)
# shellcheck source=peers.sh source-path=SCRIPTDIR
. "$BENCH_DIR/peers.sh"

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
status=0
if [[ -x $TVM_RUN ]]; then
    add_peer tvm-run "$TVM_RUN $BENCH_DIR/mlp.tl" "$("$TVM_RUN" --version 2>&1)"
else
    echo "bench: mlp: $TVM_RUN not found or not executable (build it with 'make'); skipping it" >&2
fi

# The packaged MLP: one package for both of its peers, the thread and the process figures.
# When tvm-pack fails, the package's rows and figures say so rather than disappear.
PKG=$tmp/mlp.pkg
if [[ ! -x $TVM_PACK || ! -x $TVM_RUN ]]; then
    echo "bench: mlp: $TVM_PACK or $TVM_RUN not found (build them with 'make'); skipping the package" >&2
    PKG=''
elif ! (cd "$REPO" && "$TVM_PACK" bench/mlp_pkg.tl -o "$PKG") >"$tmp/pack.log" 2>&1; then
    echo "bench: mlp: tvm-pack bench/mlp_pkg.tl failed: $(head -n 1 "$tmp/pack.log")" >&2
    status=1
fi

# The "tvm-pack (tvm-run --bench)" peer, called like the others with WEIGHTS_DIR BATCH CALLS
# REPEATS: the outputs come from `tvm-run mlp.pkg -o y.npy`, "us" is the median over REPEATS
# processes of --bench's mean per call (a timed loop's time over its calls, as the other peers
# time), "first" and "steady" the medians of its first call and of its per-call median.
# shellcheck disable=SC2317  # called through PEER_CMD
pkg_run_bench() {
    local wdir=$1 batch=$2 calls=$3 repeats=$4 x=$tmp/x$2.npy text r
    local means=() firsts=() medians=()
    [[ -f $PKG ]] || { echo "no package: tvm-pack bench/mlp_pkg.tl failed" >&2; return 1; }
    python3 "$BENCH_DIR/npy_rows.py" input "$wdir" "$batch" "$x" &&
        "$TVM_RUN" "$PKG" --input "x=$x" -o "$tmp/y$batch.npy" &&
        python3 "$BENCH_DIR/npy_rows.py" rows "$tmp/y$batch.npy" || return 1
    for ((r = 0; r < repeats; r++)); do
        text=$("$TVM_RUN" "$PKG" --input "x=$x" --bench "$calls") || return 1
        means+=("$(bench_field mean <<<"$text")")
        firsts+=("$(bench_field 'first call' <<<"$text")")
        medians+=("$(bench_field median <<<"$text")")
    done
    [[ ${means[*]} =~ ^[0-9.\ ]+$ && ${firsts[*]} =~ ^[0-9.\ ]+$ && ${medians[*]} =~ ^[0-9.\ ]+$ ]] ||
        { echo "unexpected tvm-run --bench output: $text" >&2; return 1; }
    echo "us $(median "${means[@]}")"
    echo "first $(median "${firsts[@]}")"
    echo "steady $(median "${medians[@]}")"
}

MLP_CAPI=''
if [[ -n $PKG ]]; then
    add_peer 'tvm-pack (tvm-run --bench)' pkg_run_bench "tvm-run --bench of \`tvm-pack bench/mlp_pkg.tl\`"
    cc=${CC:-cc}
    if [[ ! -f $LIBTVMRT ]]; then
        echo "bench: mlp: $LIBTVMRT not found (build it with 'make'); skipping the C API" >&2
    elif "$cc" -O2 -std=c99 -I "$REPO/vm/include" -o "$tmp/mlp_capi" "$BENCH_DIR/mlp_capi.c" "$LIBTVMRT" \
            -lstdc++ -lpthread -lzstd -ldl -lm 2>"$tmp/cc.log"; then
        MLP_CAPI=$tmp/mlp_capi
        add_peer 'tvm-pack (C API)' "$MLP_CAPI $PKG" "bench/mlp_capi.c ($("$cc" --version | head -n 1)) on libtvmrt.a"
    else
        echo "bench: mlp: could not build bench/mlp_capi.c against $LIBTVMRT:" >&2
        head -n 5 "$tmp/cc.log" >&2
        add_peer 'tvm-pack (C API)' false 'bench/mlp_capi.c did not build'
        status=1
    fi
fi

echo "mlp 512-256-128-2 (examples/pytorch_weights), one thread: microseconds per call, median of"
echo "$REPEATS timed loops after a warm-up; xN = time / c++ openblas's, ts xN = time / torchscript's"
print_versions 28
echo

run_peers first steady
print_table 27 28 'c++ openblas' x torchscript 'ts x'
echo

# ---- the package's other figures, each beside its goal (information, never a failure)

# "xR" of a over b, or "n/a" when either is missing.
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "x%.2f", a / b }' || echo n/a; }

echo "goals for the package (information only; timing never fails the bench):"
PKG_PEERS=('tvm-pack (tvm-run --bench)' 'tvm-pack (C API)')
line=''
for peer in "${PKG_PEERS[@]}"; do
    t=${us[$peer,1]-}
    line+="; $peer $(ratio "$t" "${us['c++ openblas',1]-}"), ts $(ratio "$t" "${us[torchscript,1]-}")"
done
echo "  batch 1 <= x1.15 c++ openblas and <= x0.60 torchscript: ${line#; }"

for peer in "${PKG_PEERS[@]}"; do
    line=''
    for batch in "${BATCHES[@]}"; do
        f=${first[$peer,$batch]-}
        st=${steady[$peer,$batch]-}
        if [[ -n $f && -n $st ]]; then
            line+=$(awk -v f="$f" -v s="$st" -v b="$batch" \
                'BEGIN { printf "; batch %d %.1fus / %.1fus = x%.2f", b, f, s, f / s }')
        else
            line+="; batch $batch n/a"
        fi
    done
    echo "  first call <= x2 steady state (the median call), $peer:${line#;}"
done

# Calls/s of one package from 1 and from 2 threads at batch 1, through the C API. (nproc
# counts OMP_NUM_THREADS, set to 1 above, rather than the cores this process may use.)
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
declare -A rate
if [[ -n $MLP_CAPI && -f $PKG ]]; then
    for n in 1 2; do
        if result=$("$MLP_CAPI" --threads "$n" "$PKG" "$WEIGHTS" 1 "$THREAD_SECONDS" "$THREAD_REPEATS" 2>"$tmp/err"); then
            rate[$n]=$(sed -n 's/^calls\/s //p' <<<"$result")
        else
            echo "bench: mlp: mlp_capi --threads $n failed: $(head -n 1 "$tmp/err")" >&2
            status=1
        fi
    done
fi
if [[ -n ${rate[1]-} && -n ${rate[2]-} ]]; then
    line="1 thread ${rate[1]} calls/s, 2 threads ${rate[2]} calls/s, $(ratio "${rate[2]}" "${rate[1]}")"
else
    line='not measured'
fi
echo "  2 threads >= x1.8 one thread's calls/s (C API, batch 1, one package, median of" \
    "$THREAD_REPEATS x ${THREAD_SECONDS}s; $cores cores here): $line"

# tvm-run mlp.pkg --random as a whole process: load, verify, one call, print.
line='not measured'
if [[ -n $PKG && -f $PKG ]]; then
    if result=$(python3 "$BENCH_DIR/measure.py" "$PROCESS_RUNS" "$TVM_RUN" "$PKG" --random 2>"$tmp/err"); then
        line=$(awk -v t="${result%%$'\n'*}" 'BEGIN { printf "%.2f ms", t * 1000 }')
    else
        echo "bench: mlp: tvm-run mlp.pkg --random: $(head -n 1 "$tmp/err")" >&2
        status=1
    fi
fi
echo "  tvm-run mlp.pkg --random, whole process (median of $PROCESS_RUNS runs) < 20 ms: $line"
exit $status
