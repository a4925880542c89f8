// `mezo-sst2 random-model`: a tiny model with RANDOM weights and a real
// tokenizer, for smoke tests of the whole pipeline (its accuracy means
// nothing, and runs on it say so).
#pragma once

#include <filesystem>
#include <string>

namespace sst2 {

struct RandomModelOptions {
  std::filesystem::path tokenizer_dir;  // vocab.txt, or vocab.json + merges.txt
  std::filesystem::path out;
  // "auto": the encoder of the tokenizer (BERT for vocab.txt, RoBERTa for
  // vocab.json + merges.txt); "llama": a Llama decoder (byte-level BPE only).
  std::string arch = "auto";
  int hidden = 64;
  int layers = 2;
};

// Writes out/config.json, out/model.safetensors, the tokenizer files and an
// out/RANDOM_WEIGHTS marker. Throws mezo::Error for a bad tokenizer or arch.
void make_random_model(const RandomModelOptions& options);

}  // namespace sst2
