#!/bin/bash
# Differential testing of tvm-run against python3 on generated programs.
#   tests/diff_programs.sh [--tensors] [--pack TVM_PACK] TVM_RUN FIRST_SEED COUNT
# Scalar mode: each program (tests/gen_programs.py SEED) is run with python3 and with
# TVM_RUN; stdout and exit status must agree.  --tensors: programs with tensor code,
# only checks that TVM_RUN exits 0.  --pack: each program is also packed with TVM_PACK and
# the package run with TVM_RUN; its stdout, exit status and first stderr line must equal the
# interpreted run's.  Set KEEP=1 to keep the temp dir.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=scalar
pack=""
while :; do
    case "${1:-}" in
        --tensors) mode=tensors; shift ;;
        --pack) pack=${2:?--pack needs TVM_PACK}; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -ne 3 ]; then
    echo "usage: $0 [--tensors] [--pack TVM_PACK] TVM_RUN FIRST_SEED COUNT" >&2; exit 2
fi
tvm=$1; first=$2; count=$3
py=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvmdiff.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

# same_packaged FILE RC: with --pack, packs FILE and runs the package; stdout, exit status and
# the first line of stderr must equal the interpreted run's (in $tmp/tvm.out, tvm.err, RC).
same_packaged() {
    [ -n "$pack" ] || return 0
    local f=$1 rc=$2 prc
    if ! timeout 20 "$pack" --script "$f" -o "$tmp/p.pkg" > "$tmp/pack.out" 2> "$tmp/pack.err"; then
        echo "FAIL seed $seed (tvm-pack failed)"; head -5 "$tmp/pack.err" | sed 's/^/    /'
        return 1
    fi
    timeout 20 "$tvm" "$tmp/p.pkg" > "$tmp/pkg.out" 2> "$tmp/pkg.err"; prc=$?
    if [ $prc -ne $rc ] || ! cmp -s "$tmp/tvm.out" "$tmp/pkg.out" || \
       [ "$(head -1 "$tmp/tvm.err")" != "$(head -1 "$tmp/pkg.err")" ]; then
        echo "FAIL seed $seed (interpreted exit $rc, packaged exit $prc)"
        head -3 "$tmp/pkg.err" | sed 's/^/    packaged: /'
        diff "$tmp/tvm.out" "$tmp/pkg.out" | head -8 | sed 's/^/    /'
        return 1
    fi
}

for ((seed = first; seed < first + count; seed++)); do
    f=$tmp/p$seed.tl
    if [ $mode = tensors ]; then
        "$py" "$here/gen_programs.py" "$seed" --tensors > "$f" || { echo "FAIL seed $seed (generator)"; fail=$((fail+1)); continue; }
        timeout 20 "$tvm" "$f" > "$tmp/tvm.out" 2> "$tmp/tvm.err"; rc=$?
        if [ $rc -ne 0 ]; then
            echo "FAIL seed $seed (tvm-run exit $rc)"; head -5 "$tmp/tvm.err" | sed 's/^/    /'
            fail=$((fail+1))
        elif ! same_packaged "$f" $rc; then
            fail=$((fail+1))
        else
            pass=$((pass+1))
        fi
        continue
    fi
    "$py" "$here/gen_programs.py" "$seed" > "$f" || { echo "FAIL seed $seed (generator)"; fail=$((fail+1)); continue; }
    timeout 20 "$py" "$f" > "$tmp/py.out" 2> "$tmp/py.err"; prc=$?
    timeout 20 "$tvm" "$f" > "$tmp/tvm.out" 2> "$tmp/tvm.err"; trc=$?
    if [ $prc -eq 0 ] && [ $trc -eq 0 ] && cmp -s "$tmp/py.out" "$tmp/tvm.out"; then
        if same_packaged "$f" $trc; then pass=$((pass+1)); else fail=$((fail+1)); fi
    else
        echo "FAIL seed $seed (python3 exit $prc, tvm-run exit $trc)"
        [ $prc -ne 0 ] && head -c 600 "$tmp/py.err" | tail -3 | sed 's/^/    python3: /'
        [ $trc -ne 0 ] && head -3 "$tmp/tvm.err" | sed 's/^/    tvm-run: /'
        diff "$tmp/py.out" "$tmp/tvm.out" | head -8 | sed 's/^/    /'
        fail=$((fail+1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
