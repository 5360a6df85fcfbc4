#include "models/peft_io.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/safetensors.h"
#include "models/causal_lm.h"
#include "tests/unit/models/model_test_helpers.h"

namespace graft::testing {
namespace {

formats::LoraConfig Config(std::vector<std::string> targets, std::string base = "graft/tiny-gpt2") {
  formats::LoraConfig config;
  config.r = 4;
  config.lora_alpha = 16;
  config.lora_dropout = 0.05;
  config.target_modules = formats::TargetModules::Names(std::move(targets));
  config.init_lora_weights = formats::LoraInit::kRandom;
  config.base_model_name_or_path = std::move(base);
  return config;
}

std::vector<std::string> TensorNames(const std::filesystem::path& dir) {
  auto file = SafetensorsFile::Open(dir / kAdapterWeightsFile);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  std::vector<std::string> names;
  for (const TensorView& t : file->tensors()) names.push_back(t.name);
  return names;
}

TEST(PeftIo, Gpt2AdapterHasPeftKeyNamesAndConfig) {
  auto model = TinyModel(formats::Arch::kGpt2);
  ASSERT_TRUE(model->adapters().Add("a", Config({"c_attn"}), 1).ok());
  TempDir dir;
  ASSERT_TRUE(models::SavePeftAdapter(*model, "a", dir.path()).ok());
  EXPECT_EQ(TensorNames(dir.path()),
            (std::vector<std::string>{
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight",
            }));
  auto file = SafetensorsFile::Open(dir.path() / kAdapterWeightsFile);
  EXPECT_EQ(file->Find("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")->shape,
            (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(file->Find("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight")->shape,
            (std::vector<int64_t>{96, 4}));
  EXPECT_EQ(file->Find("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight")->dtype,
            DType::kF32);
  EXPECT_EQ(file->metadata().at("format"), "pt");

  auto json = ParseJson(*ReadFile(dir.path() / kAdapterConfigFile), "adapter_config.json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["peft_type"], "LORA");
  EXPECT_EQ((*json)["task_type"], "CAUSAL_LM");
  EXPECT_EQ((*json)["r"], 4);
  EXPECT_EQ((*json)["lora_alpha"], 16);
  EXPECT_EQ((*json)["lora_dropout"], 0.05);
  EXPECT_EQ((*json)["target_modules"], Json::array({"c_attn"}));
  EXPECT_EQ((*json)["fan_in_fan_out"], true);
  EXPECT_EQ((*json)["bias"], "none");
  EXPECT_EQ((*json)["use_rslora"], false);
  EXPECT_EQ((*json)["init_lora_weights"], false);
  EXPECT_EQ((*json)["base_model_name_or_path"], "graft/tiny-gpt2");
  EXPECT_TRUE((*json)["modules_to_save"].is_null());
  EXPECT_EQ((*json)["use_dora"], false);
}

TEST(PeftIo, LlamaAdapterKeyNames) {
  auto model = TinyModel(formats::Arch::kLlama);
  ASSERT_TRUE(model->adapters().Add("a", Config({"q_proj"}), 1).ok());
  TempDir dir;
  ASSERT_TRUE(models::SavePeftAdapter(*model, "a", dir.path()).ok());
  auto names = TensorNames(dir.path());
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(names[3], "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
}

class PeftBoth : public ::testing::TestWithParam<formats::Arch> {};

TEST_P(PeftBoth, RoundTripIsByteIdenticalAndKeepsLogits) {
  auto model = TinyModel(GetParam());
  formats::LoraConfig config;
  config.r = 3;
  config.lora_alpha = 5.5;
  config.use_rslora = true;
  config.target_modules = formats::TargetModules::AllLinear();
  config.init_lora_weights = formats::LoraInit::kRandom;
  config.other_keys["my_note"] = "kept";
  ASSERT_TRUE(model->adapters().Add("a", config, 3).ok());
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  torch::Tensor ids = RandomIds(1, 6, 257, 3);
  torch::Tensor adapted = Logits(*model, ids);
  TempDir first, second, third;
  ASSERT_TRUE(models::SavePeftAdapter(*model, "a", first.path()).ok());
  ASSERT_TRUE(models::SavePeftAdapter(*model, "a", second.path()).ok());

  auto fresh = TinyModel(GetParam());
  auto loaded = models::LoadPeftAdapter(*fresh, first.path(), "b");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->config.r, 3);
  EXPECT_EQ(loaded->config.lora_alpha, 5.5);
  EXPECT_TRUE(loaded->config.use_rslora);
  EXPECT_EQ(loaded->config.target_modules.kind, formats::TargetModules::Kind::kAllLinear);
  ASSERT_EQ(loaded->warnings.size(), 1u);
  EXPECT_NE(loaded->warnings[0].find("my_note"), std::string::npos);
  EXPECT_EQ(loaded->config.UnknownKeys(), (std::vector<std::string>{"my_note"}));
  ASSERT_TRUE(fresh->adapters().SetActive("b").ok());
  EXPECT_TRUE(Logits(*fresh, ids).equal(adapted));
  ASSERT_TRUE(models::SavePeftAdapter(*fresh, "b", third.path()).ok());
  for (const char* file : {kAdapterConfigFile, kAdapterWeightsFile}) {
    EXPECT_EQ(ReadBytes(second.path() / file), ReadBytes(first.path() / file)) << file;
    EXPECT_EQ(ReadBytes(third.path() / file), ReadBytes(first.path() / file)) << file;
  }
  EXPECT_NE(ReadBytes(first.path() / kAdapterConfigFile).find("\"my_note\": \"kept\""),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Arch, PeftBoth,
                         ::testing::Values(formats::Arch::kGpt2, formats::Arch::kLlama),
                         [](const auto& info) {
                           return std::string(formats::ArchName(info.param));
                         });

TEST(PeftIo, AnAdapterForAnotherArchitectureIsRefusedNamingItsBase) {
  auto llama = TinyModel(formats::Arch::kLlama);
  ASSERT_TRUE(llama->adapters().Add("a", Config({"q_proj", "v_proj"}, "meta-llama/Tiny"), 1).ok());
  TempDir dir;
  ASSERT_TRUE(models::SavePeftAdapter(*llama, "a", dir.path()).ok());
  auto gpt2 = TinyModel(formats::Arch::kGpt2);
  auto loaded = models::LoadPeftAdapter(*gpt2, dir.path(), "a");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().kind(), ErrorKind::kInvalidInput);
  const std::string message = loaded.status().message();
  EXPECT_NE(message.find("does not fit the gpt2 base"), std::string::npos) << message;
  EXPECT_NE(message.find("probably made for 'meta-llama/Tiny'"), std::string::npos) << message;
  EXPECT_NE(message.find("match no module"), std::string::npos) << message;
  EXPECT_FALSE(gpt2->adapters().Has("a"));
}

TEST(PeftIo, WrongShapesAndForeignModulesAreRefused) {
  // Same architecture, wider base: the shapes differ.
  auto wide = models::CausalLM::CreateRandom(
      TinyConfig(formats::Arch::kGpt2, [](Json& j) { j["n_embd"] = 64; }), 1);
  ASSERT_TRUE(wide.ok());
  ASSERT_TRUE((*wide)->adapters().Add("a", Config({"c_attn"}, "graft/wide"), 1).ok());
  TempDir dir;
  ASSERT_TRUE(models::SavePeftAdapter(**wide, "a", dir.path()).ok());
  auto model = TinyModel(formats::Arch::kGpt2);
  auto loaded = models::LoadPeftAdapter(*model, dir.path(), "a");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("shape"), std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("graft/wide"), std::string::npos);
  EXPECT_FALSE(model->adapters().Has("a"));

  // Deeper base: layer 2 has no module here.
  auto deep = models::CausalLM::CreateRandom(
      TinyConfig(formats::Arch::kGpt2, [](Json& j) { j["n_layer"] = 3; }), 1);
  ASSERT_TRUE(deep.ok());
  ASSERT_TRUE((*deep)->adapters().Add("a", Config({"c_attn"}, "graft/deep"), 1).ok());
  TempDir deep_dir;
  ASSERT_TRUE(models::SavePeftAdapter(**deep, "a", deep_dir.path()).ok());
  loaded = models::LoadPeftAdapter(*model, deep_dir.path(), "a");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("transformer.h.2.attn.c_attn"), std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("graft/deep"), std::string::npos);
}

TEST(PeftConfig, ParsesPeftJsonAndRefusesWhatGraftCannotHonour) {
  Json json = {{"peft_type", "LORA"},
               {"task_type", "CAUSAL_LM"},
               {"r", 8},
               {"lora_alpha", 32},
               {"lora_dropout", 0.1},
               {"target_modules", {"v_proj", "q_proj", "q_proj"}},
               {"bias", "none"},
               {"fan_in_fan_out", false},
               {"use_rslora", false},
               {"init_lora_weights", "gaussian"},
               {"base_model_name_or_path", "meta-llama/Llama-2-7b-hf"},
               {"modules_to_save", nullptr},
               {"use_dora", false},
               {"rank_pattern", Json::object()},
               {"revision", nullptr},
               {"layers_pattern", nullptr},
               {"lora_bias", false},
               {"custom", {{"x", 1}}}};
  auto config = formats::LoraConfig::FromPeftJson(json, "adapter_config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->r, 8);
  EXPECT_DOUBLE_EQ(config->Scaling(), 4.0);
  EXPECT_EQ(config->target_modules.names, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(config->init_lora_weights, formats::LoraInit::kGaussian);
  EXPECT_EQ(config->UnknownKeys(), (std::vector<std::string>{"custom"}));
  Json written = config->ToPeftJson();
  EXPECT_EQ(written["custom"], json["custom"]);
  EXPECT_EQ(written["lora_bias"], false);
  EXPECT_EQ(written["init_lora_weights"], "gaussian");
  EXPECT_EQ(written["target_modules"], Json::array({"q_proj", "v_proj"}));

  auto regex = json;
  regex["target_modules"] = R"(.*\.(q|v)_proj)";
  EXPECT_EQ(formats::LoraConfig::FromPeftJson(regex, "c")->target_modules.kind,
            formats::TargetModules::Kind::kRegex);

  for (auto [key, value] :
       std::vector<std::pair<std::string, Json>>{{"use_dora", true},
                                                 {"bias", "all"},
                                                 {"peft_type", "IA3"},
                                                 {"modules_to_save", {"lm_head"}},
                                                 {"rank_pattern", {{"q_proj", 4}}},
                                                 {"layers_to_transform", {0}},
                                                 {"r", 0},
                                                 {"target_modules", "([unclosed"},
                                                 {"init_lora_weights", "pissa"}}) {
    Json bad = json;
    bad[key] = value;
    auto refused = formats::LoraConfig::FromPeftJson(bad, "adapter_config.json");
    ASSERT_FALSE(refused.ok()) << key;
    EXPECT_EQ(refused.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(refused.status().message().find(key == "target_modules" ? "regex" : key),
              std::string::npos)
        << refused.status().message();
  }
}

}  // namespace
}  // namespace graft::testing
