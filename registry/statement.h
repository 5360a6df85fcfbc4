// Statement: a prepared statement of any backend with typed bind and column helpers; a cached
// statement is reset and returned to its cache on release. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/database_backend.h"

namespace graft::registry {

class Statement {
 public:
  explicit Statement(std::unique_ptr<StatementBackend> backend) : backend_(std::move(backend)) {}
  Statement(Statement&& other) noexcept = default;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement() = default;

  // Parameters are 1-based, as in SQLite.
  Status Bind(int index, int64_t value) { return backend_->BindInt(index, value); }
  Status Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Status Bind(int index, uint64_t value) { return Bind(index, static_cast<int64_t>(value)); }
  Status Bind(int index, std::string_view text) { return backend_->BindText(index, text); }
  Status Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Status Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Status Bind(int index, std::nullopt_t) { return backend_->BindNull(index); }
  template <typename T>
  Status Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, std::nullopt);
  }
  Status BindBlob(int index, std::string_view bytes) { return backend_->BindBlob(index, bytes); }
  // Binds each argument in order, from parameter 1.
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (status = Bind(++index, args), 0) : 0), ...);
    return status;
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step() { return backend_->Step(); }
  // Steps until done (for statements that return no rows).
  Status Run();

  int ColumnCount() const { return backend_->ColumnCount(); }
  bool IsNull(int column) const { return backend_->IsNull(column); }
  int64_t Int(int column) const { return backend_->Int(column); }
  std::optional<int64_t> OptionalInt(int column) const;
  std::string Text(int column) const { return backend_->Text(column); }
  std::string Blob(int column) const { return backend_->Blob(column); }

 private:
  std::unique_ptr<StatementBackend> backend_;
};

}  // namespace graft::registry
