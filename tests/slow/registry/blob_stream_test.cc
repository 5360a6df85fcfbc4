// Streamed blobs at scale: a base holding a 512 MiB file (GRAFT_BLOB_STREAM_MIB overrides the
// size, e.g. 2048 for the figures in bench/README.md) is registered and exported through the graft
// binary on each backend with peak RSS under the process's baseline + 100 MiB, and comes back
// byte for byte. Prints the throughput beside `cp` of the same file.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"
#include "tests/support/large_base.h"

namespace graft::testing {
namespace {

uint64_t Mib() {
  const char* size = std::getenv("GRAFT_BLOB_STREAM_MIB");
  return size != nullptr && *size != '\0' ? std::stoull(size) : 512;
}

class BlobStreamSlow : public ::testing::TestWithParam<bool> {};

TEST_P(BlobStreamSlow, RegistersAndExportsALargeFileUnder100MiBAboveBaseline) {
  TempDir work("graft-blob-stream-slow");
  const std::string registry = InitTestRegistry(work.path(), GetParam());
  ASSERT_FALSE(registry.empty());
  const uint64_t mib = Mib();
  const LargeBaseRun run = RegisterAndExportLargeBase(work.path(), registry, mib);
  ASSERT_TRUE(run.error.empty()) << run.error;
  EXPECT_EQ(run.exported_sha256, run.source_sha256);
  EXPECT_LT(run.register_kib, run.baseline_kib + 100 * 1024)
      << "baseline " << run.baseline_kib << " KiB";
  EXPECT_LT(run.export_kib, run.baseline_kib + 100 * 1024)
      << "baseline " << run.baseline_kib << " KiB";

  // `cp` of the same bytes, in the same run, for the ratio.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(RunBinary("/bin/cp", {(work.path() / "large-base" / "weights.bin").string(),
                                  (work.path() / "cp.bin").string()})
                .exit_code,
            0);
  const double cp_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mb = static_cast<double>(mib) * 1.048576;
  std::cout << (GetParam() ? "PostgreSQL" : "directory") << ", " << mib << " MiB: baseline RSS "
            << run.baseline_kib / 1024 << " MiB; register " << mb / run.register_seconds
            << " MB/s, peak RSS " << run.register_kib / 1024 << " MiB; export "
            << mb / run.export_seconds << " MB/s, peak RSS " << run.export_kib / 1024 << " MiB; cp "
            << mb / cp_seconds << " MB/s\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStreamSlow, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Postgres" : "Directory";
                         });

}  // namespace
}  // namespace graft::testing
