#!/usr/bin/env bash
# mezo-train --task: the MeZO paper's other tasks end to end.
#  - each kind on the tiny decoder fixture: classification (RTE, CB with three
#    answers, BoolQ drawn from val.jsonl alone), multiple choice (COPA, each
#    example its own candidates) and generation (SQuAD, DROP: F1 of greedy
#    answers): run.json keeps the task, the summary names the task's split and
#    answers or metric; --objective f1 trains a generation task on its
#    answers' F1;
#  - --steps 0 evaluates zero-shot only; --demos N in context (the paper's
#    ICL baseline) for each kind and SST-2;
#  - a COPA run killed after two steps and resumed ends bit for bit where the
#    uninterrupted run does (the task's data and prompts are rebuilt the same);
#  - --task-file: the user's own classification and multiple-choice data;
#  - a real-width decoder (hidden 384, a 50,265-token vocabulary) trains on RTE,
#    COPA and SQuAD (one kind each);
#  - what --task refuses: an unknown task, a masked LM, --template, k-shot, a
#    data folder without the task's files; what --demos refuses.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared superglue/RTE/train.jsonl superglue/RTE/val.jsonl superglue/COPA/train.jsonl \
  superglue/COPA/val.jsonl superglue/CB/train.jsonl superglue/BoolQ/val.jsonl squad/dev-v1.1.json \
  drop/val-1000.jsonl \
  tokenizers/roberta-base/vocab.json tokenizers/bert-base-uncased/vocab.txt
FIXTURE=$(realpath -- "$(dirname -- "${BASH_SOURCE[0]}")/../fixtures/decoder/tiny-llama/model-f32.gguf")
tiny_options=(--model "$FIXTURE" --num-train 32 --num-dev 16 --max-eval-examples 16 --eval-every 2 --threads 1
  --lr 1e-3)
tiny=(train "${tiny_options[@]}" --data "$SHARED")

for task in rte cb boolq copa; do
  "$SST2" "${tiny[@]}" --task $task --steps 4 --out $task >$task.log 2>&1 || { cat $task.log; fail "--task $task failed"; }
  grep -q "^$task sampled 32+16 seed=42 from .*, lm head, cross_entropy objective, 4 steps" $task.log ||
    { cat $task.log; fail "--task $task: no summary"; }
  grep -q "prompt 'the MeZO paper's $task template'" $task.log || { cat $task.log; fail "--task $task: no template"; }
  python3 - $task <<'PY' || fail "--task $task: run.json"
import json, sys
j = json.load(open(f"{sys.argv[1]}/run.json"))
assert j["options"]["task"] == sys.argv[1], j["options"]["task"]
assert "result" in j and 0.0 <= j["result"]["test_accuracy"] <= 1.0, j.get("result")
PY
done
grep -q "label words 'Yes', 'No', 'Maybe'" cb.log || fail "CB does not have three answers"
grep -q "no train split here" boolq.log || fail "BoolQ does not say where its train examples came from"
grep -q "label words 'choice 1', 'choice 2'" copa.log || fail "COPA's candidates are not its choices"
note "rte, cb, boolq and copa on the tiny decoder"

# --steps 0: zero-shot only; the test accuracy is the zero-shot one.
"$SST2" "${tiny[@]}" --task cb --steps 0 --out zero >zero.log 2>&1 || { cat zero.log; fail "--steps 0 failed"; }
grep -q "zero-shot only (--steps 0)" zero.log || { cat zero.log; fail "--steps 0: no summary"; }
python3 -c 'import json; r = json.load(open("zero/run.json"))["result"]; assert r["test_accuracy"] == r["zero_shot_test_accuracy"], r' ||
  fail "--steps 0: the test accuracy is not the zero-shot one"

# Kill after two logged steps, resume, compare with the uninterrupted run.
"$SST2" "${tiny[@]}" --task copa --steps 6 --out A >A.log 2>&1 || { cat A.log; fail "the uninterrupted COPA run failed"; }
"$SST2" "${tiny[@]}" --task copa --steps 6 --out B >B.log 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -f B/metrics.jsonl ]] && (($(grep -c '"loss_plus"' B/metrics.jsonl || true) >= 2)) && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
"$SST2" train --resume --out B >>B.log 2>&1 || { cat B.log; fail "--resume of the COPA run failed"; }
same_runs 6 A B
note "a killed COPA run resumes bit for bit"

# Generation (SQuAD, DROP): trained on the gold answer's NLL, judged by the F1
# of greedy answers; run.json names the metric and keeps the exact match.
for task in squad drop; do
  "$SST2" "${tiny[@]}" --task $task --steps 2 --out $task >$task.log 2>&1 ||
    { cat $task.log; fail "--task $task failed"; }
  grep -q "^$task sampled 32+16 seed=42 from .* (no train split here), lm head, answer_nll objective, 2 steps .*; metric F1" $task.log ||
    { cat $task.log; fail "--task $task: no summary"; }
  grep -q "zero-shot: dev F1 .*, test F1 .* (exact match " $task.log || { cat $task.log; fail "--task $task: no zero-shot F1"; }
  python3 - $task <<'PY' || fail "--task $task: run.json"
import json, sys
r = json.load(open(f"{sys.argv[1]}/run.json"))["result"]
assert r["metric"] == "f1" and 0.0 <= r["test_exact_match"] <= r["test_accuracy"] <= 1.0, r
PY
done
# --objective f1: the answers' −F1 itself, every loss in [−1, 0].
"$SST2" "${tiny[@]}" --task squad --objective f1 --steps 2 --out squad-f1 >squad-f1.log 2>&1 ||
  { cat squad-f1.log; fail "--task squad --objective f1 failed"; }
python3 - <<'PY' || fail "--objective f1: run.json or metrics"
import json
assert json.load(open("squad-f1/run.json"))["options"]["objective"] == "f1"
steps = [json.loads(l) for l in open("squad-f1/metrics.jsonl") if '"loss_plus"' in l]
assert len(steps) == 2 and all(-1 <= s[k] <= 0 for s in steps for k in ("loss_plus", "loss_minus")), steps
PY
expect_error f1_sst2 "--objective f1 is for generation tasks" train "${tiny_options[@]}" --data "$SHARED/SST-2" \
  --objective f1 --out E12
expect_error nll_only "--objective cross_entropy: a generation task trains on answer_nll" "${tiny[@]}" --task squad \
  --objective cross_entropy --out E6
expect_error nll_for_generation "--objective answer_nll: answer_nll is for generation tasks" "${tiny[@]}" --task rte \
  --objective answer_nll --out E7
note "squad and drop on the tiny decoder"

# In context (--demos, the paper's ICL baseline): the untrained model with
# demonstrations before every prompt, --steps 0 implied; classification,
# multiple choice, generation and SST-2 itself.
for task in rte copa squad sst2; do
  run=("${tiny[@]}" --task $task)
  [[ $task == sst2 ]] && run=(train "${tiny_options[@]}" --data "$SHARED/SST-2")
  "$SST2" "${run[@]}" --demos 3 --out icl-$task >icl-$task.log 2>&1 ||
    { cat icl-$task.log; fail "--demos 3 --task $task failed"; }
  grep -q "^in-context (3 demonstrations): dev .*, test " icl-$task.log ||
    { cat icl-$task.log; fail "--demos --task $task: no in-context line"; }
  grep -q "in context: 3 demonstrations per example" icl-$task.log ||
    { cat icl-$task.log; fail "--demos --task $task: the data line does not say so"; }
  python3 - icl-$task <<'PY' || fail "--demos --task $task: run.json"
import json, sys
j = json.load(open(f"{sys.argv[1]}/run.json"))
assert j["options"]["demos"] == 3 and j["options"]["steps"] == 0, j["options"]
r = j["result"]
assert r["steps"] == 0 and r["test_accuracy"] == r["zero_shot_test_accuracy"], r
PY
done
expect_error demos_train "it does not train: leave out --steps 5 or give --steps 0" "${tiny[@]}" --task rte \
  --demos 2 --steps 5 --out E8
expect_error demos_pool "40 demonstrations asked for, from 32 training examples" "${tiny[@]}" --task rte \
  --demos 40 --out E9
expect_error demos_negative "--demos must be >= 0, got -1" "${tiny[@]}" --task rte --demos -1 --out E10
note "--demos: rte, copa, squad and sst2 in context"

# Your own task (--task-file): SST-2 rows as JSONL with a template of your own,
# and a multiple-choice file; the run resumes from another folder.
python3 - "$SHARED/SST-2/glue/train.tsv" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")][1:121]
with open("reviews.jsonl", "w") as f:
    for text, label in rows:
        f.write(json.dumps({"sentence": text.strip(), "label": int(label)}) + "\n")
json.dump({"name": "reviews", "train": "reviews.jsonl", "template": "Review: {sentence}\nSentiment:",
           "label_field": "label", "label_words": {"0": " negative", "1": " positive"}}, open("reviews.json", "w"))
with open("pick.jsonl", "w") as f:
    for i in range(60):
        f.write(json.dumps({"q": f"Which is {i % 3}?", "options": [" zero", " one", " two"], "answer": i % 3}) + "\n")
json.dump({"name": "pick", "train": "pick.jsonl", "template": "Q: {q}\nA:", "choices_field": "options",
           "answer_field": "answer", "num_choices": 3, "num_dev": 8}, open("pick.json", "w"))
PY
"$SST2" train --model "$FIXTURE" --task-file reviews.json --num-train 32 --num-dev 16 --steps 4 --eval-every 2 \
  --threads 1 --out own >own.log 2>&1 || { cat own.log; fail "--task-file reviews.json failed"; }
grep -q "^reviews sampled 32+16 seed=42 from the 60 reviews.jsonl examples not in test (test drawn from the same file)" own.log ||
  { cat own.log; fail "--task-file: no summary"; }
grep -qF "prompt 'Review: {sentence}\nSentiment:', label words ' negative', ' positive'" own.log ||
  { cat own.log; fail "--task-file: template and label words"; }
(cd own && "$SST2" train --resume --out . >>../own.log 2>&1) || { cat own.log; fail "--task-file: --resume from the run folder"; }
"$SST2" train --model "$FIXTURE" --task-file pick.json --steps 2 --eval-every 2 --threads 1 --out pick >pick.log 2>&1 ||
  { cat pick.log; fail "--task-file pick.json failed"; }
grep -q "label words 'choice 1', 'choice 2', 'choice 3'" pick.log || { cat pick.log; fail "--task-file: choices"; }
expect_error both_tasks "give one or the other" train --model "$FIXTURE" --task rte --task-file pick.json --out E0
note "--task-file: classification and multiple choice"

# Real width: hidden 384, the embedding 19.3M elements.
"$SST2" random-model --arch llama --tokenizer "$SHARED/tokenizers/roberta-base" --out wide --hidden 384 \
  --layers 1 >/dev/null || fail "random-model --hidden 384 failed"
for task in rte copa squad; do
  "$SST2" train --model wide --task $task --data "$SHARED" --num-train 64 --num-dev 16 --max-eval-examples 16 \
    --steps 2 --eval-every 2 --batch 16 --threads 2 --out wide-$task >wide-$task.log 2>&1 ||
    { cat wide-$task.log; fail "--task $task at hidden 384 failed"; }
  grep -q "2 steps at" wide-$task.log || { cat wide-$task.log; fail "--task $task at hidden 384: no steps"; }
done
note "rte, copa and squad at hidden 384"

# What --task refuses.
make_model bert-base-uncased bert
expect_error unknown "--task squad2: unknown task; the built-in tasks are sst2, rte" "${tiny[@]}" --task squad2 --out E1
expect_error masked "--task rte needs a causal LM" train --model bert --task rte --data "$SHARED" --out E2
expect_error masked_demos "in-context demonstrations need a causal LM" train --model bert --demos 2 \
  --data "$SHARED/SST-2" --out E11
expect_error template "--template is for sst2" "${tiny[@]}" --task rte --template '{sentence} ok' --out E3
expect_error kshot "--task rte uses the sampled protocol" "${tiny[@]}" --task rte --protocol kshot --out E4
mkdir -p empty
expect_error no_data "--task rte: cannot read" train --model "$FIXTURE" --task rte --data empty --out E5
note "PASS"
