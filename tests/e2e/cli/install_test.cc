// The install rules: `cmake --install` of this build into a staging root (DESTDIR), then a smoke
// test of the staged graft (which must find the staged graft-model beside it), its man pages and
// its shell completion; and the .deb `cpack -G DEB` makes of them (dependencies, contents).
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

TEST(Install, StagedInstallRunsOnItsOwn) {
  if (ModelBinary().empty()) GTEST_SKIP() << "graft-model is not built (no libtorch)";
  TempDir root("graft-install");
  const fs::path stage = root.path() / "stage";
  CliResult installed =
      RunBinary(GRAFT_CMAKE_COMMAND, {"--install", GRAFT_BUILD_DIR, "--prefix", "/usr"},
                {{"DESTDIR", stage.string()}});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const fs::path bin = stage / "usr" / "bin";
  const fs::path graft = bin / "graft";
  ASSERT_TRUE(fs::is_regular_file(graft));
  ASSERT_TRUE(fs::is_regular_file(bin / "graft-model"));
  for (const char* file :
       {"usr/share/man/man1/graft.1", "usr/share/man/man1/graft-gate.1",
        "usr/share/man/man1/graft-base.1", "usr/share/bash-completion/completions/graft",
        "usr/share/zsh/vendor-completions/_graft"}) {
    EXPECT_TRUE(fs::is_regular_file(stage / file)) << file;
  }

  // Run from elsewhere, with nothing of the build on PATH.
  const fs::path work = root.path() / "work";
  fs::create_directories(work);
  const std::map<std::string, std::string> env = {{"GRAFT_REGISTRY", (work / "reg").string()},
                                                  {"PATH", bin.string() + ":/usr/bin:/bin"}};
  auto run = [&](const std::vector<std::string>& args) {
    CliResult r = RunBinary(graft, args, env, work);
    EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
    return r;
  };
  CliResult version = run({"--version"});
  EXPECT_NE(version.out.find("libtorch"), std::string::npos) << version.out;  // via graft-model
  run({"init"});
  run({"key", "generate", "--out", "trainer.pem"});
  run({"key", "trust", "trainer.pem.pub", "--role", "trainer", "--name", "trainer"});
  run({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", "base"});
  run({"base", "register", "base", "--name", "tiny"});
  CliResult generated =
      run({"generate", "--base", "base", "--prompt", "hello", "--max-new-tokens", "4"});
  EXPECT_FALSE(generated.out.empty());
  CliResult audit = run({"audit", "verify"});
  EXPECT_NE(audit.out.find("audit passed"), std::string::npos) << audit.out;
}

TEST(Install, DebPackageHasTheFilesAndDebianDependencies) {
  if (ModelBinary().empty()) GTEST_SKIP() << "graft-model is not built (no libtorch)";
  TempDir root("graft-deb");
  const fs::path cpack = fs::path(GRAFT_CMAKE_COMMAND).parent_path() / "cpack";
  CliResult packed = RunBinary(cpack, {"-G", "DEB", "-B", root.path().string(), "--config",
                                       (fs::path(GRAFT_BUILD_DIR) / "CPackConfig.cmake").string()});
  ASSERT_EQ(packed.exit_code, 0) << packed.out << packed.err;
  const fs::path deb = root.path() / ("graft_" GRAFT_VERSION "_amd64.deb");
  ASSERT_TRUE(fs::is_regular_file(deb)) << packed.out;
  CliResult info = RunBinary("/usr/bin/dpkg-deb", {"--field", deb.string(), "Depends"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* package : {"libtorch1.13", "libopenblas0-pthread", "libsqlite3-0", "libssl3",
                              "libboost-program-options1.74.0", "libyaml-cpp0.7"}) {
    EXPECT_NE(info.out.find(package), std::string::npos) << package << " in " << info.out;
  }
  CliResult contents = RunBinary("/usr/bin/dpkg-deb", {"--contents", deb.string()});
  for (const char* file :
       {"./usr/bin/graft\n", "./usr/bin/graft-model\n", "./usr/share/man/man1/graft-gate.1\n",
        "./usr/share/bash-completion/completions/graft\n",
        "./usr/share/zsh/vendor-completions/_graft\n"}) {
    EXPECT_NE(contents.out.find(file), std::string::npos) << file;
  }
}

}  // namespace
}  // namespace graft::testing
