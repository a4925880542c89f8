// load_model: the family of a checkpoint, from config.json or the GGUF header.
#include <fmt/format.h>

#include <memory>
#include <string_view>
#include <system_error>

#include "file_io.hpp"
#include "mezo/error.hpp"
#include "mezo/model/causal_lm.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/model/masked_lm.hpp"
#include "model/config_fields.hpp"
#include "model/ops/bf16_linear.hpp"

MEZO_BEGIN_NAMESPACE

const char* to_string(ModelFamily family) noexcept {
  switch (family) {
    case ModelFamily::masked_lm:
      return "masked LM";
    case ModelFamily::causal_lm:
      return "causal LM";
  }
  return "?";
}

const char* to_string(ComputePrecision precision) noexcept {
  switch (precision) {
    case ComputePrecision::fp32:
      return "fp32";
    case ComputePrecision::bf16:
      return "bf16";
  }
  return "?";
}

ComputePrecision parse_compute_precision(std::string_view text) {
  for (ComputePrecision p : {ComputePrecision::fp32, ComputePrecision::bf16}) {
    if (text == to_string(p)) return p;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("compute precision must be fp32 or bf16, got '{}'", text));
}

bool compute_available(ComputePrecision precision, std::string* why_not) {
  if (precision == ComputePrecision::fp32) return true;
  try {
    model::cpu::Bf16Linear probe;
    return true;
  } catch (const Error& e) {
    if (why_not != nullptr) *why_not = e.what();
    return false;
  }
}

std::unique_ptr<LanguageModel> load_model(const std::filesystem::path& path,
                                          const ModelOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    // A single file is a GGUF model; GgufFile names what is wrong with it.
    return std::make_unique<CausalLM>(CausalLM::load(path, options));
  }
  if (!std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorCode::io,
                fmt::format("model '{}': no such file or folder (expected a Hugging Face folder "
                            "with config.json, or a .gguf file)",
                            path.string()));
  }
  const auto config_path = path / "config.json";
  const std::string source = config_path.string();  // outlives `fields`, which keeps a view of it
  const nlohmann::json config = detail::parse_config_json(detail::read_file(config_path), source);
  const detail::ConfigFields fields(config, source);
  const std::string type = fields.optional_string("model_type").value_or("");
  if (type == "roberta" || type == "bert") {
    return std::make_unique<MaskedLM>(
        MaskedLM::load(path, MaskedLMOptions{.num_threads = options.num_threads,
                                             .untie_decoder = options.untie_head,
                                             .compute = options.compute}));
  }
  if (type == "llama" || type == "qwen2" || type == "gemma3_text" || type == "gemma3") {
    return std::make_unique<CausalLM>(CausalLM::load(path, options));  // names what "gemma3" lacks
  }
  fields.fail(
      "model_type '{}' is not supported (masked LMs: roberta, bert; causal LMs: llama, "
      "qwen2, gemma3_text)",
      type);
}

MEZO_END_NAMESPACE
