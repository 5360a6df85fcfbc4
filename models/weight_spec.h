// WeightSpec: the name, shape and initialisation of one base-model tensor, and checks against it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::models {

struct WeightSpec {
  enum class Init { kNormal, kZeros, kOnes };
  std::string name;
  std::vector<int64_t> shape;
  Init init = Init::kNormal;
  double std = 0.02;  // kNormal only
};

// Checks that `weights` holds exactly the specified tensors with their shapes; the first
// missing, unexpected or mis-shaped tensor is an error naming it and `source`.
Status CheckWeights(const std::vector<WeightSpec>& specs,
                    const std::map<std::string, torch::Tensor>& weights, std::string_view source);

// One F32 tensor initialised per `spec`, drawing from `generator` (kNormal only).
torch::Tensor InitWeight(const WeightSpec& spec, at::Generator& generator);

// F32 tensors initialised per spec, deterministic for `seed` (own generator, in spec order).
std::map<std::string, torch::Tensor> InitWeights(const std::vector<WeightSpec>& specs,
                                                 uint64_t seed);

}  // namespace graft::models
