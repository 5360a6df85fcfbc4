#include <gtest/gtest.h>

#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {

TEST(Cli, TopLevelHelpListsCommandsAndExitCodes) {
  CliResult r = RunGraft({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage: graft"), std::string::npos);
  EXPECT_NE(r.out.find("12 verification failed"), std::string::npos);
}

TEST(Cli, VersionNamesEveryLibrary) {
  CliResult r = RunGraft({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"graft ", "libtorch", "SQLite", "OpenSSL"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
}

TEST(Cli, UnknownCommandExitsTwoWithAHint) {
  CliResult r = RunGraft({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(r.err.find("hint:"), std::string::npos);
}

}  // namespace
}  // namespace graft::testing
