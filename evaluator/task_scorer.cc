#include "evaluator/task_scorer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/tokenizer/tokenizer.h"

namespace graft::evaluator {
namespace {

// Log-likelihood of `targets[score_begin..]` where targets[j] is the token after input[j].
struct LoglikelihoodRequest {
  std::vector<int64_t> input;
  std::vector<int64_t> targets;
  size_t score_begin = 0;
};

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

std::vector<int64_t> Encode(const tokenizer::Tokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids = tokenizer.Encode(text, /*add_special=*/false);
  return {ids.begin(), ids.end()};
}

// The token that stands before a text's first token (so the first token is scored too): BOS when
// the tokenizer has one, else EOS, as lm-evaluation-harness does.
Result<int64_t> PrefixToken(const tokenizer::Tokenizer& tokenizer) {
  if (auto bos = tokenizer.bos_id()) return *bos;
  if (auto eos = tokenizer.eos_id()) return *eos;
  return InvalidInput("the tokenizer has neither a BOS nor an EOS token to start a text with");
}

// Runs the requests in batches of similar length (right padding) and returns each one's summed
// log-probability. `on_batch(done)` reports how many requests are finished.
Result<std::vector<double>> RunRequests(models::CausalLM& model,
                                        const std::vector<LoglikelihoodRequest>& requests,
                                        int64_t batch_size,
                                        const std::function<void(size_t)>& on_batch) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return requests[a].input.size() > requests[b].input.size();
  });
  std::vector<double> results(requests.size(), 0.0);
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    int64_t rows = static_cast<int64_t>(end - start);
    int64_t width = static_cast<int64_t>(requests[order[start]].input.size());
    auto input = torch::zeros({rows, width}, torch::kInt64);
    auto targets = torch::zeros({rows, width}, torch::kInt64);
    auto mask = torch::zeros({rows, width}, torch::kInt64);
    auto scored = torch::zeros({rows, width}, torch::kFloat32);
    auto input_a = input.accessor<int64_t, 2>();
    auto targets_a = targets.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    auto scored_a = scored.accessor<float, 2>();
    for (int64_t row = 0; row < rows; ++row) {
      const LoglikelihoodRequest& r = requests[order[start + static_cast<size_t>(row)]];
      for (size_t j = 0; j < r.input.size(); ++j) {
        input_a[row][static_cast<int64_t>(j)] = r.input[j];
        targets_a[row][static_cast<int64_t>(j)] = r.targets[j];
        mask_a[row][static_cast<int64_t>(j)] = 1;
        scored_a[row][static_cast<int64_t>(j)] = j >= r.score_begin ? 1.0f : 0.0f;
      }
    }
    GRAFT_ASSIGN_OR_RETURN(torch::Tensor picked, model.TargetLogProbs(input, mask, targets));
    auto sums = (picked * scored).to(torch::kFloat64).sum(1);
    auto sums_a = sums.accessor<double, 1>();
    for (int64_t row = 0; row < rows; ++row) {
      results[order[start + static_cast<size_t>(row)]] = sums_a[row];
    }
    if (on_batch) on_batch(end);
  }
  return results;
}

// Maps finished requests to finished items for progress reports.
std::function<void(size_t)> ItemProgress(const ScoreProgress& progress, size_t requests,
                                         size_t items) {
  if (!progress) return {};
  return [=](size_t done) {
    progress(static_cast<int64_t>(done * items / std::max<size_t>(requests, 1)),
             static_cast<int64_t>(items));
  };
}

}  // namespace

TaskScorer::TaskScorer(models::CausalLM& model, ScorerOptions options)
    : model_(model), options_(options) {}

int64_t TaskScorer::WindowLength(const suite::SuiteTask& task) const {
  int64_t context = model_.config().max_positions;
  int64_t length = task.max_length > 0 ? task.max_length : options_.max_length;
  return length > 0 ? std::min(length, context) : context;
}

Result<std::vector<suite::ItemScore>> TaskScorer::Score(const suite::SuiteTask& task,
                                                        const ScoreProgress& progress) {
  if (options_.batch_size < 1) return InvalidInput("batch size must be at least 1");
  torch::NoGradGuard no_grad;
  try {
    switch (task.type) {
      case suite::TaskType::kLoglikelihoodRolling:
        return ScoreRolling(task, progress);
      case suite::TaskType::kMultipleChoice:
        return ScoreChoices(task, progress);
      case suite::TaskType::kGenerateUntil:
        return ScoreGeneration(task, progress);
    }
  } catch (const std::exception& e) {
    return InternalError("scoring task " + task.name + ": " + e.what());
  }
  return InternalError("unhandled task type");
}

// Sliding windows over [prefix] + tokens(text): each window scores the next `stride` targets
// with up to `length` tokens of input, so every token is scored exactly once with as much
// left context as the window allows.
Result<std::vector<suite::ItemScore>> TaskScorer::ScoreRolling(const suite::SuiteTask& task,
                                                               const ScoreProgress& progress) {
  const tokenizer::Tokenizer& tokenizer = model_.tokenizer();
  GRAFT_ASSIGN_OR_RETURN(int64_t prefix, PrefixToken(tokenizer));
  const int64_t length = WindowLength(task);
  const int64_t stride = task.stride > 0 ? std::min<int64_t>(task.stride, length) : length;
  std::vector<suite::ItemScore> scores(task.items.size());
  std::vector<LoglikelihoodRequest> requests;
  std::vector<size_t> owner;
  for (size_t i = 0; i < task.items.size(); ++i) {
    std::vector<int64_t> sequence = {prefix};
    std::vector<int64_t> ids = Encode(tokenizer, task.items[i].text);
    sequence.insert(sequence.end(), ids.begin(), ids.end());
    const int64_t n = static_cast<int64_t>(ids.size());
    scores[i].tokens = n;
    scores[i].bytes = static_cast<int64_t>(task.items[i].text.size());
    for (int64_t first = 1; first <= n;) {
      int64_t last = std::min(first + stride, n + 1);  // targets [first, last)
      int64_t begin = std::max<int64_t>(0, last - 1 - length);
      LoglikelihoodRequest request;
      request.input.assign(sequence.begin() + begin, sequence.begin() + last - 1);
      request.targets.assign(sequence.begin() + begin + 1, sequence.begin() + last);
      request.score_begin = static_cast<size_t>(first - 1 - begin);
      requests.push_back(std::move(request));
      owner.push_back(i);
      first = last;
    }
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<double> logliks,
                         RunRequests(model_, requests, options_.batch_size,
                                     ItemProgress(progress, requests.size(), task.items.size())));
  for (size_t r = 0; r < requests.size(); ++r) scores[owner[r]].nll -= logliks[r];
  return scores;
}

Result<std::vector<suite::ItemScore>> TaskScorer::ScoreChoices(const suite::SuiteTask& task,
                                                               const ScoreProgress& progress) {
  const tokenizer::Tokenizer& tokenizer = model_.tokenizer();
  GRAFT_ASSIGN_OR_RETURN(int64_t prefix, PrefixToken(tokenizer));
  const int64_t length = WindowLength(task);
  std::vector<LoglikelihoodRequest> requests;
  for (const suite::SuiteItem& item : task.items) {
    std::vector<int64_t> context = Encode(tokenizer, item.context);
    if (context.empty()) context = {prefix};
    for (const std::string& choice : item.choices) {
      std::vector<int64_t> continuation = Encode(tokenizer, choice);
      std::vector<int64_t> sequence = context;
      sequence.insert(sequence.end(), continuation.begin(), continuation.end());
      size_t drop = sequence.size() - 1 > static_cast<size_t>(length)
                        ? sequence.size() - 1 - static_cast<size_t>(length)
                        : 0;
      if (drop >= context.size()) {
        return InvalidInput("task " + task.name + ", item " + item.id +
                            ": a choice is longer than the model's context window");
      }
      LoglikelihoodRequest request;
      request.input.assign(sequence.begin() + static_cast<std::ptrdiff_t>(drop),
                           sequence.end() - 1);
      request.targets.assign(sequence.begin() + static_cast<std::ptrdiff_t>(drop) + 1,
                             sequence.end());
      request.score_begin = context.size() - 1 - drop;
      requests.push_back(std::move(request));
    }
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<double> logliks,
                         RunRequests(model_, requests, options_.batch_size,
                                     ItemProgress(progress, requests.size(), task.items.size())));
  std::vector<suite::ItemScore> scores(task.items.size());
  size_t next = 0;
  for (size_t i = 0; i < task.items.size(); ++i) {
    const suite::SuiteItem& item = task.items[i];
    suite::ItemScore& score = scores[i];
    size_t best = 0, best_norm = 0;
    double best_norm_value = 0;
    for (size_t c = 0; c < item.choices.size(); ++c) {
      double loglik = logliks[next++];
      double per_byte = loglik / static_cast<double>(item.choices[c].size());
      score.choice_loglikelihoods.push_back(loglik);
      if (c == 0 || loglik > score.choice_loglikelihoods[best]) best = c;
      if (c == 0 || per_byte > best_norm_value) {
        best_norm = c;
        best_norm_value = per_byte;
      }
    }
    score.correct = static_cast<int>(best) == item.label;
    score.correct_norm = static_cast<int>(best_norm) == item.label;
  }
  return scores;
}

Result<std::vector<suite::ItemScore>> TaskScorer::ScoreGeneration(const suite::SuiteTask& task,
                                                                  const ScoreProgress& progress) {
  models::GenerationOptions options;
  options.max_new_tokens = task.max_new_tokens;
  options.stop_strings = task.until;
  std::vector<suite::ItemScore> scores(task.items.size());
  for (size_t i = 0; i < task.items.size(); ++i) {
    const suite::SuiteItem& item = task.items[i];
    GRAFT_ASSIGN_OR_RETURN(models::Generation generation,
                           models::Generate(model_, item.prompt, options));
    scores[i].completion = generation.text;
    scores[i].exact = Trim(generation.text) == Trim(item.target);
    if (progress) progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(task.items.size()));
  }
  return scores;
}

}  // namespace graft::evaluator
