// KeyHistory: the registry's keys, roles and revocations as the log has them at each position,
// rebuilt by replaying key.trust and key.revoke events in order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "registry/event_log.h"

namespace graft::registry {

class KeyHistory {
 public:
  // Applies one event (anything but key.trust and key.revoke is ignored). Events must come in
  // log order; a malformed key event is ignored here (the table replay names it).
  void Apply(const Event& event);

  // "" when `key_id` held one of `roles` (any role when empty) and was not revoked at the point
  // the log has reached; else why not ("key ab12... is not a release key (it has role trainer)").
  std::string Why(const std::string& key_id, const std::vector<std::string_view>& roles) const;
  // The public key, if the log has trusted it.
  const PublicKey* Find(const std::string& key_id) const;
  // The roles the key holds now (not revoked).
  std::vector<std::string> Roles(const std::string& key_id) const;

 private:
  struct Key {
    std::optional<PublicKey> pub;
    std::vector<std::string> roles;
    std::optional<uint64_t> revoked_seq;
    std::string revoke_reason;
  };
  std::map<std::string, Key> keys_;
};

}  // namespace graft::registry
