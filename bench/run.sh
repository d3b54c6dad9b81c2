#!/usr/bin/env bash
# Benchmarks tvm-run against its peers, all measured in this same run:
#
#     bench/run.sh [BUILD_BIN_DIR]      (make bench passes the directory holding tvm-run)
#
# Each benchmark is one program per peer (NAME.tl for tvm-run, NAME.lua for Lua 5.4 and for
# LuaJIT with its JIT off, NAME.py for CPython, and NAME.tl packed by `tvm-pack NAME.tl -o
# NAME.pkg` as a script package for "tvm-run pkg", which times `tvm-run NAME.pkg`); every peer
# must print the same answer. Each figure is the median wall time of RUNS runs after one
# warm-up run, and each ratio is that peer's time over Lua 5.4's; the packaged scripts' goal is
# printed beside them, as information. The last line is tvm-run's start-up time on an empty
# script. Then bench/mlp.sh times the seed's MLP, interpreted and packaged, against PyTorch and
# a hand-written C++ forward, and bench/mlp_gpu.sh times the package on an NVIDIA GPU against
# PyTorch on the same GPU (one "mlp-gpu: SKIP" line on a machine without one).
set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN_DIR=${1:-$BENCH_DIR/../build/bin}
TVM_RUN=$BIN_DIR/tvm-run
TVM_PACK=$BIN_DIR/tvm-pack
RUNS=5
STARTUP_RUNS=20
BENCHMARKS=(fib fancy_loop)
declare -A LABEL=([fib]='fib(32)' [fancy_loop]='fancy_func x 5M')

die() { echo "bench: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed to time the runs (apt-get install python3)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Lua 5.4 and LuaJIT are only peers, so a machine without them still gets the other figures.
missing=()
command -v lua5.4 >/dev/null || missing+=(lua5.4)
command -v luajit >/dev/null || missing+=(luajit)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "bench: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } ||
            echo "bench: could not install ${missing[*]}; skipping them" >&2
    else
        echo "bench: ${missing[*]} not found; run 'apt-get install ${missing[*]}' as root to compare with them" >&2
    fi
fi

# Each peer: a name for the table, the command that runs a program, the extension it runs and
# the directory its programs are in.
PEERS=()
declare -A PEER_CMD PEER_EXT PEER_DIR
add_peer() { PEERS+=("$1"); PEER_CMD[$1]=$2; PEER_EXT[$1]=$3; PEER_DIR[$1]=${4:-$BENCH_DIR}; }
if [[ -x $TVM_RUN ]]; then
    add_peer tvm-run "$TVM_RUN" tl
    if [[ -x $TVM_PACK ]]; then
        add_peer 'tvm-run pkg' "$TVM_RUN" pkg "$tmp"
    else
        echo "bench: $TVM_PACK not found or not executable (build it with 'make'); skipping the packages" >&2
    fi
else
    echo "bench: $TVM_RUN not found or not executable (build it with 'make'); measuring the peers only" >&2
fi
command -v lua5.4 >/dev/null && add_peer lua5.4 lua5.4 lua
command -v luajit >/dev/null && add_peer 'luajit -joff' 'luajit -joff' lua
add_peer python3 python3 py

echo "tvm bench: median wall seconds of $RUNS runs; xN = time / lua5.4's time"
# Other work on the machine slows every figure, and the peers unevenly: say how busy it is.
echo "  machine:      $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) cores, load average" \
    "$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown) at the start"
for peer in "${PEERS[@]}"; do
    case $peer in
        tvm-run) version=$("$TVM_RUN" --version 2>&1) ;;
        'tvm-run pkg') version="$("$TVM_PACK" --version 2>&1), script packages" ;;
        lua5.4) version=$(lua5.4 -v 2>&1) ;;
        luajit*) version=$(luajit -v 2>&1) ;;
        python3) version=$(python3 --version 2>&1) ;;
    esac
    printf '  %-13s %s\n' "$peer:" "${version%%$'\n'*}"
done
echo

# Prints one table row: the first cell, then one cell per peer, without trailing blanks.
print_row() {
    local row
    row=$(printf '%-17s' "$1")
    shift
    for cell in "$@"; do row+=$(printf '  %-17s' "$cell"); done
    echo "${row%"${row##*[! ]}"}"
}

print_row benchmark "${PEERS[@]}"

status=0
goal=()
for bench in "${BENCHMARKS[@]}"; do
    declare -A seconds=() answer=()
    if [[ -n ${PEER_CMD['tvm-run pkg']-} ]] &&
            ! "$TVM_PACK" "$BENCH_DIR/$bench.tl" -o "$tmp/$bench.pkg" 2>"$tmp/pack.err"; then
        echo "bench: tvm-pack $bench.tl failed: $(head -n 1 "$tmp/pack.err")" >&2
        status=1
    fi
    for peer in "${PEERS[@]}"; do
        program=${PEER_DIR[$peer]}/$bench.${PEER_EXT[$peer]}
        [[ -f $program ]] || continue  # a package tvm-pack did not make
        # shellcheck disable=SC2086  # PEER_CMD holds a command and its flags
        if result=$(python3 "$BENCH_DIR/measure.py" "$RUNS" ${PEER_CMD[$peer]} "$program"); then
            seconds[$peer]=${result%%$'\n'*}
            answer[$peer]=${result#*$'\n'}
        else
            status=1
        fi
    done
    reference=${answer[python3]-}
    cells=()
    for peer in "${PEERS[@]}"; do
        if [[ ! -f ${PEER_DIR[$peer]}/$bench.${PEER_EXT[$peer]} ]]; then
            cell='pack failed'
        elif [[ -z ${seconds[$peer]-} ]]; then
            cell=failed
        elif [[ ${answer[$peer]} != "$reference" ]]; then
            echo "bench: $bench: $peer printed '${answer[$peer]}', python3 printed '$reference'" >&2
            cell='wrong answer'
            status=1
        elif [[ -n ${seconds[lua5.4]-} ]]; then
            cell=$(awk -v t="${seconds[$peer]}" -v base="${seconds[lua5.4]}" \
                'BEGIN { printf "%.3fs x%.2f", t, t / base }')
        else
            cell=$(printf '%.3fs' "${seconds[$peer]}")
        fi
        cells+=("$cell")
        if [[ $peer == 'tvm-run pkg' ]]; then
            [[ $cell =~ \ (x[0-9.]+)$ ]] && goal+=("${LABEL[$bench]} ${BASH_REMATCH[1]}") ||
                goal+=("${LABEL[$bench]} n/a ($cell)")
        fi
    done
    print_row "${LABEL[$bench]}" "${cells[@]}"
    unset seconds answer
done
if [[ -n ${PEER_CMD['tvm-run pkg']-} ]]; then
    line=$(printf '%s, ' "${goal[@]}")
    echo "goal (information only): tvm-run pkg <= x0.80 lua5.4's time: ${line%, }"
fi
echo

if [[ -x $TVM_RUN ]]; then
    empty=$tmp/empty.tl
    : >"$empty"
    if result=$(python3 "$BENCH_DIR/measure.py" "$STARTUP_RUNS" "$TVM_RUN" "$empty"); then
        awk -v t="${result%%$'\n'*}" -v n="$STARTUP_RUNS" \
            'BEGIN { printf "tvm-run start-up (empty script, median of %d runs): %.2f ms\n", n, t * 1000 }'
    else
        status=1
    fi
else
    echo "tvm-run start-up: not measured ($TVM_RUN not found)"
fi
echo

"$BENCH_DIR/mlp.sh" "$BIN_DIR" || status=1
echo
"$BENCH_DIR/mlp_gpu.sh" "$BIN_DIR" || status=1
exit $status
