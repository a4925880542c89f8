#!/usr/bin/env python3
"""The first-order ceiling for the optimizer race (issue 23): AdamW fine-tuning of
SmolLM2-135M-Instruct on mezo-sst2's SST-2 protocol, in PyTorch.

Same model (the pinned Q4_1 GGUF, dequantized to fp32 by transformers' GGUF
loader), same data and same loss as `mezo-sst2 train --model <gguf>`:
  - data: the OPT protocol, 1,000 train + 500 dev drawn from GLUE train with
    NumPy's permutation (seed 42: train = its first 1,000 rows, dev = the next
    500; examples/sst2/sampled_split), test = GLUE dev (872);
  - prompt: the sentence's tokens, then " It was"'s, no BOS (SmolLM2 adds none);
    the LM head at the last position, the logits of " terrible" and " great",
    cross-entropy over the two (train-as-classification, as mezo-sst2);
  - tokenizer: the GGUF's BPE with llama.cpp's smollm pre-tokenizer
    (tools/make_real_model_reference.py's smollm_tokenizer, which checks it
    against llama.cpp's ids).
Training: AdamW (weight decay 0), full parameters, fp32, batch 16, one epoch
(63 steps) by default, a constant lr; for each lr of --lr the dev accuracy
after the epoch, and the test accuracy of the lr with the best dev accuracy.

    pip install torch transformers tokenizers gguf numpy accelerate
    python3 tools/first_order_sst2.py --lr 1e-5 3e-5 1e-4 --json first_order.json

Without --gguf it runs tools/fetch_model.sh SmolLM2-135M-Instruct. About 2
minutes per lr on 2 CPU cores.
"""
import argparse
import csv
import json
import pathlib
import subprocess
import sys
import time

import gguf
import numpy as np
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from make_real_model_reference import smollm_tokenizer  # noqa: E402

LABEL_WORDS = [" terrible", " great"]


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r[0], int(r[1])) for r in rows[1:]]


def encode(tok, sentence, max_length):
    ids = tok.encode(sentence.strip()).ids
    after = tok.encode(" It was").ids
    budget = max_length - len(after) - 1  # mezo-sst2 keeps room for the 1-token label word
    return ids[:budget] + after


def batches(examples, size):
    for i in range(0, len(examples), size):
        yield examples[i:i + size]


def label_logits(model, batch, label_ids):
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    for i, (ids, _) in enumerate(batch):
        input_ids[i, :len(ids)] = torch.tensor(ids)
        mask[i, :len(ids)] = 1
    hidden = model.model(input_ids=input_ids, attention_mask=mask)[0]
    last = torch.tensor([len(ids) - 1 for ids, _ in batch])
    return model.lm_head(hidden[torch.arange(len(batch)), last])[:, label_ids]


def accuracy(model, examples, label_ids):
    model.eval()
    correct = 0
    with torch.no_grad():
        for batch in batches(examples, 64):
            pred = label_logits(model, batch, label_ids).argmax(dim=1)
            correct += int((pred == torch.tensor([y for _, y in batch])).sum())
    return correct / len(examples)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gguf", type=pathlib.Path, help="SmolLM2-135M-Instruct.Q4_1.gguf (default: fetch it)")
    p.add_argument("--data", type=pathlib.Path, default=ROOT.parent / "shared/data/SST-2")
    p.add_argument("--lr", type=float, nargs="+", default=[1e-5, 3e-5, 1e-4])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128, help="mezo-sst2's default")
    p.add_argument("--data-seed", type=int, default=42)
    p.add_argument("--seed", type=int, default=42, help="batch order")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", type=pathlib.Path)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    path = args.gguf or pathlib.Path(subprocess.run(
        [str(ROOT / "tools/fetch_model.sh"), "SmolLM2-135M-Instruct"],
        check=True, capture_output=True, text=True).stdout.strip())

    tok = smollm_tokenizer(gguf.GGUFReader(str(path)))
    label_ids = [tok.encode(w).ids[0] for w in LABEL_WORDS]
    glue_train = read_tsv(args.data / "glue/train.tsv")
    order = np.random.RandomState(args.data_seed).permutation(len(glue_train))
    pick = lambda idx: [(encode(tok, glue_train[i][0], args.max_length), glue_train[i][1]) for i in idx]
    train, dev = pick(order[:1000]), pick(order[1000:1500])
    test = [(encode(tok, s, args.max_length), y) for s, y in read_tsv(args.data / "glue/dev.tsv")]

    runs = []
    for lr in args.lr:
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32)
        if not runs:
            zero_shot = {"dev": accuracy(model, dev, label_ids), "test": accuracy(model, test, label_ids)}
            print(f"zero-shot: dev {100 * zero_shot['dev']:.1f}%, test {100 * zero_shot['test']:.1f}%")
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
        rng = np.random.RandomState(args.seed)
        t0 = time.time()
        steps = 0
        for _ in range(args.epochs):
            shuffled = [train[i] for i in rng.permutation(len(train))]
            model.train()
            for batch in batches(shuffled, args.batch):
                loss = torch.nn.functional.cross_entropy(
                    label_logits(model, batch, label_ids), torch.tensor([y for _, y in batch]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps += 1
        run = {"lr": lr, "steps": steps, "train_s": time.time() - t0,
               "dev": accuracy(model, dev, label_ids), "test": accuracy(model, test, label_ids)}
        print(f"lr {lr:g}: {steps} AdamW steps in {run['train_s']:.0f} s, dev {100 * run['dev']:.1f}%, "
              f"test {100 * run['test']:.1f}%")
        runs.append(run)
    best = max(runs, key=lambda r: r["dev"])
    print(f"best by dev: lr {best['lr']:g}, test {100 * best['test']:.1f}%")
    if args.json:
        args.json.write_text(json.dumps({
            "model": path.name, "epochs": args.epochs, "batch": args.batch, "zero_shot": zero_shot,
            "runs": runs, "best_by_dev": best, "torch": torch.__version__,
            "transformers": transformers.__version__}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
