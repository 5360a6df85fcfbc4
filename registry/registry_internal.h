// Registry's private parts (its State and the Change of one Mutate call) and the helpers shared by
// the files that implement it (registry/registry*.cc); nothing outside them includes this.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "registry/blob_store.h"
#include "registry/database.h"
#include "registry/event_log.h"
#include "registry/intake.h"
#include "registry/projection.h"
#include "registry/registry.h"
#include "registry/statement.h"
#include "registry/transaction.h"

namespace graft::registry {

struct Registry::State {
  // A registry directory keeps its blobs as files beside the database and stages intake in it; a
  // PostgreSQL registry keeps them as rows and stages in a private local directory.
  State(std::filesystem::path d, Database database);

  std::filesystem::path dir;  // the directory, or the PostgreSQL URI without its password
  Database db;
  std::unique_ptr<BlobStore> blobs;
  std::filesystem::path
      staging;  // where Intake makes its staging directory (empty: LocalStaging())
  std::string origin;
  std::optional<PublicKey> registry_key;
  std::optional<PrivateKey> signer;
  // Changes must be signed by a key with a role allowed for them (RolesFor): the registry was
  // initialised with an admin key. `genesis`: Init's own first events, signed by nobody.
  bool guarded = false;
  bool genesis = false;
  std::vector<PrivateKey> actor_keys;  // sign the changes made through this Registry
  std::string actor;                   // the actor of unsigned changes (default: OS user@host)
  Change* open_change = nullptr;       // the change of the Mutate/Atomically call in progress
  int schema_version = 0;
  std::optional<ReadTransaction> snapshot;  // OpenOptions::snapshot; ends before `db` closes
  int reruns = 0;  // of the Mutate call in progress, after transient database failures
};

// The open write transaction of one Mutate call: appends events (applying each to the tables)
// and writes blobs, remembering the new ones so a failure can remove them.
class Registry::Change {
 public:
  explicit Change(State& state);

  // `actor`: the key id of the attestation that authorises the change (it is signed already);
  // otherwise the change is signed by `signer` when given, else by the actor key that holds a
  // role allowed for it.
  Result<Event> Append(std::string_view action, const Json& details, std::string actor = "",
                       const PrivateKey* signer = nullptr);
  Result<std::string> PutBlob(std::string_view bytes);
  // Every staged file of `intake` moved into the blob store: the bytes that were verified. Adds
  // each to `blobs` and returns the object's file rows.
  Result<Json> AdoptFiles(const Intake& intake, Json& blobs);

  // How far the change had got, to undo a failed part of it.
  struct Mark {
    size_t created_blobs = 0;
    bool appended = false;
  };
  Mark mark() const { return {created_blobs_.size(), appended_}; }
  // Removes the blobs created since `mark` (their rows were rolled back).
  void UndoSince(Mark mark);
  bool appended() const { return appended_; }
  // Staged files were consumed: the change cannot be run again from the start.
  bool adopted_files() const { return adopted_files_; }
  EventLog& log() { return log_; }

 private:
  // The first actor key that holds one of `roles` (trusted, not revoked) now; with no roles, the
  // first actor key. In a guarded registry a change that needs a role and has no such key is
  // refused; otherwise it is signed by the first key, or by nobody.
  Result<const PrivateKey*> ChooseSigner(std::string_view action,
                                         const std::vector<std::string_view>& roles,
                                         const std::vector<const PrivateKey*>& candidates);

  State& state_;
  EventLog log_;
  Projection projection_;
  bool appended_ = false;
  bool adopted_files_ = false;
  std::vector<std::string> created_blobs_;
};

// The database and blob store of a Registry, for graft_registry's own code that works on them
// directly (registry_copy.cc).
class RegistryInternals {
 public:
  static Database& db(Registry& registry) { return registry.db(); }
  static BlobStore& blobs(Registry& registry) { return registry.blobs(); }
};

// Every row `s` yields, each read by `read(s)`.
template <typename Read>
auto ReadRows(Statement& s, Read read)
    -> Result<std::vector<std::invoke_result_t<Read, Statement&>>> {
  std::vector<std::invoke_result_t<Read, Statement&>> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(read(s));
  }
  return out;
}

// The first column of every row `s` yields.
inline Result<std::vector<std::string>> ReadFirstColumn(Statement& s) {
  return ReadRows(s, [](Statement& row) { return row.Text(0); });
}

// A digest reference without its "sha256:" prefix.
std::string StripSha256(const std::string& ref);
// One entry of an event's "blobs".
Json BlobEntry(const std::string& digest, size_t size);
// An event's "edges" (from the object the event adds).
Json EdgesJson(const std::vector<Edge>& edges);
// The details of a key.trust event.
Json KeyTrustDetails(const PublicKey& key, std::string_view role, const std::string& name);

}  // namespace graft::registry
