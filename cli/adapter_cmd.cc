// `graft adapter register|list|show|export`: PEFT LoRA adapters, identified by root digest
// (`tag` and `describe`: cli/adapter_annotate_cmd.cc).
#include <iostream>

#include "cli/common.h"
#include "cli/object_commands.h"
#include "policies/lifecycle.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  registry::AdapterOptions options;
  options.name = vm["name"].as<std::string>();
  if (vm.count("base")) options.base_ref = vm["base"].as<std::string>();
  options.unattested = vm.count("unattested") > 0;
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         reg.RegisterAdapter(vm["dir"].as<std::string>(), options));
  return PrintRegistered(vm, record);
}

Result<int> RunList(const po::variables_map& vm) {
  registry::ObjectFilter filter;
  filter.kind = registry::kAdapterKind;
  if (vm.count("name")) filter.name = vm["name"].as<std::string>();
  if (vm.count("base")) filter.base_digest = vm["base"].as<std::string>();
  if (vm.count("stage")) filter.stage = vm["stage"].as<std::string>();
  if (vm.count("tag")) {
    for (const std::string& tag : vm["tag"].as<std::vector<std::string>>()) {
      GRAFT_ASSIGN_OR_RETURN(registry::TagFilter parsed, registry::TagFilter::Parse(tag));
      filter.tags.push_back(std::move(parsed));
    }
  }
  return RunListObjects(vm, filter);
}

GroupRegistrar kAdapterGroup("adapter", "LoRA adapters: register, list, show, export");

CommandRegistrar kRegister({
    .group = "adapter",
    .verb = "register",
    .summary = "Register a PEFT LoRA directory (verifies model.sig and provenance)",
    .usage = "DIR --name NAME",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>()->required(), "PEFT directory")(
              "name", po::value<std::string>()->required(), "name; versions are name@1, @2, ...")(
              "base", po::value<std::string>(),
              "base REF (default: adapter_config.json's base_model_name_or_path)")(
              "unattested", "register without model.sig / provenance (marked UNATTESTED)");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, "trainer or curator (unattested adapters, new names)");
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList({
    .group = "adapter",
    .verb = "list",
    .summary = "List adapters (filter by name, base, stage, tags)",
    .usage = "",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("name", po::value<std::string>(), "only this name")(
              "base", po::value<std::string>(), "only adapters of this base REF")(
              "stage", po::value<std::string>(), "only this stage")(
              "tag", po::value<std::vector<std::string>>(),
              "only adapters with tag KEY=VALUE, or with tag KEY (repeatable: all must match)");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunList,
});

// The object view, then (as text) what the lifecycle knows: channels, decisions, approvals.
Result<int> RunShowAdapter(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(int code, RunShowObject(vm, "adapter"));
  if (WantsJson(vm)) return code;
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         reg.Resolve(registry::kAdapterKind, vm["ref"].as<std::string>()));
  policies::Lifecycle lifecycle(reg);
  GRAFT_ASSIGN_OR_RETURN(Json described, lifecycle.Describe(adapter));
  std::cout << "  channels:   ";
  for (const auto& channel : described["channels"]) std::cout << channel.get<std::string>() << " ";
  std::cout << "\n  decisions:\n";
  for (const auto& d : described["decisions"]) {
    std::cout << "    event " << d.value("seq", 0) << "  " << d.value("verdict", "") << "  "
              << d.value("policy", "") << "  " << d.value("digest", "") << "\n";
  }
  std::cout << "  approvals:  " << described["approvals"].size() << "\n";
  return code;
}

CommandRegistrar kShow({
    .group = "adapter",
    .verb = "show",
    .summary = "Show an adapter: config, base, signer, provenance, attestations",
    .usage = "REF",
    .define = DefineRefOptions,
    .run = RunShowAdapter,
});

CommandRegistrar kExport(ExportObjectCommand(
    "adapter", "adapter", "Write an adapter's files to a directory, re-verifying every digest"));

}  // namespace
}  // namespace graft::cli
