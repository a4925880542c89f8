#!/usr/bin/env python3
"""Makes tests/fixtures/decoder/tiny-gemma3 (and the real Gemma 3 270M reference): Gemma 3 parity fixtures.

tiny-gemma3: a Gemma3ForCausalLM (transformers) with random weights, every RMSNorm gain
random too (Gemma applies 1 + w, so a zero gain would hide a missing + 1), 6 layers of
which layer 5 is global and the others local with a 4-token sliding window (llama.cpp's
gemma3 pattern: every sixth layer global), local RoPE base 10,000 and global 1e6,
query_pre_attn_scalar = head_dim (what llama.cpp assumes), GQA (4 query heads, 2 key/value
heads, head_dim 16 on hidden 32: q is wider than the hidden state, as in Gemma), a tied head. Written as
  hf/               config.json + model.safetensors (F32), as transformers saves it;
  model-f32.gguf    the same weights as llama.cpp's converter writes a gemma3 GGUF: its
                    tensor names, every norm gain stored as 1 + w, q/k rows unpermuted
                    (gemma3 rotates NEOX-style), gemma3.* keys with attention.sliding_window;
  expected.json     transformers' logits on a right-padded batch of 56, 48 and 23 tokens
                    (far past the window) at every fourth position and each row's last,
                    and each row's mean next-token NLL: the format of
                    tools/make_decoder_fixtures.py, which tests/causal_lm_parity_test.cpp reads.
The script checks that the window matters (the same weights with a window of 4096 give
other logits). (transformers' GGUF loader cannot read this file back: without a tokenizer it
takes Gemma's 262,208-token vocabulary; the real file's check below covers its conventions.)

With --gemma PATH (tools/fetch_model.sh gemma-3-270m), it also writes
tests/fixtures/decoder/gemma3_reference.json: transformers' GGUF loader on the real file,
the log-probabilities after "The capital of France is" and the mean NLL of a paragraph of
over 600 tokens (past the 512-token window), which tests/gemma3_test.cpp compares.

Run from the repository root (torch, transformers, gguf, safetensors; under a minute, plus
about a minute for --gemma):

    python3 tools/make_gemma3_fixtures.py [--gemma "$(tools/fetch_model.sh gemma-3-270m)"]
"""
import argparse
import json
import pathlib
import shutil

import gguf
import numpy as np
import safetensors.torch
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/decoder"
LENGTHS = [56, 48, 23]
VOCAB, PAD_ID, FIRST_ID = 256, 0, 3
CONFIG = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=6,
              num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=4,
              query_pre_attn_scalar=16, max_position_embeddings=128, rms_norm_eps=1e-6,
              rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                               "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}},
              pad_token_id=PAD_ID, bos_token_id=2, eos_token_id=1, tie_word_embeddings=True)
PARAGRAPH = (
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
    "combined movable metal type, oil-based ink and a wooden press adapted from those used to make "
    "wine. Before his invention, books were copied by hand, a slow and costly craft that kept "
    "reading the privilege of monasteries, courts and universities. Within a few decades printing "
    "shops had spread to more than two hundred cities across Europe, and millions of volumes were "
    "in circulation. Pamphlets, broadsheets and newspapers followed, carrying news, scientific "
    "discoveries and religious controversy to readers who had never owned a book. ")


def make_model():
    torch.manual_seed(20261208)
    config = transformers.Gemma3TextConfig(**CONFIG)
    model = transformers.Gemma3ForCausalLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(0.0, 0.3 if "norm" in name else 0.05)
    return model.eval()


def batch():
    gen = torch.Generator().manual_seed(1234)
    ids = torch.full((len(LENGTHS), max(LENGTHS)), PAD_ID, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, n in enumerate(LENGTHS):
        ids[r, :n] = torch.randint(FIRST_ID, VOCAB, (n,), generator=gen)
        mask[r, :n] = 1
    return ids, mask


def forward(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits.float()


def positions():
    out = []
    for r, n in enumerate(LENGTHS):
        ps = list(range(0, n, 4))
        out += [[r, p] for p in ps + ([n - 1] if ps[-1] != n - 1 else [])]
    return out


def nll_per_row(logits, ids):
    out = []
    for r, n in enumerate(LENGTHS):
        lp = torch.log_softmax(logits[r, : n - 1].double(), dim=-1)
        out.append(float(-lp.gather(1, ids[r, 1:n].unsqueeze(1)).mean()))
    return out


def write_gguf(path, model):
    c = model.config
    w = gguf.GGUFWriter(str(path), arch="gemma3")
    w.add_name("tiny-gemma3")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_key_length(c.head_dim)
    w.add_value_length(c.head_dim)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_rope_freq_base(c.rope_parameters["full_attention"]["rope_theta"])
    w.add_sliding_window(c.sliding_window)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GEMMA3, c.num_hidden_layers)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied
        data = tensor.float().numpy()
        if name.endswith("norm.weight"):
            data = data + 1.0  # llama.cpp's converter: Gemma's 1 + w, stored
        w.add_tensor(names.get_name(name, try_suffixes=(".weight",)), np.ascontiguousarray(data))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tiny():
    folder = OUT / "tiny-gemma3"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    model = make_model()
    ids, mask = batch()
    ref = forward(model, ids, mask)
    wide = transformers.Gemma3ForCausalLM(transformers.Gemma3TextConfig(**dict(CONFIG, sliding_window=4096)))
    wide.load_state_dict(model.state_dict())
    assert (forward(wide.eval(), ids, mask) - ref).abs().max() > 1e-2, "the window changes nothing"
    model.save_pretrained(folder / "hf")
    write_gguf(folder / "model-f32.gguf", model)
    ps = positions()
    expected = {
        "generated_by": "tools/make_gemma3_fixtures.py",
        "torch": torch.__version__, "transformers": transformers.__version__,
        "architecture": "gemma3", "config": CONFIG,
        "input_ids": ids.tolist(), "lengths": LENGTHS,
        "variants": {"f32": {"files": ["hf", "model-f32.gguf"], "positions": ps,
                             "logits": [[float(f"{x:.7g}") for x in ref[r, p].tolist()] for r, p in ps],
                             "nll": nll_per_row(ref, ids)}},
    }
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    print(f"wrote {folder}")


def real(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                               dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    prompt = "The capital of France is"
    ids = tok(prompt, return_tensors="pt").input_ids  # <bos> first, as the tokenizer adds it
    with torch.no_grad():
        lp = torch.log_softmax(model(ids).logits[0, -1].double(), -1)
    top = lp.topk(10)
    text = PARAGRAPH * 6
    para = tok(text, return_tensors="pt").input_ids
    assert para.shape[1] > 600, para.shape
    with torch.no_grad():
        logits = model(para).logits[0].double()
    nll = float(-torch.log_softmax(logits[:-1], -1).gather(1, para[0, 1:].unsqueeze(1)).mean())
    out = {"generated_by": "tools/make_gemma3_fixtures.py --gemma", "file": path.name,
           "transformers": transformers.__version__,
           "prompt": prompt, "prompt_ids": ids[0].tolist(),
           "top_ids": top.indices.tolist(), "top_log_probs": top.values.tolist(),
           "paragraph": PARAGRAPH, "paragraph_repeats": 6, "paragraph_ids": para[0].tolist(),
           "paragraph_nll": nll}
    (OUT / "gemma3_reference.json").write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {OUT / 'gemma3_reference.json'}: {para.shape[1]} tokens, NLL {nll:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gemma", type=pathlib.Path, help="the Gemma 3 270M GGUF")
    args = ap.parse_args()
    tiny()
    if args.gemma:
        real(args.gemma)


if __name__ == "__main__":
    main()
