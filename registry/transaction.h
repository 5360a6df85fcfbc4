// Transaction: BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless committed.
#pragma once

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

class Transaction {
 public:
  // Takes the write lock now (BEGIN IMMEDIATE), waiting up to the busy timeout.
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

}  // namespace graft::registry
