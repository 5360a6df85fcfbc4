// Paired score tables: one task's per-item scores of the base and the adapter, per metric, as the
// paired statistics take them (torch-free).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "evaluator/stats/types.h"
#include "evaluator/suite/item_score.h"
#include "evaluator/suite/suite.h"

namespace graft::suite {

// One item's value of `metric` (acc, acc_norm, exact_match: 0 or 1 over 1) or, for a ratio
// metric, its numerator and denominator (bits and bytes for bits_per_byte, nats and tokens for
// perplexity and nll).
std::pair<double, double> MetricParts(const std::string& metric, const ItemScore& score);

// For each of the task's metrics, the per-item values (or numerators and denominators for ratio
// metrics: bits and bytes for bits_per_byte, nats and tokens for perplexity and nll) of both
// models, with the items' ids and slices. Base and adapter must have one score per item.
Result<stats::ItemScores> BuildPairedScores(const SuiteTask& task,
                                            const std::vector<ItemScore>& base,
                                            const std::vector<ItemScore>& adapter);

// The canary: false when every item scored bit-identically with and without the adapter,
// which means the adapter was not applied (or is a no-op).
bool AdapterChangedAnything(const std::vector<ItemScore>& base,
                            const std::vector<ItemScore>& adapter);

}  // namespace graft::suite
