#!/usr/bin/env python3
"""Makes tests/fixtures/answer_metrics.json: SQuAD v1.1's official EM and F1 on hand-made cases.

normalize_answer, exact_match_score and f1_score below restate the official
SQuAD v1.1 evaluation script (evaluate-v1.1.py; the MeZO reference code's
large_models/metrics.py copies them): lower-case, remove string.punctuation,
remove the articles a/an/the (regex \\b(a|an|the)\\b), collapse whitespace;
EM = equal normalised strings; F1 over the shared words (Counter &). Each
case's score is the maximum over its gold answers, as the script takes it.
The C++ test (tests/sst2/answer_metrics_test.cpp) compares
examples/sst2/answer_metrics.cpp with these values.

Run from the repository root (Python 3 only; instant):

    python3 tools/make_answer_metric_fixtures.py [--out tests/fixtures/answer_metrics.json]
"""
import argparse
import collections
import json
import pathlib
import re
import string

ROOT = pathlib.Path(__file__).resolve().parent.parent


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


CASES = [
    ("Denver Broncos", ["Denver Broncos", "The Denver Broncos"]),
    ("the Denver Broncos!", ["Denver Broncos"]),
    ("Broncos", ["Denver Broncos"]),
    ("Carolina Panthers", ["Denver Broncos"]),
    ("", ["Denver Broncos"]),
    ("an apple a day", ["apple day"]),
    ("banana and anthem", ["banana anthem"]),
    ("The  quick\tbrown\nfox.", ["quick brown fox"]),
    ("well-known (1999)", ["wellknown 1999"]),
    ("Santa Clara, California", ["Levi's Stadium", "Santa Clara", "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."]),
    ("the the the", ["the"]),
    ("New York New York", ["New York"]),
    ("A", ["a"]),
    ("1,000 troops", ["1000", "1000 troops", "about 1,000 troops"]),
    ("Ask the A Team", ["a team"]),
    ("it's", ["its"]),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/fixtures/answer_metrics.json")
    args = parser.parse_args()
    cases = [{"prediction": p, "golds": g, "normalized": normalize_answer(p),
              "exact_match": float(max(exact_match_score(p, x) for x in g)),
              "f1": max(f1_score(p, x) for x in g)} for p, g in CASES]
    args.out.write_text(json.dumps({"generated_by": "tools/make_answer_metric_fixtures.py", "cases": cases},
                                   indent=1) + "\n")
    print(f"wrote {args.out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
