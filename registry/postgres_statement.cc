#include "registry/postgres_statement.h"

#include <cstdlib>

#include "registry/postgres_database.h"

namespace graft::registry {

namespace {
constexpr Oid kByteaOid = 17;
}  // namespace

PostgresStatement::PostgresStatement(PostgresDatabase* db, std::string sql, int parameters)
    : db_(db),
      sql_(std::move(sql)),
      values_(static_cast<size_t>(parameters)),
      present_(static_cast<size_t>(parameters), 0),
      binary_(static_cast<size_t>(parameters), 0) {}

Status PostgresStatement::Set(int index, std::string value, bool present, bool binary) {
  if (index < 1 || index > static_cast<int>(values_.size())) {
    return InternalError("postgresql: bind: parameter " + std::to_string(index) +
                         " out of range (statement has " + std::to_string(values_.size()) + ")");
  }
  size_t i = static_cast<size_t>(index - 1);
  values_[i] = std::move(value);
  present_[i] = present ? 1 : 0;
  binary_[i] = binary ? 1 : 0;
  return Status::Ok();
}

Status PostgresStatement::BindInt(int index, int64_t value) {
  return Set(index, std::to_string(value), true, false);
}

Status PostgresStatement::BindText(int index, std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return InvalidInput("postgresql: a text value holds a NUL byte, which PostgreSQL text cannot");
  }
  return Set(index, std::string(text), true, false);
}

Status PostgresStatement::BindNull(int index) { return Set(index, {}, false, false); }

Status PostgresStatement::BindBlob(int index, std::string_view bytes) {
  return Set(index, std::string(bytes), true, true);
}

Result<bool> PostgresStatement::Step() {
  if (!result_) {
    std::vector<const char*> values(values_.size());
    std::vector<int> lengths(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      values[i] = present_[i] ? values_[i].c_str() : nullptr;
      lengths[i] = static_cast<int>(values_[i].size());
    }
    GRAFT_ASSIGN_OR_RETURN(result_, db_->ExecPrepared(sql_, values, lengths, binary_));
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

int PostgresStatement::ColumnCount() const { return result_ ? PQnfields(result_.get()) : 0; }

bool PostgresStatement::IsNull(int column) const {
  return PQgetisnull(result_.get(), row_, column) != 0;
}

int64_t PostgresStatement::Int(int column) const {
  const char* text = PQgetvalue(result_.get(), row_, column);
  if (text[0] == 't' && text[1] == '\0') return 1;
  return std::strtoll(text, nullptr, 10);
}

std::string PostgresStatement::Text(int column) const {
  return std::string(PQgetvalue(result_.get(), row_, column),
                     static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
}

std::string PostgresStatement::Blob(int column) const {
  if (PQftype(result_.get(), column) != kByteaOid) return Text(column);
  size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, column)), &length);
  if (bytes == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return out;
}

}  // namespace graft::registry
