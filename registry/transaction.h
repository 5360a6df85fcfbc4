// Transaction: a write transaction on construction, ROLLBACK on destruction unless committed;
// and ReadTransaction, one consistent read snapshot.
#pragma once

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

class Transaction {
 public:
  // Takes the write lock now (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), waiting
  // for the current writer.
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
  bool done_ = false;
};

// A read snapshot, fixed at Begin: every query until it ends sees the database as it was at
// Begin, whatever other processes commit meanwhile. Ends (COMMIT of a read transaction) on
// destruction.
class ReadTransaction {
 public:
  static Result<ReadTransaction> Begin(Database& db);
  ReadTransaction(ReadTransaction&& other) noexcept;
  ReadTransaction& operator=(ReadTransaction&&) = delete;
  ~ReadTransaction();

 private:
  explicit ReadTransaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace graft::registry
