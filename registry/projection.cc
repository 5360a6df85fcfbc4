#include "registry/projection.h"

#include <string>

#include "registry/annotations.h"
#include "registry/names.h"
#include "registry/vocabulary.h"

namespace graft::registry {

namespace {

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

bool Projection::Changes(std::string_view action) {
  for (auto a : kFixedActions) {
    if (a == action) return true;
  }
  auto [kind, verb] = SplitAction(action);
  return IsObjectKind(kind) && (verb == kRegisterVerb || verb == kLabelVerb || verb == kRevokeVerb);
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

Result<bool> Projection::Exists(const std::string& sql, const std::string& a,
                                const std::string& b) {
  GRAFT_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, a));
  if (!b.empty()) GRAFT_RETURN_IF_ERROR(s.Bind(2, b));
  return s.Step();
}

Result<std::string> Projection::AnnotatedAdapter(const Event& event, const std::string& source) {
  GRAFT_ASSIGN_OR_RETURN(std::string digest, JsonString(event.json["details"], "digest", source));
  GRAFT_ASSIGN_OR_RETURN(
      bool adapter, Exists("SELECT 1 FROM objects WHERE digest = ?1 AND kind = 'adapter'", digest));
  if (!adapter) {
    return InvalidInput(source + ": sha256:" + digest + " is not a registered adapter");
  }
  return digest;
}

Status Projection::TagAdapter(const Event& event) {
  const std::string source = "event " + std::to_string(event.seq) + " adapter.tag";
  GRAFT_ASSIGN_OR_RETURN(std::string digest, AnnotatedAdapter(event, source));
  Fields f(event.json["details"], source);
  const Json* set = f.Optional("set");
  const Json* remove = f.Optional("remove");
  if ((set != nullptr && !set->is_object()) || (remove != nullptr && !remove->is_array())) {
    return InvalidInput(source + ": \"set\" must be an object and \"remove\" an array");
  }
  if ((set == nullptr || set->empty()) && (remove == nullptr || remove->empty())) {
    return InvalidInput(source + ": it sets and removes no tag");
  }
  const int64_t seq = static_cast<int64_t>(event.seq);
  if (remove != nullptr) {
    for (const Json& key : *remove) {
      if (!key.is_string()) return InvalidInput(source + ": a removed tag key is not a string");
      if (set != nullptr && set->contains(key.get<std::string>())) {
        return InvalidInput(source + ": tag \"" + EscapeControl(key.get<std::string>()) +
                            "\" is both set and removed");
      }
      GRAFT_ASSIGN_OR_RETURN(
          bool present, Exists("SELECT 1 FROM adapter_tags WHERE digest = ?1 AND key = ?2", digest,
                               key.get<std::string>()));
      if (!present) {
        return InvalidInput(source + ": removes tag \"" + EscapeControl(key.get<std::string>()) +
                            "\", which the adapter does not have");
      }
      GRAFT_RETURN_IF_ERROR(db_->Run("DELETE FROM adapter_tags WHERE digest = ? AND key = ?",
                                     digest, key.get<std::string>()));
    }
  }
  if (set != nullptr) {
    for (const auto& [key, value] : set->items()) {
      GRAFT_RETURN_IF_ERROR(ValidateTagKey(key).WithContext(source));
      if (!value.is_string()) {
        return InvalidInput(source + ": the value of tag \"" + key + "\" is not a string");
      }
      GRAFT_RETURN_IF_ERROR(ValidateTagValue(key, value.get<std::string>()).WithContext(source));
      GRAFT_RETURN_IF_ERROR(
          db_->Run("INSERT INTO adapter_tags(digest, key, value, seq) VALUES(?, ?, ?, ?) "
                   "ON CONFLICT(digest, key) DO UPDATE SET value = excluded.value, "
                   "seq = excluded.seq",
                   digest, key, value.get<std::string>(), seq));
    }
  }
  GRAFT_ASSIGN_OR_RETURN(Statement count,
                         db_->Prepare("SELECT COUNT(*) FROM adapter_tags WHERE digest = ?"));
  GRAFT_RETURN_IF_ERROR(count.Bind(1, digest));
  GRAFT_ASSIGN_OR_RETURN(bool row, count.Step());
  if (row && static_cast<size_t>(count.Int(0)) > kMaxTagsPerAdapter) {
    return InvalidInput(source + ": the adapter would have " + std::to_string(count.Int(0)) +
                        " tags; at most " + std::to_string(kMaxTagsPerAdapter) + " are allowed");
  }
  return Status::Ok();
}

Status Projection::DescribeAdapter(const Event& event) {
  const std::string source = "event " + std::to_string(event.seq) + " adapter.describe";
  GRAFT_ASSIGN_OR_RETURN(std::string digest, AnnotatedAdapter(event, source));
  GRAFT_ASSIGN_OR_RETURN(std::string text,
                         JsonString(event.json["details"], "description", source));
  GRAFT_RETURN_IF_ERROR(ValidateDescription(text).WithContext(source));
  if (text.empty()) {
    GRAFT_ASSIGN_OR_RETURN(bool present,
                           Exists("SELECT 1 FROM adapter_descriptions WHERE digest = ?1", digest));
    if (!present) return InvalidInput(source + ": clears a description the adapter does not have");
    return db_->Run("DELETE FROM adapter_descriptions WHERE digest = ?", digest);
  }
  return db_->Run(
      "INSERT INTO adapter_descriptions(digest, description, seq) VALUES(?, ?, ?) "
      "ON CONFLICT(digest) DO UPDATE SET description = excluded.description, seq = excluded.seq",
      digest, text, static_cast<int64_t>(event.seq));
}

Status Projection::Apply(const Event& event) {
  GRAFT_ASSIGN_OR_RETURN(std::string action, JsonString(event.json, "action", "event"));
  const Json& details = event.json["details"];
  std::string source = "event " + std::to_string(event.seq);
  Fields f(details, source);
  auto [kind, verb] = SplitAction(action);
  int64_t seq = static_cast<int64_t>(event.seq);

  if (action == kRegistryInitEvent) {
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
  if (action == kKeyTrustEvent) {
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
  if (action == kKeyRevokeEvent) {
    GRAFT_ASSIGN_OR_RETURN(std::string key_id, f.Str("key_id"));
    GRAFT_ASSIGN_OR_RETURN(std::string reason, f.Str("reason"));
    return db_->Run(
        "UPDATE keys SET revoked_seq = ?, revoke_reason = ? WHERE key_id = ? AND "
        "revoked_seq IS NULL",
        seq, reason, key_id);
  }
  if (action == kAttestationAddEvent) {
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
  if (action == kEdgeAddEvent) return AddBlobsAndEdges(details, source);
  if (action == kAdapterTagEvent) return TagAdapter(event);
  if (action == kAdapterDescribeEvent) return DescribeAdapter(event);
  if (action == kStageSetEvent) {
    GRAFT_ASSIGN_OR_RETURN(std::string digest, f.Str("digest"));
    GRAFT_ASSIGN_OR_RETURN(std::string stage, f.Str("stage"));
    return db_->Run("UPDATE objects SET stage = ? WHERE digest = ?", stage, digest);
  }
  if (action == kChannelSetEvent) {
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
    if (verb == kRegisterVerb) {
      GRAFT_RETURN_IF_ERROR(RegisterObject(event, kind));
    }
    if (verb == kRegisterVerb || verb == kLabelVerb) {
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
    if (verb == kRevokeVerb) {
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
