// Test support: a registry made through the built CLI with a tiny GPT-2 base and one trusted key
// per role, the start of most end-to-end scenarios.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace graft::testing {

// With `env` (which sets GRAFT_REGISTRY): `graft base init` of a tiny GPT-2 into ROOT/base,
// `graft init`, a key per role (trainer, evaluator, approver) generated into ROOT/<role>.pem and
// trusted with that role under the role's name, and `graft base register ROOT/base --name tiny`.
// A failing step fails the calling test.
void InitTinyRegistry(const std::filesystem::path& root,
                      const std::map<std::string, std::string>& env);

// A suite file's text: suite `name` with one loglikelihood_rolling task "text" over `data_file`
// (whose content is `data`, its SHA-256 pinned), measuring bits_per_byte.
std::string TextSuiteYaml(const std::string& name, const std::string& data_file,
                          const std::string& data);

}  // namespace graft::testing
