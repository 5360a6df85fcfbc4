// bench/eval: evaluation throughput on the `small` GPT-2 preset — forward-only tokens/s (the
// figure PyTorch eager is compared with), loglikelihood_rolling through the task scorer as items
// and sequence length grow, and greedy generation with the KV cache. Prints one JSON line each.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "evaluator/task_scorer.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/model_config.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Die(const graft::Status& status) {
  std::fprintf(stderr, "eval_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

std::string Text(int64_t bytes, uint64_t seed) {
  static const char kWords[][8] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ",
                                   "dog ", "and ", "graft "};
  std::string text;
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  while (static_cast<int64_t>(text.size()) < bytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    text += kWords[(state >> 33) % 10];
  }
  text.resize(static_cast<size_t>(bytes));
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 8;
  const int64_t seq = argc > 3 ? std::atoll(argv[3]) : 256;
  graft::SetTorchThreads(threads);
  auto config = graft::ModelConfig::Preset(graft::Arch::kGpt2, "small");
  if (!config.ok()) Die(config.status());
  auto model = graft::CausalLM::CreateRandom(*config, 1);
  if (!model.ok()) Die(model.status());
  torch::NoGradGuard no_grad;

  // Forward only, the same shape as bench/eval/pytorch_forward.py.
  {
    auto ids = torch::randint(0, config->vocab_size, {batch, seq}, torch::kInt64);
    if (auto warm = (*model)->Forward(ids); !warm.ok()) Die(warm.status());
    const int steps = 10;
    auto start = Clock::now();
    for (int i = 0; i < steps; ++i) {
      if (auto logits = (*model)->Forward(ids); !logits.ok()) Die(logits.status());
    }
    double s = Seconds(start);
    std::printf(
        "{\"bench\": \"forward\", \"impl\": \"graft\", \"threads\": %d, \"batch\": %lld, "
        "\"seq\": %lld, \"tokens_per_s\": %.1f}\n",
        threads, static_cast<long long>(batch), static_cast<long long>(seq),
        steps * batch * seq / s);
  }

  // loglikelihood_rolling through the scorer: cost against items and against text length.
  graft::TaskScorer scorer(**model, {.batch_size = batch});
  for (auto [items, bytes] : {std::pair<int64_t, int64_t>{16, 256}, {64, 256}, {16, 1024}}) {
    graft::SuiteTask task;
    task.name = "rolling";
    task.type = graft::TaskType::kLoglikelihoodRolling;
    for (int64_t i = 0; i < items; ++i) {
      task.items.push_back({.id = std::to_string(i), .text = Text(bytes, i)});
    }
    auto start = Clock::now();
    auto scores = scorer.Score(task);
    if (!scores.ok()) Die(scores.status());
    double s = Seconds(start);
    int64_t tokens = 0;
    for (const auto& score : *scores) tokens += score.tokens;
    std::printf(
        "{\"bench\": \"loglikelihood_rolling\", \"items\": %lld, \"bytes_per_item\": %lld, "
        "\"seconds\": %.3f, \"tokens_per_s\": %.1f}\n",
        static_cast<long long>(items), static_cast<long long>(bytes), s, tokens / s);
  }

  // Greedy generation with the KV cache.
  {
    graft::GenerationOptions options;
    options.max_new_tokens = 64;
    options.stop_token_ids = {-1};  // never stop early: measure the full budget
    int64_t generated = 0;
    auto start = Clock::now();
    for (int i = 0; i < 4; ++i) {
      auto out = graft::Generate(**model, Text(64, 100 + i), options);
      if (!out.ok()) Die(out.status());
      generated += static_cast<int64_t>(out->new_ids.size());
    }
    double s = Seconds(start);
    std::printf("{\"bench\": \"generate\", \"new_tokens\": %lld, \"tokens_per_s\": %.1f}\n",
                static_cast<long long>(generated), generated / s);
  }
  return 0;
}
