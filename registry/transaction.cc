#include "registry/transaction.h"

#include <utility>

namespace graft::registry {

Result<Transaction> Transaction::Begin(Database& db) {
  if (db.read_only()) {
    return InvalidInput("the registry database " + db.path().string() +
                        " is open read-only (no write permission, or read-only media); this "
                        "command changes the registry");
  }
  GRAFT_RETURN_IF_ERROR(db.backend().BeginWrite());
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(other.db_), done_(std::exchange(other.done_, true)) {}

Transaction::~Transaction() {
  if (!done_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  GRAFT_RETURN_IF_ERROR(db_->backend().Commit());
  done_ = true;
  return Status::Ok();
}

Result<ReadTransaction> ReadTransaction::Begin(Database& db) {
  GRAFT_RETURN_IF_ERROR(db.backend().BeginRead());
  return ReadTransaction(&db);
}

ReadTransaction::ReadTransaction(ReadTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

ReadTransaction::~ReadTransaction() {
  if (db_ != nullptr) (void)db_->Exec("COMMIT");
}

}  // namespace graft::registry
