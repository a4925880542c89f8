#!/usr/bin/env python3
"""Makes tests/fixtures/decoder/generation_reference.json: transformers' greedy continuations.

For the tiny random decoders of tests/fixtures/decoder (made by
tools/make_decoder_fixtures.py; their hf/ folders) and for the real
SmolLM2-135M-Instruct GGUF (the pinned Q4_1 file, loaded by transformers' own
GGUF loader as tools/make_real_model_reference.py does), it runs
`model.generate(do_sample=False)` in fp32 with eager attention and records the
ids it chooses, so that libmezo's cached decoding (mezo::generate) can be
checked token for token against it.

Run from the repository root (needs torch, transformers, gguf, tokenizers,
numpy, accelerate, jinja2; about a minute on a CPU):

    python3 tools/make_generation_reference.py [--gguf PATH] [--out tests/fixtures/decoder/generation_reference.json]

Without --gguf it runs tools/fetch_model.sh SmolLM2-135M-Instruct itself.

What it writes (JSON):
  generated_by, torch, transformers: provenance;
  tiny: {model folder: {prompt_ids, generated_ids, min_margin}}: for each tiny
      model, the first 10 ids of expected.json's first row (the next row if
      that one's continuation has a near tie) as the prompt and
      the 40 greedy tokens after it (end-of-text not honoured, so there are
      always 40); min_margin is the smallest gap between the chosen logit and
      the runner-up over the 40 steps (asserted >= 1e-3, far above the float
      rounding a cached forward adds, so a tie cannot flip the test);
  smollm2: {gguf_sha256,
      capital: {prompt_ids, generated_ids, min_margin}: 30 greedy tokens after
          "The capital of France is" (no BOS: add_bos_token is false);
      chat: {question, template_text, prompt_ids, generated_ids}: the GGUF's
          tokenizer.chat_template rendered by jinja2 as transformers renders
          chat templates (sandboxed, trim_blocks, lstrip_blocks) for one user
          message with add_generation_prompt, its ids, and the greedy answer up
          to and including <|im_end|> (at most 60 tokens), and answer_text, the
          answer's text without <|im_end|>}.
"""
import argparse
import importlib.metadata
import json
import pathlib
import subprocess
import sys

import gguf
import jinja2.sandbox
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_real_model_reference as real  # noqa: E402  (its sha256 pin and tokenizer)

TINY = ["tiny-llama", "tiny-llama-untied", "tiny-qwen2", "tiny-llama3-scaled"]
TINY_PROMPT, TINY_NEW = 10, 40
CAPITAL_NEW = 30
QUESTION = "What is the capital of France?"
CHAT_MAX_NEW = 60


def greedy(model, prompt_ids, new_tokens, eos=None):
    """model.generate's greedy ids after the prompt, and the smallest top-1/top-2 logit gap."""
    out = model.generate(torch.tensor([prompt_ids]), max_new_tokens=new_tokens, do_sample=False,
                         eos_token_id=eos, pad_token_id=0, output_logits=True,
                         return_dict_in_generate=True)
    ids = out.sequences[0, len(prompt_ids):].tolist()
    margins = []
    for step, logits in enumerate(out.logits):
        top2 = torch.topk(logits[0].double(), 2)
        assert top2.indices[0].item() == ids[step]
        margins.append((top2.values[0] - top2.values[1]).item())
    return ids, min(margins)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=pathlib.Path, help="SmolLM2-135M-Instruct.Q4_1.gguf (default: fetch it)")
    parser.add_argument("--out", type=pathlib.Path,
                        default=ROOT / "tests/fixtures/decoder/generation_reference.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    result = {"generated_by": "tools/make_generation_reference.py",
              "torch": torch.__version__, "transformers": transformers.__version__, "tiny": {}}

    for name in TINY:
        folder = ROOT / "tests/fixtures/decoder" / name
        expected = json.loads((folder / "expected.json").read_text())
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(folder / "hf"), dtype=torch.float32, attn_implementation="eager").eval()
        model.generation_config.eos_token_id = None
        # The first row whose continuation has no near tie.
        for row in expected["input_ids"]:
            prompt = row[:TINY_PROMPT]
            ids, margin = greedy(model, prompt, TINY_NEW)
            if margin >= 1e-3:
                break
        assert margin >= 1e-3, f"{name}: every row's continuation has a near tie"
        result["tiny"][name] = {"prompt_ids": prompt, "generated_ids": ids, "min_margin": round(margin, 6)}
        print(f"{name}: {ids[:8]}... min margin {margin:.4f}")

    path = args.gguf
    if path is None:
        path = pathlib.Path(subprocess.run([str(ROOT / "tools/fetch_model.sh"), "SmolLM2-135M-Instruct"],
                                           check=True, capture_output=True, text=True).stdout.strip())
    sha = real.sha256_of(path)
    assert sha == real.GGUF_SHA256, f"{path}: sha256 {sha}, expected {real.GGUF_SHA256}"
    reader = gguf.GGUFReader(str(path))
    tok = real.smollm_tokenizer(reader)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32, attn_implementation="eager").eval()
    capital = tok.encode(real.CAPITAL).ids
    assert capital == real.CAPITAL_IDS, capital
    ids, margin = greedy(model, capital, CAPITAL_NEW)
    print(f"capital: {tok.decode(ids)!r} min margin {margin:.4f}")
    assert margin >= 1e-3, f"capital: a near tie ({margin})"

    template = reader.fields["tokenizer.chat_template"].contents()
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    text = env.from_string(template).render(messages=[{"role": "user", "content": QUESTION}],
                                            add_generation_prompt=True)
    chat_ids = tok.encode(text).ids
    end_of_turn = tok.token_to_id("<|im_end|>")
    answer, chat_margin = greedy(model, chat_ids, CHAT_MAX_NEW, eos=end_of_turn)
    print(f"chat: {tok.decode(answer)!r} min margin {chat_margin:.4f}")
    assert chat_margin >= 1e-3, f"chat: a near tie ({chat_margin})"

    result["smollm2"] = {
        "gguf_sha256": sha,
        "capital": {"prompt_ids": capital, "generated_ids": ids, "min_margin": round(margin, 6)},
        "chat": {"question": QUESTION, "template_text": text, "prompt_ids": chat_ids,
                 "generated_ids": answer, "min_margin": round(chat_margin, 6),
                 "answer_text": tok.decode([i for i in answer if i != end_of_turn])},
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
