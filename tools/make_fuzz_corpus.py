#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<target>/.

    python3 tools/make_fuzz_corpus.py            # from the repository root

Seeds are small (libFuzzer mutates them; a few KB at most): well-formed files
in each format, written here from the formats' specifications, and
hand-broken variants of them (truncated, lying sizes and offsets, wrong
types, invalid UTF-8, bad CRCs). The model configs are the committed
fixtures' config.json files. Nothing is copied from the shared data folder.
Only the standard library is needed. Rerunning rewrites the same bytes.
"""
import json
import pathlib
import random
import shutil
import struct
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fuzz" / "corpus"


def put(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


# --- safetensors: u64 header length, JSON header, data section -------------
def safetensors(tensors, metadata=None, header_len_delta=0, body_cut=0):
    header, body = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    blob = struct.pack("<Q", len(h) + header_len_delta) + h + body
    return blob[: len(blob) - body_cut] if body_cut else blob


def f32(*v):
    return struct.pack(f"<{len(v)}f", *v)


good = [("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)), ("b", "F32", [3], f32(0.5, -1, 2))]
put("safetensors", "good", safetensors(good, {"format": "pt"}))
put("safetensors", "half_types", safetensors([("h", "F16", [2], struct.pack("<2e", 1.5, -2)),
                                              ("bf", "BF16", [2], b"\x80\x3f\x00\xc0"),
                                              ("i", "I64", [1], struct.pack("<q", 7))]))
put("safetensors", "scalar_and_empty", safetensors([("s", "F32", [], f32(3)), ("e", "F32", [0, 4], b"")]))
put("safetensors", "truncated_body", safetensors(good, body_cut=5))
put("safetensors", "header_len_too_big", safetensors(good, header_len_delta=1000))
put("safetensors", "header_len_huge", struct.pack("<Q", 1 << 62) + b"{}")
put("safetensors", "empty_header", safetensors([]))
put("safetensors", "not_json", struct.pack("<Q", 9) + b"{not json")
put("safetensors", "lying_shape", safetensors([("w", "F32", [1000, 1000], f32(1, 2))]))
h = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode()
put("safetensors", "overlapping", struct.pack("<Q", len(h)) + h + f32(1, 2, 3))
h = json.dumps({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [8, 0]}}).encode()
put("safetensors", "negative_shape", struct.pack("<Q", len(h)) + h + f32(1, 2))
put("safetensors", "short", b"\x08\x00\x00")

# --- config.json --------------------------------------------------------------
for fixture in ("tiny-roberta", "tiny-bert", "tiny-bert-encoder"):
    put("config_json", fixture, (ROOT / "tests" / "fixtures" / fixture / "config.json").read_bytes())
base = json.loads((ROOT / "tests" / "fixtures" / "tiny-roberta" / "config.json").read_text())
for name, change in {
    "heads_do_not_divide": {"num_attention_heads": 5},
    "negative_layers": {"num_hidden_layers": -2},
    "string_hidden": {"hidden_size": "64"},
    "huge_vocab": {"vocab_size": 1 << 40},
    "float_eps": {"layer_norm_eps": "tiny"},
    "unknown_act": {"hidden_act": "swish7"},
    "unknown_type": {"model_type": "gpt2"},
}.items():
    put("config_json", name, json.dumps({**base, **change}))
put("config_json", "truncated", json.dumps(base)[:40])
put("config_json", "array", "[1, 2, 3]")
put("config_json", "empty_object", "{}")

# --- BPE vocabulary files: vocab.json NUL merges.txt ---------------------------
specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
pieces = ["H", "e", "l", "o", "w", "r", "d", "Ġ", "t", "i", "s", "a", ",", ".",
          "He", "ll", "Hell", "Hello", "Ġw", "or", "Ġwor", "ld", "Ġworld", "Ġt", "Ġit"]
vocab = {tok: i for i, tok in enumerate(specials + pieces)}
merges = "#version: 0.2\nH e\nl l\nHe ll\nHell o\nĠ w\no r\nĠw or\nl d\nĠwor ld\nĠ t\nĠt i\nĠti t\n"
put("bpe_files", "good", json.dumps(vocab, ensure_ascii=False) + "\0" + merges)
put("bpe_files", "no_merges", json.dumps(vocab, ensure_ascii=False))
put("bpe_files", "merge_of_unknown", json.dumps(vocab) + "\0#version: 0.2\nq z\n")
put("bpe_files", "merge_one_field", json.dumps(vocab) + "\0#version: 0.2\nHe\n")
put("bpe_files", "vocab_array", '["a", "b"]\0' + merges)
put("bpe_files", "negative_id", json.dumps({**vocab, "x": -5}) + "\0" + merges)
put("bpe_files", "huge_id", json.dumps({**vocab, "x": 1 << 40}) + "\0" + merges)
put("bpe_files", "duplicate_id", json.dumps({**vocab, "x": 3}) + "\0" + merges)
put("bpe_files", "no_specials", json.dumps({p: i for i, p in enumerate(pieces)}) + "\0" + merges)
put("bpe_files", "bad_utf8_merges", json.dumps(vocab).encode() + b"\0#version: 0.2\n\xff\xfe l\n")

# --- WordPiece vocab.txt ---------------------------------------------------------
wp = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "it", "was", "na", "##ive",
      "ca", "##fe", ",", ".", "東", "京", "##s", "x"]
put("wordpiece_vocab", "good", "\n".join(wp) + "\n")
put("wordpiece_vocab", "crlf", "\r\n".join(wp))
put("wordpiece_vocab", "no_unk", "\n".join(t for t in wp if t != "[UNK]"))
put("wordpiece_vocab", "duplicates", "\n".join(wp + wp))
put("wordpiece_vocab", "empty_lines", "\n\n".join(wp))
put("wordpiece_vocab", "bad_utf8", ("\n".join(wp) + "\n").encode() + b"caf\xc3\n")
put("wordpiece_vocab", "empty", "")

# --- arbitrary text for the real vocabularies ---------------------------------------
texts = {
    "sentence": "a gripping, funny and ultimately heartbreaking film . It was <mask>.",
    "bert_mask": "the movie was [MASK] . [CLS] [SEP]",
    "unicode": "naïve café, Ångström, straße, ǅ, 東京タワー, 한국어, 🙂👍🏽, ﬁ ligature",
    "controls": "tab\there\x00nul\x1bescape\u200bzero-width\u00a0nbsp  spaces\r\n",
    "long_word": "supercalifragilistic" * 12,
    "punctuation": "!!!...,,,;;;'\"\"()[]{}<>--__",
    "special_like": "<s></s><pad><unk><mask> <mask><mask> [MASK][UNK]",
    "numbers": "1234567890 3.14159 1e-5 -42 0x1F",
}
for name, text in texts.items():
    put("bpe_encode", name, text)
    put("wordpiece_encode", name, text)
for target in ("bpe_encode", "wordpiece_encode"):
    put(target, "invalid_utf8", b"valid then \xc3\x28 broken \xff and cut \xe6\x9d")
    put(target, "overlong", b"\xc0\xaf \xe0\x80\xaf \xed\xa0\x80 surrogate")

# --- byte-level BPE under each pre-tokenizer: first byte picks it (0 gpt2, 1 smollm, 2 llama3, 3 qwen2)
decoder_texts = {
    "chat": "<|im_start|>user\nIt's 12345 o'clock!<|im_end|>\n",
    "contractions": "I'M HERE'S they'll 'tis rock 'n' roll",
    "whitespace": "a  b\t\tc \n\n  d\r\n\r\ne   \u3000f\u00a0 ",
    "unicode": texts["unicode"],
    "numbers": "\u0663\u0664 \u216b \u00bd 1,000,000 3.14 x1y22z333",
    "punctuation": "?!\r\n\r\nok (hello) [x] ...\n",
}
for name, text in decoder_texts.items():
    for pre in range(4):
        put("byte_bpe_encode", f"{name}_{pre}", bytes([pre]) + text.encode())
put("byte_bpe_encode", "invalid_utf8", b"\x02" + b"valid then \xc3\x28 broken \xff")


# --- Hugging Face tokenizer.json with a byte-level BPE model -----------------------------
def byte_level_alphabet():
    out, n = [], 256
    for b in range(256):
        printable = 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or b >= 0xAE
        out.append(chr(b) if printable else chr(n))
        n += 0 if printable else 1
    return out


def hf_json(pre_tokenizer, merges=None, normalizer=None, added=None, model_extra=None):
    vocab = {t: i for i, t in enumerate(byte_level_alphabet())}
    for t in ("\u0120t", "he", "\u0120the"):
        vocab[t] = len(vocab)
    model = {"type": "BPE", "dropout": None, "unk_token": None, "vocab": vocab,
             "merges": merges if merges is not None else [["\u0120", "t"], ["h", "e"], ["\u0120t", "he"]]}
    model.update(model_extra or {})
    if added is None:
        added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i, c in enumerate(["<|im_start|>", "<|im_end|>"])]
    return json.dumps({"version": "1.0", "added_tokens": added, "normalizer": normalizer,
                       "pre_tokenizer": pre_tokenizer, "post_processor": None,
                       "decoder": {"type": "ByteLevel"}, "model": model}, ensure_ascii=False)


byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
llama3_split = {"type": "Split", "behavior": "Isolated", "invert": False, "pattern": {"Regex":
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"}}
no_regex = {**byte_level, "use_regex": False}
put("hf_tokenizer_json", "gpt2", hf_json(byte_level))
put("hf_tokenizer_json", "smollm", hf_json({"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": True}, byte_level]}))
put("hf_tokenizer_json", "llama3", hf_json({"type": "Sequence", "pretokenizers": [llama3_split, no_regex]},
                                           model_extra={"ignore_merges": True}))
put("hf_tokenizer_json", "qwen2_nfc", hf_json({"type": "Sequence", "pretokenizers": [
    {**llama3_split, "pattern": {"Regex": llama3_split["pattern"]["Regex"].replace("{1,3}", "")}}, no_regex]},
    normalizer={"type": "NFC"}))
put("hf_tokenizer_json", "merges_as_strings", hf_json(byte_level, merges=["\u0120 t", "h e", "\u0120t he"]))
put("hf_tokenizer_json", "merge_of_unknown", hf_json(byte_level, merges=[["q", "zz"]]))
put("hf_tokenizer_json", "merge_one_field", hf_json(byte_level, merges=["he"]))
put("hf_tokenizer_json", "added_conflict", hf_json(byte_level, added=[{"id": 3, "content": "<x>", "special": True}]))
put("hf_tokenizer_json", "added_huge_id", hf_json(byte_level, added=[{"id": 1 << 40, "content": "<x>"}]))
put("hf_tokenizer_json", "lstrip_rstrip", hf_json(byte_level, added=[
    {"id": 259, "content": "<m>", "lstrip": True, "rstrip": True, "special": True}]))
put("hf_tokenizer_json", "unsupported_pre", hf_json({"type": "Whitespace"}))
put("hf_tokenizer_json", "wordpiece", json.dumps({"model": {"type": "WordPiece", "vocab": {"a": 0}}}))
put("hf_tokenizer_json", "truncated", hf_json(byte_level)[:200])
put("hf_tokenizer_json", "bad_utf8", hf_json(byte_level).encode().replace(b"he", b"h\xff", 1))

# --- GLUE TSV ------------------------------------------------------------------------
rows = ["a gripping film\t1", "dull and lifeless\t0", "warm , funny\t1", "a mess\t0",
        "superb acting\t1", "boring\t0", "lovely\t1", "tedious\t0", "great fun\t1", "awful\t0"]
tsv = "sentence\tlabel\n" + "\n".join(rows) + "\n"
put("labeled_tsv", "good", tsv)
put("labeled_tsv", "crlf_no_final_newline", tsv.replace("\n", "\r\n").rstrip("\r\n"))
put("labeled_tsv", "label_out_of_range", tsv + "odd one\t7\n")
put("labeled_tsv", "extra_field", tsv + "one\ttwo\t1\n")
put("labeled_tsv", "empty_line", "sentence\tlabel\n\n" + rows[0] + "\n")
put("labeled_tsv", "no_header", "\n".join(rows))
put("labeled_tsv", "header_only", "sentence\tlabel\n")
put("labeled_tsv", "bad_utf8", tsv.encode() + b"caf\xc3 \t1\n")
put("labeled_tsv", "label_not_a_number", tsv + "text\tone\n")
put("labeled_tsv", "huge_label", tsv + "text\t99999999999999999999\n")
put("labeled_tsv", "blank_sentence", tsv + "   \t1\n")

# k-shot: first byte = k - 1 (low 2 bits) and seed (the rest), then the TSV.
put("kshot_split", "k1", b"\x00" + tsv.encode())
put("kshot_split", "k2_seed3", b"\x0d" + tsv.encode())
put("kshot_split", "k4_too_few", b"\x03" + tsv.encode())
put("kshot_split", "bad_label", b"\x00" + (tsv + "x\t9\n").encode())
put("kshot_split", "three_labels", b"\x00" + (tsv + "meh\t2\nso so\t2\n").encode())

# --- trajectory log: first byte 1 = let the target repair the CRCs --------------------
def header(version=2, record_bytes=56, flags=1, perturbation=1, seed=42):
    h = b"MEZOTRJ1" + struct.pack("<IIIIQI", version, record_bytes, flags, perturbation, seed, 0)
    return h + struct.pack("<I", zlib.crc32(h))


def record(step, direction=0, directions=1, flags=0):
    r = struct.pack("<QQfffffffHHI", step, 1000 + step, 1e-3, 1e-6, 0.25, -2.5e-7, 0.0, 0.69, 0.68,
                    direction, directions, flags)
    return r + struct.pack("<I", zlib.crc32(r))


log = header() + record(0) + record(1) + record(2, flags=1)
put("trajectory", "good", b"\x00" + log)
put("trajectory", "two_directions", b"\x00" + header(flags=0) + record(0, 0, 2) + record(0, 1, 2))
put("trajectory", "partial_tail", b"\x00" + log + record(3)[:20])
put("trajectory", "corrupt_last", b"\x00" + log[:-1] + b"\x00")
corrupt_middle = bytearray(log)
corrupt_middle[40 + 60] ^= 0xFF
put("trajectory", "corrupt_middle", b"\x00" + bytes(corrupt_middle))
put("trajectory", "bad_magic", b"\x00" + b"MEZOTRJ9" + log[8:])
put("trajectory", "version_1", b"\x00" + header(version=1) + record(0))  # still read
put("trajectory", "version_3", b"\x00" + header(version=3) + record(0))
# FZOO-like one-sided probes (flag 4) and an update-only term along an earlier seed (flag 8).
put("trajectory", "one_sided_with_update_term",
    b"\x00" + header() + record(0, 0, 2, flags=4) + record(0, 1, 2, flags=4) + record(0, 2, 2, flags=12))
put("trajectory", "record_size_64", b"\x00" + header(record_bytes=64) + record(0))
put("trajectory", "header_only", b"\x00" + header())
put("trajectory", "short_header", b"\x00" + header()[:30])
put("trajectory", "repair_crcs", b"\x01" + bytes(corrupt_middle))

# --- GGUF: header, metadata, tensor infos, aligned data (ggml docs/gguf.md) --------------
def gguf_str(text):
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_value(vtype, value):
    if vtype == 8:
        return gguf_str(value)
    if vtype == 9:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(gguf_value(etype, v) for v in items)
    return struct.pack(GGUF_SCALARS[vtype], value)


def gguf(kvs, tensors, version=3, alignment=32, cut=0, offsets=None):
    """kvs: [(key, value type, value)]; tensors: [(name, dims (ggml order), ggml type, bytes)];
    offsets, if given, replace the tensors' own in the infos (the data stays packed)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gguf_str(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
    data, packed = b"", []
    for name, dims, ttype, raw in tensors:
        data += b"\0" * (-len(data) % alignment)
        packed.append(len(data))
        data += raw
    for (name, dims, ttype, raw), offset in zip(tensors, offsets or packed):
        out += gguf_str(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        out += struct.pack("<IQ", ttype, offset)
    if tensors:
        out += b"\0" * (-len(out) % alignment)
    out += data
    return out[: len(out) - cut] if cut else out


# Random block bytes with finite fp16 scales at the given byte offsets.
gguf_rng = random.Random(5)


def blocks(n, size, half_at):
    raw = bytearray(gguf_rng.getrandbits(8) for _ in range(n * size))
    for b in range(n):
        for at in half_at:
            raw[b * size + at: b * size + at + 2] = struct.pack("<e", gguf_rng.uniform(-0.1, 0.1))
    return bytes(raw)


GGUF_BLOCKS = {  # ggml type: (name, elements per block, bytes per block, fp16 fields)
    2: ("q4_0", 32, 18, [0]), 3: ("q4_1", 32, 20, [0, 2]), 6: ("q5_0", 32, 22, [0]),
    7: ("q5_1", 32, 24, [0, 2]), 8: ("q8_0", 32, 34, [0]), 12: ("q4_k", 256, 144, [0, 2]),
    14: ("q6_k", 256, 210, [208]),
}
every_kv = [
    ("general.architecture", 8, "llama"), ("general.alignment", 4, 32), ("llama.block_count", 4, 2),
    ("u8", 0, 200), ("i8", 1, -5), ("u16", 2, 60000), ("i16", 3, -300), ("i32", 5, -70000),
    ("llama.rope.freq_base", 6, 10000.0), ("tokenizer.ggml.add_bos_token", 7, True),
    ("u64", 10, 1 << 63), ("i64", 11, -(1 << 40)), ("f64", 12, 0.1),
    ("tokenizer.ggml.tokens", 9, (8, ["<s>", "a", "bc", "\u0120the"])),
    ("tokenizer.ggml.token_type", 9, (5, [3, 1, 1, 1])), ("tokenizer.ggml.scores", 9, (6, [0.0, -1.5, -2.0, 3.0])),
    ("flags", 9, (7, [True, False])), ("bytes", 9, (0, [1, 2, 255])), ("big", 9, (10, [(1 << 64) - 1])),
]
f32_tensor = ("token_embd.weight", [4, 2], 0, struct.pack("<8f", *range(8)))
put("gguf", "every_metadata_type", gguf(every_kv, [f32_tensor]))
put("gguf", "version_2", gguf(every_kv[:3], [f32_tensor], version=2))
put("gguf", "no_tensors", gguf(every_kv, []))
put("gguf", "half_types", gguf([], [("h", [4], 1, struct.pack("<4e", 1, -2, 65504, 6e-8)),
                                    ("bf", [2], 30, b"\x80\x3f\x00\xc0")]))
for ttype, (name, size, nbytes, half_at) in GGUF_BLOCKS.items():
    put("gguf", name, gguf([("general.architecture", 8, "llama")],
                           [(f"blk.0.{name}.weight", [size, 2], ttype, blocks(2, nbytes, half_at))]))
put("gguf", "every_block_type", gguf([], [(f"t{t}", [s], t, blocks(1, n, h)) for t, (_, s, n, h) in GGUF_BLOCKS.items()]))
put("gguf", "alignment_64", gguf([("general.alignment", 4, 64)], [f32_tensor, ("b", [3], 0, struct.pack("<3f", 1, 2, 3))],
                                 alignment=64))
put("gguf", "q5_k_not_decoded", gguf([], [("q", [256], 13, bytes(176))]))
put("gguf", "truncated", gguf(every_kv, [f32_tensor], cut=9))
put("gguf", "alignment_not_power_of_two", gguf([("general.alignment", 4, 48)], [f32_tensor], alignment=48))
put("gguf", "alignment_u64", gguf([("general.alignment", 10, 32)], [f32_tensor]))
put("gguf", "nested_array", gguf([("n", 9, (9, []))], []))
put("gguf", "version_1", gguf([], [f32_tensor], version=1))
put("gguf", "byte_swapped", gguf([], [f32_tensor], version=3 << 24))
put("gguf", "unknown_type", gguf([], [("iq", [256], 23, bytes(136))]))
put("gguf", "duplicate_key", gguf([("k", 4, 1), ("k", 4, 2)], []))
put("gguf", "duplicate_tensor", gguf([], [f32_tensor, f32_tensor]))
put("gguf", "partial_block", gguf([], [("q", [48], 2, bytes(27))]))
put("gguf", "overlapping", gguf([], [("a", [16], 0, bytes(64)), ("b", [8], 0, bytes(32))], offsets=[0, 32]))
put("gguf", "offset_past_end", gguf([], [f32_tensor], offsets=[1 << 20]))
lying = bytearray(gguf(every_kv[:2], [f32_tensor]))
lying[16:24] = struct.pack("<Q", 1 << 40)
put("gguf", "metadata_count_lies", bytes(lying))

if __name__ == "__main__":
    print(f"wrote {sum(1 for _ in OUT.rglob('*') if _.is_file())} seed files under {OUT.relative_to(ROOT)}")
