#include "registry/postgres_sql.h"

#include <gtest/gtest.h>

namespace graft::registry {
namespace {

TEST(PostgresSql, PlaceholdersAreNumberedOutsideQuotes) {
  PostgresSql sql = ToPostgresSql("SELECT a FROM t WHERE b = ? AND c = '?' AND \"d?\" = ?").value();
  EXPECT_EQ(sql.text, "SELECT a FROM t WHERE b = $1 AND c = '?' AND \"d?\" = $2");
  EXPECT_EQ(sql.parameter_count, 2);
  PostgresSql numbered =
      ToPostgresSql("SELECT 1 WHERE x >= ?1 AND x < ?2 AND k = ?3 OR ?1").value();
  EXPECT_EQ(numbered.text, "SELECT 1 WHERE x >= $1 AND x < $2 AND k = $3 OR $1");
  EXPECT_EQ(numbered.parameter_count, 3);
  PostgresSql gap = ToPostgresSql("SELECT 1 WHERE a = ?1 AND d = ?4").value();
  EXPECT_EQ(gap.used, (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(ToPostgresSql("SELECT 'it''s ?', ?").value().text, "SELECT 'it''s ?', $1");
}

TEST(PostgresSql, InsertOrIgnoreAndGroupConcatAreTranslatedOtherOrsRefused) {
  EXPECT_EQ(ToPostgresSql("INSERT OR IGNORE INTO edges(a, b) VALUES(?, ?)").value().text,
            "INSERT INTO edges(a, b) VALUES($1, $2) ON CONFLICT DO NOTHING");
  EXPECT_EQ(ToPostgresSql("SELECT group_concat(x, ' ') FROM t").value().text,
            "SELECT string_agg(x, ' ') FROM t");
  Result<PostgresSql> replace = ToPostgresSql("INSERT OR REPLACE INTO t VALUES(?)");
  ASSERT_FALSE(replace.ok());
  EXPECT_EQ(replace.status().kind(), ErrorKind::kInvalidInput);
  // A column that merely starts with "insert" is left alone.
  EXPECT_EQ(ToPostgresSql("SELECT inserted FROM t").value().text, "SELECT inserted FROM t");
}

TEST(PostgresSql, SchemaTypesAreWidenedAndCollatedBytewise) {
  EXPECT_EQ(ToPostgresDdl("CREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER, b BLOB) WITHOUT ROWID;"),
            "CREATE TABLE t(k TEXT COLLATE \"C\" PRIMARY KEY, n BIGINT, b BYTEA);");
}

}  // namespace
}  // namespace graft::registry
