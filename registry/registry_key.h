// Where the registry's checkpoint-signing key lives (outside the registry directory), and loading
// it checked against the key id recorded at init.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/keys.h"
#include "core/status.h"

namespace graft::registry {

// The file in the registry directory that remembers where init put the key (a hint: whatever it
// names must still be the key whose id the log recorded).
inline constexpr std::string_view kRegistryKeyLocationFile = "registry-key.location";
// Where registries made before the key moved out kept it (still read, never written).
inline constexpr std::string_view kLegacyRegistryKeyFile = "registry-key.pem";
// The environment variable naming the key file (for init and every later change).
inline constexpr char kRegistryKeyEnv[] = "GRAFT_REGISTRY_KEY";

// $XDG_CONFIG_HOME/graft/registry-keys/<first 16 hex of the key id>.pem (XDG_CONFIG_HOME defaults
// to ~/.config); an error when neither XDG_CONFIG_HOME nor HOME is set.
Result<std::filesystem::path> DefaultRegistryKeyPath(std::string_view key_id);

// The registry key of the registry in `dir`: $GRAFT_REGISTRY_KEY, else the file init recorded,
// else the default path for `key_id`, else the legacy file inside the registry. The key found
// must have `key_id` (the id the log recorded at init); a foreign key is refused.
Result<PrivateKey> LoadRegistryKey(const std::filesystem::path& dir, const std::string& key_id);

}  // namespace graft::registry
