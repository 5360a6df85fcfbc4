#include "evaluator/task_scorer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/causal_lm.h"
#include "models/model_config.h"

namespace graft::evaluator {
namespace {

constexpr int64_t kVocab = 257;

// A GPT-2 whose logits are the same at every position: `unigram[v]` for token v. Every weight is
// zero except ln_f.bias = e_0 and the first embedding column, so the final hidden state is e_0
// and the tied LM head reads column 0 of the embedding.
std::unique_ptr<models::CausalLM> UnigramModel(const std::vector<float>& unigram) {
  auto config = formats::ModelConfig::Preset(formats::Arch::kGpt2, "tiny");
  EXPECT_TRUE(config.ok());
  auto random = models::CausalLM::CreateRandom(*config, 1);
  EXPECT_TRUE(random.ok());
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, tensor] : (*random)->Parameters()) {
    weights[name] = torch::zeros_like(tensor);
  }
  weights["transformer.ln_f.bias"][0] = 1.0;
  auto wte = weights["transformer.wte.weight"];
  for (int64_t v = 0; v < kVocab; ++v) wte[v][0] = unigram[static_cast<size_t>(v)];
  auto model = models::CausalLM::FromWeights(*config, std::move(weights), "unigram");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(*model);
}

std::vector<float> Unigram() {
  std::vector<float> u(kVocab);
  for (int64_t v = 0; v < kVocab; ++v) u[static_cast<size_t>(v)] = 0.1f * static_cast<float>(v % 7);
  return u;
}

double LogZ(const std::vector<float>& u) {
  double z = 0;
  for (float x : u) z += std::exp(static_cast<double>(x));
  return std::log(z);
}

suite::SuiteTask RollingTask(std::vector<std::string> texts, int max_length, int stride) {
  suite::SuiteTask task;
  task.name = "text";
  task.type = suite::TaskType::kLoglikelihoodRolling;
  task.max_length = max_length;
  task.stride = stride;
  for (size_t i = 0; i < texts.size(); ++i) {
    suite::SuiteItem item;
    item.id = std::to_string(i);
    item.text = texts[i];
    task.items.push_back(item);
  }
  return task;
}

TEST(TaskScorer, RollingScoresEveryTokenExactlyOnceWhateverTheWindows) {
  auto u = Unigram();
  auto model = UnigramModel(u);
  const std::vector<std::string> texts = {"The quick brown fox jumps over the lazy dog.", "ab",
                                          "x"};
  // Expected: sum over bytes of log Z - u[byte] (byte-level tokens, context-free logits).
  std::vector<double> expected;
  for (const auto& text : texts) {
    double nll = 0;
    for (unsigned char c : text) nll += LogZ(u) - u[c];
    expected.push_back(nll);
  }
  for (auto [length, stride] : std::vector<std::pair<int, int>>{{64, 0}, {4, 0}, {4, 3}, {2, 1}}) {
    TaskScorer scorer(*model, {.batch_size = 3});
    auto scores = scorer.Score(RollingTask(texts, length, stride));
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    for (size_t i = 0; i < texts.size(); ++i) {
      EXPECT_NEAR((*scores)[i].nll, expected[i], 1e-4) << length << "/" << stride << " " << i;
      EXPECT_EQ((*scores)[i].tokens, static_cast<int64_t>(texts[i].size()));
      EXPECT_EQ((*scores)[i].bytes, static_cast<int64_t>(texts[i].size()));
    }
  }
}

TEST(TaskScorer, RollingWithFullContextEqualsADirectForwardPass) {
  auto config = formats::ModelConfig::Preset(formats::Arch::kGpt2, "tiny");
  ASSERT_TRUE(config.ok());
  auto model = models::CausalLM::CreateRandom(*config, 7);
  ASSERT_TRUE(model.ok());
  const std::string text = "hello, graft";
  std::vector<int64_t> ids = {256};  // <|endoftext|> starts the text
  for (unsigned char c : text) ids.push_back(c);
  torch::NoGradGuard no_grad;
  auto input = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end() - 1)).unsqueeze(0);
  auto logits = (*model)->Forward(input);
  ASSERT_TRUE(logits.ok());
  auto log_probs = torch::log_softmax(*logits, -1)[0];
  double expected = 0;
  for (size_t t = 1; t < ids.size(); ++t) {
    expected -= log_probs[static_cast<int64_t>(t - 1)][ids[t]].item<double>();
  }
  TaskScorer scorer(**model, {});
  auto scores = scorer.Score(RollingTask({text}, 0, 0));
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_NEAR((*scores)[0].nll, expected, 1e-4);
}

TEST(TaskScorer, MultipleChoicePicksTheLikeliestAndTheLikeliestPerByte) {
  std::vector<float> u(kVocab, 0.0f);
  u['4'] = 3.0f;
  u['x'] = 1.0f;
  auto model = UnigramModel(u);
  suite::SuiteTask task;
  task.name = "mc";
  task.type = suite::TaskType::kMultipleChoice;
  suite::SuiteItem item;
  item.id = "q";
  item.context = "2+2=";
  item.choices = {" 3", " 4", "xxxxxxxx"};
  item.label = 1;
  task.items.push_back(item);
  TaskScorer scorer(*model, {});
  auto scores = scorer.Score(task);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  const double log_z = LogZ(u);
  const auto& s = (*scores)[0];
  ASSERT_EQ(s.choice_loglikelihoods.size(), 3u);
  EXPECT_NEAR(s.choice_loglikelihoods[0], -2 * log_z, 1e-4);
  EXPECT_NEAR(s.choice_loglikelihoods[1], 3.0 - 2 * log_z, 1e-4);
  EXPECT_NEAR(s.choice_loglikelihoods[2], 8 * (1.0 - log_z), 1e-3);
  // " 4" has the highest total and per-byte log-likelihood.
  EXPECT_EQ(s.correct, 1);
  EXPECT_EQ(s.correct_norm, 1);
  // Label the long choice: its total is lowest, but per byte it is second to " 4", so both miss.
  task.items[0].label = 2;
  auto relabelled = scorer.Score(task);
  ASSERT_TRUE(relabelled.ok());
  EXPECT_EQ((*relabelled)[0].correct, 0);
  EXPECT_EQ((*relabelled)[0].correct_norm, 0);
}

TEST(TaskScorer, GenerationIsGreedyAndStopsAtStopStrings) {
  std::vector<float> u(kVocab, 0.0f);
  u['a'] = 5.0f;
  auto model = UnigramModel(u);
  suite::SuiteTask task;
  task.name = "gen";
  task.type = suite::TaskType::kGenerateUntil;
  task.max_new_tokens = 3;
  suite::SuiteItem hit{.id = "1", .prompt = "say a", .target = " aaa "};
  suite::SuiteItem miss{.id = "2", .prompt = "say b", .target = "b"};
  task.items = {hit, miss};
  TaskScorer scorer(*model, {});
  auto scores = scorer.Score(task);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ((*scores)[0].completion, "aaa");
  EXPECT_EQ((*scores)[0].exact, 1);
  EXPECT_EQ((*scores)[1].exact, 0);

  task.until = {"aa"};
  auto stopped = scorer.Score(task);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ((*stopped)[0].completion, "");
}

TEST(TaskScorer, RejectsAChoiceLongerThanTheWindow) {
  auto model = UnigramModel(Unigram());
  suite::SuiteTask task;
  task.name = "mc";
  task.type = suite::TaskType::kMultipleChoice;
  task.items.push_back(suite::SuiteItem{
      .id = "q", .context = "c", .choices = {std::string(100, 'a'), "b"}, .label = 0});
  TaskScorer scorer(*model, {.max_length = 16});
  auto scores = scorer.Score(task);
  ASSERT_FALSE(scores.ok());
  EXPECT_NE(scores.status().message().find("longer than the model's context"), std::string::npos);
}

}  // namespace
}  // namespace graft::evaluator
