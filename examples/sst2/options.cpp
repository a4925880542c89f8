#include "options.hpp"

namespace sst2 {

nlohmann::json to_json(const TrainOptions& o) {
  return {
      {"model_dir", o.model_dir.string()},
      {"data_dir", o.data_dir.string()},
      {"k", o.k},
      {"data_seed", o.data_seed},
      {"out_dir", o.out_dir.string()},
      {"objective", o.objective},
      {"head", o.head},
      {"cosine_scale", o.cosine_scale},
      {"template", o.prompt.template_text},
      {"label_words", o.prompt.label_words},
      {"max_length", o.prompt.max_length},
      {"lr", o.lr},
      {"eps", o.eps},
      {"weight_decay", o.weight_decay},
      {"steps", o.steps},
      {"eval_every", o.eval_every},
      {"batch_size", o.batch_size},
      {"seed", o.seed},
      {"threads", o.threads},
      {"exact_restore", o.exact_restore},
      {"log_every", o.log_every},
      {"max_eval_examples", o.max_eval_examples},
      {"max_rejected_in_a_row", o.max_rejected_in_a_row},
      {"peft", o.peft},
      {"lora_rank", o.lora_rank},
      {"lora_alpha", o.lora_alpha},
      {"lora_targets", o.lora_targets},
      {"prefix_tokens", o.prefix_tokens},
      {"prefix_init", o.prefix_init},
  };
}

TrainOptions options_from_json(const nlohmann::json& j) {
  TrainOptions o;
  o.model_dir = j.at("model_dir").get<std::string>();
  o.data_dir = j.at("data_dir").get<std::string>();
  o.k = j.at("k");
  o.data_seed = j.at("data_seed");
  o.out_dir = j.at("out_dir").get<std::string>();
  o.objective = j.at("objective");
  o.head = j.at("head");
  o.cosine_scale = j.at("cosine_scale");
  o.prompt.template_text = j.at("template");
  o.prompt.label_words = j.at("label_words").get<std::vector<std::string>>();
  o.prompt.max_length = j.at("max_length");
  o.lr = j.at("lr");
  o.eps = j.at("eps");
  o.weight_decay = j.at("weight_decay");
  o.steps = j.at("steps");
  o.eval_every = j.at("eval_every");
  o.batch_size = j.at("batch_size");
  o.seed = j.at("seed");
  o.threads = j.at("threads");
  o.exact_restore = j.at("exact_restore");
  o.log_every = j.at("log_every");
  o.max_eval_examples = j.at("max_eval_examples");
  o.max_rejected_in_a_row = j.value("max_rejected_in_a_row", o.max_rejected_in_a_row);  // newer
  // PEFT (newer): a run.json without them is a full-parameter run.
  o.peft = j.value("peft", o.peft);
  o.lora_rank = j.value("lora_rank", o.lora_rank);
  o.lora_alpha = j.value("lora_alpha", o.lora_alpha);
  o.lora_targets = j.value("lora_targets", o.lora_targets);
  o.prefix_tokens = j.value("prefix_tokens", o.prefix_tokens);
  o.prefix_init = j.value("prefix_init", o.prefix_init);
  return o;
}

void apply_peft_defaults(TrainOptions& o) {
  if (o.peft == "lora") {
    if (!o.lr_given) o.lr = 1e-4f;
    if (!o.eps_given) o.eps = 1e-3f;
    if (!o.weight_decay_given) o.weight_decay = 0.1f;
  } else if (o.peft == "prefix") {
    if (!o.lr_given) o.lr = 1e-2f;
    if (!o.eps_given) o.eps = 1e-1f;
    if (!o.weight_decay_given) o.weight_decay = 0.0f;
  }
}

}  // namespace sst2
