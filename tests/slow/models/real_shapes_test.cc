// The forward passes against the plain-tensor references (tests/unit/models/reference_models.h)
// at the real shapes: gpt2-124m (GPT-2 small) and llama-1b (TinyLlama-1.1B, grouped-query
// attention). Slow (about a minute and 5 GB for llama-1b): runs only with GRAFT_SLOW_TESTS=1.
#include <gtest/gtest.h>

#include <cstdlib>

#include "models/causal_lm.h"
#include "tests/unit/models/reference_models.h"

namespace graft::testing {
namespace {

class RealShapes : public ::testing::TestWithParam<const char*> {};

TEST_P(RealShapes, ForwardMatchesTheReference) {
  const char* enabled = std::getenv("GRAFT_SLOW_TESTS");
  if (enabled == nullptr || std::string(enabled) != "1") {
    GTEST_SKIP() << "set GRAFT_SLOW_TESTS=1 to run";
  }
  const std::string preset = GetParam();
  auto config = formats::ModelConfig::Preset(*formats::ModelConfig::PresetArch(preset), preset);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto model = models::CausalLM::CreateRandom(*config, 3);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  torch::manual_seed(4);
  const torch::Tensor ids = torch::randint(config->vocab_size, {1, 6}, torch::kLong);
  const torch::Tensor expected = config->arch == formats::Arch::kGpt2 ? ManualGpt2(**model, ids[0])
                                                                      : NaiveLlama(**model, ids[0]);
  torch::NoGradGuard no_grad;
  auto logits = (*model)->Forward(ids);
  ASSERT_TRUE(logits.ok()) << logits.status().ToString();
  const double error =
      ((*logits)[0] - expected).abs().max().item<double>() / expected.abs().max().item<double>();
  EXPECT_LT(error, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Presets, RealShapes, ::testing::Values("gpt2-124m", "llama-1b"));

}  // namespace
}  // namespace graft::testing
