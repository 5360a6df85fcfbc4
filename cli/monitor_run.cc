// The runner of `graft monitor` (graft-model only; the options are in cli/monitor_cmd.cc).
#include <ctime>
#include <iostream>
#include <set>

#include "cli/common.h"
#include "cli/evaluation_options.h"
#include "evaluator/adapter_evaluator.h"
#include "policies/lifecycle.h"
#include "policies/revocation_screen.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

// Days since an RFC 3339 UTC time ("2026-11-28T10:00:00Z"), or nullopt when it does not parse.
std::optional<double> DaysSince(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return std::nullopt;
  return std::difftime(std::time(nullptr), timegm(&tm)) / 86400.0;
}

Result<int> RunMonitor(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(evaluator::EvaluationSettings settings, EvaluationSettingsFrom(vm));
  const std::string channel = vm["channel"].as<std::string>();
  if (channel.find('@') == std::string::npos) {
    return InvalidInput("--channel takes NAME@CHANNEL (e.g. site-bot@production)");
  }
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         reg.Resolve(registry::kAdapterKind, channel));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(auto governing, lifecycle.GoverningPolicy(adapter));
  const auto& [policy, policy_record] = governing;

  std::set<std::string> only;
  if (vm.count("suite")) {
    for (const auto& s : vm["suite"].as<std::vector<std::string>>()) only.insert(s);
  }
  std::vector<std::string> suites;
  for (const policies::MonitorExit& m : policy.exit.monitors) {
    bool wanted = only.empty() || only.count(m.monitor);
    bool listed = std::find(suites.begin(), suites.end(), m.monitor) != suites.end();
    if (wanted && !listed) suites.push_back(m.monitor);
  }
  policies::ExitFacts facts;
  GRAFT_ASSIGN_OR_RETURN(policies::RequirementFacts requirement,
                         lifecycle.Facts(adapter, policy_record));
  facts.revoked = requirement.revoked;
  // An adapter that is revoked, or depends on something revoked, cannot be exported to evaluate
  // it: its revocations are what the exit criteria judge.
  GRAFT_ASSIGN_OR_RETURN(policies::RevocationScreen revocations,
                         policies::RevocationScreen::Of(reg, adapter));
  for (const registry::Revocation& r : revocations.all) {
    std::cout << "not evaluated: " << (r.relation == registry::kSelfRevocation ? "" : "its ")
              << r.Describe() << "\n";
  }
  if (!revocations.all.empty()) suites.clear();
  if (!suites.empty()) {
    if (!vm.count("key")) return InvalidInput("monitoring suites need --key (an evaluator key)");
    GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
    evaluator::AdapterEvaluator evaluator(reg, settings);
    GRAFT_ASSIGN_OR_RETURN(evaluator::EvaluationOutcome outcome,
                           evaluator.Evaluate(adapter.digest, suites, key, TerminalProgress()));
    for (size_t i = 0; i < outcome.suites.size(); ++i) {
      for (const evaluator::TaskOutcome& task : outcome.suites[i].tasks) {
        for (const stats::MetricComparison& c : task.comparisons) {
          facts.observations.push_back({suites[i], c.metric, c.adapter});
          std::cout << "observed " << suites[i] << "/" << c.metric << " = " << c.adapter << "\n";
        }
      }
    }
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Event registered, reg.GetEvent(adapter.created_seq));
  facts.age_days = DaysSince(registered.json.value("time", ""));

  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> reasons,
                         lifecycle.ApplyExit(adapter.digest, facts));
  const std::string label = adapter.DisplayName();
  if (reasons.empty()) {
    std::cout << label << " stays on " << channel << ": no exit criterion of policy " << policy.name
              << " is met\n";
  } else {
    std::cout << label << " retired (channels with an earlier version were rolled back):\n";
    for (const std::string& r : reasons) std::cout << "  " << r << "\n";
  }
  return kExitOk;
}

ModelRunnerRegistrar kMonitorRunner("monitor", RunMonitor);

}  // namespace
}  // namespace graft::cli
