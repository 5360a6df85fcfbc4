// Registry export: what makes an object unusable (Revocations) and the re-verified copy of its
// files (ExportFiles, WriteVerifiedFiles, or streamed: ExportableFiles, StreamStoredFile).
#include <set>

#include "core/file_util.h"
#include "core/manifest.h"
#include "registry/object_identity.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {
namespace fs = std::filesystem;

std::string Revocation::Describe() const {
  std::string when = "revoked at event " + std::to_string(seq) + ": " + reason;
  if (relation == kSelfRevocation) return when;
  return relation + (relation == kSignedByRelation ? " key " + id : " sha256:" + id) + " " + when;
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
      if (s.Text(0) == kParentRelation && s.Text(2) == kAdapterKind && seen.insert(dst).second) {
        pending.emplace_back(dst, relation + "/");
      }
    }
  }
  return out;
}

namespace {

Status SizeDiffers(const StoredFile& file) {
  return VerificationFailed(file.path + ": size differs from the registry's record");
}

// Conflict when the object has any Revocations(): what an export refuses to hand out.
Status RefuseRevoked(Registry& registry, const ObjectRecord& object) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<Revocation> revocations, registry.Revocations(object));
  if (revocations.empty()) return Status::Ok();
  std::string reasons;
  for (const Revocation& r : revocations) reasons += (reasons.empty() ? "" : "; ") + r.Describe();
  return Conflict(object.kind + " sha256:" + object.digest + " was revoked (" + reasons +
                  "); refusing to export it");
}

// The object's file rows, refused before any byte is read when they cannot be its files: none,
// an unsafe path, or a root digest of their identity manifest that is not the object's. Each
// file's bytes are then checked against its row as they are read.
Result<std::vector<StoredFile>> IdentityFiles(Registry& registry, const ObjectRecord& object) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredFile> files, registry.ObjectFiles(object.digest));
  if (files.empty())
    return InvalidInput(object.kind + " sha256:" + object.digest + " has no files");
  std::vector<ManifestEntry> entries;
  for (const StoredFile& file : files) {
    GRAFT_RETURN_IF_ERROR(CheckSafeRelativePath(file.path));
    GRAFT_ASSIGN_OR_RETURN(Digest digest, ParseDigestHex(file.blob));
    entries.push_back({file.path, digest, file.size});
  }
  const Manifest manifest = IdentityManifest(object.Info(), std::move(entries));
  if (manifest.RootDigestHex() != object.digest) {
    return VerificationFailed("the exported files' root digest sha256:" + manifest.RootDigestHex() +
                              " is not the " + object.kind + "'s sha256:" + object.digest);
  }
  return files;
}

}  // namespace

Status Registry::ExportFiles(const ObjectRecord& object, const fs::path& out) {
  GRAFT_RETURN_IF_ERROR(RefuseRevoked(*this, object));
  return WriteVerifiedFiles(object, out);
}

Result<std::vector<StoredFile>> Registry::ExportableFiles(const ObjectRecord& object) {
  GRAFT_RETURN_IF_ERROR(RefuseRevoked(*this, object));
  return IdentityFiles(*this, object);
}

Status Registry::StreamStoredFile(const StoredFile& file, const BlobSink& sink) {
  uint64_t size = 0;
  bool overrun = false;  // stopped before passing on bytes past the recorded size
  Status streamed = blobs().Stream(file.blob, [&](std::string_view piece) {
    size += piece.size();
    overrun = size > file.size;
    return overrun ? SizeDiffers(file) : sink(piece);
  });
  if (overrun) return SizeDiffers(file);
  if (!streamed.ok()) return streamed.WithContext(file.path);
  return size == file.size ? Status::Ok() : SizeDiffers(file);
}

Status Registry::WriteVerifiedFiles(const ObjectRecord& object, const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error) && (!fs::is_directory(out, error) || !fs::is_empty(out, error))) {
    return InvalidInput(out.string() + " exists and is not an empty directory");
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredFile> files, IdentityFiles(*this, object));
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
  for (const StoredFile& file : files) {
    fs::create_directories((out / file.path).parent_path(), error);
    // Streamed a piece at a time and re-hashed; renamed into place only if it matched.
    Result<uint64_t> written = blobs().WriteFile(file.blob, out / file.path);
    if (!written.ok()) return fail(written.status().WithContext(file.path));
    if (*written != file.size) return fail(SizeDiffers(file));
  }
  return Status::Ok();
}

Result<std::vector<StoredFile>> Registry::ObjectFiles(const std::string& digest) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT path, blob, size FROM object_files WHERE object = ? ORDER BY path"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, StripSha256(digest)));
  return ReadRows(s, [](Statement& row) {
    return StoredFile{row.Text(0), row.Text(1), static_cast<uint64_t>(row.Int(2))};
  });
}

Result<StoredFilesVerdict> Registry::VerifyStoredFiles(const ObjectRecord& object) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredFile> files, ObjectFiles(object.digest));
  StoredFilesVerdict verdict;
  verdict.files = files.size();
  std::vector<ManifestEntry> entries;
  for (const StoredFile& file : files) {
    Status verified = blobs().Verify(file.blob, file.size);
    if (!verified.ok()) {
      verdict.problem = file.path + ": " + verified.message();
      return verdict;
    }
    GRAFT_ASSIGN_OR_RETURN(Digest digest, ParseDigestHex(file.blob));
    entries.push_back({file.path, digest, file.size});
  }
  verdict.root_digest = IdentityManifest(object.Info(), std::move(entries)).RootDigestHex();
  if (files.empty() || verdict.root_digest != object.digest) {
    verdict.problem =
        "the files' root digest sha256:" + verdict.root_digest + " is not sha256:" + object.digest;
  }
  return verdict;
}

}  // namespace graft::registry
