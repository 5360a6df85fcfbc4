// LlamaLM: LlamaForCausalLM (RMSNorm, RoPE, grouped-query attention, SwiGLU MLP).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/weight_spec.h"

namespace graft::models {

class LlamaLM final : public CausalLM {
 public:
  // The tensors of a LlamaForCausalLM checkpoint with this config.
  static std::vector<WeightSpec> Specs(const ModelConfig& config);
  // Drops rotary_emb.inv_freq buffers older HF versions saved, and a tied lm_head.weight equal
  // to the embedding; a different one is an error.
  static Result<std::map<std::string, torch::Tensor>> Canonicalize(
      std::map<std::string, torch::Tensor> weights, const ModelConfig& config,
      std::string_view source);

  // `weights` must match Specs(config).
  LlamaLM(ModelConfig config, std::map<std::string, torch::Tensor> weights);

 private:
  struct Block {
    torch::Tensor input_norm, post_attention_norm;
    LoraLinear* q_proj;
    LoraLinear* k_proj;
    LoraLinear* v_proj;
    LoraLinear* o_proj;
    LoraLinear* gate_proj;
    LoraLinear* up_proj;
    LoraLinear* down_proj;
  };

  torch::Tensor ForwardImpl(const torch::Tensor& input_ids, const torch::Tensor& mask,
                            const torch::Tensor& positions, KvCache* cache) override;
  const torch::Tensor& HeadWeight() const override;

  std::vector<Block> blocks_;
  torch::Tensor inv_freq_;  // [head_dim / 2]
};

}  // namespace graft::models
