// What only the PostgreSQL backend has: connection errors, foreign databases, roles enforced by
// the server, and concurrent writer processes on one log.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "registry/auditor.h"
#include "registry/postgres_roles.h"
#include "registry/schema.h"
#include "tests/integration/registry/registry_helpers.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/registry_test_access.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

testing::PostgresCluster& Cluster() {
  testing::PostgresCluster& cluster = testing::PostgresCluster::Shared();
  EXPECT_TRUE(cluster.running()) << cluster.error();
  return cluster;
}

TEST(PostgresRegistry, BadUrisAndConnectionsAreInvalidInputAndNameTheUriWithoutItsPassword) {
  testing::PostgresCluster& cluster = Cluster();
  Result<Registry> malformed = Registry::Open("postgresql://graft:secret@127.0.0.1:notaport/x");
  EXPECT_EQ(malformed.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(Contains(malformed.status().message(), "secret")) << malformed.status().message();

  Result<Registry> wrong_password =
      Registry::Open(cluster.Uri("postgres", "graft", "not-the-password"));
  ASSERT_FALSE(wrong_password.ok());
  EXPECT_EQ(wrong_password.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(wrong_password.status().message(), "password authentication failed"))
      << wrong_password.status().message();
  EXPECT_FALSE(Contains(wrong_password.status().message(), "not-the-password"));

  Result<Registry> missing = Registry::Init(cluster.Uri("no_such_database"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(missing.status().message(), "no_such_database"))
      << missing.status().message();
}

TEST(PostgresRegistry, EmptyAndForeignDatabasesAreRefusedWritingNothing) {
  testing::PostgresCluster& cluster = Cluster();
  const std::string uri = cluster.CreateDatabase();
  Result<Registry> empty = Registry::Open(uri);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(empty.status().message(), "has no graft schema"))
      << empty.status().message();

  ASSERT_EQ(cluster.Psql(uri, "CREATE TABLE invoices(id int)").exit_code, 0);
  Result<Registry> foreign = Registry::Init(uri);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(foreign.status().message(), "not an empty database"))
      << foreign.status().message();
  Database db = Database::Connect(uri).value();
  Statement tables =
      db.Prepare("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").value();
  ASSERT_TRUE(tables.Step().value());
  EXPECT_EQ(tables.Int(0), 1);  // nothing written
  EXPECT_EQ(Registry::Open(uri).status().kind(), ErrorKind::kInvalidInput);
}

TEST(PostgresRegistry, InitTwiceIsAConflictAndAnInterruptedInitIsFinished) {
  testing::PostgresCluster& cluster = Cluster();
  const std::string uri = cluster.CreateDatabase();
  {
    // The schema alone, as an init stopped before its first events leaves it.
    Database db = Database::Connect(uri).value();
    ASSERT_TRUE(MigrateSchema(db).ok());
  }
  Result<Registry> finished = Registry::Init(uri);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(finished->LogSize().value(), 2u);
  EXPECT_EQ(Registry::Init(uri).status().kind(), ErrorKind::kConflict);
}

TEST(PostgresRegistry, ReaderCannotChangeAnythingAndWriterCannotRewriteTheLog) {
  testing::PostgresCluster& cluster = Cluster();
  const std::string uri = cluster.CreateDatabase();
  Registry registry = Registry::Init(uri).value();
  const std::string grants = registry.RoleGrants().value();
  EXPECT_TRUE(Contains(grants,
                       "GRANT UPDATE ON objects, keys, channels, adapter_tags, "
                       "adapter_descriptions, cosignatures TO graft_writer"))
      << grants;
  // DELETE only on the projections an event can shrink (a removed tag, a cleared description).
  EXPECT_TRUE(
      Contains(grants, "GRANT DELETE ON adapter_tags, adapter_descriptions TO graft_writer"))
      << grants;
  EXPECT_EQ(grants.find("DELETE"), grants.rfind("DELETE")) << grants;
  // Roles are cluster-wide: made once per cluster.
  (void)cluster.Psql(uri, "DROP ROLE IF EXISTS test_reader; DROP ROLE IF EXISTS test_writer");
  testing::CliResult applied = cluster.Psql(uri, grants);
  ASSERT_TRUE(applied.exit_code == 0 || Contains(applied.err, "already exists")) << applied.err;
  if (applied.exit_code != 0) {  // the group roles exist: apply the rest
    std::string rest = grants.substr(grants.find("REVOKE"));
    ASSERT_EQ(cluster.Psql(uri, rest).exit_code, 0);
  }
  ASSERT_EQ(cluster
                .Psql(uri,
                      "CREATE ROLE test_reader LOGIN PASSWORD 'r' IN ROLE graft_reader;"
                      "CREATE ROLE test_writer LOGIN PASSWORD 'w' IN ROLE graft_writer")
                .exit_code,
            0);
  const std::string db_name = uri.substr(uri.rfind('/') + 1);
  const uint64_t size = registry.LogSize().value();

  Database reader = Database::Connect(cluster.Uri(db_name, "test_reader", "r")).value();
  for (const char* change :
       {"INSERT INTO events(seq, body) VALUES(999, 'x')", "UPDATE objects SET stage = 'x'",
        "DELETE FROM checkpoints", "UPDATE meta SET value = 'x'", "CREATE TABLE planted(i int)",
        "DELETE FROM blob_chunks"}) {
    Status refused = reader.Exec(change);
    EXPECT_EQ(refused.kind(), ErrorKind::kInvalidInput) << change << ": " << refused.ToString();
    EXPECT_TRUE(Contains(refused.message(), "permission denied")) << refused.message();
  }
  Registry as_reader = Registry::Open(cluster.Uri(db_name, "test_reader", "r")).value();
  EXPECT_EQ(as_reader.LogSize().value(), size);  // reading works
  AuditReport audit = Auditor(as_reader).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);

  Database writer = Database::Connect(cluster.Uri(db_name, "test_writer", "w")).value();
  for (const char* change : {"UPDATE events SET body = 'x'", "DELETE FROM events",
                             "UPDATE checkpoints SET note = 'x'", "DELETE FROM blob_chunks",
                             "UPDATE attestations SET kind = 'x'", "TRUNCATE channel_history"}) {
    Status refused = writer.Exec(change);
    EXPECT_EQ(refused.kind(), ErrorKind::kInvalidInput) << change << ": " << refused.ToString();
  }
  // The writer can register through graft.
  Registry as_writer = Registry::Open(cluster.Uri(db_name, "test_writer", "w")).value();
  TempDir temp("graft-pg-writer");
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "d.jsonl", "{\"a\": 1}\n").ok());
  Result<ObjectRecord> dataset = as_writer.RegisterDataset(temp.path() / "d.jsonl", "d");
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(registry.LogSize().value(), size + 1);
}

TEST(PostgresRegistry, ConcurrentWriterProcessesKeepOneContiguousAuditedLog) {
  testing::PostgresCluster& cluster = Cluster();
  const std::string uri = cluster.CreateDatabase();
  const uint64_t before = Registry::Init(uri).value().LogSize().value();
  TempDir temp("graft-pg-concurrent");
  constexpr int kWriters = 6;
  constexpr int kEach = 5;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failures = 0;
      Result<Registry> registry = Registry::Open(uri);
      for (int i = 0; registry.ok() && i < kEach; ++i) {
        fs::path file =
            temp.path() / ("w" + std::to_string(w) + "-" + std::to_string(i) + ".jsonl");
        failures += !WriteFileAtomic(file, "{\"w\": " + std::to_string(w * 100 + i) + "}\n").ok();
        failures += !registry->RegisterDataset(file, "w" + std::to_string(w)).ok();
      }
      ::_exit(registry.ok() && failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Registry registry = Registry::Open(uri).value();
  EXPECT_EQ(registry.LogSize().value(), before + kWriters * kEach);
  Statement seqs = RegistryTestAccess::db(registry)
                       .Prepare("SELECT count(*), min(seq), max(seq) FROM events")
                       .value();
  ASSERT_TRUE(seqs.Step().value());
  EXPECT_EQ(seqs.Int(0), static_cast<int64_t>(before + kWriters * kEach));
  EXPECT_EQ(seqs.Int(1), 0);
  EXPECT_EQ(seqs.Int(2), static_cast<int64_t>(before + kWriters * kEach - 1));
  AuditReport audit = Auditor(registry).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);
}

}  // namespace
}  // namespace graft::registry
