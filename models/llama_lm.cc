#include "models/llama_lm.h"

#include <cmath>

#include "models/causal_attention.h"

namespace graft::models {
namespace {

constexpr char kEmbed[] = "model.embed_tokens.weight";
constexpr char kLmHead[] = "lm_head.weight";

std::string Layer(int64_t i) { return "model.layers." + std::to_string(i) + "."; }

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// x * rsqrt(mean(x^2) + eps) * weight, as LlamaRMSNorm.
torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  return weight * (x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps));
}

// HF's rotate_half: (x1, x2) → (-x2, x1) over the two halves of the last dimension.
torch::Tensor RotateHalf(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

}  // namespace

std::vector<WeightSpec> LlamaLM::Specs(const ModelConfig& c) {
  using Init = WeightSpec::Init;
  const int64_t d = c.hidden_size;
  const int64_t q = c.num_heads * c.head_dim;
  const int64_t kv = c.num_kv_heads * c.head_dim;
  const int64_t inner = c.intermediate_size;
  std::vector<WeightSpec> specs = {{kEmbed, {c.vocab_size, d}}};
  auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
    specs.push_back({name + ".weight", {out, in}});
    if (bias) specs.push_back({name + ".bias", {out}, Init::kZeros});
  };
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = Layer(i);
    specs.push_back({p + "input_layernorm.weight", {d}, Init::kOnes});
    linear(p + "self_attn.q_proj", q, d, c.attention_bias);
    linear(p + "self_attn.k_proj", kv, d, c.attention_bias);
    linear(p + "self_attn.v_proj", kv, d, c.attention_bias);
    linear(p + "self_attn.o_proj", d, q, c.attention_bias);
    specs.push_back({p + "post_attention_layernorm.weight", {d}, Init::kOnes});
    linear(p + "mlp.gate_proj", inner, d, c.mlp_bias);
    linear(p + "mlp.up_proj", inner, d, c.mlp_bias);
    linear(p + "mlp.down_proj", d, inner, c.mlp_bias);
  }
  specs.push_back({"model.norm.weight", {d}, Init::kOnes});
  if (!c.tie_word_embeddings) specs.push_back({kLmHead, {c.vocab_size, d}});
  return specs;
}

Result<std::map<std::string, torch::Tensor>> LlamaLM::Canonicalize(
    std::map<std::string, torch::Tensor> weights, const ModelConfig& config,
    std::string_view source) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, tensor] : weights) {
    // RoPE frequencies older HF versions saved; graft computes them from rope_theta.
    if (EndsWith(name, ".self_attn.rotary_emb.inv_freq")) continue;
    out[name] = std::move(tensor);
  }
  auto head = out.find(kLmHead);
  if (config.tie_word_embeddings && head != out.end()) {
    auto embed = out.find(kEmbed);
    if (embed == out.end() || !head->second.equal(embed->second)) {
      return InvalidInput(std::string(source) + ": tensor \"" + kLmHead + "\" differs from \"" +
                          kEmbed + "\" but tie_word_embeddings is true");
    }
    out.erase(head);
  }
  return out;
}

LlamaLM::LlamaLM(ModelConfig config, std::map<std::string, torch::Tensor> weights)
    : CausalLM(std::move(config), std::move(weights)) {
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string p = Layer(i);
    blocks_.push_back(Block{
        Weight(p + "input_layernorm.weight"),
        Weight(p + "post_attention_layernorm.weight"),
        MakeLinear(p + "self_attn.q_proj", false),
        MakeLinear(p + "self_attn.k_proj", false),
        MakeLinear(p + "self_attn.v_proj", false),
        MakeLinear(p + "self_attn.o_proj", false),
        MakeLinear(p + "mlp.gate_proj", false),
        MakeLinear(p + "mlp.up_proj", false),
        MakeLinear(p + "mlp.down_proj", false),
    });
  }
  FinishModules();
  // As LlamaRotaryEmbedding: 1 / theta^(2i / head_dim), computed in F32.
  inv_freq_ =
      1.0 / torch::pow(config_.rope_theta,
                       torch::arange(0, config_.head_dim, 2, torch::kLong).to(torch::kFloat) /
                           static_cast<double>(config_.head_dim));
}

torch::Tensor LlamaLM::ForwardImpl(const torch::Tensor& input_ids, const torch::Tensor& mask,
                                   const torch::Tensor& positions, KvCache* cache) {
  const int64_t batch = input_ids.size(0);
  const int64_t length = input_ids.size(1);
  const int64_t heads = config_.num_heads;
  const int64_t kv_heads = config_.num_kv_heads;
  const int64_t head_dim = config_.head_dim;
  const double eps = config_.norm_eps;
  // cos/sin [B, 1, T, head_dim] of cat(freqs, freqs), as HF.
  torch::Tensor freqs = positions.to(torch::kFloat).unsqueeze(-1) * inv_freq_;  // [B, T, D/2]
  torch::Tensor angles = torch::cat({freqs, freqs}, -1).unsqueeze(1);
  const torch::Tensor cos = angles.cos();
  const torch::Tensor sin = angles.sin();
  const torch::Tensor bias = AttentionBias(mask, length, heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  const bool train = training();
  torch::Tensor h = Embed(Weight(kEmbed), input_ids);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block* block = &blocks_[i];
    // By value: a checkpointed block runs again in the backward pass.
    h = RunBlock(h, cache, [=](const torch::Tensor& x) {
      auto rope = [&](const torch::Tensor& t) { return t * cos + RotateHalf(t) * sin; };
      auto split_heads = [&](const torch::Tensor& t, int64_t n) {
        return t.view({batch, length, n, head_dim}).transpose(1, 2);
      };
      torch::Tensor a = RmsNorm(x, block->input_norm, eps);
      torch::Tensor q = rope(split_heads(block->q_proj->Forward(a, train), heads));
      torch::Tensor k = rope(split_heads(block->k_proj->Forward(a, train), kv_heads));
      torch::Tensor v = split_heads(block->v_proj->Forward(a, train), kv_heads);
      std::tie(k, v) = UpdateCache(cache, i, k, v);
      torch::Tensor attended = CausalAttention(q, k, v, bias, scale);
      torch::Tensor y = x + block->o_proj->Forward(attended, train);
      torch::Tensor m = RmsNorm(y, block->post_attention_norm, eps);
      torch::Tensor gated =
          torch::silu(block->gate_proj->Forward(m, train)) * block->up_proj->Forward(m, train);
      return y + block->down_proj->Forward(gated, train);
    });
  }
  return RmsNorm(h, Weight("model.norm.weight"), eps);
}

const torch::Tensor& LlamaLM::HeadWeight() const {
  return config_.tie_word_embeddings ? Weight(kEmbed) : Weight(kLmHead);
}

}  // namespace graft::models
