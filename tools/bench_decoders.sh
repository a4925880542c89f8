#!/usr/bin/env bash
# The decoder benchmarks in one run, so their ratios are measured side by side:
#   1. benchmarks/decoder_benchmark: sgemm and oneDNN's bf16 matmul, one
#      parameter pass, and for the SmolLM2-135M, Qwen2.5-0.5B and Llama-3.2-1B
#      shapes the forward at 16x64 and 16x128 and the MeZO step at 16x64 (full,
#      LoRA, prefix), each in fp32 and bf16 compute;
#   2. the MeZO authors' step (tools/torch_reference_step.py, four passes,
#      torch.normal per tensor) on the same shapes, batch and threads, full,
#      LoRA and prefix, in fp32 and bf16 (SmolLM2: 3 steps after a warm-up;
#      the larger shapes: 1);
#   3. benchmarks/decoder_memory: peak RSS of inference vs MeZO steps on
#      SmolLM2 16x64, and of loading the real SmolLM2 GGUF.
#
#   tools/bench_decoders.sh BUILD_DIR OUT_DIR [PYTHON]
#
# BUILD_DIR is a release build with the benchmarks (build/release); PYTHON is
# an interpreter with torch and transformers (default python3; the torch step
# is skipped, saying so, without them). Writes OUT_DIR/*.json and prints a summary.
set -euo pipefail
build=$1 out=$2 py=${3:-python3}
threads=${THREADS:-2}
mkdir -p "$out"
export OMP_NUM_THREADS=$threads
echo "== decoder_benchmark ($threads threads)"
"$build/benchmarks/decoder_benchmark" --benchmark_out="$out/decoder_benchmark.json" \
  --benchmark_out_format=json --benchmark_counters_tabular=true
for shape in smollm2-135m qwen2.5-0.5b llama-3.2-1b; do
  steps=1
  [[ $shape == smollm2-135m ]] && steps=3
  for dtype in fp32 bf16; do
    for peft in full lora prefix; do
      echo "== torch reference step, $peft, $dtype ($shape shape, 16x64, $threads threads)"
      "$py" tools/torch_reference_step.py --model "$shape" --device cpu --threads "$threads" \
        --batch 16 --seq 64 --steps "$steps" --warmup 1 --peft "$peft" --dtype "$dtype" \
        --json "$out/torch_step_${shape}_${dtype}_$peft.json" ||
        echo "torch reference not run (exit $?)"
    done
  done
done
echo "== peak memory"
"$build/benchmarks/decoder_memory" inference smollm2-135m 16 64 | tee "$out/memory_inference.json"
"$build/benchmarks/decoder_memory" step smollm2-135m 16 64 | tee "$out/memory_step.json"
if gguf=$(tools/fetch_model.sh SmolLM2-135M-Instruct); then
  "$build/benchmarks/decoder_memory" load "$gguf" | tee "$out/memory_load.json"
fi
