// Hardening of the registry through the CLI: schema versions, names, escaping, read-only and
// snapshot access, the schema check, the registry key's location, intake races, gc and modes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "tests/e2e/registry/registry_cli_helpers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class HardeningCli : public RegistryCliTest {
 protected:
  void SetUp() override {
    RegistryCliTest::SetUp();
    key_file_ = ParseJson(init_out_, "init").value()["registry_key_file"].get<std::string>();
  }
  // Runs SQL on the registry database with the sqlite3 shell (as an intruder would).
  void Sql(const std::string& sql) {
    ASSERT_TRUE(WriteFileAtomic(Path("intruder.sql"), sql).ok());
    int rc = std::system(("sqlite3 " + reg_ + "/registry.db < " + Path("intruder.sql")).c_str());
    ASSERT_EQ(rc, 0) << sql;
  }
  std::string Dataset(const std::string& name) {
    std::string file = Path(name + ".jsonl");
    EXPECT_TRUE(WriteFileAtomic(file, "{\"text\": \"" + name + "\"}\n").ok());
    CliResult r = Run({"dataset", "register", file, "--name", name, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // Runs graft as user nobody (root cannot be denied a read or a write); skips the test when
  // that is impossible here. Not root: runs graft as this (unprivileged) user.
  CliResult RunUnprivileged(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {}) {
    if (::geteuid() != 0) return RunGraft(args, env);
    std::vector<std::string> all = {"--reuid=65534", "--regid=65534", "--clear-groups",
                                    GraftBinary().string()};
    all.insert(all.end(), args.begin(), args.end());
    return RunBinary("/usr/bin/setpriv", all, env);
  }
  // Whether RunUnprivileged works (setpriv present, the build tree readable by nobody).
  bool CanRunUnprivileged() {
    if (::geteuid() != 0) return true;
    if (!fs::exists("/usr/bin/setpriv")) return false;
    return RunUnprivileged({"--version"}).exit_code == 0;
  }

  std::string key_file_;
};

TEST_F(HardeningCli, TheRegistryKeyLivesOutsideTheRegistryAndAForeignKeyIsRefused) {
  EXPECT_FALSE(fs::exists(fs::path(reg_) / "registry-key.pem"));
  EXPECT_FALSE(key_file_.starts_with(reg_));
  EXPECT_EQ(fs::status(key_file_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  Dataset("before");
  auto before = HashTree(reg_);
  PrivateKey foreign = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  ASSERT_TRUE(foreign.Save(Path("foreign.pem")).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("x.jsonl"), "{\"a\": 1}\n").ok());
  CliResult r = Run({"dataset", "register", Path("x.jsonl"), "--name", "x"},
                    {{"GRAFT_REGISTRY_KEY", Path("foreign.pem")}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "refusing to sign with a foreign key")) << r.err;
  EXPECT_TRUE(Has(r.err, foreign.key_id())) << r.err;
  EXPECT_EQ(HashTree(reg_), before);
  // A foreign key planted where old registries kept theirs is not used either: the recorded
  // location wins, and whatever is found must have the recorded key id.
  ASSERT_TRUE(foreign.Save(fs::path(reg_) / "registry-key.pem").ok());
  EXPECT_EQ(Run({"dataset", "register", Path("x.jsonl"), "--name", "x"}).exit_code, 0);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

TEST_F(HardeningCli, InitTakesTheRegistryKeyPathAndUsesAnExistingKey) {
  std::string reg2 = Path("reg2");
  CliResult init = RunGraft({"init", reg2, "--registry-key", Path("keys/reg2.pem"), "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  PrivateKey key = PrivateKey::LoadPem(Path("keys/reg2.pem")).value();
  EXPECT_EQ(ParseJson(init.out, "init").value()["registry_key_id"], key.key_id());
  ASSERT_TRUE(WriteFileAtomic(Path("x.jsonl"), "{\"a\": 1}\n").ok());
  CliResult registered =
      RunGraft({"dataset", "register", Path("x.jsonl"), "--name", "x", "--registry", reg2});
  EXPECT_EQ(registered.exit_code, 0) << registered.err;
  // An existing key is used as it is, through $GRAFT_REGISTRY_KEY too.
  std::string reg3 = Path("reg3");
  CliResult again =
      RunGraft({"init", reg3, "--json"}, {{"GRAFT_REGISTRY_KEY", Path("keys/reg2.pem")}});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ParseJson(again.out, "init").value()["registry_key_id"], key.key_id());
  // No temporary directory is left beside the registries.
  for (const auto& entry : fs::directory_iterator(temp_.path())) {
    EXPECT_FALSE(Has(entry.path().filename().string(), "graft-init")) << entry.path();
  }
}

TEST_F(HardeningCli, UnknownOrNegativeSchemaVersionsExit2) {
  for (const std::string version : {"-1", "-2147483648", "99"}) {
    Sql("PRAGMA user_version = " + version + ";");
    CliResult r = Run({"dataset", "list"});
    EXPECT_EQ(r.exit_code, 2) << version << ": " << r.err;
    EXPECT_TRUE(Has(r.err, "schema version " + version)) << r.err;
    CliResult audit = Run({"audit", "verify"});
    EXPECT_EQ(audit.exit_code, 2) << audit.err;
  }
}

TEST_F(HardeningCli, AnEmptyDatabaseIsRefusedAndStaysEmpty) {
  std::string empty = Path("empty");
  fs::create_directories(empty);
  ASSERT_TRUE(WriteFileAtomic(fs::path(empty) / "registry.db", "").ok());
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"dataset", "list"},
           {"audit", "verify"},
           {"dataset", "register", Path("x.jsonl"), "--name", "x"}}) {
    std::vector<std::string> with = args;
    with.insert(with.end(), {"--registry", empty});
    CliResult r = RunGraft(with);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(Has(r.err, "not a graft registry")) << r.err;
    EXPECT_EQ(fs::file_size(fs::path(empty) / "registry.db"), 0u);
    EXPECT_EQ(std::distance(fs::directory_iterator(empty), fs::directory_iterator()), 1);
  }
}

TEST_F(HardeningCli, NamesAreValidatedAndNothingIsWritten) {
  Dataset("real");
  ASSERT_TRUE(WriteFileAtomic(Path("x.jsonl"), "{\"a\": 1}\n").ok());
  auto before = HashTree(reg_);
  struct Case {
    std::string name, message;
  };
  std::vector<Case> cases = {
      {"a@b", "'@'"},
      {"line\n9  2026  channel.set  forged", "control character"},
      {"esc\x1b[31m", "control character"},
      {"deadbeef", "looks like a digest prefix"},
      {"with space", "a space"},
      {"-flag", "must start with a letter or digit"},
      {std::string(129, 'n'), "longer than 128"},
  };
  for (const Case& c : cases) {
    CliResult r = Run({"dataset", "register", Path("x.jsonl"), "--name", c.name});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(Has(r.err, c.message)) << r.err;
    EXPECT_FALSE(Has(r.err, "\n9  2026")) << "the error must not print the newline raw";
    EXPECT_EQ(HashTree(reg_), before) << c.name;
  }
}

TEST_F(HardeningCli, ControlCharactersAreEscapedOnOutput) {
  Dataset("victim");
  CliResult revoke =
      Run({"dataset", "revoke", "victim", "--reason", "gone\n12  2026-01-01  channel.set  forged"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  CliResult show = Run({"dataset", "show", "victim"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Has(show.out, "gone\\n12  2026-01-01")) << show.out;
  EXPECT_FALSE(Has(show.out, "\n12  2026-01-01")) << show.out;
  // JSON keeps the value exactly.
  CliResult json = Run({"dataset", "show", "victim", "--json"});
  EXPECT_EQ(ParseJson(json.out, "show").value()["revoke_reason"],
            "gone\n12  2026-01-01  channel.set  forged");
}

TEST_F(HardeningCli, APlantedTriggerIsNamedByTheAuditAndStopsWrites) {
  std::string key = TrainerKey("alice");
  Sql("CREATE TRIGGER no_revoke BEFORE INSERT ON events WHEN NEW.body LIKE '%key.revoke%' "
      "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;");
  CliResult revoke =
      Run({"key", "revoke", PrivateKey::LoadPem(key).value().key_id(), "--reason", "lost"});
  EXPECT_EQ(revoke.exit_code, 12) << revoke.err;
  EXPECT_TRUE(Has(revoke.err, "trigger \"no_revoke\"")) << revoke.err;
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "FAILED:  schema: unexpected trigger \"no_revoke\" on events"))
      << audit.out;
}

TEST_F(HardeningCli, AChangedDefinitionAndAnIndexThatDisagreesWithItsTableAreNamed) {
  Dataset("a");
  Dataset("b");
  // Point the listing index at a twin table, insert a row there (the index gains an entry its
  // table does not have), and point it back: the table rows (and so the log replay) still agree.
  // (The index's schema row moves after the twin's, so the schema parses in order.)
  Sql("CREATE TABLE twin(kind, created_seq, attested, stage, revoked_seq, revoke_reason);\n"
      "PRAGMA writable_schema=ON;\n"
      "UPDATE sqlite_master SET tbl_name='twin', sql=replace(sql, 'ON objects(', 'ON twin('), "
      "rowid=(SELECT max(rowid) + 1 FROM sqlite_master) WHERE name='objects_listing';\n");
  Sql("INSERT INTO twin VALUES('dataset', 1, 0, 'production', NULL, NULL);\n");
  Sql("PRAGMA writable_schema=ON;\n"
      "UPDATE sqlite_master SET tbl_name='objects', sql=replace(sql, 'ON twin(', 'ON objects(') "
      "WHERE name='objects_listing';\n");
  Sql("DROP TABLE twin;\n");
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "FAILED:  database integrity:")) << audit.out;
  EXPECT_TRUE(Has(audit.out, "objects_listing")) << audit.out;

  // A changed table definition (an extra column) is named as such.
  Sql("ALTER TABLE channels ADD COLUMN note TEXT;");
  audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12);
  EXPECT_TRUE(Has(audit.out, "schema: table \"channels\" differs from graft's definition"))
      << audit.out;
}

TEST_F(HardeningCli, GcListsThenDeletesLeftoversAndTheAuditStillPasses) {
  Dataset("kept");
  fs::path stale = fs::path(reg_) / "tmp" / "intake-2147483646-abcdef";
  fs::create_directories(stale);
  ASSERT_TRUE(WriteFileAtomic(stale / "adapter_model.safetensors", "half").ok());
  fs::path blob_dir = fs::path(reg_) / "blobs" / "sha256" / "00";
  fs::create_directories(blob_dir);
  std::string temp_blob = "." + std::string(62, '0') + ".tmpAbC123";
  ASSERT_TRUE(WriteFileAtomic(blob_dir / temp_blob, "torn").ok());
  CliResult dry = Run({"registry", "gc"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(Has(dry.out, "would delete " + stale.string())) << dry.out;
  EXPECT_TRUE(Has(dry.out, temp_blob)) << dry.out;
  EXPECT_TRUE(Has(dry.out, "run with --apply")) << dry.out;
  EXPECT_TRUE(fs::exists(stale));
  CliResult apply = Run({"registry", "gc", "--apply", "--json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_EQ(ParseJson(apply.out, "gc").value()["leftovers"].size(), 2u) << apply.out;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(blob_dir / temp_blob));
  EXPECT_EQ(Run({"registry", "gc"}).out, "0 leftover(s), 0 bytes\n");
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
  EXPECT_EQ(Run({"dataset", "show", "kept"}).exit_code, 0);
}

TEST_F(HardeningCli, ModesAreFixedWhateverTheUmask) {
  std::string reg2 = Path("open");
  ASSERT_TRUE(WriteFileAtomic(Path("x.jsonl"), "{\"a\": 1}\n").ok());
  std::string script = "umask 000 && " + GraftBinary().string() + " init " + reg2 + " && " +
                       GraftBinary().string() + " dataset register " + Path("x.jsonl") +
                       " --name x --registry " + reg2;
  ASSERT_EQ(RunBinary("/bin/sh", {"-c", script}).exit_code, 0);
  auto mode = [](const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(mode(reg2), fs::perms(0700));
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(reg2) / "blobs")) {
    EXPECT_EQ(mode(entry.path()), entry.is_directory() ? fs::perms(0755) : fs::perms(0444))
        << entry.path();
  }
}

TEST_F(HardeningCli, AdapterRegisterFindsItsBaseByTheProvenanceDigest) {
  std::string key = TrainerKey("alice");
  Base("tiny");
  std::string wide = Base("wide", {.n_embd = 16});
  // adapter_config.json names "tiny" (which it does not fit); the signed provenance names wide.
  std::string dir =
      SignedAdapter("a", key, wide, {.n_embd = 16, .base_model_name_or_path = "tiny"});
  CliResult r = Run({"adapter", "register", dir, "--name", "a", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CliResult show = Run({"adapter", "show", "a", "--json"});
  bool found = false;
  const Json shown = ParseJson(show.out, "show").value();
  for (const Json& edge : shown["edges"]) {
    if (edge["relation"] == "base") found = edge["dst"] == wide;
  }
  EXPECT_TRUE(found) << "wide base " << wide << "\n" << show.out;
  // --base still overrides (and then must agree with the provenance).
  std::string other = SignedAdapter("b", key, wide, {.n_embd = 16, .seed = 1});
  CliResult forced = Run({"adapter", "register", other, "--name", "b", "--base", "tiny"});
  EXPECT_NE(forced.exit_code, 0);
}

TEST_F(HardeningCli, SwappingTheWeightsDuringRegistrationNeverStoresForeignBytes) {
  std::string key = TrainerKey("alice");
  std::string base = Base();
  std::string dir = SignedAdapter("a", key, base);
  // Foreign weights of the same shape, ready to be swapped in by rename.
  ASSERT_TRUE(WriteLoraAdapter(Path("foreign"), {.seed = 7}).ok());
  const fs::path weights = fs::path(dir) / "adapter_model.safetensors";
  const fs::path signed_copy = Path("signed.safetensors");
  const fs::path foreign_copy = Path("foreign/adapter_model.safetensors");
  fs::copy_file(weights, signed_copy);
  const std::string signed_digest = "sha256:" + AdapterDigest(dir);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    bool foreign = false;
    while (!stop) {
      fs::path tmp = weights;
      tmp += ".swap";
      fs::copy_file(foreign ? signed_copy : foreign_copy, tmp,
                    fs::copy_options::overwrite_existing);
      fs::rename(tmp, weights);
      foreign = !foreign;
    }
  });
  int registered = 0;
  for (int i = 0; i < 100; ++i) {
    CliResult r = Run({"adapter", "register", dir, "--name", "a", "--json"});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 12 || r.exit_code == 2)
        << r.exit_code << " " << r.err;
    if (r.exit_code == 0) {
      ++registered;
      EXPECT_EQ(ParseJson(r.out, "reg").value()["digest"], signed_digest);
    }
  }
  stop = true;
  swapper.join();
  std::cerr << "[swap] " << registered << " of 100 registrations during the swapping exited 0\n";
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  // Whatever was stored is the signed weights.
  if (registered > 0) {
    ASSERT_EQ(Run({"adapter", "export", "a", "--out", Path("exported")}).exit_code, 0);
    EXPECT_EQ(ReadFile(Path("exported/adapter_model.safetensors")).value(),
              ReadFile(signed_copy).value());
  }
}

TEST_F(HardeningCli, AReadOnlyRegistryCanBeAuditedAndIsNotWritten) {
  Dataset("kept");
  if (!CanRunUnprivileged()) {
    GTEST_SKIP() << "running as root without a way to drop to user nobody (setpriv), or the "
                    "build tree is not readable by nobody: root cannot be denied a write";
  }
  fs::permissions(temp_.path(), fs::perms(0755));
  ASSERT_TRUE(WriteFileAtomic(Path("x.jsonl"), "{\"a\": 1}\n", fs::perms(0644)).ok());
  // No write permission anywhere in the registry (files and directories).
  ASSERT_EQ(std::system(("chmod -R a-w,a+rX " + reg_).c_str()), 0);
  auto before = HashTree(reg_);
  CliResult audit = RunUnprivileged({"audit", "verify", "--registry", reg_});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "audit passed")) << audit.out;
  CliResult list = RunUnprivileged({"dataset", "list", "--registry", reg_});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, "kept")) << list.out;
  CliResult write =
      RunUnprivileged({"dataset", "register", Path("x.jsonl"), "--name", "x", "--registry", reg_});
  EXPECT_EQ(write.exit_code, 2) << write.err;
  EXPECT_TRUE(Has(write.err, "read-only") || Has(write.err, "Permission denied")) << write.err;
  EXPECT_EQ(HashTree(reg_), before);
  EXPECT_FALSE(fs::exists(fs::path(reg_) / "registry.db-shm"));
  ASSERT_EQ(std::system(("chmod -R u+w " + reg_).c_str()), 0);
}

TEST_F(HardeningCli, UnreadableInputExits2NamingTheFile) {
  if (!CanRunUnprivileged()) {
    GTEST_SKIP() << "running as root without a way to drop to user nobody (setpriv): root "
                    "reads every file";
  }
  // A registry owned by the unprivileged user, and an input file it may not read.
  fs::permissions(temp_.path(), fs::perms(0755));
  fs::path home = temp_.path() / "nobody";
  fs::create_directories(home);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(home.c_str(), 65534, 65534), 0);
  }
  std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", (home / "config").string()}};
  std::string reg = (home / "reg").string();
  ASSERT_EQ(RunUnprivileged({"init", reg}, env).exit_code, 0);
  ASSERT_TRUE(WriteFileAtomic(Path("secret.jsonl"), "{\"a\": 1}\n", fs::perms(0)).ok());
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"dataset", "register", Path("secret.jsonl"), "--name", "s"},
           {"policy", "register", Path("secret.jsonl")},
           {"audit", "verify", "--checkpoint", Path("secret.jsonl")}}) {
    std::vector<std::string> with = args;
    with.insert(with.end(), {"--registry", reg});
    CliResult r = RunUnprivileged(with, env);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_TRUE(Has(r.err, Path("secret.jsonl"))) << r.err;
  }
}

TEST_F(HardeningCli, BaseRegisterRefusesATokenizerThatDoesNotLoad) {
  ASSERT_TRUE(WriteTinyGpt2Base(Path("base")).ok());
  ASSERT_TRUE(
      WriteFileAtomic(Path("base/tokenizer.json"), R"({"model":{"type":"WordPiece"}})").ok());
  auto before = HashTree(reg_);
  CliResult r = Run({"base", "register", Path("base"), "--name", "tiny"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "tokenizer does not load")) << r.err;
  EXPECT_TRUE(Has(r.err, Path("base") + "/tokenizer.json")) << r.err;
  EXPECT_FALSE(Has(r.err, "intake-")) << "the message names the source, not the staged copy";
  fs::remove(Path("base/tokenizer.json"));
  CliResult missing = Run({"base", "register", Path("base"), "--name", "tiny"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Has(missing.err, "has no tokenizer.json")) << missing.err;
  EXPECT_EQ(HashTree(reg_), before);
}

}  // namespace
}  // namespace graft::testing
