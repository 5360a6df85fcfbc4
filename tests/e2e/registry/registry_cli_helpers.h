// Test helpers for registry CLI tests: a fresh registry, and keys, bases and adapters to put in it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {

class RegistryCliTest : public ::testing::Test {
 protected:
  // `graft init` of a new registry (reg_); keeps init's --json output.
  void SetUp() override;
  // Runs graft with --registry appended (but for init).
  CliResult Run(std::vector<std::string> args, const std::map<std::string, std::string>& env = {});
  std::string Path(const std::string& name) const { return (temp_.path() / name).string(); }
  // key generate + key trust as trainer; returns the private key file.
  std::string TrainerKey(const std::string& name);
  // A registered tiny base; returns its digest.
  std::string Base(const std::string& name = "tiny", TinyGpt2 shape = {});
  // A LoRA adapter signed by `key_file`, with a provenance naming `base_digest`.
  std::string SignedAdapter(const std::string& name, const std::string& key_file,
                            const std::string& base_digest, LoraShape shape = {});

  TempDir temp_{"graft-registry-e2e"};
  std::string reg_;
  std::string init_out_;
};

}  // namespace graft::testing
