// libFuzzer target: policy YAML (policies/policy) from hostile bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policies/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  graft::Result<graft::policies::Policy> policy = graft::policies::ParsePolicy(bytes, "fuzz.yaml");
  if (!policy.ok()) return 0;
  // The digest names the canonical bytes; `policy register` stores exactly those bytes and later
  // parses them again, which must give the same policy digest.
  if (policy->digest != graft::policies::PolicyDigest(bytes)) std::abort();
  graft::Result<graft::policies::Policy> stored =
      graft::policies::ParsePolicy(graft::policies::CanonicalPolicyBytes(bytes), "fuzz.yaml");
  if (!stored.ok() || stored->digest != policy->digest || stored->name != policy->name) {
    std::abort();
  }
  return 0;
}
