// graft and graft-model (docs/cli.md, "Two executables"): graft never loads libtorch, parses every
// command itself, and hands the commands that run a model to graft-model beside it.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// The dynamic loader reports every library it loads on stderr.
const std::map<std::string, std::string> kTraceLibraries = {{"LD_DEBUG", "libs"}};

bool LoadedLibtorch(const CliResult& r) { return r.err.find("libtorch") != std::string::npos; }

TEST(TwoExecutables, RegistryCommandLoadsNoLibtorch) {
  TempDir dir("graft-two-executables");
  const std::string registry = (dir.path() / "registry").string();
  ASSERT_EQ(RunGraft({"init", registry}).exit_code, 0);

  CliResult r = RunGraft({"key", "list", "--registry", registry}, kTraceLibraries);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("libsqlite3"), std::string::npos) << "LD_DEBUG traced no library";
  EXPECT_FALSE(LoadedLibtorch(r));
}

TEST(TwoExecutables, HelpOfAModelCommandComesFromGraft) {
  CliResult r = RunGraft({"train", "--help"}, kTraceLibraries);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Usage: graft train --base DIR"), std::string::npos) << r.out;
  for (const char* option : {"--data", "--config", "--resume", "--parent"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
  EXPECT_FALSE(LoadedLibtorch(r));
}

TEST(TwoExecutables, ParseErrorOfAModelCommandExitsTwoFromGraft) {
  CliResult r = RunGraft({"train", "--bogus"}, kTraceLibraries);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("graft: graft train: unrecognised option '--bogus'"), std::string::npos)
      << r.err;
  EXPECT_FALSE(LoadedLibtorch(r));

  r = RunGraft({"generate", "--prompt", "hi"}, kTraceLibraries);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'--base' is required"), std::string::npos) << r.err;
  EXPECT_FALSE(LoadedLibtorch(r));
}

TEST(TwoExecutables, ModelCommandRunsInGraftModel) {
  if (ModelBinary().empty()) GTEST_SKIP() << "built without libtorch: no graft-model";
  ASSERT_EQ(ModelBinary().parent_path(), GraftBinary().parent_path());
  TempDir dir("graft-two-executables");
  const std::string missing_base = (dir.path() / "no-such-base").string();

  const std::vector<std::string> args = {"generate", "--base", missing_base, "--prompt", "hi"};
  EXPECT_TRUE(LoadedLibtorch(RunGraft(args, kTraceLibraries)));
  // graft-model's outcome is the process's, byte for byte: a missing base is invalid input.
  CliResult through_graft = RunGraft(args);
  CliResult direct = RunBinary(ModelBinary(), args);
  EXPECT_EQ(through_graft.exit_code, 2);
  EXPECT_EQ(through_graft.err, "graft: no such file: " + missing_base + "/config.json\n");
  EXPECT_EQ(through_graft.exit_code, direct.exit_code);
  EXPECT_EQ(through_graft.out, direct.out);
  EXPECT_EQ(through_graft.err, direct.err);
}

TEST(TwoExecutables, VersionListsLibtorchFromGraftModel) {
  if (ModelBinary().empty()) GTEST_SKIP() << "built without libtorch: no graft-model";
  CliResult r = RunGraft({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\nlibtorch 1."), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not built"), std::string::npos) << r.out;
}

TEST(TwoExecutables, GraftAloneRefusesModelCommandsAndRunsTheRest) {
  TempDir dir("graft-alone");
  const fs::path graft = dir.path() / "graft";
  fs::copy_file(GraftBinary(), graft);
  fs::permissions(graft, fs::perms::owner_all);

  CliResult r = RunBinary(graft, {"generate", "--base", "X", "--prompt", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "graft: 'generate' runs a model and needs graft-model next to graft (" +
                       (dir.path() / "graft-model").string() + "); this build has no libtorch\n");
  EXPECT_EQ(r.out, "");

  r = RunBinary(graft, {"base", "init", "--arch", "gpt2", "--out", (dir.path() / "b").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'base init' runs a model"), std::string::npos) << r.err;

  const std::string registry = (dir.path() / "registry").string();
  ASSERT_EQ(RunBinary(graft, {"init", registry}).exit_code, 0);
  r = RunBinary(graft, {"adapter", "list", "--registry", registry});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "no adapter matches\n");

  r = RunBinary(graft, {"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\nlibtorch (not built)\n"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace graft::testing
