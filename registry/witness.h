// Witness: C2SP tlog-cosignature/v1 cosignatures on a registry's checkpoints, made by an auditor
// who keeps its own last-seen checkpoint per log and cosigns only a consistent extension of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/keys.h"
#include "core/status.h"
#include "registry/auditor.h"
#include "registry/registry.h"

namespace graft::registry {

// "graft.local/witness/<first 16 hex of the key id>": the cosignature's key name.
std::string WitnessName(const PublicKey& key);

// Appends a cosignature line by `key` at `time` (seconds since the epoch) to a checkpoint note:
// "— <name> base64(key id[4] ‖ time[8, big-endian] ‖ Ed25519 signature[64])" over
// "cosignature/v1\ntime <time>\n" followed by the checkpoint body.
Result<std::string> Cosign(std::string_view note, const PrivateKey& key, uint64_t time);

// The time of the note's valid cosignature by `key`; an error (kVerification) when it has none.
Result<uint64_t> VerifyCosignature(std::string_view note, const PublicKey& key);

// What a witness run did.
struct WitnessOutcome {
  uint64_t previous_size = 0;  // the size it last cosigned (0: first time)
  uint64_t size = 0;
  std::string note;               // the cosigned checkpoint
  std::filesystem::path written;  // where it is kept
};

// For `audit verify --witness`: each witness needs a kept checkpoint it cosigned that the audit
// found consistent with the log (Auditor::Run checked every kept one; its problems name them);
// otherwise a problem is added.
void CheckWitnesses(const std::vector<PublicKey>& witnesses,
                    const std::vector<KeptCheckpoint>& kept, AuditReport& report);

// The witness's file for `origin` in its state directory.
std::filesystem::path WitnessStateFile(const std::filesystem::path& state_dir,
                                       std::string_view origin);

// Verifies the registry's latest checkpoint, and — when `state_dir` holds a checkpoint this
// witness cosigned earlier for the same log — that the new one extends it (RFC 6962 consistency
// proof); then cosigns it and keeps it in `state_dir`. A log that shrank or forked is refused
// (kVerification) and nothing is cosigned.
Result<WitnessOutcome> WitnessCheckpoint(Registry& registry, const PrivateKey& key,
                                         const std::filesystem::path& state_dir);

}  // namespace graft::registry
