// GpuMaskedLM: the MaskedLM forward on a CUDA GPU, for MeZO steps at the
// hardware's speed. Made from a loaded (CPU) MaskedLM; the weights live in
// device memory as fp32 or bf16; GEMMs run on cuBLAS, the rest in libmezo's
// kernels, all on the GpuContext's stream.
//
// Probes are virtual (DeferredPerturbation): give perturbation() to the
// optimizer and the forward applies the current probe to each weight as it
// reads it, so the stored weights change only on updates, restores are exact
// by construction (bf16 included) and a step needs no device memory beyond
// what inference on the same batch needs.
//
//   mezo::GpuContext gpu;
//   mezo::GpuMaskedLM model(cpu_model, gpu);
//   mezo::ZoSgd optimizer(config, model.perturbation());
//   mezo::step(model.params(), optimizer, loss_calling_model_mlm_logits, seed);
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "mezo/config.hpp"
#include "mezo/deferred_perturbation.hpp"
#include "mezo/device.hpp"
#include "mezo/gpu.hpp"
#include "mezo/model/masked_lm.hpp"
#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE

struct GpuMaskedLMOptions {
  // Storage of the weights: f32, or bf16 (rounded to nearest even from the
  // CPU model's fp32; half the memory; GEMMs still run in fp32, or TF32 when
  // the context allows it).
  DType weights = DType::f32;
  ZDistribution distribution = ZDistribution::gaussian;
};

class MEZO_API GpuMaskedLM {
 public:
  // Copies `model`'s base weights (params(); PEFT tensors are not supported
  // on the GPU yet) to `gpu`'s device. `gpu` must outlive this object.
  // Throws mezo::Error: unsupported for a model with LoRA or prefix enabled
  // or without an MLM head, or a build without CUDA; internal when device
  // memory runs out (the message says how much was asked for).
  GpuMaskedLM(const MaskedLM& model, GpuContext& gpu, const GpuMaskedLMOptions& options = {});
  ~GpuMaskedLM();
  GpuMaskedLM(GpuMaskedLM&&) noexcept;
  GpuMaskedLM& operator=(GpuMaskedLM&&) noexcept;

  const TransformerConfig& config() const;
  // Device views under the CPU model's names, in its order: the same global
  // element indices, hence the same z, as model.params().
  const ParamSet& params() const;
  // The perturbation to train params() with (see above).
  std::shared_ptr<DeferredPerturbation> perturbation() const;

  // Same contract as MaskedLM::mlm_logits (host batch, host output; the
  // same validation and errors), evaluated at the current probe. Returns
  // when `out` holds the logits.
  void mlm_logits(const TokenBatch& batch, std::span<const MaskQuery> queries,
                  std::span<const std::int32_t> vocab_ids, std::span<float> out);

  // Copies the stored weights (no probe) into `model`'s params(), widening
  // bf16 exactly, e.g. to save a checkpoint with MaskedLM::save_pretrained.
  // Throws mezo::Error(invalid_argument) if `model`'s layout differs.
  void download(MaskedLM& model) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

MEZO_END_NAMESPACE
