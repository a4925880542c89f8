#!/usr/bin/env python3
"""Prints docs/results.md's table of the MeZO paper's other tasks from tools/task_results.sh's runs.

    python3 tools/task_table.py RUNS_DIR

Per task: the split (train + dev drawn, test size), the majority baseline (the
largest share of one answer among the test examples' right answers), zero-shot
dev and test accuracy, the calibrated zero-shot test accuracy (two-answer
tasks), the in-context (--demos 32) test accuracy, and, where RUNS_DIR has them, the dev accuracy of each sweep run and the
best-by-dev test accuracy of the MeZO run. Generation tasks (SQuAD, DROP) are
marked "F1": their figures are F1 (run.json's "metric"), with the zero-shot
test exact match beside it, and they have no majority baseline.
"""
import glob
import json
import os
import sys

TASKS = ["rte", "cb", "boolq", "wsc", "wic", "multirc", "copa", "squad", "drop"]


def load(path):
    try:
        j = json.load(open(path))
    except FileNotFoundError:
        return None
    return j if "result" in j else None


def pct(x):
    return f"{100 * x:.1f}"


def main():
    runs = sys.argv[1]
    print("| task | train + dev (test) | majority | zero-shot dev | zero-shot test | calibrated test | in-context test | MeZO lr sweep: dev | MeZO test |")
    print("|---|---|--:|--:|--:|--:|--:|---|--:|")
    for t in TASKS:
        z = load(f"{runs}/zero-shot-{t}/run.json")
        if z is None:
            print(f"| {t} | not run | | | | | | | |")
            continue
        r = z["result"]
        split = f"{r['data']} ({r['test_examples']} test)"
        generation = r.get("metric") == "f1"
        majority = "–" if generation else pct(max(r["test_gold"]))
        cal = r.get("zero_shot_calibrated")
        cal_text = pct(cal["test_accuracy"]) if isinstance(cal, dict) and cal else "–"
        icl = load(f"{runs}/in-context-{t}/run.json")
        icl_text = pct(icl["result"]["test_accuracy"]) if icl else "–"
        sweeps = []
        for f in sorted(glob.glob(f"{runs}/sweep-{t}-*/run.json")):
            s = load(f)
            if s:
                sweeps.append(f"{s['options']['lr']:g}: {pct(s['best_dev_accuracy'])}")
        mezo = [load(f) for f in glob.glob(f"{runs}/mezo-{t}-*/run.json")]
        mezo = [m for m in mezo if m]
        mezo_text = ", ".join(f"{pct(m['result']['test_accuracy'])} (lr {m['options']['lr']:g}, "
                              f"best dev {pct(m['best_dev_accuracy'])} at step {m['best_step']})" for m in mezo)
        zero_test = pct(r["zero_shot_test_accuracy"])
        if generation:
            zero_test += f" (EM {pct(r['test_exact_match'])})" if r["steps"] == 0 else ""
        print(f"| {t}{' (F1)' if generation else ''} | {split or '–'} | {majority} | {pct(r['zero_shot_dev_accuracy'])} | "
              f"{zero_test} | {cal_text} | {icl_text} | {'; '.join(sweeps) or '–'} | {mezo_text or '–'} |")


if __name__ == "__main__":
    main()
