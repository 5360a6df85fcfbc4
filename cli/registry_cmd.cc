// `graft init`: creates a registry directory with its database, blob store and signing key.
#include <iostream>
#include <optional>

#include "cli/common.h"
#include "core/file_util.h"
#include "core/keys.h"

namespace graft::cli {
namespace {

Result<int> RunInit(const po::variables_map& vm) {
  std::filesystem::path dir =
      vm.count("dir") ? std::filesystem::path(vm["dir"].as<std::string>()) : RegistryDir(vm);
  // The first admin key: a public key given, or a new one written (0600) where asked.
  std::optional<PublicKey> admin;
  std::optional<PrivateKey> generated;
  if (vm.count("admin-key") && vm.count("new-admin-key")) {
    return InvalidInput("pass --admin-key or --new-admin-key, not both");
  }
  if (vm.count("admin-key")) {
    GRAFT_ASSIGN_OR_RETURN(admin, PublicKey::LoadPem(vm["admin-key"].as<std::string>()));
  } else if (vm.count("new-admin-key")) {
    const std::filesystem::path out = vm["new-admin-key"].as<std::string>();
    std::error_code error;
    if (std::filesystem::exists(out, error)) {
      return InvalidInput(out.string() + " exists; refusing to overwrite a key");
    }
    GRAFT_ASSIGN_OR_RETURN(generated, PrivateKey::Generate(KeyAlgorithm::kEd25519));
    admin = generated->public_key();
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg,
                         registry::Registry::Init(dir, admin ? &*admin : nullptr));
  if (generated) {
    const std::filesystem::path out = vm["new-admin-key"].as<std::string>();
    Status saved = generated->Save(out);
    if (saved.ok()) saved = WriteFileAtomic(out.string() + ".pub", generated->public_key().ToPem());
    if (!saved.ok()) {
      std::error_code error;
      std::filesystem::remove_all(dir, error);  // an admin key nobody holds locks the registry
      return saved.WithContext("writing the new admin key (the registry was removed)");
    }
  }
  if (WantsJson(vm)) {
    PrintJson({{"registry", dir.string()},
               {"origin", reg.origin()},
               {"registry_key_id", reg.registry_key().key_id()},
               {"admin_key_id", admin ? Json(admin->key_id()) : Json()}});
  } else {
    std::cout << "initialised graft registry " << dir.string() << "\n"
              << "  log origin:   " << reg.origin() << "\n"
              << "  registry key: " << reg.registry_key().key_id() << " ("
              << (dir / registry::kRegistryKeyFile).string() << ", mode 0600)\n";
    if (admin) {
      std::cout << "  admin key:    " << admin->key_id()
                << (generated ? " (new: " + vm["new-admin-key"].as<std::string>() + ", mode 0600)"
                              : "")
                << "\n  every change must now be signed by a key whose role allows it "
                   "(--key, $GRAFT_KEY)\n";
    } else {
      std::cout << "  no admin key: changes are not signed, and the audit cannot tell who made "
                   "them (--admin-key PUB or --new-admin-key FILE)\n";
    }
  }
  return kExitOk;
}

CommandRegistrar kInit({
    .group = "init",
    .verb = "",
    .summary = "Create a registry (database, blob store, Ed25519 registry key)",
    .usage = "[DIR] [--admin-key PUB | --new-admin-key FILE]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>(),
                                "registry directory (default: --registry, $GRAFT_REGISTRY, "
                                "./.graft)");
          options.add_options()("admin-key", po::value<std::string>(),
                                "public key (PEM) trusted as the first admin: every change is "
                                "then signed by a key whose role allows it")(
              "new-admin-key", po::value<std::string>(),
              "generate the first admin key: private key to FILE (0600), public to FILE.pub");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunInit,
});

}  // namespace
}  // namespace graft::cli
