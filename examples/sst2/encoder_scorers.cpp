#include "encoder_scorers.hpp"

#include <cmath>

namespace sst2 {
namespace {

class MlmScorer final : public LabelScorer {
 public:
  MlmScorer(mezo::LanguageModel& model, const MaskedPrompt& prompt, std::int32_t pad)
      : LabelScorer(prompt.label_word_ids().size()),
        model_(model),
        label_ids_(prompt.label_word_ids()),
        pad_(pad) {}
  const char* name() const override { return "mlm"; }

  void score(std::span<const EncodedExample* const> examples, std::vector<float>& logits) override {
    const auto batch = to_batch(examples, pad_);
    queries_.clear();
    for (std::size_t i = 0; i < examples.size(); ++i) {
      queries_.push_back({static_cast<std::int64_t>(i), examples[i]->query_position});
    }
    logits.resize(examples.size() * num_labels());
    model_.logits(batch, queries_, label_ids_, logits);
  }

 private:
  mezo::LanguageModel& model_;
  std::vector<std::int32_t> label_ids_;
  std::int32_t pad_;
  std::vector<mezo::TokenQuery> queries_;
};

class CosineScorer final : public LabelScorer {
 public:
  CosineScorer(mezo::MaskedLM& model, const MaskedPrompt& prompt, float scale)
      : LabelScorer(prompt.label_word_ids().size()), model_(model), scale_(scale) {
    std::vector<std::vector<std::int32_t>> rows;
    for (std::size_t k = 0; k < num_labels(); ++k) rows.push_back(prompt.encode_filled(k));
    label_batch_ = mezo::TokenBatch::pad(rows, pad_id());
  }
  const char* name() const override { return "cosine"; }

  void score(std::span<const EncodedExample* const> examples, std::vector<float>& logits) override {
    const std::int64_t H = model_.config().hidden_size;
    label_pooled_.resize(num_labels() * static_cast<std::size_t>(H));
    model_.mean_pooled(label_batch_, label_pooled_);
    const auto batch = to_batch(examples, pad_id());
    pooled_.resize(examples.size() * static_cast<std::size_t>(H));
    model_.mean_pooled(batch, pooled_);
    logits.resize(examples.size() * num_labels());
    for (std::size_t i = 0; i < examples.size(); ++i) {
      for (std::size_t k = 0; k < num_labels(); ++k) {
        logits[i * num_labels() + k] = scale_ * cosine(&pooled_[i * H], &label_pooled_[k * H], H);
      }
    }
  }

 private:
  std::int32_t pad_id() const { return static_cast<std::int32_t>(model_.config().pad_token_id); }

  static float cosine(const float* a, const float* b, std::int64_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      ab += double(a[i]) * b[i];
      aa += double(a[i]) * a[i];
      bb += double(b[i]) * b[i];
    }
    return static_cast<float>(ab / std::sqrt(aa * bb));
  }

  mezo::MaskedLM& model_;
  float scale_;
  mezo::TokenBatch label_batch_;
  std::vector<float> pooled_, label_pooled_;
};

}  // namespace

std::unique_ptr<LabelScorer> make_mlm_scorer(mezo::LanguageModel& model, const MaskedPrompt& prompt,
                                             std::int32_t pad) {
  return std::make_unique<MlmScorer>(model, prompt, pad);
}

std::unique_ptr<LabelScorer> make_cosine_scorer(mezo::MaskedLM& model, const MaskedPrompt& prompt,
                                                float scale) {
  return std::make_unique<CosineScorer>(model, prompt, scale);
}

}  // namespace sst2
