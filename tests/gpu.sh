#!/usr/bin/env bash
# The GPU tests: the CUDA device (gpu/, libtvm_cuda.so) against the CPU on a machine with an
# NVIDIA GPU. Where there is none they print one SKIP line and pass, so `make test` runs them
# everywhere; `make test-gpu` runs them with the sanitizer pass too.
#
# usage: tests/gpu.sh BIN_DIR [--sanitizer]
#
#   1. every golden program (tests/programs) interpreted with --device cuda, and packaged;
#   2. the seed MLP packaged, at batch 1, 256 and 4096, on the GPU against the CPU (float32
#      tolerance: TF32 is off);
#   3. CUDA-graph replay against plain calls (TVM_CUDA_GRAPHS=0), and --bench reporting one
#      recording per input shape;
#   4. the C API from 8 threads on one package on the GPU (tests/capi.sh);
#   5. device out of memory: exit code 4 and one line, never a hang or a crash;
#   6. with --sanitizer: compute-sanitizer (memcheck, racecheck, synccheck) over the MLP and
#      the golden tensor programs.
set -u

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BIN_DIR [--sanitizer]" >&2
  exit 2
fi
bin=$(cd "$1" && pwd) || exit 2
lib=$(cd "$bin/../lib" && pwd) || exit 2
sanitizer=0
[[ ${2:-} == --sanitizer ]] && sanitizer=1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

skip() {
  echo "gpu: SKIP all GPU tests: $1"
  exit 0
}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  skip "no NVIDIA GPU on this machine (nvidia-smi finds none); --device cuda's errors are checked by tests/cli.sh"
fi
[[ -f $lib/libtvm_cuda.so ]] || { echo "gpu: FAIL: this machine has a GPU but $lib/libtvm_cuda.so was not built (is nvcc installed?)"; exit 1; }
unset TVM_CUDA_PLUGIN TVM_CUDA_GRAPHS TVM_CUDA_TF32

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-gpu.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
failed=0
passed=0
ok() { passed=$((passed + 1)); echo "gpu: ok   $1"; }
bad() { failed=$((failed + 1)); echo "gpu: FAIL $1"; [[ -s $tmp/log ]] && head -n 20 "$tmp/log" | sed 's/^/    /'; }
run() {  # run NAME COMMAND...: passes when COMMAND exits 0
  local name=$1
  shift
  if "$@" >"$tmp/log" 2>&1; then ok "$name"; else bad "$name"; fi
}
nvidia-smi -L | head -n 1 | sed 's/^/gpu: on /'

# 1. The golden programs, as on the CPU.
run "golden programs interpreted, --device cuda" "$here/run_programs.sh" "$bin/tvm-run" --device cuda
run "golden programs packaged, --device cuda" "$here/run_programs.sh" --pack "$bin/tvm-pack" "$bin/tvm-run" --device cuda

# 2. The seed MLP against the CPU.
"$bin/tvm-pack" "$root/examples/mlp_model.tl" -o "$tmp/mlp.pkg" || { echo "gpu: FAIL tvm-pack mlp"; exit 1; }
close() { "$bin/tvm-run" "$here/gpu/allclose.tl" "$@"; }
for b in 1 256 4096; do
  run "mlp B=$b on the cpu" "$bin/tvm-run" "$tmp/mlp.pkg" --device cpu --random --dim B=$b -o "$tmp/cpu$b.npy"
  run "mlp B=$b on the gpu" "$bin/tvm-run" "$tmp/mlp.pkg" --device cuda --random --dim B=$b -o "$tmp/gpu$b.npy"
  run "mlp B=$b: gpu = cpu within float32 tolerance" close "$tmp/gpu$b.npy" "$tmp/cpu$b.npy" 1e-4 1e-5
done
# auto picks the GPU here: the same file either way.
run "mlp --device auto = cuda" "$bin/tvm-run" "$tmp/mlp.pkg" --random --dim B=256 -o "$tmp/auto256.npy"
run "mlp --device auto: same result" cmp "$tmp/auto256.npy" "$tmp/gpu256.npy"

# 3. CUDA graphs: replays against plain calls, and one recording per shape.
for b in 1 256; do
  run "mlp B=$b without graphs" env TVM_CUDA_GRAPHS=0 "$bin/tvm-run" "$tmp/mlp.pkg" --device cuda --random --dim B=$b -o "$tmp/plain$b.npy"
  run "mlp B=$b: graph replay = plain run" close "$tmp/gpu$b.npy" "$tmp/plain$b.npy" 1e-6 1e-7
done
"$bin/tvm-run" "$tmp/mlp.pkg" --device cuda --random --dim B=64 --bench 200 >"$tmp/bench" 2>&1
if grep -q "device      cuda: 1 CUDA graph(s) recorded, 2[0-9][0-9] replayed calls" "$tmp/bench"; then
  ok "--bench: one recording, every call a replay"
else
  cp "$tmp/bench" "$tmp/log"; bad "--bench: one recording, every call a replay"
fi
TVM_CUDA_GRAPHS=0 "$bin/tvm-run" "$tmp/mlp.pkg" --device cuda --random --dim B=64 --bench 50 >"$tmp/bench" 2>&1
if grep -q "device      cuda: 0 CUDA graph(s) recorded, 0 replayed calls" "$tmp/bench"; then
  ok "TVM_CUDA_GRAPHS=0: no recordings"
else
  cp "$tmp/bench" "$tmp/log"; bad "TVM_CUDA_GRAPHS=0: no recordings"
fi

# 4. The C API: 8 threads calling one package (auto: the GPU).
run "C API, 8 threads on one package on the GPU" env CAPI_DEVICE=cuda "$here/capi.sh" "$bin"

# 5. Out of device memory: 1 GiB at a time until the GPU is full.
printf 'xs = []\nwhile True:\n    xs.append(ones(1 << 28))\n' >"$tmp/oom.tl"
timeout -k 5 300 "$bin/tvm-run" --device cuda "$tmp/oom.tl" >"$tmp/log" 2>&1
rc=$?
if [[ $rc -eq 4 ]] && grep -q "cuda: out of device memory" "$tmp/log"; then
  ok "device out of memory: exit 4, one line"
else
  echo "exit code $rc" >>"$tmp/log"; bad "device out of memory: exit 4, one line"
fi

# 6. The sanitizer, once over the GPU work.
if [[ $sanitizer -eq 1 ]]; then
  cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  if [[ ! -x $cs ]]; then
    bad "compute-sanitizer not found"
  else
    for tool in memcheck racecheck synccheck; do
      run "compute-sanitizer --tool $tool: mlp B=256" "$cs" --tool $tool --error-exitcode 9 \
        "$bin/tvm-run" "$tmp/mlp.pkg" --device cuda --random --dim B=256 --bench 3
    done
    printf '#!/bin/sh\nexec "%s" --tool memcheck --error-exitcode 9 --print-limit 5 "%s" "$@"\n' "$cs" "$bin/tvm-run" >"$tmp/tvm-run-cs"
    chmod +x "$tmp/tvm-run-cs"
    TESTS_FILTER='tensor|linear|matmul|softmax|mlp|nn_|broadcast|reduce' \
      run "compute-sanitizer memcheck: golden tensor programs, interpreted" "$here/run_programs.sh" "$tmp/tvm-run-cs" --device cuda
    TESTS_FILTER='tensor|linear|matmul|softmax|mlp|nn_|broadcast|reduce' \
      run "compute-sanitizer memcheck: golden tensor programs, packaged" "$here/run_programs.sh" --pack "$bin/tvm-pack" "$tmp/tvm-run-cs" --device cuda
  fi
fi

echo "gpu: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
