#!/usr/bin/env python3
"""Makes tests/fixtures/decoder/real_decoders_reference.json: transformers' figures for real decoders.

For each real decoder tools/fetch_model.sh fetches besides SmolLM2 (which has its own,
richer reference: tools/make_real_model_reference.py), transformers' own GGUF loader
(every tensor dequantized to fp32) runs the fetched file in fp32 and this records what a
correct C++ forward of the same file must reproduce (tests/real_decoders_test.cpp):
  prompt_ids, top_ids, top_log_probs: the 10 most likely next tokens after
      "The capital of France is" (the tokenizer's BOS first where it adds one);
  paragraph_ids, paragraph_nll: a factual paragraph repeated six times (686 tokens for
      Gemma 3, past its 512-token sliding window) and the mean negative log-likelihood
      of its tokens 1..n-1 given those before.
Only ids and figures are written: no part of a model file.

Models (--model NAME=PATH, repeatable; default: each one tools/fetch_model.sh has in the
user cache): gemma-3-270m, Qwen2.5-Coder-0.5B-Instruct.

Run from the repository root (torch, transformers, gguf; about a minute per model):

    python3 tools/make_real_decoder_reference.py
"""
import argparse
import json
import os
import pathlib

import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/decoder/real_decoders_reference.json"
FILES = {"gemma-3-270m": "gemma-3-270m-q4_k_m.gguf",
         "Qwen2.5-Coder-0.5B-Instruct": "Qwen2.5-Coder-0.5B-Instruct.gguf"}
PROMPT = "The capital of France is"
PARAGRAPH = (
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
    "combined movable metal type, oil-based ink and a wooden press adapted from those used to make "
    "wine. Before his invention, books were copied by hand, a slow and costly craft that kept "
    "reading the privilege of monasteries, courts and universities. Within a few decades printing "
    "shops had spread to more than two hundred cities across Europe, and millions of volumes were "
    "in circulation. Pamphlets, broadsheets and newspapers followed, carrying news, scientific "
    "discoveries and religious controversy to readers who had never owned a book. ")
REPEATS = 6


def reference(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                               dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    ids = tok(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        top = torch.log_softmax(model(ids).logits[0, -1].double(), -1).topk(10)
    para = tok(PARAGRAPH * REPEATS, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(para).logits[0].double()
    nll = float(-torch.log_softmax(logits[:-1], -1).gather(1, para[0, 1:].unsqueeze(1)).mean())
    print(f"{path.name}: {para.shape[1]} paragraph tokens, NLL {nll:.7f}, top {top.indices[:3].tolist()}")
    return {"file": path.name, "prompt": PROMPT, "prompt_ids": ids[0].tolist(),
            "top_ids": top.indices.tolist(), "top_log_probs": top.values.tolist(),
            "paragraph_ids": para[0].tolist(), "paragraph_nll": nll}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH")
    args = ap.parse_args()
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "libmezo/models"
    paths = dict(m.split("=", 1) for m in args.model) or {
        name: cache / name / file for name, file in FILES.items() if (cache / name / file).exists()}
    out = {"generated_by": "tools/make_real_decoder_reference.py", "transformers": transformers.__version__,
           "paragraph": PARAGRAPH, "paragraph_repeats": REPEATS, "models": {}}
    if OUT.exists():
        out["models"] = json.loads(OUT.read_text())["models"]  # models not rerun keep their figures
    for name, path in paths.items():
        out["models"][name] = reference(pathlib.Path(path))
    OUT.write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
