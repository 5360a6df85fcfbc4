#include "registry/database.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "registry/schema.h"
#include "registry/transaction.h"

namespace graft::registry {
namespace {

TEST(Database, TypedBindAndColumnsRoundTrip) {
  Database db = Database::Open({}, Database::Mode::kMemory).value();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n TEXT)").ok());
  Statement insert = db.Prepare("INSERT INTO t VALUES(?, ?, ?, ?)").value();
  ASSERT_TRUE(insert.BindAll(int64_t{-7}, std::string("text")).ok());
  ASSERT_TRUE(insert.BindBlob(3, std::string("\0\1", 2)).ok());
  ASSERT_TRUE(insert.Bind(4, std::nullopt).ok());
  ASSERT_TRUE(insert.Run().ok());
  Statement select = db.Prepare("SELECT i, s, b, n FROM t").value();
  ASSERT_TRUE(*select.Step());
  EXPECT_EQ(select.Int(0), -7);
  EXPECT_EQ(select.Text(1), "text");
  EXPECT_EQ(select.Blob(2), std::string("\0\1", 2));
  EXPECT_TRUE(select.IsNull(3));
  EXPECT_FALSE(select.OptionalInt(3).has_value());
  EXPECT_FALSE(*select.Step());
}

TEST(Database, CachedStatementsAreReusedAndNestedUseGetsAFreshOne) {
  Database db = Database::Open({}, Database::Mode::kMemory).value();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(i); INSERT INTO t VALUES(1),(2)").ok());
  const std::string sql = "SELECT i FROM t ORDER BY i";
  Statement outer = db.Prepare(sql).value();
  ASSERT_TRUE(*outer.Step());
  {
    Statement inner = db.Prepare(sql).value();  // the cached one is busy
    ASSERT_TRUE(*inner.Step());
    EXPECT_EQ(inner.Int(0), 1);
  }
  ASSERT_TRUE(*outer.Step());
  EXPECT_EQ(outer.Int(0), 2);
}

TEST(Database, ConstraintViolationIsAConflict) {
  Database db = Database::Open({}, Database::Mode::kMemory).value();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(k PRIMARY KEY)").ok());
  ASSERT_TRUE(db.Run("INSERT INTO t VALUES(?)", "a").ok());
  Status again = db.Run("INSERT INTO t VALUES(?)", "a");
  EXPECT_EQ(again.kind(), ErrorKind::kConflict);
}

TEST(Transaction, RollsBackUnlessCommitted) {
  TempDir dir;
  Database db = Database::Open(dir.path() / "x.db", Database::Mode::kCreate).value();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(i)").ok());
  {
    Transaction t = Transaction::Begin(db).value();
    ASSERT_TRUE(db.Run("INSERT INTO t VALUES(1)").ok());
  }
  {
    Transaction t = Transaction::Begin(db).value();
    ASSERT_TRUE(db.Run("INSERT INTO t VALUES(2)").ok());
    ASSERT_TRUE(t.Commit().ok());
  }
  Statement s = db.Prepare("SELECT group_concat(i) FROM t").value();
  ASSERT_TRUE(*s.Step());
  EXPECT_EQ(s.Text(0), "2");
  Statement mode = db.Prepare("PRAGMA journal_mode").value();
  ASSERT_TRUE(*mode.Step());
  EXPECT_EQ(mode.Text(0), "wal");
}

TEST(Schema, MigratesToLatestAndRefusesNewerDatabases) {
  TempDir dir;
  Database db = Database::Open(dir.path() / "r.db", Database::Mode::kCreate).value();
  ASSERT_TRUE(MigrateSchema(db).ok());
  Statement version = db.Prepare("PRAGMA user_version").value();
  ASSERT_TRUE(*version.Step());
  EXPECT_EQ(version.Int(0), LatestSchemaVersion());
  ASSERT_TRUE(MigrateSchema(db).ok());  // idempotent
  ASSERT_TRUE(db.Exec("PRAGMA user_version=" + std::to_string(LatestSchemaVersion() + 1)).ok());
  Status newer = MigrateSchema(db);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(newer.message().find("newer than this graft supports"), std::string::npos);
}

TEST(Database, NotADatabaseIsInvalidInput) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "junk.db", std::string(4096, 'x')).ok());
  Result<Database> db = Database::Open(dir.path() / "junk.db");
  Status status = db.ok() ? MigrateSchema(*db) : db.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(status.message().find("not a SQLite database"), std::string::npos);
}

}  // namespace
}  // namespace graft::registry
