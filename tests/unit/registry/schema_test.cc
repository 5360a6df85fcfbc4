#include "registry/schema.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "registry/transaction.h"

namespace graft::registry {
namespace {

TEST(Schema, AFreshSchemaMatchesAndPlantedOrChangedObjectsAreNamed) {
  Database db = Database::Open({}, Database::Mode::kMemory).value();
  ASSERT_TRUE(MigrateSchema(db).ok());
  EXPECT_TRUE(SchemaDifferences(db, LatestSchemaVersion()).value().empty());
  ASSERT_TRUE(db.Exec("CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END;"
                      "CREATE VIEW v AS SELECT 1; CREATE INDEX extra ON events(body);"
                      "DROP INDEX labels_by_name; ALTER TABLE channels ADD COLUMN x;")
                  .ok());
  std::vector<std::string> found = SchemaDifferences(db, LatestSchemaVersion()).value();
  std::string all;
  for (const std::string& line : found) all += line + "\n";
  EXPECT_EQ(found.size(), 5u) << all;
  for (const char* part :
       {"unexpected trigger \"t\" on events", "unexpected view \"v\"",
        "unexpected index \"extra\" on events", "index \"labels_by_name\" on labels is missing",
        "table \"channels\" differs from graft's definition"}) {
    EXPECT_NE(all.find(part), std::string::npos) << part << "\n" << all;
  }
  // Version 1's schema is what migration 1 alone creates.
  EXPECT_FALSE(SchemaDifferences(db, 1).value().empty());
  EXPECT_FALSE(SchemaDifferences(db, -1).ok());
}

TEST(Schema, NegativeAndNewerVersionsAreInvalidInputNotACrash) {
  for (int version : {-1, -2147483647, LatestSchemaVersion() + 1, 1000}) {
    Database db = Database::Open({}, Database::Mode::kMemory).value();
    ASSERT_TRUE(db.Exec("PRAGMA user_version=" + std::to_string(version)).ok());
    EXPECT_EQ(SchemaVersion(db).status().kind(), ErrorKind::kInvalidInput) << version;
    EXPECT_EQ(MigrateSchema(db).kind(), ErrorKind::kInvalidInput) << version;
  }
}

TEST(ReadTransaction, HoldsOneSnapshotWhileAnotherConnectionCommits) {
  TempDir dir;
  Database writer = Database::Open(dir.path() / "x.db", Database::Mode::kCreate).value();
  ASSERT_TRUE(writer.Exec("CREATE TABLE t(i); INSERT INTO t VALUES(1)").ok());
  Database reader = Database::Open(dir.path() / "x.db", Database::Mode::kReadOnly).value();
  auto count = [&] {
    Statement s = reader.Prepare("SELECT count(*) FROM t").value();
    EXPECT_TRUE(*s.Step());
    return s.Int(0);
  };
  {
    ReadTransaction snapshot = ReadTransaction::Begin(reader).value();
    ASSERT_TRUE(writer.Exec("INSERT INTO t VALUES(2)").ok());
    EXPECT_EQ(count(), 1);  // still the snapshot
  }
  EXPECT_EQ(count(), 2);
  // A read-only database refuses a write transaction with a clear message.
  Status refused = Transaction::Begin(reader).status();
  EXPECT_EQ(refused.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(refused.message().find("read-only"), std::string::npos);
}

TEST(Database, OpeningAnExistingFileWritesNothing) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "empty.db", "").ok());
  for (auto mode : {Database::Mode::kOpenExisting, Database::Mode::kReadOnly}) {
    Database db = Database::Open(dir.path() / "empty.db", mode).value();
    EXPECT_EQ(SchemaVersion(db).value(), 0);
  }
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "empty.db"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "empty.db-wal"));
}

}  // namespace
}  // namespace graft::registry
