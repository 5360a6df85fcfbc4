// Times BuildManifest (OMS v1.0 directory hashing) over a directory: graft_manifest_bench DIR
// [THREADS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/manifest.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: graft_manifest_bench DIR [THREADS]\n");
    return 2;
  }
  graft::ManifestOptions options;
  if (argc == 3) options.threads = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  auto start = std::chrono::steady_clock::now();
  auto manifest = graft::BuildManifest(argv[1], options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!manifest.ok()) {
    std::fprintf(stderr, "graft_manifest_bench: %s\n", manifest.status().ToString().c_str());
    return 1;
  }
  uint64_t bytes = 0;
  for (const auto& e : manifest->entries) bytes += e.size;
  std::printf("files=%zu bytes=%llu seconds=%.3f root=%s\n", manifest->entries.size(),
              static_cast<unsigned long long>(bytes), seconds, manifest->RootDigestHex().c_str());
  return 0;
}
