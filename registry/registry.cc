#include "registry/registry.h"

#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>
#include <set>
#include <unordered_map>

#include "core/file_util.h"
#include "core/intoto.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "registry/adapter_spec.h"
#include "registry/authorisation.h"
#include "registry/file_blob_store.h"
#include "registry/intake.h"
#include "registry/model_architecture.h"
#include "registry/names.h"
#include "registry/postgres_blob_store.h"
#include "registry/projection.h"
#include "registry/provenance.h"
#include "registry/registry_directory.h"
#include "registry/registry_key.h"
#include "registry/schema.h"
#include "registry/transaction.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStages[] = {"candidate", "staging",  "production",
                                        "retired",   "rejected", "revoked"};

// Columns read by ReadObject, in order (the ninth, the labels, is optional).
constexpr char kObjectColumns[] =
    "SELECT o.digest, o.kind, o.info, o.attested, o.stage, o.created_seq, o.revoked_seq, "
    "o.revoke_reason, (SELECT group_concat(l.name || '@' || l.version, ' ') FROM labels l "
    "WHERE l.digest = o.digest) FROM objects o ";

ObjectRecord ReadObject(const Statement& s) {
  ObjectRecord r;
  r.digest = s.Text(0);
  r.kind = s.Text(1);
  r.info = s.Text(2);
  r.attested = s.Int(3) != 0;
  if (!s.IsNull(4)) r.stage = s.Text(4);
  r.created_seq = static_cast<uint64_t>(s.Int(5));
  if (auto revoked = s.OptionalInt(6)) r.revoked_seq = static_cast<uint64_t>(*revoked);
  r.revoke_reason = s.Text(7);
  if (s.ColumnCount() < 9) return r;
  std::string labels = s.Text(8);
  size_t start = 0;
  while (start < labels.size()) {
    size_t end = labels.find(' ', start);
    if (end == std::string::npos) end = labels.size();
    r.labels.push_back(labels.substr(start, end - start));
    start = end + 1;
  }
  return r;
}

constexpr char kKeyColumns[] =
    "SELECT key_id, role, algorithm, name, pem, trusted_seq, revoked_seq, revoke_reason FROM keys ";

KeyRecord ReadKey(const Statement& s) {
  KeyRecord k;
  k.key_id = s.Text(0);
  k.role = s.Text(1);
  k.algorithm = s.Text(2);
  k.name = s.Text(3);
  k.pem = s.Text(4);
  k.trusted_seq = static_cast<uint64_t>(s.Int(5));
  if (auto revoked = s.OptionalInt(6)) k.revoked_seq = static_cast<uint64_t>(*revoked);
  k.revoke_reason = s.Text(7);
  return k;
}

AttestationRecord ReadAttestation(const Statement& s) {
  AttestationRecord a;
  a.digest = s.Text(0);
  a.kind = s.Text(1);
  a.subject = s.Text(2);
  a.predicate_type = s.Text(3);
  Result<Json> ids = ParseJson(s.Text(4), "attestation key_ids");
  if (ids.ok() && ids->is_array()) {
    for (const Json& id : *ids) {
      if (id.is_string()) a.key_ids.push_back(id.get<std::string>());
    }
  }
  a.seq = static_cast<uint64_t>(s.Int(5));
  return a;
}

std::string DefaultActor() {
  std::string user;
  if (const char* env = std::getenv("USER"); env != nullptr && *env != '\0') user = env;
  if (user.empty()) {
    if (struct passwd* pw = ::getpwuid(::getuid()); pw != nullptr) user = pw->pw_name;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return (user.empty() ? "unknown" : user) + "@" + host;
}

bool IsHex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

std::string StripSha256(const std::string& ref) {
  return ref.starts_with("sha256:") ? ref.substr(7) : ref;
}

Json BlobEntry(const std::string& digest, size_t size) {
  return {{"digest", digest}, {"size", size}};
}

Json EdgesJson(const std::vector<Edge>& edges) {
  Json out = Json::array();
  for (const Edge& e : edges) out.push_back({{"relation", e.relation}, {"dst", e.dst}});
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Json ObjectRecord::Info() const {
  if (info.empty()) return Json();  // listed without info
  Result<Json> parsed = ParseJson(info, "object info");
  return parsed.ok() ? *parsed : Json();
}

Json ObjectRecord::ToJson() const {
  Json out = {
      {"digest", "sha256:" + digest}, {"kind", kind},  {"labels", labels}, {"attested", attested},
      {"created_seq", created_seq},   {"info", Info()}};
  out["stage"] = stage ? Json(*stage) : Json();
  out["revoked"] = revoked_seq.has_value();
  if (revoked_seq) {
    out["revoked_seq"] = *revoked_seq;
    out["revoke_reason"] = revoke_reason;
  }
  return out;
}

Json KeyRecord::ToJson() const {
  Json out = {{"key_id", key_id},           {"role", role},
              {"algorithm", algorithm},     {"name", name},
              {"trusted_seq", trusted_seq}, {"revoked", revoked_seq.has_value()}};
  if (revoked_seq) {
    out["revoked_seq"] = *revoked_seq;
    out["revoke_reason"] = revoke_reason;
  }
  return out;
}

Json AttestationRecord::ToJson() const {
  return {{"digest", "sha256:" + digest},     {"kind", kind},       {"subject", subject},
          {"predicate_type", predicate_type}, {"key_ids", key_ids}, {"seq", seq}};
}

// ---------------------------------------------------------------------------------------------

struct Registry::State {
  // A registry directory keeps its blobs as files beside the database and stages intake in it; a
  // PostgreSQL registry keeps them as rows and stages in a private local directory.
  State(fs::path d, Database database) : dir(std::move(d)), db(std::move(database)) {
    if (db.dialect() == Dialect::kPostgres) {
      blobs = std::make_unique<PostgresBlobStore>(&db);
    } else {
      blobs = std::make_unique<FileBlobStore>(dir / kBlobDir);
      staging = dir;
    }
  }
  fs::path dir;  // the directory, or the PostgreSQL URI without its password
  Database db;
  std::unique_ptr<BlobStore> blobs;
  fs::path staging;  // where Intake makes its staging directory (empty: LocalStaging())
  std::string origin;
  std::optional<PublicKey> registry_key;
  std::optional<PrivateKey> signer;
  // Changes must be signed by a key with a role allowed for them (RolesFor): the registry was
  // initialised with an admin key. `genesis`: Init's own first events, signed by nobody.
  bool guarded = false;
  bool genesis = false;
  std::vector<PrivateKey> actor_keys;  // sign the changes made through this Registry
  std::string actor = DefaultActor();
  Change* open_change = nullptr;  // the change of the Mutate/Atomically call in progress
  int schema_version = 0;
  std::optional<ReadTransaction> snapshot;  // OpenOptions::snapshot; ends before `db` closes
  int reruns = 0;  // of the Mutate call in progress, after transient database failures
};

// The open write transaction of one Mutate call: appends events (applying each to the tables)
// and writes blobs, remembering the new ones so a failure can remove them.
class Registry::Change {
 public:
  explicit Change(State& state) : state_(state), log_(state.db), projection_(state.db) {}

  // `actor`: the key id of the attestation that authorises the change (it is signed already);
  // otherwise the change is signed by `signer` when given, else by the actor key that holds a
  // role allowed for it.
  Result<Event> Append(std::string_view action, const Json& details, std::string actor = "",
                       const PrivateKey* signer = nullptr) {
    const std::vector<std::string_view> roles = RolesFor(action, details);
    if (actor.empty() || !roles.empty()) {
      std::vector<const PrivateKey*> candidates;
      if (signer != nullptr) {
        candidates.push_back(signer);
      } else {
        for (const PrivateKey& key : state_.actor_keys) candidates.push_back(&key);
      }
      GRAFT_ASSIGN_OR_RETURN(signer, ChooseSigner(action, roles, candidates));
    }
    GRAFT_ASSIGN_OR_RETURN(Event event, log_.Append(action, actor.empty() ? state_.actor : actor,
                                                    details, {}, signer));
    GRAFT_RETURN_IF_ERROR(projection_.Apply(event));
    appended_ = true;
    return event;
  }

  Result<std::string> PutBlob(std::string_view bytes) {
    bool created = false;
    GRAFT_ASSIGN_OR_RETURN(std::string digest, state_.blobs->Put(bytes, &created));
    if (created) created_blobs_.push_back(digest);
    return digest;
  }

  // Every staged file of `intake` moved into the blob store: the bytes that were verified. Adds
  // each to `blobs` and returns the object's file rows.
  Result<Json> AdoptFiles(const Intake& intake, Json& blobs) {
    adopted_files_ = true;
    Json files = Json::array();
    for (const ManifestEntry& entry : intake.manifest().entries) {
      bool created = false;
      GRAFT_ASSIGN_OR_RETURN(
          std::string digest,
          state_.blobs->Adopt(intake.PathOf(entry.path), DigestHex(entry.digest), &created));
      if (created) created_blobs_.push_back(digest);
      files.push_back({{"path", entry.path}, {"blob", digest}, {"size", entry.size}});
      blobs.push_back(BlobEntry(digest, entry.size));
    }
    return files;
  }

  // How far the change had got, to undo a failed part of it.
  struct Mark {
    size_t created_blobs = 0;
    bool appended = false;
  };
  Mark mark() const { return {created_blobs_.size(), appended_}; }
  // Removes the blobs created since `mark` (their rows were rolled back).
  void UndoSince(Mark mark) {
    for (size_t i = mark.created_blobs; i < created_blobs_.size(); ++i) {
      state_.blobs->Remove(created_blobs_[i]);
    }
    created_blobs_.resize(mark.created_blobs);
    appended_ = mark.appended;
  }
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
                                         const std::vector<const PrivateKey*>& candidates) {
    const PrivateKey* first = candidates.empty() ? nullptr : candidates.front();
    if (roles.empty()) return first;
    std::string why;
    for (const PrivateKey* candidate : candidates) {
      const PrivateKey& key = *candidate;
      GRAFT_ASSIGN_OR_RETURN(Statement s,
                             state_.db.Prepare("SELECT role, revoked_seq, revoke_reason FROM keys "
                                               "WHERE key_id = ? ORDER BY trusted_seq"));
      GRAFT_RETURN_IF_ERROR(s.Bind(1, key.key_id()));
      std::string held;
      for (;;) {
        GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        if (auto revoked = s.OptionalInt(1)) {
          held = "revoked at event " + std::to_string(*revoked) + " (" + s.Text(2) + ")";
          break;
        }
        if (std::find(roles.begin(), roles.end(), s.Text(0)) != roles.end()) return candidate;
        held += (held.empty() ? "role " : ", ") + s.Text(0);
      }
      why += "; key " + key.key_id() + (held.empty() ? " is not trusted here" : " has " + held);
    }
    if (!state_.guarded || state_.genesis) return first;
    std::string wanted;
    for (std::string_view role : roles)
      wanted += (wanted.empty() ? "" : " or ") + std::string(role);
    if (candidates.empty()) {
      return InvalidInput(std::string(action) + " must be signed by a key with role " + wanted +
                          ": pass --key FILE or set GRAFT_KEY");
    }
    return VerificationFailed(std::string(action) + " must be signed by a trusted key with role " +
                              wanted + why);
  }

  State& state_;
  EventLog log_;
  Projection projection_;
  bool appended_ = false;
  bool adopted_files_ = false;
  std::vector<std::string> created_blobs_;
};

Registry::Registry(std::unique_ptr<State> state) : state_(std::move(state)) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

const fs::path& Registry::dir() const { return state_->dir; }
int Registry::schema_version() const { return state_->schema_version; }
const std::string& Registry::origin() const { return state_->origin; }
const PublicKey& Registry::registry_key() const { return *state_->registry_key; }
Database& Registry::db() { return state_->db; }
BlobStore& Registry::blobs() { return *state_->blobs; }
void Registry::SetActor(std::string actor) { state_->actor = std::move(actor); }
void Registry::AddActorKey(PrivateKey key) { state_->actor_keys.push_back(std::move(key)); }
bool Registry::guarded() const { return state_->guarded; }

Status Registry::Mutate(const std::function<Status(Change&)>& body) {
  GRAFT_RETURN_IF_ERROR(Writable());
  if (!state_->signer) {
    Result<PrivateKey> key = LoadRegistryKey(state_->dir, state_->registry_key->key_id());
    if (!key.ok()) return key.status().WithContext("loading the registry signing key");
    state_->signer = std::move(*key);
  }
  if (Change* open = state_->open_change) {
    // Part of a larger change (Atomically): a savepoint, so a failed part that the caller
    // handles leaves the rest of the change as it was.
    Change::Mark mark = open->mark();
    GRAFT_RETURN_IF_ERROR(state_->db.Exec("SAVEPOINT part"));
    Status status = body(*open);
    if (status.ok()) return state_->db.Exec("RELEASE part");
    (void)state_->db.Exec("ROLLBACK TO part; RELEASE part");
    open->UndoSince(mark);
    return status;
  }
  GRAFT_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(state_->db));
  {
    // A trigger, view or index planted in the database would run inside graft's own writes.
    GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> altered,
                           SchemaDifferences(state_->db, state_->schema_version));
    if (!altered.empty()) {
      return VerificationFailed(
          "the registry database's schema was altered outside graft (" + altered.front() +
          (altered.size() > 1 ? ", and " + std::to_string(altered.size() - 1) + " more" : "") +
          "); refusing to change it (run 'graft audit verify')");
    }
  }
  Change change(*state_);
  Status status;
  {
    struct Close {
      State& state;
      ~Close() { state.open_change = nullptr; }
    } close{*state_};
    state_->open_change = &change;
    status = body(change);
  }
  if (status.ok() && change.appended()) {
    // Sign a checkpoint for the new size, in the same transaction.
    Result<uint64_t> size = change.log().Size();
    Result<Digest> root = size.ok() ? change.log().RootHash(*size) : Result<Digest>(size.status());
    Result<std::string> note =
        root.ok() ? Checkpoint{state_->origin, *size, *root}.Sign(state_->origin, *state_->signer)
                  : Result<std::string>(root.status());
    // Plain INSERT: the size grew, so no checkpoint has it (and the writer role of a
    // PostgreSQL registry may not update checkpoints).
    status = note.ok()
                 ? state_->db.Run("INSERT INTO checkpoints(size, note) VALUES(?, ?)", *size, *note)
                 : note.status();
  }
  if (status.ok()) status = transaction.Commit();
  if (!status.ok()) {
    { Transaction rollback = std::move(transaction); }
    change.UndoSince({});
    // A lost connection, serialization failure or deadlock (PostgreSQL): the server rolled the
    // whole change back; run it again from the start, a bounded number of times, unless it
    // consumed its staged files (the error then says to run the command again).
    constexpr int kMaxReruns = 3;
    DatabaseBackend& backend = state_->db.backend();
    if (backend.TransientFailure() && !change.adopted_files() && state_->reruns < kMaxReruns &&
        backend.Recover().ok()) {
      ++state_->reruns;
      status = Mutate(body);
      --state_->reruns;
    }
  }
  return status;
}

Status Registry::Writable() const {
  if (state_->snapshot) {
    return InvalidInput("the registry was opened as a read-only snapshot; this changes it");
  }
  if (state_->db.read_only()) {
    return InvalidInput("the registry " + state_->dir.string() +
                        " is read-only (no write permission, or read-only media); this "
                        "command changes it");
  }
  return Status::Ok();
}

Status Registry::Atomically(const std::function<Status()>& body) {
  return Mutate([&](Change&) { return body(); });
}

Status Registry::AppendChange(std::string_view action, const Json& details) {
  return Mutate([&](Change& change) { return change.Append(action, details).status(); });
}

bool Registry::HasSchema(int version) const { return state_->schema_version >= version; }

// ---------------------------------------------------------------------------------------------

namespace {

// The registry key for a new registry: the file at `path` if it exists, else a new Ed25519 key
// saved there (0600; missing directories created 0700).
Result<PrivateKey> InitRegistryKey(const fs::path& requested) {
  fs::path path = requested;
  std::error_code error;
  if (!path.empty() && fs::exists(path, error)) {
    Result<PrivateKey> key = PrivateKey::LoadPem(path);
    if (!key.ok()) return key.status().WithContext("--registry-key " + path.string());
    return key;
  }
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(KeyAlgorithm::kEd25519));
  if (path.empty()) {
    GRAFT_ASSIGN_OR_RETURN(path, DefaultRegistryKeyPath(key.key_id()));
  }
  if (!path.parent_path().empty() && !fs::exists(path.parent_path(), error)) {
    fs::create_directories(path.parent_path(), error);
    if (error) {
      return IoError("cannot create " + path.parent_path().string() + ": " + error.message());
    }
    fs::permissions(path.parent_path(), fs::perms(0700), error);
  }
  GRAFT_RETURN_IF_ERROR(key.Save(path));
  return key;
}

// A private local directory (0700, owned by this user) where registrations into a PostgreSQL
// registry stage their files: $TMPDIR/graft-<uid>.
Result<fs::path> LocalStaging() {
  std::error_code error;
  fs::path dir = fs::temp_directory_path(error) / ("graft-" + std::to_string(::getuid()));
  if (error) return IoError("no temporary directory for staging: " + error.message());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != ::getuid() ||
      (info.st_mode & 077) != 0) {
    return InvalidInput(dir.string() +
                        " is not a private directory of this user; refusing to stage files in it");
  }
  return dir;
}

// The key file an init with `requested` uses, for the location hint.
Result<fs::path> RegistryKeyFile(const fs::path& requested, const PrivateKey& key) {
  if (!requested.empty()) return fs::absolute(requested);
  return DefaultRegistryKeyPath(key.key_id());
}

}  // namespace

Status Registry::Genesis(std::unique_ptr<State> state, PrivateKey key, const InitOptions& options) {
  // Origin and checkpoint key name: "graft.local/registry/<first 16 hex of the key id>" —
  // unique per registry (its key) and stable for its lifetime (docs/registry.md).
  state->origin = "graft.local/registry/" + key.key_id().substr(0, 16);
  state->registry_key = key.public_key();
  state->signer = std::move(key);
  state->schema_version = LatestSchemaVersion();
  const PublicKey* admin_key = options.admin_key ? &*options.admin_key : nullptr;
  state->guarded = admin_key != nullptr;
  state->genesis = true;  // Init's own first events are signed by nobody
  Registry registry(std::move(state));
  return registry.Mutate([&](Change& change) -> Status {
    // Under the write lock: a concurrent init of the same database got there first.
    GRAFT_ASSIGN_OR_RETURN(uint64_t size, change.log().Size());
    if (size != 0) return Conflict(registry.dir().string() + " is already a graft registry");
    const PublicKey& pub = registry.registry_key();
    Json init = {
        {"origin", registry.origin()}, {"key_name", registry.origin()}, {"key_id", pub.key_id()}};
    if (admin_key != nullptr) init["admin_key_id"] = admin_key->key_id();
    GRAFT_RETURN_IF_ERROR(change.Append("registry.init", init).status());
    auto trust = [&](const PublicKey& key, std::string_view role, const std::string& name) {
      return change
          .Append("key.trust", {{"key_id", key.key_id()},
                                {"role", role},
                                {"algorithm", KeyAlgorithmName(key.algorithm())},
                                {"name", name},
                                {"pem", key.ToPem()}})
          .status();
    };
    GRAFT_RETURN_IF_ERROR(trust(pub, "registry", registry.origin()));
    return admin_key != nullptr ? trust(*admin_key, "admin", "admin (graft init)") : Status::Ok();
  });
}

Result<Registry> Registry::InitPostgres(const std::string& uri, const InitOptions& options) {
  GRAFT_ASSIGN_OR_RETURN(Database db, Database::Connect(uri));
  const std::string shown = db.path().string();
  GRAFT_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  if (version == 0) {
    GRAFT_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = current_schema()"));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && s.Int(0) > 0) {
      return InvalidInput(shown + " is not an empty database (its schema holds " +
                          std::to_string(s.Int(0)) +
                          " relations and no graft schema); graft init needs an empty one");
    }
  } else {
    // The schema of an init that stopped before its first events is finished; any event means
    // a registry.
    GRAFT_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*) FROM events"));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.Int(0) > 0) return Conflict(shown + " is already a graft registry");
  }
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, InitRegistryKey(options.registry_key));
  GRAFT_RETURN_IF_ERROR(MigrateSchema(db));
  auto state = std::make_unique<State>(shown, std::move(db));
  GRAFT_ASSIGN_OR_RETURN(state->staging, LocalStaging());
  GRAFT_RETURN_IF_ERROR(Genesis(std::move(state), std::move(key), options));
  return Open(uri);
}

Result<Registry> Registry::Init(const fs::path& given, const InitOptions& options) {
  if (Database::IsPostgresUri(given.string())) return InitPostgres(given.string(), options);
  GRAFT_RETURN_IF_ERROR(BuildRegistryDirectory(given, [&](const fs::path& building) -> Status {
    GRAFT_ASSIGN_OR_RETURN(PrivateKey key, InitRegistryKey(options.registry_key));
    GRAFT_ASSIGN_OR_RETURN(fs::path key_file, RegistryKeyFile(options.registry_key, key));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(building / kRegistryKeyLocationFile,
                                          key_file.string() + "\n", fs::perms(0644)));
    GRAFT_ASSIGN_OR_RETURN(Database db,
                           Database::Open(building / kDatabaseFile, Database::Mode::kCreate));
    GRAFT_RETURN_IF_ERROR(MigrateSchema(db));
    return Genesis(std::make_unique<State>(building, std::move(db)), std::move(key), options);
  }));  // the registry was closed (and its WAL checkpointed) before it moved
  return Open(given);
}

Result<Registry> Registry::Open(const fs::path& dir, const OpenOptions& options) {
  if (Database::IsPostgresUri(dir.string())) return OpenPostgres(dir.string(), options);
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return NotFound("no graft registry at " + dir.string() +
                    " (run 'graft init', or pass --registry / set GRAFT_REGISTRY)");
  }
  const fs::path db_path = dir / kDatabaseFile;
  if (!fs::is_regular_file(db_path, error)) {
    return InvalidInput(dir.string() + " is not a graft registry (no " +
                        std::string(kDatabaseFile) + ")");
  }
  if (fs::file_size(db_path, error) == 0 && !error) {
    return InvalidInput(dir.string() + " is not a graft registry (" + db_path.string() +
                        " is empty)");
  }
  // Without write permission on the directory (for the WAL files) or the database, or on
  // read-only media, the registry opens read-only. A snapshot of a writable registry is a
  // read-write connection that never writes (Writable() refuses), so closing it still removes
  // the WAL files as the last connection does.
  bool writable = ::access(dir.c_str(), W_OK) == 0 && ::access(db_path.c_str(), W_OK) == 0;
  bool read_only = !writable;
  GRAFT_ASSIGN_OR_RETURN(Database db,
                         Database::Open(db_path, read_only ? Database::Mode::kReadOnly
                                                           : Database::Mode::kOpenExisting));
  return Load(std::make_unique<State>(dir, std::move(db)), options, read_only, db_path.string());
}

Result<Registry> Registry::OpenPostgres(const std::string& uri, const OpenOptions& options) {
  GRAFT_ASSIGN_OR_RETURN(Database db, Database::Connect(uri, options.snapshot));
  const std::string shown = db.path().string();
  auto state = std::make_unique<State>(shown, std::move(db));
  GRAFT_ASSIGN_OR_RETURN(state->staging, LocalStaging());
  return Load(std::move(state), options, /*read_only=*/false, shown);
}

Result<Registry> Registry::Load(std::unique_ptr<State> state, const OpenOptions& options,
                                bool read_only, const std::string& database) {
  const fs::path dir = state->dir;
  if (options.snapshot) {
    Result<ReadTransaction> snapshot = ReadTransaction::Begin(state->db);
    if (!snapshot.ok()) {
      return snapshot.status().kind() == ErrorKind::kInvalidInput
                 ? snapshot.status()
                 : InvalidInput(dir.string() +
                                " is not a graft registry: " + snapshot.status().message());
    }
    state->snapshot.emplace(std::move(*snapshot));
  }
  Result<int> version = SchemaVersion(state->db);
  if (!version.ok()) {
    return version.status().kind() == ErrorKind::kInvalidInput
               ? version.status()
               : InvalidInput(dir.string() +
                              " is not a graft registry: " + version.status().message());
  }
  if (*version == 0) {
    return InvalidInput(dir.string() + " is not a graft registry (" + database +
                        " has no graft schema; 'graft init' makes an empty database one)");
  }
  if (*version < LatestSchemaVersion() && !read_only && !options.snapshot) {
    GRAFT_RETURN_IF_ERROR(MigrateSchema(state->db));
    GRAFT_ASSIGN_OR_RETURN(version, SchemaVersion(state->db));
  }
  state->schema_version = *version;
  std::string key_id;
  {
    GRAFT_ASSIGN_OR_RETURN(Statement s, state->db.Prepare("SELECT key, value FROM meta"));
    for (;;) {
      GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (s.Text(0) == "origin") state->origin = s.Text(1);
      if (s.Text(0) == "key_id") key_id = s.Text(1);
      if (s.Text(0) == "admin_key_id") state->guarded = true;
    }
  }
  if (state->origin.empty() || key_id.empty()) {
    return InvalidInput(dir.string() + " is not an initialised graft registry (no origin)");
  }
  {
    GRAFT_ASSIGN_OR_RETURN(
        Statement s,
        state->db.Prepare("SELECT pem FROM keys WHERE key_id = ? AND role = 'registry'"));
    GRAFT_RETURN_IF_ERROR(s.Bind(1, key_id));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return VerificationFailed("the registry key " + key_id + " is not in the keys table");
    GRAFT_ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromPem(s.Text(0), "registry key"));
    if (pub.key_id() != key_id) {
      return VerificationFailed("the registry key's PEM does not match its key id " + key_id);
    }
    state->registry_key = std::move(pub);
  }
  return Registry(std::move(state));
}

// --- Queries ---------------------------------------------------------------------------------

Result<std::optional<ObjectRecord>> Registry::Find(const std::string& digest) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare(std::string(kObjectColumns) + "WHERE o.digest = ?"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, digest));
  GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<ObjectRecord>();
  return std::optional<ObjectRecord>(ReadObject(s));
}

Result<ObjectRecord> Registry::Get(const std::string& digest) {
  std::string hex = StripSha256(digest);
  GRAFT_ASSIGN_OR_RETURN(std::optional<ObjectRecord> found, Find(hex));
  if (!found) return NotFound("no object sha256:" + hex + " in the registry");
  return *found;
}

Result<std::string> Registry::ResolveDigest(std::string_view table, std::string_view column,
                                            std::string_view kind, const std::string& ref) {
  std::string hex = StripSha256(ref);
  if (!IsHex(hex) || hex.size() > 64) return NotFound("no match for \"" + ref + "\"");
  std::string sql = "SELECT " + std::string(column) + " FROM " + std::string(table) + " WHERE " +
                    std::string(column) + " >= ?1 AND " + std::string(column) + " < ?2" +
                    (kind.empty() ? "" : (table == "keys" ? "" : " AND kind = ?3")) + " GROUP BY " +
                    std::string(column) + " LIMIT 11";
  GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare(sql));
  GRAFT_RETURN_IF_ERROR(s.BindAll(hex, hex + "g"));
  if (!kind.empty() && table != "keys") GRAFT_RETURN_IF_ERROR(s.Bind(3, kind));
  std::vector<std::string> candidates;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    candidates.push_back(s.Text(0));
  }
  if (candidates.empty()) return NotFound("no match for \"" + ref + "\"");
  if (candidates.size() > 1) {
    std::string list;
    for (const auto& c : candidates) list += "\n  " + c;
    return InvalidInput("\"" + ref + "\" is ambiguous; it matches:" + list);
  }
  return candidates.front();
}

Result<ObjectRecord> Registry::Resolve(std::string_view kind, const std::string& ref) {
  std::string what = kind.empty() ? "object" : std::string(kind);
  if (ref.empty()) return InvalidInput("empty " + what + " reference");
  // Loads the object (a full digest that is not stored is "not found": a key id looks the same)
  // and checks its kind.
  auto get_of_kind = [&](const std::string& digest) -> Result<ObjectRecord> {
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, Get(digest));
    if (!kind.empty() && record.kind != kind) {
      return InvalidInput("\"" + ref + "\" is a " + record.kind + ", not a " + what);
    }
    return record;
  };
  size_t at = ref.rfind('@');
  if (at != std::string::npos && !ref.starts_with("sha256:")) {
    std::string name = ref.substr(0, at);
    std::string tail = ref.substr(at + 1);
    if (!tail.empty() && std::all_of(tail.begin(), tail.end(), ::isdigit)) {
      GRAFT_ASSIGN_OR_RETURN(Statement s,
                             db().Prepare("SELECT digest FROM labels WHERE name = ?1 AND "
                                          "version = ?2 AND (?3 = '' OR kind = ?3)"));
      GRAFT_RETURN_IF_ERROR(
          s.BindAll(name, static_cast<int64_t>(std::stoll(tail)), std::string(kind)));
      GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return NotFound("no " + what + " " + ref);
      return get_of_kind(s.Text(0));
    }
    GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare("SELECT digest FROM channels WHERE name = ?"));
    GRAFT_RETURN_IF_ERROR(s.Bind(1, ref));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFound("no " + what + " version or channel " + ref);
    return get_of_kind(s.Text(0));
  }
  std::string hex = StripSha256(ref);
  if (hex.size() == 64 && IsHex(hex)) return get_of_kind(hex);
  if (!ref.starts_with("sha256:")) {
    GRAFT_ASSIGN_OR_RETURN(Statement s,
                           db().Prepare("SELECT digest FROM labels WHERE name = ?1 AND "
                                        "(?2 = '' OR kind = ?2) ORDER BY version DESC LIMIT 1"));
    GRAFT_RETURN_IF_ERROR(s.BindAll(ref, std::string(kind)));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      return get_of_kind(s.Text(0));
    }
  }
  Result<std::string> digest = ResolveDigest("objects", "digest", kind, ref);
  if (!digest.ok()) {
    if (digest.status().kind() == ErrorKind::kNotFound) {
      return NotFound("no " + what + " named or with a digest starting \"" + ref + "\"");
    }
    return digest.status();
  }
  return get_of_kind(*digest);
}

Result<std::vector<ObjectRecord>> Registry::List(const ObjectFilter& filter) {
  // Without info, the rows come from the objects_listing index alone; labels are read in one
  // scan of the kind's labels rather than a subquery per object.
  std::string sql = std::string("SELECT o.digest, o.kind, ") +
                    (filter.with_info ? "o.info" : "''") +
                    ", o.attested, o.stage, o.created_seq, o.revoked_seq, o.revoke_reason "
                    "FROM objects o WHERE o.kind = ?1";
  if (!filter.name.empty()) {
    sql += " AND o.digest IN (SELECT digest FROM labels WHERE kind = ?1 AND name = ?2)";
  }
  if (!filter.base_digest.empty()) {
    sql += " AND o.digest IN (SELECT src FROM edges WHERE dst = ?3 AND relation = 'base')";
  }
  if (!filter.stage.empty()) sql += " AND o.stage = ?4";
  if (!filter.tags.empty() && !HasSchema(kAdapterAnnotationsSchema)) {
    return std::vector<ObjectRecord>();  // nothing is tagged yet
  }
  for (size_t i = 0; i < filter.tags.size(); ++i) {
    const std::string key = "?" + std::to_string(5 + 2 * i);
    const std::string value = "?" + std::to_string(6 + 2 * i);
    sql += " AND o.digest IN (SELECT digest FROM adapter_tags WHERE key = " + key +
           (filter.tags[i].value ? " AND value = " + value : "") + ")";
  }
  sql += " ORDER BY o.created_seq";
  GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare(sql));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, filter.kind));
  if (!filter.name.empty()) GRAFT_RETURN_IF_ERROR(s.Bind(2, filter.name));
  if (!filter.base_digest.empty()) {
    GRAFT_RETURN_IF_ERROR(s.Bind(3, StripSha256(filter.base_digest)));
  }
  if (!filter.stage.empty()) GRAFT_RETURN_IF_ERROR(s.Bind(4, filter.stage));
  for (size_t i = 0; i < filter.tags.size(); ++i) {
    const int index = static_cast<int>(5 + 2 * i);
    GRAFT_RETURN_IF_ERROR(s.Bind(index, filter.tags[i].key));
    if (filter.tags[i].value) GRAFT_RETURN_IF_ERROR(s.Bind(index + 1, *filter.tags[i].value));
  }
  std::vector<ObjectRecord> out;
  std::unordered_map<std::string, size_t> index;  // digest -> position in `out`
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadObject(s));
    index.emplace(out.back().digest, out.size() - 1);
  }
  if (out.empty()) return out;
  // In primary-key order (name, version), as Get lists them.
  GRAFT_ASSIGN_OR_RETURN(Statement labels,
                         db().Prepare("SELECT digest, name, version FROM labels WHERE kind = ?"));
  GRAFT_RETURN_IF_ERROR(labels.Bind(1, filter.kind));
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, labels.Step());
    if (!row) break;
    auto it = index.find(labels.Text(0));
    if (it == index.end()) continue;
    out[it->second].labels.push_back(labels.Text(1) + "@" + std::to_string(labels.Int(2)));
  }
  return out;
}

namespace {

Result<std::vector<Edge>> ReadEdges(Statement& s) {
  std::vector<Edge> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Text(1), s.Text(2)});
  }
  return out;
}

}  // namespace

Result<std::vector<Edge>> Registry::EdgesFrom(const std::string& src) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT src, relation, dst FROM edges WHERE src = ? ORDER BY relation, dst"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, StripSha256(src)));
  return ReadEdges(s);
}

Result<std::vector<Edge>> Registry::EdgesTo(const std::string& dst) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT src, relation, dst FROM edges WHERE dst = ? ORDER BY src, relation"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, StripSha256(dst)));
  return ReadEdges(s);
}

Result<std::string> Registry::ReadBlob(const std::string& digest) {
  return blobs().Get(StripSha256(digest));
}

// --- Registration ----------------------------------------------------------------------------

Result<ObjectRecord> Registry::AddObject(Change& change, std::string_view kind, Json details,
                                         const std::string& name, const std::string& actor) {
  std::string digest = details["digest"].get<std::string>();
  GRAFT_ASSIGN_OR_RETURN(std::optional<ObjectRecord> existing, Find(digest));
  if (existing && existing->kind != kind) {
    return Conflict("sha256:" + digest + " is already registered as a " + existing->kind);
  }
  Json label;
  if (!name.empty()) {
    GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare("SELECT COALESCE(MAX(version), 0), "
                                                     "SUM(CASE WHEN digest = ?3 THEN 1 ELSE 0 END) "
                                                     "FROM labels WHERE kind = ?1 AND name = ?2"));
    GRAFT_RETURN_IF_ERROR(s.BindAll(std::string(kind), name, digest));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    int64_t latest = row ? s.Int(0) : 0;
    bool already = row && !s.IsNull(1) && s.Int(1) > 0;
    if (!already) label = {{"name", name}, {"version", latest + 1}};
  }
  std::string kind_text(kind);
  if (!existing) {
    if (!label.is_null()) details["label"] = label;
    GRAFT_RETURN_IF_ERROR(change.Append(kind_text + ".register", details, actor).status());
  } else if (!label.is_null()) {
    GRAFT_RETURN_IF_ERROR(
        change.Append(kind_text + ".label", {{"digest", digest}, {"label", label}}, actor)
            .status());
  }
  return Get(digest);
}

Result<ObjectRecord> Registry::RegisterFile(std::string_view kind, const fs::path& file,
                                            const std::string& name, Json info,
                                            const std::vector<Edge>& edges) {
  if (!IsObjectKind(kind)) return InvalidInput("unknown object kind \"" + std::string(kind) + "\"");
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, std::string(kind) + " name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyFile(file, state_->staging));
  return RegisterStagedFile(kind, intake, file, name, std::move(info), edges);
}

Result<ObjectRecord> Registry::RegisterStagedFile(std::string_view kind, const Intake& intake,
                                                  const fs::path& file, const std::string& name,
                                                  Json info, const std::vector<Edge>& edges) {
  const ManifestEntry& staged = intake.manifest().entries.front();
  if (!info.is_object()) info = Json::object();
  info["filename"] = file.filename().string();
  info["size"] = staged.size;
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_RETURN_IF_ERROR(change.AdoptFiles(intake, blobs).status());
    Json details = {{"digest", DigestHex(staged.digest)},
                    {"info", info},
                    {"attested", 0},
                    {"blobs", blobs},
                    {"edges", EdgesJson(edges)}};
    GRAFT_ASSIGN_OR_RETURN(record, AddObject(change, kind, std::move(details), name, ""));
    return Status::Ok();
  }));
  return record;
}

Result<ObjectRecord> Registry::RegisterDataset(const fs::path& file, const std::string& name) {
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, "dataset name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyFile(file, state_->staging));
  // The staged copy is what is checked and stored.
  GRAFT_ASSIGN_OR_RETURN(std::string bytes,
                         ReadFile(intake.PathOf(intake.manifest().entries.front().path)));
  int64_t records = 0;
  size_t start = 0;
  int64_t line_number = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    ++line_number;
    std::string where = file.string() + ":" + std::to_string(line_number);
    std::string_view line(bytes.data() + start, end - start);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      return InvalidInput(where + ": empty line (JSONL has one JSON object per line)");
    }
    GRAFT_ASSIGN_OR_RETURN(Json value, ParseJson(line, where));
    if (!value.is_object()) return InvalidInput(where + ": expected a JSON object");
    ++records;
    start = end + 1;
  }
  if (records == 0) return InvalidInput(file.string() + ": no records");
  return RegisterStagedFile("dataset", intake, file, name, {{"records", records}}, {});
}

Result<ObjectRecord> Registry::RegisterBase(const fs::path& dir, const std::string& name,
                                            const StagedCheck& check) {
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, "base name"));
  std::error_code error;
  if (!fs::is_directory(dir, error)) return InvalidInput(dir.string() + " is not a directory");
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyDirectory(dir, state_->staging));
  // Everything below reads the staged copy, which is what is stored.
  fs::path config_path = intake.PathOf(kHfConfigFile);
  Result<std::string> config_text = ReadFile(config_path, 16 << 20);
  if (!config_text.ok()) {
    return config_text.status().kind() == ErrorKind::kNotFound
               ? InvalidInput(dir.string() + " has no " + kHfConfigFile)
               : config_text.status();
  }
  const std::string source = (dir / kHfConfigFile).string();
  GRAFT_ASSIGN_OR_RETURN(Json config, ParseJson(*config_text, source));
  GRAFT_ASSIGN_OR_RETURN(ModelArchitecture arch, ModelArchitecture::FromConfig(config, source));
  if (check) GRAFT_RETURN_IF_ERROR(intake.InSourceTerms(check(intake.dir(), dir), dir));
  Json info = {{"model_type", arch.model_type},
               {"parameters", arch.parameters},
               {"config", config},
               {"identity_ignore", Json::array()}};
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_ASSIGN_OR_RETURN(Json files, change.AdoptFiles(intake, blobs));
    Json details = {{"digest", intake.manifest().RootDigestHex()},
                    {"info", info},
                    {"attested", 0},
                    {"files", files},
                    {"blobs", blobs}};
    GRAFT_ASSIGN_OR_RETURN(record, AddObject(change, "base", std::move(details), name, ""));
    return Status::Ok();
  }));
  return record;
}

namespace {

// The names a base goes by in messages: "tiny-gpt2@1 (sha256:0123abcd...)".
std::string BaseLabel(const ObjectRecord& base) {
  std::string short_digest = "sha256:" + base.digest.substr(0, 12);
  return base.labels.empty() ? short_digest : base.labels.back() + " (" + short_digest + ")";
}

}  // namespace

Result<ObjectRecord> Registry::RegisterAdapter(const fs::path& dir, const AdapterOptions& options) {
  if (!options.name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(options.name, "adapter name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyDirectory(dir, state_->staging));
  Result<ObjectRecord> registered = RegisterStagedAdapter(intake, dir, options);
  if (!registered.ok()) return intake.InSourceTerms(registered.status(), dir);
  return registered;
}

Result<ObjectRecord> Registry::RegisterStagedAdapter(const Intake& intake, const fs::path& source,
                                                     const AdapterOptions& options) {
  // Everything is read from the staged copy; `source` only names it in messages.
  const fs::path& dir = intake.dir();
  GRAFT_ASSIGN_OR_RETURN(AdapterSpec spec, AdapterSpec::Read(dir));
  const std::vector<std::string> ignore = {std::string(kSignatureFile),
                                           std::string(kProvenanceFile)};
  Manifest identity;
  for (const ManifestEntry& entry : intake.manifest().entries) {
    if (std::find(ignore.begin(), ignore.end(), entry.path) == ignore.end()) {
      identity.entries.push_back(entry);
    }
  }
  std::string digest = identity.RootDigestHex();

  std::error_code error;
  bool has_signature = fs::exists(dir / kSignatureFile, error);
  bool has_provenance = fs::exists(dir / kProvenanceFile, error);
  std::optional<Provenance> provenance;
  if (has_provenance) {
    fs::path path = dir / kProvenanceFile;
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 64 << 20));
    GRAFT_ASSIGN_OR_RETURN(provenance, Provenance::Parse(text, path.string()));
  }

  // The base: --base; else the base digest in the provenance (verified below with its
  // signature); else adapter_config.json's base_model_name_or_path, a hint.
  std::string base_ref = options.base_ref;
  std::string base_from = "--base";
  if (base_ref.empty() && provenance && provenance->Find("base")) {
    base_ref = *provenance->Find("base");
    base_from = "its provenance";
  }
  if (base_ref.empty()) {
    base_ref = spec.lora.base_model_name_or_path;
    base_from = "adapter_config.json's base_model_name_or_path";
  }
  if (base_ref.empty()) {
    return InvalidInput(source.string() +
                        ": adapter_config.json names no base_model_name_or_path; pass --base REF");
  }
  Result<ObjectRecord> base = Resolve("base", base_ref);
  if (!base.ok()) {
    return base.status().WithContext("the adapter's base \"" + base_ref + "\" (from " + base_from +
                                     "; register it with 'graft base register', or pass --base)");
  }
  GRAFT_ASSIGN_OR_RETURN(ModelArchitecture arch,
                         ModelArchitecture::FromConfig(base->Info()["config"], "base config"));
  Result<AdapterSpec::Fit> fit = spec.CheckAgainst(arch, BaseLabel(*base));
  if (!fit.ok()) {
    // Name the base it was probably made for.
    std::string hint;
    ObjectFilter all_bases;
    all_bases.kind = "base";
    GRAFT_ASSIGN_OR_RETURN(std::vector<ObjectRecord> bases, List(all_bases));
    for (const ObjectRecord& other : bases) {
      if (other.digest == base->digest) continue;
      Result<ModelArchitecture> other_arch =
          ModelArchitecture::FromConfig(other.Info()["config"], "base config");
      if (other_arch.ok() && spec.CheckAgainst(*other_arch, BaseLabel(other)).ok()) {
        hint += (hint.empty() ? "; it fits base " : ", ") + BaseLabel(other);
      }
    }
    return Status(fit.status().kind(), fit.status().message() + hint);
  }

  if ((!has_signature || !has_provenance) && !options.unattested) {
    return InvalidInput(
        source.string() + " has no " +
        (!has_signature ? std::string(kSignatureFile) : std::string(kProvenanceFile)) +
        "; pass --unattested to register it anyway (it is then marked "
        "unattested everywhere)");
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> trainers, TrustedKeys("trainer"));
  GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> all_keys, Keys());
  // When verification fails, say whether a revoked trainer key would have verified it.
  auto revoked_signer = [&](const std::function<bool(const PublicKey&)>& verifies) {
    for (const KeyRecord& k : all_keys) {
      if (k.role != "trainer" || !k.revoked_seq) continue;
      Result<PublicKey> pub = PublicKey::FromPem(k.pem);
      if (pub.ok() && verifies(*pub)) {
        return " (it is signed by key " + k.key_id + ", revoked at event " +
               std::to_string(*k.revoked_seq) + ": " + k.revoke_reason + ")";
      }
    }
    return std::string();
  };

  std::vector<Edge> edges = {{digest, "base", base->digest}};
  Json info = spec.Summary(*fit);
  info["base"] = base->digest;
  info["identity_ignore"] = ignore;
  info["provenance"] = nullptr;
  std::string actor;
  struct PendingAttestation {
    std::string kind, envelope, predicate_type;
    std::vector<std::string> key_ids;
  };
  std::vector<PendingAttestation> attestations;

  if (has_signature) {
    Result<OmsVerification> verified =
        OmsVerify(dir, dir / kSignatureFile, trainers, {std::string(kProvenanceFile)});
    if (!verified.ok()) {
      std::string revoked = revoked_signer([&](const PublicKey& key) {
        return OmsVerify(dir, dir / kSignatureFile, {key}, {std::string(kProvenanceFile)}).ok();
      });
      return VerificationFailed((dir / kSignatureFile).string() + ": " +
                                verified.status().message() + revoked);
    }
    if (verified->manifest.RootDigestHex() != digest) {
      return VerificationFailed((dir / kSignatureFile).string() +
                                " covers a different set of files");
    }
    GRAFT_ASSIGN_OR_RETURN(std::string bundle_text, ReadFile(dir / kSignatureFile));
    GRAFT_ASSIGN_OR_RETURN(Json bundle, ParseJson(bundle_text, kSignatureFile));
    GRAFT_ASSIGN_OR_RETURN(const Json* dsse, JsonField(bundle, "dsseEnvelope", kSignatureFile));
    GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, DsseEnvelope::FromJson(*dsse, kSignatureFile));
    attestations.push_back({"model-signature",
                            envelope.Serialize(),
                            std::string(kOmsPredicateType),
                            {verified->key_id}});
    edges.push_back({digest, "signed_by", verified->key_id});
    actor = verified->key_id;
  }
  if (provenance) {
    fs::path path = source / kProvenanceFile;
    Result<std::vector<std::string>> signers = DsseVerify(provenance->envelope, trainers);
    if (!signers.ok()) {
      std::string revoked = revoked_signer(
          [&](const PublicKey& key) { return DsseVerify(provenance->envelope, {key}).ok(); });
      return VerificationFailed(path.string() + ": " + signers.status().message() + revoked);
    }
    if (provenance->subject_digest != digest) {
      return VerificationFailed(path.string() +
                                ": its subject is sha256:" + provenance->subject_digest +
                                ", but the adapter is sha256:" + digest);
    }
    if (*provenance->Find("base") != base->digest) {
      return VerificationFailed(path.string() +
                                ": it names base sha256:" + *provenance->Find("base") +
                                ", but the adapter was checked "
                                "against " +
                                BaseLabel(*base));
    }
    for (const Provenance::Dependency& dep : provenance->dependencies) {
      if (dep.role == "base") continue;
      edges.push_back({digest, dep.role == "parent_adapter" ? "parent" : dep.role, dep.digest});
    }
    attestations.push_back({"provenance", provenance->envelope.Serialize(),
                            std::string(kSlsaProvenanceType), *signers});
    info["provenance"] = provenance->Summary();
    for (const std::string& signer : *signers) edges.push_back({digest, "signed_by", signer});
    if (actor.empty()) actor = signers->front();
  }

  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_ASSIGN_OR_RETURN(Json files, change.AdoptFiles(intake, blobs));
    std::vector<std::pair<std::string, std::string>> recorded;  // (kind, digest)
    for (const PendingAttestation& a : attestations) {
      GRAFT_ASSIGN_OR_RETURN(std::string att_digest, change.PutBlob(a.envelope));
      blobs.push_back(BlobEntry(att_digest, a.envelope.size()));
      recorded.emplace_back(a.kind, att_digest);
      edges.push_back({digest, a.kind, att_digest});
    }
    Json details = {{"digest", digest},
                    {"info", info},
                    {"attested", has_signature && has_provenance ? 1 : 0},
                    {"stage", "candidate"},
                    {"files", files},
                    {"blobs", blobs},
                    {"edges", EdgesJson(edges)}};
    GRAFT_ASSIGN_OR_RETURN(record,
                           AddObject(change, "adapter", std::move(details), options.name, actor));
    // The attestations are recorded once, with the object's first registration.
    if (record.created_seq + 1 == *change.log().Size()) {
      for (size_t i = 0; i < attestations.size(); ++i) {
        const PendingAttestation& a = attestations[i];
        Json att = {{"digest", recorded[i].second},
                    {"kind", a.kind},
                    {"subject", digest},
                    {"predicate_type", a.predicate_type},
                    {"key_ids", a.key_ids}};
        GRAFT_RETURN_IF_ERROR(change.Append("attestation.add", att, a.key_ids.front()).status());
      }
    }
    return Status::Ok();
  }));
  return record;
}

// --- Lifecycle -------------------------------------------------------------------------------

Result<ObjectRecord> Registry::RevokeObject(std::string_view kind, const std::string& ref,
                                            const std::string& reason) {
  if (reason.empty()) return InvalidInput("a revocation needs a reason");
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(record, Resolve(kind, ref));
    if (record.revoked_seq) {
      return Conflict(record.kind + " sha256:" + record.digest + " is already revoked");
    }
    GRAFT_RETURN_IF_ERROR(
        change.Append(record.kind + ".revoke", {{"digest", record.digest}, {"reason", reason}})
            .status());
    GRAFT_ASSIGN_OR_RETURN(record, Get(record.digest));
    return Status::Ok();
  }));
  return record;
}

Status Registry::SetStage(const std::string& digest, const std::string& stage,
                          const std::string& reason) {
  if (std::find(std::begin(kStages), std::end(kStages), stage) == std::end(kStages)) {
    return InvalidInput("unknown stage \"" + stage +
                        "\" (candidate, staging, production, retired, rejected, revoked)");
  }
  return Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, Get(digest));
    return change
        .Append("stage.set", {{"digest", record.digest},
                              {"stage", stage},
                              {"from", record.stage ? Json(*record.stage) : Json()},
                              {"reason", reason}})
        .status();
  });
}

Status Registry::SetChannel(const std::string& channel, const std::string& digest,
                            const std::string& reason) {
  GRAFT_RETURN_IF_ERROR(ValidateChannel(channel));
  return Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, Get(digest));
    return change
        .Append("channel.set",
                {{"channel", channel}, {"digest", record.digest}, {"reason", reason}})
        .status();
  });
}

namespace {

// Rows of (name, seq, digest, reason).
Result<std::vector<ChannelEntry>> ReadChannelEntries(Statement& s) {
  std::vector<ChannelEntry> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Text(2), s.Text(3)});
  }
  return out;
}

}  // namespace

Result<std::vector<ChannelEntry>> Registry::ChannelHistory(const std::string& channel) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT name, seq, digest, reason FROM channel_history "
                                      "WHERE name = ? ORDER BY seq"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, channel));
  return ReadChannelEntries(s);
}

Result<std::vector<ChannelEntry>> Registry::Channels() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT c.name, c.seq, c.digest, COALESCE(h.reason, '') "
                                      "FROM channels c LEFT JOIN channel_history h "
                                      "ON h.name = c.name AND h.seq = c.seq ORDER BY c.name"));
  return ReadChannelEntries(s);
}

// --- Keys ------------------------------------------------------------------------------------

Result<std::vector<KeyRecord>> Registry::Keys() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare(std::string(kKeyColumns) + "ORDER BY trusted_seq, role"));
  std::vector<KeyRecord> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadKey(s));
  }
  return out;
}

Result<std::vector<PublicKey>> Registry::TrustedKeys(const std::string& role) {
  GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare(std::string(kKeyColumns) +
                                                   "WHERE role = ? AND revoked_seq IS NULL"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, role));
  std::vector<PublicKey> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KeyRecord record = ReadKey(s);
    GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromPem(record.pem, "key " + record.key_id));
    if (key.key_id() != record.key_id) {
      return VerificationFailed("trusted key " + record.key_id + " does not match its PEM");
    }
    out.push_back(std::move(key));
  }
  return out;
}

Result<KeyRecord> Registry::TrustKey(const PublicKey& key, const std::string& role,
                                     const std::string& name) {
  if (!IsKeyRole(role) || role == "registry") {
    return InvalidInput("unknown key role \"" + role +
                        "\" (trainer, evaluator, approver, release, curator, admin)");
  }
  KeyRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id != key.key_id()) continue;
      if (k.revoked_seq) {
        return Conflict("key " + k.key_id + " was revoked at event " +
                        std::to_string(*k.revoked_seq) + " and cannot be trusted again");
      }
      if (k.role == role) {
        record = k;
        return Status::Ok();
      }
    }
    GRAFT_RETURN_IF_ERROR(
        change
            .Append("key.trust", {{"key_id", key.key_id()},
                                  {"role", role},
                                  {"algorithm", KeyAlgorithmName(key.algorithm())},
                                  {"name", name},
                                  {"pem", key.ToPem()}})
            .status());
    GRAFT_ASSIGN_OR_RETURN(keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id == key.key_id() && k.role == role) record = k;
    }
    return Status::Ok();
  }));
  return record;
}

Result<KeyRecord> Registry::RevokeKey(const std::string& key_ref, const std::string& reason) {
  if (reason.empty()) return InvalidInput("a revocation needs a reason");
  KeyRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Result<std::string> key_id = ResolveDigest("keys", "key_id", "", key_ref);
    if (!key_id.ok()) {
      return key_id.status().kind() == ErrorKind::kNotFound
                 ? NotFound("no trusted key matches \"" + key_ref + "\"")
                 : key_id.status();
    }
    GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id != *key_id) continue;
      if (k.revoked_seq) return Conflict("key " + k.key_id + " is already revoked");
      if (k.role == "registry") return Conflict("the registry's own key cannot be revoked");
    }
    GRAFT_RETURN_IF_ERROR(
        change.Append("key.revoke", {{"key_id", *key_id}, {"reason", reason}}).status());
    GRAFT_ASSIGN_OR_RETURN(keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id == *key_id) record = k;
    }
    return Status::Ok();
  }));
  return record;
}

// --- Attestations ----------------------------------------------------------------------------

Result<AttestationRecord> Registry::AddAttestation(const std::string& kind,
                                                   const DsseEnvelope& envelope,
                                                   const std::string& subject,
                                                   const std::string& role,
                                                   const std::vector<Edge>& edges) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, TrustedKeys(role));
  Result<std::vector<std::string>> signers = DsseVerify(envelope, keys);
  if (!signers.ok()) {
    return VerificationFailed(kind + " attestation: not signed by a trusted " + role +
                              " key: " + signers.status().message());
  }
  std::string predicate_type = envelope.payload_type;
  if (envelope.payload_type == kInTotoPayloadType) {
    GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                           InTotoStatement::Parse(envelope.payload, kind + " attestation"));
    predicate_type = statement.predicate_type;
  }
  std::string serialized = envelope.Serialize();
  std::string digest = Sha256Hex(serialized);
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> existing,
                           Attestations(StripSha256(subject), kind));
    for (const AttestationRecord& a : existing) {
      if (a.digest == digest) return Status::Ok();
    }
    GRAFT_RETURN_IF_ERROR(change.PutBlob(serialized).status());
    Json details = {{"digest", digest},
                    {"kind", kind},
                    {"subject", StripSha256(subject)},
                    {"predicate_type", predicate_type},
                    {"key_ids", *signers},
                    {"blobs", Json::array({BlobEntry(digest, serialized.size())})},
                    {"edges", EdgesJson(edges)}};
    return change.Append("attestation.add", details, signers->front()).status();
  }));
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> all,
                         Attestations(StripSha256(subject), kind));
  for (AttestationRecord& a : all) {
    if (a.digest == digest) return a;
  }
  return InternalError("attestation sha256:" + digest + " was not recorded");
}

Result<std::vector<AttestationRecord>> Registry::Attestations(const std::string& subject,
                                                              const std::string& kind) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT digest, kind, subject, predicate_type, key_ids, seq FROM attestations "
                   "WHERE subject = ?1 AND (?2 = '' OR kind = ?2) ORDER BY seq"));
  GRAFT_RETURN_IF_ERROR(s.BindAll(StripSha256(subject), kind));
  std::vector<AttestationRecord> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadAttestation(s));
  }
  return out;
}

Result<DsseEnvelope> Registry::LoadAttestation(const std::string& digest) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadBlob(digest));
  return DsseEnvelope::Parse(text, "attestation sha256:" + StripSha256(digest));
}

Result<uint64_t> Registry::AppendEvent(const std::string& action, const Json& details,
                                       const PrivateKey* signer) {
  static const std::regex kAction("[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)+");
  if (!std::regex_match(action, kAction)) {
    return InvalidInput("event action \"" + action + "\" must look like \"group.verb\"");
  }
  if (Projection::Changes(action)) {
    return InvalidInput("event action \"" + action +
                        "\" is reserved; use the Registry method that makes that change");
  }
  uint64_t seq = 0;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(Event event, change.Append(action, details, "", signer));
    seq = event.seq;
    return Status::Ok();
  }));
  return seq;
}

// --- Export ----------------------------------------------------------------------------------

std::string Revocation::Describe() const {
  std::string when = "revoked at event " + std::to_string(seq) + ": " + reason;
  if (relation == "self") return when;
  return relation + (relation == "signed_by" ? " key " + id : " sha256:" + id) + " " + when;
}

Result<std::vector<Revocation>> Registry::Revocations(const ObjectRecord& object) {
  std::vector<Revocation> out;
  if (object.revoked_seq) {
    out.push_back({"self", object.digest, *object.revoked_seq, object.revoke_reason});
  }
  // Each edge's target, revoked as an object or as a key (a key is revoked in all its roles);
  // parent adapters are followed, their dependencies named "parent/<relation>".
  std::set<std::string> seen = {object.digest};
  std::vector<std::pair<std::string, std::string>> pending = {{object.digest, ""}};
  while (!pending.empty()) {
    auto [src, prefix] = pending.back();
    pending.pop_back();
    GRAFT_ASSIGN_OR_RETURN(
        Statement s,
        // One row per edge (a key revoked in several roles has one revocation event): MIN
        // picks it on every engine.
        db().Prepare("SELECT e.relation, e.dst, MIN(o.kind), "
                     "MIN(COALESCE(o.revoked_seq, k.revoked_seq)), "
                     "MIN(COALESCE(o.revoke_reason, k.revoke_reason, '')) FROM edges e "
                     "LEFT JOIN objects o ON o.digest = e.dst "
                     "LEFT JOIN keys k ON k.key_id = e.dst AND k.revoked_seq IS NOT NULL "
                     "WHERE e.src = ? GROUP BY e.relation, e.dst ORDER BY e.relation, e.dst"));
    GRAFT_RETURN_IF_ERROR(s.Bind(1, src));
    for (;;) {
      GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      std::string relation = prefix + s.Text(0);
      std::string dst = s.Text(1);
      if (auto revoked = s.OptionalInt(3)) {
        out.push_back({relation, dst, static_cast<uint64_t>(*revoked), s.Text(4)});
      }
      if (s.Text(0) == "parent" && s.Text(2) == "adapter" && seen.insert(dst).second) {
        pending.emplace_back(dst, relation + "/");
      }
    }
  }
  return out;
}

Status Registry::ExportFiles(const ObjectRecord& object, const fs::path& out) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<Revocation> revocations, Revocations(object));
  if (!revocations.empty()) {
    std::string reasons;
    for (const Revocation& r : revocations) reasons += (reasons.empty() ? "" : "; ") + r.Describe();
    return Conflict(object.kind + " sha256:" + object.digest + " was revoked (" + reasons +
                    "); refusing to export it");
  }
  return WriteVerifiedFiles(object, out);
}

Status Registry::WriteVerifiedFiles(const ObjectRecord& object, const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error) && (!fs::is_directory(out, error) || !fs::is_empty(out, error))) {
    return InvalidInput(out.string() + " exists and is not an empty directory");
  }
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT path, blob, size FROM object_files WHERE object = ? ORDER BY path"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, object.digest));
  struct File {
    std::string path, blob;
    uint64_t size;
  };
  std::vector<File> files;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    files.push_back({s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2))});
  }
  if (files.empty())
    return InvalidInput(object.kind + " sha256:" + object.digest + " has no files");
  std::set<std::string> ignored;
  Json info = object.Info();
  for (const Json& path : info["identity_ignore"]) ignored.insert(path.get<std::string>());
  Manifest manifest;
  bool created = !fs::exists(out, error);
  auto fail = [&](Status status) {
    if (created) {
      fs::remove_all(out, error);
    } else {
      for (const auto& entry : fs::directory_iterator(out, error)) fs::remove_all(entry, error);
    }
    return status;
  };
  fs::create_directories(out, error);
  if (error) return IoError("cannot create " + out.string() + ": " + error.message());
  for (const File& file : files) {
    Status safe = CheckSafeRelativePath(file.path);
    if (!safe.ok()) return fail(safe);
    Result<std::string> bytes = ReadBlob(file.blob);
    if (!bytes.ok()) return fail(bytes.status().WithContext(file.path));
    if (bytes->size() != file.size) {
      return fail(VerificationFailed(file.path + ": size differs from the registry's record"));
    }
    fs::create_directories((out / file.path).parent_path(), error);
    Status written = WriteFileAtomic(out / file.path, *bytes);
    if (!written.ok()) return fail(written);
    if (!ignored.contains(file.path)) {
      GRAFT_ASSIGN_OR_RETURN(Digest digest, ParseDigestHex(file.blob));
      manifest.entries.push_back({file.path, digest, file.size});
    }
  }
  if (manifest.RootDigestHex() != object.digest) {
    return fail(
        VerificationFailed("the exported files' root digest sha256:" + manifest.RootDigestHex() +
                           " is not the " + object.kind + "'s sha256:" + object.digest));
  }
  return Status::Ok();
}

// --- Log -------------------------------------------------------------------------------------

Result<uint64_t> Registry::LogSize() { return EventLog(db()).Size(); }

Result<Event> Registry::GetEvent(uint64_t seq) { return EventLog(db()).Get(seq); }

Result<std::string> Registry::LatestCheckpoint() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("the registry has no checkpoint");
  return s.Text(0);
}

Result<Checkpoint> Registry::VerifyCheckpoint(std::string_view note) {
  GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint,
                         Checkpoint::ParseAndVerify(note, origin(), registry_key()));
  if (checkpoint.origin != origin()) {
    return VerificationFailed("checkpoint is for log \"" + checkpoint.origin + "\", not \"" +
                              origin() + "\"");
  }
  return checkpoint;
}

Result<InclusionProof> Registry::ProveInclusion(uint64_t seq, uint64_t size) {
  EventLog log(db());
  if (size == 0) {
    GRAFT_ASSIGN_OR_RETURN(size, log.Size());
  }
  GRAFT_ASSIGN_OR_RETURN(Event event, log.Get(seq));
  InclusionProof proof;
  proof.index = seq;
  proof.size = size;
  proof.leaf_hash = MerkleLeafHash(event.body);
  MerkleTree tree = log.Tree();
  GRAFT_ASSIGN_OR_RETURN(proof.path, tree.InclusionProof(seq, size));
  GRAFT_ASSIGN_OR_RETURN(proof.root, tree.RootHash(size));
  return proof;
}

Result<std::vector<Digest>> Registry::ProveConsistency(uint64_t old_size, uint64_t new_size) {
  EventLog log(db());
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, log.Size());
  if (new_size > size) {
    return InvalidInput("the log has " + std::to_string(size) + " events, not " +
                        std::to_string(new_size));
  }
  return log.Tree().ConsistencyProof(old_size, new_size);
}

}  // namespace graft::registry
