// Inputs found by tests/fuzz/train_config_fuzz (docs/fuzzing.md), kept as regression tests.
#include <gtest/gtest.h>

#include <string>

#include "core/json.h"
#include "trainer/train_config.h"

namespace graft::trainer {
namespace {

// Accepted before, then the provenance could not record the config (canonical JSON is UTF-8).
TEST(TrainConfigFuzzRegression, TargetModulesMustBeUtf8) {
  const std::string regex =
      "lora: {r: 4, target_modules: \".*\\\\.(c_attn|c_\xF4\xF4"
      "fc)$\"}\n";
  Result<TrainConfig> config = ParseTrainConfig(regex, "train.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "train.yaml:1:30: lora.target_modules: not valid UTF-8");

  const std::string names = "lora:\n  r: 4\n  target_modules: [c_attn, \"c_\xC3\"]\n";
  config = ParseTrainConfig(names, "train.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "train.yaml:3:28: lora.target_modules: not valid UTF-8");

  config = ParseTrainConfig("lora: {r: 4, target_modules: [c_attn, \"wörld\"]}\n", "train.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(CanonicalJson(config->ToJson()).ok());
}

}  // namespace
}  // namespace graft::trainer
