// RegistryNames: how reports name registry objects and keys ("support-bot@3",
// "carol (key 5f1c2a9d0e4b)") instead of bare digests.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "registry/registry.h"

namespace graft::report_builder {

// "sha256:<hex>" (unchanged when already prefixed).
std::string Sha256Prefixed(const std::string& hex);
// "sha256:<first 12 hex>".
std::string ShortSha256(const std::string& hex);

class RegistryNames {
 public:
  // Reads the registry's keys (trusted and revoked, every role).
  static Result<RegistryNames> Load(registry::Registry& registry);

  // The latest label of a registered object ("support-bot@3"), else ShortSha256(digest).
  std::string Object(const std::string& digest) const;
  // The name a key is trusted under ("carol"), else "key 5f1c2a9d0e4b" ("no verified signature"
  // for an empty id).
  std::string KeyName(const std::string& key_id) const;
  // "carol (key 5f1c2a9d0e4b), ..." for key ids; a key the registry never trusted is "(key ...)".
  std::string Keys(const std::vector<std::string>& key_ids) const;
  // An event's actor: a key id becomes Keys({id}), anything else (user@host) stays.
  std::string Actor(const std::string& actor) const;
  // "key 5f1c2a9d0e4b revoked at event 40 (reason)" for each revoked key among `key_ids`.
  std::string RevokedNote(const std::vector<std::string>& key_ids) const;
  const std::vector<registry::KeyRecord>& keys() const { return keys_; }

 private:
  explicit RegistryNames(registry::Registry& registry) : registry_(&registry) {}
  registry::Registry* registry_;
  std::vector<registry::KeyRecord> keys_;
};

}  // namespace graft::report_builder
