#!/usr/bin/env bash
# mezo-sst2 on causal LMs: a tiny random Llama with the real roberta-base
# vocabulary (an HF folder; " terrible" and " great" are single tokens, so the
# next-token head), and the committed tiny Llama GGUF fixture (a 256-entry
# byte-level vocabulary: multi-token label words, so the sequence head).
# Checks the prompt, head and protocol a decoder gets by default, the family
# defaults, bit-identical runs on 1 and 2 threads, kill/--resume, k-shot,
# --objective accuracy, multi-token --label-words, --peft lora|prefix and the
# options a decoder refuses.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/roberta-base/vocab.json tokenizers/roberta-base/merges.txt SST-2/glue/train.tsv \
  SST-2/glue/dev.tsv SST-2/k-shot/16-42/train.tsv
FIXTURE=$(realpath -- "$(dirname -- "${BASH_SOURCE[0]}")/../fixtures/decoder/tiny-llama/model-f32.gguf")

"$SST2" random-model --arch llama --tokenizer "$SHARED/tokenizers/roberta-base" --out dec --hidden 32 \
  --layers 1 >/dev/null || fail "random-model --arch llama failed"
[[ $(python3 -c "import json; print(json.load(open('dec/config.json'))['model_type'])") == llama ]] ||
  fail "random-model --arch llama did not write a llama config"
small=(train --model dec --data "$SHARED/SST-2" --max-eval-examples 16 --log-every 100)  # plus --threads
json_get() { python3 -c "import json; j = json.load(open('$1/run.json')); print($2)"; }

# The decoder's defaults: sampled protocol (1000 + 500), batch 16, prompt "{sentence} It was".
"$SST2" "${small[@]}" --threads 1 --steps 2 --eval-every 2 --out defaults >defaults.log 2>&1 ||
  { cat defaults.log; fail "the default decoder run failed"; }
grep -q "^llama dec, full-parameter: [0-9]* trainable parameters .*, head lm, 1000 train / 16 dev / 16 test" \
  defaults.log || { cat defaults.log; fail "no llama / head lm / 1000 train header"; }
grep -q "^SST-2 sampled 1000+500 seed=42, lm head, cross_entropy objective, 2 steps" defaults.log ||
  { cat defaults.log; fail "no summary of a sampled-protocol lm-head run"; }
[[ $(json_get defaults '(j["options"]["protocol"], j["options"]["batch_size"], j["options"]["template"], j["options"]["label_words"])') == \
  "('sampled', 16, '{sentence} It was', [' terrible', ' great'])" ]] ||
  fail "decoder defaults wrong: $(json_get defaults 'j["options"]')"
note "defaults: sampled 1000+500, batch 16, '{sentence} It was' + ' terrible'/' great', head lm"

# Same run on 1 and 2 threads: the same bits.
for threads in 1 2; do
  "$SST2" "${small[@]}" --num-train 48 --num-dev 16 --steps 12 --eval-every 4 --batch 8 --seed 3 \
    --lr 1e-3 --threads $threads --out T$threads >T$threads.log 2>&1 || { cat T$threads.log; fail "run T$threads failed"; }
done
cmp T1/trajectory.mezotrj T2/trajectory.mezotrj || fail "1 and 2 threads give different trajectories"
for key in 'j["zero_shot"]' 'j["evaluations"]' 'j["result"]["test_accuracy"]'; do
  [[ $(json_get T1 "$key") == "$(json_get T2 "$key")" ]] || fail "$key differs between 1 and 2 threads"
done
python3 - <<'PY' || fail "the decoder run's losses never moved"
import json
losses = {json.loads(l)["loss_plus"] for l in open("T1/metrics.jsonl") if "loss_plus" in l}
assert len(losses) > 1, losses
PY
note "1 and 2 threads: bit-identical"

# The calibration check: the share of the test set answered with each label,
# beside each label's true share (the first 16 sentences of GLUE dev).
python3 - "$SHARED/SST-2/glue/dev.tsv" <<'PY' || { cat T1.log; fail "test_answered / test_gold wrong"; }
import csv, json, sys
r = json.load(open("T1/run.json"))["result"]
rows = list(csv.DictReader(open(sys.argv[1], newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))[:16]
great = sum(row["label"] == "1" for row in rows) / 16
assert r["test_gold"] == [1 - great, great], (r["test_gold"], great)
answered = r["test_answered"]
assert len(answered) == 2 and abs(sum(answered) - 1) < 1e-12, answered
# Answering ' great' for a share a of the set where ' great' is right for a share g
# gets at least |a + g - 1| and at most 1 - |a - g| right.
a, acc = answered[1], r["test_accuracy"]
assert abs(a + great - 1) - 1e-12 <= acc <= 1 - abs(a - great) + 1e-12, (a, great, acc)
PY
grep -q "^  test answers: ' terrible' [0-9.]*%, ' great' [0-9.]*% (right answers: ' terrible' [0-9.]*%, ' great' [0-9.]*%)" \
  T1.log || { cat T1.log; fail "no 'test answers' line in the summary"; }
grep -q "^zero-shot: dev [0-9.]*%, test [0-9.]*% (answers ' terrible' [0-9.]*%, ' great' [0-9.]*%)" T1.log ||
  { cat T1.log; fail "no answer shares on the zero-shot line"; }
note "test answers per label reported beside the right answers' shares"

# Killed twice and resumed: the trajectory of the uninterrupted run T1.
kill_dir=K  # the run folder kill_at watches
step_lines() { if [[ -f $kill_dir/metrics.jsonl ]]; then grep -c '"loss_plus"' $kill_dir/metrics.jsonl || true; else echo 0; fi; }
kill_at() {
  local pid=$1 target=$2 deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && [[ $(step_lines) -lt $target ]]; do
    [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "run $kill_dir made no progress for 60 s"; }
    sleep 0.002
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
"$SST2" "${small[@]}" --threads 1 --num-train 48 --num-dev 16 --steps 12 --eval-every 4 --batch 8 --seed 3 \
  --lr 1e-3 --out K >K.log 2>&1 &
kill_at $! 3
"$SST2" train --resume --out K >>K.log 2>&1 &
kill_at $! 8
"$SST2" train --resume --out K >>K.log 2>&1 || { cat K.log; fail "the final --resume failed"; }
grep -q "resuming after step" K.log || fail "no resume happened (the run finished before a kill?)"
cmp T1/trajectory.mezotrj K/trajectory.mezotrj || fail "the resumed run's trajectory differs"
[[ $(json_get T1 'j["result"]["test_accuracy"]') == "$(json_get K 'j["result"]["test_accuracy"]')" ]] ||
  fail "the resumed run's test accuracy differs"
note "kill/--resume: the uninterrupted run's trajectory"
grep -q "^  12 steps at [0-9.]* steps/s" T1.log || { cat T1.log; fail "no step count and speed in the summary"; }
"$SST2" train --resume --out K >K-again.log 2>&1 || { cat K-again.log; fail "--resume of a finished run failed"; }
grep -q "^  no steps this session (the run had finished)" K-again.log ||
  { cat K-again.log; fail "--resume of a finished run reports a speed"; }
[[ $(json_get K 'j["result"]["steps_this_session"]') == 0 ]] || fail "run.json: steps this session of a finished run"
note "a finished run's --resume reprints it without a speed"

# --compute bf16: the same run as T1 with bf16 products. It says so, run.json
# keeps it (so --resume computes as the run did), 1 and 2 threads give the
# same bits, a killed and resumed run gives the uninterrupted one's, and its
# trajectory is not fp32's. Where bf16 is unavailable (no AVX-512, no oneDNN)
# the run must refuse it with the reason, and the rest is skipped.
bf16_opts=(--num-train 48 --num-dev 16 --steps 12 --eval-every 4 --batch 8 --seed 3 --lr 1e-3 --compute bf16)
"$SST2" "${small[@]}" "${bf16_opts[@]}" --threads 1 --out B1 >B1.log 2>&1 || true
if grep -q "bf16 compute: .*Use fp32\|built without oneDNN" B1.log; then
  note "--compute bf16 refused here, as it must be where it is unavailable: $(grep -o 'bf16 compute: .*' B1.log | head -1); its checks skipped"
else
  [[ -f B1/run.json ]] && grep -q "^compute bf16: " B1.log || { cat B1.log; fail "bf16 run B1 failed, or did not say it computes in bf16"; }
  "$SST2" "${small[@]}" "${bf16_opts[@]}" --threads 2 --out B2 >B2.log 2>&1 || { cat B2.log; fail "bf16 run B2 failed"; }
  [[ $(json_get B1 'j["options"]["compute"]') == bf16 ]] || fail "run.json does not keep --compute bf16"
  cmp B1/trajectory.mezotrj B2/trajectory.mezotrj || fail "bf16: 1 and 2 threads give different trajectories"
  ! cmp -s T1/trajectory.mezotrj B1/trajectory.mezotrj || fail "bf16 gave fp32's trajectory"
  kill_dir=KB
  "$SST2" "${small[@]}" "${bf16_opts[@]}" --threads 1 --out KB >KB.log 2>&1 &
  kill_at $! 5
  "$SST2" train --resume --out KB >>KB.log 2>&1 || { cat KB.log; fail "bf16: the --resume failed"; }
  grep -q "resuming after step" KB.log || fail "bf16: no resume happened (the run finished before the kill?)"
  cmp B1/trajectory.mezotrj KB/trajectory.mezotrj || fail "bf16: the resumed run's trajectory differs"
  note "--compute bf16: kept in run.json, 1 and 2 threads and kill/--resume bit-identical, not fp32's bits"
fi
"$SST2" "${small[@]}" --threads 1 --compute fp16 --out bad-compute >bad-compute.log 2>&1 &&
  fail "--compute fp16 was accepted"
grep -q -- "--compute: compute precision must be fp32 or bf16, got 'fp16'" bad-compute.log || { cat bad-compute.log; fail "no clear --compute error"; }

# k-shot on a decoder, --objective accuracy, and two-token label words.
"$SST2" "${small[@]}" --threads 1 --k 16 --steps 2 --eval-every 2 --out kshot >kshot.log 2>&1 || { cat kshot.log; fail "k-shot run failed"; }
grep -q "^SST-2 k=16 seed=42, lm head" kshot.log || { cat kshot.log; fail "no k-shot summary"; }
"$SST2" "${small[@]}" --threads 1 --num-train 32 --num-dev 16 --objective accuracy --steps 4 --eval-every 2 --out acc \
  >acc.log 2>&1 || { cat acc.log; fail "--objective accuracy failed"; }
grep -q "lm head, accuracy objective" acc.log || { cat acc.log; fail "no accuracy-objective summary"; }
"$SST2" "${small[@]}" --threads 1 --num-train 32 --num-dev 16 --label-words ' terribly awful, great' --steps 2 --eval-every 2 \
  --out words >words.log 2>&1 || { cat words.log; fail "two-token label words failed"; }
grep -q "label words ' terribly awful', ' great'" words.log || { cat words.log; fail "the label words were not used"; }
note "k-shot, --objective accuracy and a two-token label word on a decoder"

# PEFT: LoRA r=8 on q (32 -> 32) and v (32 -> 16: one KV head of 16) of 1 layer:
# 8*32 + 32*8 + 8*32 + 16*8 = 896; a 5-token prefix: 5 * (16 + 16) = 160.
for mode in "lora 896" "prefix 160"; do
  set -- $mode
  "$SST2" "${small[@]}" --threads 1 --num-train 32 --num-dev 16 --peft "$1" --steps 4 --eval-every 2 --out "peft-$1" \
    >"peft-$1.log" 2>&1 || { cat "peft-$1.log"; fail "--peft $1 on a decoder failed"; }
  grep -q ": $2 trainable parameters" "peft-$1.log" || { cat "peft-$1.log"; fail "--peft $1: not $2 trainable parameters"; }
done
note "--peft lora (896) and prefix (160) on a decoder"

# The GGUF fixture: " terrible" is 7 byte-level tokens, so the sequence head.
[[ -f $FIXTURE ]] || fail "the decoder fixture $FIXTURE is missing"
"$SST2" train --model "$FIXTURE" --data "$SHARED/SST-2" --num-train 32 --num-dev 16 --max-eval-examples 16 \
  --steps 4 --eval-every 2 --threads 1 --out gguf >gguf.log 2>&1 || { cat gguf.log; fail "the GGUF run failed"; }
grep -q "^llama model-f32.gguf, full-parameter: 26784 trainable parameters" gguf.log ||
  { cat gguf.log; fail "the GGUF fixture was not loaded as a 26784-parameter llama"; }
grep -q "^SST-2 sampled 32+16 seed=42, lm head" gguf.log || { cat gguf.log; fail "no GGUF summary"; }
note "a GGUF decoder with multi-token label words"

# What a decoder refuses.
bad=("${small[@]}" --threads 1 --num-train 8 --num-dev 8 --steps 2)
expect_error head_mlm "--head mlm is for masked LMs" "${bad[@]}" --head mlm --out E1
expect_error head_cosine "--head cosine is for masked LMs" "${bad[@]}" --head cosine --out E2
expect_error mask_inside "may only come last" "${bad[@]}" --template '{sentence} It {mask} was' --out E3
expect_error max_length "--max-length 200 is longer than" "${bad[@]}" --max-length 200 --out E4
expect_error random_arch "--arch must be auto or llama" random-model --arch gpt2 \
  --tokenizer "$SHARED/tokenizers/roberta-base" --out E5
note "PASS"
