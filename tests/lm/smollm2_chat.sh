#!/usr/bin/env bash
# mezo-lm generate --chat on the real SmolLM2-135M-Instruct GGUF: the prompt it
# builds from the file's chat template has the ids transformers' rendering of
# that template gives, and the greedy answer is transformers' answer
# (tests/fixtures/decoder/generation_reference.json, made by
# tools/make_generation_reference.py). Exits 77 (skip) without the model:
# tools/fetch_model.sh SmolLM2-135M-Instruct fetches it.
set -euo pipefail
lm=$1 fixtures=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
model=${MEZO_SMOLLM2_GGUF:-${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf}
if [[ ! -f $model ]]; then
  echo "SKIP: $model not found; fetch it with tools/fetch_model.sh SmolLM2-135M-Instruct" >&2
  exit 77
fi
reference=$fixtures/decoder/generation_reference.json
question=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["smollm2"]["chat"]["question"])' "$reference")
"$lm" generate --model "$model" --chat --show-prompt --prompt "$question" --threads 2 \
  >"$work/answer.txt" 2>"$work/err.txt" || fail "generate --chat: $(cat "$work/err.txt")"
grep -q "(stop token)" "$work/err.txt" || fail "the answer did not end at <|im_end|>: $(cat "$work/err.txt")"
python3 - "$reference" "$work/answer.txt" "$work/err.txt" <<'PY'
import json, sys
chat = json.load(open(sys.argv[1]))["smollm2"]["chat"]
answer = open(sys.argv[2], encoding="utf-8").read()
ids_line = [l for l in open(sys.argv[3]) if l.startswith("mezo-lm: prompt ids: ")][0]
ids = [int(x) for x in ids_line.split(": ", 2)[2].split()]
assert ids == chat["prompt_ids"], f"prompt ids {ids} != {chat['prompt_ids']}"
assert answer == chat["answer_text"] + "\n", (answer, chat["answer_text"])
print(f"chat prompt: {len(ids)} ids as transformers; answer {answer.strip()!r}")
PY
