#include "random_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "mezo/error.hpp"
#include "mezo/model/causal_lm.hpp"
#include "mezo/model/masked_lm.hpp"
#include "mezo/text/tokenizer.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

// Room for --max-length 128 (RoBERTa's positions start after the padding id).
constexpr int kPositions = 130;

void write_encoder(const RandomModelOptions& o, const mezo::Tokenizer& tokenizer, bool roberta) {
  mezo::TransformerConfig c;
  c.model_type = roberta ? mezo::ModelType::roberta : mezo::ModelType::bert;
  c.vocab_size = static_cast<std::int64_t>(tokenizer.vocab_size());
  c.hidden_size = o.hidden;
  c.num_hidden_layers = o.layers;
  c.num_attention_heads = std::max(1, o.hidden / 32);
  c.intermediate_size = 4 * o.hidden;
  c.max_position_embeddings = kPositions + (roberta ? 2 : 0);
  c.type_vocab_size = roberta ? 1 : 2;
  c.layer_norm_eps = roberta ? 1e-5f : 1e-12f;
  c.pad_token_id = tokenizer.special_tokens().pad;
  mezo::MaskedLM::random(c, 1).save_pretrained(o.out);
}

void write_decoder(const RandomModelOptions& o, const mezo::Tokenizer& tokenizer) {
  mezo::DecoderConfig c;
  c.arch = mezo::DecoderArch::llama;
  c.vocab_size = static_cast<std::int64_t>(tokenizer.vocab_size());
  c.hidden_size = o.hidden;
  c.num_hidden_layers = o.layers;
  c.num_attention_heads = std::max(2, o.hidden / 16);  // head_dim 16 (even: RoPE pairs)
  c.num_key_value_heads = c.num_attention_heads / 2;   // grouped-query, as SmolLM2
  c.head_dim = o.hidden / c.num_attention_heads;
  c.intermediate_size = 2 * o.hidden;
  c.max_position_embeddings = kPositions;
  c.rms_norm_eps = 1e-5f;
  c.tie_word_embeddings = true;  // as SmolLM2
  mezo::CausalLM::random(c, 1).save_pretrained(o.out);
}

}  // namespace

void make_random_model(const RandomModelOptions& o) {
  const bool bpe = fs::exists(o.tokenizer_dir / "vocab.json");
  if (o.arch != "auto" && o.arch != "llama") {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--arch must be auto or llama, got '{}'", o.arch));
  }
  if (o.arch == "llama" && !bpe) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--arch llama needs a byte-level BPE tokenizer (vocab.json + "
                                  "merges.txt) in {}",
                                  o.tokenizer_dir.string()));
  }
  if (o.hidden < 1 || o.layers < 1) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        fmt::format("--hidden and --layers must be >= 1, got {} and {}", o.hidden, o.layers));
  }
  if (o.arch == "llama" && (o.hidden < 32 || o.hidden % 16 != 0)) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--arch llama: --hidden must be a multiple of 16, at least 32 "
                                  "(heads of 16), got {}",
                                  o.hidden));
  }
  const auto tokenizer = mezo::load_tokenizer(o.tokenizer_dir);
  if (o.arch == "llama") {
    write_decoder(o, *tokenizer);
  } else {
    write_encoder(o, *tokenizer, bpe);
  }
  for (const char* file : {"vocab.json", "merges.txt", "vocab.txt", "tokenizer_config.json"}) {
    if (fs::exists(o.tokenizer_dir / file))
      fs::copy_file(o.tokenizer_dir / file, o.out / file, fs::copy_options::overwrite_existing);
  }
  std::ofstream(o.out / "RANDOM_WEIGHTS")
      << "Random weights made by `mezo-sst2 random-model`: for smoke tests only.\n";
}

}  // namespace sst2
