#include <gtest/gtest.h>

#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "registry/registry_key.h"
#include "tests/e2e/registry/registry_cli_helpers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using RegistryCli = RegistryCliTest;

TEST_F(RegistryCli, InitRefusesAnExistingRegistryAndCreatesAPrivateKey) {
  CliResult again = Run({"init", reg_});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_TRUE(Has(again.err, "already a graft registry"));
  CliResult keys = Run({"key", "list", "--json"});
  ASSERT_EQ(keys.exit_code, 0);
  Json registry_key = ParseJson(keys.out, "keys").value()[0];
  EXPECT_EQ(registry_key["role"], "registry");
  // The private key is outside the registry, at the default location, mode 0600.
  EXPECT_FALSE(fs::exists(fs::path(reg_) / "registry-key.pem"));
  fs::path key_file =
      registry::DefaultRegistryKeyPath(registry_key["key_id"].get<std::string>()).value();
  EXPECT_EQ(fs::status(key_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(RegistryCli, RegistryDirectoryFromEnvironmentOrDefault) {
  CliResult by_env = RunGraft({"key", "list"}, {{"GRAFT_REGISTRY", reg_}});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.err;
  fs::create_directories(Path("work"));
  CliResult by_default = RunGraft({"init"}, {{"GRAFT_REGISTRY", ""}}, Path("work"));
  EXPECT_EQ(by_default.exit_code, 0) << by_default.err;
  EXPECT_TRUE(fs::exists(fs::path(Path("work")) / ".graft" / "registry.db"));
  CliResult missing = RunGraft({"key", "list", "--registry", Path("nope")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Has(missing.err, "no graft registry at"));
  fs::create_directories(Path("not-a-registry"));
  CliResult not_registry = RunGraft({"adapter", "list", "--registry", Path("not-a-registry")});
  EXPECT_EQ(not_registry.exit_code, 2);
  EXPECT_TRUE(Has(not_registry.err, "is not a graft registry"));
}

TEST_F(RegistryCli, AdapterLifecycleThroughTheCommandLine) {
  std::string key = TrainerKey("alice");
  std::string base = Base();
  std::string dir = SignedAdapter("a1", key, base);
  CliResult reg = Run({"adapter", "register", dir, "--name", "bot"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_TRUE(Has(reg.out, "bot@1 [candidate]"));
  std::string digest = AdapterDigest(dir);

  CliResult list = Run({"adapter", "list", "--base", "tiny", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json listed = ParseJson(list.out, "list").value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["digest"], "sha256:" + digest);
  EXPECT_EQ(Run({"adapter", "list", "--stage", "production", "--json"}).out, "[]\n");

  CliResult show = Run({"adapter", "show", digest.substr(0, 8), "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json shown = ParseJson(show.out, "show").value();
  EXPECT_EQ(shown["attested"], true);
  EXPECT_EQ(shown["attestations"].size(), 2u);

  CliResult dot = Run({"lineage", "bot@1", "--format", "dot"});
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_TRUE(Has(dot.out, "\"" + digest + "\" -> \"" + base + "\" [label=\"base\"]"));
  CliResult uses = Run({"lineage", "--uses", "tiny", "--json"});
  ASSERT_EQ(uses.exit_code, 0) << uses.err;
  EXPECT_TRUE(Has(uses.out, digest));
  // A full key id is 64 hex digits, like a digest: it must reach the key lookup, not crash.
  Json keys = ParseJson(Run({"key", "list", "--json"}).out, "keys").value();
  std::string trainer_key;
  for (const Json& k : keys) {
    if (k["role"] == "trainer") trainer_key = k["key_id"].get<std::string>();
  }
  ASSERT_EQ(trainer_key.size(), 64u);
  CliResult by_key = Run({"lineage", "--uses", trainer_key, "--json"});
  ASSERT_EQ(by_key.exit_code, 0) << by_key.err;
  EXPECT_TRUE(Has(by_key.out, digest));

  std::string out = Path("exported");
  CliResult exported = Run({"adapter", "export", "bot", "--out", out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(HashTree(out), HashTree(dir));

  std::string note = Path("kept.note");
  ASSERT_EQ(Run({"log", "checkpoint", "--out", note}).exit_code, 0);
  CliResult prove = Run({"log", "prove", "3", "--json"});
  ASSERT_EQ(prove.exit_code, 0) << prove.err;
  EXPECT_EQ(ParseJson(prove.out, "prove").value()["verified"], true);
  CliResult consistent = Run({"log", "prove", "--consistency", "2", "--json"});
  ASSERT_EQ(consistent.exit_code, 0) << consistent.err;
  EXPECT_EQ(ParseJson(consistent.out, "prove").value()["verified"], true);

  CliResult audit = Run({"audit", "verify", "--checkpoint", note});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_TRUE(Has(audit.out, "audit passed"));
}

TEST_F(RegistryCli, FailedCommandsLeaveTheRegistryByteForByteUnchanged) {
  std::string key = TrainerKey("alice");
  std::string base = Base();
  ASSERT_TRUE(WriteTinyGpt2Base(Path("wide"), {.n_embd = 16}).ok());
  std::string wide_adapter = SignedAdapter("wide-adapter", key, base, {.n_embd = 16});
  PrivateKey stranger = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  ASSERT_TRUE(stranger.Save(Path("stranger.pem")).ok());
  std::string untrusted = SignedAdapter("untrusted", Path("stranger.pem"), base);
  ASSERT_TRUE(WriteFileAtomic(Path("bad.jsonl"), "{\"a\": 1}\nnot json\n").ok());
  std::string extra = SignedAdapter("extra", key, base);
  ASSERT_TRUE(WriteFileAtomic(fs::path(extra) / "stray.bin", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(Path("garbage.note"), "not a signed note\n").ok());

  auto before = HashTree(reg_);
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"dataset", "register", Path("bad.jsonl"), "--name", "d"}, 2, "bad.jsonl:2"},
      {{"dataset", "register", Path("absent.jsonl"), "--name", "d"}, 2, "no such file"},
      {{"adapter", "register", wide_adapter, "--name", "x"}, 2, "has shape"},
      {{"adapter", "register", untrusted, "--name", "x"}, 12, "model.sig"},
      {{"adapter", "register", extra, "--name", "x"}, 2, "unexpected file \"stray.bin\""},
      {{"key", "revoke", "ffff", "--reason", "r"}, 2, "no trusted key"},
      {{"dataset", "revoke", "nothing", "--reason", "r"}, 2, "no dataset"},
      {{"adapter", "export", "nothing", "--out", Path("o")}, 2, "no adapter"},
      {{"key", "trust", Path("stranger.pem.pub"), "--role", "janitor"}, 2, "unknown key role"},
      {{"audit", "verify", "--checkpoint", Path("absent.note")}, 2, "absent.note"},
  };
  for (const Case& c : cases) {
    CliResult r = Run(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << " " << c.args[1] << ": " << r.err;
    EXPECT_TRUE(Has(r.err, c.message)) << r.err;
    EXPECT_EQ(HashTree(reg_), before) << "changed by: " << c.args[0] << " " << c.args[1];
  }
  // A kept checkpoint that is not one fails the audit (exit 12), named, and changes nothing.
  CliResult garbage = Run({"audit", "verify", "--checkpoint", Path("garbage.note")});
  EXPECT_EQ(garbage.exit_code, 12) << garbage.out << garbage.err;
  EXPECT_TRUE(Has(garbage.out, "FAILED:  checkpoint " + Path("garbage.note"))) << garbage.out;
  EXPECT_EQ(HashTree(reg_), before);
}

TEST_F(RegistryCli, AuditNamesARowEditedWithTheSqliteShell) {
  ASSERT_TRUE(WriteFileAtomic(Path("d.jsonl"), "{\"a\": 1}\n").ok());
  ASSERT_EQ(Run({"dataset", "register", Path("d.jsonl"), "--name", "d"}).exit_code, 0);
  std::string sql = "UPDATE labels SET name = 'renamed' WHERE name = 'd';";
  int rc = std::system(("sqlite3 " + reg_ + "/registry.db \"" + sql + "\"").c_str());
  ASSERT_EQ(rc, 0);
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12);
  EXPECT_TRUE(Has(audit.out, "FAILED:  table labels: row [\"dataset\",\"renamed\"")) << audit.out;
  CliResult json = Run({"audit", "verify", "--json"});
  EXPECT_EQ(json.exit_code, 12);
  EXPECT_EQ(ParseJson(json.out, "audit").value()["ok"], false);
}

TEST_F(RegistryCli, NewerSchemaIsRefused) {
  ASSERT_EQ(std::system(("sqlite3 " + reg_ + "/registry.db 'PRAGMA user_version = 7'").c_str()), 0);
  CliResult r = Run({"dataset", "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.err, "newer than this graft supports")) << r.err;
}

TEST_F(RegistryCli, TwoConcurrentProcessesLoseNothing) {
  constexpr int kPerWriter = 50;
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      ASSERT_TRUE(WriteFileAtomic(
                      Path("w" + std::to_string(w) + "-" + std::to_string(i) + ".jsonl"),
                      "{\"writer\": " + std::to_string(w) + ", \"i\": " + std::to_string(i) + "}\n")
                      .ok());
    }
  }
  std::vector<int> failures(2, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
        if (Run({"dataset", "register", Path(name + ".jsonl"), "--name", name}).exit_code != 0) {
          ++failures[w];
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0}));
  CliResult list = Run({"dataset", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(ParseJson(list.out, "list").value().size(), 2u * kPerWriter);
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_TRUE(Has(audit.out, std::to_string(2 + 2 * kPerWriter) + " events"));
}

}  // namespace
}  // namespace graft::testing
