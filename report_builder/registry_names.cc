#include "report_builder/registry_names.h"

#include <algorithm>

namespace graft::report_builder {

std::string Sha256Prefixed(const std::string& hex) {
  return hex.starts_with("sha256:") ? hex : "sha256:" + hex;
}

std::string ShortSha256(const std::string& hex) { return Sha256Prefixed(hex).substr(0, 7 + 12); }

Result<RegistryNames> RegistryNames::Load(registry::Registry& registry) {
  RegistryNames names(registry);
  GRAFT_ASSIGN_OR_RETURN(names.keys_, registry.Keys());
  return names;
}

std::string RegistryNames::Object(const std::string& digest) const {
  Result<registry::ObjectRecord> record = registry_->Get(digest);
  return record.ok() ? record->DisplayName() : ShortSha256(digest);
}

std::string RegistryNames::KeyName(const std::string& key_id) const {
  if (key_id.empty()) return "no verified signature";
  for (const registry::KeyRecord& k : keys_) {
    if (k.key_id == key_id && !k.name.empty()) return k.name;
  }
  return "key " + key_id.substr(0, 12);
}

std::string RegistryNames::Keys(const std::vector<std::string>& key_ids) const {
  std::string out;
  for (const std::string& id : key_ids) {
    std::string name;
    for (const registry::KeyRecord& k : keys_) {
      if (k.key_id == id && !k.name.empty()) name = k.name + " ";
    }
    out += (out.empty() ? "" : ", ") + name + "(key " + id.substr(0, 12) + ")";
  }
  return out;
}

std::string RegistryNames::Actor(const std::string& actor) const {
  const bool is_key = std::any_of(keys_.begin(), keys_.end(),
                                  [&](const registry::KeyRecord& k) { return k.key_id == actor; });
  return is_key ? Keys({actor}) : actor;
}

std::string RegistryNames::RevokedNote(const std::vector<std::string>& key_ids) const {
  std::string out;
  for (const registry::KeyRecord& k : keys_) {
    if (!k.revoked_seq || std::find(key_ids.begin(), key_ids.end(), k.key_id) == key_ids.end()) {
      continue;
    }
    out += (out.empty() ? "" : "; ") + std::string("key ") + k.key_id.substr(0, 12) +
           " revoked at event " + std::to_string(*k.revoked_seq) + " (" + k.revoke_reason + ")";
  }
  return out;
}

}  // namespace graft::report_builder
