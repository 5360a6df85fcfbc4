#include "registry/projection.h"

#include <array>
#include <string>

namespace graft::registry {

namespace {

// "scores": evaluation per-item scores and cached base scores (evaluator/adapter_evaluator.h).
constexpr std::array<std::string_view, 8> kObjectKinds = {"base",   "dataset", "adapter", "suite",
                                                          "policy", "run",     "config",  "scores"};
constexpr std::array<std::string_view, 7> kFixedActions = {
    "registry.init", "key.trust",   "key.revoke", "attestation.add",
    "stage.set",     "channel.set", "edge.add"};

std::pair<std::string_view, std::string_view> SplitAction(std::string_view action) {
  size_t dot = action.find('.');
  if (dot == std::string_view::npos) return {action, {}};
  return {action.substr(0, dot), action.substr(dot + 1)};
}

// Typed access to event details, with errors naming the event.
class Fields {
 public:
  Fields(const Json& json, std::string source) : json_(json), source_(std::move(source)) {}
  Result<std::string> Str(std::string_view key) const { return JsonString(json_, key, source_); }
  Result<int64_t> Int(std::string_view key) const {
    GRAFT_ASSIGN_OR_RETURN(const Json* value, JsonField(json_, key, source_));
    if (!value->is_number_integer()) {
      return InvalidInput(source_ + ": field \"" + std::string(key) + "\" must be an integer");
    }
    return value->get<int64_t>();
  }
  Result<std::string> Canonical(std::string_view key) const {
    GRAFT_ASSIGN_OR_RETURN(const Json* value, JsonField(json_, key, source_));
    return CanonicalJson(*value);
  }
  const Json* Optional(std::string_view key) const {
    auto it = json_.find(key);
    return it == json_.end() || it->is_null() ? nullptr : &*it;
  }
  const std::string& source() const { return source_; }

 private:
  const Json& json_;
  std::string source_;
};

}  // namespace

bool IsObjectKind(std::string_view kind) {
  for (auto k : kObjectKinds) {
    if (k == kind) return true;
  }
  return false;
}

bool Projection::Changes(std::string_view action) {
  for (auto a : kFixedActions) {
    if (a == action) return true;
  }
  auto [kind, verb] = SplitAction(action);
  return IsObjectKind(kind) && (verb == "register" || verb == "label" || verb == "revoke");
}

Status Projection::AddBlobsAndEdges(const Json& details, std::string_view source) {
  Fields fields(details, std::string(source));
  if (const Json* blobs = fields.Optional("blobs")) {
    for (const Json& blob : *blobs) {
      Fields b(blob, fields.source() + " blob");
      GRAFT_ASSIGN_OR_RETURN(std::string digest, b.Str("digest"));
      GRAFT_ASSIGN_OR_RETURN(int64_t size, b.Int("size"));
      GRAFT_RETURN_IF_ERROR(
          db_->Run("INSERT OR IGNORE INTO blobs(digest, size) VALUES(?, ?)", digest, size));
    }
  }
  if (const Json* edges = fields.Optional("edges")) {
    GRAFT_ASSIGN_OR_RETURN(std::string src, fields.Str("digest"));
    for (const Json& edge : *edges) {
      Fields e(edge, fields.source() + " edge");
      GRAFT_ASSIGN_OR_RETURN(std::string relation, e.Str("relation"));
      GRAFT_ASSIGN_OR_RETURN(std::string dst, e.Str("dst"));
      GRAFT_RETURN_IF_ERROR(db_->Run(
          "INSERT OR IGNORE INTO edges(src, relation, dst) VALUES(?, ?, ?)", src, relation, dst));
    }
  }
  return Status::Ok();
}

Status Projection::RegisterObject(const Event& event, std::string_view kind) {
  const Json& details = event.json["details"];
  std::string source = "event " + std::to_string(event.seq);
  Fields f(details, source);
  GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
  GRAFT_ASSIGN_OR_RETURN(std::string info, f.Canonical("info"));
  GRAFT_ASSIGN_OR_RETURN(int64_t attested, f.Int("attested"));
  std::optional<std::string> stage;
  if (const Json* s = f.Optional("stage")) stage = s->get<std::string>();
  GRAFT_RETURN_IF_ERROR(
      db_->Run("INSERT INTO objects(digest, kind, info, attested, stage, created_seq) "
               "VALUES(?, ?, ?, ?, ?, ?)",
               digest, kind, info, attested, stage, event.seq));
  if (const Json* files = f.Optional("files")) {
    for (const Json& file : *files) {
      Fields ff(file, source + " file");
      GRAFT_ASSIGN_OR_RETURN(std::string path, ff.Str("path"));
      GRAFT_ASSIGN_OR_RETURN(std::string blob, ff.Str("blob"));
      GRAFT_ASSIGN_OR_RETURN(int64_t size, ff.Int("size"));
      GRAFT_RETURN_IF_ERROR(
          db_->Run("INSERT INTO object_files(object, path, blob, size) VALUES(?, ?, ?, ?)", digest,
                   path, blob, size));
    }
  }
  return AddBlobsAndEdges(details, source);
}

Status Projection::Apply(const Event& event) {
  GRAFT_ASSIGN_OR_RETURN(std::string action, JsonString(event.json, "action", "event"));
  const Json& details = event.json["details"];
  std::string source = "event " + std::to_string(event.seq);
  Fields f(details, source);
  auto [kind, verb] = SplitAction(action);
  int64_t seq = static_cast<int64_t>(event.seq);

  if (action == "registry.init") {
    for (const char* key : {"origin", "key_name", "key_id"}) {
      GRAFT_ASSIGN_OR_RETURN(std::string value, f.Str(key));
      GRAFT_RETURN_IF_ERROR(db_->Run("INSERT INTO meta(key, value) VALUES(?, ?)", key, value));
    }
    // A registry whose changes must be signed (docs/registry.md, "Signed changes").
    if (f.Optional("admin_key_id") != nullptr) {
      GRAFT_ASSIGN_OR_RETURN(std::string admin, f.Str("admin_key_id"));
      GRAFT_RETURN_IF_ERROR(
          db_->Run("INSERT INTO meta(key, value) VALUES('admin_key_id', ?)", admin));
    }
    return Status::Ok();
  }
  if (action == "key.trust") {
    GRAFT_ASSIGN_OR_RETURN(std::string key_id, f.Str("key_id"));
    GRAFT_ASSIGN_OR_RETURN(std::string role, f.Str("role"));
    GRAFT_ASSIGN_OR_RETURN(std::string algorithm, f.Str("algorithm"));
    GRAFT_ASSIGN_OR_RETURN(std::string name, f.Str("name"));
    GRAFT_ASSIGN_OR_RETURN(std::string pem, f.Str("pem"));
    return db_->Run(
        "INSERT INTO keys(key_id, role, algorithm, name, pem, trusted_seq) "
        "VALUES(?, ?, ?, ?, ?, ?)",
        key_id, role, algorithm, name, pem, seq);
  }
  if (action == "key.revoke") {
    GRAFT_ASSIGN_OR_RETURN(std::string key_id, f.Str("key_id"));
    GRAFT_ASSIGN_OR_RETURN(std::string reason, f.Str("reason"));
    return db_->Run(
        "UPDATE keys SET revoked_seq = ?, revoke_reason = ? WHERE key_id = ? AND "
        "revoked_seq IS NULL",
        seq, reason, key_id);
  }
  if (action == "attestation.add") {
    GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
    GRAFT_ASSIGN_OR_RETURN(std::string att_kind, f.Str("kind"));
    GRAFT_ASSIGN_OR_RETURN(std::string subject, f.Str("subject"));
    GRAFT_ASSIGN_OR_RETURN(std::string predicate_type, f.Str("predicate_type"));
    GRAFT_ASSIGN_OR_RETURN(std::string key_ids, f.Canonical("key_ids"));
    GRAFT_RETURN_IF_ERROR(
        db_->Run("INSERT INTO attestations(digest, kind, subject, predicate_type, key_ids, seq) "
                 "VALUES(?, ?, ?, ?, ?, ?)",
                 digest, att_kind, subject, predicate_type, key_ids, seq));
    return AddBlobsAndEdges(details, source);
  }
  if (action == "edge.add") return AddBlobsAndEdges(details, source);
  if (action == "stage.set") {
    GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
    GRAFT_ASSIGN_OR_RETURN(std::string stage, f.Str("stage"));
    return db_->Run("UPDATE objects SET stage = ? WHERE digest = ?", stage, digest);
  }
  if (action == "channel.set") {
    GRAFT_ASSIGN_OR_RETURN(std::string channel, f.Str("channel"));
    GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
    GRAFT_ASSIGN_OR_RETURN(std::string reason, f.Str("reason"));
    GRAFT_RETURN_IF_ERROR(
        db_->Run("INSERT INTO channels(name, digest, seq) VALUES(?, ?, ?) "
                 "ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, seq = excluded.seq",
                 channel, digest, seq));
    return db_->Run("INSERT INTO channel_history(name, seq, digest, reason) VALUES(?, ?, ?, ?)",
                    channel, seq, digest, reason);
  }
  if (IsObjectKind(kind)) {
    if (verb == "register") {
      GRAFT_RETURN_IF_ERROR(RegisterObject(event, kind));
    }
    if (verb == "register" || verb == "label") {
      if (const Json* label = f.Optional("label")) {
        Fields l(*label, source + " label");
        GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
        GRAFT_ASSIGN_OR_RETURN(std::string name, l.Str("name"));
        GRAFT_ASSIGN_OR_RETURN(int64_t version, l.Int("version"));
        GRAFT_RETURN_IF_ERROR(
            db_->Run("INSERT INTO labels(kind, name, version, digest, seq) VALUES(?, ?, ?, ?, ?)",
                     kind, name, version, digest, seq));
      }
      return Status::Ok();
    }
    if (verb == "revoke") {
      GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
      GRAFT_ASSIGN_OR_RETURN(std::string reason, f.Str("reason"));
      return db_->Run(
          "UPDATE objects SET revoked_seq = ?, revoke_reason = ? WHERE digest = ? AND "
          "revoked_seq IS NULL",
          seq, reason, digest);
    }
  }
  return Status::Ok();  // a generic event: it is logged, and changes no table
}

}  // namespace graft::registry
