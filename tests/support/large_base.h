// Test support: a base model holding one large file, registered and exported through the graft
// binary while each command's peak RSS is measured (the streamed blob tests, on both backends).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace graft::testing {

struct LargeBaseRun {
  long baseline_kib = 0;  // `graft base list` on the same registry: the process's baseline
  long register_kib = 0;  // peak RSS of `graft base register`
  long export_kib = 0;    // peak RSS of `graft base export`
  double register_seconds = 0;
  double export_seconds = 0;
  std::string source_sha256;    // of the large file
  std::string exported_sha256;  // of the exported copy
  std::string error;            // empty when every command exited 0
};

// A new registry made by `graft init`: `work`/reg, or (`postgres`) a new database of the shared
// test cluster. Fails the calling test (and returns "") when it cannot.
std::string InitTestRegistry(const std::filesystem::path& work, bool postgres);

// Writes a tiny base under `work` plus `weights.bin` of `mib` MiB of pseudo-random bytes,
// registers it in `registry` (initialised: a
// directory or a PostgreSQL URI) and exports it to `work`/exported.
LargeBaseRun RegisterAndExportLargeBase(const std::filesystem::path& work,
                                        const std::string& registry, uint64_t mib);

}  // namespace graft::testing
