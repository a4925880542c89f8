#!/usr/bin/env bash
# Thread-count determinism of whole runs at a real width: 4 steps of mezo-sst2
# with --threads 1, 2 and 3 must write identical trajectories, metrics (but
# for wall-clock time) and results. The model is all-MiniLM-L6-v2 when it is
# in the model cache (tools/fetch_model.sh all-MiniLM-L6-v2 puts it there;
# $MEZO_MINILM names another folder), and otherwise a random model of
# its shape (6 layers, hidden 384, 12 heads, intermediate 1536, BERT's
# 30522-word vocabulary): the shape is what decides how a forward's work is
# split, and 1 and 2 threads once differed in step 0's loss on it.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

cache=${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/all-MiniLM-L6-v2
model=${MEZO_MINILM:-$cache}
if [[ -f $model/config.json && -f $model/model.safetensors ]]; then
  note "all-MiniLM-L6-v2 from $model"
else
  note "all-MiniLM-L6-v2 not in $model: a random model of its shape instead"
  model=random-minilm
  "$SST2" random-model --tokenizer "$SHARED/tokenizers/bert-base-uncased" --out "$model" \
    --hidden 384 --layers 6 >/dev/null || fail "random-model failed"
fi
# Batches of 16 short sentences (~300 tokens): most projections are then one
# piece, the case that broke; 8 dev and test examples keep the evaluations short.
opts=(train --model "$model" --data "$SHARED/SST-2" --steps 4 --eval-every 4 --batch 16
  --max-eval-examples 8 --seed 3 --log-every 100)
for threads in 1 2 3; do
  "$SST2" "${opts[@]}" --threads "$threads" --out "t$threads" >"t$threads.log" 2>&1 ||
    { cat "t$threads.log"; fail "the run on $threads thread(s) failed"; }
done

same_runs 4 t1 t2 t3
note "PASS: 4 steps at all-MiniLM-L6-v2's width give identical runs on 1, 2 and 3 threads"
