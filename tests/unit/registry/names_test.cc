#include "registry/names.h"

#include <gtest/gtest.h>

namespace graft::registry {
namespace {

TEST(Names, AcceptsOrdinaryNames) {
  for (const char* name : {"tiny", "support-bot", "demo_base.v2", "org/model", "d", "bad", "a1",
                           "base-scores-0123456789abcdef"}) {
    EXPECT_TRUE(ValidateName(name, "name").ok()) << name;
  }
}

TEST(Names, RefusesWhatCouldForgeOrShadow) {
  struct Case {
    std::string name, message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty name"},
           {"a@b", "'@'"},
           {"a\nb", "control character"},
           {"a\x7f", "control character"},
           {"a b", "a space"},
           {".hidden", "must start with a letter or digit"},
           {"cafe", "looks like a digest prefix"},
           {"0123456789ab", "looks like a digest prefix"},
           {"sha256:00", "':'"},
           {std::string(129, 'x'), "longer than 128"},
       }) {
    Status status = ValidateName(c.name, "name");
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput) << c.name;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  }
}

TEST(Names, Channels) {
  EXPECT_TRUE(ValidateChannel("bot@production").ok());
  EXPECT_FALSE(ValidateChannel("bot@3").ok());
  EXPECT_FALSE(ValidateChannel("@production").ok());
  EXPECT_FALSE(ValidateChannel("bot@").ok());
  EXPECT_FALSE(ValidateChannel("bot@prod\nx").ok());
  EXPECT_FALSE(ValidateChannel("b@t@production").ok());
}

TEST(Names, EscapeControl) {
  EXPECT_EQ(EscapeControl("plain text, ünïcode"), "plain text, ünïcode");
  EXPECT_EQ(EscapeControl("a\nb\tc\rd\\e"), "a\\nb\\tc\\rd\\\\e");
  EXPECT_EQ(EscapeControl(std::string("\x1b[31m\x7f\x01", 7)), "\\x1b[31m\\x7f\\x01");
  EXPECT_EQ(EscapeControl("\xc2\x9b"), "\\u009b");  // C1 CSI in UTF-8
}

}  // namespace
}  // namespace graft::registry
