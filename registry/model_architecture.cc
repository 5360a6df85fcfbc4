#include "registry/model_architecture.h"

#include "formats/model_config.h"

namespace graft::registry {

Result<ModelArchitecture> ModelArchitecture::FromConfig(const Json& config,
                                                        std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(formats::ModelConfig c, formats::ModelConfig::FromHfJson(config, source));
  ModelArchitecture a;
  a.model_type = std::string(formats::ArchName(c.arch));
  a.parameters = c.NumParameters();
  const int64_t d = c.hidden_size;
  const int64_t inner = c.intermediate_size;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    if (c.arch == formats::Arch::kGpt2) {
      const std::string p = "transformer.h." + std::to_string(i) + ".";
      a.modules[p + "attn.c_attn"] = {d, 3 * d};
      a.modules[p + "attn.c_proj"] = {d, d};
      a.modules[p + "mlp.c_fc"] = {d, inner};
      a.modules[p + "mlp.c_proj"] = {inner, d};
    } else {
      const int64_t q = c.num_heads * c.head_dim;
      const int64_t kv = c.num_kv_heads * c.head_dim;
      const std::string p = "model.layers." + std::to_string(i) + ".";
      a.modules[p + "self_attn.q_proj"] = {d, q};
      a.modules[p + "self_attn.k_proj"] = {d, kv};
      a.modules[p + "self_attn.v_proj"] = {d, kv};
      a.modules[p + "self_attn.o_proj"] = {q, d};
      a.modules[p + "mlp.gate_proj"] = {d, inner};
      a.modules[p + "mlp.up_proj"] = {d, inner};
      a.modules[p + "mlp.down_proj"] = {inner, d};
    }
  }
  return a;
}

}  // namespace graft::registry
