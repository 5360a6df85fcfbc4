// KvCache: the per-layer attention keys and values kept between incremental forward passes.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace graft::models {

// Filled by CausalLM::Forward; pass the same cache to every step of one generation. Keys and
// values are [batch, kv_heads, length, head_dim] per layer (keys after RoPE for llama): views of
// buffers with room for more positions, so a step writes only its own positions instead of
// copying the whole cache (a copy that libtorch parallelises once it is large, which costs
// milliseconds per step on a busy machine).
struct KvCache {
  std::vector<torch::Tensor> keys;
  std::vector<torch::Tensor> values;
  std::vector<torch::Tensor> key_buffers;  // [batch, kv_heads, capacity, head_dim] per layer
  std::vector<torch::Tensor> value_buffers;

  // Number of positions cached (0 when empty).
  int64_t length() const {
    return keys.empty() || !keys.front().defined() ? 0 : keys.front().size(2);
  }
  void Clear() {
    keys.clear();
    values.clear();
    key_buffers.clear();
    value_buffers.clear();
  }
};

}  // namespace graft::models
