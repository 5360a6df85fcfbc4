// `graft base register|list|show`: base models in the registry (the `base` group's other verbs
// live in the models module's command file).
#include "cli/common.h"
#include "cli/object_commands.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(
      registry::ObjectRecord record,
      reg.RegisterBase(vm["dir"].as<std::string>(), vm["name"].as<std::string>()));
  return PrintRegistered(vm, record);
}

Result<int> RunList(const po::variables_map& vm) {
  registry::ObjectFilter filter;
  filter.kind = "base";
  if (vm.count("name")) filter.name = vm["name"].as<std::string>();
  return RunListObjects(vm, filter);
}

CommandRegistrar kRegister({
    .group = "base",
    .verb = "register",
    .summary = "Register a base model directory (config.json, safetensors, tokenizer)",
    .usage = "DIR --name NAME",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>()->required(), "model directory")(
              "name", po::value<std::string>()->required(), "name; versions are name@1, @2, ...");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList({
    .group = "base",
    .verb = "list",
    .summary = "List registered base models",
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
    .group = "base",
    .verb = "show",
    .summary = "Show a registered base model",
    .usage = "REF",
    .define = DefineRefOptions,
    .run = [](const po::variables_map& vm) { return RunShowObject(vm, "base"); },
});

}  // namespace
}  // namespace graft::cli
