// NamedTensors: an ordered list of (name, tensor) pairs, how parameters and weights cross APIs.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace graft::models {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

}  // namespace graft::models
