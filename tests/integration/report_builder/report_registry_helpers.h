// Test helpers for the report builders: a real registry with keys, a tiny base, a dataset, a
// pre-declared policy, and signed adapters, evaluations, gate decisions and approvals.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/file_util.h"
#include "core/keys.h"
#include "policies/lifecycle.h"
#include "registry/registry.h"

namespace graft::testing {

class ReportRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override;

  std::filesystem::path Dir(const std::string& name) const { return temp_.path() / name; }
  // A signed adapter (provenance naming base_, dataset_ and `policy_digest`) registered as "bot".
  registry::ObjectRecord Train(int seed, const std::string& policy_digest);
  // Stores a signed evaluation attestation (graft's test-result predicate) of suite "kpi": acc
  // improved by `delta` overall and on slice "faq". Returns its digest.
  std::string Evaluate(const registry::ObjectRecord& adapter, double delta);
  // Gates `adapter` under `policy` on the same comparisons the evaluation recorded.
  policies::Decision Gate(const registry::ObjectRecord& adapter,
                          const registry::ObjectRecord& policy, const std::string& evaluation,
                          double delta);
  // HashTree of the registry directory without SQLite's shared-memory index (registry.db-shm),
  // which every reader writes its read marks into; what a report must not change is the rest.
  std::map<std::string, std::string> RegistryFiles() const;
  // Trains, evaluates, gates (passing), approves and promotes to `channel`.
  registry::ObjectRecord Promoted(int seed, const std::string& channel = "production");

  TempDir temp_{"graft-report-builder-test"};
  std::optional<registry::Registry> registry_;
  std::unique_ptr<policies::Lifecycle> lifecycle_;
  PrivateKey trainer_ = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  PrivateKey evaluator_ = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  PrivateKey approver_ = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  registry::ObjectRecord base_, dataset_, policy_;
};

}  // namespace graft::testing
