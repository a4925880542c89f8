#!/usr/bin/env python3
"""Make the reference ids for the decoder LMs' byte-level BPE (tests/tokenizer_decoder_test.cpp).

What it writes:
  tests/fixtures/decoder_tokenizer_cases.json   strings and ids only (no vocabulary):
      "known_llama_cpp": llama.cpp's ids for SmolLM2-135M-Instruct (from ../shared/guide/DECODERS.md);
      "cases": for each string, the ids Hugging Face `tokenizers` gives with the SmolLM2 vocabulary
               under three pre-tokenizers ("smollm", "llama3", "qwen2") and with four tiny
               trained vocabularies ("tiny": {"gpt2", "smollm", "llama3", "qwen2"}).
  tests/fixtures/tiny-bpe/<pre>/tokenizer.json  the four tiny vocabularies (~10 KB each), trained here
      on SST-2 sentences, saved by `tokenizers` itself (merges as ["a", "b"] pairs), with special
      and non-special added tokens; smollm/ also has a tokenizer_config.json naming the specials
      (SmolLM2's layout), llama3/ a TemplateProcessing post-processor that puts
      <|begin_of_text|> first, qwen2/ Qwen2's NFC normalizer.
  <gguf folder>/hf-tokenizer/tokenizer.json (+ tokenizer_config.json)   the SmolLM2 vocabulary as a
      Hugging Face tokenizer.json, for load_hf_tokenizer_json on the real vocabulary. Not committed
      (2 MB); the tests skip without it.

The SmolLM2 references are built from the GGUF's own tokens and merges (tokenizer.ggml.tokens /
.merges / .token_type), so they check the GGUF reading as well as the algorithm:
  smollm: Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]
          -- what llama.cpp runs for tokenizer.ggml.pre = "smollm" (split every \\p{N} alone, then
          the GPT-2 regex);
  llama3: Sequence[Split(Llama 3's regex, isolated), ByteLevel(use_regex=False)], BPE ignore_merges
          (llama.cpp's "llama-bpe" sets ignore_merges);
  qwen2:  Sequence[Split(Qwen2's regex, isolated), ByteLevel(use_regex=False)].
The control tokens (token_type 3, ids 0-16) are special added tokens: kept whole in the text.
The script asserts that the smollm reference reproduces llama.cpp's known ids before writing.

Run (needs tokenizers + gguf; no network):
  /work/venv/bin/python tools/make_decoder_tokenizer_fixtures.py \\
      --gguf ~/.cache/libmezo/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf \\
      --shared-data ../shared/data
"""

import argparse
import json
import os
from pathlib import Path

import gguf
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer

ROOT = Path(__file__).resolve().parent.parent

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# llama.cpp's ids for SmolLM2-135M-Instruct (../shared/guide/DECODERS.md).
KNOWN_LLAMA_CPP = [
    ("Hello world! 123", [19556, 905, 17, 216, 33, 34, 35]),
    ("The capital of France is", [504, 3575, 282, 4649, 314]),
    (" great", [1109]),
    (" terrible", [13321]),
    ("Hello, we can use", [19556, 28, 392, 416, 722]),
    ("Caf\u00e9 d\u00e9j\u00e0 vu.", [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30]),
    ("  multiple   spaces", [216, 2701, 256, 5600]),
    ("\n", [198]),
]

# Hand-picked strings; each exercises one rule of the pre-tokenizers.
TRICKY = [s for s, _ in KNOWN_LLAMA_CPP] + [
    "",
    # contractions (GPT-2's are case-sensitive, Llama 3's and Qwen2's not)
    "it's", "don't", "they'll", "I'M", "WE'RE HERE, YOU'VE BEEN, I'D SAY", "she'd've",
    "'s 't 're 've 'm 'll 'd", "'S 'T 'RE 'VE 'M 'LL 'D", "rock 'n' roll '' ''quoted'' 'tis",
    "it 's a film that n't 's", "x'sy", "'hello",
    # numbers
    "3.14", "1,000,000", "12345678", "2nd", "in 1999 and 2024, 42% of 7/8", " 123", "a1b22c333d4444",
    "\u0663\u0664 \u216b \u00bd \u00b2", "x 1 2  3",
    # punctuation runs
    "!!!...", "?!?", "--", "a--b ... !? ;-)", "\u00a1Hola! \u00abquotes\u00bb \u201csmart\u201d \u2014 dash",
    "$100 #tag @user a_b c-d e.f", "(hello) [world] {x}", "...\n\nnext", "!!\r\n", "?\n\n", "a.\nb",
    # whitespace
    "  leading", "trailing  ", "a  b", "a   b", "a\tb", "a \t b", "a\n\nb", "line1\r\nline2", "   ", "\t",
    " ", "a\u00a0b  \u00a0c", "x\u3000y", "a \n b", "a\n \n b", " \n\n  x", "ends with newline\n",
    "\n\n\n", "tab\t\tx", "\r", "a\r\rb", "\u2028 \u2029", "\x0b\x0c", "\n  \n", "  \n", "x \t\n y",
    # letters beyond ASCII, CJK, emoji
    "na\u00efve caf\u00e9 r\u00e9sum\u00e9", "e\u0301t\u00e9", "\u00dcn\u00efc\u00f6d\u00e9",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4e2d\u6587\u5b57\u7b26\u6d4b\u8bd5",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "\u05e9\u05dc\u05d5\u05dd",
    "\u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\U0001f642\U0001f600\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "emoji\U0001f642inside", "\U0001f917 Hugging Face",
    "x\u200by", "\u00ad soft hyphen", "\u0928\u092e\u0938\u094d\u0924\u0947",
    # control characters
    "\x07bell", "\x1b[31mred\x1b[0m", "a\x00b",
    # special tokens in text (SmolLM2's control tokens; the tiny vocabularies' added tokens)
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "a<|endoftext|>b", "<|im_end|><|im_end|>", "<|im_start", "< |im_start| >",
    "<repo_name>x<file_sep>y", "use <tool> here", "fill  <|mask|> in", "<|begin_of_text|>Hi",
    # code, addresses
    "def f(x):\n    return x**2  # square", "if (a && b) { c++; }\n\tgo();",
    "http://example.com/path?q=1&r=2", "user@example.com",
    # long words
    "a" * 100, "Supercalifragilisticexpialidocious", "The Matrix (1999) is 136 minutes long.",
    "MeZO fine-tunes LLMs with forward passes only.",
]

TINY_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>"]


def read_gguf_vocab(path):
    reader = gguf.GGUFReader(str(path))

    def strings(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def ints(key):
        f = reader.fields[key]
        return [int(f.parts[i][0]) for i in f.data]

    def scalar(key):
        f = reader.fields[key]
        return f.parts[f.data[0]]

    assert bytes(scalar("tokenizer.ggml.model")).decode() == "gpt2"
    assert bytes(scalar("tokenizer.ggml.pre")).decode() == "smollm"
    return strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges"), ints("tokenizer.ggml.token_type")


def byte_level(use_regex):
    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=use_regex)


def pre_tokenizer(name):
    if name == "gpt2":
        return byte_level(True)
    if name == "smollm":
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level(True)])
    regex = LLAMA3_REGEX if name == "llama3" else QWEN2_REGEX
    split = pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False)
    return pre_tokenizers.Sequence([split, byte_level(False)])


def smollm2_tokenizer(tokens, merges, types, pre):
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ")) for m in merges]
    tok = Tokenizer(BPE(vocab=vocab, merges=pairs, ignore_merges=(pre == "llama3")))
    tok.pre_tokenizer = pre_tokenizer(pre)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i, t in enumerate(types) if t == 3])
    return tok


def tiny_tokenizer(pre, corpus):
    tok = Tokenizer(BPE(ignore_merges=(pre == "llama3")))
    if pre == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizer(pre)
    tok.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(vocab_size=400, special_tokens=TINY_SPECIALS, show_progress=False,
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_tokens([AddedToken("<tool>", normalized=False)])
    tok.add_special_tokens([AddedToken("<|mask|>", special=True, lstrip=True, normalized=False)])
    if pre == "llama3":
        bos = "<|begin_of_text|>"
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    return tok


def sst2_sentences(shared):
    lines = (Path(shared) / "SST-2" / "glue" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    sentences = [line.split("\t")[0] for line in lines]
    picked = sentences[::43][:20]
    return picked + [picked[0].rstrip() + " It was", picked[1] + " It was great"]


def sst2_train_corpus(shared):
    lines = (Path(shared) / "SST-2" / "glue" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:3001]
    return [line.split("\t")[0] for line in lines]


def main():
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    default_gguf = cache / "libmezo/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", type=Path, default=default_gguf)
    ap.add_argument("--shared-data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/decoder_tokenizer_cases.json")
    ap.add_argument("--tiny-dir", type=Path, default=ROOT / "tests/fixtures/tiny-bpe")
    ap.add_argument("--hf-json-dir", type=Path, default=None,
                    help="where to write SmolLM2's tokenizer.json (default: <gguf folder>/hf-tokenizer)")
    args = ap.parse_args()

    tokens, merges, types = read_gguf_vocab(args.gguf)
    refs = {pre: smollm2_tokenizer(tokens, merges, types, pre) for pre in ("smollm", "llama3", "qwen2")}
    for text, ids in KNOWN_LLAMA_CPP:
        got = refs["smollm"].encode(text, add_special_tokens=False).ids
        assert got == ids, f"smollm reference gives {got} for {text!r}, llama.cpp {ids}"

    corpus = sst2_train_corpus(args.shared_data)
    tiny = {pre: tiny_tokenizer(pre, corpus) for pre in ("gpt2", "smollm", "llama3", "qwen2")}

    strings = TRICKY + sst2_sentences(args.shared_data)
    assert len(set(strings)) == len(strings), "duplicate strings"
    cases = []
    for s in strings:
        case = {"string": s}
        for pre, tok in refs.items():
            case[pre] = tok.encode(s, add_special_tokens=False).ids
        case["tiny"] = {pre: tok.encode(s, add_special_tokens=False).ids for pre, tok in tiny.items()}
        cases.append(case)

    fixture = {
        "about": "Made by tools/make_decoder_tokenizer_fixtures.py with tokenizers " + tokenizers.__version__ +
                 "; SmolLM2 ids from the vocabulary of " + args.gguf.name,
        "smollm2_gguf": {"file": args.gguf.name, "bytes": args.gguf.stat().st_size,
                         "tokens": len(tokens), "merges": len(merges)},
        "known_llama_cpp": [{"string": s, "ids": ids} for s, ids in KNOWN_LLAMA_CPP],
        "cases": cases,
    }
    # One entry a line: small diffs when the list changes.
    def field(key, value):
        if isinstance(value, list):
            items = ",\n  ".join(json.dumps(v, ensure_ascii=True) for v in value)
            return f' "{key}": [\n  {items}\n ]'
        return f' "{key}": {json.dumps(value, ensure_ascii=True)}'
    text = "{\n" + ",\n".join(field(k, v) for k, v in fixture.items()) + "\n}\n"
    assert json.loads(text) == fixture
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(cases)} cases)")

    for pre, tok in tiny.items():
        d = args.tiny_dir / pre
        d.mkdir(parents=True, exist_ok=True)
        tok.save(str(d / "tokenizer.json"), pretty=False)
        print(f"wrote {d / 'tokenizer.json'} ({tok.get_vocab_size()} tokens)")
    (args.tiny_dir / "smollm" / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
        "unk_token": "<|endoftext|>", "add_bos_token": False}, indent=1) + "\n")

    hf_dir = args.hf_json_dir or args.gguf.parent / "hf-tokenizer"
    hf_dir.mkdir(parents=True, exist_ok=True)
    refs["smollm"].save(str(hf_dir / "tokenizer.json"), pretty=False)
    # SmolLM2-135M-Instruct's own tokenizer_config.json names these.
    (hf_dir / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
        "unk_token": "<|endoftext|>"}, indent=1) + "\n")
    print(f"wrote {hf_dir / 'tokenizer.json'} (not for the repository)")


if __name__ == "__main__":
    main()
