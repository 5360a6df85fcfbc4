// LoraAdapterSet: the named LoRA adapters attached to one base model, and which one is active.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/lora_config.h"
#include "models/lora_linear.h"
#include "models/named_tensors.h"

namespace graft::models {

class LoraAdapterSet {
 public:
  // `modules` are the model's adaptable layers (owned by the model, which outlives the set);
  // `base_description` names the base in error messages ("gpt2 base (2 layers, d=32)").
  LoraAdapterSet(std::vector<LoraLinear*> modules, std::string base_description);

  // Adds adapter `name` on every module `config.target_modules` matches, with weights
  // initialised per config.init_lora_weights from `seed` (deterministic). Sets fan_in_fan_out
  // as PEFT does (true for Conv1D targets) and returns the config stored. Zero matched modules
  // is an error naming the base. The new adapter is not made active.
  Result<LoraConfig> Add(const std::string& name, LoraConfig config, uint64_t seed);
  Status Remove(const std::string& name);
  bool Has(const std::string& name) const { return configs_.count(name) > 0; }
  std::vector<std::string> Names() const;
  Result<LoraConfig> Config(const std::string& name) const;

  // The adapter used by forward passes, or std::nullopt for the frozen base alone.
  Status SetActive(std::optional<std::string> name);
  const std::optional<std::string>& active() const { return active_; }

  // The adapter's weights under their PEFT names, sorted
  // ("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"). They require grad.
  Result<NamedTensors> Parameters(const std::string& name) const;
  // Copies values in from tensors under PEFT names: every name must be one of this adapter's,
  // every adapter weight must be given, shapes must match; errors name the tensor.
  Status SetWeights(const std::string& name, const std::map<std::string, torch::Tensor>& tensors);

  // Folds the adapter into the base weights (forward results unchanged, faster); at most one
  // adapter is merged, and it must be the active one. Unmerge restores the base bit-exactly.
  Status Merge(const std::string& name);
  Status Unmerge();
  const std::optional<std::string>& merged() const { return merged_; }

  // Full names of the modules LoRA can target ("model.layers.0.self_attn.q_proj", ...).
  std::vector<std::string> ModuleNames() const;

 private:
  std::vector<LoraLinear*> modules_;
  std::string base_description_;
  std::map<std::string, LoraConfig> configs_;
  std::optional<std::string> active_;
  std::optional<std::string> merged_;
};

}  // namespace graft::models
