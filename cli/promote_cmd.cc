// `graft promote ADAPTER --channel NAME`: moves a channel after re-checking the policy's evidence.
#include <iostream>

#include "cli/common.h"
#include "policies/lifecycle.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunPromote(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      policies::PromoteOutcome outcome,
      lifecycle.Promote(vm["adapter"].as<std::string>(), vm["channel"].as<std::string>()));
  if (WantsJson(vm)) {
    PrintJson({{"adapter", "sha256:" + outcome.adapter},
               {"channel", outcome.channel},
               {"promoted", outcome.promoted},
               {"previous", outcome.previous.empty() ? Json() : Json("sha256:" + outcome.previous)},
               {"gate_decision",
                outcome.gate_decision.empty() ? Json() : Json("sha256:" + outcome.gate_decision)},
               {"decision", outcome.decision.ToJson()}});
    return outcome.decision.exit_code;
  }
  for (const policies::CriterionResult& c : outcome.decision.criteria) {
    std::cout << "  " << policies::CriterionStatusName(c.status) << "  " << c.name << ": "
              << c.reason << "\n";
  }
  if (outcome.promoted) {
    std::cout << "promoted: " << outcome.channel << " -> " << ShortDigest(outcome.adapter) << " ("
              << (outcome.previous.empty() ? "new channel" : "was " + ShortDigest(outcome.previous))
              << ")\n";
  } else {
    std::cout << "promotion to " << outcome.channel << " blocked\n";
  }
  return outcome.decision.exit_code;
}

CommandRegistrar kPromote({
    .group = "promote",
    .verb = "",
    .summary = "Point a channel at an adapter that passed its gate and has its approvals",
    .usage = "ADAPTER --channel NAME",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>()->required(), "adapter REF")(
              "channel", po::value<std::string>()->required(),
              "channel (production, staging, or a site's own); stage production for "
              "\"production\", else staging");
          positional.add("adapter", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kReleaseRole);
          AddJsonOption(options);
        },
    .run = RunPromote,
});

}  // namespace
}  // namespace graft::cli
