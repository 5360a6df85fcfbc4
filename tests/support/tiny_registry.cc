#include "tests/support/tiny_registry.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/sha256.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {

void InitTinyRegistry(const std::filesystem::path& root,
                      const std::map<std::string, std::string>& env) {
  auto path = [&](const std::string& name) { return (root / name).string(); };
  auto expect = [&](const std::vector<std::string>& args) {
    CliResult r = RunGraft(args, env);
    EXPECT_EQ(r.exit_code, 0) << "graft " << args[0] << " " << args[1] << "\n" << r.out << r.err;
  };
  expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", path("base")});
  expect({"init"});
  for (const std::string role : {"trainer", "evaluator", "approver"}) {
    expect({"key", "generate", "--out", path(role + ".pem")});
    expect({"key", "trust", path(role + ".pem.pub"), "--role", role, "--name", role});
  }
  expect({"base", "register", path("base"), "--name", "tiny"});
}

std::string TextSuiteYaml(const std::string& name, const std::string& data_file,
                          const std::string& data) {
  return "suite: " + name +
         "\ntasks:\n  - name: text\n    type: loglikelihood_rolling\n    data: {path: " +
         data_file + ", sha256: \"" + Sha256Hex(data) + "\"}\n    metrics: [bits_per_byte]\n";
}

}  // namespace graft::testing
