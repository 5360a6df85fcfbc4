// The results of `graft eval --format lm-eval`: one model's side of an evaluation (the adapter,
// or its base) in lm-evaluation-harness's output shape (docs/evaluator.md, "lm-eval format").
#pragma once

#include <map>
#include <string>

#include "core/json.h"
#include "evaluator/adapter_evaluator.h"

namespace graft::evaluator {

enum class LmEvalSide { kAdapter, kBase };

struct LmEvalOutput {
  std::string model_name;  // "site-bot@1", or "base-<12 hex>" for the base
  Json results;            // results_<date>.json
  // samples_<task>_<date>.jsonl per task ("<suite>.<task>"), one JSON object a line.
  std::map<std::string, std::string> samples;
};

// One side of `outcome`; `unix_time` is the results' "date" (seconds since the epoch).
LmEvalOutput RenderLmEval(const EvaluationOutcome& outcome, LmEvalSide side,
                          const EvaluationSettings& settings, double unix_time);

// lm-eval's model_name_sanitized: runs of the characters "<>:/\|?*[] replaced by "__".
std::string LmEvalSanitize(const std::string& name);

}  // namespace graft::evaluator
