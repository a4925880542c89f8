#!/usr/bin/env bash
# Fuzzing campaigns for the libFuzzer targets in tests/fuzz/targets.
#
#   tools/fuzz.sh [RUNS] [TARGET...]     # from the repository root
#
# Builds the `fuzz` preset (clang, ASan + UBSan), then runs each TARGET (all
# by default) for RUNS executions (default 1000000), starting from its seed
# corpus (tests/fuzz/corpus/TARGET, plus tests/fuzz/crashes/TARGET) and
# growing a working corpus in build/fuzz/campaign/TARGET. Crashing, leaking or
# hanging inputs land in build/fuzz/campaign/TARGET/artifacts; copy each into
# tests/fuzz/crashes/TARGET/ once fixed, so tests/fuzz_corpus_test.cpp keeps
# it fixed. Prints one summary line per target; exits non-zero if any target
# found something. JOBS=N runs N targets at once (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1000000}
shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in tests/fuzz/targets/*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
export MEZO_SHARED_DATA_DIR=${MEZO_SHARED_DATA_DIR:-$(realpath -m ../shared/data)}

campaign() {
  local t=$1 dir=build/fuzz/campaign/$1
  rm -rf "$dir/artifacts"  # findings of an earlier campaign: copied to tests/fuzz/crashes when fixed
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local seeds=(tests/fuzz/corpus/"$t")
  [[ -d tests/fuzz/crashes/$t ]] && seeds+=(tests/fuzz/crashes/"$t")
  local start=$SECONDS rc=0
  build/fuzz/tests/fuzz/fuzz_"$t" -runs="$runs" -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" "${seeds[@]}" \
    >"$dir/log.txt" 2>&1 || rc=$?
  local execs found
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1)
  found=$(find "$dir/artifacts" -type f | wc -l)
  printf '%-18s runs %9s  exit %d  findings %d  %4d s  corpus %d files  (log: %s)\n' \
    "$t" "${execs:-?}" "$rc" "$found" $((SECONDS - start)) "$(find "$dir/corpus" -type f | wc -l)" "$dir/log.txt"
  [[ $rc -eq 0 && $found -eq 0 ]]
}

status=0
export -f campaign
export runs
printf '%s\n' "${targets[@]}" | xargs -P "${JOBS:-1}" -I{} bash -c 'campaign "$@"' _ {} || status=1
exit $status
