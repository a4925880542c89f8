#include "saved_run.hpp"

#include <fmt/format.h>

#include "run_files.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

}  // namespace

RunStart start_run(const TrainOptions& cli, bool resume) {
  const fs::path run_file = cli.out_dir / "run.json";
  RunStart start{cli, {}, std::nullopt};
  if (resume) {
    if (!fs::exists(run_file))
      fail(fmt::format("--resume: no run to resume in '{}' (no run.json)", cli.out_dir.string()));
    start.previous = read_json(run_file);
    if (start.previous->at("format") != kRunFormat)
      fail(fmt::format("{}: unknown run format", run_file.string()));
    start.options = options_from_json(start.previous->at("options"));
    start.options.out_dir = cli.out_dir;
    start.state = state_from_json(*start.previous);
  } else if (fs::exists(run_file)) {
    fail(fmt::format("'{}' already holds a run: continue it with --resume or choose another --out",
                     cli.out_dir.string()));
  }
  // Absolute paths, so that --resume works from any working directory.
  start.options.model_dir = fs::absolute(start.options.model_dir);
  start.options.data_dir = fs::absolute(start.options.data_dir);
  validate(start.options);
  return start;
}

LoadedModel load_checked(const TrainOptions& o, const std::optional<nlohmann::json>& previous) {
  std::fprintf(stderr, "loading %s\n", o.model_dir.c_str());
  LoadedModel m;
  m.tokenizer = mezo::load_tokenizer(o.model_dir);
  m.model = mezo::load_model(o.model_dir, model_options(o));
  m.digest = model_digest(o.model_dir);
  if (previous && previous->at("model_digest") != m.digest) {
    fail(fmt::format("--resume: {} is not the model this run started from (digest {} vs {})",
                     o.model_dir.string(), m.digest,
                     previous->at("model_digest").get<std::string>()));
  }
  if (fs::is_directory(o.model_dir) && fs::exists(o.model_dir / "RANDOM_WEIGHTS")) {
    std::fprintf(stderr,
                 "\n*** WARNING: %s holds RANDOM weights (made by `mezo-sst2 random-model`).\n"
                 "*** This run only exercises the pipeline: its accuracy means NOTHING.\n\n",
                 o.model_dir.c_str());
  }
  return m;
}

const mezo::ParamSet& trainable_params(mezo::LanguageModel& model, const TrainOptions& o) {
  if (o.peft == "lora") {
    mezo::LoraOptions lora{
        .rank = o.lora_rank, .alpha = o.lora_alpha, .targets = {}, .seed = o.seed};
    for (const std::string& t : o.lora_targets) lora.targets.push_back(mezo::parse_lora_target(t));
    model.enable_lora(lora);
    return model.peft_params();
  }
  if (o.peft == "prefix") {
    model.enable_prefix({.tokens = o.prefix_tokens,
                         .init = mezo::parse_prefix_init(o.prefix_init),
                         .seed = o.seed});
    return model.peft_params();
  }
  return model.params();
}

std::unique_ptr<mezo::LanguageModel> load_weights_at(const TrainOptions& o,
                                                     const mezo::Perturbation& perturbation,
                                                     std::int64_t steps) {
  std::fprintf(stderr, "rebuilding the weights after %lld steps from the seed log\n",
               static_cast<long long>(steps));
  auto model = mezo::load_model(o.model_dir, model_options(o));
  const mezo::Trajectory log = mezo::read_trajectory(o.out_dir / "trajectory.mezotrj");
  mezo::Trajectory before{log.header, {}, std::nullopt};
  for (const auto& r : log.records) {
    if (r.step < steps) before.records.push_back(r);
  }
  mezo::replay(trainable_params(*model, o), perturbation, before);
  return model;
}

}  // namespace sst2
