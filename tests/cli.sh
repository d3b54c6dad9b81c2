#!/usr/bin/env bash
# tvm-run's command line: flags, exit codes, stdin, shebang scripts, argv(), --disasm, and
# `make install` into a scratch prefix.   usage: tests/cli.sh BUILD_BIN_DIR
set -u
bin=$(cd "$1" && pwd)
tvm=$bin/tvm-run
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# check NAME EXPECTED_RC EXPECTED_STDOUT EXPECTED_FIRST_STDERR_LINE -- COMMAND...
check() {
  local name=$1 rc=$2 out=$3 err=$4
  shift 5
  local got_out got_err got_rc
  got_out=$("$@" 2>"$tmp/err" </dev/null)
  got_rc=$?
  got_err=$(head -n 1 "$tmp/err")
  if [[ $got_rc == "$rc" && $got_out == "$out" && $got_err == "$err" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: rc $got_rc (want $rc), stdout '$got_out' (want '$out'), stderr '$got_err' (want '$err')"
  fi
}

printf 'print("hi")\n' >"$tmp/hi.tl"
printf 'print(argv())\n' >"$tmp/args.tl"
printf '#!/usr/bin/env tvm-run\nprint(__name__, 6 * 7)\n' >"$tmp/shebang.tl"
chmod +x "$tmp/shebang.tl"
printf 'x = 1 +\n' >"$tmp/bad.tl"

check version 0 "tvm-run 0.1.0" "" -- "$tvm" --version
check help-exit 0 "$("$tvm" --help)" "" -- "$tvm" --help
check no-script 2 "" "tvm-run: no script given" -- "$tvm"
check bad-flag 2 "" "tvm-run: unknown option '--nope'" -- "$tvm" --nope "$tmp/hi.tl"
check missing-file 3 "" "tvm-run: cannot open '$tmp/none.tl': No such file or directory" -- "$tvm" "$tmp/none.tl"
check directory 3 "" "tvm-run: cannot open '$tmp': Is a directory" -- "$tvm" "$tmp"
check run 0 "hi" "" -- "$tvm" "$tmp/hi.tl"
check args 0 "['$tmp/args.tl', 'a', '--flag', 'b c']" "" -- "$tvm" "$tmp/args.tl" a --flag "b c"
check stdin 0 "hi" "" -- bash -c "'$tvm' - < '$tmp/hi.tl'"
check stdin-name 1 "" "<stdin>:1:8: error: invalid syntax" -- bash -c "'$tvm' - < '$tmp/bad.tl'"
check shebang 0 "__main__ 42" "" -- env PATH="$bin:$PATH" "$tmp/shebang.tl"
check compile-error 1 "" "$tmp/bad.tl:1:8: error: invalid syntax" -- "$tvm" "$tmp/bad.tl"
check disasm-no-run 0 "" "" -- bash -c "'$tvm' --disasm '$tmp/hi.tl' | grep -c hi >/dev/null; '$tvm' --disasm '$tmp/hi.tl' | grep -q 'CALL' && echo -n"
check disasm-lists 0 "yes" "" -- bash -c "'$tvm' --disasm '$tmp/hi.tl' | grep -q '1: print(\"hi\")' && echo yes"

# The installed layout: binary, stdlib found from the binary's prefix, man pages.
if make -C "$top" -s install PREFIX=/usr DESTDIR="$tmp/root" >/dev/null 2>&1; then
  printf 'import bench\nprint(bench.timeit("x", lambda: 1) >= 0)\n' >"$tmp/uses_stdlib.tl"
  check install-stdlib 0 "True" "" -- bash -c "'$tmp/root/usr/bin/tvm-run' '$tmp/uses_stdlib.tl' | tail -n 1"
  check install-man 0 "ok" "" -- bash -c "test -f '$tmp/root/usr/share/man/man1/tvm-run.1' && test -f '$tmp/root/usr/share/man/man7/tl.7' && echo ok"
else
  failed=$((failed + 1))
  echo "FAIL install: make install failed"
fi

echo "cli: $passed passed, $failed failed"
[[ $failed == 0 ]]
