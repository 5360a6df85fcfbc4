// Streamed blobs through the graft binary: a base holding a 64 MiB file is registered and
// exported on each backend with its peak RSS well under the file's size above the baseline (the
// slow test does 512 MiB with the 100 MiB bound).
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "tests/support/large_base.h"

namespace graft::testing {
namespace {

class BlobStreamCli : public ::testing::TestWithParam<bool> {};

TEST_P(BlobStreamCli, RegistersAndExportsA64MiBFileWithoutHoldingIt) {
  TempDir work("graft-blob-stream");
  const std::string registry = InitTestRegistry(work.path(), GetParam());
  ASSERT_FALSE(registry.empty());
  const LargeBaseRun run = RegisterAndExportLargeBase(work.path(), registry, 64);
  ASSERT_TRUE(run.error.empty()) << run.error;
  EXPECT_EQ(run.exported_sha256, run.source_sha256);
  // Holding the file whole would add at least 64 MiB (65536 KiB); streaming adds a few pieces.
  EXPECT_GT(run.baseline_kib, 0);
  EXPECT_LT(run.register_kib, run.baseline_kib + 24 * 1024)
      << "baseline " << run.baseline_kib << " KiB";
  EXPECT_LT(run.export_kib, run.baseline_kib + 24 * 1024)
      << "baseline " << run.baseline_kib << " KiB";
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStreamCli, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Postgres" : "Directory";
                         });

}  // namespace
}  // namespace graft::testing
