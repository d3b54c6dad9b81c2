#!/usr/bin/env bash
# tvm-run's and tvm-pack's command lines: flags, exit codes, stdin, shebang scripts, argv(),
# --disasm, packages (inputs, outputs, errors, corrupt files, a killed tvm-pack), and
# `make install` into a scratch prefix.   usage: tests/cli.sh BUILD_BIN_DIR
set -u
bin=$(cd "$1" && pwd)
tvm=$bin/tvm-run
pack=$bin/tvm-pack
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

# ---------------------------------------------------------------- packages
cat >"$tmp/model.tl" <<'TL'
import nn
manual_seed(1)
net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
scale = 2

def forward(x: Tensor[B, 4], k: int) -> Tensor[B, 2]:
    return net(x) * scale + k

if __name__ == "__main__":
    print(forward(ones(2, 4), 1))
TL
printf 'print("packed", 6 * 7)
' >"$tmp/script.tl"
printf 'layers = [1, 2]

def forward(x: int) -> int:
    layers.append(x)
    return len(layers)
' >"$tmp/frozen.tl"
printf 'def forward(x):
    return x
' >"$tmp/unannotated.tl"
printf 'count = 0

def forward(x: int) -> int:
    global count
    count = x
    return x
' >"$tmp/assign_global.tl"
mkdir -p "$tmp/inl"
printf 'def scale(x, k):\n    y = x * 2.0\n    return y / k\n' >"$tmp/inl/helper.tl"
printf 'import helper\n\ndef forward(k: int) -> float:\n    return helper.scale(3, k) + 1.0\n' >"$tmp/inl/main.tl"
ones_npy=$tmp/ones.npy
printf 'save("%s", ones(2, 4))\nsave("%s", arange(3))\n' "$ones_npy" "$tmp/arange3.npy" | "$tvm" -

check pack-version 0 "tvm-pack 0.1.0" "" -- "$pack" --version
check pack-no-output 2 "" "tvm-pack: no output given (-o MODEL.pkg)" -- "$pack" "$tmp/model.tl"
check pack-no-source 2 "" "tvm-pack: no source file given" -- "$pack" -o "$tmp/x.pkg"
check pack-bad-flag 2 "" "tvm-pack: unknown option '--nope'" -- "$pack" --nope "$tmp/model.tl" -o "$tmp/x.pkg"
check pack-missing 3 "" "tvm-pack: cannot open '$tmp/none.tl': No such file or directory" -- "$pack" "$tmp/none.tl" -o "$tmp/x.pkg"
check pack-compile-error 1 "" "$tmp/bad.tl:1:8: error: invalid syntax" -- "$pack" "$tmp/bad.tl" -o "$tmp/bad.pkg"
check pack-no-entry 1 "packed 42" "tvm-pack: '$tmp/script.tl' has no function 'main' to be the package's entry" -- "$pack" --entry main "$tmp/script.tl" -o "$tmp/x.pkg"
check pack-unannotated 1 "" "$tmp/unannotated.tl:1:13: error: parameter 'x' of the package entry 'forward' needs an annotation (int, float, bool, str or Tensor[...])" -- "$pack" "$tmp/unannotated.tl" -o "$tmp/x.pkg"
check pack-assign-global 1 "" "$tmp/assign_global.tl:5:5: error: cannot assign global 'count' in a package entry" -- "$pack" "$tmp/assign_global.tl" -o "$tmp/x.pkg"
check pack-script 0 "" "" -- "$pack" "$tmp/script.tl" -o "$tmp/script.pkg"
check run-script-pkg 0 "packed 42" "" -- "$tvm" "$tmp/script.pkg"
check run-script-pkg-input 2 "" "tvm-run: '$tmp/script.pkg' is a script package: it takes no inputs (--input, --random, --dim, -o and --bench are for function packages)" -- "$tvm" "$tmp/script.pkg" --random
check pack-model 0 "" "" -- "$pack" "$tmp/model.tl" -o "$tmp/model.pkg"
check pack-deterministic 0 "same" "" -- bash -c "'$pack' '$tmp/model.tl' -o '$tmp/model2.pkg' && cmp -s '$tmp/model.pkg' '$tmp/model2.pkg' && echo same"
want=$("$tvm" "$tmp/model.tl")
check run-model 0 "$want" "" -- "$tvm" "$tmp/model.pkg" --input x="$ones_npy" --input k=1
check run-model-flags-first 0 "$want" "" -- "$tvm" --input x="$ones_npy" --input=k=1 "$tmp/model.pkg"
check run-model-missing 2 "" "tvm-run: missing input 'k'" -- "$tvm" "$tmp/model.pkg" --input x="$ones_npy"
check run-model-unknown 2 "" "tvm-run: unknown input 'y'" -- "$tvm" "$tmp/model.pkg" --input y=1
check run-model-shape 2 "" "tvm-run: input 'x': expected Tensor[B, 4], got Tensor[3]" -- "$tvm" "$tmp/model.pkg" --input x="$tmp/arange3.npy" --input k=1
check run-model-signature 2 "tvm-run: the package takes: forward(x: Tensor[B, 4], k: int) -> Tensor[B, 2]" "" -- bash -c "'$tvm' '$tmp/model.pkg' --input k=1 2>&1 >/dev/null | sed -n 2p; exit 2"
check run-model-bad-int 2 "" "tvm-run: input 'k' (int): 'x' is not an int" -- "$tvm" "$tmp/model.pkg" --input k=x --random
check run-model-random 0 "(5, 2)" "" -- bash -c "'$tvm' '$tmp/model.pkg' --random --dim B=5 --input k=0 -o '$tmp/y.npy' && printf 'print(load(\"$tmp/y.npy\").shape)\n' | '$tvm' -"
check run-model-bad-dim 2 "" "tvm-run: --dim C=5: the package has no dimension named 'C' (its dimensions: B)" -- "$tvm" "$tmp/model.pkg" --random --dim C=5 --input k=0
check run-model-bench 0 "calls/s" "" -- bash -c "'$tvm' '$tmp/model.pkg' --random --input k=0 --bench 20 | grep -o 'calls/s' "
check run-model-bad-bench 2 "" "tvm-run: --bench needs a number of calls >= 1, got 'x'" -- "$tvm" "$tmp/model.pkg" --bench x
# The CUDA plugin is opened with dlopen: a file that is not one, a plugin that finds no GPU.
lib=$(cd "$bin/../lib" && pwd)
check run-cuda-not-plugin 4 "" "tvm-run: --device cuda: $lib/libtvmrt.so is not a tvm CUDA plugin (it has no tvm_cuda_plugin_open)" -- env TVM_CUDA_PLUGIN="$lib/libtvmrt.so" "$tvm" "$tmp/model.pkg" --device cuda --random --input k=0
head -c 4096 /dev/zero >"$tmp/not-elf.so"
check run-cuda-bad-file 4 "" "tvm-run: --device cuda: cannot load the CUDA plugin $tmp/not-elf.so: $tmp/not-elf.so: invalid ELF header" -- env TVM_CUDA_PLUGIN="$tmp/not-elf.so" "$tvm" "$tmp/model.pkg" --device cuda --random --input k=0
if [[ ! -f $lib/libtvm_cuda.so ]]; then
  check run-cuda-no-plugin 4 "" "tvm-run: --device cuda: the CUDA plugin libtvm_cuda.so is not installed (looked for $lib/libtvm_cuda.so, libtvm_cuda.so)" -- "$tvm" "$tmp/model.pkg" --device cuda --random --input k=0
else
  # The plugin's only exports are its entry points (gpu/exports.map).
  check cuda-plugin-exports 0 "tvm_cuda_last_error tvm_cuda_plugin_abi tvm_cuda_plugin_open tvm_cuda_plugin_version" "" -- bash -c "nm -D --defined-only '$lib/libtvm_cuda.so' | awk '{print \$3}' | sort | xargs"
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    echo "cli: SKIP run-cuda-no-gpu: this machine has a GPU (the GPU tests cover --device cuda)"
  else
    # No GPU or no driver here: one line saying which, exit code 4.
    check run-cuda-no-gpu 4 "" "no GPU" -- bash -c "'$tvm' '$tmp/model.pkg' --device cuda --random --input k=0 2>&1 >/dev/null | grep -Eq '^tvm-run: --device cuda: (no CUDA driver|no CUDA-capable GPU|CUDA driver is too old)' && echo 'no GPU' >&2; exit 4"
  fi
fi
check run-model-cpu 0 "$want" "" -- "$tvm" "$tmp/model.pkg" --device cpu --input x="$ones_npy" --input k=1
# --device cuda on the fake CUDA device (tests/fakecuda: the CPU's kernels behind memory the host
# cannot read, built as libtvm_fakecuda.so): uploads, copies back, graphs and every error path.
fake=$lib/libtvm_fakecuda.so
if [[ -f $fake ]]; then
  F=(env TVM_CUDA_PLUGIN="$fake")
  mlp_want=$("$tvm" "$tmp/model.pkg" --device cpu --random --dim B=3 --input k=1)
  check fake-model 0 "$mlp_want" "" -- "${F[@]}" "$tvm" "$tmp/model.pkg" --device cuda --random --dim B=3 --input k=1
  check fake-model-auto 0 "$mlp_want" "" -- "${F[@]}" "$tvm" "$tmp/model.pkg" --random --dim B=3 --input k=1
  check fake-script 0 "$want" "" -- "${F[@]}" "$tvm" --device cuda "$tmp/model.tl"
  check fake-script-default-cpu 0 "$want" "" -- env TVM_CUDA_PLUGIN="$fake" TVM_FAKECUDA_OPEN=nogpu "$tvm" "$tmp/model.tl"
  # Recorded and replayed: a tensor-only straight-line entry, one recording per input shape.
  cat >"$tmp/ew.tl" <<'TL'
import nn
manual_seed(3)
lin = nn.Linear(8, 4)
def forward(x: Tensor[B, 8], y: Tensor[B, 4]) -> Tensor[B, 4]:
    return relu(lin(x)) * 2.0 - y.sum(axis=1, keepdims=True) + softmax(y, axis=1)
TL
  "$pack" "$tmp/ew.tl" -o "$tmp/ew.pkg"
  ew_want=$("$tvm" "$tmp/ew.pkg" --device cpu --random --dim B=5)
  check fake-graph 0 "$ew_want" "" -- "${F[@]}" "$tvm" "$tmp/ew.pkg" --device cuda --random --dim B=5
  check fake-graph-off 0 "$ew_want" "" -- "${F[@]}" TVM_CUDA_GRAPHS=0 "$tvm" "$tmp/ew.pkg" --device cuda --random --dim B=5
  check fake-graph-bench 0 "  device      cuda: 1 CUDA graph(s) recorded, 23 replayed calls" "" -- bash -c "TVM_CUDA_PLUGIN='$fake' '$tvm' '$tmp/ew.pkg' --device cuda --random --dim B=5 --bench 20 | tail -n 1"
  check fake-graph-bench-off 0 "  device      cuda: 0 CUDA graph(s) recorded, 0 replayed calls" "" -- bash -c "TVM_CUDA_PLUGIN='$fake' TVM_CUDA_GRAPHS=0 '$tvm' '$tmp/ew.pkg' --device cuda --random --dim B=5 --bench 20 | tail -n 1"
  # An entry that takes a number is not recorded (it would be baked into the recording).
  check fake-graph-not-numbers 0 "  device      cuda: 0 CUDA graph(s) recorded, 0 replayed calls" "" -- bash -c "TVM_CUDA_PLUGIN='$fake' '$tvm' '$tmp/model.pkg' --device cuda --random --input k=1 --bench 5 | tail -n 1"
  # The device's failures: exit code 4 and one line, never a crash.
  check fake-no-driver 4 "" "tvm-run: --device cuda: no CUDA driver is installed (fake)" -- "${F[@]}" TVM_FAKECUDA_OPEN=nodriver "$tvm" "$tmp/model.pkg" --device cuda --random --input k=1
  check fake-no-gpu-auto 0 "$mlp_want" "" -- "${F[@]}" TVM_FAKECUDA_OPEN=nogpu "$tvm" "$tmp/model.pkg" --random --dim B=3 --input k=1
  check fake-no-gpu-script 4 "" "tvm-run: --device cuda: no CUDA-capable GPU (fake)" -- "${F[@]}" TVM_FAKECUDA_OPEN=nogpu "$tvm" --device cuda "$tmp/hi.tl"
  check fake-oom-weights 4 "" "tvm-run: cuda: out of device memory (a tensor of shape (3,) needs 64 bytes)" -- "${F[@]}" TVM_FAKECUDA_MEMORY=64 "$tvm" "$tmp/model.pkg" --device cuda --random --input k=1
  printf 'xs = []\nwhile True:\n    xs.append(ones(1024, 1024))\n' >"$tmp/oom.tl"
  check fake-oom-script 4 "" "$tmp/oom.tl:3:15: runtime error: cuda: out of device memory (a tensor of shape (1024, 1024) needs 4194304 bytes)" -- "${F[@]}" TVM_FAKECUDA_MEMORY=100000000 "$tvm" --device cuda "$tmp/oom.tl"
  # (a failure is reported at the next op or copy, as an asynchronous GPU fault would be)
  check fake-kernel-failure 4 "" "$tmp/ew.tl:5:12: runtime error: cuda: fake cuda: injected kernel failure" -- "${F[@]}" TVM_FAKECUDA_FAIL_KERNEL=1 TVM_CUDA_GRAPHS=0 "$tvm" "$tmp/ew.pkg" --device cuda --random --dim B=5
  check fake-kernel-failure-replay 4 "" "tvm-run: cuda: fake cuda: injected kernel failure" -- "${F[@]}" TVM_FAKECUDA_FAIL_KERNEL=20 "$tvm" "$tmp/ew.pkg" --device cuda --random --dim B=5 --bench 5
  check fake-launch-failure 4 "" "tvm-run: cuda: fake cuda: injected graph launch failure" -- "${F[@]}" TVM_FAKECUDA_FAIL_LAUNCH=1 "$tvm" "$tmp/ew.pkg" --device cuda --random --dim B=5
  check fake-kernel-failure-script 4 "" "tvm-run: cuda: fake cuda: injected kernel failure" -- bash -c "TVM_CUDA_PLUGIN='$fake' TVM_FAKECUDA_FAIL_KERNEL=1 '$tvm' --device cuda '$tmp/model.tl' 2>&1 >/dev/null | grep -o 'tvm-run: cuda: fake cuda: injected kernel failure\|runtime error: cuda: fake cuda: injected kernel failure' | head -n 1 | sed 's/^runtime error: /tvm-run: /' >&2; exit 4"
else
  echo "cli: SKIP fake-*: $fake was not built"
fi
check run-model-disasm 0 "yes" "" -- bash -c "'$tvm' --disasm '$tmp/model.pkg' | grep -q 'KCALL' && '$tvm' --disasm '$tmp/model.pkg' | grep -q 'entry: forward(x: Tensor\[B, 4\], k: int) -> Tensor\[B, 2\]' && echo yes"
check pack-disasm 0 "yes" "" -- bash -c "'$pack' --disasm '$tmp/model.tl' | grep -q 'KCALL' && echo yes"
check pack-entry-and-script 2 "" "tvm-pack: --entry and --script cannot be used together" -- "$pack" --entry forward --script "$tmp/model.tl" -o "$tmp/x.pkg"
# An error inside a function inlined from another file is reported at the call (tvm-pack(1)).
check pack-inlined-error 1 "" "$tmp/inl/main.tl:4:12: runtime error: division by zero" -- bash -c "'$pack' '$tmp/inl/main.tl' -o '$tmp/inl.pkg' && '$tvm' '$tmp/inl.pkg' --input k=0"
check pack-inlined-ok 0 "4.0" "" -- "$tvm" "$tmp/inl.pkg" --input k=2
check pack-strip 0 "smaller" "" -- bash -c "'$pack' --strip '$tmp/model.tl' -o '$tmp/s.pkg' && [ \$(stat -c%s '$tmp/s.pkg') -lt \$(stat -c%s '$tmp/model.pkg') ] && echo smaller"
check pack-frozen 0 "" "" -- "$pack" "$tmp/frozen.tl" -o "$tmp/frozen.pkg"
check run-frozen 1 "" "$tmp/frozen.tl:4:5: runtime error: cannot modify frozen value 'layers'" -- "$tvm" "$tmp/frozen.pkg" --input x=3
check run-not-a-pkg 3 "" "tvm-run: '$tmp/trunc.pkg': truncated (file has 7 bytes, a package header alone is 48)" -- bash -c "head -c 7 '$tmp/model.pkg' >'$tmp/trunc.pkg'; '$tvm' '$tmp/trunc.pkg'"

# A corrupt package is exit 3 with one clear line, at every truncation length and with a
# byte flipped at every offset (a sample here; tests/unit/test_pkg_code.cpp covers every bit).
size=$(stat -c%s "$tmp/script.pkg")
bad=0
for ((n = 0; n < size; n++)); do
  head -c "$n" "$tmp/script.pkg" >"$tmp/cut.pkg"
  "$tvm" "$tmp/cut.pkg" >/dev/null 2>"$tmp/cut.err"; rc=$?
  if [[ $rc != 3 || ! -s $tmp/cut.err ]]; then bad=$((bad + 1)); echo "  truncated at $n: exit $rc"; fi
done
mkdir "$tmp/flips"
python3 -c "
import sys
b = open(sys.argv[1], 'rb').read()
for i in range(len(b)):
    c = bytearray(b); c[i] ^= 0xA5
    open('%s/%d.pkg' % (sys.argv[2], i), 'wb').write(c)" "$tmp/script.pkg" "$tmp/flips"
for ((i = 0; i < size; i++)); do
  "$tvm" "$tmp/flips/$i.pkg" >/dev/null 2>"$tmp/flip.err"; rc=$?
  if [[ $rc != 3 || ! -s $tmp/flip.err ]]; then bad=$((bad + 1)); echo "  byte $i flipped: exit $rc"; fi
done
check corrupt-packages 0 "0" "" -- echo "$bad"

# A killed tvm-pack leaves the earlier package intact (it writes a temporary file and renames).
cat >"$tmp/big.tl" <<'TL'
w = rand(1500, 1500)
def forward(x: Tensor[1500]) -> Tensor[1500]:
    return w @ x
TL
"$pack" "$tmp/big.tl" -o "$tmp/big.pkg"
cp "$tmp/big.pkg" "$tmp/big.orig"
printf 'w = rand(1500, 1500) + 1
def forward(x: Tensor[1500]) -> Tensor[1500]:
    return w @ x
' >"$tmp/big.tl"
intact=0
for delay in 0.05 0.1 0.15 0.2 0.3 0.4; do
  "$pack" "$tmp/big.tl" -o "$tmp/big.pkg" & pid=$!
  sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if cmp -s "$tmp/big.pkg" "$tmp/big.orig" || "$tvm" "$tmp/big.pkg" --random >/dev/null 2>&1; then
    intact=$((intact + 1))
  fi
  cp "$tmp/big.orig" "$tmp/big.pkg"
done
check killed-pack 0 "6" "" -- echo "$intact"

# The installed layout: binary, stdlib found from the binary's prefix, man pages.
if make -C "$top" -s install PREFIX=/usr DESTDIR="$tmp/root" >/dev/null 2>&1; then
  printf 'import bench\nprint(bench.timeit("x", lambda: 1) >= 0)\n' >"$tmp/uses_stdlib.tl"
  check install-stdlib 0 "True" "" -- bash -c "'$tmp/root/usr/bin/tvm-run' '$tmp/uses_stdlib.tl' | tail -n 1"
  check install-man 0 "ok" "" -- bash -c "test -f '$tmp/root/usr/share/man/man1/tvm-run.1' && test -f '$tmp/root/usr/share/man/man1/tvm-pack.1' && test -f '$tmp/root/usr/share/man/man7/tl.7' && echo ok"
  check install-lib 0 "ok" "" -- bash -c "test -x '$tmp/root/usr/bin/tvm-pack' && test -f '$tmp/root/usr/lib/libtvmrt.a' && test -f '$tmp/root/usr/lib/libtvmrt.so' && test -f '$tmp/root/usr/include/tvm.h' && echo ok"
else
  failed=$((failed + 1))
  echo "FAIL install: make install failed"
fi

echo "cli: $passed passed, $failed failed"
[[ $failed == 0 ]]
