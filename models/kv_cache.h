// KvCache: the per-layer attention keys and values kept between incremental forward passes.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace graft {

// Filled by CausalLM::Forward; pass the same cache to every step of one generation. Keys and
// values are [batch, kv_heads, length, head_dim] per layer (keys after RoPE for llama).
struct KvCache {
  std::vector<torch::Tensor> keys;
  std::vector<torch::Tensor> values;

  // Number of positions cached (0 when empty).
  int64_t length() const {
    return keys.empty() || !keys.front().defined() ? 0 : keys.front().size(2);
  }
  void Clear() {
    keys.clear();
    values.clear();
  }
};

}  // namespace graft
