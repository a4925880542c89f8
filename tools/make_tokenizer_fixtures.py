#!/usr/bin/env python3
"""Make tests/fixtures/tokenizer_cases.json, the reference ids for tests/tokenizer_test.cpp.

What it makes: a JSON file with a list of cases {string, roberta_ids, bert_ids}: the ids that
Hugging Face's fast (Rust `tokenizers`) RoBERTa and BERT-uncased tokenizers give for a fixed
list of tricky strings (contractions, numbers, punctuation runs, odd whitespace, accents, CJK,
emoji, mixed scripts, control characters, very long words, special tokens inside text) and
~20 real SST-2 dev sentences, all with add_special_tokens=False.

The tokenizers are built offline from the shared vocabulary files only (never from the hub):
  roberta: RobertaTokenizerFast(vocab=<vocab.json>, merges=<merges.txt>) with the <mask> token
           lstrip=True, as in the roberta-base tokenizer.json on the hub and transformers 4.x's
           RobertaTokenizerFast default (transformers 5 built from bare files drops the lstrip).
  bert:    BertTokenizerFast(vocab=<vocab.txt>) (lower-casing, accent stripping: the
           bert-base-uncased settings).
As a cross-check it also runs the pure-Python ("slow") algorithms: the classic GPT-2 encoder
(regex module, min-rank merges) with transformers 4.x's added-token splitting, and
transformers' BertTokenizerLegacy. Where slow and fast disagree the fast ids are the
reference (what users run); the case then also records "roberta_slow_ids"/"bert_slow_ids"
and the disagreement is printed.

Run (needs transformers + tokenizers + regex; no network):
  HF_HUB_OFFLINE=1 /work/venv/bin/python tools/make_tokenizer_fixtures.py \
      --shared-data ../shared/data --out tests/fixtures/tokenizer_cases.json
"""

import argparse
import json
import os
import sys
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import regex  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import AddedToken, BertTokenizerFast, RobertaTokenizerFast  # noqa: E402

# Hand-picked strings; each exercises one rule of the pre-tokenisers or normalisers.
TRICKY = [
    "",
    # contractions (GPT-2's regex is case-sensitive: 'M is not a contraction)
    "it's",
    "don't",
    "they'll",
    "I'M",
    "we're here, you've been, I'd say, she'd've",
    "'s 't 're 've 'm 'll 'd",
    "rock 'n' roll '' ''quoted'' 'tis",
    "it 's a film that n't 's",
    # numbers
    "3.14",
    "1,000,000",
    "2nd",
    "in 1999 and 2024, 42% of 7/8",
    "\u0663\u0664 \u216b \u00bd \u00b2",
    # punctuation runs
    "!!!...",
    "?!?",
    "--",
    "a--b ... !? ;-)",
    "\u00a1Hola! \u00abquotes\u00bb \u201csmart\u201d \u2014 dash",
    "$100 #tag @user a_b c-d e.f",
    # whitespace
    "  leading",
    "trailing  ",
    "a  b",
    "a   b",
    "a\tb",
    "a \t b",
    "a\n\nb",
    "line1\r\nline2",
    "   ",
    "\t",
    " ",
    "a\u00a0b  \u00a0c",
    "x\u3000y",
    "a\u2028b",
    "a\x1cb \x1f c",
    "zero\u200bwidth",
    "next\x85line",
    "a \n b",
    "end \n",
    # accents and case
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "\u00c5ngstr\u00f6m",
    "\u00c9COLE",
    "cafe\u0301 (combining)",
    "\u0130stanbul",
    "\u039f\u0394\u039f\u03a3",
    "Stra\u00dfe",
    # CJK
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\u4e2d\u6587",
    "\ud55c\uad6d\uc5b4",
    "\U00020000\U0002b820\U0002ceb0",
    "\uf900 \u3400",
    # emoji
    "\U0001f44d\U0001f3fd great \U0001f389",
    "\U0001f970",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    # mixed scripts
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u0939\u093f\u0928\u094d\u0926\u0940",
    "\u0e44\u0e17\u0e22",
    "abc\u0430\u0431\u0432123",
    # control, format, private-use and unassigned characters
    "a\x00b",
    "a\x07b",
    "\ufffd",
    "soft\u00adhyphen",
    "\ue000x",
    "\u0378y",
    "\u2e45z",
    # Unicode-version quirks of the Rust implementation: BERT's classes come from Unicode 8.0
    # tables (no unassigned category), its CJK ranges start Extension E at U+2B920, its
    # lower-casing and the GPT-2 regex's \p{L}/\p{N} know Unicode 16+.
    "a\u166db a\u0890b a\u07fdb \U00011938x a\u1885b",
    "\U0002b820\U0002b920 \U0002ebf0 \U00031350",
    "\ua7cb\ua7dc \U00010d50 \U00016d70 \u1c89",
    # very long words (> 100 characters)
    "a" * 120,
    "supercalifragilistic" * 6,
    "x" + "!" * 150,
    # special tokens inside text
    " It was<mask>.",
    " It was <mask>.",
    "<mask>",
    "a  \t<mask> b",
    "<s>hello</s>",
    "<mask><mask>",
    "x <mask> <mask> y",
    "<unk> <pad>",
    "<mas k> <MASK>",
    "the movie was [MASK].",
    "[CLS] a [SEP]",
    "[mask] [MASK][MASK]",
    "it 's a charming film . It was <mask> .",
]


def sst2_lines(shared_data: Path, count: int):
    """Every k-th sentence of SST-2 dev (the sentence column, trailing space kept)."""
    lines = (shared_data / "SST-2/glue/dev.tsv").read_text(encoding="utf-8").split("\n")[1:]
    sentences = [line.split("\t")[0] for line in lines if line]
    step = len(sentences) // count
    return [sentences[i * step] for i in range(count)]


# --- slow reference: the classic GPT-2 encoder (transformers 4.x tokenization_gpt2.py) ---

GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class SlowGpt2:
    SPECIALS = ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]

    def __init__(self, vocab_json: Path, merges_txt: Path):
        self.encoder = json.loads(vocab_json.read_text(encoding="utf-8"))
        merges = merges_txt.read_text(encoding="utf-8").split("\n")[1:-1]
        self.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.special = regex.compile("(" + "|".join(regex.escape(s) for s in
                                                   sorted(self.SPECIALS, key=len, reverse=True)) + ")")

    @lru_cache(maxsize=None)
    def bpe(self, token):
        word = tuple(token)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        return word

    def encode(self, text):
        parts = self.special.split(text)
        ids = []
        for k, part in enumerate(parts):
            if k % 2 == 1:
                ids.append(self.encoder[part])
                continue
            if k + 1 < len(parts) and parts[k + 1] == "<mask>":  # lstrip=True
                part = part.rstrip()
            for token in GPT2_PATTERN.findall(part):
                mapped = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
                ids.extend(self.encoder.get(t, self.encoder["<unk>"]) for t in self.bpe(mapped))
        return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/tokenizer_cases.json"))
    parser.add_argument("--sst2-count", type=int, default=20)
    args = parser.parse_args()

    tok_dir = args.shared_data / "tokenizers"
    roberta_vocab = tok_dir / "roberta-base/vocab.json"
    roberta_merges = tok_dir / "roberta-base/merges.txt"
    bert_vocab = tok_dir / "bert-base-uncased/vocab.txt"

    mask = AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)
    roberta = RobertaTokenizerFast(vocab=str(roberta_vocab), merges=str(roberta_merges),
                                   mask_token=mask)
    bert = BertTokenizerFast(vocab=str(bert_vocab))
    assert len(roberta) == 50265 and roberta.convert_tokens_to_ids("<mask>") == 50264, len(roberta)
    assert len(bert) == 30522 and bert.convert_tokens_to_ids("[MASK]") == 103, len(bert)
    assert roberta(" great", add_special_tokens=False).input_ids == [372]
    assert bert("great", add_special_tokens=False).input_ids == [2307]

    slow_roberta = SlowGpt2(roberta_vocab, roberta_merges)
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    slow_bert = BertTokenizerLegacy(vocab_file=str(bert_vocab))

    strings = sst2_lines(args.shared_data, args.sst2_count) + TRICKY
    cases = []
    disagreements = 0
    for s in strings:
        case = {
            "string": s,
            "roberta_ids": roberta(s, add_special_tokens=False).input_ids,
            "bert_ids": bert(s, add_special_tokens=False).input_ids,
        }
        slow_r = slow_roberta.encode(s)
        slow_b = slow_bert.convert_tokens_to_ids(slow_bert.tokenize(s))
        if slow_r != case["roberta_ids"]:
            case["roberta_slow_ids"] = slow_r
            disagreements += 1
            print(f"roberta slow != fast for {s!r}: {slow_r} vs {case['roberta_ids']}",
                  file=sys.stderr)
        if slow_b != case["bert_ids"]:
            case["bert_slow_ids"] = slow_b
            disagreements += 1
            print(f"bert slow != fast for {s!r}: {slow_b} vs {case['bert_ids']}", file=sys.stderr)
        cases.append(case)

    fixture = {
        "about": "Reference ids of Hugging Face's fast RoBERTa (roberta-base, <mask> lstrip) and "
                 "BERT (bert-base-uncased) tokenizers, add_special_tokens=False. Made by "
                 "tools/make_tokenizer_fixtures.py; *_slow_ids, where present, are the differing "
                 "ids of the pure-Python algorithms.",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fixture, ensure_ascii=True, indent=None, separators=(",", ":"))
    # One case per line keeps diffs readable.
    text = text.replace('{"string"', '\n{"string"')
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases ({disagreements} slow/fast disagreements) to {args.out} "
          f"({len(text)} bytes)")


if __name__ == "__main__":
    main()
