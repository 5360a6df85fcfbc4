// Registry export: what makes an object unusable (Revocations) and the re-verified copy of its
// files (ExportFiles, WriteVerifiedFiles).
#include <set>

#include "core/file_util.h"
#include "core/manifest.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {
namespace fs = std::filesystem;

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

}  // namespace graft::registry
