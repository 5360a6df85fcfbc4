// `graft policy register|list|show`: promotion-and-exit policies, immutable, versioned by name.
#include <iostream>

#include "cli/common.h"
#include "cli/object_commands.h"
#include "policies/lifecycle.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(
      registry::ObjectRecord record,
      lifecycle.RegisterPolicy(vm["file"].as<std::string>(),
                               vm.count("name") ? vm["name"].as<std::string>() : ""));
  return PrintRegistered(vm, record);
}

Result<int> RunList(const po::variables_map& vm) {
  registry::ObjectFilter filter;
  filter.kind = "policy";
  if (vm.count("name")) filter.name = vm["name"].as<std::string>();
  return RunListObjects(vm, filter);
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
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList({
    .group = "policy",
    .verb = "list",
    .summary = "List registered policies",
    .usage = "",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("name", po::value<std::string>(), "only this name");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunList,
});

CommandRegistrar kShow({
    .group = "policy",
    .verb = "show",
    .summary = "Show a policy: digest, labels, log position",
    .usage = "REF",
    .define = DefineRefOptions,
    .run = [](const po::variables_map& vm) { return RunShowObject(vm, "policy"); },
});

}  // namespace
}  // namespace graft::cli
