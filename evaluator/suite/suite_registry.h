// Suites in the registry: registering a suite file with its data, and reading one back. Torch-free
// (graft_suite), so `graft suite register` runs without libtorch.
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"
#include "evaluator/suite/suite.h"
#include "registry/registry.h"

namespace graft::suite {

// Registers a suite file and its data files (as datasets "<suite>/<task>") after checking every
// pinned digest; the suite's digest is the SHA-256 of its bytes.
Result<registry::ObjectRecord> RegisterSuite(registry::Registry& registry,
                                             const std::filesystem::path& suite_file,
                                             const std::string& name);

// Reads a registered suite and its data back from the blob store (digests re-verified).
Result<Suite> LoadRegisteredSuite(registry::Registry& registry, const std::string& suite_ref);

}  // namespace graft::suite
