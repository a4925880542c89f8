#!/usr/bin/env bash
# The runs behind docs/results.md's SmolLM2-135M-Instruct table (MeZO's OPT
# protocol: 1000 train / 500 dev sampled from GLUE train with data seed 42, test
# = GLUE dev's 872 sentences). Every run lives in RUNS_DIR/NAME; running a stage
# again continues its unfinished runs with --resume and reprints finished ones,
# so a stage can be stopped and restarted at any time (e.g. across sessions).
#
#   tools/sst2_decoder_results.sh BUILD_DIR RUNS_DIR STAGE [LR]
#
# STAGE:
#   sweep [LR]    full-parameter lr sweep on dev: 1e-6 3e-6 1e-5 3e-5 1e-4, eps 1e-3,
#                 batch 16, 300 steps, dev every 100 (only LR's run when given)
#   full LR       the long full-parameter run: 2000 steps, dev every 250
#   lora-sweep [LR]  --peft lora at lr 3e-5 1e-4 3e-4 1e-3 3e-3 (300 steps; only LR's
#                 run when given)
#   lora LR       the long LoRA run (2000 steps)
#   prefix-sweep [LR]  --peft prefix at lr 3e-3 1e-2 3e-2 (300 steps; only LR's run
#                 when given)
#   prefix LR     the long prefix run (2000 steps)
#   compute       fp32 vs bf16 compute (--compute), the same seeds, lr 3e-5: the
#                 README quick-start setting (200 steps, dev every 100: qs-fp32,
#                 qs-bf16) and 1000 steps, dev every 250 (full-lr3e-5-1000-fp32, -bf16);
#                 tools/grad_correlation.py compares their projected gradients
# THREADS (default 2) and MODEL (default: tools/fetch_model.sh SmolLM2-135M-Instruct)
# come from the environment.
set -euo pipefail
build=$1 runs=$2 stage=$3 lr=${4:-}
threads=${THREADS:-2}
model=${MODEL:-$(tools/fetch_model.sh SmolLM2-135M-Instruct)}
sst2=$build/examples/sst2/mezo-sst2
mkdir -p "$runs"

run() {  # NAME ARGS...: start the run, or continue it
  local name=$1
  shift
  if [[ -f $runs/$name/run.json ]]; then
    "$sst2" --out "$runs/$name" --resume --threads "$threads"
  else
    "$sst2" --model "$model" --out "$runs/$name" --threads "$threads" --batch 16 "$@"
  fi
}

need_lr() { [[ -n $lr ]] || { echo "stage $stage needs an LR (chosen on dev by its sweep)" >&2; exit 2; }; }

case $stage in
  sweep) for l in ${lr:-1e-6 3e-6 1e-5 3e-5 1e-4}; do run "full-lr$l" --lr "$l" --eps 1e-3 --steps 300 --eval-every 100; done ;;
  full) need_lr; run "full-lr$lr-2000" --lr "$lr" --eps 1e-3 --steps 2000 --eval-every 250 ;;
  lora-sweep) for l in ${lr:-3e-5 1e-4 3e-4 1e-3 3e-3}; do run "lora-lr$l" --peft lora --lr "$l" --steps 300 --eval-every 100; done ;;
  lora) need_lr; run "lora-lr$lr-2000" --peft lora --lr "$lr" --steps 2000 --eval-every 250 ;;
  prefix-sweep) for l in ${lr:-3e-3 1e-2 3e-2}; do run "prefix-lr$l" --peft prefix --lr "$l" --steps 300 --eval-every 100; done ;;
  prefix) need_lr; run "prefix-lr$lr-2000" --peft prefix --lr "$lr" --steps 2000 --eval-every 250 ;;
  compute)
    for c in bf16 fp32; do run "qs-$c" --lr 3e-5 --steps 200 --eval-every 100 --compute "$c"; done
    for c in bf16 fp32; do run "full-lr3e-5-1000-$c" --lr 3e-5 --steps 1000 --eval-every 250 --compute "$c"; done ;;
  *) echo "unknown stage '$stage' (sweep, full, lora-sweep, lora, prefix-sweep, prefix, compute)" >&2; exit 2 ;;
esac
