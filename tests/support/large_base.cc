#include "tests/support/large_base.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "core/file_descriptor.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/postgres_cluster.h"

namespace graft::testing {
namespace fs = std::filesystem;

namespace {

std::string HashOf(const fs::path& file) {
  Result<Digest> digest = Sha256File(file);
  return digest.ok() ? DigestHex(*digest) : "unreadable: " + digest.status().message();
}

}  // namespace

std::string InitTestRegistry(const fs::path& work, bool postgres) {
  std::string registry = (work / "reg").string();
  if (postgres) {
    PostgresCluster& cluster = PostgresCluster::Shared();
    EXPECT_TRUE(cluster.running()) << cluster.error();
    if (!cluster.running()) return "";
    registry = cluster.CreateDatabase();
  }
  CliResult init = RunGraft({"init", registry});
  EXPECT_EQ(init.exit_code, 0) << init.err;
  return init.exit_code == 0 ? registry : "";
}

LargeBaseRun RegisterAndExportLargeBase(const fs::path& work, const std::string& registry,
                                        uint64_t mib) {
  LargeBaseRun run;
  const fs::path base = work / "large-base";
  if (!WriteTinyGpt2Base(base).ok()) {
    run.error = "cannot write the base";
    return run;
  }
  {
    // Pseudo-random bytes (xorshift64), so that no store can compress them away.
    FileDescriptor fd(::open((base / "weights.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    std::vector<uint64_t> buffer((1u << 20) / sizeof(uint64_t));
    uint64_t state = 0x9e3779b97f4a7c15ull;
    bool written = fd.get() >= 0;
    for (uint64_t i = 0; written && i < mib; ++i) {
      for (uint64_t& word : buffer) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word = state;
      }
      const size_t bytes = buffer.size() * sizeof(uint64_t);
      written = ::write(fd.get(), buffer.data(), bytes) == static_cast<ssize_t>(bytes);
    }
    if (!written) {
      run.error = "cannot write weights.bin";
      return run;
    }
  }
  run.source_sha256 = HashOf(base / "weights.bin");
  auto timed = [&](const std::vector<std::string>& args, long* rss, double* seconds) {
    const auto start = std::chrono::steady_clock::now();
    CliResult r = RunGraft(args);
    if (seconds != nullptr) {
      *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    *rss = r.peak_rss_kib;
    if (r.exit_code != 0 && run.error.empty()) run.error = args[0] + " " + args[1] + ": " + r.err;
  };
  timed({"base", "register", base.string(), "--name", "large", "--registry", registry},
        &run.register_kib, &run.register_seconds);
  timed({"base", "list", "--registry", registry}, &run.baseline_kib, nullptr);
  timed({"base", "export", "large", "--out", (work / "exported").string(), "--registry", registry},
        &run.export_kib, &run.export_seconds);
  run.exported_sha256 = HashOf(work / "exported" / "weights.bin");
  return run;
}

}  // namespace graft::testing
