#include "registry/postgres_sql.h"

#include <cctype>
#include <regex>

namespace graft::registry {

namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `sql` at `i` starts the word `word` (case-insensitive, whole word).
bool WordAt(std::string_view sql, size_t i, std::string_view word) {
  if (i == std::string_view::npos || i + word.size() > sql.size()) return false;
  if (i > 0 && IsWordChar(sql[i - 1])) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
  }
  return i + word.size() == sql.size() || !IsWordChar(sql[i + word.size()]);
}

}  // namespace

Result<PostgresSql> ToPostgresSql(std::string_view sql) {
  PostgresSql out;
  int next = 0;
  bool ignore_conflicts = false;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // copy a quoted string or identifier as it is
      size_t end = sql.find(c, i + 1);
      while (end != std::string_view::npos && end + 1 < sql.size() && sql[end + 1] == c) {
        end = sql.find(c, end + 2);
      }
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.text.append(sql.substr(i, end + 1 - i));
      i = end + 1;
      continue;
    }
    if (c == '?') {
      size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      int n = j > i + 1 ? std::stoi(std::string(sql.substr(i + 1, j - i - 1))) : ++next;
      if (n > out.parameter_count) out.parameter_count = n;
      if (out.used.size() < static_cast<size_t>(n)) out.used.resize(static_cast<size_t>(n));
      out.used[static_cast<size_t>(n - 1)] = true;
      out.text += "$" + std::to_string(n);
      i = j;
      continue;
    }
    const size_t or_at = WordAt(sql, i, "insert") ? sql.find_first_not_of(" \n", i + 6) : 0;
    if (or_at != 0 && WordAt(sql, or_at, "or")) {
      const size_t after_or = sql.find_first_not_of(" \n", or_at + 2);
      if (!WordAt(sql, after_or, "ignore")) {
        return InvalidInput("SQL for PostgreSQL: only INSERT OR IGNORE is translated (in: " +
                            std::string(sql.substr(0, 60)) + ")");
      }
      out.text += "INSERT";
      ignore_conflicts = true;
      i = after_or + 6;
      continue;
    }
    if (WordAt(sql, i, "group_concat")) {
      out.text += "string_agg";
      i += 12;
      continue;
    }
    out.text += c;
    ++i;
  }
  if (ignore_conflicts) {
    while (!out.text.empty() && (out.text.back() == ';' || std::isspace(out.text.back()))) {
      out.text.pop_back();
    }
    out.text += " ON CONFLICT DO NOTHING";
  }
  return out;
}

std::string ToPostgresDdl(std::string_view ddl) {
  std::string out(ddl);
  out = std::regex_replace(out, std::regex(R"(\bINTEGER\b)"), "BIGINT");
  out = std::regex_replace(out, std::regex(R"(\bBLOB\b)"), "BYTEA");
  out = std::regex_replace(out, std::regex(R"(\bTEXT\b)"), "TEXT COLLATE \"C\"");
  out = std::regex_replace(out, std::regex(R"(\s*WITHOUT ROWID)"), "");
  return out;
}

}  // namespace graft::registry
