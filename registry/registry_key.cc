#include "registry/registry_key.h"

#include <cstdlib>
#include <vector>

#include "core/file_util.h"

namespace graft::registry {
namespace fs = std::filesystem;

Result<fs::path> DefaultRegistryKeyPath(std::string_view key_id) {
  fs::path config;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
    config = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    config = fs::path(home) / ".config";
  } else {
    return InvalidInput(
        "neither XDG_CONFIG_HOME nor HOME is set, so there is no default place for the "
        "registry key: pass --registry-key FILE or set " +
        std::string(kRegistryKeyEnv));
  }
  return config / "graft" / "registry-keys" / (std::string(key_id.substr(0, 16)) + ".pem");
}

Result<PrivateKey> LoadRegistryKey(const fs::path& dir, const std::string& key_id) {
  std::vector<std::pair<fs::path, std::string>> candidates;  // (file, where it was named)
  if (const char* env = std::getenv(kRegistryKeyEnv); env != nullptr && *env != '\0') {
    candidates.emplace_back(env, "$" + std::string(kRegistryKeyEnv));
  } else {
    std::error_code error;
    fs::path hint_file = dir / kRegistryKeyLocationFile;
    if (fs::exists(hint_file, error)) {
      GRAFT_ASSIGN_OR_RETURN(std::string hint, ReadFile(hint_file, 4096));
      while (!hint.empty() && (hint.back() == '\n' || hint.back() == '\r')) hint.pop_back();
      if (!hint.empty()) candidates.emplace_back(hint, hint_file.string());
    }
    Result<fs::path> default_path = DefaultRegistryKeyPath(key_id);
    if (default_path.ok()) candidates.emplace_back(*default_path, "the default location");
    candidates.emplace_back(dir / kLegacyRegistryKeyFile, "the registry directory");
  }
  std::string tried;
  for (const auto& [path, source] : candidates) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      tried += (tried.empty() ? "" : ", ") + path.string();
      continue;
    }
    Result<PrivateKey> key = PrivateKey::LoadPem(path);
    if (!key.ok()) {
      return key.status().WithContext("the registry key " + path.string() + " (from " + source +
                                      ")");
    }
    if (key->key_id() != key_id) {
      return InvalidInput("the registry key " + path.string() + " (from " + source +
                          ") has key id " + key->key_id() + ", but this registry's key is " +
                          key_id + " (recorded at init): refusing to sign with a foreign key");
    }
    return key;
  }
  return NotFound("this registry's key " + key_id.substr(0, 16) + "... was not found (tried " +
                  tried + "); set " + std::string(kRegistryKeyEnv) +
                  " to the key file given at 'graft init'");
}

}  // namespace graft::registry
