#!/usr/bin/env bash
# `mezo-sst2 splits` must reproduce the shared k-shot split 16-42 byte for byte
# (the LM-BFF / NumPy procedure described in ../shared/data/README.md).
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared SST-2/glue/train.tsv SST-2/glue/dev.tsv SST-2/k-shot/16-42/train.tsv \
  SST-2/k-shot/16-42/dev.tsv SST-2/k-shot/16-42/test.tsv

printed=$("$SST2" splits --glue-dir "$SHARED/SST-2/glue" --k 16 --seed 42 --out out) || fail "splits exited with $?"
[[ $printed == out/16-42 ]] || fail "splits printed '$printed', expected 'out/16-42'"
for f in train.tsv dev.tsv test.tsv; do
  cmp "out/16-42/$f" "$SHARED/SST-2/k-shot/16-42/$f" || fail "out/16-42/$f differs from $SHARED/SST-2/k-shot/16-42/$f"
done
for f in out/16-42/*; do
  case $(basename -- "$f") in train.tsv | dev.tsv | test.tsv) ;; *) fail "splits left an extra file: $f" ;; esac
done
note "PASS: train.tsv, dev.tsv, test.tsv byte-identical to k-shot/16-42"
