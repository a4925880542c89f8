#!/usr/bin/env bash
# The runs behind docs/results.md's table of the MeZO paper's other tasks on
# SmolLM2-135M-Instruct (issue 24): mezo-train --task, the paper's OPT protocol
# (tasks.hpp, task_data.hpp), bf16 compute (which trains as fp32 does:
# docs/results.md), batch 16, 2 threads. Every run lives in RUNS_DIR/NAME;
# running a stage again continues unfinished runs with --resume, so a stage
# can be stopped and restarted at any time (e.g. across sessions).
#
#   tools/task_results.sh BUILD_DIR RUNS_DIR STAGE [TASK [LR]]
#
# STAGE:
#   zero-shot          --steps 0 for every task (zero-shot-TASK)
#   in-context [TASK]  --demos 32, the paper's ICL baseline, for TASK or every
#                      task with sst2 (in-context-TASK)
#   sweep TASK         full-parameter MeZO (ZO-SGD) lr sweep on dev: 1e-5 3e-5 1e-4,
#                      300 steps, dev at the end (sweep-TASK-LR)
#   mezo TASK LR       1000 steps, dev every 125 (mezo-TASK-LR)
# tools/task_table.py RUNS_DIR tabulates them. THREADS (default 2) and MODEL
# (default: tools/fetch_model.sh SmolLM2-135M-Instruct) come from the environment.
set -euo pipefail
build=$1 runs=$2 stage=$3 task=${4:-} lr=${5:-}
threads=${THREADS:-2}
model=${MODEL:-$(tools/fetch_model.sh SmolLM2-135M-Instruct)}
train=$build/examples/sst2/mezo-train
mkdir -p "$runs"
tasks="rte cb boolq wsc wic multirc copa squad drop"

finished() { [[ -f $1/run.json ]] && python3 -c 'import json,sys; sys.exit(0 if "result" in json.load(open(sys.argv[1])) else 1)' "$1/run.json"; }
run() {  # NAME ARGS...: start the run, continue it, or leave it when finished
  local name=$1
  shift
  if finished "$runs/$name"; then return; fi
  if [[ -f $runs/$name/run.json ]]; then
    "$train" --out "$runs/$name" --resume --threads "$threads" >>"$runs/$name.log" 2>&1
  else
    rm -rf "${runs:?}/$name"
    "$train" --model "$model" --out "$runs/$name" --threads "$threads" --batch 16 --compute bf16 "$@" \
      >>"$runs/$name.log" 2>&1
  fi
}
need() { [[ -n $1 ]] || { echo "stage $stage needs $2" >&2; exit 2; }; }

case $stage in
  zero-shot) for t in $tasks; do run "zero-shot-$t" --task "$t" --steps 0; done ;;
  in-context) for t in ${task:-sst2 $tasks}; do run "in-context-$t" --task "$t" --demos 32; done ;;
  sweep) need "$task" TASK; for l in 1e-5 3e-5 1e-4; do run "sweep-$task-$l" --task "$task" --lr "$l" --steps 300 --eval-every 300; done ;;
  mezo) need "$task" TASK; need "$lr" LR; run "mezo-$task-$lr" --task "$task" --lr "$lr" --steps 1000 --eval-every 125 ;;
  *) echo "unknown stage '$stage' (zero-shot, in-context, sweep, mezo)" >&2; exit 2 ;;
esac
