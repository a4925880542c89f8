// config.json of a BERT/RoBERTa checkpoint, and the JSON it writes back.
#include "../fuzz_target.hpp"
#include "mezo/model/config.hpp"

MEZO_FUZZ_TARGET(config_json) {
  return refuse_quietly([&] {
    auto config = mezo::parse_transformer_config(as_text(data, size), "fuzz/config.json");
    // What we accepted must survive our own writer and parser unchanged.
    auto again = mezo::parse_transformer_config(mezo::transformer_config_to_json(config), "round trip");
    if (mezo::transformer_config_to_json(again) != mezo::transformer_config_to_json(config)) {
      throw std::logic_error("config.json round trip changed the configuration");
    }
  });
}
