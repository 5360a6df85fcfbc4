// bench/eval: evaluation throughput on the `small` GPT-2 preset (random weights). One mode per
// process, one JSON line per figure:
//   forward  THREADS BATCH SEQ  forward-only tokens/s of [BATCH, SEQ] (what
//                               bench/eval/pytorch_forward.py --mode forward measures);
//   score    THREADS BATCH SEQ  the evaluator's loglikelihood_rolling path (tokenize, window,
//                               batch, forward, log-probability of each target) over BATCH * 10
//                               texts of exactly SEQ tokens: the same forward shapes, scored
//                               (pytorch_forward.py --mode score is its eager counterpart);
//   scaling  THREADS BATCH      loglikelihood_rolling cost as items, text length and window
//                               length grow;
//   generate THREADS            greedy generation with the KV cache, by prompt length.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "evaluator/task_scorer.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/model_config.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSteps = 10;  // timed forward passes (or batches) after one warm-up

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Die(const graft::Status& status) {
  std::fprintf(stderr, "eval_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

// `bytes` bytes of words (graft's byte-level tokenizer: one token per byte), seeded.
std::string Text(int64_t bytes, uint64_t seed) {
  static const char kWords[][8] = {"the ",  "quick ", "brown ", "fox ", "jumps ",
                                   "over ", "lazy ",  "dog ",   "and ", "graft "};
  std::string text;
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  while (static_cast<int64_t>(text.size()) < bytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    text += kWords[(state >> 33) % 10];
  }
  text.resize(static_cast<size_t>(bytes));
  return text;
}

graft::suite::SuiteTask RollingTask(int64_t items, int64_t bytes, int max_length) {
  graft::suite::SuiteTask task;
  task.name = "rolling";
  task.type = graft::suite::TaskType::kLoglikelihoodRolling;
  task.max_length = max_length;
  for (int64_t i = 0; i < items; ++i) {
    task.items.push_back({.id = std::to_string(i), .text = Text(bytes, static_cast<uint64_t>(i))});
  }
  return task;
}

// Scores `task` and returns (seconds, scored tokens).
std::pair<double, int64_t> TimeScoring(graft::evaluator::TaskScorer& scorer,
                                       const graft::suite::SuiteTask& task) {
  auto start = Clock::now();
  auto scores = scorer.Score(task);
  if (!scores.ok()) Die(scores.status());
  double seconds = Seconds(start);
  int64_t tokens = 0;
  for (const auto& score : *scores) tokens += score.tokens;
  return {seconds, tokens};
}

void Forward(graft::models::CausalLM& model, int threads, int64_t batch, int64_t seq) {
  auto ids = torch::randint(0, model.config().vocab_size, {batch, seq}, torch::kInt64);
  if (auto warm = model.Forward(ids); !warm.ok()) Die(warm.status());
  auto start = Clock::now();
  for (int i = 0; i < kSteps; ++i) {
    if (auto logits = model.Forward(ids); !logits.ok()) Die(logits.status());
  }
  std::printf(
      "{\"bench\": \"forward\", \"impl\": \"graft\", \"threads\": %d, \"batch\": %lld, "
      "\"seq\": %lld, \"tokens_per_s\": %.1f}\n",
      threads, static_cast<long long>(batch), static_cast<long long>(seq),
      kSteps * batch * seq / Seconds(start));
}

void Score(graft::models::CausalLM& model, int threads, int64_t batch, int64_t seq) {
  graft::evaluator::TaskScorer scorer(model, {.batch_size = batch});
  // SEQ - 1 bytes: with the BOS/EOS prefix every text is one window of exactly SEQ tokens.
  TimeScoring(scorer, RollingTask(batch, seq - 1, static_cast<int>(seq)));
  auto [seconds, tokens] =
      TimeScoring(scorer, RollingTask(batch * kSteps, seq - 1, static_cast<int>(seq)));
  std::printf(
      "{\"bench\": \"score\", \"impl\": \"graft\", \"threads\": %d, \"batch\": %lld, "
      "\"seq\": %lld, \"tokens_per_s\": %.1f}\n",
      threads, static_cast<long long>(batch), static_cast<long long>(seq), tokens / seconds);
}

void Scaling(graft::models::CausalLM& model, int64_t batch) {
  graft::evaluator::TaskScorer scorer(model, {.batch_size = batch});
  struct Shape {
    int64_t items, bytes;
    int window;
  };
  for (Shape shape :
       {Shape{16, 255, 256}, Shape{64, 255, 256}, Shape{256, 255, 256}, Shape{16, 1023, 256},
        Shape{16, 4095, 256}, Shape{16, 1023, 64}, Shape{16, 1023, 128}}) {
    auto [seconds, tokens] =
        TimeScoring(scorer, RollingTask(shape.items, shape.bytes, shape.window));
    std::printf(
        "{\"bench\": \"loglikelihood_rolling\", \"items\": %lld, \"bytes_per_item\": %lld, "
        "\"window\": %d, \"seconds\": %.3f, \"ms_per_item\": %.1f, \"tokens_per_s\": %.1f}\n",
        static_cast<long long>(shape.items), static_cast<long long>(shape.bytes), shape.window,
        seconds, 1000 * seconds / static_cast<double>(shape.items), tokens / seconds);
  }
}

void Generate(graft::models::CausalLM& model) {
  graft::models::GenerationOptions options;
  options.max_new_tokens = 64;
  options.stop_token_ids = {-1};  // never stop early: measure the full budget
  for (int64_t prompt_bytes : {16, 64, 160}) {
    int64_t generated = 0;
    auto start = Clock::now();
    for (int i = 0; i < 4; ++i) {
      auto out = graft::models::Generate(model, Text(prompt_bytes, 100 + i), options);
      if (!out.ok()) Die(out.status());
      generated += static_cast<int64_t>(out->new_ids.size());
    }
    double seconds = Seconds(start);
    std::printf(
        "{\"bench\": \"generate\", \"prompt_tokens\": %lld, \"new_tokens\": %lld, "
        "\"tokens_per_s\": %.1f}\n",
        static_cast<long long>(prompt_bytes + 1), static_cast<long long>(generated),
        generated / seconds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: graft_eval_bench forward|score|scaling|generate THREADS [BATCH] [SEQ]\n");
    return 2;
  }
  const std::string_view mode = argv[1];
  const int threads = std::atoi(argv[2]);
  const int64_t batch = argc > 3 ? std::atoll(argv[3]) : 8;
  const int64_t seq = argc > 4 ? std::atoll(argv[4]) : 256;
  graft::models::SetTorchThreads(threads);
  auto config = graft::formats::ModelConfig::Preset(graft::formats::Arch::kGpt2, "small");
  if (!config.ok()) Die(config.status());
  auto model = graft::models::CausalLM::CreateRandom(*config, 1);
  if (!model.ok()) Die(model.status());
  torch::NoGradGuard no_grad;
  if (mode == "forward") {
    Forward(**model, threads, batch, seq);
  } else if (mode == "score") {
    Score(**model, threads, batch, seq);
  } else if (mode == "scaling") {
    Scaling(**model, batch);
  } else if (mode == "generate") {
    Generate(**model);
  } else {
    std::fprintf(stderr, "eval_bench: unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
