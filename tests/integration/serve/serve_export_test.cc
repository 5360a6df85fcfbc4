// `graft serve`'s verified export (/api/v1/adapters/REF/export) against `graft adapter export`:
// the same files under the registry's one reading of "identity_ignore" (whole paths, strings
// only, never a prefix), refused alike when the rows do not name the adapter (before the first
// byte), cut short without a valid tar end when a blob's bytes were changed in place, and
// streamed: a 64 MiB adapter goes out with the server's peak RSS growing by a few pieces.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "core/file_util.h"
#include "core/sha256.h"
#include "registry/registry.h"
#include "serve/adapter_export.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/registry_test_access.h"
#include "tests/support/serve_process.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// `size` pseudo-random bytes (xorshift64): nothing compresses or deduplicates them away.
std::string RandomBytes(uint64_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t state = 0x9e3779b97f4a7c15ull ^ seed;
  for (uint64_t i = 0; i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    out[i] = static_cast<char>(state);
  }
  return out;
}

class ServeExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reg_ = Path("reg");
    ASSERT_EQ(RunGraft({"init", reg_}).exit_code, 0);
    ASSERT_TRUE(WriteTinyGpt2Base(Path("tiny")).ok());
    ASSERT_EQ(RunGraft({"base", "register", Path("tiny"), "--name", "tiny", "--registry", reg_})
                  .exit_code,
              0);
  }

  std::string Path(const std::string& name) const { return (temp_.path() / name).string(); }

  // An unattested adapter of the tiny base (README.md: `card`), registered as `name`.
  registry::ObjectRecord Register(const std::string& name, const LoraShape& shape,
                                  const std::string& card = "") {
    const fs::path dir = Path(name);
    EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
    if (!card.empty()) {
      EXPECT_TRUE(WriteFileAtomic(dir / "README.md", card).ok());
    }
    CliResult r = RunGraft(
        {"adapter", "register", dir.string(), "--name", name, "--unattested", "--registry", reg_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Registry().Resolve("adapter", name).value();
  }

  registry::Registry Registry() const { return registry::Registry::Open(reg_).value(); }
  void Sql(const std::string& sql, const std::string& a, const std::string& b = "") {
    registry::Registry reg = Registry();
    Status done = b.empty() ? registry::RegistryTestAccess::db(reg).Run(sql, a)
                            : registry::RegistryTestAccess::db(reg).Run(sql, a, b);
    ASSERT_TRUE(done.ok()) << done.ToString();
  }
  // The blob file holding `path` of `object`.
  fs::path BlobOf(const registry::ObjectRecord& object, const std::string& path) {
    registry::Registry reg = Registry();
    const std::vector<registry::StoredFile> files = reg.ObjectFiles(object.digest).value();
    for (const registry::StoredFile& file : files) {
      if (file.path == path) return reg.BlobPath(file.blob).value().value();
    }
    ADD_FAILURE() << "no file " << path;
    return {};
  }

  // `graft KIND export`: the exit code, and the files by path (empty when it failed).
  std::pair<int, std::map<std::string, std::string>> CliExport(
      const std::string& ref, const std::string& kind = "adapter") {
    const std::string out = Path("cli-" + std::to_string(++outs_));
    CliResult r = RunGraft({kind, "export", ref, "--out", out, "--registry", reg_});
    return {r.exit_code, r.exit_code == 0 ? HashTree(out) : std::map<std::string, std::string>()};
  }
  // The files in a tar archive by path, unpacked with tar(1); empty when tar fails.
  std::map<std::string, std::string> Unpack(const std::string& tar) {
    const std::string file = Path("served-" + std::to_string(++outs_) + ".tar");
    const std::string dir = file + ".d";
    EXPECT_TRUE(WriteFileAtomic(file, tar).ok());
    fs::create_directories(dir);
    const std::string command = "tar -xf '" + file + "' -C '" + dir + "' 2>/dev/null";
    return std::system(command.c_str()) == 0 ? HashTree(dir) : std::map<std::string, std::string>();
  }

  TempDir temp_{"graft-serve-export"};
  std::string reg_;
  int outs_ = 0;
};

uint64_t ContentLength(HttpResult& r) { return std::stoull(r.headers["content-length"]); }

// Writes `bytes` at `offset` of `file` (a blob changed in place: same size, other content).
void Overwrite(const fs::path& file, uint64_t offset, char byte) {
  fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(byte);
  ASSERT_TRUE(f.good()) << file;
}

LoraShape Shape(int seed, int r = 2) {
  LoraShape shape;
  shape.seed = seed;
  shape.r = r;
  return shape;
}

// The export reads "identity_ignore" as the registry does (registry/object_identity.h): a
// non-string entry ignores nothing (serve's own reading used to throw on it: a 500), and a whole
// path of an identity file changes the root digest for both.
TEST_F(ServeExportTest, IdentityIgnoreIsReadAsTheCliReadsIt) {
  const registry::ObjectRecord adapter = Register("bot", Shape(1), "# bot\n");
  Sql("UPDATE objects SET info = replace(info, '\"identity_ignore\":[', '\"identity_ignore\":[5,') "
      "WHERE digest = ?",
      adapter.digest);
  ASSERT_EQ(Registry().Get(adapter.digest).value().Info()["identity_ignore"][0], 5);
  auto [cli_exit, cli_files] = CliExport("bot");
  ASSERT_EQ(cli_exit, 0);
  ASSERT_EQ(cli_files.size(), 3u);

  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  HttpResult tar = HttpGet(server.port(), "/api/v1/adapters/bot/export");
  ASSERT_EQ(tar.status, 200) << tar.body;
  EXPECT_EQ(tar.body.size(), ContentLength(tar));
  EXPECT_EQ(tar.headers["x-graft-digest"], "sha256:" + adapter.digest);
  EXPECT_EQ(Unpack(tar.body), cli_files);
  EXPECT_EQ(HttpGet(server.port(), "/api/v1/adapters/bot/export").body, tar.body);  // reproducible

  Sql("UPDATE objects SET info = json_insert(info, '$.identity_ignore[#]', 'README.md') "
      "WHERE digest = ?",
      adapter.digest);
  EXPECT_EQ(CliExport("bot").first, 12);
  HttpResult refused = HttpGet(server.port(), "/api/v1/adapters/bot/export");
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.headers["content-type"], "application/json");
  EXPECT_NE(refused.body.find("root digest"), std::string::npos) << refused.body;
}

// An entry of "identity_ignore" naming a directory ignores nothing under it: only a whole path is
// ignored. An adapter holds top-level files only, so this is shown on a base, exported by serve's
// export code and by `graft base export` (a prefix match left notes/a.txt out of the identity
// and refused the export).
TEST_F(ServeExportTest, AnIgnoredNameIsNoPrefix) {
  const fs::path dir = Path("noted");
  ASSERT_TRUE(WriteTinyGpt2Base(dir).ok());
  fs::create_directories(dir / "notes");
  ASSERT_TRUE(WriteFileAtomic(dir / "notes" / "a.txt", "inside\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "notes-a.txt", "beside\n").ok());
  ASSERT_EQ(
      RunGraft({"base", "register", dir.string(), "--name", "noted", "--registry", reg_}).exit_code,
      0);
  const std::string digest = Registry().Resolve("base", "noted").value().digest;
  Sql("UPDATE objects SET info = json_insert(info, '$.identity_ignore[#]', 'notes') "
      "WHERE digest = ?",
      digest);
  auto [cli_exit, cli_files] = CliExport("noted", "base");
  ASSERT_EQ(cli_exit, 0);
  ASSERT_TRUE(cli_files.contains("notes/a.txt"));

  registry::Registry reg = Registry();
  const registry::ObjectRecord base = reg.Get(digest).value();
  ASSERT_EQ(base.Info()["identity_ignore"], Json::array({"notes"}));
  Result<serve::AdapterExport> archive = serve::AdapterExport::Prepare(reg, base);
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::string tar;
  ASSERT_TRUE(archive
                  ->Write(reg,
                          [&tar](std::string_view piece) {
                            tar.append(piece);
                            return Status::Ok();
                          })
                  .ok());
  EXPECT_EQ(tar.size(), archive->size());
  EXPECT_EQ(Unpack(tar), cli_files);
}

TEST_F(ServeExportTest, TamperedRowsAreRefusedBeforeAnyByteAndTamperedBlobsCutTheArchive) {
  const registry::ObjectRecord rows = Register("rows", Shape(1));
  const registry::ObjectRecord bytes = Register("bytes", Shape(2, 4), "# bytes\n");
  // A row pointing at another stored blob (the base's config.json): known from the rows alone.
  Sql("UPDATE object_files SET blob = (SELECT blob FROM object_files WHERE path = 'config.json'), "
      "size = (SELECT size FROM object_files WHERE path = 'config.json') "
      "WHERE object = ? AND path = ?",
      rows.digest, "adapter_model.safetensors");
  // A blob's bytes changed in place: known only once they are read.
  const fs::path blob = BlobOf(bytes, "adapter_config.json");
  Result<std::string> original = ReadFile(blob, kMiB);
  ASSERT_TRUE(original.ok());
  Overwrite(blob, original->size() - 1, static_cast<char>(original->back() ^ 1));
  const std::string tampered = ReadFile(blob, kMiB).value();
  EXPECT_EQ(CliExport("rows").first, 12);
  EXPECT_EQ(CliExport("bytes").first, 12);

  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  HttpResult refused = HttpGet(server.port(), "/api/v1/adapters/rows/export");
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.headers["content-type"], "application/json");
  EXPECT_NE(refused.body.find("root digest"), std::string::npos) << refused.body;

  HttpResult cut = HttpGet(server.port(), "/api/v1/adapters/bytes/export");
  EXPECT_EQ(cut.status, 200);  // the headers went out before the blob was read
  EXPECT_EQ(cut.headers["content-type"], "application/x-tar");
  // Cut short: fewer bytes than announced, no end blocks, not one byte of the tampered file
  // (held back until it matched), nothing after it, and tar(1) refuses the archive.
  EXPECT_LT(cut.body.size(), ContentLength(cut));
  EXPECT_NE(cut.body.find("README.md"), std::string::npos);
  EXPECT_NE(cut.body.find("adapter_config.json"), std::string::npos);
  EXPECT_EQ(cut.body.find(tampered), std::string::npos);
  EXPECT_EQ(cut.body.find("adapter_model.safetensors"), std::string::npos);
  EXPECT_EQ(cut.body.size() % 512, 0u);
  EXPECT_TRUE(Unpack(cut.body).empty());
  EXPECT_NE(server.log().find("\"GET /api/v1/adapters/bytes/export\" 200 " +
                              std::to_string(cut.body.size())),
            std::string::npos)
      << server.log();
  EXPECT_NE(server.log().find("aborted after " + std::to_string(cut.body.size()) + " of " +
                              std::to_string(ContentLength(cut)) + " bytes: adapter_config.json: "),
            std::string::npos)
      << server.log();

  // Restored, the same export is whole and matches the CLI's.
  Overwrite(blob, original->size() - 1, original->back());
  HttpResult whole = HttpGet(server.port(), "/api/v1/adapters/bytes/export");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body.size(), ContentLength(whole));
  EXPECT_EQ(Unpack(whole.body), CliExport("bytes").second);
}

TEST_F(ServeExportTest, StreamsA64MiBAdapterWithoutHoldingIt) {
  // The tiny base's LoRA weights are a few KiB: a large model card stands in for large weights.
  const uint64_t size = 64 * kMiB;
  const std::string card = RandomBytes(size, 7);
  Register("small", Shape(1));
  const registry::ObjectRecord big = Register("big", Shape(2), card);
  auto [cli_exit, cli_files] = CliExport("big");
  ASSERT_EQ(cli_exit, 0);

  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  // The baseline: the server after it served an export (its threads, connections and buffers).
  ASSERT_EQ(HttpGet(server.port(), "/api/v1/adapters/small/export").status, 200);
  const long baseline_kib = server.PeakRssKib();
  const auto start = std::chrono::steady_clock::now();
  HttpResult tar = HttpGet(server.port(), "/api/v1/adapters/big/export");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long peak_kib = server.PeakRssKib();
  ASSERT_EQ(tar.status, 200);
  EXPECT_EQ(tar.body.size(), ContentLength(tar));
  EXPECT_GT(tar.body.size(), size);
  EXPECT_EQ(Unpack(tar.body), cli_files);
  // Holding the archive, or the file, would add 64 MiB (65536 KiB); streaming adds a few pieces.
  EXPECT_GT(baseline_kib, 0);
  EXPECT_LT(peak_kib, baseline_kib + 24 * 1024) << "baseline " << baseline_kib << " KiB";
  std::printf("serve export of a 64 MiB adapter: %.2f s, peak RSS %ld KiB, baseline %ld KiB\n",
              seconds, peak_kib, baseline_kib);

  // Its last byte changed in place: the file's last piece is held back, so the client never has
  // the file whole.
  const fs::path blob = BlobOf(big, "README.md");
  Overwrite(blob, size - 1, static_cast<char>(card.back() ^ 1));
  HttpResult cut = HttpGet(server.port(), "/api/v1/adapters/big/export");
  EXPECT_EQ(cut.status, 200);
  EXPECT_LE(cut.body.size() + registry::kBlobPieceSize + 1024, ContentLength(cut));
  EXPECT_TRUE(Unpack(cut.body).empty());
}

}  // namespace
}  // namespace graft::testing
