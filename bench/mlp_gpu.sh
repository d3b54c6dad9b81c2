#!/usr/bin/env bash
# The seed's MLP (512 -> 256 -> 128 -> 2, examples/pytorch_weights) on an NVIDIA GPU against
# PyTorch on the same GPU, all with the same weights and inputs (bench/run.sh calls this after
# bench/mlp.sh):
#
#     bench/mlp_gpu.sh [BUILD_BIN_DIR]
#
#   tvm cuda        bench/mlp_pkg.tl packed by tvm-pack (from the repository root, which its
#                   load() paths are relative to), timed by `tvm-run mlp.pkg --device cuda
#                   --input x=X.npy --bench CALLS`: the median over REPEATS processes of its
#                   mean per call (a timed loop's time over its calls, as the other peers time
#                   and as bench/mlp.sh takes it). Each call copies the input to the GPU, runs
#                   the entry (a replayed CUDA graph) and copies the result back.
#   tvm cpu         the same package and figure with --device cpu, OpenBLAS on its default
#                   threads: the CPU's figure beside the GPU's
#   torch eager     bench/mlp_gpu.py eager: the nn.Sequential on the GPU under
#                   torch.inference_mode(), each call net(x.to("cuda")).cpu() from a host tensor,
#                   the same round trip as tvm-run's calls
#   torch.compile   bench/mlp_gpu.py compile: torch.compile(net, mode="reduce-overhead"), its
#                   CUDA graphs recorded in the warm-up, each call the same round trip
#
# Inputs: x.npy at batch 1, the first BATCH rows of x_batch.npy at batch 256 (as bench/mlp.sh),
# and at batch 4096 its 256 rows then seeded N(0, 1) rows (bench/mlp_gpu.py input writes that
# input for tvm-run; its torch peers build the same one). Full float32 everywhere: TF32 is off in
# torch and in tvm-run (TVM_CUDA_TF32 is unset here). Each torch peer times its own loop
# in-process after a warm-up and reports the median of REPEATS timed loops, in microseconds per
# call; every peer must print the same outputs to 1e-4. The torch peers need a python3 on PATH
# whose torch has CUDA; without one they are skipped. Each ratio is the peer's time over torch
# eager's (xN). A peer that fails or prints other outputs says so on a line of its own, the
# others still run, and the exit status is then 1, as in bench/mlp.sh (bench/peers.sh, shared
# with it, runs the peers and prints their table).
#
# Then, as information (timing never makes the bench fail), the goals: at batch 1, tvm cuda
# under a third of torch eager's time and no slower than torch.compile; at batch 4096, tvm cuda's
# throughput (rows/s) at least PyTorch's. Then the CUDA graph line of `tvm-run --bench` and the
# kernels the GPU runs per call, counted by Nsight Systems when nsys is installed (see
# count_kernels).
#
# Without a GPU (nvidia-smi finds none), without the CUDA plugin ($BIN/../lib/libtvm_cuda.so) or
# when `tvm-run --device cuda` cannot open the GPU, it prints one line "mlp-gpu: SKIP: <reason>"
# and exits 0.
set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN_DIR=${1:-$BENCH_DIR/../build/bin}
TVM_RUN=$BIN_DIR/tvm-run
TVM_PACK=$BIN_DIR/tvm-pack
PLUGIN=$BIN_DIR/../lib/libtvm_cuda.so
REPO=$(cd "$BENCH_DIR/.." && pwd)
WEIGHTS=$REPO/examples/pytorch_weights
REPEATS=5
BATCHES=(1 256 4096)
declare -A CALLS=([1]=10000 [256]=2000 [4096]=200)
NSYS_CALLS=100          # the calls of the profiled tvm-run --bench

skip() { echo "mlp-gpu: SKIP: $*"; exit 0; }

command -v nvidia-smi >/dev/null || skip "no NVIDIA GPU here (nvidia-smi not found)"
gpu=$(nvidia-smi -L 2>/dev/null | grep -m 1 '^GPU ') || skip "nvidia-smi finds no GPU"
[[ -f $PLUGIN ]] || skip "the CUDA plugin $PLUGIN is not built (make builds it where nvcc is found)"
[[ -x $TVM_RUN && -x $TVM_PACK ]] || skip "$TVM_RUN or $TVM_PACK not found (build them with 'make')"
BIN_DIR=$(cd "$BIN_DIR" && pwd)  # absolute: tvm-pack runs from the repository root
TVM_RUN=$BIN_DIR/tvm-run
TVM_PACK=$BIN_DIR/tvm-pack

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-bench-mlp-gpu.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

: >"$tmp/empty.tl"
"$TVM_RUN" --device cuda "$tmp/empty.tl" >/dev/null 2>"$tmp/probe.err" ||
    skip "tvm-run --device cuda cannot open the GPU: $(head -n 1 "$tmp/probe.err")"

unset TVM_CUDA_TF32     # full float32 GEMMs, as the torch peers
status=0

# The peers (add_peer), their runs (run_peers) and their table (print_table). A failed peer's
# message is its last line: a Python exception's, after its traceback.
BENCH_NAME=mlp-gpu
PEER_ERROR=last
# shellcheck source=peers.sh source-path=SCRIPTDIR
. "$BENCH_DIR/peers.sh"

# The package, for both tvm peers and the kernel count.
PKG=$tmp/mlp.pkg
if (cd "$REPO" && "$TVM_PACK" bench/mlp_pkg.tl -o "$PKG") >"$tmp/pack.log" 2>&1; then
    tvm_version="$("$TVM_RUN" --version 2>&1 | head -n 1), \`tvm-pack bench/mlp_pkg.tl\`"
    add_peer 'tvm cuda' 'tvm_bench cuda' "$tvm_version, --device cuda"
    add_peer 'tvm cpu' 'tvm_bench cpu' "$tvm_version, --device cpu"
else
    echo "bench: mlp-gpu: tvm-pack bench/mlp_pkg.tl failed: $(head -n 1 "$tmp/pack.log")" >&2
    PKG=''
    status=1
fi
if torch_version=$(python3 "$BENCH_DIR/mlp_gpu.py" check 2>"$tmp/err"); then
    add_peer 'torch eager' "python3 $BENCH_DIR/mlp_gpu.py eager" "$torch_version ($(command -v python3))"
    add_peer 'torch.compile' "python3 $BENCH_DIR/mlp_gpu.py compile" 'the same, mode="reduce-overhead"'
else
    echo "bench: mlp-gpu: skipping the torch peers: $(head -n 1 "$tmp/err")" >&2
fi

# The input at each batch, as the torch peers build it, for tvm-run --input x=FILE.
x_file() { echo "$tmp/x$1.npy"; }
for batch in "${BATCHES[@]}"; do
    python3 "$BENCH_DIR/mlp_gpu.py" input "$WEIGHTS" "$batch" "$(x_file "$batch")" 2>"$tmp/err" ||
        echo "bench: mlp-gpu: could not write the input at batch $batch: $(head -n 1 "$tmp/err")" >&2
done

# The tvm peers, called like the others with DEVICE WEIGHTS_DIR BATCH CALLS REPEATS: the outputs
# come from `tvm-run mlp.pkg --device DEVICE -o y.npy`, "us" is the median over REPEATS processes
# of --bench's mean per call, and on cuda "graphs" is the device line of the first process.
# shellcheck disable=SC2317  # called through PEER_CMD
tvm_bench() {
    local device=$1 batch=$3 calls=$4 repeats=$5 x y=$tmp/y.npy text r
    local means=()
    x=$(x_file "$batch")
    [[ -f $x ]] || { echo "no input file at batch $batch" >&2; return 1; }
    "$TVM_RUN" "$PKG" --device "$device" --input "x=$x" -o "$y" &&
        python3 "$BENCH_DIR/npy_rows.py" rows "$y" || return 1
    for ((r = 0; r < repeats; r++)); do
        text=$("$TVM_RUN" "$PKG" --device "$device" --input "x=$x" --bench "$calls") || return 1
        means+=("$(bench_field mean <<<"$text")")
        ((r == 0)) && [[ $device == cuda ]] &&
            echo "graphs $(sed -n 's/^  device  *//p' <<<"$text" | head -n 1)"
    done
    [[ ${means[*]} =~ ^[0-9.\ ]+$ ]] || { echo "unexpected tvm-run --bench output: $text" >&2; return 1; }
    echo "us $(median "${means[@]}")"
}

echo "mlp 512-256-128-2 (examples/pytorch_weights) on the GPU: microseconds per call, each call"
echo "from host memory to host memory; median of $REPEATS timed loops after a warm-up; xN = time / torch eager's"
gpu=${gpu#GPU 0: }
echo "  gpu:            ${gpu%% (UUID*}, driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
print_versions 15
echo

run_peers graphs
print_table 14 22 'torch eager' x
echo

# ---- the goals, the CUDA graphs and the kernels per call (information, never a failure)

# "xR" of a over b, or "n/a" when either is missing.
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "x%.2f", a / b }' || echo n/a; }
# Rows per second at BATCH from microseconds per call: "12.3M rows/s", or "n/a".
rows_per_s() { [[ -n $2 ]] && awk -v b="$1" -v t="$2" 'BEGIN { printf "%.2fM rows/s", b / t }' || echo n/a; }

echo "goals for tvm cuda (information only; timing never fails the bench):"
t=${us['tvm cuda',1]-}
echo "  batch 1: < x0.33 torch eager's time: $(ratio "$t" "${us['torch eager',1]-}");" \
    "<= x1.00 torch.compile's: $(ratio "$t" "${us['torch.compile',1]-}")"
big=${BATCHES[-1]}
t=${us['tvm cuda',$big]-}
line="tvm cuda $(rows_per_s "$big" "$t")"
for peer in 'torch eager' 'torch.compile'; do
    u=${us[$peer,$big]-}
    line+=", $(ratio "$u" "$t") $peer's ($(rows_per_s "$big" "$u"))"
done
echo "  batch $big: rows/s >= PyTorch's (torch eager's and torch.compile's): $line"

line=''
for batch in "${BATCHES[@]}"; do line+="; batch $batch: ${graphs['tvm cuda',$batch]:-n/a}"; done
echo "  CUDA graphs (tvm-run --bench's device line, first process): ${line#; }"

# Nsight Systems: on PATH, else where the CUDA toolkit or the standalone package puts it.
find_nsys() {
    local c
    command -v nsys && return
    for c in /usr/local/cuda/bin/nsys $(printf '%s\n' /opt/nvidia/nsight-systems*/bin/nsys \
            /usr/local/cuda*/nsight-systems*/bin/nsys | sort -rV); do
        [[ -x $c ]] && { echo "$c"; return; }
    done
    return 1
}

# The kernels the GPU runs per call at BATCH: `tvm-run mlp.pkg --device cuda --bench
# $NSYS_CALLS` under nsys, with each node of a CUDA graph traced as a kernel
# (--cuda-graph-trace=node; by default nsys traces a graph launch as one range), the kernel
# instances of the cuda_gpu_kern_sum report (gpukernsum before nsys 2023) summed over all kernels,
# divided by the entry calls that process made: 1 on load (the MLP's entry is straight-line code,
# so --bench first calls it on zeros of the declared shapes, B = 1, which records its graph),
# 1 first call, max(1, min(N // 10, 1000)) warm-up calls and the N timed ones. Every kernel of
# the process counts (none runs outside the calls: the weights are uploaded by copies). Prints
# "K T C" (kernels per call, kernel instances, calls) and then "COUNT NAME" per kernel, or fails
# with the reason on stderr.
count_kernels() {
    local batch=$1 rep=$tmp/nsys$1 n=$NSYS_CALLS warm calls replays report
    warm=$((n / 10 < 1 ? 1 : n / 10 > 1000 ? 1000 : n / 10))
    calls=$((1 + 1 + warm + n))
    "$NSYS" profile --stats=false --trace=cuda --sample=none --cpuctxsw=none --cuda-graph-trace=node \
        --force-overwrite=true -o "$rep" \
        "$TVM_RUN" "$PKG" --device cuda --input "x=$(x_file "$batch")" --bench "$n" >"$tmp/nsys.log" 2>&1 ||
        { echo "nsys profile failed: $(grep -v '^ ' "$tmp/nsys.log" | tail -n 1)" >&2; return 1; }
    replays=$(sed -n 's/^  device .* \([0-9][0-9]*\) replayed calls$/\1/p' "$tmp/nsys.log")
    [[ -n $replays && $replays != "$calls" ]] &&
        echo "note: tvm-run reported $replays replayed calls, $calls calls expected" >&2
    for report in cuda_gpu_kern_sum gpukernsum ''; do
        [[ -n $report ]] || { echo "nsys stats failed: $(head -n 1 "$tmp/stats.err")" >&2; return 1; }
        "$NSYS" stats --report "$report" --format csv --force-export=true "$rep.nsys-rep" \
            >"$tmp/kern.csv" 2>"$tmp/stats.err" && break
    done
    python3 - "$tmp/kern.csv" "$calls" <<'EOF'
import csv, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
calls = int(sys.argv[2])
start = next((i for i, l in enumerate(lines) if "Instances" in l and "Name" in l), None)
if start is None:
    if any("does not contain" in l for l in lines):  # nsys: "SKIPPED: ... no CUDA kernel data"
        print(f"0 0 {calls}")
        sys.exit(0)
    sys.exit("no kernel table in nsys stats' output")
kernels = []
for row in csv.DictReader(lines[start:]):
    try:
        kernels.append((int(row["Instances"].replace(",", "")), row["Name"]))
    except (KeyError, TypeError, ValueError):
        break  # the end of the table
total = sum(n for n, _ in kernels)
print(f"{total / calls:.2f} {total} {calls}")
for n, name in sorted(kernels, key=lambda k: -k[0]):
    print(n, name)
EOF
}

if [[ -z $PKG ]]; then
    echo "  kernels per call: not measured (no package)"
elif ! NSYS=$(find_nsys); then
    echo "  kernels per call: not measured (nsys, Nsight Systems, not found on PATH, in /usr/local/cuda/bin or /opt/nvidia/nsight-systems*/bin)"
else
    echo "  kernels per call (nsys: $("$NSYS" --version 2>&1 | head -n 1); tvm-run --device cuda --bench $NSYS_CALLS, each graph node a kernel):"
    for batch in "${BATCHES[@]}"; do
        if result=$(count_kernels "$batch" 2>"$tmp/err"); then
            read -r k total calls <<<"${result%%$'\n'*}"
            echo "    batch $batch: kernels per call: $k (goal: 3, the fused GEMMs): $total kernels over $calls calls"
            tail -n +2 <<<"$result" | while read -r n name; do
                printf '      %8.2f  %s\n' "$(awk -v n="$n" -v c="$calls" 'BEGIN { print n / c }')" "${name:0:90}"
            done
            [[ -s $tmp/err ]] && sed 's/^/      /' "$tmp/err"
        else
            echo "    batch $batch: kernels per call: not measured: $(head -n 1 "$tmp/err")"
        fi
    done
fi
exit $status
