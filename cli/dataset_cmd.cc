// `graft dataset register|list|show|revoke`: JSONL datasets, identified by SHA-256.
#include "cli/common.h"
#include "cli/object_commands.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(
      registry::ObjectRecord record,
      reg.RegisterDataset(vm["file"].as<std::string>(), vm["name"].as<std::string>()));
  return PrintRegistered(vm, record);
}

Result<int> RunRevoke(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         reg.RevokeObject(registry::kDatasetKind, vm["ref"].as<std::string>(),
                                          vm["reason"].as<std::string>()));
  return PrintRegistered(vm, record);
}

GroupRegistrar kDatasetGroup("dataset", "JSONL datasets: register, list, show, revoke");

CommandRegistrar kRegister({
    .group = "dataset",
    .verb = "register",
    .summary = "Register a JSONL dataset file (one JSON object per line)",
    .usage = "FILE --name NAME",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("file", po::value<std::string>()->required(), "JSONL file")(
              "name", po::value<std::string>()->required(), "name; versions are name@1, @2, ...");
          positional.add("file", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kCuratorRole);
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList(ListObjectsCommand("dataset", "dataset", "List registered datasets"));

CommandRegistrar kShow(ShowObjectCommand("dataset", "dataset", "Show a registered dataset"));

CommandRegistrar kRevoke({
    .group = "dataset",
    .verb = "revoke",
    .summary = "Revoke a dataset (adapters trained on it are flagged)",
    .usage = "REF --reason TEXT",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          DefineRefOptions(options, positional);
          options.add_options()("reason", po::value<std::string>()->required(), "why");
          AddSigningKeyOption(options, registry::kCuratorRole);
        },
    .run = RunRevoke,
});

}  // namespace
}  // namespace graft::cli
