#!/usr/bin/env bash
# The C API: packs tests/capi/model.tl, then runs capi-test (linked against the static
# libtvmrt) and capi-test-shared (libtvmrt.so) on it; both must pass their checks and print
# what the interpreter prints for the same input.   usage: tests/capi.sh BUILD_BIN_DIR
set -u
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here/capi" || exit 2
"$bin/tvm-pack" model.tl -o "$tmp/model.pkg" || { echo "FAIL capi: tvm-pack failed"; exit 1; }
"$bin/tvm-run" model.tl >"$tmp/want" || { echo "FAIL capi: tvm-run model.tl failed"; exit 1; }
failed=0
for t in capi-test capi-test-shared; do
  if ! "$bin/$t" "$tmp/model.pkg" >"$tmp/got"; then
    echo "FAIL $t"; failed=1
  elif ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "FAIL $t: result differs from the interpreter's"; diff "$tmp/want" "$tmp/got" | head; failed=1
  else
    echo "$t: ok"
  fi
done
exit $failed
