#include "models/causal_lm.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <map>
#include <set>

#include "core/file_util.h"
#include "core/safetensors.h"
#include "models/hf_weights.h"
#include "tests/unit/models/model_test_helpers.h"
#include "tests/unit/models/reference_models.h"

namespace graft::testing {
namespace {

using Weights = std::map<std::string, torch::Tensor>;

Weights ParameterMap(const models::CausalLM& model) {
  Weights map;
  for (const auto& [name, tensor] : model.Parameters()) map[name] = tensor.detach().clone();
  return map;
}

std::map<std::string, std::vector<int64_t>> Shapes(const models::CausalLM& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, tensor] : model.Parameters()) shapes[name] = tensor.sizes().vec();
  return shapes;
}

int64_t NumElements(const models::CausalLM& model) {
  int64_t total = 0;
  for (const auto& [name, tensor] : model.Parameters()) total += tensor.numel();
  return total;
}

TEST(CausalLM, Gpt2HasHfNamesAndShapes) {
  auto model = TinyModel(formats::Arch::kGpt2);
  auto shapes = Shapes(*model);
  EXPECT_EQ(shapes.size(), 28u);
  EXPECT_EQ(shapes["transformer.wte.weight"], (std::vector<int64_t>{257, 32}));
  EXPECT_EQ(shapes["transformer.wpe.weight"], (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(shapes["transformer.h.0.ln_1.weight"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes["transformer.h.0.attn.c_attn.weight"], (std::vector<int64_t>{32, 96}));
  EXPECT_EQ(shapes["transformer.h.0.attn.c_attn.bias"], (std::vector<int64_t>{96}));
  EXPECT_EQ(shapes["transformer.h.1.attn.c_proj.weight"], (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(shapes["transformer.h.1.mlp.c_fc.weight"], (std::vector<int64_t>{32, 128}));
  EXPECT_EQ(shapes["transformer.h.1.mlp.c_proj.weight"], (std::vector<int64_t>{128, 32}));
  EXPECT_EQ(shapes["transformer.ln_f.bias"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes.count("lm_head.weight"), 0u);  // tied
  EXPECT_EQ(NumElements(*model), model->config().NumParameters());
  EXPECT_EQ(NumElements(*model), 35744);
  EXPECT_EQ(Logits(*model, RandomIds(2, 5, 257, 3)).sizes(), (std::vector<int64_t>{2, 5, 257}));
}

TEST(CausalLM, LlamaHasHfNamesAndShapes) {
  auto model = TinyModel(formats::Arch::kLlama);
  auto shapes = Shapes(*model);
  EXPECT_EQ(shapes.size(), 21u);
  EXPECT_EQ(shapes["model.embed_tokens.weight"], (std::vector<int64_t>{257, 32}));
  EXPECT_EQ(shapes["model.layers.0.input_layernorm.weight"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.q_proj.weight"], (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.k_proj.weight"], (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.v_proj.weight"], (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(shapes["model.layers.1.self_attn.o_proj.weight"], (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(shapes["model.layers.1.mlp.gate_proj.weight"], (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(shapes["model.layers.1.mlp.down_proj.weight"], (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(shapes["model.layers.1.post_attention_layernorm.weight"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes["model.norm.weight"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes["lm_head.weight"], (std::vector<int64_t>{257, 32}));
  EXPECT_EQ(NumElements(*model), model->config().NumParameters());
  EXPECT_EQ(Logits(*model, RandomIds(2, 5, 257, 3)).sizes(), (std::vector<int64_t>{2, 5, 257}));
}

TEST(CausalLM, Gpt2ForwardMatchesManualComputation) {
  auto model = TinyModel(formats::Arch::kGpt2, 7);
  torch::Tensor ids = RandomIds(1, 9, 257, 8);
  torch::Tensor expected = ManualGpt2(*model, ids[0]);
  EXPECT_LT(RelativeError(Logits(*model, ids)[0], expected), 1e-5);
}

TEST(CausalLM, LlamaForwardMatchesNaiveRopeAndGroupedQueryAttention) {
  auto model = TinyModel(formats::Arch::kLlama, 7);
  torch::Tensor ids = RandomIds(1, 9, 257, 8);
  EXPECT_LT(RelativeError(Logits(*model, ids)[0], NaiveLlama(*model, ids[0])), 1e-5);
}

TEST(CausalLM, LlamaWithAttentionBiasTiedEmbeddingsAndOtherTheta) {
  formats::ModelConfig config = TinyConfig(formats::Arch::kLlama, [](Json& j) {
    j["attention_bias"] = true;
    j["tie_word_embeddings"] = true;
    j["rope_theta"] = 500.0;
    j["num_key_value_heads"] = 1;
  });
  auto model = models::CausalLM::CreateRandom(config, 3);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Randomize(**model, 4);
  auto shapes = Shapes(**model);
  EXPECT_EQ(shapes["model.layers.0.self_attn.q_proj.bias"], (std::vector<int64_t>{32}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.k_proj.weight"], (std::vector<int64_t>{8, 32}));
  EXPECT_EQ(shapes.count("lm_head.weight"), 0u);
  torch::Tensor ids = RandomIds(1, 7, 257, 5);
  EXPECT_LT(RelativeError(Logits(**model, ids)[0], NaiveLlama(**model, ids[0])), 1e-5);
}

class CausalLMBoth : public ::testing::TestWithParam<formats::Arch> {};

TEST_P(CausalLMBoth, SaveAndLoadKeepLogitsAndConfig) {
  auto model = TinyModel(GetParam());
  TempDir dir;
  ASSERT_TRUE(model->SaveHf(dir.path()).ok());
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / file)) << file;
  }
  auto loaded = models::CausalLM::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->source_dir(), dir.path());
  EXPECT_EQ((*loaded)->config().hf_json, model->config().hf_json);
  torch::Tensor ids = RandomIds(2, 6, 257, 1);
  EXPECT_TRUE(Logits(**loaded, ids).equal(Logits(*model, ids)));
  for (const auto& [name, tensor] : (*loaded)->Parameters()) {
    EXPECT_FALSE(tensor.requires_grad()) << name;
  }
  // Saving again gives the same bytes.
  TempDir again;
  ASSERT_TRUE((*loaded)->SaveHf(again.path()).ok());
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_EQ(ReadBytes(again.path() / file), ReadBytes(dir.path() / file)) << file;
  }
}

TEST_P(CausalLMBoth, HalfPrecisionWeightsLoadAsF32) {
  auto model = TinyModel(GetParam());
  for (auto [dtype, torch_type, name] : {std::tuple{DType::kF16, torch::kHalf, "F16"},
                                         std::tuple{DType::kBF16, torch::kBFloat16, "BF16"}}) {
    TempDir dir;
    ASSERT_TRUE(model->SaveHf(dir.path(), dtype).ok());
    auto file = SafetensorsFile::Open(dir.path() / "model.safetensors");
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->tensors().front().dtype, dtype) << name;
    auto config_text = ReadFile(dir.path() / "config.json");
    EXPECT_NE(config_text->find(dtype == DType::kF16 ? "\"float16\"" : "\"bfloat16\""),
              std::string::npos);
    auto loaded = models::CausalLM::Load(dir.path());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    Weights original = ParameterMap(*model);
    for (const auto& [param, tensor] : (*loaded)->Parameters()) {
      EXPECT_EQ(tensor.scalar_type(), torch::kFloat);
      EXPECT_TRUE(tensor.equal(original[param].to(torch_type).to(torch::kFloat))) << param;
    }
  }
}

TEST_P(CausalLMBoth, ShardedWeightsLoad) {
  auto model = TinyModel(GetParam());
  TempDir dir;
  ASSERT_TRUE(model->SaveHf(dir.path(), DType::kF32, /*max_shard_bytes=*/40000).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "model.safetensors"));
  auto index = ParseJson(*ReadFile(dir.path() / "model.safetensors.index.json"), "index");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)["weight_map"].size(), model->Parameters().size());
  std::set<std::string> shards;
  for (const auto& [name, file] : (*index)["weight_map"].items()) shards.insert(file);
  ASSERT_GE(shards.size(), 3u);  // ~140 kB in shards of at most 40 kB (+ the 33 kB embedding)
  const std::string count = std::to_string(shards.size());
  EXPECT_EQ(*shards.begin(), "model-00001-of-0000" + count + ".safetensors");
  EXPECT_EQ(*shards.rbegin(), "model-0000" + count + "-of-0000" + count + ".safetensors");
  for (const std::string& shard : shards) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / shard)) << shard;
  }
  EXPECT_EQ((*index)["metadata"]["total_size"], 4 * model->config().NumParameters());
  auto loaded = models::CausalLM::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  torch::Tensor ids = RandomIds(1, 6, 257, 2);
  EXPECT_TRUE(Logits(**loaded, ids).equal(Logits(*model, ids)));

  // A shard holding a tensor the index maps elsewhere is refused.
  Json broken = *index;
  std::string moved = broken["weight_map"].begin().key();
  broken["weight_map"][moved] =
      *shards.rbegin() == broken["weight_map"][moved] ? *shards.begin() : *shards.rbegin();
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "model.safetensors.index.json", broken.dump()).ok());
  auto refused = models::CausalLM::Load(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(moved), std::string::npos)
      << refused.status().message();
}

TEST_P(CausalLMBoth, MissingExtraAndMisshapedTensorsAreErrorsNamingThem) {
  auto model = TinyModel(GetParam());
  const bool gpt2 = GetParam() == formats::Arch::kGpt2;
  const std::string victim =
      gpt2 ? "transformer.h.1.ln_2.bias" : "model.layers.1.self_attn.k_proj.weight";
  auto expect_error = [&](Weights weights, const std::string& needle) {
    auto built = models::CausalLM::FromWeights(model->config(), std::move(weights), "ckpt");
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(built.status().message().find(needle), std::string::npos) << built.status().message();
  };
  Weights missing = ParameterMap(*model);
  missing.erase(victim);
  expect_error(missing, "missing tensor \"" + victim + "\"");

  Weights extra = ParameterMap(*model);
  const std::string stray = gpt2 ? "transformer.h.0.attn.c_extra.weight" : "model.layers.9.x";
  extra[stray] = torch::zeros({2});
  expect_error(extra, "unexpected tensor \"" + stray + "\"");

  Weights misshaped = ParameterMap(*model);
  misshaped[victim] = torch::zeros({3, 3});
  expect_error(misshaped, "tensor \"" + victim + "\" has shape [3, 3]");

  // The same through files: Load names the file and the tensor.
  TempDir dir;
  ASSERT_TRUE(model->SaveHf(dir.path()).ok());
  models::NamedTensors partial;
  for (const auto& [name, tensor] : model->Parameters()) {
    if (name != victim) partial.emplace_back(name, tensor);
  }
  ASSERT_TRUE(models::WriteHfWeights(dir.path(), partial, DType::kF32).ok());
  auto loaded = models::CausalLM::Load(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find(victim), std::string::npos);
}

TEST_P(CausalLMBoth, RightAndLeftPaddingGiveTheUnpaddedLogits) {
  auto model = TinyModel(GetParam());
  torch::Tensor longer = RandomIds(1, 7, 257, 11);
  torch::Tensor shorter = RandomIds(1, 4, 257, 12);
  torch::Tensor alone = Logits(*model, shorter);
  torch::Tensor pad = torch::zeros({1, 3}, torch::kLong);
  torch::Tensor ones = torch::ones({1, 4}, torch::kLong);
  torch::Tensor zeros = torch::zeros({1, 3}, torch::kLong);
  torch::Tensor full = torch::ones({1, 7}, torch::kLong);

  torch::Tensor right = torch::cat({longer, torch::cat({shorter, pad}, 1)});
  torch::Tensor right_mask = torch::cat({full, torch::cat({ones, zeros}, 1)});
  torch::Tensor right_logits = Logits(*model, right, right_mask);
  EXPECT_LT(RelativeError(right_logits[1].slice(0, 0, 4), alone[0]), 1e-5);
  EXPECT_LT(RelativeError(right_logits[0], Logits(*model, longer)[0]), 1e-5);

  torch::Tensor left = torch::cat({longer, torch::cat({pad, shorter}, 1)});
  torch::Tensor left_mask = torch::cat({full, torch::cat({zeros, ones}, 1)});
  torch::Tensor left_logits = Logits(*model, left, left_mask);
  EXPECT_LT(RelativeError(left_logits[1].slice(0, 3, 7), alone[0]), 1e-5);
  EXPECT_FALSE(torch::isnan(left_logits).any().item<bool>());
}

TEST_P(CausalLMBoth, PositionIdsDefaultToTheMaskCountAndCanBeGiven) {
  auto model = TinyModel(GetParam());
  torch::Tensor ids = RandomIds(1, 5, 257, 13);
  torch::NoGradGuard no_grad;
  auto implicit = model->Forward(ids);
  auto explicit_ids = model->Forward(ids, {}, nullptr, torch::arange(5, torch::kLong).unsqueeze(0));
  auto shifted = model->Forward(ids, {}, nullptr, torch::arange(3, 8, torch::kLong).unsqueeze(0));
  ASSERT_TRUE(implicit.ok() && explicit_ids.ok() && shifted.ok());
  EXPECT_TRUE(implicit->equal(*explicit_ids));
  if (GetParam() == formats::Arch::kGpt2) {
    EXPECT_GT(RelativeError(*shifted, *implicit), 1e-3);  // learned absolute positions
  } else {
    // RoPE is relative: shifting every position changes nothing, a gap does.
    EXPECT_LT(RelativeError(*shifted, *implicit), 1e-5);
    auto gapped =
        model->Forward(ids, {}, nullptr, torch::tensor({0L, 1L, 2L, 9L, 10L}).unsqueeze(0));
    ASSERT_TRUE(gapped.ok());
    EXPECT_LT(RelativeError((*gapped)[0].slice(0, 0, 3), (*implicit)[0].slice(0, 0, 3)), 1e-6);
    EXPECT_GT(RelativeError((*gapped)[0].slice(0, 3, 5), (*implicit)[0].slice(0, 3, 5)), 1e-3);
  }
}

TEST_P(CausalLMBoth, ForwardRejectsBadInputsWithAStatus) {
  auto model = TinyModel(GetParam());
  torch::NoGradGuard no_grad;
  auto out_of_vocab = model->Forward(torch::full({1, 2}, 257, torch::kLong));
  ASSERT_FALSE(out_of_vocab.ok());
  EXPECT_NE(out_of_vocab.status().message().find("257"), std::string::npos);
  auto bad_mask = model->Forward(RandomIds(1, 3, 257, 1), torch::ones({1, 4}, torch::kLong));
  ASSERT_FALSE(bad_mask.ok());
  EXPECT_NE(bad_mask.status().message().find("attention_mask"), std::string::npos);
  auto too_long = model->Forward(RandomIds(1, 65, 257, 1));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("context of 64"), std::string::npos);
  auto wrong_type = model->Forward(torch::zeros({1, 3}, torch::kInt));
  EXPECT_FALSE(wrong_type.ok());
}

TEST_P(CausalLMBoth, RandomInitIsDeterministicPerSeedAndBaseTrainableToggles) {
  auto a = models::CausalLM::CreateRandom(TinyConfig(GetParam()), 5);
  auto b = models::CausalLM::CreateRandom(TinyConfig(GetParam()), 5);
  auto c = models::CausalLM::CreateRandom(TinyConfig(GetParam()), 6);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto pa = (*a)->Parameters(), pb = (*b)->Parameters(), pc = (*c)->Parameters();
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    all_equal = all_equal && pa[i].second.equal(pb[i].second);
    any_differs = any_differs || !pa[i].second.equal(pc[i].second);
  }
  EXPECT_TRUE(all_equal);
  EXPECT_TRUE(any_differs);
  ASSERT_TRUE((*a)->SetBaseTrainable(true).ok());
  for (const auto& [name, tensor] : (*a)->Parameters()) EXPECT_TRUE(tensor.requires_grad());
  ASSERT_TRUE((*a)->SetBaseTrainable(false).ok());
  for (const auto& [name, tensor] : (*a)->Parameters()) EXPECT_FALSE(tensor.requires_grad());
}

INSTANTIATE_TEST_SUITE_P(Arch, CausalLMBoth,
                         ::testing::Values(formats::Arch::kGpt2, formats::Arch::kLlama),
                         [](const auto& info) {
                           return std::string(formats::ArchName(info.param));
                         });

// A tiny model with a context of 160 tokens, so a long input spans several of CausalAttention's
// query blocks (kAttentionQueryBlock = 64).
std::unique_ptr<models::CausalLM> LongContextModel(formats::Arch arch) {
  formats::ModelConfig config = TinyConfig(arch, [&](Json& j) {
    j[arch == formats::Arch::kGpt2 ? "n_positions" : "max_position_embeddings"] = 160;
  });
  auto model = models::CausalLM::CreateRandom(config, 5);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  Randomize(**model, 6);
  return std::move(*model);
}

TEST_P(CausalLMBoth, LongInputsAttendBlockByBlockLikeTheNaiveComputation) {
  auto model = LongContextModel(GetParam());
  // 150 tokens: blocks of 64, 64 and 22 queries over 64, 128 and 150 keys.
  torch::Tensor ids = RandomIds(1, 150, 257, 21);
  torch::Tensor expected =
      GetParam() == formats::Arch::kGpt2 ? ManualGpt2(*model, ids[0]) : NaiveLlama(*model, ids[0]);
  torch::Tensor logits = Logits(*model, ids)[0];
  EXPECT_LT(RelativeError(logits, expected), 1e-5);

  // Left padding (a [B*H, T, S] bias, cut per block the same way) gives the unpadded logits.
  torch::Tensor shorter = ids.slice(1, 0, 130);
  torch::Tensor padded = torch::cat({torch::zeros({1, 20}, torch::kLong), shorter}, 1);
  torch::Tensor mask =
      torch::cat({torch::zeros({1, 20}, torch::kLong), torch::ones({1, 130}, torch::kLong)}, 1);
  torch::Tensor padded_logits = Logits(*model, torch::cat({ids, padded}),
                                       torch::cat({torch::ones({1, 150}, torch::kLong), mask}));
  EXPECT_LT(RelativeError(padded_logits[0], expected), 1e-5);
  EXPECT_LT(RelativeError(padded_logits[1].slice(0, 20, 150), expected.slice(0, 0, 130)), 1e-5);

  // With a KV cache: 100 prompt tokens (two blocks), then 50 more in one call (a block whose
  // queries start at key 100).
  models::KvCache cache;
  torch::Tensor first = Logits(*model, ids.slice(1, 0, 100), {}, &cache)[0];
  torch::Tensor second = Logits(*model, ids.slice(1, 100, 150), {}, &cache)[0];
  EXPECT_LT(RelativeError(torch::cat({first, second}), expected), 1e-5);
}

TEST(CausalLM, CreatingAModelLeavesOpenBlasOneThreadUnderAtensPool) {
  using GetThreadsFn = int (*)();
  using SetThreadsFn = void (*)(int);
  auto get_threads =
      reinterpret_cast<GetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto set_threads =
      reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (get_threads == nullptr || set_threads == nullptr)
    GTEST_SKIP() << "libtorch's BLAS is not OpenBLAS";
  models::SetBlasThreads(2);
  if (get_threads() != 2) GTEST_SKIP() << "this OpenBLAS does not keep a pool of its own";
  auto model = models::CausalLM::CreateRandom(TinyConfig(formats::Arch::kGpt2), 1);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(get_threads(), 1);
}

TEST(CausalLM, Gpt2AcceptsUnprefixedCheckpointsAndIgnoresMaskBuffers) {
  auto model = TinyModel(formats::Arch::kGpt2);
  Weights renamed;
  for (const auto& [name, tensor] : model->Parameters()) {
    renamed[name.substr(std::string("transformer.").size())] = tensor.detach().clone();
  }
  renamed["h.0.attn.bias"] = torch::ones({1, 1, 64, 64}).tril();
  renamed["h.1.attn.masked_bias"] = torch::tensor({-1e4f});
  renamed["lm_head.weight"] = renamed["wte.weight"].clone();  // tied: must equal wte
  auto built = models::CausalLM::FromWeights(model->config(), renamed, "GPT2Model checkpoint");
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  torch::Tensor ids = RandomIds(1, 5, 257, 3);
  EXPECT_TRUE(Logits(**built, ids).equal(Logits(*model, ids)));

  renamed["lm_head.weight"] += 1;
  auto untied = models::CausalLM::FromWeights(model->config(), renamed, "ckpt");
  ASSERT_FALSE(untied.ok());
  EXPECT_NE(untied.status().message().find("lm_head.weight"), std::string::npos);
}

TEST(CausalLM, LoadNamesMissingFiles) {
  TempDir dir;
  auto missing_config = models::CausalLM::Load(dir.path());
  ASSERT_FALSE(missing_config.ok());
  EXPECT_NE(missing_config.status().message().find("config.json"), std::string::npos);
  auto model = TinyModel(formats::Arch::kGpt2);
  ASSERT_TRUE(model->SaveHf(dir.path()).ok());
  std::filesystem::remove(dir.path() / "model.safetensors");
  auto missing_weights = models::CausalLM::Load(dir.path());
  ASSERT_FALSE(missing_weights.ok());
  EXPECT_NE(missing_weights.status().message().find("model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace graft::testing
