// `graft rollback NAME --channel NAME`: re-points a channel at the version it served before.
#include <iostream>

#include "cli/common.h"
#include "policies/lifecycle.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRollback(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      policies::RollbackOutcome outcome,
      lifecycle.Rollback(vm["name"].as<std::string>(), vm["channel"].as<std::string>(),
                         vm.count("reason") ? vm["reason"].as<std::string>() : "manual"));
  if (WantsJson(vm)) {
    PrintJson({{"channel", outcome.channel},
               {"from", "sha256:" + outcome.from},
               {"to", "sha256:" + outcome.to}});
  } else {
    std::cout << "rolled back " << outcome.channel << ": " << ShortDigest(outcome.from) << " -> "
              << ShortDigest(outcome.to) << "\n";
  }
  return kExitOk;
}

CommandRegistrar kRollback({
    .group = "rollback",
    .verb = "",
    .summary = "Return a channel to the version it served before the current one",
    .usage = "NAME --channel NAME [--reason TEXT]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("name", po::value<std::string>()->required(), "adapter name")(
              "channel", po::value<std::string>()->required(), "channel")(
              "reason", po::value<std::string>(), "why (logged; default \"manual\")");
          positional.add("name", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kReleaseRole);
          AddJsonOption(options);
        },
    .run = RunRollback,
});

}  // namespace
}  // namespace graft::cli
