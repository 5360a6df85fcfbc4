// ModelArchitecture: what a base's config.json implies (type, parameter count, LoRA-targetable
// modules).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace graft::registry {

struct LinearShape {
  int64_t in = 0;
  int64_t out = 0;
};

struct ModelArchitecture {
  std::string model_type;  // "gpt2", "llama"
  int64_t parameters = 0;
  // Module path as PEFT names it after "base_model.model." (e.g.
  // "transformer.h.0.attn.c_attn", "model.layers.0.self_attn.q_proj") -> its shape.
  std::map<std::string, LinearShape> modules;

  // Reads a Hugging Face config.json with graft's one reader (formats/model_config.h), so a base
  // the registry accepts is one graft can run; `source` names the file in errors.
  static Result<ModelArchitecture> FromConfig(const Json& config, std::string_view source);
};

}  // namespace graft::registry
