// `graft init`: creates a registry directory with its database, blob store and signing key.
#include <iostream>

#include "cli/common.h"

namespace graft::cli {
namespace {

Result<int> RunInit(const po::variables_map& vm) {
  std::filesystem::path dir =
      vm.count("dir") ? std::filesystem::path(vm["dir"].as<std::string>()) : RegistryDir(vm);
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Init(dir));
  if (WantsJson(vm)) {
    PrintJson({{"registry", dir.string()},
               {"origin", reg.origin()},
               {"registry_key_id", reg.registry_key().key_id()}});
  } else {
    std::cout << "initialised graft registry " << dir.string() << "\n"
              << "  log origin:   " << reg.origin() << "\n"
              << "  registry key: " << reg.registry_key().key_id() << " ("
              << (dir / registry::kRegistryKeyFile).string() << ", mode 0600)\n";
  }
  return kExitOk;
}

CommandRegistrar kInit({
    .group = "init",
    .verb = "",
    .summary = "Create a registry (database, blob store, Ed25519 registry key)",
    .usage = "[DIR]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>(),
                                "registry directory (default: --registry, $GRAFT_REGISTRY, "
                                "./.graft)");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunInit,
});

}  // namespace
}  // namespace graft::cli
