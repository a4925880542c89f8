#!/usr/bin/env bash
# mezo-sst2 kill/resume determinism: a run killed with SIGKILL at random moments
# and continued with `train --resume` must end exactly where the uninterrupted
# run does: trajectory.mezotrj byte-identical, the same best step, dev and test
# accuracies in run.json, and the same per-step lines in metrics.jsonl.
# SST2_TEST_SEED=N repeats a particular choice of kill moments; SST2_KILLS=N
# sets how many kills to try (default 20; fewer when the run ends first);
# SST2_OPTIMIZER_OPTS="--optimizer fzoo ..." trains with another optimizer
# (its resume rebuilds the optimizer's state from the log: AdaMeZO's seeds).
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

seed=${SST2_TEST_SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$seed
note "random seed $seed (SST2_TEST_SEED=$seed repeats these kill moments)"

make_model bert-base-uncased "$WORK/model"
steps=160
kills_wanted=${SST2_KILLS:-20}
opts=(train --model "$WORK/model" --data "$SHARED/SST-2" --steps "$steps" --eval-every 10 --batch 8
  --max-eval-examples 50 --lr 1e-4 --seed 7 --threads 1 --log-every 25)
read -ra optimizer_opts <<<"${SST2_OPTIMIZER_OPTS:-}"
opts+=("${optimizer_opts[@]}")
[[ ${#optimizer_opts[@]} -eq 0 ]] || note "optimizer options: ${optimizer_opts[*]}"

t0=$(date +%s%N)
"$SST2" "${opts[@]}" --out A >A.log 2>&1 || { cat A.log; fail "the uninterrupted run failed"; }
duration_ms=$((($(date +%s%N) - t0) / 1000000))
note "uninterrupted run: $steps steps in ${duration_ms} ms"

step_lines() { if [[ -f B/metrics.jsonl ]]; then grep -c '"loss_plus"' B/metrics.jsonl || true; else echo 0; fi; }
finished() { [[ -f B/run.json ]] && python3 -c 'import json,sys; sys.exit(0 if "result" in json.load(open("B/run.json")) else 1)'; }

# start_b: a fresh run into B, or --resume when B holds one (a kill before the
# zero-shot evaluation wrote run.json leaves nothing to resume).
start_b() {
  if [[ -f B/run.json ]]; then
    "$SST2" train --resume --out B >>B.log 2>&1 &
  else
    "$SST2" "${opts[@]}" --out B >>B.log 2>&1 &
  fi
  pid=$!
}

# kill_b: SIGKILL now; fails unless it was killed (or had just finished cleanly).
kill_b() {
  kill -9 "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  if [[ $rc -ne 137 && $rc -ne 0 ]]; then
    cat B.log
    fail "run B exited with status $rc before it was killed"
  fi
  note "  killed at $(step_lines) logged steps (exit status $rc)"
}

# check_files_whole: after a kill, every file of the run folder is whole:
# run.json is valid JSON (written by rename), metrics.jsonl has only whole
# lines except possibly a torn last one (appended; --resume rewrites it), and
# the trajectory log has the header and whole records except possibly a torn
# last one (appended; --resume cuts it and says so).
check_files_whole() {
  [[ -f B/run.json ]] || return 0
  python3 - <<'PY' || fail "a run file was half-written after kill $kills (see above)"
import json, os, sys
json.load(open("B/run.json"))
if os.path.exists("B/metrics.jsonl"):
    # Every line but the last piece (empty after a final newline, or torn).
    for line in open("B/metrics.jsonl", "rb").read().split(b"\n")[:-1]:
        json.loads(line)
if os.path.exists("B/trajectory.mezotrj"):
    size = os.path.getsize("B/trajectory.mezotrj")
    assert size >= 40, f"trajectory.mezotrj has {size} bytes, less than its header"
PY
}

# Half of the kills land after a random delay (while loading, during an
# evaluation, mid-step or mid-write), half once metrics.jsonl holds a random
# number of further steps.
kills=0
while [[ $kills -lt $kills_wanted ]] && ! finished; do
  kills=$((kills + 1))
  start_b
  if ((kills % 2 == 1)); then
    sleep_ms=$((RANDOM % (duration_ms / 4 + 1)))
    note "kill $kills: after ${sleep_ms} ms"
    sleep "$(printf '%d.%03d' $((sleep_ms / 1000)) $((sleep_ms % 1000)))"
  else
    have=$(step_lines)
    left=$((steps - have))
    target=$((have + 1 + RANDOM % (left > 12 ? 12 : (left > 1 ? left : 1))))
    note "kill $kills: when $target steps are logged"
    deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && [[ $(step_lines) -lt $target ]]; do
      [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "run B made no progress for 60 s"; }
      sleep 0.002
    done
  fi
  kill_b
  check_files_whole
done
if ! finished; then
  [[ -f B/run.json ]] || fail "B has no run.json after its kills (cannot resume)"
  "$SST2" train --resume --out B >>B.log 2>&1 || { cat B.log; fail "the final --resume failed"; }
fi
finished || fail "B/run.json has no result after the final --resume"
grep -q "resuming after step" B.log || note "(every kill landed before run.json existed: no resume was exercised)"
resumes=$(grep -c 'resuming after step' B.log || true)
note "$kills kill(s), $resumes resume(s)"
[[ $kills -ge $kills_wanted || $resumes -ge 1 ]] || fail "only $kills kills landed before the run finished"

cmp A/trajectory.mezotrj B/trajectory.mezotrj || fail "trajectory.mezotrj differs between the uninterrupted and the resumed run"

python3 - <<'PY' || fail "run.json or metrics.jsonl differ (see above)"
import json, sys

def run(d):
    j = json.load(open(f"{d}/run.json"))
    r = j["result"]
    return {"best_step": j["best_step"], "best_dev_accuracy": j["best_dev_accuracy"],
            "steps_done": j["steps_done"], "zero_shot": j["zero_shot"],
            "evaluations": [(e["step"], e["dev_accuracy"]) for e in j["evaluations"]],
            "result.best_step": r["best_step"], "result.test_accuracy": r["test_accuracy"],
            "result.best_dev_accuracy": r["best_dev_accuracy"], "result.steps": r["steps"]}

def metrics(d):
    steps, evals, torn = [], [], 0
    for line in open(f"{d}/metrics.jsonl"):
        j = json.loads(line)  # a torn line would be a bug: resume rewrites the file
        if "loss_plus" in j:
            steps.append((j["step"], j["loss_plus"], j["loss_minus"], j["projected_grad"], j["lr"],
                          j.get("rejected")))
        elif "dev_accuracy" in j:
            evals.append((j["step"], j["dev_accuracy"]))
    return steps, evals

ok = True
a, b = run("A"), run("B")
for key in a:
    if a[key] != b[key]:
        print(f"run.json {key}: uninterrupted {a[key]!r}, resumed {b[key]!r}", file=sys.stderr)
        ok = False
(sa, ea), (sb, eb) = metrics("A"), metrics("B")
if sa != sb:
    if [s[0] for s in sa] != [s[0] for s in sb]:
        print(f"metrics.jsonl step lines: uninterrupted steps {[s[0] for s in sa]}, "
              f"resumed {[s[0] for s in sb]}", file=sys.stderr)
    else:
        first = next(i for i in range(len(sa)) if sa[i] != sb[i])
        print(f"metrics.jsonl step {sa[first][0]}: uninterrupted {sa[first]}, resumed {sb[first]}", file=sys.stderr)
    ok = False
if len(eb) != len(set(eb)):
    # A kill between an evaluation's metrics line and run.json's rewrite: the
    # resumed run must drop the unrecorded line before evaluating again.
    print("metrics.jsonl of the resumed run repeats an evaluation line", file=sys.stderr)
    ok = False
if ea != eb:
    print(f"metrics.jsonl evaluations: uninterrupted {ea}, resumed {eb}", file=sys.stderr)
    ok = False
if len(sa) != len(set(s[0] for s in sa)) or len(sa) == 0:
    print("metrics.jsonl of the uninterrupted run has no or repeated step lines", file=sys.stderr)
    ok = False
print(f"compared {len(sa)} step lines, {len(ea)} evaluations; best step {a['best_step']}, "
      f"test accuracy {a['result.test_accuracy']}")
sys.exit(0 if ok else 1)
PY
note "PASS: resumed run identical to the uninterrupted one"
