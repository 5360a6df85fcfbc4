// RegistryTestAccess: a Registry's database and blob store for tests (and benchmarks) that tamper
// with a registry or look underneath it; the library itself keeps them private.
#pragma once

#include "registry/registry.h"

namespace graft::registry {

class RegistryTestAccess {
 public:
  static Database& db(Registry& registry) { return registry.db(); }
  static BlobStore& blobs(Registry& registry) { return registry.blobs(); }
};

}  // namespace graft::registry
