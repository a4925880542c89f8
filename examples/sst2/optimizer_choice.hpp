// `--optimizer`: which zeroth-order method trains the run, with its options.
// The methods' own defaults live in the library's config structs
// (mezo::ZoSgdConfig, FzooConfig, AdaMezoConfig); this file only maps names
// and options onto them.
#pragma once

#include <memory>
#include <string>

#include "mezo/optimizer.hpp"
#include "mezo/perturbation.hpp"
#include "options.hpp"

namespace sst2 {

inline constexpr int kDefaultNSpsaDirections = 4;

// "zo-sgd, n-spsa, fzoo or ada-mezo", for --help and messages.
std::string optimizer_names();

// Throws mezo::Error naming the option for an unknown --optimizer or an
// option value the method refuses (before anything is loaded).
void validate_optimizer(const TrainOptions& o);

// The perturbation z of the run's optimizer (Gaussian for ZO-SGD and n-SPSA,
// Rademacher for FZOO and AdaMeZO, as their papers), for training, replay and
// export alike.
std::shared_ptr<const mezo::Perturbation> make_perturbation(const TrainOptions& o);

std::unique_ptr<mezo::Optimizer> make_optimizer(
    const TrainOptions& o, std::shared_ptr<const mezo::Perturbation> perturbation);

// Forwards one step of the run's optimizer costs (mezo::forwards_per_step).
int forwards_per_step(const TrainOptions& o);

// The method's default learning rate for full-parameter training where it is
// not ZO-SGD's (FZOO's and AdaMeZO's from their authors' settings); 0 = the
// PEFT table's.
float default_lr(const std::string& optimizer);

}  // namespace sst2
