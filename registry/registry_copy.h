// RegistryCopy: a registry replayed event by event into a fresh destination (`graft registry
// copy`), through the registry's own code, with the same log root, tables and checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/sha256.h"
#include "core/status.h"
#include "registry/auditor.h"
#include "registry/registry.h"

namespace graft::registry {

struct CopyOutcome {
  uint64_t events = 0;
  uint64_t blobs = 0;  // distinct blobs copied
  uint64_t bytes = 0;  // their size
  uint64_t checkpoints = 0;
  uint64_t cosignatures = 0;  // witnesses' cosignatures kept (registry/cosignatures.h)
  Digest root{};              // the log root, the same in source and copy
  std::string origin;

  Json ToJson() const;
};

// The audit a copy runs on the source before writing anything, and on the finished copy before
// it is moved into place (the CLI's is `graft audit verify`'s: Auditor and the promotion replay).
using CopyAudit = std::function<Result<AuditReport>(Registry& registry)>;

// Copies `source` (open as a snapshot; a directory or PostgreSQL registry) to `dest`: a directory
// (absent, or empty), built with BuildRegistryDirectory so a failure at any point leaves `dest`
// as it was; or a PostgreSQL URI of an empty database (RequireEmptyDatabase), whose tables the
// copy drops again if it fails after creating them.
// 1. `audit` of the source must pass: otherwise kVerification naming its first problem (which
//    names the event), and nothing is written;
// 2. in one transaction, for every event in log order, each blob it names is streamed from the
//    source store into the copy's (BlobStore::CopyFrom: re-hashed on the way), the event appended
//    with its exact bytes and signatures (AppendEventBody, registry/event_store.h) and applied to
//    the tables (Projection);
// 3. the copy, opened as a Registry, must have the source's origin, registry key and log root;
//    each of the source's checkpoints and kept cosignatures is checked against the registry key
//    and the copied log and kept;
// 4. the copy must pass `audit`; only then is a directory renamed into place.
// A directory copy records where the source's registry key lives (same origin and key: the same
// log, so old checkpoints verify against it).
Result<CopyOutcome> CopyRegistry(Registry& source, const std::filesystem::path& dest,
                                 const CopyAudit& audit);

}  // namespace graft::registry
