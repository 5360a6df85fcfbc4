#include <gtest/gtest.h>

#include <cmath>

#include "core/file_util.h"
#include "models/causal_lm.h"
#include "models/lora_adapter_set.h"
#include "models/lora_linear.h"
#include "tests/unit/models/model_test_helpers.h"

namespace graft::testing {
namespace {

formats::LoraConfig Config(formats::TargetModules targets, int64_t r = 4, double alpha = 8,
                           formats::LoraInit init = formats::LoraInit::kRandom) {
  formats::LoraConfig config;
  config.r = r;
  config.lora_alpha = alpha;
  config.target_modules = std::move(targets);
  config.init_lora_weights = init;
  return config;
}

TEST(LoraLinear, ForwardIsBaseOutputPlusScaledBAxForLinearAndConv1D) {
  torch::manual_seed(3);
  const int64_t in = 6, out = 5, r = 2;
  torch::Tensor x = torch::randn({3, in});
  torch::Tensor a = torch::randn({r, in});
  torch::Tensor b = torch::randn({out, r});
  torch::Tensor bias = torch::randn({out});
  for (bool conv1d : {false, true}) {
    torch::Tensor w = conv1d ? torch::randn({in, out}) : torch::randn({out, in});
    models::LoraLinear layer("layer", w, bias, conv1d);
    EXPECT_EQ(layer.in_features(), in);
    EXPECT_EQ(layer.out_features(), out);
    ASSERT_TRUE(layer.AddAdapter("x", models::LoraWeights{a, b, 0.75, 0.0}).ok());
    // W x + b, written out for each layout: Linear stores W [out, in], Conv1D W^T [in, out].
    torch::Tensor base = (conv1d ? x.mm(w) : x.mm(w.t())) + bias;
    EXPECT_LT(RelativeError(layer.Forward(x, false), base), 1e-6);
    layer.SetActive("x");
    torch::Tensor expected = base + 0.75 * (b.mm(a.mm(x.t()))).t();  // + s B A x per column
    EXPECT_LT(RelativeError(layer.Forward(x, false), expected), 1e-6) << "conv1d " << conv1d;
    // Merge folds s B A into W (transposed for Conv1D); Unmerge restores W exactly.
    torch::Tensor before = w.clone();
    ASSERT_TRUE(layer.Merge("x").ok());
    EXPECT_LT(RelativeError(w, before + 0.75 * (conv1d ? b.mm(a).t() : b.mm(a))), 1e-6);
    EXPECT_LT(RelativeError(layer.Forward(x, false), expected), 1e-5);
    layer.Unmerge();
    EXPECT_TRUE(w.equal(before));
  }
}

TEST(LoraLinear, RejectsWeightsOfTheWrongShape) {
  models::LoraLinear layer("transformer.h.0.attn.c_attn", torch::zeros({4, 12}), {},
                           /*conv1d=*/true);
  Status status =
      layer.AddAdapter("x", models::LoraWeights{torch::zeros({2, 12}), torch::zeros({12, 2})});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("transformer.h.0.attn.c_attn (in 4, out 12)"), std::string::npos)
      << status.message();
}

TEST(LoraConfig, ScalingIsAlphaOverROrOverSqrtRWithRslora) {
  formats::LoraConfig config = Config(formats::TargetModules::AllLinear(), 16, 8);
  EXPECT_DOUBLE_EQ(config.Scaling(), 0.5);
  config.use_rslora = true;
  EXPECT_DOUBLE_EQ(config.Scaling(), 2.0);
}

TEST(LoraConfig, TargetModulesMatchLikePeft) {
  auto names = formats::TargetModules::Names({"c_attn", "attn.c_proj"});
  EXPECT_TRUE(names.Matches("transformer.h.0.attn.c_attn"));
  EXPECT_TRUE(names.Matches("transformer.h.3.attn.c_proj"));
  EXPECT_FALSE(names.Matches("transformer.h.3.mlp.c_proj"));
  EXPECT_FALSE(names.Matches("transformer.h.0.attn.xc_attn"));
  EXPECT_TRUE(names.Matches("c_attn"));
  auto regex = formats::TargetModules::Regex(R"(.*\.0\.attn\.c_attn)");
  EXPECT_TRUE(regex.Matches("transformer.h.0.attn.c_attn"));
  EXPECT_FALSE(regex.Matches("transformer.h.10.attn.c_attn"));
  EXPECT_FALSE(
      formats::TargetModules::Regex("c_attn").Matches("transformer.h.0.attn.c_attn"));  // full
}

// Adds adapter `name` on `model` and counts the layers it went to.
size_t AdaptedLayers(models::CausalLM& model, const std::string& name, formats::LoraConfig config) {
  auto added = model.adapters().Add(name, std::move(config), 1);
  EXPECT_TRUE(added.ok()) << added.status().ToString();
  return model.adapters().Parameters(name)->size() / 2;
}

TEST(LoraAdapterSet, TargetsListsRegexesAndAllLinear) {
  auto gpt2 = TinyModel(formats::Arch::kGpt2);
  EXPECT_EQ(AdaptedLayers(*gpt2, "attn", Config(formats::TargetModules::Names({"c_attn"}))), 2u);
  EXPECT_EQ(AdaptedLayers(*gpt2, "proj", Config(formats::TargetModules::Names({"c_proj"}))), 4u);
  EXPECT_EQ(AdaptedLayers(*gpt2, "one", Config(formats::TargetModules::Regex(R"(.*\.1\.mlp\..*)"))),
            2u);
  EXPECT_EQ(AdaptedLayers(*gpt2, "all", Config(formats::TargetModules::AllLinear())), 8u);
  auto params = gpt2->adapters().Parameters("attn");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ((*params)[0].first, "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
  EXPECT_EQ((*params)[0].second.sizes(), (std::vector<int64_t>{4, 32}));  // [r, in]
  EXPECT_EQ((*params)[1].first, "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight");
  EXPECT_EQ((*params)[1].second.sizes(), (std::vector<int64_t>{96, 4}));  // [out, r]

  auto llama = TinyModel(formats::Arch::kLlama);
  EXPECT_EQ(
      AdaptedLayers(*llama, "qv", Config(formats::TargetModules::Names({"q_proj", "v_proj"}))), 4u);
  EXPECT_EQ(AdaptedLayers(*llama, "all", Config(formats::TargetModules::AllLinear())), 14u);
  params = llama->adapters().Parameters("qv");
  EXPECT_EQ((*params)[2].first, "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight");
  EXPECT_EQ((*params)[3].second.sizes(), (std::vector<int64_t>{16, 4}));  // v_proj: kv width

  auto none = llama->adapters().Add("none", Config(formats::TargetModules::Names({"c_attn"})), 1);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("llama base"), std::string::npos);
  EXPECT_NE(none.status().message().find("q_proj"), std::string::npos);
}

TEST(LoraAdapterSet, FanInFanOutFollowsTheLayerTypeAsInPeft) {
  auto gpt2 = TinyModel(formats::Arch::kGpt2);
  auto added = gpt2->adapters().Add("a", Config(formats::TargetModules::Names({"c_attn"})), 1);
  EXPECT_TRUE(added->fan_in_fan_out);
  auto llama = TinyModel(formats::Arch::kLlama);
  formats::LoraConfig config = Config(formats::TargetModules::Names({"q_proj"}));
  config.fan_in_fan_out = true;
  added = llama->adapters().Add("a", config, 1);
  EXPECT_FALSE(added->fan_in_fan_out);
}

TEST(LoraAdapterSet, DefaultInitIsKaimingUniformAWithZeroBSoTheModelIsUnchanged) {
  auto model = TinyModel(formats::Arch::kLlama);
  torch::Tensor ids = RandomIds(1, 6, 257, 2);
  torch::Tensor base = Logits(*model, ids);
  ASSERT_TRUE(model->adapters()
                  .Add("a",
                       Config(formats::TargetModules::Names({"up_proj"}), 8, 16,
                              formats::LoraInit::kDefault),
                       9)
                  .ok());
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  EXPECT_TRUE(Logits(*model, ids).equal(base));
  auto params = *model->adapters().Parameters("a");
  torch::Tensor a = params[0].second;  // up_proj in = 32: bound 1/sqrt(32)
  EXPECT_LE(a.abs().max().item<double>(), 1 / std::sqrt(32.0));
  EXPECT_GT(a.abs().max().item<double>(), 0.8 / std::sqrt(32.0));
  EXPECT_EQ(params[1].second.count_nonzero().item<int64_t>(), 0);

  ASSERT_TRUE(
      model->adapters()
          .Add("g", Config(formats::TargetModules::AllLinear(), 4, 8, formats::LoraInit::kGaussian),
               9)
          .ok());
  torch::Tensor all_a = torch::cat([&] {
    std::vector<torch::Tensor> as;
    models::NamedTensors params = *model->adapters().Parameters("g");
    for (const auto& [name, t] : params) {
      if (name.find("lora_A") != std::string::npos)
        as.push_back(t.flatten());
      else
        EXPECT_EQ(t.count_nonzero().item<int64_t>(), 0) << name;
    }
    return as;
  }());
  EXPECT_NEAR(all_a.std().item<double>(), 0.25, 0.02);  // std 1/r
  // The same seed gives the same weights.
  auto again = TinyModel(formats::Arch::kLlama);
  ASSERT_TRUE(
      again->adapters()
          .Add("g", Config(formats::TargetModules::AllLinear(), 4, 8, formats::LoraInit::kGaussian),
               9)
          .ok());
  auto p1 = *model->adapters().Parameters("g"), p2 = *again->adapters().Parameters("g");
  for (size_t i = 0; i < p1.size(); ++i) EXPECT_TRUE(p1[i].second.equal(p2[i].second));
}

class LoraBoth : public ::testing::TestWithParam<formats::Arch> {};

// The adapter's logits equal those of a base whose weights carry W + s (B A) written by hand.
TEST_P(LoraBoth, AdapterLogitsEqualABaseWithTheDeltaAddedByHand) {
  for (bool rslora : {false, true}) {
    auto model = TinyModel(GetParam());
    formats::LoraConfig config = Config(formats::TargetModules::AllLinear(), 4, 6);
    config.use_rslora = rslora;
    ASSERT_TRUE(model->adapters().Add("a", config, 5).ok());
    ASSERT_TRUE(model->adapters().SetActive("a").ok());
    torch::Tensor ids = RandomIds(2, 6, 257, 4);
    torch::Tensor adapted = Logits(*model, ids);
    const double scaling = rslora ? 6 / 2.0 : 6 / 4.0;

    auto reference = TinyModel(GetParam());
    std::map<std::string, torch::Tensor> base;
    for (auto& [name, t] : reference->Parameters()) base[name] = t;
    auto lora = *model->adapters().Parameters("a");
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < lora.size(); i += 2) {
      const std::string& key = lora[i].first;  // base_model.model.<module>.lora_A.weight
      const std::string module = key.substr(17, key.size() - 17 - 14);
      torch::Tensor delta = scaling * lora[i + 1].second.mm(lora[i].second);  // [out, in]
      torch::Tensor& w = base.at(module + ".weight");
      w.add_(GetParam() == formats::Arch::kGpt2 ? delta.t() : delta);  // Conv1D stores [in, out]
    }
    EXPECT_LT(RelativeError(adapted, Logits(*reference, ids)), 1e-5) << "rslora " << rslora;
    EXPECT_GT(RelativeError(adapted, Logits(*TinyModel(GetParam()), ids)), 1e-3);
  }
}

TEST_P(LoraBoth, MergedLogitsEqualUnmergedAndUnmergeRestoresTheBaseExactly) {
  auto model = TinyModel(GetParam());
  std::vector<torch::Tensor> original;
  for (const auto& [name, t] : model->Parameters()) original.push_back(t.clone());
  torch::Tensor ids = RandomIds(2, 7, 257, 6);
  torch::Tensor base = Logits(*model, ids);
  ASSERT_TRUE(model->adapters().Add("a", Config(formats::TargetModules::AllLinear()), 2).ok());
  EXPECT_FALSE(model->adapters().Merge("a").ok());  // only the active adapter merges
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  torch::Tensor unmerged = Logits(*model, ids);
  ASSERT_TRUE(model->adapters().Merge("a").ok());
  EXPECT_EQ(model->adapters().merged(), "a");
  EXPECT_LT(RelativeError(Logits(*model, ids), unmerged), 1e-5);
  EXPECT_EQ(model->adapters().SetActive(std::nullopt).kind(), ErrorKind::kConflict);
  TempDir dir;
  EXPECT_EQ(model->SaveHf(dir.path()).kind(), ErrorKind::kConflict);
  ASSERT_TRUE(model->adapters().Unmerge().ok());
  auto params = model->Parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].second.equal(original[i])) << params[i].first;
  }
  EXPECT_TRUE(Logits(*model, ids).equal(unmerged));
  ASSERT_TRUE(model->adapters().SetActive(std::nullopt).ok());
  EXPECT_TRUE(Logits(*model, ids).equal(base));
}

TEST_P(LoraBoth, AdaptersSwitchByNameWithoutTouchingTheBase) {
  auto model = TinyModel(GetParam());
  torch::Tensor ids = RandomIds(1, 6, 257, 7);
  torch::Tensor base = Logits(*model, ids);
  ASSERT_TRUE(model->adapters().Add("a", Config(formats::TargetModules::AllLinear()), 1).ok());
  ASSERT_TRUE(model->adapters().Add("b", Config(formats::TargetModules::AllLinear(), 2), 2).ok());
  EXPECT_EQ(model->adapters().Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(model->adapters().active().has_value());
  EXPECT_TRUE(Logits(*model, ids).equal(base));
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  torch::Tensor a = Logits(*model, ids);
  ASSERT_TRUE(model->adapters().SetActive("b").ok());
  torch::Tensor b = Logits(*model, ids);
  EXPECT_GT(RelativeError(a, base), 1e-3);
  EXPECT_GT(RelativeError(b, a), 1e-3);
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  EXPECT_TRUE(Logits(*model, ids).equal(a));
  ASSERT_TRUE(model->adapters().SetActive(std::nullopt).ok());
  EXPECT_TRUE(Logits(*model, ids).equal(base));
  EXPECT_EQ(model->adapters().SetActive("c").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(
      model->adapters().Add("a", Config(formats::TargetModules::AllLinear()), 1).status().kind(),
      ErrorKind::kConflict);
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  ASSERT_TRUE(model->adapters().Remove("a").ok());
  EXPECT_FALSE(model->adapters().active().has_value());
  EXPECT_TRUE(Logits(*model, ids).equal(base));
}

TEST_P(LoraBoth, OnlyLoraParametersGetGradients) {
  auto model = TinyModel(GetParam());
  ASSERT_TRUE(model->adapters().Add("a", Config(formats::TargetModules::AllLinear()), 1).ok());
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  auto logits = model->Forward(RandomIds(2, 5, 257, 1));
  ASSERT_TRUE(logits.ok());
  logits->pow(2).mean().backward();
  for (const auto& [name, t] : model->Parameters()) {
    EXPECT_FALSE(t.requires_grad()) << name;
    EXPECT_FALSE(t.grad().defined()) << name;
  }
  models::NamedTensors lora = *model->adapters().Parameters("a");
  for (const auto& [name, t] : lora) {
    EXPECT_TRUE(t.requires_grad()) << name;
    ASSERT_TRUE(t.grad().defined()) << name;
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0) << name;
  }
}

TEST_P(LoraBoth, DropoutAppliesInTrainingModeOnly) {
  auto model = TinyModel(GetParam());
  formats::LoraConfig config = Config(formats::TargetModules::AllLinear());
  config.lora_dropout = 0.5;
  ASSERT_TRUE(model->adapters().Add("a", config, 1).ok());
  ASSERT_TRUE(model->adapters().SetActive("a").ok());
  torch::Tensor ids = RandomIds(1, 6, 257, 3);
  torch::Tensor eval = Logits(*model, ids);
  EXPECT_TRUE(Logits(*model, ids).equal(eval));
  model->SetTraining(true);
  EXPECT_GT(RelativeError(Logits(*model, ids), eval), 1e-4);
  model->SetTraining(false);
  EXPECT_TRUE(Logits(*model, ids).equal(eval));
}

INSTANTIATE_TEST_SUITE_P(Arch, LoraBoth,
                         ::testing::Values(formats::Arch::kGpt2, formats::Arch::kLlama),
                         [](const auto& info) {
                           return std::string(formats::ArchName(info.param));
                         });

}  // namespace
}  // namespace graft::testing
