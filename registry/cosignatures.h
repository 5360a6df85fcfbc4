// Cosignatures: witnesses' cosignatures on the registry's checkpoints, kept in the registry
// (table `cosignatures`; not log events: a cosignature is a statement about the log, not a change
// to it, and appending it would move the head it cosigned).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/keys.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft::registry {

struct StoredCosignature {
  uint64_t size = 0;
  std::string witness;  // WitnessName of the key
  std::string note;     // the checkpoint note with the witness's cosignature line
};

class Cosignatures {
 public:
  explicit Cosignatures(Registry& registry) : registry_(registry) {}

  // Keeps `note`, a checkpoint of this registry cosigned by `witness`, after verifying the
  // registry key's signature and the witness's cosignature (kVerification otherwise). One note per
  // (size, witness): a later cosignature of the same checkpoint replaces the earlier one.
  Status Add(const PublicKey& witness, std::string_view note);

  // Stores a cosignature its caller verified (Add; a copy, which checks its checkpoint against the
  // replayed log: the witness's signature is checked by an audit that names the witness), inside
  // the caller's transaction.
  Status Store(const StoredCosignature& cosignature);

  // Every kept cosignature, by size then witness.
  Result<std::vector<StoredCosignature>> List();

  // `note` (a checkpoint of this registry) with every kept cosignature line for its size appended
  // (C2SP signed-note signature lines, "— <witness name> <base64>").
  Result<std::string> Merge(std::string_view note);

  // The latest checkpoint a witness cosigned, merged with every cosignature kept for it (nullopt:
  // none kept).
  Result<std::optional<std::string>> LatestCosigned();

 private:
  Registry& registry_;
};

}  // namespace graft::registry
