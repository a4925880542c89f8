// The list of fuzz targets (one source each in tests/fuzz/targets/), for the
// corpus replay test and the build. X(name, needs_shared_data).
#pragma once

#include <cstddef>
#include <cstdint>

#define MEZO_FUZZ_TARGETS(X)   \
  X(safetensors, false)        \
  X(gguf, false)               \
  X(config_json, false)        \
  X(bpe_files, false)          \
  X(hf_tokenizer_json, false)  \
  X(wordpiece_vocab, false)    \
  X(bpe_encode, true)          \
  X(wordpiece_encode, true)    \
  X(byte_bpe_encode, false)    \
  X(spm_encode, false)         \
  X(labeled_tsv, false)        \
  X(kshot_split, false)        \
  X(trajectory, false)

namespace mezo_fuzz {
#define MEZO_DECLARE_FUZZ_TARGET(name, shared) int name(const std::uint8_t* data, std::size_t size);
MEZO_FUZZ_TARGETS(MEZO_DECLARE_FUZZ_TARGET)
#undef MEZO_DECLARE_FUZZ_TARGET
}  // namespace mezo_fuzz
