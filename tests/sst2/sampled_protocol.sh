#!/usr/bin/env bash
# The sampled data protocol (--num-train/--num-dev, the MeZO paper's OPT
# setting) on a tiny random encoder, with a GLUE folder made here whose
# sentences are all different: the run folder holds the examples drawn
# (train and dev disjoint, all from GLUE train, test = GLUE dev byte for
# byte), the same seed draws the same examples, another seed others; k-shot
# stays the encoders' default; conflicting or impossible options are errors.
# (That the draw is NumPy's permutation is tests/sst2/sampled_split_test.cpp.)
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model bert-base-uncased model
mkdir -p glue
{
  printf 'sentence\tlabel\n'
  for i in $(seq 1 60); do printf 'a film numbered %d \t%d\n' "$i" $((i % 2)); done
} >glue/train.tsv
{
  printf 'sentence\tlabel\n'
  for i in $(seq 1 10); do printf 'a test film %d\t%d\n' "$i" $((i % 2)); done
} >glue/dev.tsv
run=(train --model model --data . --steps 2 --eval-every 2 --batch 4 --threads 1)

"$SST2" "${run[@]}" --num-train 20 --num-dev 10 --data-seed 7 --out A >A.log 2>&1 || { cat A.log; fail "run A failed"; }
split=A/data/sampled-20-10-7
for f in train dev test; do [[ -f $split/$f.tsv ]] || fail "$split/$f.tsv was not written"; done
grep -q "^SST-2 sampled 20+10 seed=7, " A.log || { cat A.log; fail "no 'SST-2 sampled 20+10 seed=7' summary"; }
grep -q "20 train / 10 dev / 10 test" A.log || { cat A.log; fail "run A does not report 20 / 10 / 10 examples"; }
cmp "$split/test.tsv" glue/dev.tsv || fail "test.tsv is not GLUE's dev.tsv byte for byte"
python3 - "$split" <<'PY' || fail "the sampled split is wrong (see above)"
import sys
split = sys.argv[1]
def lines(path):
    rows = open(path).read().split("\n")
    assert rows[0] == "sentence\tlabel", (path, rows[0])
    assert rows[-1] == "", path
    return rows[1:-1]
train, dev, glue = lines(f"{split}/train.tsv"), lines(f"{split}/dev.tsv"), lines("glue/train.tsv")
assert len(train) == 20 and len(dev) == 10, (len(train), len(dev))
assert not set(train) & set(dev), "train and dev share examples"
assert len(set(train)) == 20 and len(set(dev)) == 10, "an example is drawn twice"
assert set(train) | set(dev) <= set(glue), "an example is not from GLUE train"
assert train != glue[:20], "the training examples are GLUE's first 20: nothing was drawn"
PY
[[ $(python3 -c "import json; print(json.load(open('A/run.json'))['options']['protocol'])") == sampled ]] ||
  fail "run.json does not record protocol sampled"
note "the run folder holds 20 train + 10 dev examples drawn from GLUE train, disjoint; test = GLUE dev"

"$SST2" "${run[@]}" --num-train 20 --num-dev 10 --data-seed 7 --out B >B.log 2>&1 || { cat B.log; fail "run B failed"; }
for f in train dev; do cmp "$split/$f.tsv" "B/data/sampled-20-10-7/$f.tsv" || fail "the same seed drew other examples ($f.tsv)"; done
"$SST2" "${run[@]}" --num-train 20 --num-dev 10 --data-seed 8 --out C >C.log 2>&1 || { cat C.log; fail "run C failed"; }
cmp -s "$split/train.tsv" C/data/sampled-20-10-8/train.tsv && fail "--data-seed 8 drew the examples seed 7 did"
note "the same seed draws the same examples, another seed others"

# An encoder without protocol options: k-shot (the shared 16-42 split).
"$SST2" train --model model --data "$SHARED/SST-2" --steps 2 --eval-every 2 --batch 4 --threads 1 \
  --max-eval-examples 8 --out D >D.log 2>&1 || { cat D.log; fail "run D failed"; }
grep -q "^SST-2 k=16 seed=42, " D.log || { cat D.log; fail "an encoder's default protocol is not k-shot"; }
[[ $(python3 -c "import json; print(json.load(open('D/run.json'))['options']['protocol'])") == kshot ]] ||
  fail "run.json does not record protocol kshot"
note "encoders default to k-shot"

expect_error both "give one or the other" "${run[@]}" --k 4 --num-train 10 --out E1
expect_error kshot_num "--num-train/--num-dev are options of --protocol sampled" "${run[@]}" \
  --protocol kshot --num-dev 5 --out E2
expect_error sampled_k "--k is an option of --protocol kshot" "${run[@]}" --protocol sampled --k 4 --out E3
expect_error too_many "--num-train 50 + --num-dev 20 is more than the 60 examples" "${run[@]}" \
  --num-train 50 --num-dev 20 --out E4
expect_error zero "--num-train must be >= 1, got 0" "${run[@]}" --num-train 0 --out E5
expect_error protocol "--protocol must be auto, kshot or sampled, got 'opt'" "${run[@]}" --protocol opt --out E6
mkdir -p no_glue
expect_error no_glue "the sampled protocol needs GLUE's train.tsv and dev.tsv" train --model model \
  --data no_glue --protocol sampled --steps 2 --out E7
note "PASS"
