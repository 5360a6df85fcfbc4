// IdentityManifest: the manifest whose root digest names a directory object (a base, an adapter).
#pragma once

#include <vector>

#include "core/json.h"
#include "core/manifest.h"

namespace graft::registry {

// An object's stored `files` but those its `info` lists in "identity_ignore" (an adapter's
// model.sig and provenance, which name the adapter and so cannot be part of it), in OMS path
// order. Only an array's string entries, each a whole path, are ignored: malformed info ignores
// nothing, so its root digest is not the object's. The one reading of "identity_ignore".
Manifest IdentityManifest(const Json& info, std::vector<ManifestEntry> files);

}  // namespace graft::registry
