#!/usr/bin/env python3
"""Makes the reference fixtures for libmezo's transformer forward.

For each of RoBERTa and BERT it creates a tiny masked-LM checkpoint with random
weights in Hugging Face format (config.json + model.safetensors, written by
transformers' own save_pretrained), runs the reference PyTorch forward on a
fixed padded batch, and records the final hidden states and the MLM logits at
chosen positions in expected.json. tests/masked_lm_test.cpp loads the same
checkpoints with libmezo and compares.

The models are small on purpose (2 layers, hidden 64, 4 heads, intermediate
128, a reduced vocabulary of 320 ids and 40 positions), so the fixtures stay
a few hundred kilobytes. The vocabulary is reduced only in size: ids are plain
integers here, no tokenizer is involved. RoBERTa's decoder is untied from its
word embeddings (as in the MeZO paper's runs); BERT's is tied (as in
bert-base-uncased), so both loading paths are covered. A third, encoder-only
BERT (no MLM head, like the sentence encoder the SST-2 example defaults to)
records mean-pooled sentence embeddings instead of logits. All weights, LayerNorm
gains and biases included, are drawn at random so that a tensor loaded into the
wrong place changes the result.

Run from the repository root (needs torch, transformers, safetensors; nothing
is downloaded from a model hub):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers safetensors
    /tmp/venv/bin/python tools/make_model_fixtures.py --out tests/fixtures
"""
import argparse
import json
import pathlib

import torch
import transformers

VOCAB = 320
MAX_POSITIONS = 40
COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    type_vocab_size=1,
)


def randomise(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen) * 0.1
            if "LayerNorm" in name or "layer_norm" in name:
                p.copy_((1.0 + noise) if name.endswith("weight") else noise)
            else:
                p.copy_(noise)


def batch_for(kind, gen):
    """Three rows of different lengths; RoBERTa rows start with <s>=0 and end with </s>=2."""
    lengths = [12, 7, 3]
    first_free = 4 if kind == "roberta" else 1  # keep specials/pad out of the body
    pad = 1 if kind == "roberta" else 0
    rows = []
    for n in lengths:
        body = torch.randint(first_free, VOCAB, (n - 2,), generator=gen).tolist()
        rows.append(([0] + body + [2]) if kind == "roberta" else ([101 % VOCAB] + body + [102 % VOCAB]))
    seq = max(lengths)
    ids = [r + [pad] * (seq - len(r)) for r in rows]
    queries = [[0, 0], [0, 5], [0, 11], [1, 3], [1, 6], [2, 1]]
    return ids, lengths, queries


def make(kind, out_dir, seed):
    if kind == "roberta":
        config = transformers.RobertaConfig(
            **COMMON, max_position_embeddings=MAX_POSITIONS, pad_token_id=1, bos_token_id=0,
            eos_token_id=2, layer_norm_eps=1e-5, tie_word_embeddings=False)
        model = transformers.RobertaForMaskedLM(config)
    else:
        config = transformers.BertConfig(
            **COMMON, max_position_embeddings=MAX_POSITIONS, pad_token_id=0, layer_norm_eps=1e-12,
            tie_word_embeddings=True)
        model = transformers.BertForMaskedLM(config)
    model.config._attn_implementation = "eager"
    randomise(model, seed)
    model.tie_weights()
    model.eval()

    folder = out_dir / f"tiny-{kind}"
    model.save_pretrained(folder, safe_serialization=True)

    gen = torch.Generator().manual_seed(seed + 1)
    ids, lengths, queries = batch_for(kind, gen)
    input_ids = torch.tensor(ids)
    mask = torch.tensor([[1 if t < n else 0 for t in range(len(ids[0]))] for n in lengths])
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
    hidden = out.hidden_states[-1]
    logits = out.logits
    expected = {
        "generated_by": "tools/make_model_fixtures.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "input_ids": ids,
        "lengths": lengths,
        # Only real tokens: padding positions are not compared.
        "hidden": [[hidden[r, t].tolist() for t in range(n)] for r, n in enumerate(lengths)],
        "queries": queries,
        "logits": [logits[r, t].tolist() for r, t in queries],
    }
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    print(f"wrote {folder}: {sum(p.numel() for p in model.parameters())} parameters")


def make_encoder(out_dir, seed):
    """An encoder-only BERT (no MLM head, with the pooler), like a
    sentence-transformers checkpoint; expected.json holds its mean-pooled
    sentence embeddings over the real tokens."""
    config = transformers.BertConfig(
        **COMMON, max_position_embeddings=MAX_POSITIONS, pad_token_id=0, layer_norm_eps=1e-12)
    model = transformers.BertModel(config)
    model.config._attn_implementation = "eager"
    randomise(model, seed)
    model.eval()
    folder = out_dir / "tiny-bert-encoder"
    model.save_pretrained(folder, safe_serialization=True)
    gen = torch.Generator().manual_seed(seed + 1)
    ids, lengths, _ = batch_for("bert", gen)
    input_ids = torch.tensor(ids)
    mask = torch.tensor([[1 if t < n else 0 for t in range(len(ids[0]))] for n in lengths])
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1)
    expected = {
        "generated_by": "tools/make_model_fixtures.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "input_ids": ids,
        "lengths": lengths,
        "mean_pooled": pooled.tolist(),
    }
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    print(f"wrote {folder}: {sum(p.numel() for p in model.parameters())} parameters")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("tests/fixtures"))
    args = parser.parse_args()
    torch.manual_seed(0)
    make("roberta", args.out, seed=1)
    make("bert", args.out, seed=2)
    make_encoder(args.out, seed=3)


if __name__ == "__main__":
    main()
