#include "serve/adapter_export.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/file_util.h"
#include "core/manifest.h"
#include "core/sha256.h"
#include "serve/tar_archive.h"

namespace graft::serve {

namespace fs = std::filesystem;

Result<std::string> ExportTar(registry::Registry& registry, const registry::ObjectRecord& object,
                              uint64_t max_bytes) {
  TempDir scratch("graft-serve-export");
  const fs::path out = scratch.path() / "files";
  GRAFT_RETURN_IF_ERROR(registry.ExportFiles(object, out));
  std::vector<std::string> paths;
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (!entry.is_regular_file()) continue;
    paths.push_back(fs::relative(entry.path(), out).generic_string());
    total += entry.file_size();
  }
  if (total > max_bytes) {
    return InvalidInput("the export is " + std::to_string(total) + " bytes, more than the " +
                        std::to_string(max_bytes) + " this server sends");
  }
  std::sort(paths.begin(), paths.end(), ManifestPathLess);
  std::set<std::string> ignored;
  const Json info = object.Info();
  if (info.contains("identity_ignore")) {
    for (const Json& path : info["identity_ignore"]) ignored.insert(path.get<std::string>());
  }
  TarArchive archive;
  Manifest manifest;
  for (const std::string& path : paths) {
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(out / path, max_bytes));
    const bool is_ignored = std::any_of(ignored.begin(), ignored.end(), [&](const std::string& p) {
      return path == p || path.starts_with(p + "/");
    });
    if (!is_ignored) {
      manifest.entries.push_back({path, Sha256::Of(bytes), bytes.size()});
    }
    GRAFT_RETURN_IF_ERROR(archive.Add(path, bytes));
  }
  if (manifest.RootDigestHex() != object.digest) {
    return VerificationFailed("the exported files hash to sha256:" + manifest.RootDigestHex() +
                              ", not the object's sha256:" + object.digest);
  }
  return std::move(archive).Finish();
}

}  // namespace graft::serve
