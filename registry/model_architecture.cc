#include "registry/model_architecture.h"

namespace graft::registry {

namespace {

class ConfigReader {
 public:
  ConfigReader(const Json& config, std::string_view source) : config_(config), source_(source) {}

  Result<int64_t> Positive(std::string_view key) const {
    auto it = config_.find(key);
    if (it == config_.end()) return Bad("missing \"" + std::string(key) + "\"");
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1 << 24)) {
      return Bad("\"" + std::string(key) + "\" must be a positive integer below 2^24");
    }
    return it->get<int64_t>();
  }
  Result<int64_t> PositiveOr(std::string_view key, int64_t fallback) const {
    auto it = config_.find(key);
    if (it == config_.end() || it->is_null()) return fallback;
    return Positive(key);
  }
  bool Flag(std::string_view key, bool fallback) const {
    auto it = config_.find(key);
    return it != config_.end() && it->is_boolean() ? it->get<bool>() : fallback;
  }
  Status Bad(const std::string& why) const {
    return InvalidInput(std::string(source_) + ": " + why);
  }

 private:
  const Json& config_;
  std::string_view source_;
};

Result<ModelArchitecture> Gpt2(const ConfigReader& c) {
  ModelArchitecture a;
  a.model_type = "gpt2";
  GRAFT_ASSIGN_OR_RETURN(int64_t d, c.Positive("n_embd"));
  GRAFT_ASSIGN_OR_RETURN(int64_t layers, c.Positive("n_layer"));
  GRAFT_ASSIGN_OR_RETURN(int64_t vocab, c.Positive("vocab_size"));
  GRAFT_ASSIGN_OR_RETURN(int64_t positions, c.Positive("n_positions"));
  GRAFT_ASSIGN_OR_RETURN(int64_t inner, c.PositiveOr("n_inner", 4 * d));
  GRAFT_ASSIGN_OR_RETURN(int64_t heads, c.Positive("n_head"));
  if (d % heads != 0) return c.Bad("n_embd is not a multiple of n_head");
  // wte + wpe, per block: ln_1, c_attn, attn.c_proj, ln_2, c_fc, mlp.c_proj; ln_f. lm_head is
  // tied to wte.
  int64_t block =
      2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * inner + inner) + (inner * d + d);
  a.parameters = vocab * d + positions * d + layers * block + 2 * d;
  for (int64_t i = 0; i < layers; ++i) {
    std::string p = "transformer.h." + std::to_string(i) + ".";
    a.modules[p + "attn.c_attn"] = {d, 3 * d};
    a.modules[p + "attn.c_proj"] = {d, d};
    a.modules[p + "mlp.c_fc"] = {d, inner};
    a.modules[p + "mlp.c_proj"] = {inner, d};
  }
  return a;
}

Result<ModelArchitecture> Llama(const ConfigReader& c) {
  ModelArchitecture a;
  a.model_type = "llama";
  GRAFT_ASSIGN_OR_RETURN(int64_t h, c.Positive("hidden_size"));
  GRAFT_ASSIGN_OR_RETURN(int64_t inter, c.Positive("intermediate_size"));
  GRAFT_ASSIGN_OR_RETURN(int64_t layers, c.Positive("num_hidden_layers"));
  GRAFT_ASSIGN_OR_RETURN(int64_t heads, c.Positive("num_attention_heads"));
  GRAFT_ASSIGN_OR_RETURN(int64_t kv_heads, c.PositiveOr("num_key_value_heads", heads));
  GRAFT_ASSIGN_OR_RETURN(int64_t vocab, c.Positive("vocab_size"));
  if (h % heads != 0) return c.Bad("hidden_size is not a multiple of num_attention_heads");
  if (heads % kv_heads != 0) {
    return c.Bad("num_attention_heads is not a multiple of num_key_value_heads");
  }
  GRAFT_ASSIGN_OR_RETURN(int64_t head_dim, c.PositiveOr("head_dim", h / heads));
  int64_t q = heads * head_dim;
  int64_t kv = kv_heads * head_dim;
  bool tied = c.Flag("tie_word_embeddings", false);
  // Per layer: q, k, v, o, gate, up, down (no biases) and two RMSNorm weights.
  int64_t layer = h * q + 2 * h * kv + q * h + 3 * h * inter + 2 * h;
  a.parameters = vocab * h + layers * layer + h + (tied ? 0 : vocab * h);
  for (int64_t i = 0; i < layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    a.modules[p + "self_attn.q_proj"] = {h, q};
    a.modules[p + "self_attn.k_proj"] = {h, kv};
    a.modules[p + "self_attn.v_proj"] = {h, kv};
    a.modules[p + "self_attn.o_proj"] = {q, h};
    a.modules[p + "mlp.gate_proj"] = {h, inter};
    a.modules[p + "mlp.up_proj"] = {h, inter};
    a.modules[p + "mlp.down_proj"] = {inter, h};
  }
  return a;
}

}  // namespace

Result<ModelArchitecture> ModelArchitecture::FromConfig(const Json& config,
                                                        std::string_view source) {
  ConfigReader reader(config, source);
  if (!config.is_object()) return reader.Bad("expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string model_type, JsonString(config, "model_type", source));
  if (model_type == "gpt2") return Gpt2(reader);
  if (model_type == "llama") return Llama(reader);
  return reader.Bad("unsupported model_type \"" + model_type + "\" (supported: gpt2, llama)");
}

}  // namespace graft::registry
