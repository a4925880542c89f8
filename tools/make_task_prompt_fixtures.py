#!/usr/bin/env python3
"""Makes tests/fixtures/task_prompts.json: the MeZO paper's prompts for fixed rows of each task.

For each built-in task of mezo-sst2 --task (examples/sst2/tasks.cpp) it takes
rows of the task's val.jsonl under ../shared/data/superglue (MultiRC cut to
its first question and that question's first two answers, to stay small; for
SQuAD, questions of squad/dev-v1.1.json as one row each, with their article's
title, paragraph's context and answers' texts; DROP's drop/val-1000.jsonl) and
writes the text the MeZO reference code's default template gives for them
(princeton-nlp/MeZO, large_models/templates.py; the class tasks.py picks:
BoolQTemplateV3 for BoolQ, version 0 for the others), after its
encode_prompt's .strip(' '): the prompt (encode) and the prompt followed by
each candidate (verbalize), the candidates in the order its build_sample lists
them, and the index of the right one (for SQuAD and DROP, whose templates
ignore the candidate: the prompt followed by " " + the first gold answer +
"\n", and every gold answer). The f-strings below restate that code's
templates; the C++ test compares tasks.cpp's rendering with these texts.

Run from the repository root (Python 3 only, no packages; instant):

    python3 tools/make_task_prompt_fixtures.py [--data ../shared/data] [--out tests/fixtures/task_prompts.json]
"""
import argparse
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def rte(d):
    p = f"{d['premise']}\nDoes this mean that \"{d['hypothesis']}\" is true? Yes or No?\n"
    return p, [p + w for w in ("Yes", "No")], ["entailment", "not_entailment"].index(d["label"])


def cb(d):
    p = f"Suppose {d['premise']} Can we infer that \"{d['hypothesis']}\"? Yes, No, or Maybe?\n"
    return p, [p + w for w in ("Yes", "No", "Maybe")], ["entailment", "contradiction", "neutral"].index(d["label"])


def boolq(d):
    q = d["question"]
    if not q.endswith("?"):
        q = q + "?"
    q = q[0].upper() + q[1:]
    p = f"{d['passage']} {q}\n"
    return p, [f"{d['passage']} {q}\n{c}" for c in ("Yes", "No")], 0 if d["label"] else 1


def wic(d):
    p = (f"Does the word \"{d['word']}\" have the same meaning in these two sentences? Yes, No?\n"
         f"{d['sentence1']}\n{d['sentence2']}\n")
    return p, [p + w for w in ("No", "Yes")], int(d["label"])


def wsc(d):
    t = d["target"]
    p = (f"{d['text']}\nIn the previous sentence, does the pronoun \"{t['span2_text'].lower()}\" "
         f"refer to {t['span1_text']}? Yes or No?\n")
    return p, [p + w for w in ("No", "Yes")], int(d["label"])


def multirc(d):
    passage = d["passage"]
    q = passage["questions"][0]
    out = []
    for a in q["answers"]:
        p = (f"{passage['text']}\nQuestion: {q['question']}\nI found this answer \"{a['text']}\". "
             f"Is that correct? Yes or No?\n")
        out.append((p, [p + w for w in ("No", "Yes")], a["label"]))
    return out


def copa(d):
    premise = d["premise"].rstrip()
    if premise.endswith("."):
        premise = premise[:-1]
    p = premise + {"effect": " so ", "cause": " because "}[d["question"]]

    def capitalize(c):
        words = c.split(" ")
        if words[0] != "I":
            words[0] = words[0].lower()
        return " ".join(words)
    return p, [p + capitalize(d[k]) for k in ("choice1", "choice2")], d["label"]


def squad(d):
    p = f"Title: {d['title']}\nContext: {d['context']}\nQuestion: {d['question'].strip()}\nAnswer:"
    return p, [f"{p} {d['answers'][0]}\n"], 0, d["answers"]


def drop(d):
    golds = [span for answer in d["answers"] for span in answer]
    p = f"Passage: {d['passage']}\nQuestion: {d['question']}\nAnswer:"
    return p, [f"{p} {golds[0]}\n"], 0, golds


def squad_rows(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [{"title": a["title"], "context": p["context"], "question": q["question"],
             "answers": [x["text"] for x in q["answers"]]}
            for a in doc["data"] for p in a["paragraphs"] for q in p["qas"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/fixtures/task_prompts.json")
    args = parser.parse_args()
    tasks = {"rte": ("RTE", rte, [0, 1]), "cb": ("CB", cb, [0, 1]), "boolq": ("BoolQ", boolq, [0, 1]),
             "wic": ("WiC", wic, [0, 1]), "wsc": ("WSC", wsc, [0, 1]), "multirc": ("MultiRC", multirc, [0]),
             "copa": ("COPA", copa, [3, 4])}  # row 3: an effect, a choice starting "I"; row 4: a cause
    out = {"generated_by": "tools/make_task_prompt_fixtures.py", "tasks": {}}
    for name, (folder, render, picks) in tasks.items():
        lines = (args.data / "superglue" / folder / "val.jsonl").read_text(encoding="utf-8").splitlines()
        cases = []
        for i in picks:
            row = json.loads(lines[i])
            if name == "multirc":
                q = dict(row["passage"]["questions"][0], answers=row["passage"]["questions"][0]["answers"][:2])
                row = dict(row, passage=dict(row["passage"], questions=[q]))
                rendered = render(row)
            else:
                rendered = [render(row)]
            examples = [{"prompt": p.strip(" "), "verbalized": [v.strip(" ") for v in vs], "label": label}
                        for p, vs, label in rendered]
            cases.append({"row": row, "examples": examples})
        out["tasks"][name] = cases
    assert {c["row"]["question"] for c in out["tasks"]["copa"]} == {"cause", "effect"}
    # SQuAD row 0, and row 111: a question with spaces around it (the template strips it).
    # DROP row 1: two accepted answers; row 7: an answer of two spans.
    squad_all = squad_rows(args.data / "squad/dev-v1.1.json")
    drop_lines = (args.data / "drop/val-1000.jsonl").read_text(encoding="utf-8").splitlines()
    for name, render, rows in (("squad", squad, [squad_all[0], squad_all[111]]),
                               ("drop", drop, [json.loads(drop_lines[i]) for i in (1, 7)])):
        cases = []
        for row in rows:
            p, vs, label, golds = render(row)
            cases.append({"row": row, "examples": [{"prompt": p.strip(" "), "verbalized": [v.strip(" ") for v in vs],
                                                    "label": label, "gold_answers": golds}]})
        out["tasks"][name] = cases
    assert squad_all[111]["question"] != squad_all[111]["question"].strip()
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
