#!/usr/bin/env bash
# Plots the learning curve of a `mezo-sst2` run as a PNG.
#
#   tools/plot_learning_curve.sh RUN/metrics.jsonl OUT.png
#
# Left axis: the training loss ℓ+ of every step (thin) and its trailing moving
# average (thick). Right axis: the dev accuracy of each evaluation (points).
# metrics.jsonl holds one JSON object per line:
#   step lines        {"step", "loss_plus", "loss_minus", "projected_grad", "lr", "elapsed_s"}
#   evaluation lines  {"step", "dev_accuracy", "elapsed_s"}
#   report lines      {"step", "zero_grad_fraction", "window_steps"}
# A torn last line (a run killed mid-write) is skipped with a warning; any other
# malformed line is an error naming the line.
#
# Needs python3 (standard library only) and gnuplot (Debian: gnuplot-nox,
# installed by cmake/install-deps.sh). Uses the pngcairo terminal when gnuplot
# has it, else png. Environment: PLOT_SMOOTH=N sets the moving-average window
# in steps (default: about a twentieth of the run, at least 1).
set -euo pipefail

prog=$(basename "$0")
die() {
  echo "$prog: error: $*" >&2
  exit 1
}

if [[ $# -ne 2 || $1 == -h || $1 == --help ]]; then
  echo "usage: $prog METRICS_JSONL OUT_PNG" >&2
  echo "  plots training loss (and its moving average) and dev accuracy vs step" >&2
  [[ $# -eq 1 && ($1 == -h || $1 == --help) ]] && exit 0
  exit 2
fi
metrics=$1
out=$2

[[ -e $metrics ]] || die "'$metrics' does not exist (expected a run's metrics.jsonl)"
[[ -f $metrics ]] || die "'$metrics' is not a regular file (expected a run's metrics.jsonl)"
[[ -r $metrics ]] || die "'$metrics' is not readable"
[[ -s $metrics ]] || die "'$metrics' is empty: the run has not logged a step yet"
out_dir=$(dirname -- "$out")
[[ -d $out_dir ]] || die "cannot write '$out': folder '$out_dir' does not exist"
[[ -w $out_dir ]] || die "cannot write '$out': folder '$out_dir' is not writable"
command -v python3 >/dev/null || die "python3 is required (to read the JSONL)"
command -v gnuplot >/dev/null || die "gnuplot is required (Debian: apt-get install gnuplot-nox, or run cmake/install-deps.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/plot_learning_curve.XXXXXX")
trap 'rm -rf "$work"' EXIT

# JSONL -> loss.dat (step, loss_plus, moving average), dev.dat (step, dev %),
# and title.txt. Exits 1 with a message naming the line on malformed input.
python3 - "$metrics" "$work" "${PLOT_SMOOTH:-}" <<'PY'
import json, math, os, sys

path, work, smooth = sys.argv[1], sys.argv[2], sys.argv[3]
prog = "plot_learning_curve.sh"

def die(msg):
    print(f"{prog}: error: {path}: {msg}", file=sys.stderr)
    sys.exit(1)

def number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)

with open(path, "rb") as f:
    raw = f.read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    die(f"not UTF-8 text ({e})")
lines = text.split("\n")
torn_ok = not text.endswith("\n")  # the last line may be a torn write

losses = {}  # step -> loss_plus (None when not finite / rejected)
devs = {}    # step -> accuracy
zero_grad = None
for n, line in enumerate(lines, start=1):
    if not line.strip():
        continue
    try:
        j = json.loads(line)
    except json.JSONDecodeError as e:
        if torn_ok and n == len(lines):
            print(f"{prog}: warning: {path}:{n}: skipping a torn last line", file=sys.stderr)
            continue
        die(f"line {n} is not JSON ({e.msg} at column {e.colno}): {line[:80]!r}")
    if not isinstance(j, dict):
        die(f"line {n} is not a JSON object: {line[:80]!r}")
    if "step" not in j or not number(j["step"]):
        die(f"line {n} has no numeric \"step\": {line[:80]!r}")
    step = int(j["step"])
    if "loss_plus" in j:
        v = j["loss_plus"]
        if v is not None and not number(v):
            die(f"line {n}: \"loss_plus\" is not a number: {line[:80]!r}")
        losses[step] = v if v is not None and math.isfinite(v) else None
    elif "dev_accuracy" in j:
        v = j["dev_accuracy"]
        if not number(v):
            die(f"line {n}: \"dev_accuracy\" is not a number: {line[:80]!r}")
        devs[step] = float(v)
    elif "zero_grad_fraction" in j:
        if number(j["zero_grad_fraction"]):
            zero_grad = float(j["zero_grad_fraction"])
    # other lines (future fields) are ignored

if not losses:
    die("no step lines (objects with \"step\" and \"loss_plus\"): is this a mezo-sst2 metrics.jsonl?")

steps = sorted(losses)
finite = [(s, losses[s]) for s in steps if losses[s] is not None]
if not finite:
    die("every step's loss_plus is null or non-finite: nothing to plot")
if smooth:
    try:
        window = int(smooth)
        assert window >= 1
    except (ValueError, AssertionError):
        print(f"{prog}: error: PLOT_SMOOTH must be an integer >= 1, got {smooth!r}", file=sys.stderr)
        sys.exit(1)
else:
    window = max(1, len(finite) // 20)

with open(os.path.join(work, "loss.dat"), "w") as f:
    total, queue = 0.0, []
    for s, v in finite:
        queue.append(v)
        total += v
        if len(queue) > window:
            total -= queue.pop(0)
        f.write(f"{s}\t{v!r}\t{total / len(queue)!r}\n")
with open(os.path.join(work, "dev.dat"), "w") as f:
    for s in sorted(devs):
        f.write(f"{s}\t{100.0 * devs[s]!r}\n")

run = os.path.basename(os.path.dirname(os.path.abspath(path))) or path
title = f"MeZO learning curve: {run} ({steps[-1] + 1} steps"
if devs:
    best = max(devs, key=lambda s: (devs[s], -s))
    # an evaluation line's "step" is the index of the last step taken (run.json's best_step is best + 1)
    title += f", best dev {100 * devs[best]:.1f}% after {best + 1} steps"
if zero_grad is not None:
    title += f", last zero-gradient fraction {100 * zero_grad:.0f}%"
title += ")"
skipped = len(steps) - len(finite)
with open(os.path.join(work, "info"), "w") as f:
    f.write(f"{window}\n{len(devs)}\n{skipped}\n")
with open(os.path.join(work, "title.txt"), "w") as f:
    f.write(title.replace("\\", "/").replace('"', "'") + "\n")
if skipped:
    print(f"{prog}: warning: {skipped} step(s) with a null/non-finite loss_plus left out", file=sys.stderr)
PY

{ read -r window; read -r n_dev; } <"$work/info"
title=$(<"$work/title.txt")

if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
  terminal='pngcairo size 1100,650 enhanced font "Sans,11"'
else
  terminal='png size 1100,650'
fi

if [[ $window -gt 1 ]]; then avg_title="ℓ+ moving average ($window steps)"; else avg_title="ℓ+ (no smoothing)"; fi
plot="plot '$work/loss.dat' using 1:2 with lines lw 1 lc rgb '#9ecae1' title 'training loss ℓ+ (per step)', \
  '' using 1:3 with lines lw 2.5 lc rgb '#08519c' title '$avg_title'"
y2=""
if [[ $n_dev -gt 0 ]]; then
  y2="set y2label 'dev accuracy (%)' tc rgb '#d94801'; set y2tics nomirror tc rgb '#d94801'; set ytics nomirror; set y2range [0:100];"
  plot+=", '$work/dev.dat' using 1:2 axes x1y2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#d94801' title 'dev accuracy (%)'"
fi

gnuplot <<GP || die "gnuplot failed to draw '$out'"
set terminal $terminal
set output '$work/curve.png'
set title "$title" noenhanced
set xlabel 'step' offset 0,0.3
set ylabel 'training loss ℓ+ (objective value)'
set grid
set key outside below horizontal noenhanced
set xrange [0:*]
$y2
$plot
GP
[[ -s $work/curve.png ]] || die "gnuplot wrote no image"
mv -f "$work/curve.png" "$out" || die "cannot write '$out'"
echo "$out"
