// `graft registry copy` between a directory and PostgreSQL through the graft binary: a directory
// registry copied into a database and back keeps its log root, old checkpoints verify against each
// copy, each passes its audit; refused and failed copies leave the destination as it was.
#include <gtest/gtest.h>

#include "core/json.h"
#include "registry/database.h"
#include "tests/e2e/registry/registry_cli_helpers.h"
#include "tests/support/postgres_cluster.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int Relations(const std::string& uri) { return PostgresCluster::Shared().Relations(uri); }

class PostgresCopyCli : public RegistryCliTest {
 protected:
  void SetUp() override {
    RegistryCliTest::SetUp();
    PostgresCluster& cluster = PostgresCluster::Shared();
    ASSERT_TRUE(cluster.running()) << cluster.error();
    key_ = TrainerKey("alice");
    adapter_ = SignedAdapter("a1", key_, Base());
    ASSERT_EQ(Run({"adapter", "register", adapter_, "--name", "bot"}).exit_code, 0);
    ASSERT_EQ(Run({"log", "checkpoint", "--out", Path("old.note")}).exit_code, 0);
    ASSERT_TRUE(WriteFileAtomic(Path("d.jsonl"), "{\"text\": \"x\"}\n").ok());
    ASSERT_EQ(Run({"dataset", "register", Path("d.jsonl"), "--name", "d"}).exit_code, 0);
  }
  // The copy's latest checkpoint, its audit (with the checkpoint kept from the source) and what
  // it lists are the source's.
  void ExpectSameAsSource(const std::string& copy) {
    EXPECT_EQ(RunGraft({"log", "checkpoint", "--registry", copy}).out,
              Run({"log", "checkpoint"}).out);
    CliResult audit =
        RunGraft({"audit", "verify", "--registry", copy, "--checkpoint", Path("old.note")});
    EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
    EXPECT_TRUE(Has(audit.out, "audit passed")) << audit.out;
    for (const std::vector<std::string>& query :
         {std::vector<std::string>{"adapter", "list", "--json"},
          std::vector<std::string>{"log", "show", "--json"}}) {
      std::vector<std::string> at_copy = query;
      at_copy.insert(at_copy.end(), {"--registry", copy});
      EXPECT_EQ(RunGraft(at_copy).out, Run(query).out) << query[0];
    }
  }
  std::string key_, adapter_;
};

TEST_F(PostgresCopyCli, ADirectoryCopiedToADatabaseAndBackKeepsItsRootAndCheckpoints) {
  PostgresCluster& cluster = PostgresCluster::Shared();
  const std::string database = cluster.CreateDatabase();
  CliResult to_database = RunGraft({"registry", "copy", "--from", reg_, "--to", database});
  ASSERT_EQ(to_database.exit_code, 0) << to_database.out << to_database.err;
  EXPECT_TRUE(Has(to_database.out, ":***@127.0.0.1")) << to_database.out;
  EXPECT_FALSE(Has(to_database.out, PostgresCluster::kPassword)) << to_database.out;
  ExpectSameAsSource(database);

  CliResult back =
      RunGraft({"registry", "copy", "--from", database, "--to", Path("back"), "--json"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  Json outcome = ParseJson(back.out, "copy").value();
  EXPECT_GT(outcome["events"].get<int>(), 5);
  EXPECT_GT(outcome["blobs"].get<int>(), 5);
  ExpectSameAsSource(Path("back"));
  ASSERT_EQ(RunGraft({"adapter", "export", "bot", "--out", Path("out"), "--registry", Path("back")})
                .exit_code,
            0);
  EXPECT_EQ(HashTree(Path("out")), HashTree(adapter_));

  // Each copy goes on as a registry of its own, signed with the same registry key.
  CliResult changed =
      RunGraft({"dataset", "register", Path("d.jsonl"), "--name", "other", "--registry", database});
  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(RunGraft({"audit", "verify", "--registry", database, "--checkpoint", Path("old.note")})
                .exit_code,
            0);
}

TEST_F(PostgresCopyCli, BadSourcesAndDestinationsExitTwoAndTamperingTwelveLeavingThemAsTheyWere) {
  PostgresCluster& cluster = PostgresCluster::Shared();
  const std::string foreign = cluster.CreateDatabase();
  ASSERT_EQ(cluster.Psql(foreign, "CREATE TABLE invoices(id int)").exit_code, 0);
  const std::string registry = cluster.CreateDatabase();
  ASSERT_EQ(RunGraft({"init", registry}).exit_code, 0);
  const std::string empty = cluster.CreateDatabase();
  ASSERT_TRUE(fs::create_directories(Path("full")));
  ASSERT_TRUE(WriteFileAtomic(Path("full/keep.txt"), "mine").ok());
  struct Case {
    std::string from, to, message;
  };
  for (const Case& c : std::vector<Case>{
           {reg_, foreign, "not an empty database"},
           {reg_, registry, "already a graft registry"},
           {reg_, cluster.Uri("missing_db"), "missing_db"},
           {reg_, cluster.Uri(empty.substr(empty.rfind('/') + 1), "graft", "wrong"),
            "password authentication failed"},
           {"postgresql://graft@[::1/x", Path("c1"), "malformed PostgreSQL URI"},
           {empty, Path("c2"), "has no graft schema"},
           {registry, Path("full"), "not an empty directory"},
       }) {
    CliResult r = RunGraft({"registry", "copy", "--from", c.from, "--to", c.to});
    EXPECT_EQ(r.exit_code, 2) << c.from << " -> " << c.to << ": " << r.err;
    EXPECT_TRUE(Has(r.err, c.message)) << r.err;
    EXPECT_FALSE(Has(r.err, "wrong")) << "password shown: " << r.err;
  }
  EXPECT_EQ(Relations(foreign), 1);
  EXPECT_EQ(Relations(empty), 0);
  EXPECT_FALSE(fs::exists(Path("c1")));
  EXPECT_FALSE(fs::exists(Path("c2")));
  EXPECT_EQ(ReadFile(Path("full/keep.txt")).value(), "mine");
  EXPECT_EQ(RunGraft({"audit", "verify", "--registry", registry}).exit_code, 0);

  // A blob altered in a database registry: the copy names it (exit 12) and writes nothing.
  const std::string database = cluster.CreateDatabase();
  ASSERT_EQ(RunGraft({"registry", "copy", "--from", reg_, "--to", database}).exit_code, 0);
  ASSERT_EQ(cluster
                .Psql(database,
                      "UPDATE blob_chunks SET data = overlay(data placing '\\x00'::bytea "
                      "from 1) WHERE idx = 0 AND digest IN (SELECT blob FROM object_files "
                      "WHERE path = 'adapter_model.safetensors')")
                .exit_code,
            0);
  CliResult tampered =
      RunGraft({"registry", "copy", "--from", database, "--to", Path("from-tampered")});
  EXPECT_EQ(tampered.exit_code, 12) << tampered.err;
  EXPECT_TRUE(Has(tampered.err, "does not match its digest")) << tampered.err;
  EXPECT_FALSE(fs::exists(Path("from-tampered")));
  const std::string target = cluster.CreateDatabase();
  tampered = RunGraft({"registry", "copy", "--from", database, "--to", target});
  EXPECT_EQ(tampered.exit_code, 12) << tampered.err;
  EXPECT_EQ(Relations(target), 0);

  // An event edited in a directory registry: refused (exit 12), the database stays empty.
  {
    registry::Database db = registry::Database::Open(fs::path(reg_) / "registry.db").value();
    ASSERT_TRUE(
        db.Exec("UPDATE events SET body = replace(body, '\"name\":\"d\"', '\"name\":\"e\"')").ok());
  }
  tampered = RunGraft({"registry", "copy", "--from", reg_, "--to", target});
  EXPECT_EQ(tampered.exit_code, 12) << tampered.err;
  EXPECT_TRUE(Has(tampered.err, "fails its audit")) << tampered.err;
  EXPECT_EQ(Relations(target), 0);
}

}  // namespace
}  // namespace graft::testing
