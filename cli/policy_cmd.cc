// `graft policy register|list|show`: promotion-and-exit policies, immutable, versioned by name.
#include <iostream>

#include "cli/common.h"
#include "cli/object_commands.h"
#include "policies/lifecycle.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      registry::ObjectRecord record,
      lifecycle.RegisterPolicy(vm["file"].as<std::string>(),
                               vm.count("name") ? vm["name"].as<std::string>() : ""));
  return PrintRegistered(vm, record);
}

GroupRegistrar kPolicyGroup("policy", "Policies: register (before training), list, show");

CommandRegistrar kRegister({
    .group = "policy",
    .verb = "register",
    .summary = "Register a policy file (validated; identity = digest of its canonical bytes)",
    .usage = "FILE [--name NAME]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("file", po::value<std::string>()->required(), "policy YAML")(
              "name", po::value<std::string>(),
              "name (default: the file's policy: key); versions are name@1, @2, ...");
          positional.add("file", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kCuratorRole);
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList(ListObjectsCommand("policy", "policy", "List registered policies"));

CommandRegistrar kShow(ShowObjectCommand("policy", "policy",
                                         "Show a policy: digest, labels, log position"));

}  // namespace
}  // namespace graft::cli
