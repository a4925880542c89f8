#include <fmt/format.h>

#include <mezo/error.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/masked_lm.hpp>

#include "commands.hpp"

namespace lm {

int info(const Common& common) {
  const Loaded loaded = load(common, /*with_model=*/true, /*with_tokenizer=*/false);
  const mezo::LanguageModel& model = *loaded.model;
  fmt::print("model:        {}\n", common.model.string());
  fmt::print("family:       {} ({})\n", mezo::to_string(model.family()), model.architecture());
  if (const auto* decoder = dynamic_cast<const mezo::CausalLM*>(&model)) {
    const mezo::DecoderConfig& c = decoder->config();
    fmt::print("layers:       {}\n", c.num_hidden_layers);
    fmt::print("hidden:       {} (MLP {})\n", c.hidden_size, c.intermediate_size);
    fmt::print("heads:        {} query, {} key/value, head size {}\n", c.num_attention_heads,
               c.num_key_value_heads, c.head_dim);
    fmt::print("positions:    {} (RoPE theta {}{})\n", c.max_position_embeddings, c.rope_theta,
               c.rope_scaling.llama3 ? ", llama3 scaling" : "");
    fmt::print("norm eps:     {}\n", c.rms_norm_eps);
    fmt::print("LM head:      {}\n",
               c.tie_word_embeddings ? "tied to the token embeddings" : "own matrix");
    fmt::print("stored as:    {}\n", decoder->stored_types());
  } else if (const auto* encoder = dynamic_cast<const mezo::MaskedLM*>(&model)) {
    const mezo::TransformerConfig& c = encoder->config();
    fmt::print("layers:       {}\n", c.num_hidden_layers);
    fmt::print("hidden:       {} (MLP {})\n", c.hidden_size, c.intermediate_size);
    fmt::print("heads:        {}\n", c.num_attention_heads);
    fmt::print("positions:    {}\n", c.max_position_embeddings);
    fmt::print("MLM head:     {}\n", encoder->has_mlm_head() ? "yes" : "no (an encoder only)");
  }
  fmt::print("vocabulary:   {}\n", model.vocab_size());
  fmt::print("parameters:   {} in {} tensors (fp32 masters, {:.1f} MB)\n",
             model.params().num_elements(), model.params().views().size(),
             static_cast<double>(model.params().num_elements()) * 4.0 / 1e6);
  // A checkpoint without tokenizer files is still a model worth describing.
  std::unique_ptr<mezo::Tokenizer> tokenizer;
  try {
    tokenizer = mezo::load_tokenizer(common.model);
  } catch (const mezo::Error& e) {
    fmt::print("tokenizer:    none ({})\n", e.what());
    return 0;
  }
  const mezo::SpecialTokens& s = tokenizer->special_tokens();
  fmt::print("tokenizer:    {} entries; begin {}, end {}, pad {}, unknown {}; adds begin: {}\n",
             tokenizer->vocab_size(), s.begin, s.end, s.pad, s.unknown, s.add_begin ? "yes" : "no");
  return 0;
}

}  // namespace lm
