// The runner of `graft eval` (graft-model only; the options are in cli/eval_cmd.cc).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "core/file_util.h"
#include "distributed/group.h"
#include "evaluator/adapter_evaluator.h"

namespace graft::cli {
namespace {

void PrintOutcome(const EvaluationOutcome& outcome) {
  std::printf("evaluation sha256:%s of %s on base %s\n", outcome.attestation_digest.c_str(),
              outcome.adapter_label.c_str(), ShortDigest(outcome.base_digest).c_str());
  for (const SuiteOutcome& suite : outcome.suites) {
    std::printf("\nsuite %s (%s)%s\n", suite.name.c_str(), ShortDigest(suite.digest).c_str(),
                suite.base_from_cache ? " [base scores from cache]" : "");
    std::printf("  %-24s %-14s %6s %12s %12s %12s  %-27s\n", "task", "metric", "n", "base",
                "adapter", "delta", "interval");
    for (const TaskOutcome& task : suite.tasks) {
      for (const MetricComparison& c : task.comparisons) {
        std::printf("  %-24s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g] @%g\n",
                    task.name.c_str(), c.metric.c_str(), c.n, c.base, c.adapter, c.delta,
                    c.interval.low, c.interval.high, c.confidence);
        for (const MetricComparison& s : c.slices) {
          std::printf("    %-22s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g]\n",
                      ("[" + s.slice + "]").c_str(), s.metric.c_str(), s.n, s.base, s.adapter,
                      s.delta, s.interval.low, s.interval.high);
        }
      }
    }
  }
}

// One adapter's signed result, the shape `--json` writes for a single adapter.
Json OutcomeJson(const EvaluationOutcome& outcome) {
  return {{"attestation", outcome.attestation_digest},
          {"subject", {{"name", outcome.adapter_label}, {"sha256", outcome.adapter_digest}}},
          {"predicate", outcome.predicate}};
}

Result<int> RunEval(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<int> launched, LaunchLocalWorkers(vm));
  if (launched) return *launched;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<distributed::Group> group, JoinGroup());
  const bool leader = group == nullptr || group->leader();  // rank 0 signs and reports
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(EvaluationSettings settings, EvaluationSettingsFrom(vm));
  const auto adapter_refs = vm["adapter"].as<std::vector<std::string>>();
  const auto suite_refs = vm["suite"].as<std::vector<std::string>>();
  AdapterEvaluator evaluator(reg, settings, group.get());
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base, evaluator.SharedBase(adapter_refs));
  Json evaluations = Json::array();
  for (size_t i = 0; i < adapter_refs.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(EvaluationOutcome outcome,
                           evaluator.Evaluate(adapter_refs[i], suite_refs, key,
                                              leader ? TerminalProgress() : EvaluationProgress()));
    if (!leader) continue;
    if (i > 0) std::printf("\n");
    PrintOutcome(outcome);
    evaluations.push_back(OutcomeJson(outcome));
  }
  if (!leader) return kExitOk;
  if (adapter_refs.size() > 1) {
    const EvaluatorStats& stats = evaluator.stats();
    std::printf(
        "\n%zu adapters on base %s: base loaded %lld time(s); base scores computed for %lld "
        "task(s), reused for %lld\n",
        adapter_refs.size(), ShortDigest(base.digest).c_str(),
        static_cast<long long>(stats.base_loads), static_cast<long long>(stats.base_tasks_scored),
        static_cast<long long>(stats.base_tasks_reused));
  }
  if (vm.count("json")) {
    // One adapter: its result as before; several: one entry each, in the order named.
    Json result = adapter_refs.size() == 1
                      ? evaluations[0]
                      : Json{{"base", {{"sha256", base.digest}}}, {"evaluations", evaluations}};
    GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(result));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(vm["json"].as<std::string>(), text + "\n"));
  }
  return kExitOk;
}

ModelRunnerRegistrar kEvalRunner("eval", RunEval);

}  // namespace
}  // namespace graft::cli
