// libmezo: zeroth-order (MeZO) fine-tuning as an embeddable library.
// The umbrella header; each concept also has a header of its own.
#pragma once

#include "mezo/config.hpp"
#include "mezo/counter_rng.hpp"
#include "mezo/data/labeled_text.hpp"
#include "mezo/device.hpp"
#include "mezo/error.hpp"
#include "mezo/io/safetensors.hpp"
#include "mezo/log.hpp"
#include "mezo/model/config.hpp"
#include "mezo/model/masked_lm.hpp"
#include "mezo/objective.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"
#include "mezo/seed_schedule.hpp"
#include "mezo/step.hpp"
#include "mezo/text/tokenizer.hpp"
#include "mezo/trajectory.hpp"
#include "mezo/version.hpp"
