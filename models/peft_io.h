// PEFT adapter directories: adapter_config.json + adapter_model.safetensors, loaded onto a
// CausalLM.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/file_names.h"
#include "core/status.h"
#include "models/lora_config.h"

namespace graft::models {

class CausalLM;

// Writes adapter `name` of `model` as PEFT does: adapter_config.json (keys sorted, indent 2)
// and adapter_model.safetensors (F32, keys
// "base_model.model.<module>.lora_{A,B}.weight", metadata {"format": "pt"}). Deterministic:
// identical weights and config give byte-identical files. Creates `dir` if needed.
Status SavePeftAdapter(const CausalLM& model, const std::string& name,
                       const std::filesystem::path& dir);

struct LoadedAdapter {
  LoraConfig config;
  // Things a user should know: unknown config keys kept, PEFT-style corrections applied.
  std::vector<std::string> warnings;
};

// Reads a PEFT adapter directory and adds it to `model` as adapter `name` (not made active).
// An adapter that fits no module of the base, has tensors the base has no module for, or
// shapes that differ from the base's is an error that says so and names the base it was
// probably made for (base_model_name_or_path). F16/BF16 adapter weights are converted to F32.
Result<LoadedAdapter> LoadPeftAdapter(CausalLM& model, const std::filesystem::path& dir,
                                      const std::string& name);

// Reads and validates adapter_config.json alone (no weights, no model).
Result<LoraConfig> ReadPeftConfig(const std::filesystem::path& dir);

}  // namespace graft::models
