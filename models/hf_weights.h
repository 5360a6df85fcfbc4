// HF weight files: model.safetensors, or shards listed in model.safetensors.index.json.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/file_names.h"
#include "core/safetensors.h"
#include "core/status.h"
#include "models/named_tensors.h"

namespace graft::models {

// Every tensor of the directory's weights. Shards come from the index's weight_map (shard names
// must stay inside `dir`); a tensor in a shard the index does not map to it, or mapped but absent,
// is an error naming it. Matrices (2 dimensions or more) are kept in `matrix_dtype` (F32, BF16
// or F16), vectors in F32. The files are memory-mapped copy-on-write (models/mapped_file.h): a
// tensor stored in the dtype it is kept in is a view of the mapping, not a copy; one converted
// to another dtype is copied and its mapped pages released, so loading never holds two copies.
// `matrix_dtype` kI8 keeps 2-D tensors in Q8_0 (models/q8_weights.h; other tensors in F32),
// each quantised as it is read, with its inputs along dimension 0 where `inputs_first(name)`
// says so (GPT-2's Conv1D [in, out]) and along dimension 1 otherwise.
Result<std::map<std::string, torch::Tensor>> ReadHfWeights(
    const std::filesystem::path& dir, DType matrix_dtype = DType::kF32,
    const std::function<bool(const std::string&)>& inputs_first = {});

// The name and shape of a tensor WriteHfWeightsStreamed writes.
struct TensorShape {
  std::string name;
  std::vector<int64_t> shape;
};

// Writes `tensors` in `dtype` as model.safetensors (max_shard_bytes == 0) or as
// model-0000N-of-0000M.safetensors shards of at most max_shard_bytes of tensor data (a larger
// tensor gets a shard of its own), assigned in name order, plus the index, as HF's
// save_pretrained does. `produce(i)` gives tensors[i]'s values (any floating dtype); it is called
// once per tensor, in the order of `tensors`, and each tensor is written and dropped before the
// next is produced, so at most one tensor is in memory. Each file is written under a temporary
// name and renamed when complete.
Status WriteHfWeightsStreamed(const std::filesystem::path& dir,
                              const std::vector<TensorShape>& tensors, DType dtype,
                              uint64_t max_shard_bytes,
                              const std::function<torch::Tensor(size_t)>& produce);

// WriteHfWeightsStreamed over tensors held in memory.
Status WriteHfWeights(const std::filesystem::path& dir, const NamedTensors& tensors, DType dtype,
                      uint64_t max_shard_bytes = 0);

}  // namespace graft::models
