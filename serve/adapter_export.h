// AdapterExport: a verified export of an adapter as a tar archive, streamed a piece at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/registry.h"

namespace graft::serve {

// Takes the bytes of an archive being written, in order; a non-ok Status stops the writing.
using ArchiveSink = std::function<Status(std::string_view piece)>;

class AdapterExport {
 public:
  // What can be checked before the first byte is sent, from the registry's rows alone: the
  // files `graft adapter export` writes (Registry::ExportableFiles: a revoked adapter is
  // Conflict, file rows whose identity root digest is not the adapter's are kVerification) and
  // their tar headers (a path ustar cannot hold: InvalidInput).
  static Result<AdapterExport> Prepare(registry::Registry& registry,
                                       const registry::ObjectRecord& adapter);

  // The archive's size in bytes.
  uint64_t size() const { return size_; }

  // Writes the archive to `sink`: the files in OMS path order, each one's bytes streamed from
  // the blob store and re-hashed there (Registry::StreamStoredFile), so memory holds a piece or
  // two whatever the adapter's size. Each file's last piece is held back until its bytes
  // matched its row: a file that fails never reaches `sink` whole, and the failure is returned
  // before the archive's end blocks, so what was written is no valid archive.
  Status Write(registry::Registry& registry, const ArchiveSink& sink) const;

 private:
  struct Entry {
    registry::StoredFile file;
    std::string header;
  };
  std::vector<Entry> entries_;
  uint64_t size_ = 0;
};

}  // namespace graft::serve
