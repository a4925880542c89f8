#!/usr/bin/env bash
# mezo-sst2 under mpirun (data-parallel):
#   bash tests/mpi/sst2_mpi.sh MEZO_SST2 SHARED_DATA_DIR WORK_DIR "MPIRUN [FLAGS]"
# 1. -np 2 trains like one process: the same steps and losses (bit for bit when
#    an example's logits do not depend on its batch-mates; see
#    docs/distributed.md), the same evaluations; only rank 0 wrote the run
#    folder and printed.
# 2. A -np 3 run stopped mid-way (SIGTERM to mpirun) and continued with
#    `--resume` on 2 ranks ends where the one-process run ends.
# 3. SIGKILL to one rank: the job ends, non-zero, within a bounded time.
MPIRUN_LINE=$4
set -- "$1" "$2" "$3"
source "$(dirname -- "${BASH_SOURCE[0]}")/../sst2/common.sh"
read -r -a MPIRUN <<<"$MPIRUN_LINE"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model bert-base-uncased "$WORK/model"
steps=30
opts=(train --model "$WORK/model" --data "$SHARED/SST-2" --steps "$steps" --eval-every 10 --batch 8
  --max-eval-examples 40 --lr 1e-4 --seed 7 --threads 1 --log-every 10)

"$SST2" "${opts[@]}" --out A >A.log 2>&1 || { cat A.log; fail "the one-process run failed"; }
"${MPIRUN[@]}" -np 2 "$SST2" "${opts[@]}" --out B >B.log 2>&1 || { cat B.log; fail "the 2-rank run failed"; }
grep -q "data-parallel run on 2 MPI ranks" B.log || { cat B.log; fail "the 2-rank run did not run data-parallel"; }
[[ $(grep -c "^zero-shot:" B.log) -eq 1 ]] || { cat B.log; fail "ranks other than 0 printed progress"; }
[[ $(grep -c "^SST-2 k=16" B.log) -eq 1 ]] || { cat B.log; fail "the summary is not printed exactly once"; }

# compare.py RUN: RUN's steps, losses and evaluations against A's.
compare() {
  python3 - "$1" <<'PY'
import json, sys

def load(d):
    steps, evals = [], []
    for line in open(f"{d}/metrics.jsonl"):
        j = json.loads(line)
        if "loss_plus" in j:
            steps.append(j)
        elif "dev_accuracy" in j:
            evals.append((j["step"], j["dev_accuracy"]))
    run = json.load(open(f"{d}/run.json"))
    return steps, evals, run

other = sys.argv[1]
(sa, ea, ra), (sb, eb, rb) = load("A"), load(other)
ok = True
if [s["step"] for s in sb] != list(range(len(sa))) or len(sa) == 0:
    print(f"{other}: step lines {[s['step'] for s in sb]}, expected 0..{len(sa) - 1} once each "
          "(one writer)", file=sys.stderr)
    ok = False
worst = 0.0
for a, b in zip(sa, sb):
    for key in ("loss_plus", "loss_minus"):
        rel = abs(a[key] - b[key]) / max(abs(a[key]), 1e-30)
        worst = max(worst, rel)
        if rel > 1e-5:
            print(f"{other}: step {a['step']} {key} {b[key]!r}, one process {a[key]!r}", file=sys.stderr)
            ok = False
    if a["lr"] != b["lr"]:
        print(f"{other}: step {a['step']} lr differs", file=sys.stderr)
        ok = False
if ea != eb:
    print(f"{other}: evaluations {eb}, one process {ea}", file=sys.stderr)
    ok = False
if "result" not in rb or rb["steps_done"] != ra["steps_done"]:
    print(f"{other}: run.json has no result or another step count", file=sys.stderr)
    ok = False
print(f"{other}: {len(sb)} steps, {len(eb)} evaluations, largest relative loss difference {worst:.3g}")
sys.exit(0 if ok else 1)
PY
}
compare B || fail "the 2-rank run differs from the one-process run (see above)"
if cmp -s A/trajectory.mezotrj B/trajectory.mezotrj; then
  note "2 ranks: trajectory.mezotrj byte-identical to the one-process run"
else
  note "2 ranks: trajectory.mezotrj differs in its last bits from the one-process run (batched forward)"
fi

# 2. Stop a 3-rank run once a few steps are logged, resume it on 2 ranks.
step_lines() { if [[ -f C/metrics.jsonl ]]; then grep -c '"loss_plus"' C/metrics.jsonl || true; else echo 0; fi; }
"${MPIRUN[@]}" -np 3 "$SST2" "${opts[@]}" --out C >C.log 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
while kill -0 "$pid" 2>/dev/null && [[ $(step_lines) -lt 12 ]]; do
  [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "the 3-rank run made no progress for 60 s"; }
  sleep 0.01
done
kill -TERM "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
note "3-rank run stopped after $(step_lines) logged steps (mpirun status $rc)"
[[ -f C/run.json ]] || { cat C.log; fail "the 3-rank run left no run.json to resume"; }
"${MPIRUN[@]}" -np 2 "$SST2" train --resume --out C >>C.log 2>&1 || { cat C.log; fail "--resume on 2 ranks failed"; }
grep -q "resuming after step" C.log || { cat C.log; fail "the 2-rank --resume did not resume"; }
compare C || fail "the run resumed on another rank count differs from the one-process run"

# 3. SIGKILL one rank of a running 2-rank job: the job must end, non-zero.
"${MPIRUN[@]}" -np 2 "$SST2" train --model "$WORK/model" --data "$SHARED/SST-2" --steps 100000 \
  --eval-every 100000 --batch 8 --max-eval-examples 40 --threads 1 --out D >D.log 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
while [[ ! -f D/metrics.jsonl ]] || [[ $(grep -c '"loss_plus"' D/metrics.jsonl || true) -lt 3 ]]; do
  kill -0 "$pid" 2>/dev/null || { cat D.log; fail "the 2-rank run D ended before it was killed"; }
  [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "the 2-rank run D made no progress for 60 s"; }
  sleep 0.01
done
ranks=($(pgrep -P "$pid" || true))
[[ ${#ranks[@]} -eq 2 ]] || { kill -9 "$pid"; fail "expected 2 rank processes under mpirun, found ${#ranks[@]}"; }
t0=$SECONDS
kill -9 "${ranks[1]}"
rc=0
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill -9 "$pid" "${ranks[0]}" 2>/dev/null || true
  fail "the job was still running 60 s after one of its ranks was killed"
fi
wait "$pid" || rc=$?
note "one rank killed: mpirun ended with status $rc after $((SECONDS - t0)) s"
[[ $rc -ne 0 ]] || { cat D.log; fail "the job with a killed rank exited 0"; }
grep -qiE "signal 9|killed" D.log || { cat D.log; fail "nothing in the output says a rank was killed"; }
# The surviving rank must be gone too (a zombie waiting to be reaped is gone).
alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
for _ in $(seq 100); do alive "${ranks[0]}" || break; sleep 0.1; done
if alive "${ranks[0]}"; then
  kill -9 "${ranks[0]}"
  fail "rank 0 was still running 10 s after the job ended"
fi
note "PASS"
