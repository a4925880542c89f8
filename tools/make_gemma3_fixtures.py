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

(The real Gemma 3 270M's reference is tools/make_real_decoder_reference.py's.)

Run from the repository root (torch, transformers, gguf, safetensors; seconds):

    python3 tools/make_gemma3_fixtures.py
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


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    tiny()


if __name__ == "__main__":
    main()
