// The runner of `graft gate` (graft-model only; the options are in cli/gate_cmd.cc): maps the
// options onto GateRun (policies/gate_run.h) with the evaluator, and prints.
#include <iostream>

#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "cli/output_options.h"
#include "cli/terminal_style.h"
#include "distributed/group.h"
#include "evaluator/adapter_evaluator.h"
#include "policies/gate_run.h"
#include "reports/gate_outputs.h"
#include "reports/json_report.h"
#include "reports/markdown_report.h"

namespace graft::cli {
namespace {

Result<int> RunGate(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<int> launched, LaunchLocalWorkers(vm));
  if (launched) return *launched;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<distributed::Group> group, JoinGroup());
  const bool leader = group == nullptr || group->leader();  // rank 0 signs and decides
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(evaluator::EvaluationSettings settings, EvaluationSettingsFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(policies::GateRun gate,
                         policies::GateRun::Resolve(reg, vm["adapter"].as<std::string>(),
                                                    vm["policy"].as<std::string>()));
  // A gate takes its bootstrap from the policy or the digests (GateRun::Bootstrap).
  for (const char* option : {"seed", "resamples"}) {
    if (!vm[option].defaulted()) {
      return InvalidInput(std::string("--") + option +
                          " is for graft eval only: a gate takes its bootstrap from the policy "
                          "(promotion.bootstrap) or derives it from the digests");
    }
  }

  auto evaluate =
      [&](const registry::ObjectRecord& adapter, const std::vector<std::string>& suites,
          const stats::BootstrapOptions& bootstrap) -> Result<policies::GateEvaluation> {
    settings.bootstrap = bootstrap;
    evaluator::AdapterEvaluator evaluator(reg, settings, group.get());
    GRAFT_ASSIGN_OR_RETURN(
        evaluator::EvaluationOutcome outcome,
        evaluator.Evaluate(adapter.digest, suites, key,
                           leader ? TerminalProgress() : evaluator::EvaluationProgress()));
    policies::GateEvaluation evaluation{.suites = {},
                                        .attestation_digest = outcome.attestation_digest};
    for (size_t i = 0; i < outcome.suites.size(); ++i) {
      policies::SuiteComparisons suite{.suite = suites[i], .metrics = {}};
      for (const evaluator::TaskOutcome& task : outcome.suites[i].tasks) {
        suite.metrics.insert(suite.metrics.end(), task.comparisons.begin(), task.comparisons.end());
      }
      evaluation.suites.push_back(std::move(suite));
    }
    return evaluation;
  };
  GRAFT_ASSIGN_OR_RETURN(policies::GateOutcome outcome,
                         gate.Run(settings.bootstrap, evaluate, key, /*decide=*/leader));
  if (!leader) return kExitOk;
  for (const std::string& reason : outcome.not_evaluated) {
    std::cerr << "graft: not evaluating " << vm["adapter"].as<std::string>() << ": its " << reason
              << "; the gate fails on \"not revoked\"\n";
  }

  reports::GateReportData report;
  report.adapter = {outcome.adapter.DisplayName(), outcome.adapter.digest};
  if (outcome.base) report.base = {outcome.base->DisplayName(), outcome.base->digest};
  report.decision = outcome.decision->decision;
  // With --json, stdout holds the JSON alone: GitHub reads annotations on stderr as well.
  GRAFT_RETURN_IF_ERROR(reports::WriteGateOutputs(
      report,
      {OutputPath(vm, OutputFile::kJunit), OutputPath(vm, OutputFile::kMarkdown),
       OutputPath(vm, OutputFile::kJson), outcome.decision->digest},
      WantsJson(vm) ? std::cerr : std::cout));
  if (WantsJson(vm)) {
    std::cout << reports::RenderJson(reports::GateReportJson(report));
  } else if (!Quiet()) {
    const std::string markdown = reports::RenderGateMarkdown(report);
    std::cout << (ColourStdout() ? ColourVerdicts(markdown) : markdown);
  }
  return report.decision.exit_code;
}

ModelRunnerRegistrar kGateRunner("gate", RunGate);

}  // namespace
}  // namespace graft::cli
