// Writing a randomly initialised base model (`graft base init`) in Hugging Face's layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/status.h"
#include "models/model_config.h"

namespace graft {

// Writes config.json, model.safetensors (F32) and the byte-level tokenizer.json of a `preset`
// ("tiny", "small") model of `arch`, initialised from `seed`, into `out_dir` (created; it must
// not exist or be empty). Deterministic: the same arguments give byte-identical files.
Result<ModelConfig> WriteRandomBase(Arch arch, std::string_view preset, uint64_t seed,
                                    const std::filesystem::path& out_dir);

}  // namespace graft
