// Test helpers for the trainer: tiny random GPT-2 models and a learnable toy corpus.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "models/causal_lm.h"
#include "trainer/dataset.h"
#include "trainer/train_config.h"

namespace graft::trainer::testing {

// The "tiny" GPT-2 preset with weights drawn from `seed`.
std::unique_ptr<models::CausalLM> TinyModel(uint64_t seed = 1);

// JSONL lines {"text": ...} of a repeated pattern a small model learns in a few dozen steps.
std::string ToyCorpus(int lines, int offset = 0);

Dataset ToyDataset(const models::CausalLM& model, int lines, int offset = 0);

// A LoRA config for fast tests (`extra` YAML lines are appended).
TrainConfig ToyConfig(const std::string& extra = "");

void WriteText(const std::filesystem::path& path, const std::string& text);
std::string ReadText(const std::filesystem::path& path);

}  // namespace graft::trainer::testing
