#!/usr/bin/env bash
# A rank that stalls or dies never hangs a distributed run:
#   bash tests/mpi/faults.sh MPI_FAULT_PROBE "MPIRUN [FLAGS]"
# - stall: one rank of 3 stops itself (SIGSTOP); the others report "got no
#   answer from the other ranks within 2 s" and the job ends, non-zero.
# - kill: one rank of 3 dies (SIGKILL); the job ends, non-zero, with mpirun's
#   report of the killed process.
# - none: the same run without a fault finishes, status 0 (the probe works).
set -euo pipefail
PROBE=$1
read -r -a MPIRUN <<<"$2"
fail() {
  echo "FAIL [faults]: $*" >&2
  exit 1
}

# run NAME MODE: runs the probe on 3 ranks (rank 1 the victim, at step 3),
# sets $rc, $seconds and $out (stdout and stderr).
run() {
  local t0=$(date +%s%N)
  rc=0
  out=$(timeout -s KILL 60 "${MPIRUN[@]}" -np 3 "$PROBE" "$2" 1 3 2 2>&1) || rc=$?
  seconds=$((($(date +%s%N) - t0) / 1000000000))
  echo "--- $1: exit status $rc after ${seconds} s"
  echo "$out" | tail -n 25
  [[ $seconds -lt 60 ]] || fail "$1: the job was still running after 60 s (killed by timeout)"
}

run none none
[[ $rc -eq 0 ]] || fail "none: the run without a fault failed"
[[ $(grep -c "finished 20 steps" <<<"$out") -eq 3 ]] || fail "none: not every rank finished"

run stall stall
[[ $rc -ne 0 ]] || fail "stall: exit status 0 with a stopped rank"
grep -q "rank [02] of 3 got no answer from the other ranks within 2 s" <<<"$out" ||
  fail "stall: no rank reported the timeout"
[[ $seconds -lt 30 ]] || fail "stall: took ${seconds} s (deadline 2 s)"
! grep -q "finished 20 steps" <<<"$out" || fail "stall: a rank claims to have finished"

run kill kill
[[ $rc -ne 0 ]] || fail "kill: exit status 0 with a killed rank"
grep -qiE "signal 9|killed|got no answer" <<<"$out" || fail "kill: no message says what happened"
[[ $seconds -lt 30 ]] || fail "kill: took ${seconds} s"
! grep -q "finished 20 steps" <<<"$out" || fail "kill: a rank claims to have finished"
echo "PASS [faults]"
