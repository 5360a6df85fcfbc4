// AdapterSpec: a PEFT LoRA directory's adapter_config.json and tensors, checked against a base.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "registry/model_architecture.h"

namespace graft::registry {

// Files an adapter directory may hold; any other file is refused.
inline constexpr std::string_view kAdapterConfigFile = "adapter_config.json";
inline constexpr std::string_view kAdapterWeightsFile = "adapter_model.safetensors";
inline constexpr std::string_view kAdapterSignatureFile = "model.sig";
inline constexpr std::string_view kAdapterProvenanceFile = "provenance.intoto.jsonl";
inline constexpr std::string_view kAdapterReadmeFile = "README.md";

struct AdapterSpec {
  std::filesystem::path dir;
  Json config;  // adapter_config.json as written
  int64_t r = 0;
  double lora_alpha = 0;
  std::string base_model_name_or_path;
  std::vector<std::string> unknown_config_keys;  // kept and reported, never dropped

  // Reads and validates the directory layout and adapter_config.json (peft_type LORA, r,
  // lora_alpha, target_modules, ...). Errors name the file and field.
  static Result<AdapterSpec> Read(const std::filesystem::path& dir);

  struct Fit {
    int64_t modules = 0;     // LoRA-adapted modules
    int64_t parameters = 0;  // LoRA parameters
  };
  // Checks every tensor of adapter_model.safetensors against `base`: keys name modules the
  // base has and target_modules selects, lora_A is [r, in], lora_B is [out, r], every module has
  // both. `base_label` names the base in errors.
  Result<Fit> CheckAgainst(const ModelArchitecture& base, std::string_view base_label) const;

  // The summary stored in the registry (config plus the derived values).
  Json Summary(const Fit& fit) const;
};

}  // namespace graft::registry
