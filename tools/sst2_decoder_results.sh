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
#   race          the optimizer race (issue 23), bf16 compute: lr sweeps of 600 forwards
#                 for FZOO (1e-4 3e-4 3e-5 1e-3, 67 steps of 9 forwards) and AdaMeZO
#                 (1e-4 3e-5 3e-4 1e-5, 300 steps), each extended past its edge when the
#                 edge wins; 3,000-forward finals with dev about every 250 forwards
#                 (sweep-METHOD-LR, final-METHOD-LR-sSEED) of FZOO and AdaMeZO at their
#                 best lr and ZO-SGD at 3e-5 (the `sweep` stage's choice); a second
#                 seed of FZOO and ZO-SGD. In that order: FZOO's sweep and final, ZO-SGD's
#                 final, AdaMeZO's sweep and final, the second seeds.
#                 tools/race_table.py RUNS_DIR tabulates them
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
  race)
    # The lr of a method's finished sweep run with the best dev accuracy (the smaller lr on a tie).
    best_lr() {
      python3 - "$runs" "$1" <<'PY'
import glob, json, sys
runs, method = sys.argv[1], sys.argv[2]
best = None
for f in glob.glob(f"{runs}/sweep-{method}-*/run.json"):
    j = json.load(open(f))
    if "result" not in j: continue
    key = (j["best_dev_accuracy"], -j["options"]["lr"])
    if best is None or key > best[0]: best = (key, f.split(f"sweep-{method}-")[1].split("/")[0])
print(best[1] if best else "")
PY
    }
    fzoo_sweep() { run "sweep-fzoo-$1" --compute bf16 --seed 42 --optimizer fzoo --lr "$1" --steps 67 --eval-every 67; }
    ada_sweep() { run "sweep-ada-mezo-$1" --compute bf16 --seed 42 --optimizer ada-mezo --lr "$1" --steps 300 --eval-every 300; }
    final() {  # METHOD LR SEED STEPS EVAL_EVERY: 3,000 forwards, dev about every 250
      run "final-$1-$2-s$3" --compute bf16 --seed "$3" --optimizer "$1" --lr "$2" --steps "$4" --eval-every "$5"
    }
    for l in 1e-4 3e-4 3e-5 1e-3; do fzoo_sweep "$l"; done
    [[ $(best_lr fzoo) != 1e-3 ]] || fzoo_sweep 3e-3
    [[ $(best_lr fzoo) != 3e-3 ]] || fzoo_sweep 1e-2
    [[ $(best_lr fzoo) != 1e-2 ]] || fzoo_sweep 3e-2
    f=$(best_lr fzoo)
    final fzoo "$f" 42 336 28
    final zo-sgd 3e-5 42 1500 125
    for l in 1e-4 3e-5 3e-4 1e-5; do ada_sweep "$l"; done
    [[ $(best_lr ada-mezo) != 3e-4 ]] || ada_sweep 1e-3
    [[ $(best_lr ada-mezo) != 1e-5 ]] || ada_sweep 3e-6
    a=$(best_lr ada-mezo)
    final ada-mezo "$a" 42 1500 125
    final fzoo "$f" 43 336 28
    final zo-sgd 3e-5 43 1500 125 ;;
  *) echo "unknown stage '$stage' (sweep, full, lora-sweep, lora, prefix-sweep, prefix, compute, race)" >&2; exit 2 ;;
esac
