#include "serve/page_key.h"

#include "registry/vocabulary.h"
#include "serve/adapter_query.h"
#include "serve/html.h"
#include "serve/log_follower.h"
#include "serve/reference.h"

namespace graft::serve {
namespace {

// A blob's file, whose stamps the cache checks. A store without files (PostgreSQL: blobs are rows
// that only a database change can alter) adds none: its pages follow the log and the age bound
// (docs/serve.md, "Verification cache").
Status AddBlob(registry::Registry& registry, const std::string& digest, PageKey& key) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<std::filesystem::path> path, registry.BlobPath(digest));
  if (path) key.files.push_back(std::move(*path));
  return Status::Ok();
}

// The blobs of an object's files (an adapter's, a base's).
Status AddObjectFiles(registry::Registry& registry, const std::string& digest, PageKey& key) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::StoredFile> files, registry.ObjectFiles(digest));
  for (const registry::StoredFile& file : files) {
    GRAFT_RETURN_IF_ERROR(AddBlob(registry, file.blob, key));
  }
  return Status::Ok();
}

// What the adapter report hashes: the adapter's and its base's files, every attestation about it,
// and the datasets and policy its provenance names.
Status AddAdapterFiles(registry::Registry& registry, const registry::ObjectRecord& adapter,
                       PageKey& key) {
  GRAFT_RETURN_IF_ERROR(AddObjectFiles(registry, adapter.digest, key));
  const Json info = adapter.Info();
  if (info.contains("base") && info["base"].is_string()) {
    GRAFT_RETURN_IF_ERROR(AddObjectFiles(registry, info["base"].get<std::string>(), key));
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::AttestationRecord> attestations,
                         registry.Attestations(adapter.digest));
  for (const registry::AttestationRecord& a : attestations) {
    GRAFT_RETURN_IF_ERROR(AddBlob(registry, a.digest, key));
  }
  const Json dependencies =
      info.value("provenance", Json::object()).value("dependencies", Json::array());
  for (const Json& d : dependencies) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) continue;
    // A malformed digest names no blob: the report shows its own error for it.
    (void)AddBlob(registry, d["digest"].get<std::string>(), key);
  }
  return Status::Ok();
}

Result<PageKey> ObjectKey(registry::Registry& registry, const registry::ObjectRecord& object) {
  PageKey key;
  if (object.kind == registry::kAdapterKind) {
    key.key = "adapter " + object.digest;
    key.self = AdapterHref(object.digest);
    GRAFT_RETURN_IF_ERROR(AddAdapterFiles(registry, object, key));
    return key;
  }
  key.key = "object " + object.digest;
  key.self = ObjectHref(object.digest);
  // The content shown for these (Pages::Object) is re-hashed from the blob store.
  if (object.kind == registry::kPolicyKind || object.kind == registry::kSuiteKind ||
      object.kind == registry::kConfigKind) {
    GRAFT_RETURN_IF_ERROR(AddBlob(registry, object.digest, key));
  }
  return key;
}

}  // namespace

Result<std::optional<PageKey>> KeyFor(const HttpRequest& request, registry::Registry& registry) {
  const std::string& path = request.path;
  if (path == "/audit") return std::optional<PageKey>();
  if (path.starts_with("/adapters/")) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                           ResolveReference(registry, registry::kAdapterKind, path.substr(10)));
    GRAFT_ASSIGN_OR_RETURN(PageKey key, ObjectKey(registry, adapter));
    return std::optional<PageKey>(std::move(key));
  }
  if (path.starts_with("/objects/")) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord object,
                           ResolveReference(registry, "", path.substr(9)));
    GRAFT_ASSIGN_OR_RETURN(PageKey key, ObjectKey(registry, object));
    return std::optional<PageKey>(std::move(key));
  }
  PageKey key;
  key.key = path;
  key.self = path;
  if (path == "/keys") {
    key.topics = {std::string(kKeysTopic)};
  } else if (path == "/checkpoint" || path.starts_with("/log/")) {
    key.topics = {std::string(kCheckpointTopic)};  // an event's proof is against the latest
  } else if (path.starts_with("/channels/")) {
    key.topics = {ChannelTopic(path.substr(10)), std::string(kKeysTopic)};  // and who moved it
  } else {
    key.topics = {std::string(kEventTopic)};  // counts, lists, the log: every event
  }
  char separator = '?';
  for (const auto& [name, value] : request.query) {  // sorted: one key for any order
    key.key += separator + UrlEncode(name) + "=" + UrlEncode(value);
    separator = '&';
  }
  return std::optional<PageKey>(std::move(key));
}

Result<LogState> ReadLogState(registry::Registry& registry) {
  LogState state;
  GRAFT_ASSIGN_OR_RETURN(state.size, registry.LogSize());
  GRAFT_ASSIGN_OR_RETURN(state.checkpoint, registry.LatestCheckpoint());
  return state;
}

std::optional<PageKey> PageKeyMemo::Find(const std::string& path, const LogState& log) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (log != log_) return std::nullopt;
  auto it = keys_.find(path);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void PageKeyMemo::Store(const std::string& path, const LogState& log, const PageKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (log != log_ || keys_.size() >= kMaxKeys) {
    keys_.clear();
    log_ = log;
  }
  keys_[path] = key;
}

}  // namespace graft::serve
