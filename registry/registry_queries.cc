// Registry queries: objects by digest or reference, listings, lineage edges, blobs.
#include <algorithm>
#include <unordered_map>

#include "registry/registry.h"
#include "registry/registry_internal.h"
#include "registry/schema.h"

namespace graft::registry {

namespace {

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

bool IsHex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

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

}  // namespace graft::registry
