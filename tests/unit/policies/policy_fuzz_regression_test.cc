// Inputs found by tests/fuzz/policy_fuzz (docs/fuzzing.md), kept as regression tests.
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"

namespace graft::policies {
namespace {

// yaml-cpp's LoadAll never returns on these (a stray "," at document level): ParsePolicy must
// refuse them, not hang.
TEST(PolicyFuzzRegression, StrayFlowEntryIsRefusedNotAHang) {
  const std::string found =
      ",# Decla\x96_per_byte"
      "i\xb0"
      "e-fot\nbase: \xEF\xBB\xBFr";  // the fuzzer's input
  for (const std::string& bytes : {found, std::string(","), std::string("\"x\"\n,\n")}) {
    Result<Policy> policy = ParsePolicy(bytes, "policy.yaml");
    ASSERT_FALSE(policy.ok()) << bytes;
    EXPECT_EQ(policy.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(policy.status().message(),
              "policy.yaml: expected one YAML document, found more than 2")
        << bytes;
  }
}

TEST(PolicyFuzzRegression, DocumentCountStillExact) {
  const std::string doc = "policy: p\npromotion: {}\n";
  EXPECT_TRUE(ParsePolicy(doc, "policy.yaml").ok());
  EXPECT_EQ(ParsePolicy(doc + "---\n" + doc + "---\n" + doc, "policy.yaml").status().message(),
            "policy.yaml: expected one YAML document, found more than 2");
}

}  // namespace
}  // namespace graft::policies
