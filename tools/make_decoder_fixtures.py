#!/usr/bin/env python3
"""Makes the reference fixtures for libmezo's decoder (Llama / Qwen2 causal LM) forward.

For each tiny model below it creates random weights with transformers, saves
them in Hugging Face format (config.json + model.safetensors, by transformers'
own save_pretrained), writes GGUF files with gguf-py's GGUFWriter the way
llama.cpp's convert_hf_to_gguf.py would, runs the reference PyTorch forward on
a fixed right-padded batch, and records the logits in expected.json. The C++
CausalLM tests load the same files and compare.

Run from the repository root (needs torch, transformers, safetensors, gguf,
numpy, tokenizers, accelerate; nothing is downloaded from a model hub):

    /work/venv/bin/python tools/make_decoder_fixtures.py --out tests/fixtures/decoder

It rewrites tests/fixtures/decoder/<model>/ for the five models below (the same
bytes on every run with the same library versions; made with torch 2.15,
transformers 5.24, gguf 0.19, tokenizers 0.23, accelerate 1.15 for
transformers' GGUF loader) and prints each file's size, and checks that the
whole --out folder stays under 1.5 MB. It takes under a minute on a CPU.

The models. Every weight, RMSNorm gains and Qwen2's q/k/v biases included, is
random (matrices 0.15*N(0,1), embeddings 0.5*N(0,1), norm gains 1 + 0.1*N(0,1),
biases 0.1*N(0,1)) and rounded to a value fp16 represents exactly, so a tensor
loaded into the wrong place changes the output and the fp16 copy is the same
model bit for bit. Shared shape: vocabulary 256, hidden 32, 4 attention heads
and 2 KV heads (GQA; with 2 KV heads a wrong head-to-group mapping shows),
head_dim 8, SiLU-gated MLP, RMSNorm eps 1e-5, max_position_embeddings 128.

  tiny-llama          LlamaForCausalLM, 2 layers, intermediate 64, rope_theta
                      10000, tied embeddings (26,784 parameters).
                      hf/ (F32, one file), hf-f16-sharded/ (F16 in 3 shards +
                      model.safetensors.index.json); model-f32.gguf,
                      model-q8_0.gguf (every matrix Q8_0, as convert_hf_to_gguf
                      --outtype q8_0 writes), model-q4_1.gguf (matrices Q4_1 and
                      token_embd Q8_0, the mix of SmolLM2's file).
  tiny-llama-untied   1 layer, intermediate 32, tie_word_embeddings=False
                      (lm_head.weight in hf/, output.weight in the GGUF); hf/,
                      model-f32.gguf.
  tiny-qwen2          Qwen2ForCausalLM, 2 layers, intermediate 32, q/k/v biases
                      (random, non-zero), rope_theta 10000, tied; hf/,
                      model-f32.gguf.
  tiny-llama3-scaled  Llama, 2 layers, intermediate 32, rope_theta 500000 and
                      Llama-3 RoPE scaling {factor 8, low_freq_factor 1,
                      high_freq_factor 4, original_max_position_embeddings 256},
                      max_position_embeddings 2048. With head_dim 8 the four
                      RoPE wavelengths are 6.3, 167, 4443 and 118,000 positions:
                      the first is kept (< 256/4), the second is interpolated
                      (between 64 and 256: divisor 3.5685) and the last two are
                      divided by 8, so all three branches of the Llama-3 rule
                      are used (original_max_position_embeddings 32 would leave
                      no wavelength in the interpolated band at this head_dim).
                      Its hf/config.json is written the way transformers 4.x
                      wrote configs (top-level rope_theta and rope_scaling), the
                      form Llama-3.x checkpoints ship; the other models have
                      transformers 5's "rope_parameters" {rope_type, rope_theta}.
                      hf/, model-f32.gguf.
  tiny-llama-ffn256   Llama, 1 layer, intermediate 256, only for Q4_K: ggml's
                      K-quants need ne[0] (the input dimension) to be a multiple
                      of 256, and at hidden 32 only ffn_down's input (the
                      intermediate size) can be. model-q4_k.gguf: ffn_down in
                      Q4_K (made by this script's numpy Q4_K quantizer), the
                      other matrices, whose rows are 32 long, Q8_0 (llama.cpp's
                      llama-quantize would fall back to Q5_0 for them; Q8_0 keeps
                      to the types the other files use and keeps the file small),
                      norms F32. No HF folder: its reference is the dequantized
                      weights.

Why these sizes and not hidden 64 / intermediate 96: the whole folder must stay
under 1.5 MB, and a hidden-64 model costs 312 KB per F32 copy, so the eight F32
copies (HF + GGUF for four models) alone would take 2.5 MB. At hidden 32 with
head_dim 8 the GQA layout, the RoPE pairing and the Llama-3 bands are all still
exercised; the models that test one feature (untied head, biases, rope scaling)
are smaller still.

GGUF files, as convert_hf_to_gguf.py (conversion/base.py, llama.py, qwen.py)
writes them: tensors in the order of the safetensors file (sorted HF names),
renamed by gguf-py's tensor-name map (token_embd, output_norm, output,
blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate,
ffn_up, ffn_down}.{weight,bias}); for `llama` only, attn_q/attn_k rows permuted
for llama.cpp's adjacent-pair RoPE (per head of size hd, GGUF row h*hd + 2i + j
holds HF row h*hd + j*hd/2 + i; attn_k over the 2 KV heads); `qwen2` keeps HF
order. 1-D tensors (norms, biases, rope_freqs) are always F32. Keys:
general.architecture, general.type, general.name, {arch}.block_count,
.context_length, .embedding_length, .feed_forward_length,
.attention.head_count, .attention.head_count_kv, .rope.freq_base,
.attention.layer_norm_rms_epsilon, general.file_type, then for llama
.attention.key_length and .value_length (the converter writes them whenever
config.json has head_dim, as transformers 5 always writes it),
llama.vocab_size and llama.rope.dimension_count; general.quantization_version
2; the tokenizer. Llama-3 scaling: the converter writes no rope.scaling keys
but a tensor rope_freqs.weight (F32, [head_dim/2], first in the file) of
per-frequency divisors: 1 below the high-frequency wavelength, factor above
the low-frequency one, 1/((1-s)/factor + s) between (s the smoothing
weight); llama.cpp rotates pair i by pos * base^(-2i/hd) / rope_freqs[i],
which equals transformers' llama3 inv_freq. (The converter reads
original_max_position_embeddings from the top level of config.json, default
8192, not from rope_scaling: for Llama 3.x the same number, but it would
write different divisors for this model; the file holds those transformers
uses, computed from 256.)

Tokenizer in every GGUF (tokenizer.ggml.model "gpt2", .pre "gpt-2": llama.cpp
spells the GPT-2 pre-tokenizer with a hyphen and refuses to load a file whose
.pre is "gpt2", "unknown pre-tokenizer type"): 256
tokens, ids 0-2 control tokens <|endoftext|>, <|im_start|>, <|im_end|> (type 3;
unknown 0, bos 1, eos 2, padding 2, add_bos_token false, as SmolLM2), ids
3-245 the byte tokens (GPT-2 byte-to-unicode spelling) of every byte value
that can occur in UTF-8 (all but 0xC0, 0xC1, 0xF5-0xFF), in byte order, and
ids 246-255 the results of ten merges ("Ġ t", "h e", "Ġ a", "i n", "Ġt he",
"e r", "o n", "Ġ s", "e d", "in g"), type 1. gguf-py cannot write an empty
array and llama.cpp requires the merges key, hence a few merges rather than
all 256 bytes. tiny-llama/expected.json records, as "tokenizer_cases", the
ids Hugging Face `tokenizers` gives for a few strings with this vocabulary
(BPE + ByteLevel pre-tokenizer, the GPT-2 regex).

The batch: 3 rows of lengths 56, 48, 23 (long enough for a wrong RoPE pairing
to show), ids drawn uniformly from 3..255, right-padded with id 0 and
attention_mask 0 to length 56. The same batch for every model.

expected.json, per model:
  generated_by, torch, transformers, gguf: provenance;
  architecture ("llama" or "qwen2"); config: {vocab_size, hidden_size,
  num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim,
  intermediate_size, rms_norm_eps, rope_theta, rope_scaling (null or the
  llama3 dict), tie_word_embeddings, attention_bias};
  input_ids [3][56] (right-padded with 0), lengths [56, 48, 23];
  variants: {name: {files, positions, logits, nll[, max_abs_diff_from_f32]}}:
    files      the files this reference is for (relative to the model folder);
    positions  [[row, pos], ...], row by row: for "f32", every 4th position of
               every row (0, 4, 8, ...) plus each row's last real token (35
               pairs); for a quantized variant every 12th plus the last (14
               pairs), to keep the folder small (they test the block decoders,
               which every position depends on);
    logits     [len(positions)][256] float32 logits at those positions, rounded
               to 7 significant digits;
    nll        per row, the mean natural-log negative log-likelihood of tokens
               1..length-1 given the ones before (length-1 predictions), the
               figure a perplexity command must print (exp(nll) per row);
    max_abs_diff_from_f32 (quantized variants of tiny-llama): how far
               quantization moved the logits at those positions, a scale for
               tolerances.
  Variant "f32" is the HF model in fp32; it is the reference for hf/,
  hf-f16-sharded/ and model-f32.gguf (the same numbers). A quantized variant
  ("q8_0", "q4_1", "q4_k") is the same HF model with every weight replaced by
  gguf.quants.dequantize of the bytes in that GGUF file (Q/K rows un-permuted),
  so a correct forward of the file matches it to float rounding.
  tiny-llama's file also has tokenizer_cases [{text, ids}].

Asserted while making them (the script stops if any fails):
  - the F32 GGUF, the quantized GGUFs and the Q4_K GGUF, loaded with
    transformers' own GGUF loader (from_pretrained(..., gguf_file=...), which
    un-permutes Q/K itself), give the logits recorded for them within 1e-5:
    our permutation and tensor names are what transformers and llama.cpp
    expect. Exception: transformers' loader ignores rope_freqs.weight, so for
    tiny-llama3-scaled it must instead equal the same model WITHOUT scaling;
  - un-permute(permute(W)) == W, and loading the permuted rows without undoing
    the permutation (a wrong RoPE pairing) moves the logits by > 0.05;
  - Llama-3 scaling moves the logits by > 0.05, and base^(-2i/hd) / rope_freqs
    equals transformers' scaled inv_freq (relative 1e-6);
  - the F16 sharded copy and the legacy-style config reload to exactly the
    same logits; the untied model's lm_head differs from its embedding;
  - the Q4_K quantizer's blocks dequantize (by gguf-py) to within one step of
    the weights;
  - the tokenizer cases tokenize to ids within the vocabulary and decode back.

With --check-llama-cpp (needs llama-cpp-python; `pip install llama-cpp-python`
builds llama.cpp from source, about 40 minutes on 2 cores) it also runs every
GGUF through llama.cpp itself (F32 KV cache, the batch's real tokens) and
asserts: the F32 files match the "f32" logits within 5e-5 (llama-cpp-python
0.3.36 gave 5.4e-6 to 7.2e-6 for all four architectures: our permutation, the
un-permuted qwen2 rows, the untied output and rope_freqs are read as llama.cpp
reads them), the tokenizer cases tokenize to the same ids, and each quantized
file's per-row NLL is within 0.05 of the recorded one. Quantized logits are
not compared tightly: llama.cpp's CPU kernels also quantize the activations
(to Q8_0/Q8_1/Q8_K) in every matrix product, which moved the logits by up to
0.23 (Q8_0), 0.17 (Q4_1), 0.21 (Q4_K) from the dequantized-weights reference
recorded here. (With llama.cpp's default F16 KV cache the F32 files differ by
up to 5e-3.)
"""
import argparse
import copy
import importlib.metadata
import json
import math
import pathlib
import shutil

import gguf
import numpy as np
import safetensors.torch
import tokenizers
import torch
import transformers

VOCAB = 256
COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=32,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    num_hidden_layers=2,
    intermediate_size=64,
    hidden_act="silu",
    rms_norm_eps=1e-5,
    max_position_embeddings=128,
    bos_token_id=1,
    eos_token_id=2,
    attention_dropout=0.0,
)
LENGTHS = [56, 48, 23]
PAD_ID = 0
FIRST_ID = 3  # batch ids avoid the control tokens 0-2
LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 256}

# ---------------------------------------------------------------- tokenizer

CONTROL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Bytes that never occur in UTF-8 text; their byte tokens make room for merges.
NON_UTF8_BYTES = {0xC0, 0xC1} | set(range(0xF5, 0x100))
MERGES = ["Ġ t", "h e", "Ġ a", "i n", "Ġt he", "e r", "o n", "Ġ s", "e d", "in g"]
TOKENIZER_CASES = ["the theater is inside", "Hello, world! 123", "naïve café — ok?", "  two  spaces\n\tend"]


def bytes_to_unicode():
    """GPT-2's byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def tiny_vocab():
    """(tokens, token_types, merges) of the 256-token byte-level BPE vocabulary."""
    b2u = bytes_to_unicode()
    tokens = list(CONTROL_TOKENS) + [b2u[b] for b in range(256) if b not in NON_UTF8_BYTES]
    for merge in MERGES:
        left, right = merge.split(" ")
        assert left in tokens and right in tokens, merge
        tokens.append(left + right)
    assert len(tokens) == VOCAB and len(set(tokens)) == VOCAB
    types = [3] * len(CONTROL_TOKENS) + [1] * (VOCAB - len(CONTROL_TOKENS))
    return tokens, types, list(MERGES)


def hf_tokenizer(tokens, merges):
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges]))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = tokenizers.decoders.ByteLevel()
    tok.add_special_tokens([tokenizers.AddedToken(t, special=True) for t in CONTROL_TOKENS])
    return tok


def tokenizer_cases(tokens, merges):
    tok = hf_tokenizer(tokens, merges)
    cases = []
    for text in TOKENIZER_CASES:
        ids = tok.encode(text).ids
        assert all(0 <= i < VOCAB for i in ids) and tok.decode(ids) == text, (text, ids)
        cases.append({"text": text, "ids": ids})
    # The merges are used: "the" is one token, "theater" starts with it.
    assert tokens.index("Ġthe") in cases[0]["ids"]
    return cases


# ---------------------------------------------------------------- models


def make_config(kind):
    if kind == "tiny-qwen2":
        cfg = {k: v for k, v in COMMON.items() if k != "head_dim"}  # Qwen2Config has no head_dim
        cfg["intermediate_size"] = 32
        return transformers.Qwen2Config(**cfg, rope_theta=10000.0, tie_word_embeddings=True,
                                        use_sliding_window=False)
    cfg = dict(COMMON)
    if kind == "tiny-llama3-scaled":
        cfg["max_position_embeddings"] = 2048
        cfg["intermediate_size"] = 32
        return transformers.LlamaConfig(**cfg, rope_theta=500000.0, rope_scaling=dict(LLAMA3_SCALING),
                                        tie_word_embeddings=True)
    if kind == "tiny-llama-ffn256":
        cfg["intermediate_size"] = 256
        cfg["num_hidden_layers"] = 1
    if kind == "tiny-llama-untied":
        cfg["intermediate_size"] = 32
        cfg["num_hidden_layers"] = 1
    return transformers.LlamaConfig(**cfg, rope_theta=10000.0, tie_word_embeddings=(kind != "tiny-llama-untied"))


def make_model(kind, seed):
    config = make_config(kind)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = (transformers.Qwen2ForCausalLM if kind == "tiny-qwen2" else transformers.LlamaForCausalLM)(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("norm.weight"):
                value = 1.0 + 0.1 * noise
            elif name.endswith(".bias"):
                value = 0.1 * noise
            elif "embed_tokens" in name or name == "lm_head.weight":
                value = 0.5 * noise
            else:
                value = 0.15 * noise
            # Exactly representable in fp16, so the F16 copy is the same model.
            p.copy_(value.half().float())
    model.eval()
    return model


def batch():
    gen = torch.Generator().manual_seed(1234)
    seq = max(LENGTHS)
    ids = torch.full((len(LENGTHS), seq), PAD_ID, dtype=torch.long)
    mask = torch.zeros((len(LENGTHS), seq), dtype=torch.long)
    for r, n in enumerate(LENGTHS):
        ids[r, :n] = torch.randint(FIRST_ID, VOCAB, (n,), generator=gen)
        mask[r, :n] = 1
    return ids, mask


def positions_every(step):
    """[[row, pos], ...]: every step-th position of every row plus each row's last real token."""
    positions = []
    for r, n in enumerate(LENGTHS):
        ps = list(range(0, n, step))
        if ps[-1] != n - 1:
            ps.append(n - 1)
        positions += [[r, p] for p in ps]
    return positions


def forward(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits.float()


def nll_per_row(logits, ids):
    out = []
    for r, n in enumerate(LENGTHS):
        lp = torch.log_softmax(logits[r, : n - 1].double(), dim=-1)
        out.append(float(-lp.gather(1, ids[r, 1:n].unsqueeze(1)).mean()))
    return out


def at(logits, positions):
    return torch.stack([logits[r, p] for r, p in positions])


def rounded(t, digits=7):
    return [[float(f"{x:.{digits}g}") for x in row] for row in t.tolist()]


# ---------------------------------------------------------------- GGUF


def permute(w, n_head):
    """convert_hf_to_gguf's LlamaModel.permute: HF rotate-half rows -> adjacent pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def rope_freqs(config):
    """conversion/llama.py generate_extra_tensors for rope_type llama3 (with the config's
    original_max_position_embeddings)."""
    rp = config.rope_parameters
    base, dim = rp["rope_theta"], config.head_dim
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    factor, low, high = rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"]
    old = rp["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(1)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def quantize_q4_k(x):
    """A plain (not error-minimising) Q4_K quantizer: per 256-block fp16 d and dmin, per
    32-sub-block 6-bit scale and min, nibbles q with y = d*sc*q - dmin*m (ggml's
    block_q4_K layout: d, dmin, scales[12], qs[128])."""
    rows, cols = x.shape
    assert cols % 256 == 0
    blocks = x.reshape(-1, 256).astype(np.float32)
    n = blocks.shape[0]
    sub = blocks.reshape(n, 8, 32)
    lo = np.minimum(sub.min(-1), 0.0)
    hi = sub.max(-1)
    step = (hi - lo) / 15.0
    mins = -lo
    d = (step.max(-1) / 63.0).astype(np.float16)
    dmin = (mins.max(-1) / 63.0).astype(np.float16)
    df = d.astype(np.float32)[:, None]
    dmf = dmin.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(step, df, out=np.zeros_like(step), where=df > 0)), 0, 63).astype(np.uint8)
    m = np.clip(np.round(np.divide(mins, dmf, out=np.zeros_like(mins), where=dmf > 0)), 0, 63).astype(np.uint8)
    scale = (df * sc)[..., None]
    offset = (dmf * m)[..., None]
    q = np.clip(np.round(np.divide(sub + offset, scale, out=np.zeros_like(sub), where=scale > 0)), 0, 15)
    q = q.astype(np.uint8).reshape(n, 256)
    packed_scales = np.zeros((n, 12), dtype=np.uint8)
    for j in range(4):
        packed_scales[:, j] = sc[:, j] | ((sc[:, j + 4] >> 4) << 6)
        packed_scales[:, j + 4] = m[:, j] | ((m[:, j + 4] >> 4) << 6)
        packed_scales[:, j + 8] = (sc[:, j + 4] & 0xF) | ((m[:, j + 4] & 0xF) << 4)
    qs = np.zeros((n, 128), dtype=np.uint8)
    for g in range(4):
        qs[:, 32 * g:32 * g + 32] = q[:, 64 * g:64 * g + 32] | (q[:, 64 * g + 32:64 * g + 64] << 4)
    out = np.concatenate([d.reshape(n, 1).view(np.uint8), dmin.reshape(n, 1).view(np.uint8), packed_scales, qs], axis=1)
    assert out.shape == (n, 144)
    out = out.reshape(rows, cols // 256 * 144)
    back = gguf.quants.dequantize(out, gguf.GGMLQuantizationType.Q4_K)
    worst_step = float(np.maximum(scale, offset).max())
    assert back.shape == x.shape and np.abs(back - x).max() <= worst_step + 1e-6, "Q4_K round trip"
    return out


def arch_of(kind):
    return gguf.MODEL_ARCH.QWEN2 if kind == "tiny-qwen2" else gguf.MODEL_ARCH.LLAMA


def qtype_for(variant, gguf_name, data):
    """The ggml type each 2-D tensor gets in a file variant (1-D is always F32)."""
    T = gguf.GGMLQuantizationType
    if data.ndim <= 1 or gguf_name.endswith("_norm.weight") or not gguf_name.endswith(".weight"):
        return T.F32
    if variant == "f32":
        return T.F32
    if variant == "q8_0":
        return T.Q8_0
    if variant == "q4_1":
        return T.Q8_0 if gguf_name == "token_embd.weight" else T.Q4_1
    if variant == "q4_k":
        return T.Q4_K if data.shape[-1] % 256 == 0 else T.Q8_0
    raise ValueError(variant)


FILE_TYPES = {"f32": gguf.LlamaFileType.ALL_F32, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
              "q4_1": gguf.LlamaFileType.MOSTLY_Q4_1, "q4_k": gguf.LlamaFileType.MOSTLY_Q4_K_S}


def write_gguf(path, kind, model, state, variant, vocab):
    """Writes `state` (HF names -> tensors, in the safetensors file's order) as
    convert_hf_to_gguf.py would."""
    config = model.config
    arch = arch_of(kind)
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    n_layers = config.num_hidden_layers
    name_map = gguf.get_tensor_name_map(arch, n_layers)
    w = gguf.GGUFWriter(str(path), arch=arch_name)

    tensors = []
    if config.rope_parameters.get("rope_type") == "llama3":
        tensors.append((gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight", rope_freqs(config)))
    for hf_name, t in state.items():
        data = t.float().numpy()
        if arch == gguf.MODEL_ARCH.LLAMA:
            if hf_name.endswith(("q_proj.weight", "q_proj.bias")):
                data = permute(data, config.num_attention_heads)
            elif hf_name.endswith(("k_proj.weight", "k_proj.bias")):
                data = permute(data, config.num_key_value_heads)
        new_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert new_name is not None, hf_name
        tensors.append((new_name, data))
    for new_name, data in tensors:
        qtype = qtype_for(variant, new_name, data)
        if qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(new_name, np.ascontiguousarray(data, dtype=np.float32))
        elif qtype == gguf.GGMLQuantizationType.Q4_K:
            w.add_tensor(new_name, quantize_q4_k(data), raw_dtype=qtype)
        else:
            w.add_tensor(new_name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)

    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(kind)
    w.add_block_count(n_layers)
    w.add_context_length(config.max_position_embeddings)
    w.add_embedding_length(config.hidden_size)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(config.num_attention_heads)
    w.add_head_count_kv(config.num_key_value_heads)
    w.add_rope_freq_base(config.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    if arch == gguf.MODEL_ARCH.LLAMA:
        w.add_key_length(config.head_dim)
        w.add_value_length(config.head_dim)
    w.add_file_type(FILE_TYPES[variant])
    if arch == gguf.MODEL_ARCH.LLAMA:
        w.add_vocab_size(config.vocab_size)
        w.add_rope_dimension_count(config.head_dim)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, types, merges = vocab
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")  # llama.cpp's name for the GPT-2 pre-tokenizer; it refuses "gpt2"
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(2)
    w.add_add_bos_token(False)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dequantized_model(model, kind, path):
    """The HF model with every weight replaced by gguf.quants.dequantize of the GGUF file's bytes."""
    reader = gguf.GGUFReader(str(path))
    arch = arch_of(kind)
    config = model.config
    name_map = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    hf_names = {}
    for hf_name in model.state_dict():
        new_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        hf_names.setdefault(new_name, hf_name)  # tied: token_embd -> embed_tokens
    out = copy.deepcopy(model)
    sd = out.state_dict()
    seen = set()
    for t in reader.tensors:
        if t.name == "rope_freqs.weight":
            continue
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        hf_name = hf_names[t.name]
        if arch == gguf.MODEL_ARCH.LLAMA:
            if hf_name.endswith(("q_proj.weight", "q_proj.bias")):
                data = unpermute(data, config.num_attention_heads)
            elif hf_name.endswith(("k_proj.weight", "k_proj.bias")):
                data = unpermute(data, config.num_key_value_heads)
        assert tuple(sd[hf_name].shape) == data.shape, (t.name, data.shape)
        with torch.no_grad():
            sd[hf_name].copy_(torch.from_numpy(data.copy()))
        seen.add(hf_name)
    missing = set(model.state_dict()) - seen - ({"lm_head.weight"} if config.tie_word_embeddings else set())
    assert not missing, missing
    if config.tie_word_embeddings:
        assert out.lm_head.weight.data_ptr() == out.model.embed_tokens.weight.data_ptr()
    return out


def transformers_gguf_logits(folder, filename, ids, mask):
    m = transformers.AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=filename, dtype=torch.float32)
    m.config._attn_implementation = "eager"
    m.eval()
    return forward(m, ids, mask)


def max_diff(a, b):
    return float((a.detach() - b.detach()).abs().max())


# ---------------------------------------------------------------- one model


def make(kind, out_dir, seed, vocab, batch_data):
    ids, mask = batch_data
    folder = out_dir / kind
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    model = make_model(kind, seed)
    config = model.config
    ref = forward(model, ids, mask)
    files = {}
    variants = {}

    if kind != "tiny-llama-ffn256":
        model.save_pretrained(folder / "hf")
        files["f32"] = ["hf"]
        state = safetensors.torch.load_file(str(folder / "hf" / "model.safetensors"))
    else:
        state = dict(model.state_dict())
        if config.tie_word_embeddings:
            state.pop("lm_head.weight")
    state = {k: state[k] for k in sorted(state)}  # the safetensors file's order

    if kind == "tiny-llama":
        half = copy.deepcopy(model).half()
        half.save_pretrained(folder / "hf-f16-sharded", max_shard_size="22KB")
        assert (folder / "hf-f16-sharded" / "model.safetensors.index.json").exists()
        n_shards = len(list((folder / "hf-f16-sharded").glob("model-*-of-*.safetensors")))
        assert n_shards >= 3, n_shards
        for sub in ("hf-f16-sharded",):
            reloaded = transformers.AutoModelForCausalLM.from_pretrained(
                str(folder / sub), dtype=torch.float32, attn_implementation="eager")
            assert max_diff(forward(reloaded.eval(), ids, mask), ref) == 0.0, sub
        files["f32"] += ["hf-f16-sharded"]

    if kind == "tiny-llama3-scaled":
        # Rewrite config.json the transformers-4 way (top-level rope_theta, rope_scaling).
        path = folder / "hf" / "config.json"
        cfg = json.loads(path.read_text())
        rp = cfg.pop("rope_parameters")
        cfg["rope_theta"] = rp.pop("rope_theta")
        cfg["rope_scaling"] = rp
        path.write_text(json.dumps(dict(sorted(cfg.items())), indent=2) + "\n")
        reloaded = transformers.AutoModelForCausalLM.from_pretrained(
            str(folder / "hf"), dtype=torch.float32, attn_implementation="eager")
        assert reloaded.config.rope_parameters == model.config.rope_parameters
        assert max_diff(forward(reloaded.eval(), ids, mask), ref) == 0.0
        # Scaling matters at these sizes, and rope_freqs reproduces transformers' inv_freq.
        plain_cfg = copy.deepcopy(config)
        plain_cfg.rope_parameters = {"rope_type": "default", "rope_theta": config.rope_parameters["rope_theta"]}
        plain = type(model)(plain_cfg)
        plain.load_state_dict(model.state_dict())
        plain.eval()
        plain_logits = forward(plain, ids, mask)
        assert max_diff(plain_logits, ref) > 0.05, max_diff(plain_logits, ref)
        base, hd = config.rope_parameters["rope_theta"], config.head_dim
        divisors = rope_freqs(config)
        ours = (1.0 / base ** (np.arange(0, hd, 2) / hd)) / divisors
        theirs = model.model.rotary_emb.inv_freq.double().numpy()
        assert np.allclose(ours, theirs, rtol=1e-6, atol=0), (ours, theirs)
        assert divisors[0] == 1 and 1 < divisors[1] < 8 and divisors[2] == 8 and divisors[3] == 8, divisors

    if kind == "tiny-llama-untied":
        assert max_diff(model.lm_head.weight, model.model.embed_tokens.weight) > 0.1
    if kind == "tiny-qwen2":
        for layer in model.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                assert proj.bias is not None and float(proj.bias.abs().min()) > 0

    if arch_of(kind) == gguf.MODEL_ARCH.LLAMA:
        # The permutation round-trips, and skipping its inverse (a wrong RoPE pairing) shows.
        for hf_name, t in state.items():
            if hf_name.endswith(("q_proj.weight", "k_proj.weight")):
                n = config.num_attention_heads if "q_proj" in hf_name else config.num_key_value_heads
                w = t.numpy()
                assert np.array_equal(unpermute(permute(w, n), n), w)
                assert not np.array_equal(permute(w, n), w)
        wrong = copy.deepcopy(model)
        with torch.no_grad():
            for layer in wrong.model.layers:
                a = layer.self_attn
                a.q_proj.weight.copy_(torch.from_numpy(permute(a.q_proj.weight.numpy(), config.num_attention_heads)))
                a.k_proj.weight.copy_(torch.from_numpy(permute(a.k_proj.weight.numpy(), config.num_key_value_heads)))
        assert max_diff(forward(wrong, ids, mask), ref) > 0.05

    gguf_variants = {"tiny-llama": ["f32", "q8_0", "q4_1"], "tiny-llama-ffn256": ["q4_k"]}.get(kind, ["f32"])
    for variant in gguf_variants:
        filename = f"model-{variant}.gguf"
        write_gguf(folder / filename, kind, model, state, variant, vocab)
        if variant == "f32":
            logits = ref
            files["f32"].append(filename)
        else:
            logits = forward(dequantized_model(model, kind, folder / filename), ids, mask)
            files[variant] = [filename]
        # transformers' own GGUF loader agrees (it ignores rope_freqs: compare with no scaling).
        theirs = transformers_gguf_logits(folder, filename, ids, mask)
        expect = plain_logits if kind == "tiny-llama3-scaled" else logits
        assert max_diff(theirs, expect) < 1e-5, (kind, variant, max_diff(theirs, expect))
        # Every 4th position for the fp32 reference; every 12th for the quantized ones
        # (they test the block decoders, which every position depends on), to stay small.
        positions = positions_every(4 if variant == "f32" else 12)
        entry = {
            "files": files[variant],
            "positions": positions,
            "logits": rounded(at(logits, positions)),
            "nll": nll_per_row(logits, ids),
        }
        if variant != "f32":
            entry["max_abs_diff_from_f32"] = float(f"{max_diff(at(logits, positions), at(ref, positions)):.4g}")
        variants[variant] = entry

    rp = config.rope_parameters
    expected = {
        "generated_by": "tools/make_decoder_fixtures.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": importlib.metadata.version("gguf"),
        "architecture": gguf.MODEL_ARCH_NAMES[arch_of(kind)],
        "config": {
            "vocab_size": config.vocab_size,
            "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers,
            "num_attention_heads": config.num_attention_heads,
            "num_key_value_heads": config.num_key_value_heads,
            "head_dim": COMMON["head_dim"],
            "intermediate_size": config.intermediate_size,
            "rms_norm_eps": config.rms_norm_eps,
            "rope_theta": rp["rope_theta"],
            "rope_scaling": {k: v for k, v in rp.items() if k != "rope_theta"} if rp.get("rope_type") != "default" else None,
            "tie_word_embeddings": config.tie_word_embeddings,
            "attention_bias": kind == "tiny-qwen2",
        },
        "input_ids": ids.tolist(),
        "lengths": LENGTHS,
        "variants": variants,
    }
    if kind == "tiny-llama":
        expected["tokenizer_cases"] = tokenizer_cases(vocab[0], vocab[2])
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {folder}: {n_params} parameters")
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            print(f"  {f.relative_to(out_dir)}  {f.stat().st_size} bytes")


def check_llama_cpp(out_dir, kinds):
    """Runs the written GGUF files through llama.cpp (see the module docstring)."""
    import llama_cpp

    for kind in kinds:
        expected = json.loads((out_dir / kind / "expected.json").read_text())
        for variant, entry in expected["variants"].items():
            filename = next(f for f in entry["files"] if f.endswith(".gguf"))
            llm = llama_cpp.Llama(model_path=str(out_dir / kind / filename), n_ctx=64, n_batch=64,
                                  logits_all=True, verbose=False, type_k=0, type_v=0)  # 0 = F32 KV cache
            worst, nlls = 0.0, []
            for r, n in enumerate(expected["lengths"]):
                ids = expected["input_ids"][r][:n]
                llm.reset()
                llm.eval(ids)
                logits = torch.tensor(np.array(llm.scores[:n]), dtype=torch.float64)
                for (row, pos), ref in zip(entry["positions"], entry["logits"]):
                    if row == r:
                        worst = max(worst, float((logits[pos] - torch.tensor(ref, dtype=torch.float64)).abs().max()))
                lp = torch.log_softmax(logits[:-1], dim=-1)
                nlls.append(float(-lp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).mean()))
            nll_diff = max(abs(a - b) for a, b in zip(nlls, entry["nll"]))
            print(f"llama.cpp {kind} {filename}: max |logit - reference| {worst:.3g}, max |nll - reference| {nll_diff:.3g}")
            if variant == "f32":
                assert worst < 5e-5, (kind, filename, worst)
            assert nll_diff < 0.05, (kind, filename, nlls, entry["nll"])
            for case in expected.get("tokenizer_cases", []) if variant == "f32" else []:
                got = llm.tokenize(case["text"].encode(), add_bos=False, special=False)
                assert got == case["ids"], (case, got)
            del llm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("tests/fixtures/decoder"))
    parser.add_argument("--check-llama-cpp", action="store_true",
                        help="also run every GGUF through llama.cpp (llama-cpp-python) and compare")
    args = parser.parse_args()
    torch.manual_seed(0)
    vocab = tiny_vocab()
    batch_data = batch()
    kinds = ["tiny-llama", "tiny-llama-untied", "tiny-qwen2", "tiny-llama3-scaled", "tiny-llama-ffn256"]
    for i, kind in enumerate(kinds):
        make(kind, args.out, seed=10 + i, vocab=vocab, batch_data=batch_data)
    if args.check_llama_cpp:
        check_llama_cpp(args.out, kinds)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file() and f.parent.name != "__pycache__")
    print(f"total under {args.out}: {total} bytes")
    assert total < 1_500_000, total


if __name__ == "__main__":
    main()
