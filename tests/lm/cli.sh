#!/usr/bin/env bash
# mezo-lm end to end on the tiny fixtures (tools/make_decoder_fixtures.py):
#  - perplexity --ids-file over the fixture's three rows gives transformers'
#    NLL (the per-row means of expected.json, weighted by predicted tokens),
#    with the JSON object as the last stdout line;
#  - info runs on an HF folder (without tokenizer files) and a GGUF file, top
#    on a GGUF file; tokenize prints the fixture's ids;
#  - generate: --show-prompt prints the prompt's ids, greedy stops at
#    --max-tokens and says so, sampling with a seed gives the same bytes twice
#    and another seed other bytes, --prompt-file reads the same prompt;
#  - bad input (an id outside the vocabulary, a missing file, an encoder for
#    perplexity, no input) is a clear error with a non-zero exit, never a crash.
set -euo pipefail
lm=$1 fixtures=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
llama=$fixtures/decoder/tiny-llama
fail() { echo "FAIL: $*" >&2; exit 1; }

# The fixture's rows as an ids file, and the NLL transformers gives them.
python3 - "$llama/expected.json" "$work/ids.txt" "$work/want.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
rows = [r[:n] for r, n in zip(e["input_ids"], e["lengths"])]
open(sys.argv[2], "w").write("".join(" ".join(map(str, r)) + "\n" for r in rows))
nll = e["variants"]["f32"]["nll"]
tokens = sum(n - 1 for n in e["lengths"])
mean = sum(v * (n - 1) for v, n in zip(nll, e["lengths"])) / tokens
json.dump({"tokens": tokens, "nll": mean}, open(sys.argv[3], "w"))
PY
for model in "$llama/model-f32.gguf" "$llama/hf"; do
  "$lm" perplexity --model "$model" --ids-file "$work/ids.txt" --threads 2 >"$work/out.txt" 2>"$work/err.txt" ||
    fail "perplexity on $model: $(cat "$work/err.txt")"
  grep -q "windows" "$work/err.txt" || fail "no progress on stderr"
  python3 - "$work/out.txt" "$work/want.json" "$model" <<'PY' || exit 1
import json, sys
got = json.loads(open(sys.argv[1]).read().splitlines()[-1])
want = json.load(open(sys.argv[2]))
assert got["tokens"] == want["tokens"], (got, want)
assert abs(got["nll"] - want["nll"]) <= 1e-5 * want["nll"], (sys.argv[3], got["nll"], want["nll"])
print(f"perplexity {sys.argv[3]}: {got['tokens']} tokens, nll {got['nll']:.7f} (transformers {want['nll']:.7f})")
PY
done

# --compute bf16: the layers' products on bf16 inputs; the NLL moves by bf16
# rounding only (within 1%), and stderr says so. Where bf16 is unavailable (no
# AVX-512, no oneDNN) it must be refused with the reason.
if "$lm" perplexity --model "$llama/model-f32.gguf" --ids-file "$work/ids.txt" --compute bf16 \
  >"$work/out16.txt" 2>"$work/err16.txt"; then
  grep -q "bf16 compute" "$work/err16.txt" || fail "perplexity --compute bf16 does not say so"
  python3 - "$work/out16.txt" "$work/want.json" <<'PY' || exit 1
import json, sys
got = json.loads(open(sys.argv[1]).read().splitlines()[-1])
want = json.load(open(sys.argv[2]))
assert abs(got["nll"] - want["nll"]) <= 1e-2 * want["nll"], (got["nll"], want["nll"])
assert got["nll"] != want["nll"], "bf16 gave fp32's NLL to the last digit"
print(f"perplexity --compute bf16: nll {got['nll']:.7f} (transformers fp32 {want['nll']:.7f})")
PY
else
  grep -q "bf16 compute: .*Use fp32\|built without oneDNN" "$work/err16.txt" ||
    fail "perplexity --compute bf16 failed without saying bf16 is unavailable: $(cat "$work/err16.txt")"
  echo "perplexity --compute bf16: refused here ($(grep -o 'bf16 compute: .*' "$work/err16.txt"))"
fi

"$lm" info --model "$llama/model-q4_1.gguf" >"$work/info.txt" 2>/dev/null || fail "info"
grep -q "causal LM (llama)" "$work/info.txt" || fail "info: family: $(cat "$work/info.txt")"
grep -q "Q4_1" "$work/info.txt" || fail "info: stored types: $(cat "$work/info.txt")"
"$lm" info --model "$llama/hf" >"$work/info_hf.txt" 2>/dev/null || fail "info on an HF folder"
grep -q "tokenizer:    none" "$work/info_hf.txt" || fail "info without a tokenizer: $(cat "$work/info_hf.txt")"
"$lm" top --model "$llama/model-f32.gguf" --prompt "the theater" --k 3 >"$work/top.txt" 2>/dev/null || fail "top"
[[ $(grep -c '^ *[0-9] ' "$work/top.txt") -eq 3 ]] || fail "top: $(cat "$work/top.txt")"
"$lm" tokenize --model "$llama/model-f32.gguf" --text "the theater is inside" >"$work/tok.txt" 2>/dev/null ||
  fail "tokenize"
[[ $(head -1 "$work/tok.txt") == "119 247 250 100 119 251 35 108 118 35 249 118 108 103 104" ]] ||
  fail "tokenize: $(head -1 "$work/tok.txt")"

gen() { "$lm" generate --model "$llama/model-f32.gguf" --threads 2 "$@"; }
gen --prompt "the theater" --max-tokens 12 --show-prompt >"$work/gen.txt" 2>"$work/gen_err.txt" ||
  fail "generate: $(cat "$work/gen_err.txt")"
grep -q "prompt ids: 119 247 250 100 119 251$" "$work/gen_err.txt" || fail "generate --show-prompt: $(cat "$work/gen_err.txt")"
grep -q "12 tokens (max new tokens)" "$work/gen_err.txt" || fail "generate: $(cat "$work/gen_err.txt")"
[[ -s "$work/gen.txt" ]] || fail "generate printed nothing"
printf 'the theater' >"$work/prompt.txt"
gen --prompt-file "$work/prompt.txt" --max-tokens 12 >"$work/gen_file.txt" 2>/dev/null || fail "generate --prompt-file"
cmp -s "$work/gen.txt" "$work/gen_file.txt" || fail "generate --prompt-file gives other text"
for seed in 3 3 4; do
  gen --prompt "the theater" --max-tokens 20 --temperature 2 --seed $seed >"$work/sample_$seed.txt" 2>/dev/null ||
    fail "generate --temperature"
  cat "$work/sample_$seed.txt" >>"$work/samples.txt"
done
cmp -s <(gen --prompt "the theater" --max-tokens 20 --temperature 2 --seed 3 2>/dev/null) "$work/sample_3.txt" ||
  fail "sampling with one seed gives other text"
! cmp -s "$work/sample_3.txt" "$work/sample_4.txt" || fail "sampling with another seed gives the same text"
echo "generate: greedy, --prompt-file, seeded sampling"

# Bad input: exit 1 or 2 with a message naming the problem.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  set +e
  "$lm" "$@" >/dev/null 2>"$work/err.txt"
  local rc=$?
  set -e
  [[ $rc -eq 1 || $rc -eq 2 ]] || fail "$what: exit $rc: $(cat "$work/err.txt")"
  grep -q -- "$pattern" "$work/err.txt" || fail "$what: message: $(cat "$work/err.txt")"
}
echo "1 2 300" >"$work/bad_ids.txt"
expect_error "id outside the vocabulary" "bad_ids.txt:1: '300' is not a token id in \[0, 256)" \
  perplexity --model "$llama/model-f32.gguf" --ids-file "$work/bad_ids.txt"
expect_error "missing model" "no such file or folder" info --model "$work/nothing.gguf"
expect_error "encoder perplexity" "not a causal LM" \
  perplexity --model "$fixtures/tiny-roberta" --ids-file "$work/ids.txt"
expect_error "no input" "give --text-file or --ids-file" perplexity --model "$llama/hf"
expect_error "generate on an encoder" "generate needs a decoder" \
  generate --model "$fixtures/tiny-roberta" --prompt "the"
expect_error "generate without a prompt" "give --prompt or --prompt-file" generate --model "$llama/hf"
expect_error "generate with a missing prompt file" "cannot read --prompt-file" \
  generate --model "$llama/model-f32.gguf" --prompt-file "$work/nothing.txt"
expect_error "--chat without a template" "has no tokenizer.chat_template" \
  generate --model "$llama/model-f32.gguf" --prompt "the" --chat
expect_error "negative temperature" "--temperature" \
  generate --model "$llama/model-f32.gguf" --prompt "the" --temperature -1
expect_error "bad --compute" "--compute: fp16 not in" info --model "$llama/hf" --compute fp16
echo "lm.cli: all checks passed"
