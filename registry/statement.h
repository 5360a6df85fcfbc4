// Statement: a prepared sqlite3 statement with typed bind and column helpers; resets on release.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::registry {

class Statement {
 public:
  // Takes a statement; `owned` finalizes it on destruction, otherwise it is reset and its
  // bindings cleared (a cached statement), and `*in_use` is cleared.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool owned, bool* in_use);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Status Bind(int index, int64_t value);
  Status Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Status Bind(int index, uint64_t value) { return Bind(index, static_cast<int64_t>(value)); }
  Status Bind(int index, std::string_view text);
  Status Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Status Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Status Bind(int index, std::nullopt_t);
  template <typename T>
  Status Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, std::nullopt);
  }
  Status BindBlob(int index, std::string_view bytes);
  // Binds each argument in order, from parameter 1.
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (status = Bind(++index, args), 0) : 0), ...);
    return status;
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done (for statements that return no rows).
  Status Run();

  int ColumnCount() const;
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
  bool* in_use_;
};

}  // namespace graft::registry
