#!/usr/bin/env bash
# Determinism: the same options and seed give bit-identical runs -- the
# trajectory log (which replays to the weights bit for bit), every metrics
# line but its wall-clock time, and the results in run.json -- twice on one
# thread and once on two. The model is big enough that the forward's matrix
# products are cut into several pieces (src/model/ops/linear.cpp, linear()),
# the part that used to depend on the thread count.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

"$SST2" random-model --tokenizer "$SHARED/tokenizers/bert-base-uncased" --out model --hidden 64 \
  --layers 2 >/dev/null || fail "random-model failed"
opts=(train --model model --data "$SHARED/SST-2" --steps 30 --eval-every 10 --batch 16
  --max-eval-examples 64 --lr 1e-4 --seed 5 --log-every 100)
for run in "A 1" "B 1" "C 2"; do
  set -- $run
  "$SST2" "${opts[@]}" --threads "$2" --out "$1" >"$1.log" 2>&1 || { cat "$1.log"; fail "run $1 failed"; }
done

same_runs 30 A B C
note "PASS: two 1-thread runs and a 2-thread run are bit-identical"
