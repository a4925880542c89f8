#!/usr/bin/env python3
"""The PyTorch reference MeZO step that libmezo's benchmarks compare against.

A Hugging Face RobertaForMaskedLM of the RoBERTa-base or -large shape, or a
LlamaForCausalLM / Qwen2ForCausalLM of the SmolLM2-135M, Qwen2.5-0.5B or
Llama-3.2-1B shape (benchmarks/decoder_shapes.hpp), with random weights (built
from a config: nothing is downloaded), on the GPU (--device cuda, the default)
or the CPU (--device cpu --threads N, beside benchmarks/decoder_benchmark), stepped
the way the MeZO authors' code steps it (princeton-nlp/MeZO, trainer.py:
zo_step / zo_perturb_parameters / zo_update):

    seed per step; for scale in (+1, -2, +1):           # three perturbation passes
        torch.manual_seed(seed)
        for each trainable named parameter p:
            z = torch.normal(mean=0, std=1, size=p.size(), device=p.device, dtype=p.dtype)
            p.data = p.data + scale * eps * z
        (a forward after the +1 and the -2 pass)
    projected_grad = (loss1 - loss2) / (2 eps)
    torch.manual_seed(seed); for each p: z = ...; p.data = p.data - lr * (projected_grad * z + wd * p.data)

so four parameter passes per step, each materialising z as a temporary tensor.

--peft lora|prefix (decoders) steps only the PEFT tensors, as the authors' code
does with its --lora / --prefix_tuning (large_models/lora.py, prefix.py): LoRA
r 8, alpha 16 on q_proj and v_proj (A Kaiming-uniform, B zero; y = Wx +
(alpha/r) B A x), or 5 trainable key/value vectors per layer prepended to
attention (here through past_key_values: the same attention arithmetic).
torch.manual_seed is called once per pass, before the loop over parameters, as
the authors do: it regenerates the same z sequence for every pass.

The loss is the prompt-based one of the authors' experiments (and of the
libmezo benchmarks): for RoBERTa the MLM head at one mask position per row,
for decoders the LM head at each row's last token (the authors' OPT setting,
train-as-classification), the logits of two label words, cross-entropy. Forwards run under torch.inference_mode in
eval mode (no dropout), as zo_forward does. The batch is random token ids,
every row full length, like benchmarks/cuda_benchmark.cpp's.

--optimizer fzoo steps as FZOO's authors' code does (DKmiyan/FZOO, trainer.py
zo_step / zo_update; full-parameter only): for each of N probes a seed,
torch.manual_seed(seed), z = torch.randint(0, 2, p.size()) * 2 - 1 per
parameter, p.data = p.data + z * eps, a forward, the same z subtracted; then the
unperturbed forward; projected_grad_i = (l_i - l_0) / (N * std(l_1..l_N),
biased); then for each seed, z regenerated and p.data = p.data - lr * g_i * z.
So 2N + N parameter passes and N + 1 forwards a step.

Timing: each step is timed with torch.cuda.synchronize() before and after
(wall clock); on the GPU each forward and each pass with CUDA events, which do
not synchronise and so do not slow the step down; on the CPU with the wall
clock. Prints the medians and writes them with the setup to --json.

Exit codes: 0 measured; 3 torch or transformers missing, or no CUDA device.

    python3 tools/torch_reference_step.py --model large --dtype fp32 --json torch_large_fp32.json
    python3 tools/torch_reference_step.py --model smollm2-135m --device cpu --threads 2 \
        --batch 16 --seq 64 --steps 3 --warmup 1
"""

import argparse
import json
import random
import statistics
import sys
import time

SHAPES = {
    # hidden, layers, heads, intermediate (benchmarks/roberta_shapes.hpp)
    "base": (768, 12, 12, 3072),
    "large": (1024, 24, 16, 4096),
}
# The decoders' config.json fields (benchmarks/decoder_shapes.hpp).
DECODERS = {
    "smollm2-135m": dict(model_type="llama", vocab_size=49152, hidden_size=576, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536,
                         rope_theta=100000.0, rms_norm_eps=1e-5),
    "qwen2.5-0.5b": dict(model_type="qwen2", vocab_size=151936, hidden_size=896, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864,
                         rope_theta=1000000.0, rms_norm_eps=1e-6),
    "llama-3.2-1b": dict(model_type="llama", vocab_size=128256, hidden_size=2048, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, intermediate_size=8192,
                         rope_theta=500000.0, rms_norm_eps=1e-5,
                         rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
}
LABEL_WORDS = [6587, 372]  # the same two label ids as the libmezo benchmark
DECODER_LABEL_WORDS = [13321, 1109]  # SmolLM2's " terrible", " great" (decoder_shapes.hpp)


LORA_RANK, LORA_ALPHA, PREFIX_TOKENS = 8, 16, 5  # the paper's PEFT settings (mezo-sst2's defaults)


def add_peft(torch, model, peft, config, dev, dtype):
    """Freezes the model and adds the PEFT tensors (the only ones that require grad).

    Returns, for prefix tuning, a function batch -> past_key_values holding the
    prefix; None otherwise."""
    if peft == "full":
        return None
    for p in model.parameters():
        p.requires_grad_(False)
    layers = model.model.layers
    if peft == "lora":
        import math

        class LoraLinear(torch.nn.Module):
            def __init__(self, base):
                super().__init__()
                self.base, self.scale = base, LORA_ALPHA / LORA_RANK
                self.lora_A = torch.nn.Parameter(torch.empty(LORA_RANK, base.in_features, device=dev, dtype=dtype))
                self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, LORA_RANK, device=dev, dtype=dtype))
                torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

            def forward(self, x):
                return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale

        for layer in layers:
            layer.self_attn.q_proj = LoraLinear(layer.self_attn.q_proj)
            layer.self_attn.v_proj = LoraLinear(layer.self_attn.v_proj)
        return None
    from transformers import DynamicCache

    kv_heads, head_dim = config.num_key_value_heads, config.head_dim
    keys = [torch.nn.Parameter(0.02 * torch.randn(1, kv_heads, PREFIX_TOKENS, head_dim, device=dev, dtype=dtype))
            for _ in layers]
    values = [torch.nn.Parameter(0.02 * torch.randn(1, kv_heads, PREFIX_TOKENS, head_dim, device=dev, dtype=dtype))
              for _ in layers]
    for i, (k, v) in enumerate(zip(keys, values)):
        model.register_parameter(f"prefix_keys_{i}", k)
        model.register_parameter(f"prefix_values_{i}", v)

    def cache(batch):
        c = DynamicCache()
        for i, (k, v) in enumerate(zip(keys, values)):
            c.update(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), i)
        return c
    return cache


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(SHAPES) + sorted(DECODERS), default="base")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (torch.set_num_threads); 0 = torch's default")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="weights (and compute) dtype")
    p.add_argument("--tf32", action="store_true",
                   help="allow TF32 matmuls for fp32 (torch.set_float32_matmul_precision('high')); off by "
                        "default, as in PyTorch")
    p.add_argument("--lr", type=float, default=1e-6)
    p.add_argument("--eps", type=float, default=1e-3)
    p.add_argument("--weight_decay", type=float, default=0.0)
    p.add_argument("--peft", choices=["full", "lora", "prefix"], default="full",
                   help="decoders: which tensors a step perturbs and updates")
    p.add_argument("--optimizer", choices=["mezo", "fzoo"], default="mezo",
                   help="the authors' MeZO step, or FZOO's (full-parameter)")
    p.add_argument("--directions", type=int, default=8, help="fzoo: probes per step (N)")
    p.add_argument("--json", metavar="OUT", help="write the results here")
    return p.parse_args()


def main():
    args = parse_args()
    try:
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForCausalLM, RobertaConfig, RobertaForMaskedLM
    except ImportError as e:
        print(f"torch_reference_step: not run: {e} (needs torch and transformers)", file=sys.stderr)
        return 3
    on_gpu = args.device == "cuda"
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if on_gpu and not torch.cuda.is_available():
        print("torch_reference_step: not run: torch.cuda.is_available() is False "
              f"(torch {torch.__version__}, built with CUDA {torch.version.cuda})", file=sys.stderr)
        return 3

    dev = torch.device(args.device)
    dtype = torch.float32 if args.dtype == "fp32" else torch.bfloat16
    # "highest": fp32 matmuls in fp32 (PyTorch's default); "high": TF32 tensor cores.
    torch.set_float32_matmul_precision("high" if args.tf32 else "highest")

    decoder = args.model in DECODERS
    if decoder:
        fields = dict(DECODERS[args.model])
        config = AutoConfig.for_model(fields.pop("model_type"), head_dim=64, max_position_embeddings=8192,
                                      tie_word_embeddings=True, **fields)
        build = lambda: AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    else:
        hidden, layers, heads, intermediate = SHAPES[args.model]
        config = RobertaConfig(
            vocab_size=50265, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=intermediate, max_position_embeddings=514, type_vocab_size=1,
            layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
        build = lambda: RobertaForMaskedLM(config)
    torch.manual_seed(0)
    try:
        with torch.device(dev):  # initialise on the device (torch >= 2.0)
            model = build()
    except (TypeError, AttributeError):
        model = build().to(dev)
    model = model.to(dtype).eval()
    if args.peft != "full" and not decoder:
        print("torch_reference_step: --peft is for the decoder shapes", file=sys.stderr)
        return 2
    prefix = add_peft(torch, model, args.peft, config, dev, dtype)
    # The authors' named_parameters_to_optim: every parameter that requires grad
    # (named_parameters() lists the tied decoder weight once, as the word embeddings).
    named_params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    num_params = sum(p.numel() for _, p in named_params)

    # Random full-length rows. RoBERTa: <s>, ids in [4, 50004), </s>, the mask
    # position one before the end; decoders: ids in [17, 49152), the last token.
    g = torch.Generator().manual_seed(12345)
    if decoder:
        ids = torch.randint(17, 49152, (args.batch, args.seq), generator=g)
    else:
        ids = torch.randint(4, 50004, (args.batch, args.seq), generator=g)
        ids[:, 0], ids[:, -1] = 0, 2
    input_ids = ids.to(dev)
    attention_mask = torch.ones_like(input_ids)
    prefix_mask = torch.ones(args.batch, PREFIX_TOKENS + args.seq, dtype=torch.long, device=dev)
    rows = torch.arange(args.batch, device=dev)
    mask_pos = torch.full((args.batch,), args.seq - (1 if decoder else 2), device=dev)
    labels = (torch.arange(args.batch, device=dev) % 2)
    label_words = torch.tensor(DECODER_LABEL_WORDS if decoder else LABEL_WORDS, device=dev)

    def forward():
        # The prompt-finetuning loss: the head only at the queried positions, two label words.
        with torch.inference_mode():
            if decoder and prefix is not None:
                hidden_states = model.model(input_ids=input_ids, attention_mask=prefix_mask,
                                            past_key_values=prefix(args.batch))[0]
                logits = model.lm_head(hidden_states[rows, mask_pos])[:, label_words]
            elif decoder:
                hidden_states = model.model(input_ids=input_ids, attention_mask=attention_mask)[0]
                logits = model.lm_head(hidden_states[rows, mask_pos])[:, label_words]
            else:
                hidden_states = model.roberta(input_ids=input_ids, attention_mask=attention_mask)[0]
                logits = model.lm_head(hidden_states[rows, mask_pos])[:, label_words]
            return torch.nn.functional.cross_entropy(logits.float(), labels)

    def perturb(seed, scale):
        torch.manual_seed(seed)
        for _, p in named_params:
            z = torch.normal(mean=0, std=1, size=p.data.size(), device=p.data.device, dtype=p.data.dtype)
            p.data = p.data + scale * z * args.eps

    def update(seed, projected_grad):
        # zo_update, weight-decay term included as the authors write it (it is
        # computed even at weight_decay 0), with their name test for no-decay
        # parameters (which misses HF's "LayerNorm": it is case-sensitive).
        torch.manual_seed(seed)
        for name, p in named_params:
            z = torch.normal(mean=0, std=1, size=p.data.size(), device=p.data.device, dtype=p.data.dtype)
            if "bias" not in name and "layer_norm" not in name and "layernorm" not in name:
                p.data = p.data - args.lr * (projected_grad * z + args.weight_decay * p.data)
            else:
                p.data = p.data - args.lr * (projected_grad * z)

    class WallEvent:
        """CUDA-event-like timing with the wall clock, for the CPU."""
        def record(self):
            self.t = time.perf_counter()

        def elapsed_time(self, end):
            return (end.t - self.t) * 1e3

    def event():
        return torch.cuda.Event(enable_timing=True) if on_gpu else WallEvent()

    def synchronize():
        if on_gpu:
            torch.cuda.synchronize()

    def rademacher(p):
        return torch.randint(0, 2, size=p.data.size(), device=p.data.device, dtype=p.data.dtype) * 2 - 1

    def fzoo_step(rng):
        """One FZOO step (zo_step + zo_update); returns (forward times, pass times) in ms."""
        seeds, losses, fwd, passes = [], [], [], []
        for _ in range(args.directions):
            seed = rng.randrange(1_000_000_000)
            seeds.append(seed)
            for scale in (1, -1):
                e0, e1 = event(), event()
                e0.record()
                torch.manual_seed(seed)
                for _, p in named_params:
                    p.data = p.data + scale * rademacher(p) * args.eps
                e1.record()
                passes.append((e0, e1))
                if scale == 1:
                    e2, e3 = event(), event()
                    e2.record(); losses.append(forward()); e3.record()
                    fwd.append((e2, e3))
        e2, e3 = event(), event()
        e2.record(); base = forward(); e3.record()
        fwd.append((e2, e3))
        l = torch.stack(losses).float().cpu()
        grads = (l - base.float().cpu()) / (args.directions * torch.std(l, unbiased=False))
        for seed, g in zip(seeds, grads.tolist()):
            e0, e1 = event(), event()
            e0.record()
            torch.manual_seed(seed)
            for _, p in named_params:
                p.data = p.data - args.lr * (g * rademacher(p))
            e1.record()
            passes.append((e0, e1))
        return fwd, passes

    if args.optimizer == "fzoo" and args.peft != "full":
        print("torch_reference_step: --optimizer fzoo is full-parameter only", file=sys.stderr)
        return 2
    rng = random.Random(42)
    step_ms, forward_ms, passes_ms = [], [], []
    synchronize()
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    if args.optimizer == "fzoo":
        for i in range(args.warmup + args.steps):
            synchronize()
            t0 = time.perf_counter()
            fwd, passes = fzoo_step(rng)
            synchronize()
            t = (time.perf_counter() - t0) * 1e3
            if i >= args.warmup:
                step_ms.append(t)
                forward_ms += [a.elapsed_time(b) for a, b in fwd]
                passes_ms.append(sum(a.elapsed_time(b) for a, b in passes))
        loss2 = forward()
    for i in range(args.warmup + args.steps if args.optimizer == "mezo" else 0):
        seed = rng.randrange(1_000_000_000)  # zo_step: np.random.randint(1000000000)
        ev = [event() for _ in range(12)]
        synchronize()
        t0 = time.perf_counter()
        ev[0].record(); perturb(seed, 1); ev[1].record()
        ev[2].record(); loss1 = forward(); ev[3].record()
        ev[4].record(); perturb(seed, -2); ev[5].record()
        ev[6].record(); loss2 = forward(); ev[7].record()
        projected_grad = ((loss1 - loss2) / (2 * args.eps)).item()
        ev[8].record(); perturb(seed, 1); ev[9].record()
        ev[10].record(); update(seed, projected_grad); ev[11].record()
        synchronize()
        t = (time.perf_counter() - t0) * 1e3
        if i >= args.warmup:
            step_ms.append(t)
            forward_ms += [ev[2].elapsed_time(ev[3]), ev[6].elapsed_time(ev[7])]
            passes_ms.append(sum(ev[k].elapsed_time(ev[k + 1]) for k in (0, 4, 8, 10)))

    result = {
        "what": (f"HF {type(model).__name__} MeZO step, authors' four-pass in-place perturbation"
                 if args.optimizer == "mezo" else
                 f"HF {type(model).__name__} FZOO step, N = {args.directions}, authors' zo_step/zo_update"),
        "optimizer": args.optimizer,
        "forwards_per_step": 2 if args.optimizer == "mezo" else args.directions + 1,
        "peft": args.peft,
        "model": args.model, "dtype": args.dtype, "tf32": bool(args.tf32),
        "batch": args.batch, "seq": args.seq, "steps": args.steps, "warmup": args.warmup,
        "params": num_params,
        "step_ms_median": statistics.median(step_ms),
        "forward_ms_median": statistics.median(forward_ms),  # one forward
        "passes_ms_median": statistics.median(passes_ms),    # the four passes of one step
        "step_ms": step_ms,
        "peak_bytes": torch.cuda.max_memory_allocated() if on_gpu else None,
        "device": torch.cuda.get_device_name(dev) if on_gpu else f"cpu, {torch.get_num_threads()} threads",
        "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "last_loss": float(loss2),
    }
    print(f"torch reference {args.optimizer}, {args.model}{'' if args.peft == 'full' else ' ' + args.peft} "
          f"{args.dtype}{' tf32' if args.tf32 else ''}, "
          f"batch {args.batch} x {args.seq}, {num_params:,} parameters, {result['device']}:")
    peak = f", peak {result['peak_bytes'] / 1e9:.2f} GB" if on_gpu else ""
    print(f"  step {result['step_ms_median']:.2f} ms (median of {args.steps}), "
          f"forward {result['forward_ms_median']:.2f} ms each ({result['forwards_per_step']} a step), "
          f"passes {result['passes_ms_median']:.2f} ms"
          f"{peak}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
