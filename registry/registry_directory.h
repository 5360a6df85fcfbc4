// BuildRegistryDirectory: a registry directory made atomically — built in a temporary sibling and
// renamed into place — so an interrupted or failed build leaves nothing (init, and copies).
#pragma once

#include <filesystem>
#include <functional>

#include "core/status.h"

namespace graft::registry {

// Makes the registry directory `dir`, which must be absent or an empty directory (a registry there
// is kConflict, anything else kInvalidInput): a temporary sibling ".<name>.graft-init-XXXXXX" with
// blobs/ (0755) and tmp/ (0700) is given to `fill` (which writes the database and the rest and
// closes them), then synced and renamed to `dir`. A failure anywhere removes the sibling and
// leaves `dir` as it was.
Status BuildRegistryDirectory(
    const std::filesystem::path& dir,
    const std::function<Status(const std::filesystem::path& building)>& fill);

}  // namespace graft::registry
