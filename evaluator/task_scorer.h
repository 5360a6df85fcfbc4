// TaskScorer: runs one model (the base, or base+adapter) over a suite task's items, batched.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "evaluator/suite/item_score.h"
#include "evaluator/suite/suite.h"

namespace graft::models {
class CausalLM;
}  // namespace graft::models

namespace graft::evaluator {

struct ScorerOptions {
  int64_t batch_size = 8;  // sequences per forward pass
  int64_t max_length = 0;  // tokens per window (0: the model's context length)
};

// Called after each batch with (items done, items total).
using ScoreProgress = std::function<void(int64_t done, int64_t total)>;

class TaskScorer {
 public:
  // The model must outlive the scorer; its active adapter is what gets scored.
  TaskScorer(models::CausalLM& model, ScorerOptions options);

  // Scores every item of `task` (its items must be loaded). Runs under torch::NoGradGuard and
  // turns libtorch exceptions into a Status.
  Result<std::vector<suite::ItemScore>> Score(const suite::SuiteTask& task,
                                              const ScoreProgress& progress = {});

  // The window length used for `task`.
  int64_t WindowLength(const suite::SuiteTask& task) const;

 private:
  Result<std::vector<suite::ItemScore>> ScoreRolling(const suite::SuiteTask& task,
                                                     const ScoreProgress& progress);
  Result<std::vector<suite::ItemScore>> ScoreChoices(const suite::SuiteTask& task,
                                                     const ScoreProgress& progress);
  Result<std::vector<suite::ItemScore>> ScoreGeneration(const suite::SuiteTask& task,
                                                        const ScoreProgress& progress);

  models::CausalLM& model_;
  ScorerOptions options_;
};

}  // namespace graft::evaluator
