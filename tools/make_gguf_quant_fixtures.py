#!/usr/bin/env python3
"""Writes tests/fixtures/gguf_quants/quants.gguf, the reference for libmezo's GGUF block decoders.

    python3 -m venv /tmp/gv && /tmp/gv/bin/pip install gguf numpy   # once (any venv with both)
    /tmp/gv/bin/python tools/make_gguf_quant_fixtures.py              # from the repository root

The file is written by gguf-py's GGUFWriter (an independent GGUF writer) and
holds, for each type libmezo decodes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
Q8_0, Q4_K, Q6_K), a tensor `<type>` of shape [2, 2 * block] (4 blocks) in
that type, and an F32 tensor `<type>.expected` with gguf-py's
gguf.quants.dequantize of the same bytes, which follows ggml's
dequantize_row_* in fp32 and gives the same bits. For the block types, row 0
is gguf.quants.quantize of Gaussian values where gguf-py can quantize the type,
and the other blocks are random bytes with finite random fp16 scales (gguf-py
cannot quantize Q4_K and Q6_K, so all their blocks are random: every bit of
the packed 6-bit scales, nibbles and high bits is exercised). The metadata has
one key of each GGUF value type (`test.*`), which tests/gguf_test.cpp checks,
so the file also tests reading what another writer wrote.

Seeded: rerunning rewrites the same bytes (for a given gguf-py version).
Made with gguf 0.19.0 and numpy 2.4.6 from PyPI.
"""
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter, quants
from gguf.constants import GGML_QUANT_SIZES

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "gguf_quants" / "quants.gguf"

rng = np.random.default_rng(20261121)

# Byte offsets of each block type's fp16 fields (ggml-common.h), which the
# random blocks set to finite values.
HALF_FIELDS = {
    T.Q4_0: [0],
    T.Q4_1: [0, 2],
    T.Q5_0: [0],
    T.Q5_1: [0, 2],
    T.Q8_0: [0],
    T.Q4_K: [0, 2],
    T.Q6_K: [208],
}
CAN_QUANTIZE = {T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0}


def random_blocks(qtype, n_blocks):
    block_size, block_bytes = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for at in HALF_FIELDS[qtype]:
        # Scales of either sign and a few magnitudes, subnormal fp16 included.
        halves = (rng.standard_normal(n_blocks) * 10.0 ** rng.integers(-6, 1, n_blocks)).astype(np.float16)
        blocks[:, at:at + 2] = halves.view(np.uint8).reshape(n_blocks, 2)
    return blocks


def block_tensor(qtype):
    block_size, block_bytes = GGML_QUANT_SIZES[qtype]
    rows = []
    if qtype in CAN_QUANTIZE:
        values = rng.standard_normal((1, 2 * block_size)).astype(np.float32) * 0.05
        rows.append(quants.quantize(values, qtype).reshape(1, 2 * block_bytes))
    while len(rows) < 2:
        rows.append(random_blocks(qtype, 2).reshape(1, 2 * block_bytes))
    return np.concatenate(rows, axis=0)  # [2, 2 * block_bytes] bytes = [2, 2 * block] elements


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    w = GGUFWriter(str(OUT), arch="test")
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "ünïcode ✓")
    w.add_uint64("test.uint64", 18000000000000000000)
    w.add_int64("test.int64", -9000000000000000000)
    w.add_float64("test.float64", 0.1)
    w.add_array("test.strings", ["a", "", "three"])
    w.add_array("test.int32s", [1, -2, 3])
    w.add_array("test.float32s", [0.5, -1.25])

    f32 = (rng.standard_normal((2, 8)) * 3).astype(np.float32)
    w.add_tensor("F32", f32)
    w.add_tensor("F32.expected", f32)

    # Finite halves of every exponent, subnormals included.
    f16 = rng.integers(0, 0x7C00, size=(2, 8), dtype=np.uint16) | (
        rng.integers(0, 2, size=(2, 8), dtype=np.uint16) << 15)
    w.add_tensor("F16", f16.view(np.float16))
    w.add_tensor("F16.expected", f16.view(np.float16).astype(np.float32))

    bf16 = rng.integers(0, 0x7F80, size=(2, 8), dtype=np.uint16) | (
        rng.integers(0, 2, size=(2, 8), dtype=np.uint16) << 15)
    w.add_tensor("BF16", bf16.view(np.uint8).reshape(2, 16), raw_dtype=T.BF16)
    w.add_tensor("BF16.expected", quants.dequantize(bf16.view(np.uint8).reshape(2, 16), T.BF16))

    for qtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q6_K):
        raw = block_tensor(qtype)
        expected = quants.dequantize(raw, qtype).astype(np.float32)
        assert expected.shape == (2, 2 * GGML_QUANT_SIZES[qtype][0]) and np.isfinite(expected).all()
        w.add_tensor(qtype.name, raw, raw_dtype=qtype)
        w.add_tensor(qtype.name + ".expected", expected)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
