#!/usr/bin/env bash
# tools/plot_learning_curve.sh: draws a PNG from a metrics.jsonl of the shape
# mezo-sst2 writes, and fails clearly on a missing, empty or malformed file.
# Skips when gnuplot or python3 is absent (cmake/install-deps.sh installs gnuplot-nox).
PLOT=$(realpath -m -- "$(dirname -- "${BASH_SOURCE[0]}")/../../tools/plot_learning_curve.sh")  # before common.sh's cd
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
[[ -f $PLOT ]] || fail "$PLOT is missing"
plot() { bash "$PLOT" "$@"; }
command -v gnuplot >/dev/null || skip "gnuplot is not installed (Debian: gnuplot-nox, see cmake/install-deps.sh)"
command -v python3 >/dev/null || skip "python3 is not installed"

# A run's metrics: step lines, an evaluation every 10 steps, a report every 25
# (and a torn last line, as a SIGKILL can leave).
python3 - <<'PY'
import json, math
with open("metrics.jsonl", "w") as f:
    for t in range(60):
        lp = 0.7 - 0.003 * t + 0.02 * math.sin(t)
        f.write(json.dumps({"step": t, "loss_plus": lp, "loss_minus": lp + 0.01, "projected_grad": -5.0,
                            "lr": 1e-6, "elapsed_s": 0.1 * t}) + "\n")
        if (t + 1) % 10 == 0:
            f.write(json.dumps({"step": t, "dev_accuracy": 0.5 + 0.005 * t, "elapsed_s": 0.1 * t}) + "\n")
        if (t + 1) % 25 == 0:
            f.write(json.dumps({"step": t, "zero_grad_fraction": 0.0, "window_steps": 25}) + "\n")
    f.write('{"step": 60, "loss_pl')
PY

png_ok() { [[ -s $1 ]] && [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

plot metrics.jsonl curve.png >plot.out 2>plot.err || { cat plot.err; fail "plotting a good metrics.jsonl failed"; }
png_ok curve.png || fail "curve.png is not a PNG"
grep -q "torn last line" plot.err || fail "no warning about the torn last line"

# expect_plot_error NAME PHRASE FILE: the script must fail, say PHRASE, and write no PNG.
expect_plot_error() {
  local rc=0
  plot "$3" "$1.png" >/dev/null 2>"$1.err" || rc=$?
  [[ $rc -ne 0 ]] || fail "$1: plotting succeeded, expected an error"
  grep -qF -- "$2" "$1.err" || { cat "$1.err"; fail "$1: the error does not say '$2'"; }
  [[ ! -e $1.png ]] || fail "$1: a PNG was written despite the error"
  echo "ok    $1: $(head -1 "$1.err")"
}
: >empty.jsonl
printf '{"step": 0, "loss_plus": 0.7}\nnot json\n{"step": 1, "loss_plus": 0.6}\n' >malformed.jsonl
printf '{"dev_accuracy": 0.5, "step": 9}\n' >no_steps.jsonl
printf '{"loss_plus": 0.5}\n' >no_step_field.jsonl
expect_plot_error missing "does not exist" does_not_exist.jsonl
expect_plot_error empty "is empty" empty.jsonl
expect_plot_error malformed "line 2 is not JSON" malformed.jsonl
expect_plot_error no_steps "no step lines" no_steps.jsonl
expect_plot_error no_step_field 'line 1 has no numeric "step"' no_step_field.jsonl
rc=0
plot only_one_argument >/dev/null 2>usage.err || rc=$?
if [[ $rc -ne 2 ]] || ! grep -q "usage:" usage.err; then fail "one argument: expected the usage and status 2, got $rc"; fi
note "PASS: PNG drawn; missing, empty and malformed files rejected"
