// The README.md model card `graft train` writes into an adapter directory (PEFT/Hugging Face
// convention: YAML metadata between "---" lines, then Markdown). Torch-free.
#pragma once

#include <string>

#include "trainer/provenance.h"

namespace graft::trainer {

// `name` heads the card (the output directory's name); `base_model` is base_model_name_or_path;
// `license` an SPDX id or "other". Every dependency of `provenance` (base, datasets, parent,
// policy) is listed with its digest, with the seed and the config's digest.
std::string RenderModelCard(const std::string& name, const std::string& base_model,
                            const std::string& license, const TrainingProvenance& provenance);

}  // namespace graft::trainer
