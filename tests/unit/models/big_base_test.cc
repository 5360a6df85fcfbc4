// Real-size bases: presets, streamed sharded writing, memory-mapped loading, frozen weights in
// BF16/F16 with F32 compute, the chunked LM head.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "models/base_init.h"
#include "models/causal_lm.h"
#include "models/chunked_lm_head.h"
#include "models/hf_weights.h"
#include "models/parallel_linear.h"
#include "models/tokenizer/tokenizer.h"
#include "tests/unit/models/model_test_helpers.h"

namespace graft::testing {
namespace {

namespace fs = std::filesystem;

double MaxError(const torch::Tensor& got, const torch::Tensor& expected) {
  return (got - expected).abs().max().item<double>();
}

TEST(ModelPresets, RealShapesHaveTheRealParameterCounts) {
  struct Case {
    const char* preset;
    formats::Arch arch;
    int64_t parameters;
  };
  // GPT-2 small, TinyLlama-1.1B and Llama-2-7B as HF counts them.
  for (const Case& c : {Case{"gpt2-124m", formats::Arch::kGpt2, 124439808},
                        Case{"llama-1b", formats::Arch::kLlama, 1100048384},
                        Case{"llama-7b", formats::Arch::kLlama, 6738415616}}) {
    SCOPED_TRACE(c.preset);
    auto config = formats::ModelConfig::Preset(c.arch, c.preset);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->NumParameters(), c.parameters);
    EXPECT_EQ(formats::ModelConfig::PresetArch(c.preset), c.arch);
  }
  auto tiny = formats::ModelConfig::Preset(formats::Arch::kLlama, "llama-1b");
  EXPECT_EQ(tiny->num_kv_heads, 4);
  EXPECT_EQ(tiny->vocab_size, 32000);
  auto wrong = formats::ModelConfig::Preset(formats::Arch::kGpt2, "llama-1b");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("is a llama model"), std::string::npos);
  EXPECT_FALSE(formats::ModelConfig::Preset(formats::Arch::kGpt2, "gpt2-7b").ok());
  EXPECT_FALSE(formats::ModelConfig::PresetArch("tiny").has_value());
}

TEST(WriteRandomBase, StreamsShardsWithAnIndexThatLoadToCreateRandomsWeights) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    TempDir dir("graft-bigbase");
    // ~140 KB of F32 weights in shards of at most 40 KB.
    ASSERT_TRUE(
        models::WriteRandomBase(arch, "tiny", 7, dir.path() / "m", DType::kF32, 40000).ok());
    EXPECT_TRUE(fs::exists(dir.path() / "m" / kHfWeightsIndexFile));
    EXPECT_FALSE(fs::exists(dir.path() / "m" / kHfWeightsFile));
    int shards = 0;
    for (const auto& entry : fs::directory_iterator(dir.path() / "m")) {
      shards += entry.path().filename().string().rfind("model-0000", 0) == 0;
    }
    EXPECT_GE(shards, 3);
    auto loaded = models::CausalLM::Load(dir.path() / "m");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto config = formats::ModelConfig::Preset(arch, "tiny");
    auto expected = models::CausalLM::CreateRandom(*config, 7);
    ASSERT_TRUE(expected.ok());
    auto got = (*loaded)->Parameters();
    auto want = (*expected)->Parameters();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].first, want[i].first);
      EXPECT_TRUE(got[i].second.equal(want[i].second)) << got[i].first;
    }
    // Below the shard size: one model.safetensors, byte-identical to SaveHf's.
    ASSERT_TRUE(models::WriteRandomBase(arch, "tiny", 7, dir.path() / "one").ok());
    ASSERT_TRUE((*expected)->SaveHf(dir.path() / "saved").ok());
    for (const char* file : {kHfWeightsFile, "config.json", "tokenizer.json"}) {
      EXPECT_EQ(ReadBytes(dir.path() / "one" / file), ReadBytes(dir.path() / "saved" / file))
          << file;
    }
    // BF16: the same draws, rounded.
    ASSERT_TRUE(models::WriteRandomBase(arch, "tiny", 7, dir.path() / "bf16", DType::kBF16).ok());
    auto bf16 = models::CausalLM::Load(dir.path() / "bf16", DType::kBF16);
    ASSERT_TRUE(bf16.ok()) << bf16.status().ToString();
    for (const auto& [name, tensor] : (*bf16)->Parameters()) {
      const torch::Tensor& reference =
          want[std::distance(got.begin(),
                             std::find_if(got.begin(), got.end(),
                                          [&](const auto& p) { return p.first == name; }))]
              .second;
      EXPECT_EQ(tensor.scalar_type(), tensor.dim() >= 2 ? torch::kBFloat16 : torch::kFloat);
      EXPECT_TRUE(tensor.to(torch::kFloat).equal(reference.to(torch::kBFloat16).to(torch::kFloat)))
          << name;
    }
  }
}

TEST(WriteRandomBase, TheTokenizerCoversTheWholeVocabulary) {
  // A random base emits any id of its vocabulary: each must decode (`graft generate`).
  auto tokenizer =
      tokenizer::Tokenizer::FromJson(models::FullVocabularyTokenizerJson(32000), "synthetic");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ(tokenizer->vocab_size(), 32000);
  const std::vector<int32_t> last = {31999, 257, 65};
  auto text = tokenizer->Decode(last, /*skip_special=*/true);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  // id 257 + 256 i + j is bytes i, j: 31999 = 257 + 256 * 123 + 254.
  EXPECT_EQ(*text, std::string("\x7b\xfe") + std::string("\0\0", 2) + "A");
  // Encoding goes through the merge table, and decoding gives the text back.
  const std::string sample = "graft merges two bytes";
  const std::vector<int32_t> ids = tokenizer->Encode(sample, /*add_special=*/false);
  EXPECT_LT(ids.size(), sample.size());
  EXPECT_EQ(*tokenizer->Decode(ids, true), sample);
  // A vocabulary no larger than the bytes keeps graft's byte-level tokenizer as it is.
  EXPECT_EQ(models::FullVocabularyTokenizerJson(257), tokenizer::MakeByteLevelTokenizerJson());
}

TEST(WriteRandomBase, RefusesANonEmptyDirectoryAndAnIntegerDtype) {
  TempDir dir("graft-bigbase");
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "x", "x").ok());
  EXPECT_FALSE(models::WriteRandomBase(formats::Arch::kGpt2, "tiny", 0, dir.path()).ok());
  EXPECT_FALSE(
      models::WriteRandomBase(formats::Arch::kGpt2, "tiny", 0, dir.path() / "m", DType::kI8).ok());
}

TEST(ParallelLinear, Bf16WeightsMatchTheF32ProductOfTheSameValues) {
  torch::manual_seed(3);
  // Conv1D layout [in, out] and a linear's [out, in] used transposed; biases; few and many rows.
  const torch::Tensor conv = torch::randn({70, 90}).to(torch::kBFloat16);
  const torch::Tensor linear = torch::randn({90, 70}).to(torch::kBFloat16);
  const torch::Tensor bias = torch::randn({90});
  for (int64_t rows : {1, 5, 300}) {
    SCOPED_TRACE(rows);
    const torch::Tensor x = torch::randn({rows, 70});
    for (const torch::Tensor& weight : {conv, linear.t()}) {
      const torch::Tensor reference = torch::addmm(bias, x, weight.to(torch::kFloat));
      EXPECT_LT(MaxError(models::ParallelLinear(x, weight, bias), reference), 1e-4);
      EXPECT_LT(MaxError(models::ParallelLinear(x, weight, {}), reference - bias), 1e-4);
    }
    // F16 takes the same path.
    const torch::Tensor half = linear.to(torch::kHalf);
    EXPECT_LT(
        MaxError(models::ParallelLinear(x, half.t(), {}), torch::mm(x, half.to(torch::kFloat).t())),
        1e-4);
  }
  // The input gradient through a frozen BF16 weight.
  const torch::Tensor x0 = torch::randn({33, 70});
  const torch::Tensor upstream = torch::randn({33, 90});
  torch::Tensor x = x0.clone().requires_grad_();
  models::ParallelLinear(x, linear.t(), bias).backward(upstream);
  torch::Tensor xr = x0.clone().requires_grad_();
  torch::addmm(bias, xr, linear.to(torch::kFloat).t()).backward(upstream);
  EXPECT_LT(MaxError(x.grad(), xr.grad()), 1e-4);
}

TEST(TargetLogProbs, EqualsTheFullLogSoftmaxInValuesAndGradients) {
  torch::manual_seed(4);
  const torch::Tensor h0 = torch::randn({37, 16});
  const torch::Tensor w0 = torch::randn({50, 16});
  torch::Tensor targets = torch::randint(50, {37}, torch::kLong);
  targets[3] = -100;
  targets[36] = -100;
  const torch::Tensor upstream = torch::randn({37});
  for (int64_t chunk : {0, 5, 37}) {
    SCOPED_TRACE(chunk);
    torch::Tensor h = h0.clone().requires_grad_();
    torch::Tensor w = w0.clone().requires_grad_();
    torch::Tensor got = models::TargetLogProbs(h, w, targets, chunk);
    got.backward(upstream);

    torch::Tensor hr = h0.clone().requires_grad_();
    torch::Tensor wr = w0.clone().requires_grad_();
    torch::Tensor picked = torch::log_softmax(torch::mm(hr, wr.t()), 1)
                               .gather(1, targets.clamp_min(0).unsqueeze(1))
                               .squeeze(1)
                               .masked_fill(targets.lt(0), 0);
    picked.backward(upstream);
    EXPECT_EQ(got[3].item<float>(), 0.0f);
    EXPECT_LT(MaxError(got, picked), 1e-5);
    EXPECT_LT(MaxError(h.grad(), hr.grad()), 1e-5);
    EXPECT_LT(MaxError(w.grad(), wr.grad()), 1e-5);
    EXPECT_EQ(h.grad()[3].abs().sum().item<float>(), 0.0f);
  }
}

// bf16-stored weights: kept in BF16 or converted to F32, the scores are the same values up to
// the GEMMs' summation order; f32-stored weights kept in BF16 are rounded, within 2e-2 nats.
TEST(BaseDtype, Bf16BaseScoresMatchF32) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    auto model = TinyModel(arch, 5);
    TempDir dir("graft-bigbase");
    ASSERT_TRUE(model->SaveHf(dir.path() / "f32").ok());
    ASSERT_TRUE(model->SaveHf(dir.path() / "bf16", DType::kBF16).ok());
    const torch::Tensor ids = RandomIds(2, 24, model->config().vocab_size, 6);
    const torch::Tensor targets = RandomIds(2, 24, model->config().vocab_size, 7);
    auto score = [&](const fs::path& path, DType dtype) {
      auto loaded = models::CausalLM::Load(path, dtype);
      EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
      torch::NoGradGuard no_grad;
      auto out = (*loaded)->TargetLogProbs(ids, {}, targets);
      EXPECT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ((*loaded)->base_dtype(), dtype);
      return *out;
    };
    const torch::Tensor f32 = score(dir.path() / "f32", DType::kF32);
    const torch::Tensor stored_bf16_as_f32 = score(dir.path() / "bf16", DType::kF32);
    const torch::Tensor stored_bf16_kept = score(dir.path() / "bf16", DType::kBF16);
    const torch::Tensor f32_kept_bf16 = score(dir.path() / "f32", DType::kBF16);
    EXPECT_LT(MaxError(stored_bf16_kept, stored_bf16_as_f32), 1e-4);
    // Kept in BF16, an F32 checkpoint's vectors (norms, biases) stay F32, unlike a BF16 file's.
    EXPECT_LT(MaxError(f32_kept_bf16, stored_bf16_as_f32), 1e-2);
    EXPECT_LT(MaxError(f32_kept_bf16, f32), 2e-2);
    EXPECT_GT(MaxError(f32_kept_bf16, f32), 0);  // really rounded
    // The scores are the log-softmax of Forward's logits at the targets.
    torch::Tensor logits = Logits(*model, ids);
    torch::Tensor expected = torch::log_softmax(logits, -1).gather(2, targets.unsqueeze(2));
    EXPECT_LT(MaxError(f32, expected.squeeze(2)), 1e-5);
  }
}

TEST(BaseDtype, ABf16BaseTrainsLoraButRefusesFullFineTuning) {
  auto model = TinyModel(formats::Arch::kLlama, 8);
  TempDir dir("graft-bigbase");
  ASSERT_TRUE(model->SaveHf(dir.path(), DType::kBF16).ok());
  auto loaded = models::CausalLM::Load(dir.path(), DType::kBF16);
  ASSERT_TRUE(loaded.ok());
  models::CausalLM& bf16 = **loaded;
  Status refused = bf16.SetBaseTrainable(true);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("full fine-tuning needs it in F32"), std::string::npos);
  EXPECT_FALSE(models::CausalLM::Load(dir.path(), DType::kI32).ok());

  formats::LoraConfig lora;
  lora.r = 4;
  lora.target_modules = formats::TargetModules::Names({"q_proj", "v_proj"});
  lora.init_lora_weights =
      formats::LoraInit::kRandom;  // a non-zero B: every LoRA weight gets a gradient
  ASSERT_TRUE(bf16.adapters().Add("a", lora, 1).ok());
  ASSERT_TRUE(bf16.adapters().SetActive(std::string("a")).ok());
  const torch::Tensor ids = RandomIds(2, 16, bf16.config().vocab_size, 9);
  auto log_probs = bf16.TargetLogProbs(ids, {}, ids);
  ASSERT_TRUE(log_probs.ok()) << log_probs.status().ToString();
  (-log_probs->sum()).backward();
  auto params = bf16.adapters().Parameters("a");
  ASSERT_TRUE(params.ok());
  for (const auto& [name, tensor] : *params) {
    EXPECT_EQ(tensor.scalar_type(), torch::kFloat) << name;
    ASSERT_TRUE(tensor.grad().defined()) << name;
    EXPECT_GT(tensor.grad().abs().sum().item<double>(), 0) << name;
  }
}

// Weights kept in their stored dtype are views of a copy-on-write mapping: merging an adapter
// writes into them without touching the file, and unmerging restores them.
TEST(BaseDtype, MergingIntoAMappedBaseLeavesTheFileUnchanged) {
  auto model = TinyModel(formats::Arch::kGpt2, 10);
  TempDir dir("graft-bigbase");
  ASSERT_TRUE(model->SaveHf(dir.path()).ok());
  const std::string before = ReadBytes(dir.path() / kHfWeightsFile);
  auto loaded = models::CausalLM::Load(dir.path());
  ASSERT_TRUE(loaded.ok());
  formats::LoraConfig lora;
  lora.r = 2;
  lora.target_modules = formats::TargetModules::Names({"c_attn"});
  lora.init_lora_weights = formats::LoraInit::kRandom;
  ASSERT_TRUE((*loaded)->adapters().Add("a", lora, 1).ok());
  const torch::Tensor ids = RandomIds(1, 12, 257, 11);
  const torch::Tensor base_logits = Logits(**loaded, ids);
  ASSERT_TRUE((*loaded)->adapters().SetActive(std::string("a")).ok());
  ASSERT_TRUE((*loaded)->adapters().Merge("a").ok());
  EXPECT_GT(MaxError(Logits(**loaded, ids), base_logits), 1e-4);
  EXPECT_EQ(ReadBytes(dir.path() / kHfWeightsFile), before);
  ASSERT_TRUE((*loaded)->adapters().Unmerge().ok());
  ASSERT_TRUE((*loaded)->adapters().SetActive(std::nullopt).ok());
  EXPECT_TRUE(Logits(**loaded, ids).equal(base_logits));
}

// Checkpointed blocks recompute their activations in the backward pass, LoRA dropout included:
// the loss and every gradient are those of the plain forward.
TEST(Checkpointing, GivesTheSameLossAndGradients) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    auto model = TinyModel(arch, 12);
    formats::LoraConfig lora;
    lora.r = 4;
    lora.lora_dropout = 0.3;
    lora.target_modules = formats::TargetModules::AllLinear();
    lora.init_lora_weights = formats::LoraInit::kRandom;
    ASSERT_TRUE(model->adapters().Add("a", lora, 1).ok());
    ASSERT_TRUE(model->adapters().SetActive(std::string("a")).ok());
    model->SetTraining(true);
    auto params = model->adapters().Parameters("a");
    ASSERT_TRUE(params.ok());
    const torch::Tensor ids = RandomIds(2, 20, model->config().vocab_size, 13);
    auto run = [&](bool checkpointing) {
      model->SetCheckpointing(checkpointing);
      for (auto& [name, tensor] : *params) tensor.mutable_grad() = torch::Tensor();
      torch::manual_seed(99);
      auto log_probs = model->TargetLogProbs(ids, {}, ids);
      EXPECT_TRUE(log_probs.ok());
      torch::Tensor loss = -log_probs->sum();
      loss.backward();
      std::vector<torch::Tensor> grads;
      for (auto& [name, tensor] : *params) grads.push_back(tensor.grad().clone());
      return std::pair{loss.item<double>(), grads};
    };
    auto [plain_loss, plain_grads] = run(false);
    auto [checkpointed_loss, checkpointed_grads] = run(true);
    EXPECT_EQ(plain_loss, checkpointed_loss);
    ASSERT_EQ(plain_grads.size(), checkpointed_grads.size());
    for (size_t i = 0; i < plain_grads.size(); ++i) {
      EXPECT_GT(plain_grads[i].abs().sum().item<double>(), 0) << (*params)[i].first;
      EXPECT_LT(MaxError(checkpointed_grads[i], plain_grads[i]), 1e-5) << (*params)[i].first;
    }
  }
}

}  // namespace
}  // namespace graft::testing
