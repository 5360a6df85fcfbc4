#include "formats/model_config.h"

#include <cmath>
#include <optional>

#include "core/file_names.h"
#include "core/file_util.h"

namespace graft::formats {
namespace {

// The vocabulary of graft's byte-level tokenizer: 256 byte tokens + <|endoftext|> (id 256).
constexpr int64_t kByteVocabSize = 257;
constexpr int64_t kEndOfTextId = 256;

Status Unsupported(std::string_view source, std::string_view key, const Json& value) {
  return InvalidInput(std::string(source) + ": unsupported " + std::string(key) + " = " +
                      value.dump());
}

// Reads an integer field (> 0 unless `allow_zero`); a missing field takes `fallback` when given.
Result<int64_t> PositiveInt(const Json& json, std::string_view key, std::string_view source,
                            std::optional<int64_t> fallback = std::nullopt) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) {
    if (fallback) return *fallback;
    return InvalidInput(std::string(source) + ": missing field \"" + std::string(key) + "\"");
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1 << 24)) {
    return InvalidInput(std::string(source) + ": field \"" + std::string(key) +
                        "\" must be a positive integer (at most 2^24), got " + it->dump());
  }
  return it->get<int64_t>();
}

Result<double> Number(const Json& json, std::string_view key, std::string_view source,
                      double fallback) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() <= 0) {
    return InvalidInput(std::string(source) + ": field \"" + std::string(key) +
                        "\" must be a positive number, got " + it->dump());
  }
  return it->get<double>();
}

Result<bool> Bool(const Json& json, std::string_view key, std::string_view source, bool fallback) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    return InvalidInput(std::string(source) + ": field \"" + std::string(key) +
                        "\" must be true or false, got " + it->dump());
  }
  return it->get<bool>();
}

int64_t TokenId(const Json& json, std::string_view key) {
  auto it = json.find(key);
  return it != json.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

Status ParseGpt2(const Json& json, std::string_view source, ModelConfig& c) {
  GRAFT_ASSIGN_OR_RETURN(c.vocab_size, PositiveInt(json, "vocab_size", source));
  GRAFT_ASSIGN_OR_RETURN(c.hidden_size, PositiveInt(json, "n_embd", source));
  GRAFT_ASSIGN_OR_RETURN(c.num_layers, PositiveInt(json, "n_layer", source));
  GRAFT_ASSIGN_OR_RETURN(c.num_heads, PositiveInt(json, "n_head", source));
  GRAFT_ASSIGN_OR_RETURN(c.max_positions, PositiveInt(json, "n_positions", source));
  GRAFT_ASSIGN_OR_RETURN(c.intermediate_size,
                         PositiveInt(json, "n_inner", source, 4 * c.hidden_size));
  GRAFT_ASSIGN_OR_RETURN(c.norm_eps, Number(json, "layer_norm_epsilon", source, 1e-5));
  GRAFT_ASSIGN_OR_RETURN(c.tie_word_embeddings, Bool(json, "tie_word_embeddings", source, true));
  GRAFT_ASSIGN_OR_RETURN(c.scale_attn_weights, Bool(json, "scale_attn_weights", source, true));
  GRAFT_ASSIGN_OR_RETURN(c.scale_attn_by_inverse_layer_idx,
                         Bool(json, "scale_attn_by_inverse_layer_idx", source, false));
  std::string activation = json.value("activation_function", std::string("gelu_new"));
  if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") {
    c.gelu_tanh = true;
  } else if (activation == "gelu") {
    c.gelu_tanh = false;
  } else {
    return Unsupported(source, "activation_function", json["activation_function"]);
  }
  if (c.hidden_size % c.num_heads != 0) {
    return InvalidInput(std::string(source) + ": n_embd " + std::to_string(c.hidden_size) +
                        " is not a multiple of n_head " + std::to_string(c.num_heads));
  }
  c.num_kv_heads = c.num_heads;
  c.head_dim = c.hidden_size / c.num_heads;
  c.attention_bias = true;
  c.mlp_bias = true;
  return Status::Ok();
}

Status ParseLlama(const Json& json, std::string_view source, ModelConfig& c) {
  GRAFT_ASSIGN_OR_RETURN(c.vocab_size, PositiveInt(json, "vocab_size", source));
  GRAFT_ASSIGN_OR_RETURN(c.hidden_size, PositiveInt(json, "hidden_size", source));
  GRAFT_ASSIGN_OR_RETURN(c.num_layers, PositiveInt(json, "num_hidden_layers", source));
  GRAFT_ASSIGN_OR_RETURN(c.num_heads, PositiveInt(json, "num_attention_heads", source));
  GRAFT_ASSIGN_OR_RETURN(c.num_kv_heads,
                         PositiveInt(json, "num_key_value_heads", source, c.num_heads));
  GRAFT_ASSIGN_OR_RETURN(c.intermediate_size, PositiveInt(json, "intermediate_size", source));
  GRAFT_ASSIGN_OR_RETURN(c.max_positions, PositiveInt(json, "max_position_embeddings", source));
  GRAFT_ASSIGN_OR_RETURN(c.norm_eps, Number(json, "rms_norm_eps", source, 1e-6));
  GRAFT_ASSIGN_OR_RETURN(c.rope_theta, Number(json, "rope_theta", source, 10000.0));
  GRAFT_ASSIGN_OR_RETURN(c.tie_word_embeddings, Bool(json, "tie_word_embeddings", source, false));
  GRAFT_ASSIGN_OR_RETURN(c.attention_bias, Bool(json, "attention_bias", source, false));
  GRAFT_ASSIGN_OR_RETURN(c.mlp_bias, Bool(json, "mlp_bias", source, false));
  if (c.num_heads % c.num_kv_heads != 0) {
    return InvalidInput(std::string(source) + ": num_attention_heads " +
                        std::to_string(c.num_heads) + " is not a multiple of num_key_value_heads " +
                        std::to_string(c.num_kv_heads));
  }
  if (!json.contains("head_dim") && c.hidden_size % c.num_heads != 0) {
    return InvalidInput(std::string(source) + ": hidden_size " + std::to_string(c.hidden_size) +
                        " is not a multiple of num_attention_heads " + std::to_string(c.num_heads));
  }
  GRAFT_ASSIGN_OR_RETURN(c.head_dim,
                         PositiveInt(json, "head_dim", source, c.hidden_size / c.num_heads));
  if (c.head_dim % 2 != 0) {
    return InvalidInput(std::string(source) + ": head_dim " + std::to_string(c.head_dim) +
                        " must be even for RoPE");
  }
  std::string activation = json.value("hidden_act", std::string("silu"));
  if (activation != "silu") return Unsupported(source, "hidden_act", json["hidden_act"]);
  if (auto it = json.find("rope_scaling"); it != json.end() && !it->is_null()) {
    return Unsupported(source, "rope_scaling", *it);
  }
  if (auto it = json.find("pretraining_tp"); it != json.end() && *it != 1) {
    return Unsupported(source, "pretraining_tp", *it);
  }
  return Status::Ok();
}

Json Gpt2PresetJson(int64_t layers, int64_t d, int64_t heads, int64_t ctx,
                    int64_t vocab = kByteVocabSize) {
  return Json{
      {"activation_function", "gelu_new"},
      {"architectures", Json::array({"GPT2LMHeadModel"})},
      {"attn_pdrop", 0.1},
      {"bos_token_id", kEndOfTextId},
      {"embd_pdrop", 0.1},
      {"eos_token_id", kEndOfTextId},
      {"initializer_range", 0.02},
      {"layer_norm_epsilon", 1e-05},
      {"model_type", "gpt2"},
      {"n_ctx", ctx},
      {"n_embd", d},
      {"n_head", heads},
      {"n_inner", nullptr},
      {"n_layer", layers},
      {"n_positions", ctx},
      {"reorder_and_upcast_attn", false},
      {"resid_pdrop", 0.1},
      {"scale_attn_by_inverse_layer_idx", false},
      {"scale_attn_weights", true},
      {"summary_activation", nullptr},
      {"summary_first_dropout", 0.1},
      {"summary_proj_to_labels", true},
      {"summary_type", "cls_index"},
      {"summary_use_proj", true},
      {"torch_dtype", "float32"},
      {"transformers_version", "4.40.0"},
      {"use_cache", true},
      {"vocab_size", vocab},
  };
}

Json LlamaPresetJson(int64_t layers, int64_t d, int64_t heads, int64_t kv_heads,
                     int64_t intermediate, int64_t ctx, int64_t vocab = kByteVocabSize,
                     double eps = 1e-06) {
  return Json{
      {"architectures", Json::array({"LlamaForCausalLM"})},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", kEndOfTextId},
      {"eos_token_id", kEndOfTextId},
      {"hidden_act", "silu"},
      {"hidden_size", d},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate},
      {"max_position_embeddings", ctx},
      {"mlp_bias", false},
      {"model_type", "llama"},
      {"num_attention_heads", heads},
      {"num_hidden_layers", layers},
      {"num_key_value_heads", kv_heads},
      {"pretraining_tp", 1},
      {"rms_norm_eps", eps},
      {"rope_scaling", nullptr},
      {"rope_theta", 10000.0},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float32"},
      {"transformers_version", "4.40.0"},
      {"use_cache", true},
      {"vocab_size", vocab},
  };
}

}  // namespace

std::string_view ArchName(Arch arch) { return arch == Arch::kGpt2 ? "gpt2" : "llama"; }

Result<Arch> ParseArch(std::string_view name) {
  if (name == "gpt2") return Arch::kGpt2;
  if (name == "llama") return Arch::kLlama;
  return InvalidInput("unknown architecture '" + std::string(name) + "' (expected gpt2 or llama)");
}

Result<ModelConfig> ModelConfig::FromHfJson(const Json& json, std::string_view source) {
  if (!json.is_object()) return InvalidInput(std::string(source) + ": expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string model_type, JsonString(json, "model_type", source));
  ModelConfig c;
  auto arch = ParseArch(model_type);
  if (!arch.ok()) {
    return InvalidInput(std::string(source) + ": unsupported model_type \"" + model_type +
                        "\" (graft runs gpt2 and llama)");
  }
  c.arch = *arch;
  GRAFT_RETURN_IF_ERROR(c.arch == Arch::kGpt2 ? ParseGpt2(json, source, c)
                                              : ParseLlama(json, source, c));
  c.bos_token_id = TokenId(json, "bos_token_id");
  c.eos_token_id = TokenId(json, "eos_token_id");
  c.hf_json = json;
  return c;
}

Result<ModelConfig> ModelConfig::Load(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / kHfConfigFile;
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 16 << 20));
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, path.string()));
  return FromHfJson(json, path.string());
}

std::optional<Arch> ModelConfig::PresetArch(std::string_view preset) {
  if (preset == "gpt2-124m") return Arch::kGpt2;
  if (preset == "llama-1b" || preset == "llama-7b") return Arch::kLlama;
  return std::nullopt;
}

Result<ModelConfig> ModelConfig::Preset(Arch arch, std::string_view preset) {
  Json json;
  if (auto implied = PresetArch(preset); implied && *implied != arch) {
    return InvalidInput("preset '" + std::string(preset) + "' is a " +
                        std::string(ArchName(*implied)) + " model, not " +
                        std::string(ArchName(arch)));
  }
  if (preset == "tiny") {
    json =
        arch == Arch::kGpt2 ? Gpt2PresetJson(2, 32, 2, 64) : LlamaPresetJson(2, 32, 4, 2, 64, 64);
  } else if (preset == "small") {
    json = arch == Arch::kGpt2 ? Gpt2PresetJson(4, 256, 4, 256)
                               : LlamaPresetJson(4, 256, 4, 2, 688, 256);
  } else if (preset == "gpt2-124m") {  // GPT-2 small
    json = Gpt2PresetJson(12, 768, 12, 1024, 50257);
  } else if (preset == "llama-1b") {  // TinyLlama-1.1B
    json = LlamaPresetJson(22, 2048, 32, 4, 5632, 2048, 32000, 1e-05);
  } else if (preset == "llama-7b") {  // Llama-2-7B
    json = LlamaPresetJson(32, 4096, 32, 32, 11008, 4096, 32000, 1e-05);
  } else {
    return InvalidInput("unknown preset '" + std::string(preset) +
                        "' (expected tiny, small, gpt2-124m, llama-1b or llama-7b)");
  }
  return FromHfJson(json, "preset " + std::string(preset));
}

std::string ModelConfig::ToHfJsonText() const { return hf_json.dump(2) + "\n"; }

int64_t ModelConfig::NumParameters() const {
  const int64_t d = hidden_size;
  const int64_t q = num_heads * head_dim;
  const int64_t kv = num_kv_heads * head_dim;
  int64_t total = vocab_size * d;  // token embedding
  if (!tie_word_embeddings) total += vocab_size * d;
  if (arch == Arch::kGpt2) {
    total += max_positions * d + 2 * d;                                // wpe, ln_f
    const int64_t block = 4 * d                                        // ln_1, ln_2
                          + d * 3 * d + 3 * d                          // c_attn
                          + d * d + d                                  // attn.c_proj
                          + d * intermediate_size + intermediate_size  // c_fc
                          + intermediate_size * d + d;                 // mlp.c_proj
    return total + num_layers * block;
  }
  total += d;  // model.norm
  int64_t block = 2 * d + d * q + 2 * d * kv + q * d + 3 * d * intermediate_size;
  if (attention_bias) block += q + 2 * kv + d;
  if (mlp_bias) block += 2 * intermediate_size + d;
  return total + num_layers * block;
}

}  // namespace graft::formats
