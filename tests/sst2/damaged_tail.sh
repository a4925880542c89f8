#!/usr/bin/env bash
# A trajectory log whose last record is damaged -- cut short (a crash in the
# middle of an append) or failing its CRC (a torn or corrupted write) -- is
# detected on --resume: the damaged record is reported on stderr and dropped,
# never used, and the run redoes that step and ends exactly as the
# uninterrupted run did.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

make_model bert-base-uncased model
opts=(train --model model --data "$SHARED/SST-2" --steps 60 --eval-every 20 --batch 8
  --max-eval-examples 50 --lr 1e-4 --threads 1 --log-every 100)
"$SST2" "${opts[@]}" --out A >A.log 2>&1 || { cat A.log; fail "the uninterrupted run failed"; }

logged() { if [[ -f B/metrics.jsonl ]]; then grep -c '"loss_plus"' B/metrics.jsonl || true; else echo 0; fi; }
# run_until N: starts (or resumes) B and kills it once N steps are logged.
run_until() {
  if [[ -f B/run.json ]]; then
    "$SST2" train --resume --out B >B.log 2>&1 &
  else
    "$SST2" "${opts[@]}" --out B >B.log 2>&1 &
  fi
  local pid=$! deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && [[ $(logged) -lt $1 ]]; do
    [[ $SECONDS -lt $deadline ]] || { kill -9 "$pid"; fail "run B made no progress for 60 s"; }
    sleep 0.002
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -f B/run.json && $(logged) -ge $1 ]] || { cat B.log; fail "run B ended before step $1"; }
}

run_until 15
log_size=$(stat -c %s B/trajectory.mezotrj)
# A partial record: 30 of a record's 56 bytes.
head -c 30 /dev/urandom >>B/trajectory.mezotrj
run_until 35
grep -q "partial record" B.log || { cat B.log; fail "--resume did not report the partial record"; }
note "partial record: reported ($(grep -m1 'partial record' B.log))"

# A corrupt last record: one flipped bit in its loss_plus.
size=$(stat -c %s B/trajectory.mezotrj)
[[ $(((size - 40) % 56)) -eq 0 ]] || fail "after --resume the log holds a partial record ($size bytes)"
python3 - "$size" <<'PY'
import sys
size = int(sys.argv[1])
with open("B/trajectory.mezotrj", "r+b") as f:
    f.seek(size - 56 + 40)   # loss_plus of the last record
    b = f.read(1)
    f.seek(size - 56 + 40)
    f.write(bytes([b[0] ^ 0x01]))
PY
"$SST2" train --resume --out B >B.log 2>&1 || { cat B.log; fail "the final --resume failed"; }
grep -q "fails its CRC" B.log || { cat B.log; fail "--resume did not report the corrupt record"; }
note "corrupt record: reported ($(grep -m1 'fails its CRC' B.log))"

cmp A/trajectory.mezotrj B/trajectory.mezotrj ||
  fail "trajectory.mezotrj differs from the uninterrupted run's after the damaged records were redone"
python3 - <<'PY' || fail "run.json differs from the uninterrupted run's (see above)"
import json, sys
a, b = json.load(open("A/run.json")), json.load(open("B/run.json"))
bad = [k for k in ("evaluations", "best_step", "best_dev_accuracy", "steps_done") if a[k] != b[k]]
bad += [f"result.{k}" for k in ("test_accuracy", "best_step") if a["result"][k] != b["result"][k]]
for k in bad:
    print(f"run.json {k} differs", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
[[ $log_size -gt 40 ]] || fail "the first kill left no records to damage"
note "PASS: damaged tails reported, dropped and redone; the run ends as the uninterrupted one"
