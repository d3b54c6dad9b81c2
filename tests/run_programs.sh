#!/usr/bin/env bash
# Runs the golden TL programs in tests/programs against a tvm-run binary.
#
# usage: tests/run_programs.sh [--pack TVM_PACK] TVM_RUN [EXTRA_ARGS...]
#
# For every tests/programs/NAME.tl whose name does not start with `_`, runs
#   cd tests/programs && TVM_PATH=$PWD/modules timeout 20 TVM_RUN EXTRA_ARGS... NAME.tl
# or, with --pack, packs it first and runs the package (LANGUAGE.md: every program prints the
# same both ways):
#   TVM_PACK --script NAME.tl -o TMP/NAME.pkg && TVM_RUN EXTRA_ARGS... TMP/NAME.pkg
# (--script: a program that defines `forward` is still packed as the whole script)
# (a program that does not pack is judged by tvm-pack's exit code and stderr: compile errors
# are reported at pack time), and checks it:
#   * NAME.err exists: line 1 is the expected exit code, line 2 the expected first line of
#     stderr; if NAME.out exists too, stdout must equal it.
#   * otherwise stdout must equal NAME.out and the exit code must be 0.
# Prints `FAIL NAME: reason` (with a short diff) for each failure and ends with exactly one
# line `N passed, N failed`; exits 1 if anything failed, 2 on a usage error.
# TESTS_FILTER, if set, is a grep -E regex: only programs whose NAME matches it run.
set -u

tvm_pack=""
if [ "${1:-}" = "--pack" ]; then
    tvm_pack=${2:?usage: $0 [--pack TVM_PACK] TVM_RUN [EXTRA_ARGS...]}
    shift 2
    case $tvm_pack in /*) ;; *) tvm_pack=$PWD/$tvm_pack ;; esac
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 [--pack TVM_PACK] TVM_RUN [EXTRA_ARGS...]" >&2
    exit 2
fi

tvm_run=$1
shift
extra=("$@")

case $tvm_run in
    */*) ;;
    *) if [ ! -e "$tvm_run" ] && command -v "$tvm_run" >/dev/null 2>&1; then
           tvm_run=$(command -v "$tvm_run")
       fi ;;
esac
case $tvm_run in
    /*) ;;
    *) tvm_run=$PWD/$tvm_run ;;
esac
if [ ! -x "$tvm_run" ] || [ -d "$tvm_run" ]; then
    echo "$0: $tvm_run is not an executable file" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
programs=$here/programs
cd "$programs" || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-programs.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

filter=${TESTS_FILTER:-}
passed=0
failed=0

# fail NAME REASON [DETAIL_FILE]
fail() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
    if [ $# -ge 3 ] && [ -s "$3" ]; then
        head -n 20 "$3" | sed 's/^/    /'
    fi
}

# Prints the first line of a file without its newline (and without a trailing CR).
first_line() {
    local line=""
    IFS= read -r line <"$1" || true
    printf '%s' "${line%$'\r'}"
}

shopt -s nullglob
for tl in *.tl; do
    name=${tl%.tl}
    case $name in _*) continue ;; esac
    if [ -n "$filter" ] && ! printf '%s\n' "$name" | grep -Eq -- "$filter"; then
        continue
    fi

    out=$tmp/$name.stdout
    err=$tmp/$name.stderr
    if [ -n "$tvm_pack" ]; then
        TVM_PATH=$programs/modules timeout -k 5 20 "$tvm_pack" --script "$tl" -o "$tmp/$name.pkg" \
            >"$out" 2>"$err" </dev/null
        rc=$?
        if [ $rc -eq 0 ]; then
            TVM_PATH=$programs/modules timeout -k 5 20 "$tvm_run" ${extra[@]+"${extra[@]}"} "$tmp/$name.pkg" \
                >"$out" 2>"$err" </dev/null
            rc=$?
        fi
    else
        TVM_PATH=$programs/modules timeout -k 5 20 "$tvm_run" ${extra[@]+"${extra[@]}"} "$tl" \
            >"$out" 2>"$err" </dev/null
        rc=$?
    fi

    if [ $rc -eq 124 ]; then
        fail "$name" "timed out after 20 s" "$err"
        continue
    fi
    if [ $rc -gt 128 ] && [ $rc -lt 160 ]; then
        fail "$name" "killed by signal $((rc - 128))" "$err"
        continue
    fi

    if [ -f "$name.err" ]; then
        want_rc=""
        want_err=""
        { IFS= read -r want_rc || true; IFS= read -r want_err || true; } <"$name.err"
        want_rc=${want_rc%$'\r'}
        want_err=${want_err%$'\r'}
        got_err=$(first_line "$err")
        if [ "$rc" != "$want_rc" ]; then
            fail "$name" "exit code $rc, expected $want_rc" "$err"
            continue
        fi
        if [ "$got_err" != "$want_err" ]; then
            printf -- '- %s\n+ %s\n' "$want_err" "$got_err" >"$tmp/diff"
            fail "$name" "first line of stderr differs" "$tmp/diff"
            continue
        fi
        if [ -f "$name.out" ] && ! cmp -s "$name.out" "$out"; then
            diff -u --label "$name.out" --label "stdout" "$name.out" "$out" >"$tmp/diff"
            fail "$name" "stdout differs" "$tmp/diff"
            continue
        fi
    elif [ -f "$name.out" ]; then
        if [ $rc -ne 0 ]; then
            fail "$name" "exit code $rc, expected 0" "$err"
            continue
        fi
        if ! cmp -s "$name.out" "$out"; then
            diff -u --label "$name.out" --label "stdout" "$name.out" "$out" >"$tmp/diff"
            fail "$name" "stdout differs" "$tmp/diff"
            continue
        fi
    else
        fail "$name" "neither $name.out nor $name.err exists"
        continue
    fi
    passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
