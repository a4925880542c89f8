#include "options.hpp"

#include <fmt/format.h>

#include <cmath>

#include "mezo/error.hpp"
#include "mezo/model/peft.hpp"
#include "optimizer_choice.hpp"
#include "task_data.hpp"
#include "tasks.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

bool sampled_options_given(const TrainOptions& o) {
  return o.was_given("--num-train") || o.was_given("--num-dev");
}

}  // namespace

nlohmann::json to_json(const TrainOptions& o) {
  return {
      {"model_dir", o.model_dir.string()},
      {"task", o.task},
      {"task_file", o.task_file.string()},
      {"data_dir", o.data_dir.string()},
      {"protocol", o.protocol},
      {"k", o.k},
      {"num_train", o.num_train},
      {"num_dev", o.num_dev},
      {"data_seed", o.data_seed},
      {"out_dir", o.out_dir.string()},
      {"objective", o.objective},
      {"head", o.head},
      {"cosine_scale", o.cosine_scale},
      {"template", o.prompt.template_text},
      {"label_words", o.prompt.label_words},
      {"max_length", o.prompt.max_length},
      {"optimizer", o.optimizer},
      {"directions", o.directions},
      {"beta1", o.beta1},
      {"beta2", o.beta2},
      {"history", o.history},
      {"lr", o.lr},
      {"eps", o.eps},
      {"weight_decay", o.weight_decay},
      {"steps", o.steps},
      {"eval_every", o.eval_every},
      {"batch_size", o.batch_size},
      {"seed", o.seed},
      {"threads", o.threads},
      {"compute", o.compute},
      {"exact_restore", o.exact_restore},
      {"log_every", o.log_every},
      {"max_eval_examples", o.max_eval_examples},
      {"demos", o.demos},
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
  o.task = j.value("task", o.task);  // newer: every run before it was SST-2
  o.task_file = j.value("task_file", std::string());
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
  // The optimizer (newer): runs before it were ZO-SGD runs.
  o.optimizer = j.value("optimizer", o.optimizer);
  o.directions = j.value("directions", o.directions);
  o.beta1 = j.value("beta1", o.beta1);
  o.beta2 = j.value("beta2", o.beta2);
  o.history = j.value("history", o.history);
  o.lr = j.at("lr");
  o.eps = j.at("eps");
  o.weight_decay = j.at("weight_decay");
  o.steps = j.at("steps");
  o.eval_every = j.at("eval_every");
  o.batch_size = j.at("batch_size");
  o.seed = j.at("seed");
  o.threads = j.at("threads");
  o.compute = j.value("compute", o.compute);  // newer: older runs computed in fp32
  o.exact_restore = j.at("exact_restore");
  o.log_every = j.at("log_every");
  o.max_eval_examples = j.at("max_eval_examples");
  o.demos = j.value("demos", 0);  // newer: runs before it had no demonstrations
  o.max_rejected_in_a_row = j.value("max_rejected_in_a_row", o.max_rejected_in_a_row);  // newer
  // PEFT (newer): a run.json without them is a full-parameter run.
  o.peft = j.value("peft", o.peft);
  o.lora_rank = j.value("lora_rank", o.lora_rank);
  o.lora_alpha = j.value("lora_alpha", o.lora_alpha);
  o.lora_targets = j.value("lora_targets", o.lora_targets);
  o.prefix_tokens = j.value("prefix_tokens", o.prefix_tokens);
  o.prefix_init = j.value("prefix_init", o.prefix_init);
  // The sampled protocol (newer): runs before it were all k-shot runs.
  o.protocol = j.value("protocol", std::string("kshot"));
  o.num_train = j.value("num_train", o.num_train);
  o.num_dev = j.value("num_dev", o.num_dev);
  return o;
}

mezo::ModelOptions model_options(const TrainOptions& o) {
  return {.num_threads = o.threads, .compute = mezo::parse_compute_precision(o.compute)};
}

void validate(const TrainOptions& o) {
  if (o.was_given("--task") && o.was_given("--task-file"))
    fail("--task names a built-in task and --task-file defines one: give one or the other");
  if (o.task != "sst2") {
    if (o.task_file.empty()) find_task(o.task);  // throws, listing the tasks, for an unknown one
    if (o.protocol == "kshot" || o.was_given("--k"))
      fail(
          fmt::format("--task {} uses the sampled protocol (--num-train/--num-dev); k-shot "
                      "splits are SST-2's",
                      o.task));
    for (const char* option : {"--template", "--label-words"}) {
      if (o.was_given(option))
        fail(fmt::format("--task {} uses the MeZO paper's template and answers; {} is for sst2",
                         o.task, option));
    }
  }
  if (o.k < 1) fail(fmt::format("--k must be >= 1, got {}", o.k));
  if (o.num_train < 1) fail(fmt::format("--num-train must be >= 1, got {}", o.num_train));
  if (o.num_dev < 1) fail(fmt::format("--num-dev must be >= 1, got {}", o.num_dev));
  if (o.protocol != "auto" && o.protocol != "kshot" && o.protocol != "sampled")
    fail(fmt::format("--protocol must be auto, kshot or sampled, got '{}'", o.protocol));
  if (o.was_given("--k") && sampled_options_given(o))
    fail(
        "--k chooses the k-shot protocol and --num-train/--num-dev the sampled one: give "
        "one or the other");
  if (o.protocol == "kshot" && sampled_options_given(o))
    fail("--num-train/--num-dev are options of --protocol sampled, not kshot");
  if (o.protocol == "sampled" && o.was_given("--k"))
    fail("--k is an option of --protocol kshot, not sampled (use --num-train/--num-dev)");
  if (o.steps < 0) fail(fmt::format("--steps must be >= 0, got {}", o.steps));
  if (o.demos < 0) fail(fmt::format("--demos must be >= 0, got {}", o.demos));
  if (o.demos > 0 && o.was_given("--steps") && o.steps != 0)
    fail(
        fmt::format("--demos {} evaluates the untrained model in context (the paper's ICL "
                    "baseline); it does not train: leave out --steps {} or give --steps 0",
                    o.demos, o.steps));
  if (o.eval_every < 1) fail(fmt::format("--eval-every must be >= 1, got {}", o.eval_every));
  if (o.batch_size < 1) fail(fmt::format("--batch must be >= 1, got {}", o.batch_size));
  if (o.threads < 0) fail(fmt::format("--threads must be >= 0, got {}", o.threads));
  mezo::ComputePrecision compute{};
  try {
    compute = mezo::parse_compute_precision(o.compute);
  } catch (const mezo::Error& e) {
    fail(fmt::format("--compute: {}", e.what()));
  }
  if (std::string why_not; !mezo::compute_available(compute, &why_not))
    throw mezo::Error(mezo::ErrorCode::unsupported,
                      fmt::format("--compute {}: {}", o.compute, why_not));
  if (o.max_rejected_in_a_row < 0)
    fail(fmt::format("--max-rejected must be >= 0, got {}", o.max_rejected_in_a_row));
  if (!(o.eps > 0) || !std::isfinite(o.eps))
    fail(fmt::format("--eps must be a positive finite number, got {}", o.eps));
  if (!(o.lr >= 0) || !std::isfinite(o.lr))
    fail(fmt::format("--lr must be finite and >= 0, got {}", o.lr));
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    fail(fmt::format("--weight-decay must be finite and >= 0, got {}", o.weight_decay));
  validate_optimizer(o);
  if (o.objective != "cross_entropy" && o.objective != "accuracy" && o.objective != "answer_nll" &&
      o.objective != "f1") {
    fail(fmt::format("--objective must be cross_entropy, accuracy, answer_nll or f1, got '{}'",
                     o.objective));
  }
  if (o.task == "sst2" && (o.objective == "answer_nll" || o.objective == "f1"))
    fail(fmt::format("--objective {} is for generation tasks (squad, drop)", o.objective));
  if (o.head != "auto" && o.head != "mlm" && o.head != "cosine" && o.head != "lm") {
    fail(fmt::format("--head must be auto, mlm, cosine or lm, got '{}'", o.head));
  }
  if (!(o.cosine_scale > 0))
    fail(fmt::format("--cosine-scale must be > 0, got {}", o.cosine_scale));
  if (o.peft != "full" && o.peft != "lora" && o.peft != "prefix")
    fail(fmt::format("--peft must be full, lora or prefix, got '{}'", o.peft));
  if (o.lora_rank < 1) fail(fmt::format("--lora-rank must be >= 1, got {}", o.lora_rank));
  if (!(o.lora_alpha > 0) || !std::isfinite(o.lora_alpha))
    fail(fmt::format("--lora-alpha must be a positive finite number, got {}", o.lora_alpha));
  if (o.lora_targets.empty()) fail("--lora-targets: give at least one target");
  for (const std::string& t : o.lora_targets) mezo::parse_lora_target(t);  // throws if unknown
  if (o.prefix_tokens < 1)
    fail(fmt::format("--prefix-tokens must be >= 1, got {}", o.prefix_tokens));
  mezo::parse_prefix_init(o.prefix_init);  // throws if unknown
  if (o.task == "sst2" && !o.prompt.label_words.empty() && o.prompt.label_words.size() != 2) {
    fail(fmt::format(
        "--label-words needs one word per SST-2 label (negative,positive): 2 words, got {}",
        o.prompt.label_words.size()));
  }
}

void apply_defaults(TrainOptions& o, mezo::ModelFamily family, std::int64_t model_max_length) {
  const bool causal = family == mezo::ModelFamily::causal_lm;
  const auto set = [&](const char* name, auto& field, auto value) {
    if (!o.was_given(name)) field = value;
  };
  if (o.task != "sst2") {
    if (!causal)
      fail(
          fmt::format("--task {} needs a causal LM (the paper's OPT setting); this model is a "
                      "masked LM",
                      o.task));
    o.protocol = "sampled";
    set("--data", o.data_dir, std::filesystem::path("../shared/data"));
    const TaskSpec spec = task_spec(o);
    set("--num-dev", o.num_dev, spec.num_dev);
    const bool generation_objective = o.objective == "answer_nll" || o.objective == "f1";
    if (spec.generation != generation_objective && o.was_given("--objective")) {
      fail(fmt::format("--objective {}: {}", o.objective,
                       spec.generation
                           ? "a generation task trains on answer_nll (the gold answer's negative "
                             "log-likelihood) or f1 (its answers' F1)"
                           : fmt::format("{} is for generation tasks (squad, drop)", o.objective)));
    }
    if (spec.generation && !o.was_given("--objective")) o.objective = "answer_nll";
    set("--max-length", o.prompt.max_length,
        static_cast<int>(std::min<std::int64_t>(kTaskMaxLength, model_max_length)));
  }
  if (o.demos > 0) {
    if (!causal)
      fail(
          fmt::format("--demos {}: in-context demonstrations need a causal LM; this model is a "
                      "masked LM",
                      o.demos));
    set("--max-length", o.prompt.max_length,
        static_cast<int>(std::min<std::int64_t>(kInContextMaxLength, model_max_length)));
  }
  if (o.protocol == "auto") {
    o.protocol = sampled_options_given(o) ? "sampled"
                 : o.was_given("--k")     ? "kshot"
                 : causal                 ? "sampled"
                                          : "kshot";
  }
  const FamilyDefaults& run = causal ? kCausalLmDefaults : kMaskedLmDefaults;
  set("--batch", o.batch_size, run.batch_size);
  set("--steps", o.steps, o.demos > 0 ? 0 : run.steps);
  set("--eval-every", o.eval_every, run.eval_every);
  const PeftDefaults& peft = o.peft == "lora"     ? kLoraDefaults
                             : o.peft == "prefix" ? kPrefixDefaults
                                                  : kFullDefaults;
  const float method_lr = default_lr(o.optimizer);
  set("--lr", o.lr, o.peft == "full" && method_lr > 0.0f ? method_lr : peft.lr);
  set("--eps", o.eps, peft.eps);
  set("--weight-decay", o.weight_decay, peft.weight_decay);
}

}  // namespace sst2
