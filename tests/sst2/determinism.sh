#!/usr/bin/env bash
# Determinism: the same options and seed give bit-identical runs -- the
# trajectory log (which replays to the weights bit for bit), every metrics
# line but its wall-clock time, and the results in run.json -- twice on one
# thread and once on two. The model is big enough that the forward's matrix
# products are cut into several pieces (src/model/cpu_layers.cpp, linear()),
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

for other in B C; do
  cmp A/trajectory.mezotrj $other/trajectory.mezotrj ||
    fail "trajectory.mezotrj of run A (1 thread) and $other ($(grep -o '"threads": [0-9]*' $other/run.json)) differ"
done
python3 - <<'PY' || fail "metrics or results differ between the runs (see above)"
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
for other in "BC":
    if metrics("A") != metrics(other):
        print(f"metrics.jsonl of A and {other} differ", file=sys.stderr); ok = False
    if results("A") != results(other):
        print(f"run.json results of A and {other} differ", file=sys.stderr); ok = False
steps = sum(1 for m in metrics("A") if "loss_plus" in m)
losses = {m["loss_plus"] for m in metrics("A") if "loss_plus" in m}
if steps != 30 or len(losses) < 2:
    print(f"run A logged {steps} steps with {len(losses)} distinct losses: nothing was compared", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
note "PASS: two 1-thread runs and a 2-thread run are bit-identical"
