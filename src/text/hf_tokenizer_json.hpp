// Hugging Face tokenizer.json with a byte-level BPE model (load_hf_tokenizer_json).
#pragma once

#include <filesystem>
#include <memory>

#include "mezo/config.hpp"
#include "mezo/text/tokenizer.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// load_hf_tokenizer_json, or nullptr when the file's model.type is not "BPE"
// (a WordPiece tokenizer.json, which load_tokenizer reads from vocab.txt).
std::unique_ptr<Tokenizer> load_hf_tokenizer_json_if_bpe(const std::filesystem::path& path);

}  // namespace detail
MEZO_END_NAMESPACE
