// ExportTar: a verified export of a directory object (an adapter) as a tar archive.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "registry/registry.h"

namespace graft::serve {

// Refuses a revoked object (Conflict) like `graft adapter export`, writes its files through
// Registry::ExportFiles (every file and the root digest re-verified from the blob store), then
// re-hashes the very bytes it puts in the archive and checks their root digest against the
// object's once more (VerificationFailed otherwise). Larger than `max_bytes`: InvalidInput.
Result<std::string> ExportTar(registry::Registry& registry, const registry::ObjectRecord& object,
                              uint64_t max_bytes);

}  // namespace graft::serve
