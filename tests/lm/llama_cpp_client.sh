#!/usr/bin/env bash
# llama.cpp as a client of the GGUF files libmezo writes: SmolLM2-135M-Instruct
# (llama) and, when fetched, Gemma 3 270M (gemma3), each trained two MeZO steps
# (mezo-sst2, lr 1e-4), exported at F32 and Q8_0 (`mezo-sst2 export`), and each
# file scored by llama.cpp (the pinned PyPI wheel xllamacpp, in-process) and by
# mezo-lm top: for each prompt the two agree on the most likely next token, and
# at F32 their log-probabilities of the top 5 agree within 0.02 (llama.cpp keeps
# its KV cache in F16 and runs its own matrix kernels; the trained weights moved
# the original model's by more than that, so the file carries them). Exits 77
# (skip), saying why, without SmolLM2, the shared SST-2 data, or xllamacpp
# (installed once into a venv in the cache: needs python3-venv and the package
# index); without Gemma 3 it checks SmolLM2 alone and says so.
#   llama_cpp_client.sh MEZO_LM MEZO_SST2 SHARED_DATA_DIR WORK_DIR
set -euo pipefail
lm=$1 sst2=$2 shared=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/libmezo
model=${MEZO_SMOLLM2_GGUF:-$cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf}
[[ -f $model ]] || skip "$model not found; fetch it with tools/fetch_model.sh SmolLM2-135M-Instruct"
[[ -f $shared/SST-2/glue/train.tsv ]] || skip "no SST-2 data under $shared"

# xllamacpp 2026.10.11549 (MIT; prebuilt llama.cpp), pinned by hash.
venv=$cache/xllamacpp-2026.10.11549
if [[ ! -f $venv/complete ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >venv.log 2>&1 || skip "python3 -m venv failed (Debian: apt-get install python3-venv): $(tail -n 1 venv.log)"
  echo "xllamacpp==2026.10.11549 --hash=sha256:c54e7d13520ecc989c63dc99d55de3065e2f343a91f43f053d16b5e62077c261" >requirements.txt
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r requirements.txt >pip.log 2>&1 ||
    skip "cannot install xllamacpp: $(grep -E '^ERROR' pip.log | tail -n 1)"
  touch "$venv/complete"
fi

models=("smollm2 $model")
gemma=${MEZO_GEMMA3_GGUF:-$cache/models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf}
if [[ -f $gemma ]]; then
  models+=("gemma3 $gemma")
else
  echo "note: $gemma not found (tools/fetch_model.sh gemma-3-270m): Gemma 3 not checked"
fi
for entry in "${models[@]}"; do
  read -r name path <<<"$entry"
  "$sst2" train --model "$path" --data "$shared/SST-2" --num-train 32 --num-dev 8 --max-eval-examples 8 \
    --steps 2 --eval-every 2 --lr 1e-4 --threads 2 --out run-$name >run-$name.log 2>&1 ||
    fail "training $name: $(tail -n 3 run-$name.log)"
  for type in f32 q8_0; do
    "$sst2" export --out run-$name --to $name-$type.gguf --type $type >export-$name-$type.log 2>&1 ||
      fail "export $name --type $type: $(tail -n 3 export-$name-$type.log)"
  done
  "$venv/bin/python" - "$lm" "$name" "$path" <<'PY' 2>llama-$name.log ||
import re, subprocess, sys
import xllamacpp as xl

lm, name, original = sys.argv[1:4]
prompts = ["The capital of France is", "it 's a charming and often affecting journey . It was",
           "def add(a, b):\n    return"]


def ours(path, prompt):
    out = subprocess.run([lm, "top", "--model", path, "--prompt", prompt, "--k", "5", "--threads", "2"],
                         check=True, capture_output=True, text=True).stdout
    rows = [re.match(r"\s*\d+\s+(\d+)\s+(-?[\d.]+)", line) for line in out.splitlines()]
    return {int(m.group(1)): float(m.group(2)) for m in rows if m}


def llama_cpp(path):
    params = xl.CommonParams()
    params.model.path = path
    params.n_ctx = 256
    params.cpuparams.n_threads = 2
    params.warmup = False
    server = xl.Server(params)

    def top(prompt):
        r = server.handle_completions({"prompt": prompt, "n_predict": 1, "n_probs": 5,
                                       "cache_prompt": False})
        first = r["choices"][0]["logprobs"]["content"][0]
        return {t["id"]: t["logprob"] for t in first["top_logprobs"]}
    return top


for file, tolerance in ((f"{name}-f32.gguf", 0.02), (f"{name}-q8_0.gguf", None)):
    top = llama_cpp(file)
    for prompt in prompts:
        a, b = ours(file, prompt), top(prompt)
        best_a, best_b = max(a, key=a.get), max(b, key=b.get)
        assert best_a == best_b, f"{file} {prompt!r}: mezo-lm's next token {best_a}, llama.cpp's {best_b}"
        if tolerance is not None:
            shared_ids = set(a) & set(b)
            assert len(shared_ids) >= 4, (file, prompt, a, b)
            worst = max(abs(a[i] - b[i]) for i in shared_ids)
            assert worst <= tolerance, f"{file} {prompt!r}: log-probs differ by {worst:.4f}: {a} vs {b}"
            before = ours(original, prompt)
            moved = max((abs(a[i] - before[i]) for i in set(a) & set(before)), default=float("inf"))
            assert moved > tolerance, f"{prompt!r}: the trained weights moved log-probs by only {moved:.4f}"
            print(f"{file} {prompt!r}: top token {best_a}, worst log-prob gap {worst:.4f} "
                  f"(training moved them by up to {moved:.4f})", file=sys.stderr)
        else:
            print(f"{file} {prompt!r}: top token {best_a} in both", file=sys.stderr)
PY
    { tail -n 20 llama-$name.log >&2; fail "llama.cpp disagrees on $name"; }
  grep -E "^$name-" llama-$name.log || true
  rm -f "$name"-*.gguf  # a gigabyte for Gemma's F32
done
echo "PASS: llama.cpp reads the exported F32 and Q8_0 files as mezo-lm does (${#models[@]} models)"
