// ModelConfig: the architecture hyper-parameters of a base model, read from (and written as) HF
// config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace graft::formats {

// The base model families graft runs.
enum class Arch {
  kGpt2,   // GPT2LMHeadModel
  kLlama,  // LlamaForCausalLM
};

std::string_view ArchName(Arch arch);  // "gpt2", "llama"
Result<Arch> ParseArch(std::string_view name);

struct ModelConfig {
  Arch arch = Arch::kGpt2;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;        // n_embd / hidden_size
  int64_t num_layers = 0;         // n_layer / num_hidden_layers
  int64_t num_heads = 0;          // n_head / num_attention_heads
  int64_t num_kv_heads = 0;       // num_key_value_heads (== num_heads for gpt2)
  int64_t head_dim = 0;           // hidden_size / num_heads unless config.json says otherwise
  int64_t intermediate_size = 0;  // n_inner (null: 4 * n_embd) / intermediate_size
  int64_t max_positions = 0;      // n_positions / max_position_embeddings
  double norm_eps = 1e-5;         // layer_norm_epsilon / rms_norm_eps
  double rope_theta = 10000.0;    // llama only
  bool tie_word_embeddings = true;
  bool attention_bias = true;  // q/k/v/o biases (always true for gpt2)
  bool mlp_bias = false;       // llama mlp biases (gpt2's MLP always has biases)
  bool gelu_tanh = true;  // gpt2: activation_function gelu_new/gelu_pytorch_tanh (else exact gelu)
  bool scale_attn_weights = true;                // gpt2
  bool scale_attn_by_inverse_layer_idx = false;  // gpt2
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;
  // config.json as read (or as graft wrote it for a preset); SaveHf writes it back unchanged, so
  // keys graft does not model survive a load/save round trip.
  Json hf_json;

  // Parses an HF config.json object; `source` names it in errors. Unsupported settings
  // (rope_scaling, another model_type, ...) are errors that name the key.
  static Result<ModelConfig> FromHfJson(const Json& json, std::string_view source);
  // Reads `dir`/config.json.
  static Result<ModelConfig> Load(const std::filesystem::path& dir);
  // A randomly-initialisable configuration, with the config.json HF writes for that class:
  // "tiny" (unit tests) or "small" (benchmarks, demo) of either arch, vocabulary 256 bytes +
  // <|endoftext|>; or a real shape: "gpt2-124m" (GPT-2 small, vocabulary 50257), "llama-1b"
  // (TinyLlama-1.1B: 22 layers, d=2048, 32 heads, 4 kv heads, vocabulary 32000), "llama-7b"
  // (Llama-2-7B). A preset of the other arch is an error.
  static Result<ModelConfig> Preset(Arch arch, std::string_view preset);
  // The arch a real-shape preset implies (nullopt for tiny/small, which exist for both).
  static std::optional<Arch> PresetArch(std::string_view preset);

  // The config.json text: hf_json, keys sorted, indent 2, trailing newline (as HF writes it).
  std::string ToHfJsonText() const;
  // Number of parameters of the model this config describes (tied embeddings counted once).
  int64_t NumParameters() const;
};

}  // namespace graft::formats
