// Registry: tags and descriptions of adapter versions (adapter.tag, adapter.describe).
#include <set>

#include "registry/names.h"
#include "registry/registry.h"
#include "registry/schema.h"
#include "registry/vocabulary.h"

namespace graft::registry {

Result<ObjectRecord> Registry::TagAdapter(const std::string& ref,
                                          const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& remove) {
  if (set.empty() && remove.empty()) return InvalidInput("no tag to set or remove");
  for (const auto& [key, value] : set) {
    GRAFT_RETURN_IF_ERROR(ValidateTagKey(key));
    GRAFT_RETURN_IF_ERROR(ValidateTagValue(key, value));
  }
  for (const std::string& key : remove) {
    GRAFT_RETURN_IF_ERROR(ValidateTagKey(key));
    if (set.contains(key)) {
      return InvalidInput("tag \"" + key + "\" is both set and removed");
    }
  }
  ObjectRecord adapter;
  GRAFT_RETURN_IF_ERROR(Atomically([&]() -> Status {
    GRAFT_ASSIGN_OR_RETURN(adapter, Resolve(kAdapterKind, ref));
    GRAFT_ASSIGN_OR_RETURN(Annotations current, AdapterAnnotations(adapter.digest));
    Json changed = Json::object();
    Json removed = Json::array();
    size_t count = current.tags.size();
    for (const auto& [key, value] : set) {
      auto it = current.tags.find(key);
      if (it != current.tags.end() && it->second == value) continue;
      if (it == current.tags.end()) ++count;
      changed[key] = value;
    }
    for (const std::string& key : std::set<std::string>(remove.begin(), remove.end())) {
      if (!current.tags.contains(key)) {
        return NotFound(EscapeControl(ref) + " has no tag \"" + key + "\"");
      }
      removed.push_back(key);
      --count;
    }
    if (count > kMaxTagsPerAdapter) {
      return InvalidInput(ref + " would have " + std::to_string(count) + " tags; at most " +
                          std::to_string(kMaxTagsPerAdapter) + " are allowed");
    }
    if (changed.empty() && removed.empty()) return Status::Ok();  // nothing changes
    return AppendChange(kAdapterTagEvent,
                        {{"digest", adapter.digest}, {"set", changed}, {"remove", removed}});
  }));
  return adapter;
}

Result<ObjectRecord> Registry::DescribeAdapter(const std::string& ref, const std::string& text) {
  GRAFT_RETURN_IF_ERROR(ValidateDescription(text));
  ObjectRecord adapter;
  GRAFT_RETURN_IF_ERROR(Atomically([&]() -> Status {
    GRAFT_ASSIGN_OR_RETURN(adapter, Resolve(kAdapterKind, ref));
    GRAFT_ASSIGN_OR_RETURN(Annotations current, AdapterAnnotations(adapter.digest));
    if (current.description.value_or("") == text) return Status::Ok();  // nothing changes
    return AppendChange(kAdapterDescribeEvent, {{"digest", adapter.digest}, {"description", text}});
  }));
  return adapter;
}

namespace {

// Reads (digest, key, value) tag rows and (digest, description) rows into `out`.
Status ReadAnnotations(Database& db, const std::string& where, const std::string& digest,
                       std::map<std::string, Annotations>& out) {
  GRAFT_ASSIGN_OR_RETURN(Statement tags,
                         db.Prepare("SELECT digest, key, value FROM adapter_tags" + where));
  if (!digest.empty()) GRAFT_RETURN_IF_ERROR(tags.Bind(1, digest));
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    out[tags.Text(0)].tags.emplace(tags.Text(1), tags.Text(2));
  }
  GRAFT_ASSIGN_OR_RETURN(
      Statement descriptions,
      db.Prepare("SELECT digest, description FROM adapter_descriptions" + where));
  if (!digest.empty()) GRAFT_RETURN_IF_ERROR(descriptions.Bind(1, digest));
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, descriptions.Step());
    if (!row) break;
    out[descriptions.Text(0)].description = descriptions.Text(1);
  }
  return Status::Ok();
}

}  // namespace

Result<Annotations> Registry::AdapterAnnotations(const std::string& digest) {
  std::map<std::string, Annotations> found;
  if (HasSchema(kAdapterAnnotationsSchema)) {
    GRAFT_RETURN_IF_ERROR(ReadAnnotations(db(), " WHERE digest = ?", digest, found));
  }
  return found[digest];
}

Result<std::map<std::string, Annotations>> Registry::AllAdapterAnnotations() {
  std::map<std::string, Annotations> found;
  if (HasSchema(kAdapterAnnotationsSchema)) {
    GRAFT_RETURN_IF_ERROR(ReadAnnotations(db(), "", "", found));
  }
  return found;
}

}  // namespace graft::registry
