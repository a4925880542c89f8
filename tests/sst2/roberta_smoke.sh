#!/usr/bin/env bash
# A short RoBERTa run (random weights, the real roberta-base vocabulary): it must
# finish with exit 0, warn loudly that the weights are random, and write a
# complete run folder.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/roberta-base/vocab.json tokenizers/roberta-base/merges.txt \
  SST-2/k-shot/16-42/train.tsv SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model roberta-base model
[[ -f model/vocab.json && -f model/merges.txt ]] || fail "random-model did not copy the BPE tokenizer files"
rc=0
"$SST2" train --model model --data "$SHARED/SST-2" --out run --steps 5 --eval-every 5 --batch 4 \
  --max-eval-examples 16 --threads 1 >out.txt 2>err.txt || rc=$?
cat err.txt out.txt
[[ $rc -eq 0 ]] || fail "the RoBERTa smoke run exited with status $rc"
grep -q "WARNING: .* holds RANDOM weights" err.txt || fail "no RANDOM weights warning on stderr"
grep -q "its accuracy means NOTHING" err.txt || fail "the RANDOM weights warning does not say the accuracy means nothing"
grep -q "^roberta model, .* head mlm" err.txt || fail "the run did not report a RoBERTa model with the MLM head"
grep -q "^SST-2 k=16 seed=42, mlm head, cross_entropy objective, 5 steps" out.txt || fail "no summary on stdout"
for f in run.json trajectory.mezotrj metrics.jsonl; do [[ -s run/$f ]] || fail "run/$f is missing or empty"; done
python3 - <<'PY' || fail "run folder contents are wrong (see above)"
import json, sys
j = json.load(open("run/run.json"))
r = j["result"]
assert j["steps_done"] == 5 and r["steps"] == 5, (j["steps_done"], r["steps"])
assert j["options"]["label_words"] == [" terrible", " great"], j["options"]["label_words"]
assert j["options"]["template"] == "{sentence} It was{mask}.", j["options"]["template"]
assert 0.0 <= r["test_accuracy"] <= 1.0, r
steps = [json.loads(l)["step"] for l in open("run/metrics.jsonl") if "loss_plus" in l]
assert steps == list(range(5)), steps
PY
note "PASS: RoBERTa smoke run finished and warned about random weights"
