// AdapterEvaluator: evaluates registered adapters against their frozen base on registered suites,
// with base-result caching in the registry and a signed evaluation attestation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/safetensors.h"
#include "core/status.h"
#include "evaluator/stats/types.h"
#include "evaluator/suite/item_score.h"
#include "evaluator/suite/suite.h"
#include "evaluator/suite/suite_registry.h"
#include "registry/registry.h"

namespace graft::models {
class CausalLM;
}  // namespace graft::models

namespace graft::distributed {
class Group;
}  // namespace graft::distributed

namespace graft::evaluator {

class TaskScorer;

inline constexpr std::string_view kTestResultPredicateType =
    "https://in-toto.io/attestation/test-result/v0.1";

struct EvaluationSettings {
  int64_t batch_size = 8;
  int64_t max_length = 0;          // 0: each task's own, else the model's context
  int threads = 0;                 // 0: libtorch's default
  DType base_dtype = DType::kF32;  // how the base's weights are kept (CausalLM::Load)
  bool use_cache = true;           // reuse cached base scores (not part of the recorded settings)
  stats::BootstrapOptions bootstrap;

  // The settings that change results: part of the base-score cache key and the attestation.
  Json ToJson() const;
};

struct TaskOutcome {
  std::string name;
  suite::TaskType type = suite::TaskType::kLoglikelihoodRolling;
  std::vector<std::string> item_ids;
  std::vector<std::string> slices;
  std::vector<suite::ItemScore> base;
  std::vector<suite::ItemScore> adapter;
  std::vector<stats::MetricComparison> comparisons;
};

struct SuiteOutcome {
  std::string name;
  std::string digest;
  bool base_from_cache = false;
  std::string items_digest;  // SHA-256 of the per-item scores file stored in the registry
  std::vector<TaskOutcome> tasks;
};

struct EvaluationOutcome {
  std::string adapter_digest;
  std::string adapter_label;  // "name@N"
  std::string base_digest;
  std::vector<SuiteOutcome> suites;
  std::string attestation_digest;  // SHA-256 of the stored DSSE envelope
  Json predicate;                  // the signed predicate
};

using EvaluationProgress =
    std::function<void(const std::string& what, int64_t done, int64_t total)>;

// What an AdapterEvaluator has done so far: evaluating N adapters on one base loads it once and
// scores it once per task.
struct EvaluatorStats {
  int64_t base_loads = 0;         // base models exported, verified and loaded
  int64_t base_tasks_scored = 0;  // tasks whose base scores were computed
  int64_t base_tasks_reused = 0;  // tasks whose base scores came from the registry cache or an
                                  // earlier adapter of this evaluator
};

class AdapterEvaluator {
 public:
  // With `group` (data-parallel, see docs/distributed.md) every rank makes the same calls: the
  // ranks check at start that they evaluate the same adapter, base, suites and settings, each
  // scores its contiguous share of every task's items, and all of them get every per-item score;
  // only rank 0 writes to the registry (cached base scores, per-item scores, the attestation).
  // Another rank returns an outcome without attestation.
  AdapterEvaluator(registry::Registry& registry, EvaluationSettings settings,
                   distributed::Group* group = nullptr);
  ~AdapterEvaluator();

  // Verifies the adapter (files re-hashed from the blob store, not revoked), its base (root digest
  // recomputed) and each suite's data digests; scores the frozen base (or reuses cached scores
  // for the same base, suite, settings and graft version) and base+adapter on identical items;
  // fails if the adapter changed no output at all (the canary); computes the paired statistics;
  // stores per-item scores and an evaluation attestation signed with `key` (an evaluator key).
  // The base model stays loaded for the next adapter on the same base.
  // Base scores computed for one adapter are reused for the next one on the same base, suite
  // and settings, with or without the registry cache.
  Result<EvaluationOutcome> Evaluate(const std::string& adapter_ref,
                                     const std::vector<std::string>& suite_refs,
                                     const PrivateKey& key,
                                     const EvaluationProgress& progress = {});

  // The base that every adapter in `adapter_refs` was made for, checked before any evaluation:
  // an adapter that does not resolve, is named twice or sits on another base than the first is
  // an error (InvalidInput for the latter two).
  Result<registry::ObjectRecord> SharedBase(const std::vector<std::string>& adapter_refs);

  const EvaluatorStats& stats() const { return stats_; }

 private:
  Status LoadBase(const registry::ObjectRecord& base);
  Result<std::vector<suite::ItemScore>> CachedBaseScores(const std::string& cache_name,
                                                         const suite::SuiteTask& task);
  // Scores `task` with the model's active adapter: all of it, or with a group this rank's share,
  // gathered from every rank in item order.
  Result<std::vector<suite::ItemScore>> ScoreTask(
      TaskScorer& scorer, const suite::SuiteTask& task,
      const std::function<void(int64_t, int64_t)>& progress);

  // What one evaluation reads, verified: the adapter (loaded into the model), its base and the
  // suites.
  struct Inputs {
    registry::ObjectRecord adapter;
    registry::ObjectRecord base;
    std::vector<suite::Suite> suites;
  };
  Result<Inputs> LoadInputs(const std::string& adapter_ref,
                            const std::vector<std::string>& suite_refs,
                            const std::filesystem::path& scratch);
  // With a group: every rank's inputs (or their failure) and settings agree with the others'.
  Status CheckSameInputs(const Result<Inputs>& inputs);
  // The base's scores on `task`: the registry's cache (`from_registry_cache`), this evaluator's
  // earlier run, or scored now (and cached by the leading rank).
  Result<std::vector<suite::ItemScore>> BaseScores(
      TaskScorer& scorer, const std::string& base_digest, const suite::Suite& suite,
      const suite::SuiteTask& task, const std::function<void(int64_t, int64_t)>& progress,
      bool& from_registry_cache);
  // Every task of `suite` scored with and without the adapter and compared; the leading rank
  // stores the per-item scores.
  Result<SuiteOutcome> EvaluateSuite(TaskScorer& scorer, const Inputs& inputs,
                                     const suite::Suite& suite, const EvaluationProgress& progress);
  // Signs the outcome's predicate as an in-toto statement and stores it; its digest.
  Result<std::string> Attest(const EvaluationOutcome& outcome, const PrivateKey& key);
  // Whether this process writes to the registry (no group, or rank 0).
  bool Leads() const;

  registry::Registry& registry_;
  EvaluationSettings settings_;
  distributed::Group* group_ = nullptr;
  std::string loaded_base_digest_;
  std::unique_ptr<models::CausalLM> model_;
  // Base scores computed by this evaluator, by cache name (see docs/evaluator.md).
  std::map<std::string, std::vector<suite::ItemScore>> scored_base_;
  EvaluatorStats stats_;
};

}  // namespace graft::evaluator
