#include "registry/key_history.h"

#include "registry/vocabulary.h"

#include <algorithm>

namespace graft::registry {

void KeyHistory::Apply(const Event& event) {
  const std::string action = event.json.value("action", "");
  const Json& details = event.json.contains("details") ? event.json["details"] : Json();
  if (!details.is_object() || !details.contains("key_id") || !details["key_id"].is_string()) {
    return;
  }
  const std::string key_id = details["key_id"].get<std::string>();
  if (action == kKeyTrustEvent) {
    Key& key = keys_[key_id];
    if (!key.pub && details.value("pem", Json()).is_string()) {
      Result<PublicKey> pub = PublicKey::FromPem(details["pem"].get<std::string>());
      if (pub.ok() && pub->key_id() == key_id) key.pub = std::move(*pub);
    }
    if (details.value("role", Json()).is_string()) {
      key.roles.push_back(details["role"].get<std::string>());
    }
  } else if (action == kKeyRevokeEvent) {
    auto it = keys_.find(key_id);
    if (it == keys_.end() || it->second.revoked_seq) return;
    it->second.revoked_seq = event.seq;
    it->second.revoke_reason = details.value("reason", Json()).is_string()
                                   ? details["reason"].get<std::string>()
                                   : std::string();
  }
}

std::string KeyHistory::Why(const std::string& key_id,
                            const std::vector<std::string_view>& roles) const {
  std::string wanted;
  for (std::string_view role : roles) wanted += (wanted.empty() ? "" : " or ") + std::string(role);
  auto it = keys_.find(key_id);
  if (it == keys_.end() || !it->second.pub) {
    return "key " + key_id + " was not trusted" + (wanted.empty() ? "" : " as " + wanted);
  }
  const Key& key = it->second;
  if (key.revoked_seq) {
    return "key " + key_id + " was revoked at event " + std::to_string(*key.revoked_seq) + " (" +
           key.revoke_reason + ")";
  }
  if (roles.empty()) return "";
  for (const std::string& held : key.roles) {
    if (std::find(roles.begin(), roles.end(), held) != roles.end()) return "";
  }
  std::string held;
  for (const std::string& r : key.roles) held += (held.empty() ? "" : ", ") + r;
  return "key " + key_id + " does not have role " + wanted + " (it has role " + held + ")";
}

const PublicKey* KeyHistory::Find(const std::string& key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() || !it->second.pub ? nullptr : &*it->second.pub;
}

std::vector<std::string> KeyHistory::Roles(const std::string& key_id) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end() || it->second.revoked_seq) return {};
  return it->second.roles;
}

}  // namespace graft::registry
