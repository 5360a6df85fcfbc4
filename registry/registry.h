// Registry: a registry's objects, names, keys, lineage, attestations and event log, in a directory
// (SQLite and blob files) or a PostgreSQL database (docs/registry.md, "PostgreSQL").
// Thread-safety: none; one Registry per thread. Instances may share a registry (writes serialise).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dsse.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "registry/annotations.h"
#include "registry/blob_store.h"
#include "registry/checkpoint.h"
#include "registry/database.h"
#include "registry/event_log.h"
#include "registry/transaction.h"
#include "registry/vocabulary.h"

namespace graft::registry {

inline constexpr std::string_view kDatabaseFile = "registry.db";
inline constexpr std::string_view kBlobDir = "blobs";

struct InitOptions {
  // The registry key's private key file (its public part is FILE.pub). An existing key file is
  // used as it is; an absent one is generated there (mode 0600, directories 0700). Empty: the
  // default location (DefaultRegistryKeyPath), outside the registry directory.
  std::filesystem::path registry_key{};
  // The first admin key (role "admin"); absent: changes are not signed by their actors.
  std::optional<PublicKey> admin_key{};
};

struct OpenOptions {
  // Read-only access in one consistent snapshot: the database is opened read-only and one read
  // transaction is held until the Registry is destroyed, so every query sees the registry as it
  // was when it was opened, whatever other processes commit meanwhile. Changes are refused.
  bool snapshot = false;
};

struct ObjectRecord {
  std::string digest;  // lowercase hex SHA-256, no prefix
  std::string kind;    // one of kObjectKinds (registry/vocabulary.h)
  std::string info;    // canonical JSON (parse with Info()); empty when listed without it
  bool attested = false;
  std::optional<std::string> stage;
  uint64_t created_seq = 0;
  std::optional<uint64_t> revoked_seq;
  std::string revoke_reason;
  std::vector<std::string> labels;  // "name@N", oldest first

  // How the object is shown to people, everywhere: its newest label "name@N" (the name it was
  // last registered under), or "sha256:" and the first 12 hex digits of its digest when it has
  // no name. (The oldest label is its name of record: channels hang on it and signed statements
  // name it.)
  std::string DisplayName() const {
    return labels.empty() ? "sha256:" + digest.substr(0, 12) : labels.back();
  }
  Json Info() const;
  Json ToJson() const;
};

struct KeyRecord {
  std::string key_id;
  std::string role;  // trainer, evaluator, approver, release, curator, admin, registry
  std::string algorithm;
  std::string name;
  std::string pem;
  uint64_t trusted_seq = 0;
  std::optional<uint64_t> revoked_seq;
  std::string revoke_reason;

  Json ToJson() const;
};

struct AttestationRecord {
  std::string digest;  // SHA-256 of the canonical envelope
  std::string kind;    // model-signature, provenance, evaluation, approval, decision, ...
  std::string subject;
  std::string predicate_type;
  std::vector<std::string> key_ids;
  uint64_t seq = 0;

  Json ToJson() const;
};

// A lineage edge: src --relation--> dst (dst is a digest, or a key id for "signed_by").
struct Edge {
  std::string src;
  std::string relation;
  std::string dst;
};

struct ObjectFilter {
  std::string kind{};         // required
  std::string name{};         // objects carrying a label with this name
  std::string base_digest{};  // objects with a "base" edge to this digest
  std::string stage{};
  // false: records without `info` (empty), which lets a listing be read from an index alone.
  bool with_info = true;
  std::vector<TagFilter> tags{};  // adapters carrying every one of these tags
};

struct AdapterOptions {
  std::string name{};
  std::string base_ref{};  // overrides adapter_config.json's base_model_name_or_path
  bool unattested = false;
};

struct InclusionProof {
  uint64_t index = 0;
  uint64_t size = 0;
  Digest leaf_hash{};
  std::vector<Digest> path;
  Digest root{};
};

// Why an object can no longer be used: it was revoked itself, or something it depends on was (the
// key that signed it, its base, a training dataset, a parent adapter, transitively).
struct Revocation {
  std::string relation;  // "self", or the lineage relation: signed_by, base, dataset, parent, ...
  std::string id;        // the revoked object's digest, or key id
  uint64_t seq = 0;      // the event that revoked it
  std::string reason;

  // "dataset sha256:ab12... revoked at event 14: licence withdrawn"
  std::string Describe() const;
};

// One file of a directory object, as its row records it.
struct StoredFile {
  std::string path;  // POSIX, relative to the object's directory
  std::string blob;  // the blob's hex digest: the file's SHA-256
  uint64_t size = 0;
};

// What re-hashing an object's stored files found (Registry::VerifyStoredFiles).
struct StoredFilesVerdict {
  size_t files = 0;         // the object's file rows
  std::string root_digest;  // the root of its identity manifest (registry/object_identity.h)
  std::string problem;      // empty: the files are the object's
  bool ok() const { return problem.empty(); }
};

struct ChannelEntry {
  std::string channel;
  uint64_t seq = 0;
  std::string digest;
  std::string reason;
};

class Intake;

// A check of a staged copy (the bytes that will be stored) before registration commits, given
// the staged directory and the source it was copied from (for messages).
using StagedCheck =
    std::function<Status(const std::filesystem::path& staged, const std::filesystem::path& source)>;

class Registry {
 public:
  // Creates a registry in `dir` (absent or empty): database, blob store and the registry's
  // Ed25519 key (outside the directory: InitOptions; public part trusted with role "registry").
  // Atomic: the registry is built in a temporary sibling directory and renamed into place, so
  // an interrupted init leaves no registry (and `dir` as it was), never a half-made one.
  // `dir` may also be a PostgreSQL URI (postgresql://...): Init then needs an empty database,
  // creates the schema and keeps blobs as rows; rerun, it finishes an init that stopped after
  // the schema was created. Open accepts the same URIs.
  // With InitOptions::admin_key (trusted with role "admin" at event 2) every later change must
  // be signed by a key whose role allows it (AddActorKey; docs/registry.md, "Signed changes").
  static Result<Registry> Init(const std::filesystem::path& dir, const InitOptions& options = {});
  // Opens a registry; refuses a directory that is not one and a database from a newer graft (or
  // with a schema version no graft writes), writing nothing. A registry the process may not
  // write (directory or database without write permission, read-only media) opens read-only.
  static Result<Registry> Open(const std::filesystem::path& dir, const OpenOptions& options = {});

  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  ~Registry();

  // --- Objects. Registering the same digest again only adds a label version. -----------------
  // Each registration copies its files once into the registry's staging area (tmp/) while
  // hashing them, checks that copy (and verifies its signatures), and stores exactly those bytes.
  // Names must pass ValidateName (registry/names.h).
  // `check` (e.g. that the tokenizer loads) runs on the staged copy before anything commits.
  Result<ObjectRecord> RegisterBase(const std::filesystem::path& dir, const std::string& name,
                                    const StagedCheck& check = {});
  Result<ObjectRecord> RegisterDataset(const std::filesystem::path& file, const std::string& name);
  Result<ObjectRecord> RegisterAdapter(const std::filesystem::path& dir,
                                       const AdapterOptions& options);
  // A single-file object (suite, policy, config): the file becomes a blob and the object's
  // digest is the SHA-256 of its bytes. `info` and `edges` (from the new object) are recorded.
  Result<ObjectRecord> RegisterFile(std::string_view kind, const std::filesystem::path& file,
                                    const std::string& name, Json info = Json::object(),
                                    const std::vector<Edge>& edges = {});
  Result<ObjectRecord> RevokeObject(std::string_view kind, const std::string& ref,
                                    const std::string& reason);
  Status SetStage(const std::string& digest, const std::string& stage, const std::string& reason);
  // `channel` is "<name>@<channel>" (e.g. "support-bot@production"); history is kept.
  Status SetChannel(const std::string& channel, const std::string& digest,
                    const std::string& reason);
  Result<std::vector<ChannelEntry>> ChannelHistory(const std::string& channel);
  // Every channel and the digest it serves now, by channel name.
  Result<std::vector<ChannelEntry>> Channels();
  // The channels ("<name>@<channel>") that serve `digest` now, by name.
  Result<std::vector<std::string>> ChannelsServing(const std::string& digest);

  // Runs `body` as one change: every registry change it makes through this Registry commits
  // together, in one BEGIN IMMEDIATE transaction with one signed checkpoint, or none does and the
  // registry is byte-for-byte as before. What `body` reads is read under the write lock (and sees
  // its own changes), so nothing it checked can change before it commits. A failed change inside
  // `body` whose error `body` handles is undone alone (a savepoint).
  Status Atomically(const std::function<Status()>& body);

  // --- Keys ---------------------------------------------------------------------------------
  Result<KeyRecord> TrustKey(const PublicKey& key, const std::string& role,
                             const std::string& name);
  // Revokes a key (full id or unique prefix) in every role.
  Result<KeyRecord> RevokeKey(const std::string& key_ref, const std::string& reason);
  Result<std::vector<KeyRecord>> Keys();
  // Trusted, not revoked, keys with `role`.
  Result<std::vector<PublicKey>> TrustedKeys(const std::string& role);

  // --- Attestations (DSSE envelopes identified by SHA-256 of the canonical envelope) ---------
  // Verifies the envelope against the trusted keys with `role`, stores it as a blob, records
  // it for `subject` with `edges` (from the attestation digest), all in one event.
  Result<AttestationRecord> AddAttestation(const std::string& kind, const DsseEnvelope& envelope,
                                           const std::string& subject, const std::string& role,
                                           const std::vector<Edge>& edges = {});
  Result<std::vector<AttestationRecord>> Attestations(const std::string& subject,
                                                      const std::string& kind = "");
  Result<DsseEnvelope> LoadAttestation(const std::string& digest);

  // --- Generic events (no table changes; for modules that only need a logged fact) ----------
  // Signed by `signer` when given (which must then hold a role RolesFor allows, in a guarded
  // registry), else as any change.
  Result<uint64_t> AppendEvent(const std::string& action, const Json& details,
                               const PrivateKey* signer = nullptr);

  // --- Tags and descriptions of adapter versions (registry/adapter_annotations.cc) -----------
  // Tags and the description belong to the adapter REF resolves to (its digest, so every label
  // of that digest shows them). TagAdapter sets `set` and removes `remove` (each must be there)
  // in one adapter.tag event; DescribeAdapter sets the description (empty: clears it) in one
  // adapter.describe event. Values are checked as registry/annotations.h says; nothing is
  // logged when nothing would change. Signed by a curator, trainer or release key in a guarded
  // registry. Returns the adapter.
  Result<ObjectRecord> TagAdapter(const std::string& ref,
                                  const std::map<std::string, std::string>& set,
                                  const std::vector<std::string>& remove);
  Result<ObjectRecord> DescribeAdapter(const std::string& ref, const std::string& text);
  Result<Annotations> AdapterAnnotations(const std::string& digest);
  // Every annotated adapter's annotations, by digest.
  Result<std::map<std::string, Annotations>> AllAdapterAnnotations();

  // --- Queries -------------------------------------------------------------------------------
  // REF: name@N, name@channel, name (latest version), a digest with or without "sha256:", or
  // a unique digest prefix (an ambiguous one is an error listing the candidates). `kind` ""
  // matches any kind.
  Result<ObjectRecord> Resolve(std::string_view kind, const std::string& ref);
  Result<ObjectRecord> Get(const std::string& digest);
  Result<std::vector<ObjectRecord>> List(const ObjectFilter& filter);
  Result<std::vector<Edge>> EdgesFrom(const std::string& src);
  Result<std::vector<Edge>> EdgesTo(const std::string& dst);
  // Reads a blob, re-verifying its digest.
  Result<std::string> ReadBlob(const std::string& digest);
  // The file blob `digest` is kept in; none when the store keeps no files (PostgreSQL rows).
  Result<std::optional<std::filesystem::path>> BlobPath(const std::string& digest);
  // The digests of every blob the registry records (its rows; not what the store holds).
  Result<std::vector<std::string>> RecordedBlobs();
  // The directory of the blob files (blobs/); empty when the store keeps no files.
  const std::filesystem::path& blob_dir() const;
  // A directory object's file rows, by path.
  Result<std::vector<StoredFile>> ObjectFiles(const std::string& digest);
  // What makes the object unusable (empty: nothing): itself revoked, or a revoked dependency —
  // the key that signed it, its base, a dataset, config or policy, a parent adapter and what that
  // depends on.
  Result<std::vector<Revocation>> Revocations(const ObjectRecord& object);
  // Writes a directory object's files to `out` (absent or empty), re-verifying every file digest
  // and the root digest; refuses an object with any Revocations().
  Status ExportFiles(const ObjectRecord& object, const std::filesystem::path& out);
  // The same re-verified copy whatever is revoked: for checks that must look at a revoked object
  // (the gate, promotion, monitoring), not for handing it out.
  Status WriteVerifiedFiles(const ObjectRecord& object, const std::filesystem::path& out);
  // ExportFiles as a stream: the files it would write, refused before any byte is read as it
  // refuses them (revoked: Conflict; no rows or an unsafe path: InvalidInput; rows whose
  // identity manifest's root digest is not the object's: kVerification). Stream each one's bytes
  // with StreamStoredFile, which checks them against its row.
  Result<std::vector<StoredFile>> ExportableFiles(const ObjectRecord& object);
  // Streams a stored file's bytes to `sink` a piece at a time, re-hashed (BlobStore::Stream):
  // kVerification when they run past its recorded size (before passing on the piece that does),
  // fall short of it, or do not hash to its blob digest. The last is known only after the last
  // piece, so a sink must not use what it received until this returns Ok.
  Status StreamStoredFile(const StoredFile& file, const BlobSink& sink);
  // Re-hashes every stored file of a directory object against its row, and checks that the root
  // digest of its identity manifest (registry/object_identity.h) is the object's digest. The
  // one reading of "identity_ignore": the audit and the adapter report use it too.
  Result<StoredFilesVerdict> VerifyStoredFiles(const ObjectRecord& object);

  // --- Event log -----------------------------------------------------------------------------
  Result<uint64_t> LogSize();
  Result<Event> GetEvent(uint64_t seq);
  // The Merkle root of the log's first `size` events.
  Result<Digest> LogRoot(uint64_t size);
  // Every event whose action is `action`, in log order.
  Result<std::vector<Event>> EventsWithAction(std::string_view action);
  // The signed checkpoint (C2SP note) for the current log size.
  Result<std::string> LatestCheckpoint();
  // Verifies a checkpoint note's signature with the registry key.
  Result<Checkpoint> VerifyCheckpoint(std::string_view note);
  Result<InclusionProof> ProveInclusion(uint64_t seq, uint64_t size = 0);
  Result<std::vector<Digest>> ProveConsistency(uint64_t old_size, uint64_t new_size);

  const std::filesystem::path& dir() const;
  // The database's schema version (PRAGMA user_version), checked at Open.
  int schema_version() const;
  // Whether the database has the tables of schema version `version` (an older one opened
  // read-only or as a snapshot is not migrated).
  bool HasSchema(int version) const;
  const std::string& origin() const;  // also the checkpoint key name
  const PublicKey& registry_key() const;
  // Whether changes are refused: opened as a snapshot, or without write permission.
  bool read_only() const;
  // Refuses every write through this Registry's connection from now on, whatever the caller
  // does (graft serve's readers).
  Status MakeQueryOnly();
  // A PostgreSQL registry's role grants, which its database owner runs once
  // (registry/postgres_roles.h); empty for a registry directory.
  Result<std::string> RoleGrants();
  // Holds the registry's write lock, changing nothing, until the transaction ends (graft registry
  // gc deletes leftovers under it, so no change in progress can still commit one of them).
  Result<Transaction> LockForWriting();
  // The actor recorded for unsigned changes (default: OS user@host).
  void SetActor(std::string actor);
  // A key that signs the changes made through this Registry (the event's actor is its id):
  // each change is signed by the first actor key holding a role allowed for it
  // (registry/authorisation.h), else by the first one. In a registry initialised with an admin
  // key, a change no actor key may make is refused (kVerification; kInvalidInput without keys).
  void AddActorKey(PrivateKey key);
  // Whether changes must be signed (the registry was initialised with an admin key).
  bool guarded() const;

 private:
  // The registry's own types that work on its tables directly, and tests that tamper with them.
  friend class Auditor;
  friend class Cosignatures;
  friend class Lineage;
  friend class RegistryInternals;   // registry/registry_internal.h
  friend class RegistryTestAccess;  // tests/support/registry_test_access.h
  struct State;
  class Change;
  Database& db();
  BlobStore& blobs();
  explicit Registry(std::unique_ptr<State> state);
  static Result<Registry> InitPostgres(const std::string& uri, const InitOptions& options);
  static Result<Registry> OpenPostgres(const std::string& uri, const OpenOptions& options);
  // Appends the genesis events (registry.init, the registry key, the admin key) to a registry
  // whose schema is in place and whose log is empty.
  static Status Genesis(std::unique_ptr<State> state, PrivateKey key, const InitOptions& options);
  // The part of Open common to both backends: the snapshot, the schema version (migrating an
  // older one unless `read_only`), origin and registry key. `database` names it in messages.
  static Result<Registry> Load(std::unique_ptr<State> state, const OpenOptions& options,
                               bool read_only, const std::string& database);
  // Runs `body` in one BEGIN IMMEDIATE transaction, signs a checkpoint for the new log size and
  // commits; on any failure rolls back and removes the blobs it created.
  Status Mutate(const std::function<Status(Change&)>& body);
  // InvalidInput when the registry is open read-only (a snapshot, or no write permission).
  Status Writable() const;
  Result<std::string> ResolveDigest(std::string_view table, std::string_view column,
                                    std::string_view kind, const std::string& ref);
  Result<std::optional<ObjectRecord>> Find(const std::string& digest);
  // Appends one event whose action changes tables (Projection::Changes), signed as any change.
  Status AppendChange(std::string_view action, const Json& details);
  Result<ObjectRecord> AddObject(Change& change, std::string_view kind, Json details,
                                 const std::string& name, const std::string& actor);
  Result<ObjectRecord> RegisterStagedAdapter(const Intake& intake,
                                             const std::filesystem::path& source,
                                             const AdapterOptions& options);
  Result<ObjectRecord> RegisterStagedFile(std::string_view kind, const Intake& intake,
                                          const std::filesystem::path& file,
                                          const std::string& name, Json info,
                                          const std::vector<Edge>& edges);
  std::unique_ptr<State> state_;
};

}  // namespace graft::registry
