// Test helpers for registry integration tests: a registry with a trusted trainer and a tiny base,
// on each backend (a directory with SQLite, or a database of a throwaway PostgreSQL cluster).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/file_util.h"
#include "core/keys.h"
#include "registry/registry.h"
#include "tests/support/peft_fixture.h"

namespace graft::registry {

enum class Backend { kSqlite, kPostgres };

// "Sqlite" / "Postgres", for test names.
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

class RegistryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  std::filesystem::path Dir(const std::string& name) const { return temp_.path() / name; }
  // Writes a signed adapter with provenance into a new directory.
  std::filesystem::path MakeAdapter(const std::string& name, testing::LoraShape shape = {},
                                    const PrivateKey* signer = nullptr);
  // Registers `file_text` as a dataset named `name`.
  ObjectRecord MakeDataset(const std::string& name, const std::string& file_text);
  // Appends an event outside the Registry API (as a hostile or buggy writer would), applying it
  // to the tables and signing a checkpoint with the registry key so only the content is wrong.
  void AppendRaw(const std::string& action, const Json& details);
  // Runs a SQL statement on the registry database through a separate connection (PostgreSQL:
  // as the cluster's superuser, as an administrator would).
  void Sql(const std::string& sql);
  // Tampering with stored bytes as an insider would: the blob's file (directory registry) or
  // its chunk rows (PostgreSQL).
  void AlterBlobByte(const std::string& digest, size_t offset, char byte);
  void DeleteBlob(const std::string& digest);
  // Sets the recorded schema version (PRAGMA user_version; PostgreSQL: graft_schema).
  void SetSchemaVersion(int version);

  TempDir temp_{"graft-registry-test"};
  std::filesystem::path root_;  // the registry directory, or the PostgreSQL URI
  std::optional<Registry> registry_;
  std::unique_ptr<PrivateKey> trainer_;
  ObjectRecord base_;
  ObjectRecord dataset_;
};

}  // namespace graft::registry
