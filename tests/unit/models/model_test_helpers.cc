#include "tests/unit/models/model_test_helpers.h"

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <sstream>

namespace graft::testing {

formats::ModelConfig TinyConfig(formats::Arch arch, const std::function<void(Json&)>& edit) {
  auto preset = formats::ModelConfig::Preset(arch, "tiny");
  EXPECT_TRUE(preset.ok()) << preset.status().ToString();
  Json json = preset->hf_json;
  if (edit) edit(json);
  auto config = formats::ModelConfig::FromHfJson(json, "test config");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

void Randomize(models::CausalLM& model, uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, tensor] : model.Parameters()) {
    tensor.copy_(at::normal(0.0, std, tensor.sizes(), generator, torch::kFloat));
  }
}

std::unique_ptr<models::CausalLM> TinyModel(formats::Arch arch, uint64_t seed) {
  auto model = models::CausalLM::CreateRandom(TinyConfig(arch), seed);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  Randomize(**model, seed);
  return std::move(*model);
}

torch::Tensor RandomIds(int64_t batch, int64_t length, int64_t vocab, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randint(vocab, {batch, length}, generator, torch::kLong);
}

torch::Tensor Logits(models::CausalLM& model, const torch::Tensor& ids, const torch::Tensor& mask,
                     models::KvCache* cache) {
  torch::NoGradGuard no_grad;
  auto logits = model.Forward(ids, mask, cache);
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  return logits.ok() ? *logits : torch::Tensor();
}

double RelativeError(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-12);
  return (a - b).abs().max().item<double>() / scale;
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace graft::testing
