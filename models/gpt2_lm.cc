#include "models/gpt2_lm.h"

#include <cmath>

#include "models/causal_attention.h"
#include "models/gelu_tanh.h"

namespace graft::models {
namespace {

constexpr char kPrefix[] = "transformer.";
constexpr char kWte[] = "transformer.wte.weight";
constexpr char kLmHead[] = "lm_head.weight";

std::string Layer(int64_t i) { return std::string(kPrefix) + "h." + std::to_string(i) + "."; }

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<WeightSpec> Gpt2LM::Specs(const ModelConfig& c) {
  using Init = WeightSpec::Init;
  const int64_t d = c.hidden_size;
  const int64_t inner = c.intermediate_size;
  // GPT-2 scales the residual projections' init by 1 / sqrt(2 * n_layer).
  const double proj_std = 0.02 / std::sqrt(2.0 * c.num_layers);
  std::vector<WeightSpec> specs = {
      {kWte, {c.vocab_size, d}},
      {"transformer.wpe.weight", {c.max_positions, d}},
  };
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = Layer(i);
    for (const char* ln : {"ln_1", "ln_2"}) {
      specs.push_back({p + ln + ".weight", {d}, Init::kOnes});
      specs.push_back({p + ln + ".bias", {d}, Init::kZeros});
    }
    specs.push_back({p + "attn.c_attn.weight", {d, 3 * d}});
    specs.push_back({p + "attn.c_attn.bias", {3 * d}, Init::kZeros});
    specs.push_back({p + "attn.c_proj.weight", {d, d}, Init::kNormal, proj_std});
    specs.push_back({p + "attn.c_proj.bias", {d}, Init::kZeros});
    specs.push_back({p + "mlp.c_fc.weight", {d, inner}});
    specs.push_back({p + "mlp.c_fc.bias", {inner}, Init::kZeros});
    specs.push_back({p + "mlp.c_proj.weight", {inner, d}, Init::kNormal, proj_std});
    specs.push_back({p + "mlp.c_proj.bias", {d}, Init::kZeros});
  }
  specs.push_back({"transformer.ln_f.weight", {d}, Init::kOnes});
  specs.push_back({"transformer.ln_f.bias", {d}, Init::kZeros});
  if (!c.tie_word_embeddings) specs.push_back({kLmHead, {c.vocab_size, d}});
  return specs;
}

Result<std::map<std::string, torch::Tensor>> Gpt2LM::Canonicalize(
    std::map<std::string, torch::Tensor> weights, const ModelConfig& config,
    std::string_view source) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, tensor] : weights) {
    // Causal-mask buffers some HF versions save; graft builds the mask itself.
    if (EndsWith(name, ".attn.bias") || EndsWith(name, ".attn.masked_bias")) continue;
    std::string canonical = name;
    if (name != kLmHead && name.rfind(kPrefix, 0) != 0) canonical = kPrefix + name;
    if (out.count(canonical)) {
      return InvalidInput(std::string(source) + ": tensor \"" + canonical +
                          "\" appears with and without the \"transformer.\" prefix");
    }
    out[canonical] = std::move(tensor);
  }
  auto head = out.find(kLmHead);
  if (config.tie_word_embeddings && head != out.end()) {
    auto wte = out.find(kWte);
    if (wte == out.end() || !head->second.equal(wte->second)) {
      return InvalidInput(std::string(source) + ": tensor \"" + kLmHead + "\" differs from \"" +
                          kWte + "\" but tie_word_embeddings is true");
    }
    out.erase(head);
  }
  return out;
}

bool Gpt2LM::IsConv1DWeight(const std::string& name) {
  for (const char* layer :
       {"attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"}) {
    if (EndsWith(name, layer)) return true;
  }
  return false;
}

Gpt2LM::Gpt2LM(ModelConfig config, std::map<std::string, torch::Tensor> weights)
    : CausalLM(std::move(config), std::move(weights)) {
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string p = Layer(i);
    blocks_.push_back(Block{
        Weight(p + "ln_1.weight"),
        Weight(p + "ln_1.bias"),
        Weight(p + "ln_2.weight"),
        Weight(p + "ln_2.bias"),
        MakeLinear(p + "attn.c_attn", /*conv1d=*/true),
        MakeLinear(p + "attn.c_proj", /*conv1d=*/true),
        MakeLinear(p + "mlp.c_fc", /*conv1d=*/true),
        MakeLinear(p + "mlp.c_proj", /*conv1d=*/true),
    });
  }
  FinishModules();
}

torch::Tensor Gpt2LM::ForwardImpl(const torch::Tensor& input_ids, const torch::Tensor& mask,
                                  const torch::Tensor& positions, KvCache* cache) {
  const int64_t batch = input_ids.size(0);
  const int64_t length = input_ids.size(1);
  const int64_t d = config_.hidden_size;
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.head_dim;
  const double eps = config_.norm_eps;
  const torch::Tensor bias = AttentionBias(mask, length, heads);
  const bool train = training();
  torch::Tensor h =
      Embed(Weight(kWte), input_ids) + Embed(Weight("transformer.wpe.weight"), positions);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block* block = &blocks_[i];
    double scale =
        config_.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(head_dim)) : 1.0;
    if (config_.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(i + 1);
    const bool gelu_tanh = config_.gelu_tanh;
    // By value: a checkpointed block runs again in the backward pass.
    h = RunBlock(h, cache, [=](const torch::Tensor& x) {
      auto split_heads = [&](const torch::Tensor& t) {
        return t.view({batch, length, heads, head_dim}).transpose(1, 2);
      };
      torch::Tensor a = torch::layer_norm(x, {d}, block->ln_1_weight, block->ln_1_bias, eps);
      std::vector<torch::Tensor> qkv = block->c_attn->Forward(a, train).split(d, -1);
      auto [k, v] = UpdateCache(cache, i, split_heads(qkv[1]), split_heads(qkv[2]));
      torch::Tensor attended = CausalAttention(split_heads(qkv[0]), k, v, bias, scale);
      torch::Tensor y = x + block->attn_c_proj->Forward(attended, train);
      torch::Tensor m = torch::layer_norm(y, {d}, block->ln_2_weight, block->ln_2_bias, eps);
      torch::Tensor fc = block->c_fc->Forward(m, train);
      torch::Tensor act = gelu_tanh ? GeluTanh(fc) : torch::gelu(fc);
      return y + block->mlp_c_proj->Forward(act, train);
    });
  }
  return torch::layer_norm(h, {d}, Weight("transformer.ln_f.weight"),
                           Weight("transformer.ln_f.bias"), eps);
}

const torch::Tensor& Gpt2LM::HeadWeight() const {
  return config_.tie_word_embeddings ? Weight(kWte) : Weight(kLmHead);
}

}  // namespace graft::models
