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
