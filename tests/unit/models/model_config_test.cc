#include "models/model_config.h"

#include <gtest/gtest.h>

namespace graft {
namespace {

TEST(ModelConfig, PresetsWriteTheConfigHfWritesForTheClass) {
  auto gpt2 = formats::ModelConfig::Preset(formats::Arch::kGpt2, "tiny");
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ(gpt2->hf_json["architectures"], Json::array({"GPT2LMHeadModel"}));
  EXPECT_EQ(gpt2->hf_json["model_type"], "gpt2");
  EXPECT_EQ(gpt2->hf_json["activation_function"], "gelu_new");
  EXPECT_EQ(gpt2->hf_json["vocab_size"], 257);
  EXPECT_TRUE(gpt2->hf_json["n_inner"].is_null());
  EXPECT_EQ(gpt2->intermediate_size, 128);
  EXPECT_EQ(gpt2->head_dim, 16);
  EXPECT_EQ(gpt2->eos_token_id, 256);
  EXPECT_EQ(gpt2->NumParameters(), 35744);
  const std::string text = gpt2->ToHfJsonText();
  EXPECT_EQ(text.substr(0, 33), "{\n  \"activation_function\": \"gelu_");
  EXPECT_NE(text.find("\"layer_norm_epsilon\": 1e-05"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');

  auto llama = formats::ModelConfig::Preset(formats::Arch::kLlama, "small");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(llama->hf_json["architectures"], Json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(llama->num_kv_heads, 2);
  EXPECT_EQ(llama->head_dim, 64);
  EXPECT_FALSE(llama->tie_word_embeddings);
  EXPECT_GT(llama->NumParameters(), 2'000'000);
  EXPECT_LT(llama->NumParameters(), 5'000'000);
  auto small_gpt2 = formats::ModelConfig::Preset(formats::Arch::kGpt2, "small");
  EXPECT_GT(small_gpt2->NumParameters(), 2'000'000);
  EXPECT_LT(small_gpt2->NumParameters(), 5'000'000);
  EXPECT_FALSE(formats::ModelConfig::Preset(formats::Arch::kGpt2, "huge").ok());
}

TEST(ModelConfig, ReadsHfKeysAndRefusesUnsupportedSettingsNamingThem) {
  Json llama = formats::ModelConfig::Preset(formats::Arch::kLlama, "tiny")->hf_json;
  llama["head_dim"] = 4;
  llama.erase("num_key_value_heads");
  auto parsed = formats::ModelConfig::FromHfJson(llama, "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->head_dim, 4);
  EXPECT_EQ(parsed->num_kv_heads, parsed->num_heads);
  for (auto [key, value] : std::vector<std::pair<std::string, Json>>{
           {"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}},
           {"hidden_act", "gelu"},
           {"model_type", "mistral"},
           {"num_key_value_heads", 3},
           {"hidden_size", -4},
           {"rms_norm_eps", "small"}}) {
    Json bad = formats::ModelConfig::Preset(formats::Arch::kLlama, "tiny")->hf_json;
    bad[key] = value;
    auto refused = formats::ModelConfig::FromHfJson(bad, "config.json");
    ASSERT_FALSE(refused.ok()) << key;
    EXPECT_NE(refused.status().message().find(key), std::string::npos)
        << refused.status().message();
  }
  Json gpt2 = formats::ModelConfig::Preset(formats::Arch::kGpt2, "tiny")->hf_json;
  gpt2["activation_function"] = "relu";
  EXPECT_FALSE(formats::ModelConfig::FromHfJson(gpt2, "config.json").ok());
  EXPECT_FALSE(formats::ParseArch("bert").ok());
}

}  // namespace
}  // namespace graft
