#include "serve/adapter_export.h"

#include <algorithm>

#include "core/manifest.h"
#include "serve/tar_archive.h"

namespace graft::serve {

Result<AdapterExport> AdapterExport::Prepare(registry::Registry& registry,
                                             const registry::ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::StoredFile> files,
                         registry.ExportableFiles(adapter));
  std::sort(files.begin(), files.end(),
            [](const registry::StoredFile& a, const registry::StoredFile& b) {
              return ManifestPathLess(a.path, b.path);
            });
  AdapterExport out;
  out.size_ = TarArchive::End().size();
  for (registry::StoredFile& file : files) {
    GRAFT_ASSIGN_OR_RETURN(std::string header, TarArchive::Header(file.path, file.size));
    out.size_ += TarArchive::EntrySize(file.size);
    out.entries_.push_back({std::move(file), std::move(header)});
  }
  return out;
}

Status AdapterExport::Write(registry::Registry& registry, const ArchiveSink& sink) const {
  std::string held;  // the piece received last, sent once the next one (or the match) arrives
  for (const Entry& entry : entries_) {
    GRAFT_RETURN_IF_ERROR(sink(entry.header));
    held.clear();
    GRAFT_RETURN_IF_ERROR(registry.StreamStoredFile(entry.file, [&](std::string_view piece) {
      if (!held.empty()) GRAFT_RETURN_IF_ERROR(sink(held));
      held.assign(piece);
      return Status::Ok();
    }));
    if (!held.empty()) GRAFT_RETURN_IF_ERROR(sink(held));
    GRAFT_RETURN_IF_ERROR(sink(TarArchive::Padding(entry.file.size)));
  }
  return sink(TarArchive::End());
}

}  // namespace graft::serve
