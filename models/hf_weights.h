// HF weight files: model.safetensors, or shards listed in model.safetensors.index.json.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/safetensors.h"
#include "core/status.h"
#include "models/named_tensors.h"

namespace graft {

inline constexpr char kHfWeightsFile[] = "model.safetensors";
inline constexpr char kHfWeightsIndexFile[] = "model.safetensors.index.json";

// Every tensor of the directory's weights as F32. Shards come from the index's weight_map (shard
// names must stay inside `dir`); a tensor in a shard the index does not map to it, or mapped but
// absent, is an error naming it.
Result<std::map<std::string, torch::Tensor>> ReadHfWeights(const std::filesystem::path& dir);

// Writes `tensors` in `dtype` as model.safetensors (max_shard_bytes == 0) or as
// model-0000N-of-0000M.safetensors shards of at most max_shard_bytes of tensor data (a larger
// tensor gets a shard of its own) plus the index, as HF's save_pretrained does.
Status WriteHfWeights(const std::filesystem::path& dir, const NamedTensors& tensors, DType dtype,
                      uint64_t max_shard_bytes = 0);

}  // namespace graft
