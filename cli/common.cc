#include "cli/common.h"

#include <cstdlib>
#include <iostream>

#include "registry/names.h"

namespace graft::cli {

void AddRegistryOption(po::options_description& options) {
  options.add_options()("registry,R", po::value<std::string>(),
                        "registry directory (default: $GRAFT_REGISTRY, else ./.graft)");
}

std::filesystem::path RegistryDir(const po::variables_map& vm) {
  if (vm.count("registry")) return vm["registry"].as<std::string>();
  if (const char* env = std::getenv("GRAFT_REGISTRY"); env != nullptr && *env != '\0') return env;
  return ".graft";
}

Result<registry::Registry> OpenRegistry(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry registry, registry::Registry::Open(RegistryDir(vm)));
  std::vector<std::pair<std::string, std::string>> keys;  // (path, where it was named)
  if (vm.count("key")) keys.emplace_back(vm["key"].as<std::string>(), "--key");
  if (const char* env = std::getenv("GRAFT_KEY"); env != nullptr && *env != '\0') {
    keys.emplace_back(env, "$GRAFT_KEY");
  }
  for (const auto& [path, where] : keys) {
    Result<PrivateKey> key = PrivateKey::LoadPem(path);
    if (!key.ok()) return InvalidInput(key.status().message() + " (" + where + ")");
    registry.AddActorKey(std::move(*key));
  }
  return registry;
}

void AddSigningKeyOption(po::options_description& options, const std::string& roles) {
  options.add_options()(
      "key", po::value<std::string>(),
      ("private key (PEM) that signs the change: a " + roles + " key (default: $GRAFT_KEY)")
          .c_str());
}

Result<registry::Registry> OpenRegistrySnapshot(const po::variables_map& vm) {
  return registry::Registry::Open(RegistryDir(vm), {.snapshot = true});
}

std::string Printable(std::string_view text) { return registry::EscapeControl(text); }

void AddJsonOption(po::options_description& options) {
  options.add_options()("json", "print one JSON document on stdout, and nothing else");
}

bool WantsJson(const po::variables_map& vm) { return vm.count("json") > 0; }

void PrintJson(const Json& json) { std::cout << json.dump(2) << "\n"; }

std::string ShortDigest(const std::string& hex) { return "sha256:" + hex.substr(0, 12); }

}  // namespace graft::cli
