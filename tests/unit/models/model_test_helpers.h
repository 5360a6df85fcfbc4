// Helpers shared by the models unit tests: tiny models, random inputs, tensor comparisons.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "models/causal_lm.h"

namespace graft::testing {

// A tiny-preset model whose every parameter (norms and biases too) is random, so that a
// forward check exercises all of them. Deterministic for `seed`.
std::unique_ptr<models::CausalLM> TinyModel(formats::Arch arch, uint64_t seed = 1);
// A tiny-preset config with fields changed by `edit` (applied to config.json).
formats::ModelConfig TinyConfig(formats::Arch arch, const std::function<void(Json&)>& edit = {});
// Fills every base parameter with normal(0, std) values from `seed`.
void Randomize(models::CausalLM& model, uint64_t seed, double std = 0.2);
// [batch, length] token ids in [0, vocab) from `seed`.
torch::Tensor RandomIds(int64_t batch, int64_t length, int64_t vocab, uint64_t seed);
// Logits of a forward pass that must succeed.
torch::Tensor Logits(models::CausalLM& model, const torch::Tensor& ids,
                     const torch::Tensor& mask = {}, models::KvCache* cache = nullptr);
// max |a - b| / max(max |b|, 1e-12).
double RelativeError(const torch::Tensor& a, const torch::Tensor& b);
std::string ReadBytes(const std::filesystem::path& path);

}  // namespace graft::testing
