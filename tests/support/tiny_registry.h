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

}  // namespace graft::testing
