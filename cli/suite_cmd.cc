// `graft suite register|list|show`: evaluation suites, pinned by digest with their data.
#include "cli/common.h"
#include "cli/object_commands.h"
#include "evaluator/suite/suite_registry.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  std::string name = vm.count("name") ? vm["name"].as<std::string>() : "";
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         suite::RegisterSuite(reg, vm["file"].as<std::string>(), name));
  return PrintRegistered(vm, record);
}

GroupRegistrar kSuiteGroup("suite", "Evaluation suites (YAML task lists over pinned JSONL data)");

CommandRegistrar kRegister({
    .group = "suite",
    .verb = "register",
    .summary = "Register a suite file and its data files (every pinned SHA-256 is checked)",
    .usage = "FILE [--name NAME]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("file", po::value<std::string>()->required(), "suite YAML file")(
              "name", po::value<std::string>(), "name (default: the file's `suite:` key)");
          positional.add("file", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kCuratorRole);
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList(ListObjectsCommand("suite", "suite", "List registered suites"));

CommandRegistrar kShow(ShowObjectCommand("suite", "suite", "Show a registered suite"));

}  // namespace
}  // namespace graft::cli
