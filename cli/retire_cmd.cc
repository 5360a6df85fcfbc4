// `graft retire ADAPTER --reason TEXT`: stage retired; channels serving it are rolled back.
#include <iostream>

#include "cli/common.h"
#include "policies/lifecycle.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRetire(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      std::vector<policies::RollbackOutcome> rolled,
      lifecycle.Retire(vm["adapter"].as<std::string>(), vm["reason"].as<std::string>()));
  if (WantsJson(vm)) {
    Json channels = Json::array();
    for (const policies::RollbackOutcome& r : rolled) {
      channels.push_back(
          {{"channel", r.channel}, {"from", "sha256:" + r.from}, {"to", "sha256:" + r.to}});
    }
    PrintJson({{"stage", "retired"}, {"rolled_back", channels}});
  } else {
    std::cout << "retired\n";
    for (const policies::RollbackOutcome& r : rolled) {
      std::cout << "rolled back " << r.channel << ": " << ShortDigest(r.from) << " -> "
                << ShortDigest(r.to) << "\n";
    }
  }
  return kExitOk;
}

CommandRegistrar kRetire({
    .group = "retire",
    .verb = "",
    .summary = "Retire an adapter (channels serving it are rolled back)",
    .usage = "ADAPTER --reason TEXT",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>()->required(), "adapter REF")(
              "reason", po::value<std::string>()->required(), "why (logged)");
          positional.add("adapter", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kReleaseRole);
          AddJsonOption(options);
        },
    .run = RunRetire,
});

}  // namespace
}  // namespace graft::cli
