#!/usr/bin/env python3
"""Tables of the optimizer race (docs/results.md, issue 23) from mezo-sst2 run folders.

    python3 tools/race_table.py RUNS

RUNS holds the run folders `tools/sst2_decoder_results.sh BUILD RUNS race` makes: sweep-METHOD-LR (600 forwards
each) and final-METHOD-LR-sSEED (3,000 forwards, a dev evaluation about every
250). Prints, as Markdown:
  - the sweeps: per method and lr, dev accuracy after ~600 forwards;
  - the finals: per run, dev accuracy at each evaluation (by forwards), the
    best dev and the forwards and wall-clock (the run's own elapsed_s at that
    evaluation) at which dev first reached 73%, and the test accuracy of the
    best-by-dev weights (and whether it reached 78%).
Only runs that finished (run.json has "result") are listed; others are named
as unfinished.
"""
import json
import pathlib
import sys


def load(folder):
    run = json.loads((folder / "run.json").read_text())
    elapsed = {}
    metrics = folder / "metrics.jsonl"
    if metrics.exists():
        for line in metrics.read_text().splitlines():
            try:
                j = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line
            if "dev_accuracy" in j and "after_steps" in j:
                elapsed[j["after_steps"]] = j.get("elapsed_s")
    return run, elapsed


def pct(x):
    return f"{100 * x:.1f}"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    sweeps, finals, unfinished = {}, [], []
    for folder in sorted(root.iterdir()):
        if not (folder / "run.json").exists():
            continue
        run, elapsed = load(folder)
        if "result" not in run:
            unfinished.append(f"{folder.name} ({run['steps_done']} steps)")
            continue
        o = run["options"]
        if folder.name.startswith("sweep-"):
            e = run["evaluations"][-1]
            sweeps.setdefault(o["optimizer"], []).append((o["lr"], e["forwards"], e["dev_accuracy"]))
        elif folder.name.startswith("final-"):
            finals.append((folder.name, run, elapsed))

    print("| method | lr | forwards | dev accuracy |")
    print("|---|--:|--:|--:|")
    for method, rows in sorted(sweeps.items()):
        best = max(rows, key=lambda r: (r[2], -r[0]))
        for lr, forwards, dev in sorted(rows):
            mark = "**" if (lr, forwards, dev) == best else ""
            print(f"| {method} | {lr:.0e} | {forwards} | {mark}{pct(dev)}{mark} |")
    print()
    for name, run, elapsed in finals:
        o, r = run["options"], run["result"]
        evals = run["evaluations"]
        print(f"{name}: {o['optimizer']}, lr {o['lr']:.0e}, seed {o['seed']}, "
              f"zero-shot dev {pct(run['zero_shot']['dev_accuracy'])}")
        print("| forwards | " + " | ".join(str(e["forwards"]) for e in evals) + " |")
        print("|---|" + "--:|" * len(evals))
        print("| dev % | " + " | ".join(pct(e["dev_accuracy"]) for e in evals) + " |")
        reach = next((e for e in evals if e["dev_accuracy"] >= 0.73), None)
        when = "not reached"
        if reach:
            seconds = elapsed.get(reach["step"])
            when = f"{reach['forwards']} forwards" + (f", {seconds / 60:.0f} min" if seconds else "")
        print(f"best dev {pct(r['best_dev_accuracy'])} at step {r['best_step']}; dev 73: {when}; "
              f"test of the best-by-dev weights {pct(r['test_accuracy'])}"
              f" ({'reaches' if r['test_accuracy'] >= 0.78 else 'below'} 78)")
        print()
    if unfinished:
        print("unfinished: " + ", ".join(unfinished))
    return 0


if __name__ == "__main__":
    sys.exit(main())
