// `graft key generate`: a new signing key pair (the registry's trusted keys:
// cli/key_trust_cmd.cc).
#include <iostream>

#include "cli/command.h"
#include "core/json.h"
#include "core/keys.h"

namespace graft::cli {
namespace {

namespace fs = std::filesystem;

Result<int> RunKeyGenerate(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(KeyAlgorithm algorithm,
                         ParseKeyAlgorithm(vm["algorithm"].as<std::string>()));
  fs::path out = vm["out"].as<std::string>();
  fs::path pub = out;
  pub += ".pub";
  if (!vm.count("force")) {
    for (const fs::path& path : {out, pub}) {
      std::error_code ec;
      if (fs::exists(fs::symlink_status(path, ec))) {
        return Conflict(path.string() + " already exists (use --force to replace it)");
      }
    }
  }
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(algorithm));
  GRAFT_RETURN_IF_ERROR(key.Save(out));
  if (vm.count("json")) {
    Json json = {{"key_id", key.key_id()},
                 {"algorithm", KeyAlgorithmName(algorithm)},
                 {"private_key", out.string()},
                 {"public_key", pub.string()}};
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << key.key_id() << "\n";
    std::cerr << "wrote " << out.string() << " (private, mode 0600) and " << pub.string() << "\n";
  }
  return kExitOk;
}

GroupRegistrar kKeyGroup("key", "Signing keys: generate, trust, revoke and list them");

CommandRegistrar kKeyGenerate({
    .group = "key",
    .verb = "generate",
    .summary = "Generate a signing key pair and print its key id",
    .usage = "--out FILE",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()(
              "algorithm,a", po::value<std::string>()->default_value("ed25519"),
              "ed25519, ecdsa-p256 or ecdsa-p384 (ECDSA keys make model.sig files the OpenSSF "
              "model_signing tool can verify)")(
              "out,o", po::value<std::string>()->required(),
              "private key file (PKCS#8 PEM, mode 0600); the public key goes to FILE.pub")(
              "force", "replace existing key files")("json", "print JSON");
        },
    .run = RunKeyGenerate,
});

}  // namespace
}  // namespace graft::cli
