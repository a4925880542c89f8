#include "optimizer_choice.hpp"

#include <fmt/format.h>

#include "mezo/ada_mezo.hpp"
#include "mezo/error.hpp"
#include "mezo/fzoo.hpp"

namespace sst2 {

std::string optimizer_names() { return "zo-sgd, n-spsa, fzoo or ada-mezo"; }

namespace {

int directions_or(const TrainOptions& o, int fallback) {
  return o.directions > 0 ? o.directions : fallback;
}

}  // namespace

void validate_optimizer(const TrainOptions& o) {
  const std::string& m = o.optimizer;
  if (m != "zo-sgd" && m != "n-spsa" && m != "fzoo" && m != "ada-mezo") {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--optimizer must be {}, got '{}'", optimizer_names(), m));
  }
  if (o.directions < 0 || (o.directions > 0 && m != "n-spsa" && m != "fzoo")) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        o.directions < 0 ? fmt::format("--directions must be >= 1, got {}", o.directions)
                         : fmt::format("--directions is an option of n-spsa and fzoo, not {}", m));
  }
  const bool ada = m == "ada-mezo";
  for (const char* name : {"--beta1", "--beta2", "--history"}) {
    if (o.was_given(name) && !ada) {
      throw mezo::Error(mezo::ErrorCode::invalid_argument,
                        fmt::format("{} is an option of ada-mezo, not {}", name, m));
    }
  }
  // The library checks the values; its messages name the method and the field.
  try {
    make_optimizer(o, make_perturbation(o));
  } catch (const mezo::Error& e) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--optimizer {}: {}", m, e.what()));
  }
}

std::shared_ptr<const mezo::Perturbation> make_perturbation(const TrainOptions& o) {
  const mezo::ExecutionOptions exec{.num_threads = o.threads};
  if (o.optimizer == "fzoo" || o.optimizer == "ada-mezo") return mezo::rademacher_perturbation(exec);
  return mezo::gaussian_perturbation(exec);
}

std::unique_ptr<mezo::Optimizer> make_optimizer(
    const TrainOptions& o, std::shared_ptr<const mezo::Perturbation> perturbation) {
  const mezo::ZoSgdConfig zo{.lr = o.lr, .eps = o.eps, .weight_decay = o.weight_decay};
  if (o.optimizer == "n-spsa") {
    return std::make_unique<mezo::NSpsa>(zo, directions_or(o, kDefaultNSpsaDirections), std::move(perturbation));
  }
  if (o.optimizer == "fzoo") {
    const mezo::FzooConfig config{.lr = o.lr,
                                  .eps = o.eps,
                                  .directions = directions_or(o, mezo::FzooConfig{}.directions),
                                  .weight_decay = o.weight_decay};
    return std::make_unique<mezo::Fzoo>(config, std::move(perturbation));
  }
  if (o.optimizer == "ada-mezo") {
    const mezo::AdaMezoConfig config{.lr = o.lr,
                                     .eps = o.eps,
                                     .beta1 = o.beta1,
                                     .beta2 = o.beta2,
                                     .history = o.history,
                                     .weight_decay = o.weight_decay};
    return std::make_unique<mezo::AdaMezo>(config, std::move(perturbation));
  }
  return std::make_unique<mezo::ZoSgd>(zo, std::move(perturbation));
}

int forwards_per_step(const TrainOptions& o) {
  return mezo::forwards_per_step(*make_optimizer(o, make_perturbation(o)));
}

float default_lr(const std::string& optimizer) {
  if (optimizer == "fzoo") return mezo::FzooConfig{}.lr;
  if (optimizer == "ada-mezo") return mezo::AdaMezoConfig{}.lr;
  return 0.0f;
}

}  // namespace sst2
