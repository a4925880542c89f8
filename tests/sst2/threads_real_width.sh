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

for threads in 2 3; do
  cmp t1/trajectory.mezotrj "t$threads/trajectory.mezotrj" ||
    fail "trajectory.mezotrj on 1 and $threads threads differ"
done
python3 - <<'PY' || fail "metrics or results differ between thread counts (see above)"
import json, sys
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
for other in ("t2", "t3"):
    if metrics("t1") != metrics(other):
        print(f"metrics.jsonl on 1 thread and in {other} differ", file=sys.stderr); ok = False
    if results("t1") != results(other):
        print(f"run.json results on 1 thread and in {other} differ", file=sys.stderr); ok = False
steps = [m for m in metrics("t1") if "loss_plus" in m]
if len(steps) != 4:
    print(f"the 1-thread run logged {len(steps)} steps, not 4: nothing was compared", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
note "PASS: 4 steps at all-MiniLM-L6-v2's width give identical runs on 1, 2 and 3 threads"
