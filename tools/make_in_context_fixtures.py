#!/usr/bin/env python3
"""Makes tests/fixtures/in_context_prompts.json: the MeZO paper's in-context prompts for fixed rows.

The MeZO reference code's ICL baseline (princeton-nlp/MeZO, large_models/icl.sh
without --train_set_seed) gives evaluation example i its own demonstrations:
seeds = RandomState(0).randint(0, 10000, n); example i's are the first
num_train of permutation(len(train), seed_i) (tasks.py sample_train_sets,
sample_subset), and utils.py encode_prompt assembles

    demos  = "\\n\\n".join(verbalize(d, d.correct).strip() for d in demonstrations).strip()
    prompt = (demos + "\\n\\n" + verbalize_or_encode(example).strip(" ")).lstrip().strip(" ")

(train_sep "\\n\\n"; a generation task's demonstration is its prompt, " ", the
first gold answer and "\\n", stripped). This script restates that on a few rows
per kind: SST-2 (GLUE train.tsv, the SST2Template), RTE (classification), COPA
(multiple choice) and SQuAD (generation, rendered by
make_task_prompt_fixtures.py), pool = POOL rows, queries = the next QUERIES,
COUNT demonstrations each. The C++ test (tests/sst2/demonstrations_test.cpp)
renders the same rows with examples/sst2 and compares the texts and seeds.

Run from the repository root (needs NumPy; instant):

    python3 tools/make_in_context_fixtures.py [--data ../shared/data] [--out tests/fixtures/in_context_prompts.json]
"""
import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_task_prompt_fixtures as tasks  # noqa: E402  (the templates, stated once)

ROOT = pathlib.Path(__file__).resolve().parent.parent
POOL, QUERIES, COUNT = 6, 3, 4


def sst2(row):
    text = row["sentence"].strip()
    p = f"{text} It was"
    return p, [f"{text} It was {w}" for w in ("terrible", "great")], row["label"]


def in_context(pool, queries):
    seeds = np.random.RandomState(0).randint(0, 10000, len(queries))
    out = []
    for i, (prompt, verbalized, _label, *_golds) in enumerate(queries):
        np.random.seed(int(seeds[i]))
        picks = np.random.permutation(len(pool)).tolist()[:COUNT]
        demos = "\n\n".join(pool[j][1][pool[j][2]].strip() for j in picks).strip()
        out.append({"prompt": (demos + "\n\n" + prompt.strip(" ")).lstrip().strip(" "),
                    "verbalized": [(demos + "\n\n" + v.strip(" ")).lstrip().strip(" ") for v in verbalized]})
    return [int(s) for s in seeds], out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/fixtures/in_context_prompts.json")
    args = parser.parse_args()
    n = POOL + QUERIES

    def jsonl(path):
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]
    glue = (args.data / "SST-2/glue/train.tsv").read_text(encoding="utf-8").splitlines()[1:n + 1]
    rows = {"sst2": [{"sentence": s, "label": int(l)} for s, l in (line.split("\t") for line in glue)],
            "rte": jsonl(args.data / "superglue/RTE/val.jsonl"),
            "copa": jsonl(args.data / "superglue/COPA/val.jsonl"),
            "squad": tasks.squad_rows(args.data / "squad/dev-v1.1.json")[:n]}
    render = {"sst2": sst2, "rte": tasks.rte, "copa": tasks.copa, "squad": tasks.squad}
    out = {"generated_by": "tools/make_in_context_fixtures.py", "count": COUNT, "tasks": {}}
    for name, task_rows in rows.items():
        rendered = [render[name](r) for r in task_rows]
        seeds, examples = in_context(rendered[:POOL], rendered[POOL:])
        out["seeds"] = seeds
        out["tasks"][name] = {"pool": task_rows[:POOL], "queries": task_rows[POOL:], "examples": examples}
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
