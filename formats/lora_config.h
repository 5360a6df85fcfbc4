// LoraConfig: a LoRA adapter's hyper-parameters, read from and written as PEFT adapter_config.json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace graft::formats {

// Which modules of the base get LoRA layers (PEFT's target_modules).
struct TargetModules {
  enum class Kind {
    kNames,      // a list: a module matches if its name equals an entry or ends with "." + entry
    kRegex,      // a string: a module matches if the regex matches its full name
    kAllLinear,  // "all-linear": every linear / Conv1D layer except the LM head
  };
  Kind kind = Kind::kNames;
  std::vector<std::string> names;  // kNames (kept sorted and unique)
  std::string regex;               // kRegex

  static TargetModules Names(std::vector<std::string> names);
  static TargetModules Regex(std::string regex);
  static TargetModules AllLinear();
  // Whether the module with this full name (e.g. "transformer.h.0.attn.c_attn") is targeted.
  bool Matches(std::string_view module_name) const;
};

// How the LoRA weights start (PEFT's init_lora_weights).
enum class LoraInit {
  kDefault,   // true: A Kaiming-uniform (a = sqrt(5)), B zero, so the adapter starts as a no-op
  kGaussian,  // "gaussian": A normal with std 1/r, B zero
  kRandom,    // false: A and B both Kaiming-uniform (a = sqrt(5)); a non-trivial adapter (tests)
};

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  TargetModules target_modules = TargetModules::Names({"c_attn"});
  // true for GPT-2 Conv1D weights stored [in, out]; AddAdapter sets it as PEFT does.
  bool fan_in_fan_out = false;
  bool use_rslora = false;  // scaling alpha / sqrt(r) instead of alpha / r
  LoraInit init_lora_weights = LoraInit::kDefault;
  std::string base_model_name_or_path;
  // Every key of the adapter_config.json read that graft does not model (PEFT keys at their
  // default values and keys unknown to graft alike), written back unchanged by ToPeftJson.
  Json other_keys = Json::object();

  // alpha / r, or alpha / sqrt(r) with rslora.
  double Scaling() const;
  // r > 0, alpha finite, dropout in [0, 1), a valid regex, non-empty names.
  Status Validate() const;

  // Parses adapter_config.json. Settings graft cannot honour (peft_type other than LORA,
  // use_dora, bias other than "none", rank_pattern, alpha_pattern, layers_to_transform,
  // modules_to_save, ...) are errors naming the key; unknown keys are kept.
  static Result<LoraConfig> FromPeftJson(const Json& json, std::string_view source);
  // adapter_config.json as PEFT writes it (every standard key present), plus other_keys.
  Json ToPeftJson() const;
  // The keys in other_keys that are not PEFT LoraConfig keys, sorted: reported to users.
  std::vector<std::string> UnknownKeys() const;
};

}  // namespace graft::formats
