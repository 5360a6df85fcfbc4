// Training configuration (YAML): the keys of docs/formats.md, parsed strictly, with defaults.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "models/lora_config.h"

namespace graft::trainer {

struct OptimizerSettings {
  double lr = 2.0e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double weight_decay = 0.0;
  double eps = 1.0e-8;
};

enum class ScheduleKind { kCosine, kLinear, kConstant };
std::string_view ScheduleKindName(ScheduleKind kind);

struct ScheduleSettings {
  int64_t warmup_steps = 0;
  ScheduleKind kind = ScheduleKind::kCosine;
};

struct TrainConfig {
  // r, lora_alpha, lora_dropout, target_modules, use_rslora, init_lora_weights; required unless
  // the run is a full fine-tune.
  std::optional<formats::LoraConfig> lora;
  OptimizerSettings optimizer;
  ScheduleSettings schedule;
  int64_t batch_size = 8;
  int64_t grad_accum = 1;
  int64_t max_seq_len = 256;
  bool packing = true;
  bool checkpointing = false;        // activation checkpointing (CausalLM::SetCheckpointing)
  std::optional<int64_t> max_steps;  // exactly one of max_steps and epochs is set after parsing
  std::optional<int64_t> epochs;     // (epochs: 1 when the file names neither)
  double grad_clip = 1.0;            // 0 disables clipping
  int64_t eval_every = 0;            // 0: evaluate only at the end
  int64_t checkpoint_every = 0;      // 0: checkpoint only when interrupted
  uint64_t seed = 1234;
  int64_t threads = 1;

  // The effective configuration (defaults included) as JSON, as provenance records it.
  Json ToJson() const;
  // A LoRA run needs a `lora` section; `source` names the file in the error.
  Status CheckMode(bool full, std::string_view source) const;
};

// Parses YAML text. Unknown keys, wrong types and out-of-range values are errors naming `source`,
// the line and the key ("train.yaml:3: lora.r: expected an integer ≥ 1").
Result<TrainConfig> ParseTrainConfig(std::string_view text, std::string_view source);
Result<TrainConfig> LoadTrainConfig(const std::filesystem::path& path);

}  // namespace graft::trainer
