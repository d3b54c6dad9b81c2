# shellcheck shell=bash disable=SC2034,SC2154  # status and tmp: the sourcing script's
# The peers of bench/mlp.sh and bench/mlp_gpu.sh, which source this file: each peer is run at
# each batch and its times are tabled with their ratios; each script keeps its own peers,
# batches, base peers and goals. The sourcing script sets
#
#   BENCH_NAME   its name in messages, "bench: BENCH_NAME: ..."
#   tmp          its temporary folder
#   WEIGHTS      the weights' folder, every peer's first argument
#   BATCHES      the batches, and CALLS (an associative array) the calls of a timed loop at each
#   REPEATS      the timed loops
#   status       its exit status: set to 1 here when a peer fails or prints other outputs
#
# and may set
#
#   PEER_ERROR   "last": say a failed peer's last non-blank line of stderr (a Python traceback's
#                end); otherwise its first line
#   GOAL_KEYS    the extra KEYs of run_peers to drop, with the time, for a wrong answer

# Each peer: a name for the table, the command it runs, which takes WEIGHTS_DIR BATCH CALLS
# REPEATS and prints "out V V ...", "us T" and any other "KEY value" lines, and its version.
PEERS=()
declare -A PEER_CMD VERSION
add_peer() { PEERS+=("$1"); PEER_CMD[$1]=$2; VERSION[$1]=$3; }

# "  NAME: VERSION" per peer, NAME: padded to WIDTH.
print_versions() {
    local peer
    for peer in "${PEERS[@]}"; do printf "  %-${1}s %s\n" "$peer:" "${VERSION[$peer]}"; done
}

# The microseconds of one "  NAME   X us" line of tvm-run --bench's output, read from stdin.
# shellcheck disable=SC2317  # called from the scripts' tvm-run peers
bench_field() { sed -n "s/^  $1  *\([0-9.]*\) us\$/\1/p" | head -n 1; }
# The median of numbers (the upper middle one of an even count, as the peers take it).
# shellcheck disable=SC2317  # called from the scripts' tvm-run peers
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }

# Runs every peer at every batch. us[PEER,BATCH] and out[PEER,BATCH] hold its "us" and "out"
# lines, and for each KEY given, the associative array KEY[PEER,BATCH] its "KEY" line; a peer
# that fails has none of them.
declare -A us out
run_peers() {
    local batch peer result key
    for key; do declare -gA "$key"; done
    for batch in "${BATCHES[@]}"; do
        for peer in "${PEERS[@]}"; do
            # shellcheck disable=SC2086  # PEER_CMD holds a command and its first arguments
            if result=$(${PEER_CMD[$peer]} "$WEIGHTS" "$batch" "${CALLS[$batch]}" "$REPEATS" 2>"$tmp/err"); then
                out[$peer,$batch]=$(grep '^out ' <<<"$result")
                us[$peer,$batch]=$(sed -n 's/^us //p' <<<"$result")
                for key; do printf -v "${key}[$peer,$batch]" '%s' "$(sed -n "s/^$key //p" <<<"$result")"; done
            else
                if [[ ${PEER_ERROR-} == last ]]; then
                    result=$(grep -v '^$' "$tmp/err" | tail -n 1)
                else
                    result=$(head -n 1 "$tmp/err")
                fi
                echo "bench: $BENCH_NAME: $peer at batch $batch failed: $result" >&2
                status=1
            fi
        done
    done
}

# Prints one table row: the first cell WIDTH1 wide, then the others WIDTH wide, without
# trailing blanks.
print_row() {
    local w1=$1 w=$2 row cell
    row=$(printf "%-${w1}s" "$3")
    shift 3
    for cell in "$@"; do row+=$(printf "  %-${w}s" "$cell"); done
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

# The table of run_peers' times: a row per peer, a column per batch, its columns WIDTH1 and
# WIDTH wide. Each cell is "T.Tus" and, for each BASE peer that ran, " LABEL" and the time over
# that peer's (" x1.23"); "failed" when the peer failed, and "wrong answer" when its outputs do
# not agree with the reference: the first BASE peer's, else the first peer's that ran.
print_table() {  # WIDTH1 WIDTH BASE LABEL [BASE LABEL]...
    local w1=$1 w=$2 batch peer p t ref cell base i key header=() cells=()
    shift 2
    for batch in "${BATCHES[@]}"; do header+=("batch $batch (${CALLS[$batch]} calls)"); done
    print_row "$w1" "$w" peer "${header[@]}"
    for peer in "${PEERS[@]}"; do
        cells=()
        for batch in "${BATCHES[@]}"; do
            t=${us[$peer,$batch]-}
            if [[ -z $t ]]; then cells+=(failed); continue; fi
            ref=''
            for p in "$1" "${PEERS[@]}"; do
                [[ -n ${out[$p,$batch]-} ]] && { ref=${out[$p,$batch]}; break; }
            done
            if ! agree "${out[$peer,$batch]}" "$ref"; then
                echo "bench: $BENCH_NAME: $peer at batch $batch printed '${out[$peer,$batch]}', expected '$ref'" >&2
                cells+=('wrong answer')
                unset "us[$peer,$batch]"  # no goal figures
                for key in ${GOAL_KEYS[@]+"${GOAL_KEYS[@]}"}; do unset "${key}[$peer,$batch]"; done
                status=1
                continue
            fi
            cell=$(printf '%.1fus' "$t")
            for ((i = 1; i < $#; i += 2)); do
                base=${us[${!i},$batch]-}
                p=$((i + 1))
                [[ -n $base ]] &&
                    cell+=$(awk -v t="$t" -v b="$base" -v l="${!p}" 'BEGIN { printf " %s%.2f", l, t / b }')
            done
            cells+=("$cell")
        done
        print_row "$w1" "$w" "$peer" "${cells[@]}"
    done
}
