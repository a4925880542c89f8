#!/usr/bin/env python3
"""Makes tests/fixtures/spm_tokenizer_cases.json: reference ids for the SentencePiece tokenizer.

tests/sentencepiece_test.cpp compares libmezo's SentencePiece tokenizer (src/text/sentencepiece.cpp,
llama.cpp's SPM algorithm) with these ids. Two parts:

  "tiny": a 600-piece SentencePiece BPE vocabulary trained here on 3,000 SST-2 training
      sentences (byte fallback, identity normalisation, no whitespace collapsing, a dummy
      prefix: the settings of Llama 2's and Gemma's models), with a control piece <ctl> and
      user-defined pieces <tag> and @@, written as GGUF writes a vocabulary (pieces, scores,
      token types: unknown 2, control 3, user-defined 4, byte 6, else normal 1). Its ids are
      llama.cpp's rule computed with the sentencepiece library: the text is cut at unknown,
      control and user-defined pieces (leftmost-longest), each of those is its own id, and
      every other stretch is encoded by sentencepiece itself, which adds the "▁" prefix to
      each stretch as llama.cpp does when add_space_prefix is set (SentencePiece's own encode
      adds it only at the start of the text, and does not cut at control pieces).
  "gemma3": ids of the real Gemma 3 270M vocabulary (tools/fetch_model.sh gemma-3-270m;
      262,144 pieces, add_space_prefix false) from Hugging Face transformers' GemmaTokenizer
      loaded from the same GGUF file; where xllamacpp (llama.cpp) is installed, the script
      also checks that llama.cpp counts the same number of tokens for each string (its server
      reports only the count: prompt_tokens, BOS included). Only strings and ids are written:
      no part of the Gemma file is committed (its terms are not an open-source licence).

The strings: edge cases (whitespace runs, tabs and newlines, digits, emoji, CJK, combining
marks, special and user-defined pieces, text that is only special pieces) and 40 sentences of
SST-2's GLUE dev.tsv.

Run from the repository root (needs sentencepiece; transformers and gguf for gemma3; a few
seconds):

    python3 tools/make_spm_tokenizer_fixtures.py [--data ../shared/data] \\
        [--gemma "$(tools/fetch_model.sh gemma-3-270m)"] [--out tests/fixtures/spm_tokenizer_cases.json]
"""
import argparse
import io
import json
import pathlib

import sentencepiece as spm

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTROL = ["<ctl>"]
USER_DEFINED = ["<tag>", "@@"]

EDGE_CASES = [
    "", " ", "  ", "Hello", " Hello", "Hello world", "  two leading spaces", "trailing spaces  ",
    "a  b   c    d", "tabs\tand\ttabs", "lines\nand\n\nblank lines\n", "\n", "\t \n",
    "digits 0123456789 and 3.14159", "emoji 😀🎉 and ❤️", "日本語のテキスト", "café naïve Ünïcödé",
    "combining e\u0301 marks", "non\u00a0breaking space", "aaaaaaaaaaaaaaaaaaaaaaaa",
    "it 's a charming and often affecting journey .",
    "<tag>inside<tag>", "@@start and end@@", "<ctl>", "<ctl><ctl>", "<s>", "</s>", "x<s>y</s>z",
    "<unk> is a piece too", "a <tag> b <ctl> c", "<start_of_turn>user\nhi<end_of_turn>\n",
    "<bos>text", "    code indented\n        more", "Q: what?\nA:",
]


def sst2_sentences(data, n):
    lines = (data / "SST-2/glue/dev.tsv").read_text(encoding="utf-8").splitlines()[1:n + 1]
    return [line.split("\t")[0].strip() for line in lines]


def train_tiny(data):
    lines = (data / "SST-2/glue/train.tsv").read_text(encoding="utf-8").splitlines()[1:3001]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(line.split("\t")[0] for line in lines), model_writer=model,
        model_type="bpe", vocab_size=600, byte_fallback=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
        control_symbols=CONTROL, user_defined_symbols=USER_DEFINED, character_coverage=1.0,
        minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def gguf_type(sp, i):
    if sp.is_unknown(i):
        return 2
    if sp.is_control(i):
        return 3
    if sp.is_byte(i):
        return 6
    if sp.is_unused(i):
        return 5
    return 4 if sp.id_to_piece(i) in USER_DEFINED else 1


def llama_cpp_ids(sp, atomic, text):
    """llama.cpp's SPM rule (add_space_prefix on): cut at atomic pieces, encode each stretch."""
    ids, start, pos = [], 0, 0
    while pos < len(text):
        match = max((t for t in atomic if text.startswith(t, pos)), key=len, default=None)
        if match is None:
            pos += 1
            continue
        if pos > start:
            ids += sp.encode(text[start:pos])
        ids.append(atomic[match])
        pos += len(match)
        start = pos
    if start < len(text):
        ids += sp.encode(text[start:])
    return ids


def gemma_cases(path, strings):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    cases = [{"string": s, "ids": tok.encode(s, add_special_tokens=False)} for s in strings]
    try:
        import xllamacpp as xl
    except ImportError:
        print("xllamacpp not installed: llama.cpp's token counts not checked")
        return cases, False
    params = xl.CommonParams()
    params.model.path = str(path)
    params.n_ctx = 1024
    params.warmup = False
    server = xl.Server(params)
    for c in cases:
        if not c["string"]:
            continue  # llama.cpp's server refuses an empty prompt
        r = server.handle_completions({"prompt": c["string"], "n_predict": 1, "cache_prompt": False})
        got = r["usage"]["prompt_tokens"]
        assert got == len(c["ids"]) + 1, (c, got)  # + BOS
    return cases, True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=pathlib.Path, default=ROOT.parent / "shared/data")
    ap.add_argument("--gemma", type=pathlib.Path, help="the Gemma 3 270M GGUF (tools/fetch_model.sh gemma-3-270m)")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/fixtures/spm_tokenizer_cases.json")
    args = ap.parse_args()
    strings = EDGE_CASES + sst2_sentences(args.data, 40)

    sp = train_tiny(args.data)
    n = sp.get_piece_size()
    types = [gguf_type(sp, i) for i in range(n)]
    atomic = {sp.id_to_piece(i): i for i in range(n) if types[i] in (2, 3, 4)}
    tiny = {"vocab": {"tokens": [sp.id_to_piece(i) for i in range(n)],
                      "scores": [sp.get_score(i) for i in range(n)], "token_types": types,
                      "unknown": sp.unk_id(), "begin": sp.bos_id(), "end": sp.eos_id()},
            "cases": [{"string": s, "ids": llama_cpp_ids(sp, atomic, s)} for s in strings]}
    # Where no atomic piece is in the text, llama.cpp's rule is SentencePiece's own.
    for c in tiny["cases"]:
        if not any(t in c["string"] for t in atomic):
            assert c["ids"] == sp.encode(c["string"]), c
    out = {"generated_by": "tools/make_spm_tokenizer_fixtures.py", "tiny": tiny}
    if args.gemma:
        cases, counted = gemma_cases(args.gemma, strings)
        out["gemma3"] = {"file": args.gemma.name, "llama_cpp_counts_checked": counted, "cases": cases}
    args.out.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
