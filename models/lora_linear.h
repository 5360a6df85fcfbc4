// LoraLinear: a frozen linear or GPT-2 Conv1D layer with any number of named LoRA adapters.
#pragma once

#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>

#include "models/lora_config.h"

namespace graft::models {

// The LoRA weights of one adapter on one layer: A [r, in], B [out, r], as PEFT stores them.
struct LoraWeights {
  torch::Tensor a;
  torch::Tensor b;
  double scaling = 1.0;
  double dropout = 0.0;
};

class LoraLinear {
 public:
  // `weight` is [out, in] for a linear layer, [in, out] for a Conv1D (`conv1d`); `bias` may be
  // undefined. The tensors are shared with the model's parameters, not copied.
  LoraLinear(std::string name, torch::Tensor weight, torch::Tensor bias, bool conv1d);

  const std::string& name() const { return name_; }
  bool conv1d() const { return conv1d_; }
  int64_t in_features() const;
  int64_t out_features() const;

  // y = x W^T + b (x W + b for Conv1D), plus (scaling) B A dropout(x) for the active adapter
  // unless it is merged into W. Dropout only when `training`.
  torch::Tensor Forward(const torch::Tensor& x, bool training) const;

  // Adds adapter `name` (A, B of the shapes above). Fails on a duplicate or a shape mismatch.
  Status AddAdapter(const std::string& name, LoraWeights weights);
  void RemoveAdapter(const std::string& name);
  const LoraWeights* Adapter(const std::string& name) const;
  // Replaces the values (not the tensors) of A and B; shapes must match.
  Status SetAdapterValues(const std::string& name, const torch::Tensor& a, const torch::Tensor& b);
  void SetActive(std::optional<std::string> name) { active_ = std::move(name); }

  // W += scaling * B A (transposed for Conv1D), keeping the original W to restore exactly.
  Status Merge(const std::string& name);
  void Unmerge();

 private:
  torch::Tensor Delta(const LoraWeights& weights) const;

  std::string name_;
  torch::Tensor weight_;
  torch::Tensor bias_;
  bool conv1d_;
  std::map<std::string, LoraWeights> adapters_;
  std::optional<std::string> active_;
  std::optional<std::string> merged_;
  torch::Tensor unmerged_weight_;  // copy of W while an adapter is merged
};

}  // namespace graft::models
