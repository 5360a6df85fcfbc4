// Directory manifests and root digests as OpenSSF Model Signing v1.0 defines them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"

namespace graft {

struct ManifestOptions {
  // POSIX paths relative to the directory; a listed directory ignores everything under it.
  std::vector<std::string> ignore_paths;
  bool allow_symlinks = false;
  // Worker threads for hashing (0: hardware concurrency).
  unsigned threads = 0;
};

struct ManifestEntry {
  std::string path;  // POSIX, relative to the directory
  Digest digest;
  uint64_t size = 0;
};

// Path order as OMS sorts paths: component by component, each compared by bytes. This is byte
// order with '/' ranked below every other byte ("a/b" < "a-b" < "a.txt").
bool ManifestPathLess(const std::string& a, const std::string& b);

struct Manifest {
  // Sorted by path as OMS sorts them: component by component, each component by its bytes
  // (so "a/b" < "a-b" < "a.txt"; plain byte order would put "a/b" last).
  std::vector<ManifestEntry> entries;

  // SHA-256 over the concatenated raw per-file digests, in path order.
  Digest RootDigest() const;
  std::string RootDigestHex() const { return DigestHex(RootDigest()); }
};

// Checks and normalises ignore paths as BuildManifest applies them: a trailing "/" and leading
// "./" are dropped; absolute paths, ".." and other unsafe paths are refused.
Result<std::vector<std::string>> NormaliseIgnorePaths(const std::vector<std::string>& paths);

// Hashes every regular file under `dir`. A symlink is an error unless allowed (then its target
// is hashed); other special files are errors. Paths are checked to stay inside `dir`.
Result<Manifest> BuildManifest(const std::filesystem::path& dir,
                               const ManifestOptions& options = {});

// Compares an expected manifest with an actual one and describes each changed, missing or extra
// file; an empty result means they match.
std::vector<std::string> DiffManifests(const Manifest& expected, const Manifest& actual);

}  // namespace graft
