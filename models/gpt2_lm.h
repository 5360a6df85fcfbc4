// Gpt2LM: GPT2LMHeadModel (Conv1D attention/MLP, learned positions, GELU-tanh, tied LM head).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/weight_spec.h"

namespace graft::models {

class Gpt2LM final : public CausalLM {
 public:
  // The tensors of a GPT2LMHeadModel checkpoint with this config (canonical names).
  static std::vector<WeightSpec> Specs(const ModelConfig& config);
  // Renames a checkpoint's tensors to canonical names: adds the "transformer." prefix of a
  // GPT2Model checkpoint, drops the attn.bias / attn.masked_bias buffers and an lm_head.weight
  // equal to the embedding (it is tied); a different lm_head.weight is an error.
  static Result<std::map<std::string, torch::Tensor>> Canonicalize(
      std::map<std::string, torch::Tensor> weights, const ModelConfig& config,
      std::string_view source);
  // Whether `name` (canonical or not) is the weight of a Conv1D layer, stored [in, out].
  static bool IsConv1DWeight(const std::string& name);

  // `weights` must match Specs(config).
  Gpt2LM(ModelConfig config, std::map<std::string, torch::Tensor> weights);

 private:
  struct Block {
    torch::Tensor ln_1_weight, ln_1_bias, ln_2_weight, ln_2_bias;
    LoraLinear* c_attn;
    LoraLinear* attn_c_proj;
    LoraLinear* c_fc;
    LoraLinear* mlp_c_proj;
  };

  torch::Tensor ForwardImpl(const torch::Tensor& input_ids, const torch::Tensor& mask,
                            const torch::Tensor& positions, KvCache* cache) override;
  const torch::Tensor& HeadWeight() const override;

  std::vector<Block> blocks_;
};

}  // namespace graft::models
