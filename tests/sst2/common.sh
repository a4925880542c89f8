# shellcheck shell=bash
# Sourced by the tests/sst2/*.sh test scripts (not a test itself). Each test is
#   bash tests/sst2/NAME.sh MEZO_SST2 SHARED_DATA_DIR WORK_DIR
# (tests/sst2/CMakeLists.txt registers them with ctest, label "sst2"). A test
# exits 0 when it passes, 77 when it skips (ctest SKIP_RETURN_CODE: the shared
# data it needs is absent) and anything else when it fails. WORK_DIR is wiped
# and becomes the working folder.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 MEZO_SST2 SHARED_DATA_DIR WORK_DIR" >&2
  exit 2
fi
SST2=$(realpath -m -- "$1")
SHARED=$(realpath -m -- "$2")
WORK=$(realpath -m -- "$3")
TEST_NAME=$(basename "$0" .sh)

fail() {
  echo "FAIL [$TEST_NAME]: $*" >&2
  exit 1
}
skip() {
  echo "SKIP [$TEST_NAME]: $*"
  exit 77
}
note() { echo "[$TEST_NAME] $*"; }

[[ -x $SST2 ]] || fail "mezo-sst2 is not built or not executable: $SST2"
rm -rf -- "$WORK"
mkdir -p -- "$WORK"
cd -- "$WORK"

# require_shared PATH...: skips the test unless every PATH exists under the shared data folder.
require_shared() {
  local f
  for f in "$@"; do
    [[ -e $SHARED/$f ]] || skip "needs $SHARED/$f, which is absent (the shared data folder ../shared/data" \
      "is not part of the repository; set -DMEZO_SHARED_DATA_DIR=... to point at it)"
  done
}

# make_model TOKENIZER_NAME OUT_DIR: a tiny random model with a real vocabulary
# from $SHARED/tokenizers/TOKENIZER_NAME.
make_model() {
  "$SST2" random-model --tokenizer "$SHARED/tokenizers/$1" --out "$2" --hidden 32 --layers 1 >/dev/null ||
    fail "random-model --tokenizer $SHARED/tokenizers/$1 failed"
  [[ -f $2/model.safetensors && -f $2/RANDOM_WEIGHTS ]] || fail "random-model wrote no model in $2"
}

# expect_error NAME PHRASE ARGS...: mezo-sst2 ARGS fails with status 1 or 2 and says PHRASE.
expect_error() {
  local name=$1 phrase=$2 rc=0
  shift 2
  "$SST2" "$@" >"$name.log" 2>&1 || rc=$?
  [[ $rc -eq 1 || $rc -eq 2 ]] || { cat "$name.log"; fail "$name: exit status $rc, expected 1 or 2"; }
  grep -qF -- "$phrase" "$name.log" || { cat "$name.log"; fail "$name: no '$phrase'"; }
}

# same_runs STEPS REF OTHER...: the runs in folders OTHER... equal run REF bit
# for bit -- the trajectory log (which replays to the weights), every metrics
# line but its wall-clock time, and the zero-shot, dev and test results in
# run.json -- and REF logged STEPS steps whose losses were not all the same
# (so that something was compared).
same_runs() {
  local steps=$1 ref=$2 other
  shift 2
  for other in "$@"; do
    cmp "$ref/trajectory.mezotrj" "$other/trajectory.mezotrj" ||
      fail "trajectory.mezotrj of $ref and $other differ"
  done
  python3 - "$steps" "$ref" "$@" <<'PY' || fail "metrics or results of $ref and $* differ (see above)"
import json, sys
steps, ref, others = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def metrics(d):
    out = []
    for line in open(f"{d}/metrics.jsonl"):
        j = json.loads(line)
        j.pop("elapsed_s", None)
        out.append(j)
    return out
def results(d):
    j = json.load(open(f"{d}/run.json"))
    return j["zero_shot"], j["evaluations"], j["best_step"], j["result"]["test_accuracy"]
ok = True
for other in others:
    if metrics(ref) != metrics(other):
        print(f"metrics.jsonl of {ref} and {other} differ", file=sys.stderr); ok = False
    if results(ref) != results(other):
        print(f"run.json results of {ref} and {other} differ", file=sys.stderr); ok = False
losses = [m["loss_plus"] for m in metrics(ref) if "loss_plus" in m]
if len(losses) != steps or len(set(losses)) < 2:
    print(f"run {ref} logged {len(losses)} steps (expected {steps}) with {len(set(losses))} "
          "distinct losses: nothing was compared", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
}
