#include "registry/statement.h"

namespace graft::registry {

Status Statement::Run() {
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

}  // namespace graft::registry
