#include "trainer/train_config.h"

#include <gtest/gtest.h>

namespace graft::trainer {
namespace {

TEST(TrainConfig, ParsesEveryKeyOfTheDesignExample) {
  auto config = ParseTrainConfig(R"(
lora: {r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: [c_attn], use_rslora: false}
optimizer: {lr: 2.0e-4, betas: [0.9, 0.999], weight_decay: 0.0, eps: 1.0e-6}
schedule: {warmup_steps: 10, kind: linear}
batch_size: 4
grad_accum: 2
max_seq_len: 128
packing: false
max_steps: 500
grad_clip: 0.5
eval_every: 50
checkpoint_every: 100
seed: 7
threads: 2
)",
                                 "train.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->lora.has_value());
  EXPECT_EQ(config->lora->r, 8);
  EXPECT_DOUBLE_EQ(config->lora->lora_alpha, 16);
  EXPECT_DOUBLE_EQ(config->lora->lora_dropout, 0.05);
  EXPECT_EQ(config->lora->target_modules.kind, formats::TargetModules::Kind::kNames);
  EXPECT_EQ(config->lora->target_modules.names, std::vector<std::string>{"c_attn"});
  EXPECT_DOUBLE_EQ(config->optimizer.lr, 2e-4);
  EXPECT_DOUBLE_EQ(config->optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(config->optimizer.eps, 1e-6);
  EXPECT_EQ(config->schedule.warmup_steps, 10);
  EXPECT_EQ(config->schedule.kind, ScheduleKind::kLinear);
  EXPECT_EQ(config->batch_size, 4);
  EXPECT_EQ(config->grad_accum, 2);
  EXPECT_EQ(config->max_seq_len, 128);
  EXPECT_FALSE(config->packing);
  EXPECT_EQ(config->max_steps, 500);
  EXPECT_FALSE(config->epochs.has_value());
  EXPECT_DOUBLE_EQ(config->grad_clip, 0.5);
  EXPECT_EQ(config->eval_every, 50);
  EXPECT_EQ(config->checkpoint_every, 100);
  EXPECT_EQ(config->seed, 7u);
  EXPECT_EQ(config->threads, 2);
  EXPECT_TRUE(config->CheckMode(false, "train.yaml").ok());
}

TEST(TrainConfig, DefaultsAndTargetModuleSpellings) {
  auto empty = ParseTrainConfig("", "t.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->epochs, 1);
  EXPECT_FALSE(empty->lora.has_value());
  EXPECT_EQ(empty->schedule.kind, ScheduleKind::kCosine);
  Status mode = empty->CheckMode(false, "t.yaml");
  EXPECT_EQ(mode.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(mode.message().find("t.yaml: missing key 'lora'"), std::string::npos);
  EXPECT_TRUE(empty->CheckMode(true, "t.yaml").ok());

  auto all = ParseTrainConfig("lora: {target_modules: all-linear}", "t.yaml");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->lora->target_modules.kind, formats::TargetModules::Kind::kAllLinear);

  auto regex = ParseTrainConfig("lora: {target_modules: '.*\\.(q|v)_proj'}", "t.yaml");
  ASSERT_TRUE(regex.ok());
  EXPECT_EQ(regex->lora->target_modules.kind, formats::TargetModules::Kind::kRegex);
  EXPECT_EQ(regex->lora->target_modules.regex, ".*\\.(q|v)_proj");
}

TEST(TrainConfig, ToJsonRecordsEffectiveValues) {
  auto config =
      ParseTrainConfig("lora: {r: 4, target_modules: [c_attn, c_proj]}\nmax_steps: 3", "t.yaml");
  ASSERT_TRUE(config.ok());
  Json json = config->ToJson();
  EXPECT_EQ(json["lora"]["r"], 4);
  EXPECT_EQ(json["max_steps"], 3);
  EXPECT_FALSE(json.contains("epochs"));
  EXPECT_EQ(json["optimizer"]["betas"], Json({0.9, 0.999}));
  EXPECT_EQ(json["schedule"]["kind"], "cosine");
  EXPECT_EQ(json["seed"], 1234);
}

struct BadConfig {
  const char* yaml;
  const char* message;  // expected substring
};

class TrainConfigRejects : public ::testing::TestWithParam<BadConfig> {};

TEST_P(TrainConfigRejects, NamingFileLineAndKey) {
  auto config = ParseTrainConfig(GetParam().yaml, "bad.yaml");
  ASSERT_FALSE(config.ok()) << GetParam().yaml;
  EXPECT_EQ(config.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(config.status().message().find(GetParam().message), std::string::npos)
      << config.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TrainConfigRejects,
    ::testing::Values(
        BadConfig{"lora: {r: 8}\nlearning_rate: 1", "bad.yaml:2:1: unknown key \"learning_rate\""},
        BadConfig{"lora: {r: 8, alpha: 3}", "bad.yaml:1:14: lora: unknown key \"alpha\""},
        BadConfig{"lora: {r: eight}", "bad.yaml:1:11: lora.r: expected an integer, got \"eight\""},
        BadConfig{"lora: {r: 0}", "bad.yaml:1:11: lora.r: must be >= 1, got 0"},
        BadConfig{"lora: {r: \"8\"}", "lora.r: expected an integer"},
        BadConfig{"lora: {r: 1.5}", "lora.r: expected an integer"},
        BadConfig{"lora: {lora_dropout: 1.0}", "lora.lora_dropout: expected a number in [0, 1)"},
        BadConfig{"lora: {target_modules: []}", "lora.target_modules: the list is empty"},
        BadConfig{"lora: {target_modules: '(unclosed'}", "lora.target_modules: invalid regex"},
        BadConfig{"lora: {target_modules: {a: 1}}", "lora.target_modules: expected a list"},
        BadConfig{"lora: {init_lora_weights: pissa}", "lora.init_lora_weights: expected true"},
        BadConfig{"lora: {use_rslora: maybe}",
                  "lora.use_rslora: expected true or false, got \"maybe\""},
        BadConfig{"optimizer: {betas: [0.9]}", "optimizer.betas: expected a list of two"},
        BadConfig{"optimizer: {betas: [0.9, 1.0]}", "optimizer.betas[1]: expected a number"},
        BadConfig{"optimizer: {lr: -1}", "optimizer.lr: expected a number"},
        BadConfig{"optimizer: {lr: .nan}", "optimizer.lr: expected a finite number, got \".nan\""},
        BadConfig{"schedule: {kind: step}", "schedule.kind: expected cosine, linear or constant"},
        BadConfig{"schedule: 3", "bad.yaml:1:11: schedule: expected a mapping"},
        BadConfig{"max_steps: 5\nepochs: 2", "bad.yaml:2:9: max_steps and epochs: give one"},
        BadConfig{"batch_size: 4\nbatch_size: 8", "bad.yaml:2:1: duplicate key \"batch_size\""},
        BadConfig{"max_seq_len: 1", "bad.yaml:1:14: max_seq_len: must be >= 2, got 1"},
        BadConfig{"packing: 1", "packing: expected true or false"},
        BadConfig{"threads: 0", "threads: must be >= 1, got 0"},
        BadConfig{"- a\n- b", "bad.yaml:1:1: expected a mapping"},
        BadConfig{"lora: {r: [}", "bad.yaml:1:12: not valid YAML"}));

}  // namespace
}  // namespace graft::trainer
