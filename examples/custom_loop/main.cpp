// custom_loop: libmezo training a model it knows nothing about.
//
// The model is a two-layer MLP (2 -> 16 -> 2, tanh) written here by hand, with
// its weights in plain std::vector<float>s that this program owns. libmezo only
// ever sees them as named views in a mezo::ParamSet and only ever asks for one
// number: the loss of the current weights on the current minibatch. No
// gradients, no autograd, no backward pass: two forward passes per step.
//
// Run:  custom_loop [--steps N] [--lr X] [--eps X] [--seed S] [--trajectory PATH]
//
// With --trajectory the run's seed log is written to PATH, and at the end the
// program rebuilds the trained weights from the initial weights plus that log
// alone, and checks that they match bit for bit.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mezo/mezo.hpp>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace {

// ---------------------------------------------------------------------------
// Command line

struct Options {
  // 82 trainable numbers need a few thousand MeZO steps: the SPSA estimate
  // g·z is an unbiased gradient, but its variance grows with the number of
  // parameters d, so the learning rate must be well below what plain SGD
  // would use (here lr 0.1 against ~1 for SGD) and the step count larger.
  // These defaults reach ~99% test accuracy in well under a second; lr 0.02
  // still works but needs ~10000 steps.
  std::uint64_t steps = 5000;
  float lr = 0.1f;
  // ε only has to be small against the curvature of the loss; fp32 resolves
  // loss differences of ε·|∇L·z| ~ 1e-3 easily for a loss near 0.5.
  float eps = 1e-3f;
  std::uint64_t seed = 42;
  std::optional<std::filesystem::path> trajectory;
  bool help = false;
};

// Thrown for a bad command line; main() prints it with the usage and returns 2.
struct UsageError {
  std::string message;
};

constexpr const char* kUsage =
    "usage: custom_loop [--steps N] [--lr X] [--eps X] [--seed S] [--trajectory PATH]\n"
    "  --steps N          MeZO steps to run (positive integer, default 5000)\n"
    "  --lr X             learning rate (finite, >= 0, default 0.1)\n"
    "  --eps X            perturbation scale (finite, > 0, default 0.001)\n"
    "  --seed S           run seed: weight init, minibatches and z (default 42)\n"
    "  --trajectory PATH  write the seed log to PATH and check that replaying it\n"
    "                     onto the initial weights reproduces the trained ones\n";

// std::from_chars rather than std::stoul: it rejects "-1" (which stoul
// silently wraps to 2^64 - 1), throws nothing, and tells us whether the whole
// string was consumed.
template <typename T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error == std::errc::result_out_of_range) {
    throw UsageError{std::string(flag) + ": '" + std::string(text) + "' is out of range"};
  }
  if (error != std::errc() || end != last) {
    throw UsageError{std::string(flag) + ": '" + std::string(text) + "' is not a valid " +
                     (std::is_integral_v<T> ? "non-negative integer" : "number")};
  }
  return value;
}

Options parse_options(std::span<char*> args) {
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      return options;
    }
    if (flag != "--steps" && flag != "--lr" && flag != "--eps" && flag != "--seed" &&
        flag != "--trajectory") {
      throw UsageError{"unknown option '" + std::string(flag) + "'"};
    }
    if (i + 1 == args.size()) throw UsageError{std::string(flag) + " needs a value"};
    const std::string_view value = args[++i];

    if (flag == "--steps") {
      options.steps = parse_number<std::uint64_t>(flag, value);
      if (options.steps == 0) throw UsageError{"--steps: must be at least 1"};
    } else if (flag == "--lr") {
      options.lr = parse_number<float>(flag, value);
      if (!std::isfinite(options.lr) || options.lr < 0.0f) {
        throw UsageError{"--lr: must be finite and >= 0, got '" + std::string(value) + "'"};
      }
    } else if (flag == "--eps") {
      options.eps = parse_number<float>(flag, value);
      if (!std::isfinite(options.eps) || options.eps <= 0.0f) {
        throw UsageError{"--eps: must be finite and > 0, got '" + std::string(value) + "'"};
      }
    } else if (flag == "--seed") {
      options.seed = parse_number<std::uint64_t>(flag, value);
    } else {
      if (value.empty()) throw UsageError{"--trajectory: the path is empty"};
      options.trajectory = std::filesystem::path(value);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------
// Data: two interleaved half-moons, not linearly separable, so the hidden
// layer has real work to do.

struct Example {
  float x[2];
  std::int32_t label;
};

struct DataSet {
  std::vector<Example> train;
  std::vector<Example> test;
};

// The data seed is fixed on purpose: --seed changes the training run
// (init, batches, z), not the problem being solved.
constexpr std::uint32_t kDataSeed = 2023;

DataSet make_moons(std::size_t train_size, std::size_t test_size, float noise) {
  std::mt19937 rng(kDataSeed);
  std::uniform_real_distribution<float> angle(0.0f, std::numbers::pi_v<float>);
  std::normal_distribution<float> jitter(0.0f, noise);
  std::bernoulli_distribution coin(0.5);

  auto draw = [&] {
    Example e;
    const float t = angle(rng);
    e.label = coin(rng) ? 1 : 0;
    // Upper moon centred at (0, 0), lower moon shifted to (1, 0.5) and
    // flipped; subtracting (0.5, 0.25) centres the pair on the origin, where
    // tanh units start out most sensitive.
    const float mx = e.label == 0 ? std::cos(t) : 1.0f - std::cos(t);
    const float my = e.label == 0 ? std::sin(t) : 0.5f - std::sin(t);
    e.x[0] = mx - 0.5f + jitter(rng);
    e.x[1] = my - 0.25f + jitter(rng);
    return e;
  };

  DataSet data;
  data.train.reserve(train_size);
  data.test.reserve(test_size);
  for (std::size_t i = 0; i < train_size; ++i) data.train.push_back(draw());
  for (std::size_t i = 0; i < test_size; ++i) data.test.push_back(draw());
  return data;
}

// ---------------------------------------------------------------------------
// The user's model. Nothing here depends on libmezo.

constexpr int kInputs = 2;
constexpr int kHidden = 16;
constexpr int kClasses = 2;

struct Mlp {
  std::vector<float> fc1_weight = std::vector<float>(kHidden * kInputs);   // (H, I) row-major
  std::vector<float> fc1_bias = std::vector<float>(kHidden);               // (H)
  std::vector<float> fc2_weight = std::vector<float>(kClasses * kHidden);  // (C, H) row-major
  std::vector<float> fc2_bias = std::vector<float>(kClasses);              // (C)
};

// Xavier-uniform weights and zero biases: the usual tanh initialisation.
Mlp init_mlp(std::uint64_t seed) {
  std::mt19937 rng(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
  auto fill_xavier = [&](std::vector<float>& w, int fan_in, int fan_out) {
    const float limit = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
    std::uniform_real_distribution<float> u(-limit, limit);
    for (float& v : w) v = u(rng);
  };
  Mlp m;
  fill_xavier(m.fc1_weight, kInputs, kHidden);
  fill_xavier(m.fc2_weight, kHidden, kClasses);
  return m;
}

// Logits for one example, written to out[0 .. kClasses).
void forward(const Mlp& m, const Example& e, float* out) {
  float h[kHidden];
  for (int j = 0; j < kHidden; ++j) {
    float a = m.fc1_bias[j];
    for (int i = 0; i < kInputs; ++i) a += m.fc1_weight[j * kInputs + i] * e.x[i];
    h[j] = std::tanh(a);
  }
  for (int c = 0; c < kClasses; ++c) {
    float a = m.fc2_bias[c];
    for (int j = 0; j < kHidden; ++j) a += m.fc2_weight[c * kHidden + j] * h[j];
    out[c] = a;
  }
}

// A batch of logits in the row-major layout mezo::Logits describes, plus the
// matching labels. Reused across calls so the training loop allocates nothing.
struct BatchOutput {
  std::vector<float> logits;
  std::vector<std::int32_t> labels;
};

template <typename Indexer>
void forward_batch(const Mlp& m, std::size_t rows, Indexer&& example_at, BatchOutput& out) {
  out.logits.resize(rows * kClasses);
  out.labels.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const Example& e = example_at(r);
    forward(m, e, &out.logits[r * kClasses]);
    out.labels[r] = e.label;
  }
}

mezo::Logits as_logits(const BatchOutput& out) {
  return {out.logits.data(), static_cast<std::int64_t>(out.labels.size()), kClasses};
}

// Full-data-set metrics, for reporting only (never part of a MeZO step).
struct Metrics {
  float loss;
  float accuracy;
};

Metrics evaluate(const Mlp& m, std::span<const Example> data, BatchOutput& scratch) {
  forward_batch(
      m, data.size(), [&](std::size_t r) -> const Example& { return data[r]; }, scratch);
  const float loss = mezo::CrossEntropy{}(as_logits(scratch), scratch.labels);
  // NegativeAccuracy is the library's −accuracy objective; negate it back.
  const float accuracy = -mezo::NegativeAccuracy{}(as_logits(scratch), scratch.labels);
  return {loss, accuracy};
}

// ---------------------------------------------------------------------------
// Progress table

// Fixed point while the numbers are sane; scientific once a bad --lr has
// blown them up, so the columns stay readable either way.
std::string format_number(float value) {
  char text[32];
  if (std::fabs(value) < 1e5f) {
    std::snprintf(text, sizeof text, "%.4f", static_cast<double>(value));
  } else {
    std::snprintf(text, sizeof text, "%.3e", static_cast<double>(value));
  }
  return text;
}

void print_row(std::uint64_t step, const std::string& loss_plus, const std::string& projected_grad,
               const Metrics& train, const Metrics& test) {
  std::printf("%8ju  %10s  %14s  %10s  %8.1f%%\n", static_cast<std::uintmax_t>(step),
              loss_plus.c_str(), projected_grad.c_str(), format_number(train.loss).c_str(),
              100.0 * static_cast<double>(test.accuracy));
}

// ---------------------------------------------------------------------------
// libmezo glue

// Order is the contract: z for element j of a view depends on the view's
// position in the set, so the replay below must register the same views in
// the same order. The vectors must not be resized while the set is in use,
// since the set holds raw pointers into them.
mezo::ParamSet register_params(Mlp& m) {
  mezo::ParamSet params;
  params.add("fc1.weight", m.fc1_weight.data(), m.fc1_weight.size());
  params.add("fc1.bias", m.fc1_bias.data(), m.fc1_bias.size());
  params.add("fc2.weight", m.fc2_weight.data(), m.fc2_weight.size());
  params.add("fc2.bias", m.fc2_bias.data(), m.fc2_bias.size());
  return params;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool same_bits(const Mlp& a, const Mlp& b) {
  return same_bits(a.fc1_weight, b.fc1_weight) && same_bits(a.fc1_bias, b.fc1_bias) &&
         same_bits(a.fc2_weight, b.fc2_weight) && same_bits(a.fc2_bias, b.fc2_bias);
}

// Rebuilds the trained weights from the initial ones and the seed log alone.
bool replay_matches(const Mlp& initial, const Mlp& trained, const std::filesystem::path& log_path,
                    const mezo::Perturbation& perturbation) {
  Mlp rebuilt = initial;
  const mezo::ParamSet params = register_params(rebuilt);
  const mezo::Trajectory trajectory = mezo::read_trajectory(log_path);
  mezo::replay(params, perturbation, trajectory);
  std::printf("replay: %zu records from %s (%ju bytes) applied to the initial weights\n",
              trajectory.records.size(), log_path.string().c_str(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(log_path)));
  return same_bits(rebuilt, trained);
}

int run(const Options& options) {
  constexpr std::size_t kTrainSize = 400;
  constexpr std::size_t kTestSize = 200;
  constexpr std::size_t kBatchSize = 64;
  constexpr float kNoise = 0.15f;
  constexpr std::uint64_t kMaxConsecutiveRejected = 10;

  const DataSet data = make_moons(kTrainSize, kTestSize, kNoise);
  Mlp model = init_mlp(options.seed);
  const Mlp initial = model;  // kept only to demonstrate replay

  const mezo::ParamSet params = register_params(model);
  // The parameter set has 82 elements: threads would cost more than they save.
  mezo::ZoSgd optimizer({.lr = options.lr, .eps = options.eps},
                        mezo::gaussian_perturbation({.num_threads = 1}));
  const mezo::SeedSchedule seeds(options.seed);
  // exact_restore (the default) journals the few elements whose ±εz round
  // trip is lossy in fp32, so θ comes back bit-exactly after the probes and a
  // replay only has to repeat each step's update, not its probes.
  const mezo::StepOptions step_options{.exact_restore = true};

  std::optional<mezo::TrajectoryWriter> log;
  if (options.trajectory) {
    // The header must describe the run as it is configured: replay uses it to
    // decide how to repeat each step's arithmetic.
    log = mezo::TrajectoryWriter::create(
        *options.trajectory, mezo::make_trajectory_header(optimizer, step_options, options.seed));
  }

  // Minibatches come from the user's own RNG, not from libmezo: the library
  // does not know what a batch is. A separate stream from the init keeps
  // "same seed" meaning "same run".
  std::mt19937_64 batch_rng(options.seed ^ 0x9e3779b97f4a7c15ull);
  std::uniform_int_distribution<std::size_t> pick(0, data.train.size() - 1);
  std::vector<std::size_t> batch(kBatchSize);
  BatchOutput batch_out;
  BatchOutput eval_out;

  // MeZO calls this twice per step, at θ + εz and at θ − εz; it must see the
  // same batch both times, so the batch is drawn outside it, once per step.
  const mezo::CrossEntropy cross_entropy;
  auto minibatch_loss = [&] {
    forward_batch(
        model, batch.size(), [&](std::size_t r) -> const Example& { return data.train[batch[r]]; },
        batch_out);
    return cross_entropy(as_logits(batch_out), batch_out.labels);
  };

  const Metrics zero_shot = evaluate(model, data.test, eval_out);
  std::printf("custom_loop: MLP %d-%d-%d (%ju parameters), %zu train / %zu test points\n", kInputs,
              kHidden, kClasses, static_cast<std::uintmax_t>(params.num_elements()),
              data.train.size(), data.test.size());
  std::printf("  steps=%ju lr=%g eps=%g seed=%ju batch=%zu\n",
              static_cast<std::uintmax_t>(options.steps), options.lr, options.eps,
              static_cast<std::uintmax_t>(options.seed), kBatchSize);
  std::printf("zero-shot test accuracy: %.1f%%\n\n", 100.0 * zero_shot.accuracy);
  // loss_plus is the minibatch loss at θ + εz (what the MeZO paper logs), so
  // it is noisy; train_loss and test_acc are over the whole sets.
  std::printf("%8s  %10s  %14s  %10s  %9s\n", "step", "loss_plus", "projected_grad", "train_loss",
              "test_acc");
  print_row(0, "-", "-", evaluate(model, data.train, eval_out), zero_shot);

  const std::uint64_t report_every = std::max<std::uint64_t>(1, options.steps / 10);
  std::uint64_t rejected_steps = 0;
  std::uint64_t consecutive_rejected = 0;
  std::uint64_t zero_grad_steps = 0;
  std::uint64_t steps_run = 0;
  bool diverged = false;
  const auto start = std::chrono::steady_clock::now();

  for (std::uint64_t t = 0; t < options.steps; ++t, ++steps_run) {
    for (std::size_t& i : batch) i = pick(batch_rng);

    const auto step_index = static_cast<std::int64_t>(t);
    const mezo::StepResult r = mezo::step(params, optimizer, minibatch_loss,
                                          seeds.seed_for_step(step_index), step_options);
    if (log) log->append(step_index, r);

    // A non-finite loss is not fatal: libmezo restored θ and skipped the
    // update, and the log records the rejected step too. But if the weights
    // themselves have blown up, every later step will be rejected as well, so
    // give up after a run of them instead of printing thousands of lines.
    if (r.status != mezo::StepStatus::ok) {
      ++rejected_steps;
      std::printf("step %ju rejected: %s\n", static_cast<std::uintmax_t>(t + 1), r.message.c_str());
      if (++consecutive_rejected == kMaxConsecutiveRejected) {
        std::printf(
            "%ju steps in a row were rejected: the weights have diverged; try a smaller "
            "--lr\n",
            static_cast<std::uintmax_t>(consecutive_rejected));
        diverged = true;
        ++steps_run;
        break;
      }
      continue;
    }
    consecutive_rejected = 0;
    if (r.projected_grad == 0.0f) ++zero_grad_steps;

    if ((t + 1) % report_every == 0 || t + 1 == options.steps) {
      const Metrics train = evaluate(model, data.train, eval_out);
      const Metrics test = evaluate(model, data.test, eval_out);
      print_row(t + 1, format_number(r.loss_plus), format_number(r.projected_grad), train, test);
    }
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Metrics final_test = evaluate(model, data.test, eval_out);
  std::printf(
      "\ntest accuracy: %.1f%% zero-shot -> %.1f%% after %ju MeZO steps (%.2f s, "
      "%ju rejected, %ju with g = 0)\n",
      100.0 * zero_shot.accuracy, 100.0 * final_test.accuracy,
      static_cast<std::uintmax_t>(steps_run), seconds, static_cast<std::uintmax_t>(rejected_steps),
      static_cast<std::uintmax_t>(zero_grad_steps));

  if (log) {
    log.reset();  // flushes and closes the file before it is read back
    const bool match =
        replay_matches(initial, model, *options.trajectory, optimizer.perturbation());
    std::printf("replayed weights %s the trained weights bit for bit\n",
                match ? "match" : "DO NOT match");
    if (!match) return 1;
  }
  return diverged ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_options(std::span<char*>(argv + 1, static_cast<std::size_t>(argc - 1)));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "custom_loop: %s\n%s", e.message.c_str(), kUsage);
    return 2;
  }
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    return run(options);
  } catch (const mezo::Error& e) {
    // Every libmezo failure is a mezo::Error naming what was wrong.
    std::fprintf(stderr, "custom_loop: libmezo error (%s): %s\n", mezo::to_string(e.code()),
                 e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_loop: %s\n", e.what());
  }
  return 1;
}
