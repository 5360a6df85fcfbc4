#include "tests/e2e/registry/registry_cli_helpers.h"

#include "core/json.h"
#include "core/keys.h"

namespace graft::testing {

void RegistryCliTest::SetUp() {
  reg_ = (temp_.path() / "reg").string();
  CliResult init = Run({"init", reg_, "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  init_out_ = init.out;
}

CliResult RegistryCliTest::Run(std::vector<std::string> args,
                               const std::map<std::string, std::string>& env) {
  if (args[0] != "init") {
    args.push_back("--registry");
    args.push_back(reg_);
  }
  return RunGraft(args, env);
}

std::string RegistryCliTest::TrainerKey(const std::string& name) {
  std::string file = Path(name + ".pem");
  EXPECT_EQ(RunGraft({"key", "generate", "--out", file}).exit_code, 0);
  CliResult trust = Run({"key", "trust", file + ".pub", "--role", "trainer", "--name", name});
  EXPECT_EQ(trust.exit_code, 0) << trust.err;
  return file;
}

std::string RegistryCliTest::Base(const std::string& name, TinyGpt2 shape) {
  EXPECT_TRUE(WriteTinyGpt2Base(Path(name), shape).ok());
  CliResult r = Run({"base", "register", Path(name), "--name", name, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ParseJson(r.out, "out").value()["digest"].get<std::string>().substr(7);
}

std::string RegistryCliTest::SignedAdapter(const std::string& name, const std::string& key_file,
                                           const std::string& base_digest, LoraShape shape) {
  std::string dir = Path(name);
  PrivateKey key = PrivateKey::LoadPem(key_file).value();
  EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
  ProvenanceInputs inputs;
  inputs.base_digest = base_digest;
  EXPECT_TRUE(WriteProvenance(dir, key, inputs).ok());
  EXPECT_TRUE(SignAdapter(dir, key).ok());
  return dir;
}

}  // namespace graft::testing
