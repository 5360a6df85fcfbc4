#include "trainer/trainer.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "models/peft_io.h"
#include "tests/unit/trainer/toy_helpers.h"

namespace graft::trainer {
namespace {

using testing::ReadText;
using testing::TinyModel;
using testing::ToyConfig;
using testing::ToyDataset;

TrainerOptions Options(const std::string& extra_config) {
  TrainerOptions options;
  options.config = ToyConfig(extra_config);
  return options;
}

std::unique_ptr<Trainer> MakeTrainer(models::CausalLM& model, TrainerOptions options,
                                     bool with_valid = false) {
  std::optional<Dataset> valid;
  if (with_valid) valid = ToyDataset(model, 8, 1);
  auto trainer =
      Trainer::Create(model, std::move(options), ToyDataset(model, 16), std::move(valid));
  EXPECT_TRUE(trainer.ok()) << trainer.status().ToString();
  return std::move(trainer).value();
}

// Trains a fresh tiny model and returns the bytes of the adapter weights it saves.
std::string TrainAndSave(TrainerOptions options, const std::filesystem::path& dir) {
  auto model = TinyModel();
  auto trainer = MakeTrainer(*model, std::move(options));
  auto summary = trainer->Run();
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(trainer->Save(dir).ok());
  return ReadText(dir / kAdapterWeightsFile);
}

TEST(Trainer, OnlyLoraParametersLearnAndTheBaseStaysBitIdentical) {
  auto model = TinyModel();
  std::vector<std::pair<std::string, torch::Tensor>> before;
  for (const auto& [name, tensor] : model->Parameters()) before.emplace_back(name, tensor.clone());
  auto trainer = MakeTrainer(*model, Options("max_steps: 4"));
  auto initial = model->adapters().Parameters(kAdapterName);
  ASSERT_TRUE(initial.ok());
  std::vector<torch::Tensor> initial_lora;
  for (const auto& [name, tensor] : *initial) initial_lora.push_back(tensor.clone());

  auto summary = trainer->Run();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->steps, 4);
  EXPECT_GT(summary->tokens, 0);
  EXPECT_FALSE(summary->interrupted);

  auto after = model->Parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(torch::equal(after[i].second, before[i].second)) << after[i].first;
    EXPECT_FALSE(after[i].second.requires_grad()) << after[i].first;
    EXPECT_FALSE(after[i].second.grad().defined()) << after[i].first;
  }
  auto lora = model->adapters().Parameters(kAdapterName);
  ASSERT_TRUE(lora.ok());
  ASSERT_EQ(lora->size(), initial_lora.size());
  int changed = 0;
  for (size_t i = 0; i < lora->size(); ++i) {
    changed += torch::equal((*lora)[i].second, initial_lora[i]) ? 0 : 1;
  }
  EXPECT_EQ(changed, static_cast<int>(lora->size()));
}

TEST(Trainer, SameInputsGiveAByteIdenticalAdapter) {
  TempDir dir("graft-trainer");
  const std::string first = TrainAndSave(Options("max_steps: 3"), dir.path() / "a");
  const std::string second = TrainAndSave(Options("max_steps: 3"), dir.path() / "b");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
  TrainerOptions other = Options("max_steps: 3");
  other.config.seed = 6;
  EXPECT_NE(first, TrainAndSave(std::move(other), dir.path() / "c"));
}

TEST(Trainer, ResumeFromAStopReachesTheSameAdapter) {
  TempDir dir("graft-trainer");
  const std::string extra = "max_steps: 6\ngrad_accum: 2\ncheckpoint_every: 2\n";
  const std::string uninterrupted = TrainAndSave(Options(extra), dir.path() / "straight");

  std::atomic<bool> stop{false};
  {
    auto model = TinyModel();
    TrainerOptions options = Options(extra);
    options.checkpoint_dir = dir.path() / "ckpt";
    options.stop = &stop;
    options.after_step = [&](int64_t step) { stop = step == 3; };
    auto trainer = MakeTrainer(*model, std::move(options));
    auto summary = trainer->Run();
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_TRUE(summary->interrupted);
    EXPECT_EQ(summary->steps, 3);
    EXPECT_EQ(ReadText(dir.path() / "ckpt" / "latest"), "step-3\n");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "ckpt" / "step-2"));  // superseded
  }
  stop = false;
  TrainerOptions options = Options(extra);
  options.checkpoint_dir = dir.path() / "ckpt";
  options.resume = true;
  const std::string resumed = TrainAndSave(std::move(options), dir.path() / "resumed");
  EXPECT_EQ(resumed, uninterrupted);
}

TEST(Trainer, ResumeRefusesACheckpointOfOtherInputs) {
  TempDir dir("graft-trainer");
  {
    auto model = TinyModel();
    TrainerOptions options = Options("max_steps: 4\ncheckpoint_every: 2");
    options.checkpoint_dir = dir.path();
    options.fingerprint = "run-a";
    ASSERT_TRUE(MakeTrainer(*model, std::move(options))->Run().ok());
  }
  auto model = TinyModel();
  TrainerOptions options = Options("max_steps: 4");
  options.checkpoint_dir = dir.path();
  options.fingerprint = "run-b";
  options.resume = true;
  auto trainer = Trainer::Create(*model, std::move(options), ToyDataset(*model, 16), std::nullopt);
  ASSERT_FALSE(trainer.ok());
  EXPECT_EQ(trainer.status().kind(), ErrorKind::kConflict);
  EXPECT_NE(trainer.status().message().find("other inputs"), std::string::npos);

  auto fresh = TinyModel();
  TrainerOptions missing = Options("max_steps: 4");
  missing.checkpoint_dir = dir.path() / "none";
  missing.resume = true;
  auto none = Trainer::Create(*fresh, std::move(missing), ToyDataset(*fresh, 16), std::nullopt);
  EXPECT_EQ(none.status().kind(), ErrorKind::kNotFound);
}

// Final validation loss of a run on the toy corpus, and the loss before it.
std::pair<double, double> ValidLossBeforeAndAfter(TrainerOptions options, std::string* progress) {
  auto model = TinyModel();
  std::ostringstream out;
  options.progress = &out;
  auto trainer = MakeTrainer(*model, std::move(options), /*with_valid=*/true);
  Dataset valid = ToyDataset(*model, 8, 1);
  auto before = trainer->Evaluate(valid);
  EXPECT_TRUE(before.ok());
  auto summary = trainer->Run();
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(summary->valid_loss.has_value());
  // bits per byte and loss describe the same total: loss × targets = bpb × bytes × ln 2.
  EXPECT_NEAR(
      *summary->valid_bits_per_byte * static_cast<double>(valid.trained_bytes()) * std::log(2.0),
      *summary->valid_loss * static_cast<double>(before->targets), 1e-6 * before->targets);
  *progress = out.str();
  return {before->loss, *summary->valid_loss};
}

TEST(Trainer, ValidationLossDropsOnALearnableCorpus) {
  std::string progress;
  // A random tiny base has small tied embeddings, which bound what LoRA alone can express; a full
  // fine-tune (how the demo pretrains its base) learns the pattern outright.
  auto [lora_before, lora_after] =
      ValidLossBeforeAndAfter(Options("max_steps: 30\neval_every: 15\n"), &progress);
  EXPECT_LT(lora_after, lora_before - 0.15);
  // One line per evaluation when not on a terminal.
  EXPECT_NE(progress.find("step 15/30"), std::string::npos) << progress;
  EXPECT_NE(progress.find("step 30/30"), std::string::npos) << progress;
  EXPECT_NE(progress.find("valid_loss"), std::string::npos) << progress;
  EXPECT_NE(progress.find("tok/s"), std::string::npos) << progress;

  TrainerOptions full = Options("max_steps: 30\n");
  full.full = true;
  auto [full_before, full_after] = ValidLossBeforeAndAfter(std::move(full), &progress);
  EXPECT_LT(full_after, full_before * 0.6);
}

TEST(Trainer, FullFineTuningTrainsTheBaseAndSavesAnHfModel) {
  auto model = TinyModel();
  const torch::Tensor wte = model->Parameters()[0].second.clone();
  TrainerOptions options = Options("max_steps: 2");
  options.full = true;
  auto trainer = MakeTrainer(*model, std::move(options));
  ASSERT_TRUE(trainer->Run().ok());
  EXPECT_FALSE(torch::equal(model->Parameters()[0].second, wte));
  EXPECT_TRUE(model->adapters().Names().empty());
  TempDir dir("graft-trainer");
  ASSERT_TRUE(trainer->Save(dir.path() / "model").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "model" / "model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "model" / "config.json"));
  EXPECT_TRUE(models::CausalLM::Load(dir.path() / "model").ok());
}

TEST(Trainer, ParentAdapterIsTheStartingPointAndMustHaveTheSameShape) {
  TempDir dir("graft-trainer");
  const std::string parent = TrainAndSave(Options("max_steps: 3"), dir.path() / "parent");
  auto model = TinyModel();
  TrainerOptions options = Options("max_steps: 3");
  options.parent = dir.path() / "parent";
  // Before any step the child's weights are the parent's, whatever the child's seed.
  options.config.seed = 99;
  auto child = MakeTrainer(*model, std::move(options));
  ASSERT_TRUE(child->Save(dir.path() / "child").ok());
  EXPECT_EQ(ReadText(dir.path() / "child" / kAdapterWeightsFile), parent);
  EXPECT_EQ(model->adapters().Names(), std::vector<std::string>{kAdapterName});

  auto expect_refused = [&](TrainerOptions refused, const std::string& why) {
    auto other = TinyModel();
    refused.parent = dir.path() / "parent";
    auto trainer = Trainer::Create(*other, std::move(refused), ToyDataset(*other, 4), std::nullopt);
    ASSERT_FALSE(trainer.ok());
    EXPECT_EQ(trainer.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(trainer.status().message().find(why), std::string::npos)
        << trainer.status().message();
  };
  TrainerOptions other_rank = Options("max_steps: 1");
  other_rank.config.lora->r = 8;
  expect_refused(std::move(other_rank), "its r is 4, the training config's is 8");
  TrainerOptions fewer_modules = Options("max_steps: 1");
  fewer_modules.config.lora->target_modules = formats::TargetModules::Names({"c_attn"});
  expect_refused(std::move(fewer_modules), "which the training config's target_modules do not");
}

TEST(Trainer, LoraRunWithoutLoraSectionIsRejected) {
  auto model = TinyModel();
  TrainerOptions options;
  options.config = *ParseTrainConfig("max_steps: 1", "t.yaml");
  auto trainer = Trainer::Create(*model, std::move(options), ToyDataset(*model, 4), std::nullopt);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.status().message().find("missing key 'lora'"), std::string::npos);
}

}  // namespace
}  // namespace graft::trainer
