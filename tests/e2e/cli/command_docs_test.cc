// What graft generates from its command table: `graft help CMD`, defaults shown as written, the
// man pages and the bash/zsh completion (run in a real bash), and the global --quiet.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

TEST(CommandDocs, HelpCmdPrintsThatCommandsHelp) {
  for (std::vector<std::string> command :
       std::vector<std::vector<std::string>>{{"gate"}, {"base", "init"}, {"base"}, {"verify"}}) {
    std::vector<std::string> help = {"help"};
    help.insert(help.end(), command.begin(), command.end());
    std::vector<std::string> dash_help = command;
    dash_help.push_back("--help");
    CliResult a = RunGraft(help);
    CliResult b = RunGraft(dash_help);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out) << command[0];
    EXPECT_EQ(a.out.find("Commands:"), std::string::npos) << a.out;  // not the top-level help
  }
  EXPECT_NE(RunGraft({"help", "gate"}).out.find("Usage: graft gate ADAPTER"), std::string::npos);
  CliResult unknown = RunGraft({"help", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(CommandDocs, DefaultsAreShownAsWritten) {
  CliResult r = RunGraft({"gate", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("(=0.95)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("0.9499999"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(=10000)"), std::string::npos) << r.out;  // integers stay as they are
}

TEST(CommandDocs, QuietIsGlobal) {
  CliResult plain = RunGraft({"help", "gate"});
  CliResult quiet = RunGraft({"--quiet", "help", "gate"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, plain.out);
  CliResult after = RunGraft({"gate", "--help", "--quiet"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST(CommandDocs, ManPagesCoverEveryGroupAndOption) {
  TempDir dir("graft-man");
  CliResult r = RunGraft({"__man", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto top = ReadFile(dir.path() / "graft.1");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->rfind(".TH GRAFT 1", 0), 0u) << *top;
  EXPECT_NE(top->find(".BR graft\\-gate (1)"), std::string::npos);
  EXPECT_NE(top->find("12 verification failed"), std::string::npos);
  auto gate = ReadFile(dir.path() / "graft-gate.1");
  ASSERT_TRUE(gate.ok());
  EXPECT_EQ(gate->rfind(".TH GRAFT-GATE 1", 0), 0u) << *gate;
  EXPECT_NE(gate->find(".B \\-\\-policy"), std::string::npos) << *gate;
  EXPECT_NE(gate->find("(=0.95)"), std::string::npos) << *gate;
  auto base = ReadFile(dir.path() / "graft-base.1");
  ASSERT_TRUE(base.ok());
  EXPECT_NE(base->find(".SS \"graft base init\""), std::string::npos) << *base;
  EXPECT_EQ(RunGraft({"__man"}).exit_code, 2);
  EXPECT_NE(RunGraft({"__man", (dir.path() / "no/such/dir").string()}).exit_code, 0);
}

// Runs the bash completion for the words of `line` (the last one is completed) and returns
// COMPREPLY joined by spaces.
std::string BashComplete(const fs::path& script, const std::string& line) {
  TempDir dir("graft-complete");
  const fs::path out = dir.path() / "out";
  std::string command = "bash --norc --noprofile -c 'source \"" + script.string() +
                        "\"; COMP_WORDS=(" + line + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));" +
                        " _graft; echo \"${COMPREPLY[*]}\"' > '" + out.string() + "' 2>&1";
  if (std::system(command.c_str()) != 0) return "<bash failed>";
  auto text = ReadFile(out);
  return text.ok() ? text->substr(0, text->find('\n')) : "<no output>";
}

TEST(CommandDocs, BashCompletionCompletesGroupsVerbsAndOptions) {
  TempDir dir("graft-bash");
  const fs::path script = dir.path() / "graft.bash";
  ASSERT_EQ(RunGraft({"__completion", "bash", script.string()}).exit_code, 0);
  EXPECT_EQ(BashComplete(script, "graft ga"), "gate");
  EXPECT_EQ(BashComplete(script, "graft base in"), "init");
  EXPECT_EQ(BashComplete(script, "graft gate x --pol"), "--policy");
  EXPECT_EQ(BashComplete(script, "graft verify f --public-k"), "--public-key");
  EXPECT_EQ(BashComplete(script, "graft base init --pre"), "--preset");
  EXPECT_EQ(BashComplete(script, "graft --vers"), "--version");
  CliResult printed = RunGraft({"__completion", "bash"});
  EXPECT_EQ(printed.out, ReadFile(script).value());
  EXPECT_EQ(RunGraft({"__completion", "fish"}).exit_code, 2);
}

TEST(CommandDocs, ZshCompletionParses) {
  CliResult r = RunGraft({"__completion", "zsh"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("#compdef graft\n", 0), 0u);
  EXPECT_NE(r.out.find("'--policy:"), std::string::npos);
  if (std::system("command -v zsh >/dev/null 2>&1") != 0) GTEST_SKIP() << "zsh not installed";
  TempDir dir("graft-zsh");
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "_graft", r.out).ok());
  std::string check = "zsh -n '" + (dir.path() / "_graft").string() + "'";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

}  // namespace
}  // namespace graft::testing
