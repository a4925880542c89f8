#!/usr/bin/env bash
# Plots dev accuracy against forward passes for several `mezo-sst2` runs (the
# optimizer race of docs/results.md) as one PNG.
#
#   tools/plot_race.sh OUT.png LABEL=RUN_DIR... [--hline LABEL=PERCENT]...
#
# Each run contributes its zero-shot dev accuracy at 0 forwards and every dev
# evaluation of its run.json ("forwards", "dev_accuracy"; runs made before
# evaluations recorded forwards are refused). --hline draws a horizontal
# reference (a baseline's dev accuracy, in percent).
#
# Needs python3 (standard library only) and gnuplot (Debian: gnuplot-nox,
# installed by cmake/install-deps.sh).
set -euo pipefail

prog=$(basename "$0")
die() {
  echo "$prog: error: $*" >&2
  exit 1
}
if [[ $# -lt 2 || $1 == -h || $1 == --help ]]; then
  echo "usage: $prog OUT.png LABEL=RUN_DIR... [--hline LABEL=PERCENT]..." >&2
  [[ $# -ge 1 && ($1 == -h || $1 == --help) ]] && exit 0
  exit 2
fi
out=$1
shift
out_dir=$(dirname -- "$out")
[[ -d $out_dir && -w $out_dir ]] || die "cannot write '$out': folder '$out_dir' is missing or not writable"
command -v python3 >/dev/null || die "python3 is required (to read run.json)"
command -v gnuplot >/dev/null || die "gnuplot is required (Debian: apt-get install gnuplot-nox, or run cmake/install-deps.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/plot_race.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Arguments -> one data file per run (forwards, dev %) and plot.gp.
python3 - "$work" "$out" "$@" <<'PY'
import json, os, sys

work, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]
def die(msg):
    print(f"plot_race.sh: error: {msg}", file=sys.stderr)
    sys.exit(1)

runs, hlines, i = [], [], 0
while i < len(args):
    a = args[i]
    if a == "--hline":
        if i + 1 >= len(args) or "=" not in args[i + 1]:
            die("--hline needs LABEL=PERCENT")
        label, value = args[i + 1].rsplit("=", 1)
        try:
            hlines.append((label, float(value)))
        except ValueError:
            die(f"--hline {args[i + 1]}: '{value}' is not a number")
        i += 2
        continue
    if "=" not in a:
        die(f"'{a}': expected LABEL=RUN_DIR")
    label, run_dir = a.rsplit("=", 1)  # a label may hold "=" (N=8), a folder rarely does
    path = os.path.join(run_dir, "run.json")
    try:
        with open(path) as f:
            run = json.load(f)
    except OSError as e:
        die(f"{label}: cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        die(f"{label}: {path} is not JSON: {e}")
    try:
        points = [(0, 100 * run["zero_shot"]["dev_accuracy"])]
        for e in run["evaluations"]:
            if "forwards" not in e:
                die(f"{label}: {path} has evaluations without 'forwards' (a run made before "
                    "mezo-sst2 recorded them)")
            points.append((e["forwards"], 100 * e["dev_accuracy"]))
    except (KeyError, TypeError) as e:
        die(f"{label}: {path} lacks {e}")
    runs.append((label, points))
    i += 1
if not runs:
    die("no runs given")

plots = []
for k, (label, points) in enumerate(runs):
    with open(os.path.join(work, f"run{k}.dat"), "w") as f:
        for x, y in points:
            f.write(f"{x} {y}\n")
    plots.append(f"'{work}/run{k}.dat' using 1:2 with linespoints lw 2 pt 7 ps 0.8 title "
                 f"{json.dumps(label)}")
for label, value in hlines:
    plots.append(f"{value} with lines dt 2 lw 1.5 title {json.dumps(label)}")
with open(os.path.join(work, "plot.gp"), "w") as f:
    f.write(f"""set terminal {'pngcairo' if os.environ.get('PLOT_PNGCAIRO', '1') == '1' else 'png'} size 1000,600
set output {json.dumps(out)}
set xlabel "forward passes"
set ylabel "dev accuracy (%)"
set grid
set offsets 0, 0, 2, 2
set key outside right
plot {", ".join(plots)}
""")
PY
if ! gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
  sed -i 's/^set terminal pngcairo/set terminal png/' "$work/plot.gp"
fi
gnuplot "$work/plot.gp" || die "gnuplot failed"
[[ -s $out ]] || die "gnuplot wrote nothing to '$out'"
echo "$prog: wrote $out"
