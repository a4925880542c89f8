#!/usr/bin/env bash
# A run killed after its last step but before that step's evaluation (when
# --steps is not a multiple of --eval-every) must evaluate it on --resume, and
# end exactly as the uninterrupted run did. The kill moment is too narrow to hit
# by chance, so the run folder it leaves is rebuilt exactly from the finished
# run: run.json as it was after the previous evaluation, metrics.jsonl without
# the last evaluation line (trajectory.mezotrj already holds every step).
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model bert-base-uncased model
"$SST2" train --model model --data "$SHARED/SST-2" --out A --steps 25 --eval-every 10 --batch 8 \
  --max-eval-examples 50 --lr 1e-3 --threads 1 >A.log 2>&1 || { cat A.log; fail "the uninterrupted run failed"; }
cp -r A B
python3 - <<'PY' || fail "cannot rebuild the killed run's folder"
import json
j = json.load(open("B/run.json"))
del j["result"]
evals = j["evaluations"]
assert [e["step"] for e in evals] == [10, 20, 25], evals
evals.pop()
j["last_eval_step"] = 20
j["steps_done"] = 20
best = max(evals, key=lambda e: e["dev_accuracy"])  # the first best, as the trainer keeps it
j["best_step"], j["best_dev_accuracy"] = best["step"], best["dev_accuracy"]
j["options"]["out_dir"] = "B"
json.dump(j, open("B/run.json", "w"), indent=2)
lines = open("B/metrics.jsonl").read().splitlines(keepends=True)
last_eval = max(i for i, l in enumerate(lines) if "dev_accuracy" in l)
assert json.loads(lines[last_eval])["step"] == 24
del lines[last_eval]
open("B/metrics.jsonl", "w").writelines(lines)
PY
"$SST2" train --resume --out B >B.log 2>&1 || { cat B.log; fail "--resume failed"; }
cmp A/trajectory.mezotrj B/trajectory.mezotrj || fail "--resume changed trajectory.mezotrj"
python3 - <<'PY' || fail "the resumed run does not end as the uninterrupted one (see above)"
import json, sys
a, b = json.load(open("A/run.json")), json.load(open("B/run.json"))
ok = True
for key in ["evaluations", "best_step", "best_dev_accuracy", "last_eval_step", "steps_done"]:
    if a[key] != b[key]:
        print(f"run.json {key}: uninterrupted {a[key]}, resumed {b[key]}", file=sys.stderr)
        ok = False
for key in ["best_step", "best_dev_accuracy", "test_accuracy", "steps"]:
    if a["result"][key] != b["result"][key]:
        print(f"run.json result.{key}: uninterrupted {a['result'][key]}, resumed {b['result'][key]}", file=sys.stderr)
        ok = False
def lines(d):
    out = []
    for l in open(f"{d}/metrics.jsonl"):
        j = json.loads(l)
        j.pop("elapsed_s", None)
        out.append(j)
    return out
if lines("A") != lines("B"):
    print("metrics.jsonl differs (elapsed_s aside)", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
note "PASS: the last step's evaluation is made on --resume"
