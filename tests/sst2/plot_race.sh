#!/usr/bin/env bash
# tools/plot_race.sh: draws dev accuracy against forwards for run folders of
# the shape mezo-sst2 writes, and fails clearly on a missing run, a run.json
# without forwards (older runs) and malformed arguments.
# Skips when gnuplot or python3 is absent (cmake/install-deps.sh installs gnuplot-nox).
PLOT=$(realpath -m -- "$(dirname -- "${BASH_SOURCE[0]}")/../../tools/plot_race.sh")  # before common.sh's cd
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
[[ -f $PLOT ]] || fail "$PLOT is missing"
command -v gnuplot >/dev/null || skip "gnuplot is not installed (Debian: gnuplot-nox, see cmake/install-deps.sh)"
command -v python3 >/dev/null || skip "python3 is not installed"

mkdir -p fzoo zo old
echo '{"zero_shot": {"dev_accuracy": 0.6}, "evaluations": [{"step": 28, "forwards": 252, "dev_accuracy": 0.62}, {"step": 56, "forwards": 504, "dev_accuracy": 0.66}]}' >fzoo/run.json
echo '{"zero_shot": {"dev_accuracy": 0.6}, "evaluations": [{"step": 125, "forwards": 250, "dev_accuracy": 0.64}]}' >zo/run.json
echo '{"zero_shot": {"dev_accuracy": 0.6}, "evaluations": [{"step": 125, "dev_accuracy": 0.64}]}' >old/run.json

png_ok() { [[ -s $1 ]] && [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }
timeout 60 bash "$PLOT" race.png FZOO=fzoo ZO-SGD=zo --hline "first order=85.0" >plot.out 2>plot.err ||
  { cat plot.err; fail "plotting two good runs failed"; }
png_ok race.png || fail "race.png is not a PNG"

# expect_error NAME PHRASE ARGS...: the script fails, says PHRASE and writes no PNG.
expect_plot_error() {
  local name=$1 phrase=$2 rc=0
  shift 2
  timeout 60 bash "$PLOT" "$name.png" "$@" >/dev/null 2>"$name.err" || rc=$?
  [[ $rc -ne 0 && $rc -ne 124 ]] || fail "$name: exit status $rc, expected an error"
  grep -qF -- "$phrase" "$name.err" || { cat "$name.err"; fail "$name: the error does not say '$phrase'"; }
  [[ ! -e $name.png ]] || fail "$name: a PNG was written despite the error"
}
expect_plot_error missing "cannot read" A=nowhere
expect_plot_error old_run "evaluations without 'forwards'" A=old
expect_plot_error no_label "expected LABEL=RUN_DIR" fzoo
expect_plot_error bad_hline "is not a number" A=fzoo --hline "x=high"
echo '{"zero_shot": ' >zo/run.json
expect_plot_error not_json "is not JSON" A=zo
note "PASS"
