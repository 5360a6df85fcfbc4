// `graft approve ADAPTER --key KEY`: a signed approval of an adapter by an approver key.
#include <iostream>

#include "cli/common.h"
#include "policies/lifecycle.h"

namespace graft::cli {
namespace {

Result<int> RunApprove(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      registry::AttestationRecord record,
      lifecycle.Approve(vm["adapter"].as<std::string>(), key,
                        vm.count("comment") ? vm["comment"].as<std::string>() : ""));
  if (WantsJson(vm)) {
    PrintJson(record.ToJson());
  } else {
    std::cout << "approval sha256:" << record.digest << " of adapter "
              << ShortDigest(record.subject) << " by key " << key.key_id() << " (event "
              << record.seq << ")\n";
  }
  return kExitOk;
}

CommandRegistrar kApprove({
    .group = "approve",
    .verb = "",
    .summary = "Approve an adapter for promotion (DSSE-signed with an approver key)",
    .usage = "ADAPTER --key KEY [--comment TEXT]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>()->required(), "adapter REF")(
              "key", po::value<std::string>()->required(), "approver private key (PEM)")(
              "comment", po::value<std::string>(), "why it is approved");
          positional.add("adapter", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunApprove,
});

}  // namespace
}  // namespace graft::cli
