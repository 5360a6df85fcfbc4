// AdapterSpec: a PEFT LoRA directory's adapter_config.json and tensors, checked against a base.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_names.h"
#include "core/json.h"
#include "core/status.h"
#include "formats/lora_config.h"
#include "registry/model_architecture.h"

namespace graft::registry {

struct AdapterSpec {
  std::filesystem::path dir;
  Json config;  // adapter_config.json as written
  // adapter_config.json as graft reads it (formats/lora_config.h, the reader `graft-model` uses).
  formats::LoraConfig lora;

  // Reads and validates the directory layout and adapter_config.json (peft_type LORA, r,
  // lora_alpha, target_modules, ...; unknown keys kept and reported). Errors name the file and
  // field.
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
