#include "registry/object_identity.h"

#include <algorithm>
#include <set>
#include <string>

namespace graft::registry {

Manifest IdentityManifest(const Json& info, std::vector<ManifestEntry> files) {
  std::set<std::string> ignored;
  if (info.is_object() && info.contains("identity_ignore") && info["identity_ignore"].is_array()) {
    for (const Json& path : info["identity_ignore"]) {
      if (path.is_string()) ignored.insert(path.get<std::string>());
    }
  }
  Manifest identity;
  for (ManifestEntry& file : files) {
    if (!ignored.contains(file.path)) identity.entries.push_back(std::move(file));
  }
  std::sort(identity.entries.begin(), identity.entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) {
              return ManifestPathLess(a.path, b.path);
            });
  return identity;
}

}  // namespace graft::registry
