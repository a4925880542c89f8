// Writing a decoder as a GGUF file llama.cpp runs (CausalLM::save_gguf).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mezo/io/gguf.hpp"
#include "mezo/model/decoder_config.hpp"
#include "model/llama/decoder_weights.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

// The metadata of `file` worth carrying into an exported file: tokenizer.*
// and general.* (not general.architecture, .alignment, .file_type or
// .quantization_version, which describe the file itself and are rewritten).
std::vector<std::pair<std::string, GgufValue>> carried_gguf_metadata(const GgufFile& file);

void write_decoder_gguf(const std::filesystem::path& path, const DecoderConfig& config,
                        const DecoderWeights& weights,
                        const std::vector<std::pair<std::string, GgufValue>>& carried,
                        GgmlType matrix_type);

}  // namespace model::llama
MEZO_END_NAMESPACE
