// Accuracy of a scorer on encoded examples (dev and test evaluations).
#pragma once

#include <vector>

#include "prompt.hpp"
#include "scorer.hpp"

namespace sst2 {

// The fraction of `examples` whose highest-scoring label is theirs (ties go
// to the lower label). In an MPI job every rank must call it: the examples
// are scored in chunks spread over the ranks and the counts summed, so the
// result does not depend on the number of ranks.
double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples);

}  // namespace sst2
