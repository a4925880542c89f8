#!/usr/bin/env bash
# mezo-sst2 --peft lora|prefix on a tiny random model: the trainable-parameter
# count printed is the LoRA / prefix size, the paper's PEFT defaults are used
# when --lr/--eps/--weight-decay are not given, a LoRA run killed twice and
# resumed ends with the same trajectory and results as an uninterrupted one,
# and no run folder holds a copy of the (frozen) base weights.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model bert-base-uncased "$WORK/model"  # hidden 32, 1 layer
opts=(train --model "$WORK/model" --data "$SHARED/SST-2" --eval-every 10 --batch 8
  --max-eval-examples 40 --seed 7 --threads 1 --log-every 10)

# expect_count LOG N: the run printed N trainable parameters.
expect_count() {
  grep -q ": $2 trainable parameters" "$1" || { cat "$1"; fail "$1 does not report $2 trainable parameters"; }
}
# no_base_copy DIR: nothing in the run folder is (or is as large as) the model.
no_base_copy() {
  local model_bytes biggest
  model_bytes=$(stat -c %s "$WORK/model/model.safetensors")
  [[ -z $(find "$1" -name '*.safetensors') ]] || fail "$1 holds a safetensors file"
  biggest=$(find "$1" -type f -printf '%s\n' | sort -n | tail -1)
  ((biggest * 10 < model_bytes)) || fail "$1 holds a $biggest-byte file (the model is $model_bytes bytes)"
}
# json_get DIR EXPR: a value of DIR/run.json (python expression over j).
json_get() { python3 -c "import json; j = json.load(open('$1/run.json')); print($2)"; }

# LoRA r=8 on query and value of 1 layer, hidden 32: 2 × (8×32 + 32×8) = 1024.
"$SST2" "${opts[@]}" --peft lora --steps 30 --out A >A.log 2>&1 || { cat A.log; fail "the LoRA run failed"; }
expect_count A.log 1024
[[ $(json_get A 'j["result"]["trainable_parameters"]') == 1024 ]] || fail "run.json: trainable_parameters is not 1024"
[[ $(json_get A '(j["options"]["peft"], j["options"]["lr"], j["options"]["eps"], j["options"]["weight_decay"])') == \
  "('lora', 9.999999747378752e-05, 0.0010000000474974513, 0.10000000149011612)" ]] ||
  fail "LoRA run did not use the paper's defaults: $(json_get A 'j["options"]')"
no_base_copy A
note "LoRA: 1024 trainable parameters, paper defaults, no base copy"

# The same run killed twice (after 7 and 18 logged steps) and resumed.
step_lines() { if [[ -f B/metrics.jsonl ]]; then grep -c '"loss_plus"' B/metrics.jsonl || true; else echo 0; fi; }
kill_at() {
  local pid=$1 target=$2 deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && [[ $(step_lines) -lt $target ]]; do
    [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "run B made no progress for 60 s"; }
    sleep 0.002
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
"$SST2" "${opts[@]}" --peft lora --steps 30 --out B >B.log 2>&1 &
kill_at $! 7
"$SST2" train --resume --out B >>B.log 2>&1 &
kill_at $! 18
"$SST2" train --resume --out B >>B.log 2>&1 || { cat B.log; fail "the final --resume failed"; }
grep -q "resuming after step" B.log || fail "no resume happened (the run finished before a kill?)"
expect_count B.log 1024
cmp A/trajectory.mezotrj B/trajectory.mezotrj || fail "the resumed LoRA run's trajectory differs"
for key in 'j["result"]["test_accuracy"]' 'j["result"]["best_step"]' 'j["evaluations"]'; do
  [[ "$(json_get A "$key")" == "$(json_get B "$key")" ]] || fail "$key differs: $(json_get A "$key") vs $(json_get B "$key")"
done
no_base_copy B
note "LoRA kill/--resume: same trajectory and results"

# LoRA on query, key, value with rank 4: 3 × (4×32 + 32×4) = 768; an explicit --lr is kept.
"$SST2" "${opts[@]}" --peft lora --lora-rank 4 --lora-targets query,key,value --lr 3e-4 --steps 5 \
  --out C >C.log 2>&1 || { cat C.log; fail "the rank-4 LoRA run failed"; }
expect_count C.log 768
[[ $(json_get C 'j["options"]["lr"]') == 0.0003000000142492354 ]] || fail "--lr 3e-4 was not kept"

# Prefix, 5 tokens: 1 layer × (key + value) × 5 × 32 = 320, real and random init.
for init in real random; do
  "$SST2" "${opts[@]}" --peft prefix --prefix-init $init --steps 12 --out P-$init >P-$init.log 2>&1 ||
    { cat P-$init.log; fail "the prefix ($init) run failed"; }
  expect_count P-$init.log 320
  [[ $(json_get P-$init '(j["options"]["lr"], j["options"]["eps"], j["options"]["weight_decay"])') == \
    "(0.009999999776482582, 0.10000000149011612, 0.0)" ]] || fail "prefix run did not use the paper's defaults"
  no_base_copy P-$init
done
note "prefix: 320 trainable parameters (real and random init), paper defaults, no base copy"

# Bad PEFT options are usage errors with a clear message.
for bad in "--peft adapters" "--peft lora --lora-rank 0" "--peft lora --lora-targets qkv" \
  "--peft prefix --prefix-tokens 0" "--peft prefix --prefix-init zeros"; do
  # shellcheck disable=SC2086
  if "$SST2" "${opts[@]}" $bad --steps 2 --out bad >bad.log 2>&1; then fail "'$bad' was accepted"; fi
  grep -q "error" bad.log || { cat bad.log; fail "'$bad': no error message"; }
done
note "PASS"
