#!/usr/bin/env bash
# The GPU measurements of issue 5 in one command, for a machine with an NVIDIA
# GPU (docs/benchmarks.md, "CUDA (issue 5)", says what each figure is):
#
#   bash tools/gpu_bench.sh [PHASE...]
#
# Runs from the repository root whatever the current directory. Phases, in
# this order (default: all of them):
#   smi    nvidia-smi                                  -> $OUT/nvidia_smi.txt
#   deps   the build's Debian -dev packages: present already, or unpacked from
#          build/gpu-debs (see fetch-debs), or installed by cmake/install-deps.sh
#   build  configure $BUILD_DIR (Release, CUDA on, Ninja) and build the CUDA
#          tests and mezo_cuda_benchmark               -> $OUT/build.txt
#   test   ctest -L cuda --output-on-failure           -> $OUT/cuda_tests.txt
#   torch  tools/torch_reference_step.py for each of $TORCH_RUNS, if python3 has
#          torch and transformers                      -> $OUT/torch_reference.{txt,json}
#   bench  mezo_cuda_benchmark, given the torch results -> $OUT/cuda_benchmark.{txt,json}
# and, never by default:
#   fetch-debs  on a Debian 12 machine with apt (a developer's): download those
#          packages into build/gpu-debs, for a GPU machine that reaches no
#          package registry; carry build/gpu-debs there.
#
# A failing phase is reported (on screen and in $OUT/status.txt) and the next
# one runs. Exit status: non-zero if the build or the CUDA tests failed.
# Results also stay in $BUILD_DIR/results, so the phases can be split across
# calls on the same machine (e.g. "smi deps build test", then "torch bench").
#
# Environment: OUT (default $BUILD_DIR/out), BUILD_DIR (build/gpu), JOBS
# (nproc), CUDA_ARCH (default: the GPU's compute capability, e.g. 90),
# CMAKE_ARGS (more configure flags), DEBS_DIR (build/gpu-debs),
# BENCH_ARGS (Google Benchmark flags; default 3 repetitions), TORCH_RUNS
# (default "base:fp32 base:fp32:tf32 base:bf16 large:fp32 large:fp32:tf32 large:bf16").
set -uo pipefail  # no -e: every phase runs, each one's failure is recorded
cd "$(dirname "$0")/.." || exit 2

BUILD_DIR=${BUILD_DIR:-build/gpu}
OUT=${OUT:-$BUILD_DIR/out}
JOBS=${JOBS:-$(nproc)}
BENCH_ARGS=${BENCH_ARGS:---benchmark_repetitions=3}
CMAKE_ARGS=${CMAKE_ARGS:-}
TORCH_RUNS=${TORCH_RUNS:-base:fp32 base:fp32:tf32 base:bf16 large:fp32 large:fp32:tf32 large:bf16}
DEBS_DIR=${DEBS_DIR:-build/gpu-debs}  # .deb files carried to a machine without apt access
DEPS_PREFIX=$BUILD_DIR/deps      # where they are unpacked (never into /)
RESULTS=$BUILD_DIR/results       # torch JSONs, kept between calls
mkdir -p "$OUT" "$RESULTS"
OUT=$(realpath "$OUT")

# The Debian packages the library, its tests and the benchmark need (the
# examples, MPI and OpenBLAS are left out of this build).
DEB_PACKAGES=(libeigen3-dev libfmt-dev libfmt9 nlohmann-json3-dev libicu-dev libicu72
              libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian)
HEADERS=(eigen3/Eigen/Core fmt/core.h nlohmann/json.hpp unicode/uchar.h gtest/gtest.h benchmark/benchmark.h)

build_failed=0
tests_failed=0

note() { printf '%s\n' "$*" | tee -a "$OUT/status.txt"; }

# run_phase NAME COMMAND...: runs it, records "ok", "skipped" (exit 3: nothing
# to run it with) or "FAILED (exit N)", and the time.
run_phase() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==== $name ===="
  "$@" || rc=$?
  if [[ $rc -eq 0 ]]; then
    note "phase $name: ok ($((SECONDS - start)) s)"
  elif [[ $rc -eq 3 ]]; then
    note "phase $name: skipped (see its output)"
  else
    note "phase $name: FAILED (exit $rc, $((SECONDS - start)) s)"
  fi
  return $rc
}

headers_present() {
  local h
  for h in "${HEADERS[@]}"; do
    [[ -e /usr/include/$h || -e $DEPS_PREFIX/usr/include/$h ]] || return 1
  done
}

# Makes packages unpacked under $DEPS_PREFIX visible to CMake, the compiler
# and the programs (a no-op when there are none).
use_deps_prefix() {
  [[ -d $DEPS_PREFIX/usr/include ]] || return 0
  local p lib
  p=$(realpath "$DEPS_PREFIX")/usr
  lib=$p/lib/$(uname -m)-linux-gnu
  export CMAKE_PREFIX_PATH="$p${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export ICU_ROOT=$p
  export CPATH="$p/include${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

phase_smi() {
  { nvidia-smi && nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
      --format=csv; } >"$OUT/nvidia_smi.txt" 2>&1
  local rc=$?
  cat "$OUT/nvidia_smi.txt"
  return $rc
}

phase_deps() {
  if headers_present; then
    echo "build dependencies present"
    return 0
  fi
  if compgen -G "$DEBS_DIR/*.deb" >/dev/null; then
    echo "unpacking $DEBS_DIR/*.deb into $DEPS_PREFIX"
    mkdir -p "$DEPS_PREFIX"
    local f
    for f in "$DEBS_DIR"/*.deb; do
      dpkg-deb -x "$f" "$DEPS_PREFIX" || return 1
    done
    headers_present || { echo "still missing headers after unpacking"; return 1; }
    return 0
  fi
  echo "build dependencies missing and no $DEBS_DIR/*.deb: trying cmake/install-deps.sh (needs apt and a registry)"
  timeout 900 bash cmake/install-deps.sh
}

phase_build() {
  local arch=${CUDA_ARCH:-}
  if [[ -z $arch ]] && command -v nvidia-smi >/dev/null; then
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
  fi
  local cuda_tests=() f
  for f in tests/cuda_*_test.cpp; do cuda_tests+=("$(basename "$f" .cpp)"); done
  # CMAKE_POLICY_VERSION_MINIMUM: insurance for a CMake 4 (pip's) reading older
  # packages' config files; CMake 3 warns that it is unused.
  # shellcheck disable=SC2086  # CMAKE_ARGS is a list of flags
  {
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEZO_ENABLE_CUDA=ON \
      -DMEZO_ENABLE_MPI=OFF -DMEZO_BUILD_EXAMPLES=OFF -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
      ${arch:+-DCMAKE_CUDA_ARCHITECTURES=$arch} $CMAKE_ARGS &&
      cmake --build "$BUILD_DIR" -j "$JOBS" --target mezo_cuda_benchmark "${cuda_tests[@]}"
  } 2>&1 | tee "$OUT/build.txt"
}

phase_test() {
  ctest --test-dir "$BUILD_DIR" -L cuda --output-on-failure --no-tests=error 2>&1 | tee "$OUT/cuda_tests.txt"
}

phase_torch() {
  local why
  if ! why=$(python3 -c 'import torch, transformers; assert torch.cuda.is_available(), "torch sees no CUDA device"' 2>&1); then
    echo "torch reference not run: ${why##*$'\n'}" | tee "$OUT/torch_reference.txt"
    return 3
  fi
  rm -f "$RESULTS"/torch_*.json
  local run model dtype tf32 rc=0
  : >"$OUT/torch_reference.txt"
  for run in $TORCH_RUNS; do
    IFS=: read -r model dtype tf32 <<<"$run"
    PYTHONUNBUFFERED=1 python3 tools/torch_reference_step.py --model "$model" --dtype "$dtype" \
      ${tf32:+--tf32} --json "$RESULTS/torch_${model}_${dtype}${tf32:+_tf32}.json" 2>&1 |
      tee -a "$OUT/torch_reference.txt" || rc=1
  done
  # One file for all runs: the runner brings back at most 8 files.
  python3 - "$RESULTS" "$OUT/torch_reference.json" <<'EOF'
import glob, json, sys
runs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/torch_*.json"))]
json.dump(runs, open(sys.argv[2], "w"), indent=2)
EOF
  return $rc
}

phase_bench() {
  local bin=$BUILD_DIR/benchmarks/mezo_cuda_benchmark refs=() f
  [[ -x $bin ]] || { echo "$bin was not built" | tee "$OUT/cuda_benchmark.txt"; return 1; }
  for f in "$RESULTS"/torch_*.json; do [[ -e $f ]] && refs+=("--torch_reference=$f"); done
  [[ ${#refs[@]} -gt 0 ]] || echo "no torch reference results in $RESULTS: the step ratios to PyTorch are left out"
  # shellcheck disable=SC2086  # BENCH_ARGS is a list of flags
  "$bin" "${refs[@]}" --benchmark_out="$OUT/cuda_benchmark.json" --benchmark_out_format=json $BENCH_ARGS 2>&1 |
    tee "$OUT/cuda_benchmark.txt"
}

phase_fetch_debs() {
  mkdir -p "$DEBS_DIR"
  (cd "$DEBS_DIR" && apt-get download "${DEB_PACKAGES[@]}") || return 1
  du -sh "$DEBS_DIR"
  echo "carry $DEBS_DIR to the GPU machine (the default, build/gpu-debs, is one that git ignores)"
}

phases=("$@")
[[ ${#phases[@]} -gt 0 ]] || phases=(smi deps build test torch bench)
echo "gpu_bench.sh $(date -u +%FT%TZ), phases: ${phases[*]}" >"$OUT/status.txt"
use_deps_prefix
for phase in "${phases[@]}"; do
  case $phase in
    smi) run_phase smi phase_smi ;;
    deps) run_phase deps phase_deps && use_deps_prefix ;;
    build) run_phase build phase_build || build_failed=1 ;;
    test)
      if [[ $build_failed -eq 1 ]]; then
        note "phase test: not run (build failed)"
        tests_failed=1
      else
        run_phase test phase_test || tests_failed=1
      fi
      ;;
    torch) run_phase torch phase_torch ;;
    bench) run_phase bench phase_bench ;;
    fetch-debs) run_phase fetch-debs phase_fetch_debs ;;
    *)
      note "unknown phase '$phase' (smi deps build test torch bench fetch-debs)"
      exit 2
      ;;
  esac
done
[[ $build_failed -eq 0 && $tests_failed -eq 0 ]]
