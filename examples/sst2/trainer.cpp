#include "trainer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

#include "cluster.hpp"
#include "mezo/mezo.hpp"
#include "progress.hpp"
#include "run_files.hpp"
#include "scorer.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

constexpr int kRunFormat = 1;
constexpr std::size_t kEvalBatch = 64;

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

struct SplitFiles {
  fs::path train, dev, test;
};

// --data may be the SST-2 folder (k-shot/K-SEED, or glue/ to generate the
// split from), or a folder holding train/dev/test.tsv itself.
SplitFiles resolve_split(const TrainOptions& o) {
  const auto has_split = [](const fs::path& dir) {
    return fs::exists(dir / "train.tsv") && fs::exists(dir / "dev.tsv") &&
           fs::exists(dir / "test.tsv");
  };
  const std::string name = fmt::format("{}-{}", o.k, o.data_seed);
  for (const fs::path& dir : {o.data_dir / "k-shot" / name, o.out_dir / "data" / name}) {
    if (has_split(dir)) return {dir / "train.tsv", dir / "dev.tsv", dir / "test.tsv"};
  }
  if (fs::exists(o.data_dir / "glue" / "train.tsv") &&
      fs::exists(o.data_dir / "glue" / "dev.tsv")) {
    const fs::path dir = o.out_dir / "data" / name;
    std::fprintf(stderr, "making the k-shot split %s from %s\n", name.c_str(),
                 (o.data_dir / "glue").c_str());
    const auto split = mezo::make_kshot_split(o.data_dir / "glue" / "train.tsv", o.k, o.data_seed);
    mezo::write_kshot_split(split, o.data_dir / "glue" / "dev.tsv", dir);
    return {dir / "train.tsv", dir / "dev.tsv", dir / "test.tsv"};
  }
  if (has_split(o.data_dir))
    return {o.data_dir / "train.tsv", o.data_dir / "dev.tsv", o.data_dir / "test.tsv"};
  fail(
      fmt::format("--data {}: no k-shot/{} split, no glue/train.tsv to make one from, and no "
                  "train/dev/test.tsv in the folder itself",
                  o.data_dir.string(), name));
}

void validate(const TrainOptions& o) {
  if (o.k < 1) fail(fmt::format("--k must be >= 1, got {}", o.k));
  if (o.steps < 1) fail(fmt::format("--steps must be >= 1, got {}", o.steps));
  if (o.eval_every < 1) fail(fmt::format("--eval-every must be >= 1, got {}", o.eval_every));
  if (o.batch_size < 1) fail(fmt::format("--batch must be >= 1, got {}", o.batch_size));
  if (o.threads < 0) fail(fmt::format("--threads must be >= 0, got {}", o.threads));
  if (o.max_rejected_in_a_row < 0)
    fail(fmt::format("--max-rejected must be >= 0, got {}", o.max_rejected_in_a_row));
  // Checked here, before the model loads, under the names the user typed.
  if (!(o.eps > 0) || !std::isfinite(o.eps))
    fail(fmt::format("--eps must be a positive finite number, got {}", o.eps));
  if (!(o.lr >= 0) || !std::isfinite(o.lr))
    fail(fmt::format("--lr must be finite and >= 0, got {}", o.lr));
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    fail(fmt::format("--weight-decay must be finite and >= 0, got {}", o.weight_decay));
  if (o.objective != "cross_entropy" && o.objective != "accuracy") {
    fail(fmt::format("--objective must be cross_entropy or accuracy, got '{}'", o.objective));
  }
  if (o.head != "auto" && o.head != "mlm" && o.head != "cosine") {
    fail(fmt::format("--head must be auto, mlm or cosine, got '{}'", o.head));
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
  if (!o.prompt.label_words.empty() && o.prompt.label_words.size() != 2) {
    fail(fmt::format(
        "--label-words needs one word per SST-2 label (negative,positive): 2 words, got {}",
        o.prompt.label_words.size()));
  }
}

std::vector<EncodedExample> encode_all(const std::vector<mezo::LabeledExample>& examples,
                                       const PromptEncoder& prompts, bool plain,
                                       std::int64_t limit) {
  std::vector<EncodedExample> out;
  const std::size_t n = limit > 0 ? std::min<std::size_t>(examples.size(), limit) : examples.size();
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(plain ? prompts.encode_plain(examples[i]) : prompts.encode(examples[i]));
  }
  return out;
}

// In an MPI job, chunk c is scored by rank c mod ranks and the counts are
// summed: the chunks are the same whatever the number of ranks, so is the
// accuracy.
double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples) {
  std::vector<const EncodedExample*> chunk;
  std::vector<float> logits;
  std::size_t correct = 0;
  const std::size_t stride = kEvalBatch * static_cast<std::size_t>(Cluster::size());
  for (std::size_t begin = kEvalBatch * static_cast<std::size_t>(Cluster::rank());
       begin < examples.size(); begin += stride) {
    chunk.clear();
    for (std::size_t i = begin; i < std::min(examples.size(), begin + kEvalBatch); ++i)
      chunk.push_back(&examples[i]);
    scorer.score(chunk, logits);
    const std::size_t L = scorer.num_labels();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const auto row = logits.begin() + static_cast<std::ptrdiff_t>(i * L);
      const auto best = std::max_element(row, row + static_cast<std::ptrdiff_t>(L)) - row;
      correct += best == chunk[i]->label;
    }
  }
  correct = static_cast<std::size_t>(
      Cluster::sum(static_cast<std::int64_t>(correct), "evaluation count all-gather"));
  return examples.empty() ? 0.0
                          : static_cast<double>(correct) / static_cast<double>(examples.size());
}

// The training examples of step t: a pure function of (run seed, t), so a
// resumed run draws the batches the uninterrupted one would.
void sample_batch(std::uint64_t run_seed, std::int64_t step, std::size_t train_size,
                  std::size_t batch, std::vector<std::size_t>& order,
                  std::vector<std::size_t>& out) {
  std::mt19937_64 gen(mezo::rng::mix64(
      run_seed ^ mezo::rng::mix64(static_cast<std::uint64_t>(step) + 0x5851F42D4C957F2Dull)));
  order.resize(train_size);
  for (std::size_t i = 0; i < train_size; ++i) order[i] = i;
  out.clear();
  for (std::size_t i = 0; i < batch; ++i) {  // partial Fisher-Yates: distinct examples
    std::uniform_int_distribution<std::size_t> pick(i, train_size - 1);
    std::swap(order[i], order[pick(gen)]);
    out.push_back(order[i]);
  }
}

// What --peft trains on `model`: every weight, or the LoRA factors / prefix
// vectors, initialised from the run seed (so the seed log, replayed onto that
// deterministic start, is the whole checkpoint of a PEFT run).
const mezo::ParamSet& trainable_params(mezo::MaskedLM& model, const TrainOptions& o) {
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

std::string peft_description(const TrainOptions& o) {
  if (o.peft == "lora")
    return fmt::format("LoRA r={} alpha={} on {}", o.lora_rank, o.lora_alpha,
                       fmt::join(o.lora_targets, ","));
  if (o.peft == "prefix")
    return fmt::format("prefix tuning, {} tokens, {} init", o.prefix_tokens, o.prefix_init);
  return "full-parameter";
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct RunState {
  std::int64_t steps_done = 0;
  std::int64_t last_eval_step = 0;
  std::int64_t best_step = -1;
  double best_dev = -1.0;
  double zero_shot_dev = 0.0, zero_shot_test = 0.0;
  nlohmann::json evaluations = nlohmann::json::array();
};

nlohmann::json run_json(const TrainOptions& o, const std::string& digest, const RunState& s) {
  return {{"format", kRunFormat},
          {"options", to_json(o)},
          {"model_digest", digest},
          {"steps_done", s.steps_done},
          {"last_eval_step", s.last_eval_step},
          {"best_step", s.best_step},
          {"best_dev_accuracy", s.best_dev},
          {"zero_shot", {{"dev_accuracy", s.zero_shot_dev}, {"test_accuracy", s.zero_shot_test}}},
          {"evaluations", s.evaluations}};
}

RunState state_from_json(const nlohmann::json& j) {
  RunState s;
  s.steps_done = j.at("steps_done");
  s.last_eval_step = j.at("last_eval_step");
  s.best_step = j.at("best_step");
  s.best_dev = j.at("best_dev_accuracy");
  s.zero_shot_dev = j.at("zero_shot").at("dev_accuracy");
  s.zero_shot_test = j.at("zero_shot").at("test_accuracy");
  s.evaluations = j.at("evaluations");
  return s;
}

// Applies the records of steps [0, end_step) to params (which hold the initial weights).
void replay_prefix(const mezo::ParamSet& params, const mezo::Perturbation& perturbation,
                   const mezo::Trajectory& log, std::int64_t end_step) {
  mezo::Trajectory prefix{log.header, {}, std::nullopt};
  for (const auto& r : log.records) {
    if (r.step < end_step) prefix.records.push_back(r);
  }
  mezo::replay(params, perturbation, prefix);
}

}  // namespace

int train(const TrainOptions& cli, bool resume) {
  const fs::path run_file = cli.out_dir / "run.json";
  const fs::path log_file = cli.out_dir / "trajectory.mezotrj";
  TrainOptions o = cli;
  RunState state;
  std::optional<nlohmann::json> previous;
  if (resume) {
    if (!fs::exists(run_file))
      fail(fmt::format("--resume: no run to resume in '{}' (no run.json)", cli.out_dir.string()));
    previous = read_json(run_file);
    if (previous->at("format") != kRunFormat)
      fail(fmt::format("{}: unknown run format", run_file.string()));
    o = options_from_json(previous->at("options"));
    std::fprintf(stderr, "resuming %s with the options it was started with (run.json)\n",
                 cli.out_dir.c_str());
    o.out_dir = cli.out_dir;
    state = state_from_json(*previous);
  } else if (fs::exists(run_file)) {
    fail(fmt::format("'{}' already holds a run: continue it with --resume or choose another --out",
                     cli.out_dir.string()));
  }
  // Absolute paths, so that --resume works from any working directory.
  o.model_dir = fs::absolute(o.model_dir);
  o.data_dir = fs::absolute(o.data_dir);
  validate(o);
  // Every rank has checked the run folder before rank 0 writes in it; rank 0
  // makes a missing k-shot split before the others look for it.
  Cluster::barrier("run folder checks");
  if (Cluster::root()) fs::create_directories(o.out_dir);
  if (!Cluster::root()) Cluster::barrier("k-shot split");
  const SplitFiles files = resolve_split(o);
  if (Cluster::root()) Cluster::barrier("k-shot split");
  const auto train_set = mezo::read_labeled_tsv(files.train);
  const auto dev_set = mezo::read_labeled_tsv(files.dev);
  const auto test_set = mezo::read_labeled_tsv(files.test);
  if (o.batch_given && train_set.size() < static_cast<std::size_t>(o.batch_size)) {
    fail(fmt::format("--batch {} is larger than the {} training examples; pass --batch {} or less, "
                     "or leave --batch out (the default, 64, is capped at the training set, as "
                     "the paper's batch 64 is at k = 16)",
                     o.batch_size, train_set.size(), train_set.size()));
  }

  std::fprintf(stderr, "loading %s\n", o.model_dir.c_str());
  const auto tokenizer = mezo::load_tokenizer(o.model_dir);
  mezo::MaskedLM model = mezo::MaskedLM::load(o.model_dir, {.num_threads = o.threads});
  const std::string digest = file_digest(o.model_dir / "model.safetensors");
  if (previous && previous->at("model_digest") != digest) {
    fail(fmt::format("--resume: {} is not the model this run started from (digest {} vs {})",
                     (o.model_dir / "model.safetensors").string(), digest,
                     previous->at("model_digest").get<std::string>()));
  }
  if (fs::exists(o.model_dir / "RANDOM_WEIGHTS")) {
    std::fprintf(stderr,
                 "\n*** WARNING: %s holds RANDOM weights (made by `mezo-sst2 random-model`).\n"
                 "*** This run only exercises the pipeline: its accuracy means NOTHING.\n\n",
                 o.model_dir.c_str());
  }
  const bool cosine = o.head == "cosine" || (o.head == "auto" && !model.has_mlm_head());
  if (o.head == "mlm" && !model.has_mlm_head()) {
    fail(fmt::format("--head mlm: {} has no masked-LM head; use --head cosine",
                     o.model_dir.string()));
  }
  const PromptEncoder prompts(*tokenizer, model.config().model_type, o.prompt);
  o.prompt.template_text = prompts.template_text();
  o.prompt.label_words = prompts.label_words();
  auto scorer =
      cosine ? make_cosine_scorer(model, prompts, o.cosine_scale) : make_mlm_scorer(model, prompts);
  const mezo::ParamSet& trainable = trainable_params(model, o);
  const auto train_examples = encode_all(train_set, prompts, cosine, 0);
  const auto dev_examples = encode_all(dev_set, prompts, cosine, o.max_eval_examples);
  const auto test_examples = encode_all(test_set, prompts, cosine, o.max_eval_examples);
  const std::size_t batch = std::min<std::size_t>(o.batch_size, train_examples.size());
  std::fprintf(stderr,
               "%s %s, %s: %llu trainable parameters (%llu in the model), head %s, %zu train / "
               "%zu dev / %zu test\n",
               mezo::to_string(model.config().model_type), o.model_dir.filename().c_str(),
               peft_description(o).c_str(),
               static_cast<unsigned long long>(trainable.num_elements()),
               static_cast<unsigned long long>(model.num_parameters()), scorer->name(),
               train_examples.size(), dev_examples.size(), test_examples.size());
  if (batch < static_cast<std::size_t>(o.batch_size)) {
    std::fprintf(stderr,
                 "batch %d > %zu training examples: every step uses the whole training set\n",
                 o.batch_size, train_examples.size());
  }

  const auto perturbation = mezo::gaussian_perturbation({.num_threads = o.threads});
  mezo::ZoSgd optimizer({.lr = o.lr, .eps = o.eps, .weight_decay = o.weight_decay}, perturbation);
  const mezo::StepOptions step_options{.exact_restore = o.exact_restore};
  const mezo::SeedSchedule seeds(o.seed);

  std::int64_t first_step = 0;
  std::optional<mezo::TrajectoryWriter> writer;
  if (resume) {
    // Rank 0 cuts a torn last record before any rank reads the log.
    if (Cluster::root()) writer = mezo::TrajectoryWriter::open_append(log_file);
    Cluster::barrier("seed log");
    const mezo::Trajectory log = mezo::read_trajectory(log_file);
    if (!log.records.empty()) first_step = log.records.back().step + 1;
    std::fprintf(stderr, "resuming after step %lld: replaying the seed log\n",
                 static_cast<long long>(first_step));
    mezo::replay(trainable, *perturbation, log);
    std::int64_t updates = 0;
    for (const auto& r : log.records)
      updates += r.direction == 0 && !(r.flags & mezo::TrajectoryRecord::rejected);
    optimizer.set_step_count(updates);
    state.steps_done = first_step;
  } else if (Cluster::root()) {
    writer = mezo::TrajectoryWriter::create(
        log_file, mezo::make_trajectory_header(optimizer, step_options, o.seed));
  }
  std::optional<MetricsLog> metrics_log;  // rank 0 only
  if (Cluster::root())
    metrics_log.emplace(o.out_dir / "metrics.jsonl", first_step, state.last_eval_step);
  const auto append_metrics = [&](const nlohmann::json& record) {
    if (metrics_log) metrics_log->append(record);
  };

  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!resume) {
    std::fprintf(stderr, "zero-shot evaluation...\n");
    state.zero_shot_dev = accuracy(*scorer, dev_examples);
    state.zero_shot_test = accuracy(*scorer, test_examples);
    std::fprintf(stderr, "zero-shot: dev %.1f%%, test %.1f%%\n", 100 * state.zero_shot_dev,
                 100 * state.zero_shot_test);
    if (Cluster::root()) write_json_atomically(run_file, run_json(o, digest, state));
  }

  const auto evaluate_dev = [&](std::int64_t steps_done) {
    const double dev = accuracy(*scorer, dev_examples);
    state.evaluations.push_back({{"step", steps_done}, {"dev_accuracy", dev}});
    if (dev > state.best_dev) state.best_dev = dev, state.best_step = steps_done;
    state.last_eval_step = steps_done;
    // "step" is the 0-based index of the last step taken, as in the step
    // lines; "after_steps" is the count run.json uses.
    append_metrics({{"step", steps_done - 1},
                    {"after_steps", steps_done},
                    {"dev_accuracy", dev},
                    {"elapsed_s", elapsed()}});
    return dev;
  };
  // A run killed between a step and its evaluation evaluates on resume (the
  // last step is evaluated too when --steps is not a multiple of --eval-every).
  if (resume && first_step > 0 && (first_step % o.eval_every == 0 || first_step == o.steps) &&
      state.last_eval_step < first_step) {
    evaluate_dev(first_step);
    // Recorded at once: a kill before the next evaluation's rewrite of
    // run.json must not lose this one (the next resume starts past it).
    if (Cluster::root()) write_json_atomically(run_file, run_json(o, digest, state));
  }

  const mezo::CrossEntropy cross_entropy;
  const mezo::NegativeAccuracy negative_accuracy;
  const mezo::Objective& objective = o.objective == "accuracy"
                                         ? static_cast<const mezo::Objective&>(negative_accuracy)
                                         : cross_entropy;
  std::vector<std::size_t> order, picked;
  std::vector<const EncodedExample*> batch_examples;
  std::vector<std::int32_t> labels;
  std::vector<float> logits;
  const auto loss = [&] {
    scorer->score(batch_examples, logits);
    return objective({logits.data(), static_cast<std::int64_t>(batch_examples.size()),
                      static_cast<std::int64_t>(scorer->num_labels())},
                     labels);
  };

  // In an MPI job: this rank's part [begin, end) of the batch, one loss per
  // example (the ranks combine them into the loss `loss` would give).
  std::vector<const EncodedExample*> shard_examples;
  std::vector<float> shard_logits;
  const auto shard_loss = [&](std::int64_t begin, std::int64_t end, std::span<double> out) {
    shard_examples.assign(batch_examples.begin() + begin, batch_examples.begin() + end);
    scorer->score(shard_examples, shard_logits);
    objective.example_losses(
        {shard_logits.data(), end - begin, static_cast<std::int64_t>(scorer->num_labels())},
        std::span(labels).subspan(static_cast<std::size_t>(begin),
                                  static_cast<std::size_t>(end - begin)),
        out);
  };

  Progress progress(first_step, o.steps, o.log_every);
  std::int64_t zero_grad_steps = 0, window_steps = 0, rejected_in_a_row = 0;
  for (std::int64_t t = first_step; t < o.steps; ++t) {
    sample_batch(o.seed, t, train_examples.size(), batch, order, picked);
    batch_examples.clear();
    labels.clear();
    for (const std::size_t i : picked) {
      batch_examples.push_back(&train_examples[i]);
      labels.push_back(train_examples[i].label);
    }
    const mezo::StepResult r =
        Cluster::distributed()
            ? Cluster::data_parallel_step(trainable, optimizer,
                                          static_cast<std::int64_t>(batch_examples.size()),
                                          shard_loss, seeds.seed_for_step(t), step_options)
            : mezo::step(trainable, optimizer, loss, seeds.seed_for_step(t), step_options);
    ++window_steps;
    zero_grad_steps += r.status == mezo::StepStatus::ok && r.projected_grad == 0.0f;
    nlohmann::json record = {{"step", t},
                             {"loss_plus", r.loss_plus},
                             {"loss_minus", r.loss_minus},
                             {"projected_grad", r.projected_grad},
                             {"lr", r.update.lr},
                             {"elapsed_s", elapsed()}};
    if (r.status != mezo::StepStatus::ok) record["rejected"] = r.message;
    // The metrics line first: the seed log decides where a resumed run starts,
    // and a kill between the two writes must not lose step t's line for good.
    append_metrics(record);
    if (writer) writer->append(t, r);
    state.steps_done = t + 1;
    rejected_in_a_row = r.status == mezo::StepStatus::ok ? 0 : rejected_in_a_row + 1;
    if (o.max_rejected_in_a_row > 0 && rejected_in_a_row >= o.max_rejected_in_a_row) {
      if (writer) writer->sync();
      fail(fmt::format("the last {} steps were all rejected (step {}: {}); rejected steps leave the "
                       "weights untouched, so the weights themselves or the learning rate (--lr {}) "
                       "are at fault; see {} (--max-rejected 0 never stops)",
                       rejected_in_a_row, t, r.message, o.lr,
                       (o.out_dir / "metrics.jsonl").string()));
    }

    std::optional<double> dev;
    if ((t + 1) % o.eval_every == 0 || t + 1 == o.steps) {
      if (writer) writer->sync();
      dev = evaluate_dev(t + 1);
      Cluster::check_replicas(trainable);
      if (Cluster::root()) write_json_atomically(run_file, run_json(o, digest, state));
    }
    const double zero_fraction =
        static_cast<double>(zero_grad_steps) / static_cast<double>(window_steps);
    progress.update(t, r.loss_plus, dev, zero_fraction);
    if ((t + 1) % o.log_every == 0) {
      append_metrics(
          {{"step", t}, {"zero_grad_fraction", zero_fraction}, {"window_steps", window_steps}});
      zero_grad_steps = window_steps = 0;
    }
  }
  progress.finish();
  if (writer) writer->sync();
  Cluster::barrier("seed log complete");  // the other ranks may read it below

  // The best-by-dev weights are a position in the seed log: rebuild them from
  // the initial weights unless they are the current ones.
  double test_at_best = 0.0;
  if (state.best_step == state.steps_done) {
    test_at_best = accuracy(*scorer, test_examples);
  } else {
    std::fprintf(stderr, "rebuilding the best-by-dev weights (step %lld) from the seed log\n",
                 static_cast<long long>(state.best_step));
    mezo::MaskedLM best = mezo::MaskedLM::load(o.model_dir, {.num_threads = o.threads});
    replay_prefix(trainable_params(best, o), *perturbation, mezo::read_trajectory(log_file),
                  state.best_step);
    auto best_scorer =
        cosine ? make_cosine_scorer(best, prompts, o.cosine_scale) : make_mlm_scorer(best, prompts);
    test_at_best = accuracy(*best_scorer, test_examples);
  }
  const double seconds = elapsed();
  nlohmann::json result = {{"zero_shot_dev_accuracy", state.zero_shot_dev},
                           {"zero_shot_test_accuracy", state.zero_shot_test},
                           {"best_dev_accuracy", state.best_dev},
                           {"best_step", state.best_step},
                           {"test_accuracy", test_at_best},
                           {"steps", state.steps_done},
                           {"peft", o.peft},
                           {"trainable_parameters", trainable.num_elements()},
                           {"steps_per_s_this_session", progress.steps_per_second()},
                           {"elapsed_s_this_session", seconds},
                           {"peak_rss_mib", peak_rss_mib()}};
  auto final_json = run_json(o, digest, state);
  final_json["result"] = result;
  if (Cluster::root()) write_json_atomically(run_file, final_json);
  std::printf(
      "SST-2 k=%d seed=%u, %s head, %s objective, %lld steps (lr %g, eps %g)\n"
      "  trained:    %s, %llu parameters (weight decay %g)\n"
      "  zero-shot:  dev %.1f%%  test %.1f%%\n"
      "  best dev:   %.1f%% at step %lld\n"
      "  test (best-by-dev weights): %.1f%%\n"
      "  %.2f steps/s, %.0f s this session, peak memory %.0f MiB\n"
      "  run folder: %s (plot: tools/plot_learning_curve.sh %s)\n",
      o.k, o.data_seed, scorer->name(), o.objective.c_str(),
      static_cast<long long>(state.steps_done), o.lr, o.eps, peft_description(o).c_str(),
      static_cast<unsigned long long>(trainable.num_elements()), o.weight_decay,
      100 * state.zero_shot_dev,
      100 * state.zero_shot_test, 100 * state.best_dev, static_cast<long long>(state.best_step),
      100 * test_at_best, progress.steps_per_second(), seconds, peak_rss_mib(), o.out_dir.c_str(),
      (o.out_dir / "metrics.jsonl").c_str());
  return 0;
}

}  // namespace sst2
