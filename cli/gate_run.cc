// The runner of `graft gate` (graft-model only; the options are in cli/gate_cmd.cc).
#include <filesystem>
#include <iostream>
#include <set>

#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "cli/output_options.h"
#include "cli/terminal_style.h"
#include "core/sha256.h"
#include "distributed/group.h"
#include "evaluator/adapter_evaluator.h"
#include "policies/lifecycle.h"
#include "reports/gate_outputs.h"
#include "reports/json_report.h"
#include "reports/markdown_report.h"

namespace graft::cli {
namespace {

// The suites a policy's promotion criteria name, in first-mention order.
std::vector<std::string> SuitesOf(const Policy& policy) {
  std::vector<std::string> suites;
  std::set<std::string> seen;
  auto add = [&](const std::string& suite) {
    if (seen.insert(suite).second) suites.push_back(suite);
  };
  for (const auto& kpi : policy.promotion.kpis) add(kpi.suite);
  for (const auto& regression : policy.promotion.regressions) add(regression.suite);
  return suites;
}

// What the gate's "not revoked" requirement looks at (policies/lifecycle.cc: the signing key, a
// dataset, the base, also through parent adapters) that is revoked, described; empty if none.
// The evaluator refuses to export such an adapter, so the gate decides without evaluating.
Result<std::vector<std::string>> RevokedDependencies(registry::Registry& reg,
                                                     const registry::ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Revocation> revocations, reg.Revocations(adapter));
  std::vector<std::string> out;
  for (const registry::Revocation& r : revocations) {
    const std::string relation = r.relation.substr(r.relation.rfind('/') + 1);
    if (relation == "signed_by" || relation == "dataset" || relation == "base") {
      out.push_back(r.Describe());
    }
  }
  return out;
}

// A gate's bootstrap (descriptive only: the verdict comes from the tests of docs/statistics.md)
// takes its resamples and seed from the policy's `bootstrap:` or, unset, 10000 resamples and a
// seed derived from the digests of adapter, base, suites and policy, so that it cannot be shopped
// for: the same gate always draws the same resamples. --seed and --resamples are for `eval` only.
Status GateBootstrap(registry::Registry& reg, const po::variables_map& vm, const Policy& policy,
                     const registry::ObjectRecord& adapter, const std::vector<std::string>& suites,
                     BootstrapOptions& bootstrap) {
  for (const char* option : {"seed", "resamples"}) {
    if (!vm[option].defaulted()) {
      return InvalidInput(std::string("--") + option +
                          " is for graft eval only: a gate takes its bootstrap from the policy "
                          "(promotion.bootstrap) or derives it from the digests");
    }
  }
  bootstrap.confidence = policy.promotion.confidence;
  bootstrap.resamples = policy.promotion.bootstrap_resamples.value_or(10000);
  if (policy.promotion.bootstrap_seed) {
    bootstrap.seed = *policy.promotion.bootstrap_seed;
    return Status::Ok();
  }
  std::string material = "graft gate seed\nadapter " + adapter.digest + "\nbase " +
                         adapter.Info().value("base", "") + "\npolicy " + policy.digest;
  for (const std::string& suite : suites) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record, reg.Resolve("suite", suite));
    material += "\nsuite " + record.digest;
  }
  bootstrap.seed = std::stoull(Sha256Hex(material).substr(0, 16), nullptr, 16);
  return Status::Ok();
}

Result<int> RunGate(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<int> launched, LaunchLocalWorkers(vm));
  if (launched) return *launched;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<distributed::Group> group, JoinGroup());
  const bool leader = group == nullptr || group->leader();  // rank 0 signs and decides
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(EvaluationSettings settings, EvaluationSettingsFrom(vm));
  const std::string adapter_ref = vm["adapter"].as<std::string>();
  const std::string policy_ref = vm["policy"].as<std::string>();

  Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(Policy policy, lifecycle.LoadPolicy(policy_ref));
  std::vector<std::string> suites = SuitesOf(policy);
  std::vector<SuiteComparisons> comparisons;
  std::vector<std::string> evaluation_digests;
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter, reg.Resolve("adapter", adapter_ref));
  GRAFT_RETURN_IF_ERROR(GateBootstrap(reg, vm, policy, adapter, suites, settings.bootstrap));
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> revoked, RevokedDependencies(reg, adapter));
  for (const std::string& reason : leader ? revoked : std::vector<std::string>()) {
    std::cerr << "graft: not evaluating " << adapter_ref << ": its " << reason
              << "; the gate fails on \"not revoked\"\n";
  }
  if (!suites.empty() && revoked.empty()) {
    AdapterEvaluator evaluator(reg, settings, group.get());
    GRAFT_ASSIGN_OR_RETURN(EvaluationOutcome outcome,
                           evaluator.Evaluate(adapter_ref, suites, key,
                                              leader ? TerminalProgress() : EvaluationProgress()));
    for (size_t i = 0; i < outcome.suites.size(); ++i) {
      SuiteComparisons suite{.suite = suites[i], .metrics = {}};
      for (const TaskOutcome& task : outcome.suites[i].tasks) {
        suite.metrics.insert(suite.metrics.end(), task.comparisons.begin(), task.comparisons.end());
      }
      comparisons.push_back(std::move(suite));
    }
    evaluation_digests.push_back(outcome.attestation_digest);
  }
  if (!leader) return kExitOk;
  GRAFT_ASSIGN_OR_RETURN(Decision decision, lifecycle.Gate(adapter_ref, policy_ref, comparisons,
                                                           key, evaluation_digests));

  GateReportData report;
  report.adapter = {adapter.labels.empty() ? adapter_ref : adapter.labels.back(), adapter.digest};
  if (adapter.Info().contains("base")) {
    std::string base = adapter.Info()["base"].get<std::string>();
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base_record, reg.Get(base));
    report.base = {base_record.labels.empty() ? "" : base_record.labels.back(), base};
  }
  report.decision = decision;
  // The decision Gate just stored is the adapter's latest one.
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::AttestationRecord> decisions,
                         reg.Attestations(adapter.digest, "decision"));
  std::string decision_digest;
  uint64_t latest = 0;
  for (const registry::AttestationRecord& d : decisions) {
    if (d.seq >= latest) {
      latest = d.seq;
      decision_digest = d.digest;
    }
  }
  // With --json, stdout holds the JSON alone: GitHub reads annotations on stderr as well.
  GRAFT_RETURN_IF_ERROR(
      WriteGateOutputs(report,
                       {OutputPath(vm, OutputFile::kJunit), OutputPath(vm, OutputFile::kMarkdown),
                        OutputPath(vm, OutputFile::kJson), decision_digest},
                       WantsJson(vm) ? std::cerr : std::cout));
  if (WantsJson(vm)) {
    std::cout << RenderJson(GateReportJson(report));
  } else if (!Quiet()) {
    const std::string markdown = RenderGateMarkdown(report);
    std::cout << (ColourStdout() ? ColourVerdicts(markdown) : markdown);
  }
  return decision.exit_code;
}

ModelRunnerRegistrar kGateRunner("gate", RunGate);

}  // namespace
}  // namespace graft::cli
