// Registry: its state, the one way it changes (Mutate), and Init/Open. The other sections live in
// registry_queries.cc, registry_registration.cc, registry_lifecycle.cc, registry_keys.cc,
// registry_attestations.cc, registry_export.cc and registry_log.cc; Change in registry_change.cc.
#include "registry/registry.h"

#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_util.h"
#include "registry/empty_database.h"
#include "registry/file_blob_store.h"
#include "registry/postgres_blob_store.h"
#include "registry/postgres_roles.h"
#include "registry/registry_directory.h"
#include "registry/registry_internal.h"
#include "registry/registry_key.h"
#include "registry/schema.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

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

}  // namespace

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

Json KeyTrustDetails(const PublicKey& key, std::string_view role, const std::string& name) {
  return {{"key_id", key.key_id()},
          {"role", role},
          {"algorithm", KeyAlgorithmName(key.algorithm())},
          {"name", name},
          {"pem", key.ToPem()}};
}

// ---------------------------------------------------------------------------------------------

Registry::State::State(fs::path d, Database database)
    : dir(std::move(d)), db(std::move(database)), actor(DefaultActor()) {
  if (db.dialect() == Dialect::kPostgres) {
    blobs = std::make_unique<PostgresBlobStore>(&db);
  } else {
    blobs = std::make_unique<FileBlobStore>(dir / kBlobDir);
    staging = dir;
  }
}

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
bool Registry::read_only() const { return !Writable().ok(); }
Status Registry::MakeQueryOnly() { return state_->db.MakeQueryOnly(); }
const fs::path& Registry::blob_dir() const { return state_->blobs->root(); }

Result<std::string> Registry::RoleGrants() {
  if (state_->db.dialect() != Dialect::kPostgres) return std::string();
  return PostgresGrants(state_->db);
}

Result<Transaction> Registry::LockForWriting() { return Transaction::Begin(state_->db); }

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

// --- Init and Open ---------------------------------------------------------------------------

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
    GRAFT_RETURN_IF_ERROR(change.Append(kRegistryInitEvent, init).status());
    auto trust = [&](const PublicKey& key, std::string_view role, const std::string& name) {
      return change.Append(kKeyTrustEvent, KeyTrustDetails(key, role, name)).status();
    };
    GRAFT_RETURN_IF_ERROR(trust(pub, "registry", registry.origin()));
    return admin_key != nullptr ? trust(*admin_key, kAdminRole, "admin (graft init)")
                                : Status::Ok();
  });
}

Result<Registry> Registry::InitPostgres(const std::string& uri, const InitOptions& options) {
  GRAFT_ASSIGN_OR_RETURN(Database db, Database::Connect(uri));
  const std::string shown = db.path().string();
  GRAFT_RETURN_IF_ERROR(RequireEmptyDatabase(db, "graft init"));
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

}  // namespace graft::registry
