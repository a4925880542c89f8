#!/usr/bin/env python3
"""Compares the per-step projected gradients of two mezo-sst2 runs that share
their seeds (e.g. --compute fp32 vs bf16): the Pearson correlation over the
first STEPS steps, the mean and RMS of their difference, and each run's RMS.

    tools/grad_correlation.py RUN_A RUN_B [STEPS]     (default 200)

RUN_A and RUN_B are run folders (their metrics.jsonl is read). Rejected
steps (no projected gradient) are left out of both. Exit 2 for a folder
without metrics, or runs with fewer than 2 common steps.
"""
import json
import math
import sys


def grads(run, steps):
    out = {}
    try:
        lines = open(f"{run}/metrics.jsonl").read().splitlines()
    except OSError as e:
        sys.exit(f"grad_correlation: {run}: {e.strerror}")
    for n, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):
                break  # a torn last line (a killed run): ignored, as --resume does
            sys.exit(f"grad_correlation: {run}/metrics.jsonl line {n}: not JSON")
        if "projected_grad" in rec and rec.get("step", steps) < steps and "rejected" not in rec:
            out[rec["step"]] = float(rec["projected_grad"])
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    steps = int(sys.argv[3]) if len(sys.argv) == 4 else 200
    a, b = grads(sys.argv[1], steps), grads(sys.argv[2], steps)
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        print(f"grad_correlation: only {len(common)} common steps", file=sys.stderr)
        sys.exit(2)
    x = [a[s] for s in common]
    y = [b[s] for s in common]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((u - mx) * (v - my) for u, v in zip(x, y))
    sxx = sum((u - mx) ** 2 for u in x)
    syy = sum((v - my) ** 2 for v in y)
    diff = [v - u for u, v in zip(x, y)]
    rms = lambda v: math.sqrt(sum(t * t for t in v) / len(v))
    print(json.dumps({
        "steps": len(common),
        "correlation": sxy / math.sqrt(sxx * syy),
        "rms_a": rms(x), "rms_b": rms(y),
        "mean_difference": sum(diff) / len(diff), "rms_difference": rms(diff),
    }, indent=1))


if __name__ == "__main__":
    main()
