// Options shared by the commands that evaluate (eval, gate, monitor), and their progress display.
#pragma once

#include "cli/command.h"
#include "evaluator/adapter_evaluator.h"

namespace graft::cli {

// --no-cache, --batch-size, --max-length, --threads, --resamples, --seed, --confidence.
void AddEvaluationOptions(po::options_description& options);
// Reads and validates them.
Result<evaluator::EvaluationSettings> EvaluationSettingsFrom(const po::variables_map& vm);
// Progress with items/s and ETA on stderr when it is a terminal and --quiet was not given;
// nothing otherwise.
evaluator::EvaluationProgress TerminalProgress();

}  // namespace graft::cli
