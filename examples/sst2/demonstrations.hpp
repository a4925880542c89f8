// In-context learning, the MeZO paper's ICL baseline (its reference code's
// icl.sh and utils.encode_prompt): before each dev and test prompt go
// `count` demonstrations, training examples written out with their right
// answer, so the untrained model can read the task off them.
//
//   demonstration = strip(prompt + right candidate)      (the answer's text
//                   for a generation task, then "\n", as its verbalizer has it)
//   prompt        = demo 1 + "\n\n" + ... + demo N + "\n\n" + the example's prompt
//
// and every candidate follows that prompt as it followed the bare one. Each
// example gets demonstrations of its own, drawn as the reference draws them
// when no training-set seed is given: RandomState(0).randint(0, 10000, n)
// gives one seed per example (test examples first, then dev), and example i's
// demonstrations are the first `count` of permutation(len(train), seed_i) —
// here over the run's training examples (the reference's pool is the whole
// train split), which stay disjoint from dev and test. A prompt longer than
// --max-length loses its first demonstrations' tokens (RenderedPrompt's left
// truncation), as the reference's does.
#pragma once

#include <cstdint>
#include <vector>

#include "data.hpp"
#include "prompt.hpp"

namespace sst2 {

// The first `count` seeds of NumPy's RandomState(0).randint(0, 10000, n): the
// reference's one seed per evaluated example.
std::vector<std::uint32_t> demonstration_seeds(std::size_t count);

// `example` written out with its right answer, stripped: what a demonstration
// shows. Throws mezo::Error when its label names no candidate.
std::string demonstration(const Example& example);

// Each query with `count` demonstrations from `pool` before it, drawn with
// seeds[i] for query i. Throws mezo::Error when the pool has fewer than
// `count` examples or there are fewer seeds than queries.
std::vector<Example> with_demonstrations(const std::vector<Example>& queries,
                                         const std::vector<Example>& pool, int count,
                                         const std::vector<std::uint32_t>& seeds);

// SST-2's examples (the sentence alone) as the --task examples are: the
// prompt the causal template writes, and the prompt followed by each label
// word, so that demonstrations can go before them (a RenderedPrompt encodes
// them; for a bare prompt that gives CausalPrompt's tokens wherever the
// label word starts a new pre-token, as " terrible" and " great" do).
std::vector<Example> rendered_sst2(const std::vector<Example>& sentences,
                                   const PromptOptions& prompt);

// The run's dev and test examples with `count` demonstrations each, from its
// training examples (SST-2's rendered first, all three splits); the
// description says so.
RunData in_context(RunData data, int count, const std::string& task, const PromptOptions& prompt);

}  // namespace sst2
