// Stress through the CLI: audits while 8 processes write (one snapshot each: no false tampering),
// and kill -9 at random points of writing commands (the registry opens and passes its audit).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"

extern char** environ;

namespace graft::testing {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TEST(RegistryStress, AuditsDuringEightWritersNeverReportTamperingThatDidNotHappen) {
  TempDir temp("graft-stress");
  const std::string reg = (temp.path() / "reg").string();
  ASSERT_EQ(RunGraft({"init", reg}).exit_code, 0);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  constexpr int kWriters = 8;
  std::vector<int> writes(kWriters, 0), failed_writes(kWriters, 0);
  std::vector<std::string> first_failure(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; Clock::now() < deadline; ++i) {
        std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
        fs::path file = temp.path() / (name + ".jsonl");
        if (!WriteFileAtomic(
                 file, "{\"w\": " + std::to_string(w) + ", \"i\": " + std::to_string(i) + "}\n")
                 .ok()) {
          continue;
        }
        CliResult r =
            RunGraft({"dataset", "register", file.string(), "--name", name, "--registry", reg});
        ++writes[w];
        if (r.exit_code != 0) {
          if (failed_writes[w]++ == 0) first_failure[w] = r.err;
        }
      }
    });
  }
  int audits = 0;
  int false_alarms = 0;
  std::string first_alarm;
  while (Clock::now() < deadline) {
    CliResult audit = RunGraft({"audit", "verify", "--registry", reg});
    ++audits;
    if (audit.exit_code != 0) {
      if (false_alarms++ == 0) first_alarm = audit.out + audit.err;
    }
  }
  for (auto& t : writers) t.join();
  int total = 0;
  for (int w = 0; w < kWriters; ++w) {
    total += writes[w];
    EXPECT_EQ(failed_writes[w], 0) << "writer " << w << ": " << first_failure[w];
  }
  EXPECT_EQ(false_alarms, 0) << false_alarms << " of " << audits << " audits failed; first:\n"
                             << first_alarm;
  EXPECT_GE(audits, 5);
  EXPECT_GE(total, 8);
  CliResult final_audit = RunGraft({"audit", "verify", "--registry", reg});
  EXPECT_EQ(final_audit.exit_code, 0) << final_audit.out;
  std::cerr << "[stress] " << audits << " audits during " << total
            << " registrations by 8 processes, " << false_alarms << " failed\n";
}

// Starts graft with `args` (output discarded); returns its pid.
pid_t Spawn(const std::vector<std::string>& args) {
  std::string binary = GraftBinary().string();
  std::vector<std::string> strings = {binary};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST(RegistryStress, KillNineAtRandomPointsOfWritingCommandsLeavesAnAuditableRegistry) {
  TempDir temp("graft-kill");
  auto path = [&](const std::string& name) { return (temp.path() / name).string(); };
  const std::string reg = path("reg");
  ASSERT_EQ(RunGraft({"init", reg}).exit_code, 0);
  auto in_reg = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--registry", reg});
    return args;
  };
  // A trainer key, a base and a few signed adapters to register.
  ASSERT_EQ(RunGraft({"key", "generate", "--out", path("trainer.pem")}).exit_code, 0);
  ASSERT_EQ(
      RunGraft(in_reg({"key", "trust", path("trainer.pem.pub"), "--role", "trainer"})).exit_code,
      0);
  ASSERT_TRUE(WriteTinyGpt2Base(path("base")).ok());
  CliResult base = RunGraft(in_reg({"base", "register", path("base"), "--name", "tiny", "--json"}));
  ASSERT_EQ(base.exit_code, 0) << base.err;
  const std::string base_digest =
      ParseJson(base.out, "base").value()["digest"].get<std::string>().substr(7);
  PrivateKey trainer = PrivateKey::LoadPem(path("trainer.pem")).value();
  constexpr int kAdapters = 12;
  for (int i = 0; i < kAdapters; ++i) {
    fs::path dir = path("adapter" + std::to_string(i));
    ASSERT_TRUE(WriteLoraAdapter(dir, {.seed = i + 1}).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_digest;
    ASSERT_TRUE(WriteProvenance(dir, trainer, inputs).ok());
    ASSERT_TRUE(SignAdapter(dir, trainer).ok());
  }

  std::mt19937 random(20261203);
  constexpr int kKills = 200;
  int killed_running = 0;
  for (int k = 0; k < kKills; ++k) {
    std::vector<std::string> args;
    std::string init_dir;
    std::string n = std::to_string(k);
    switch (k % 6) {
      case 0:
      case 1: {
        std::string file = path("d" + n + ".jsonl");
        ASSERT_TRUE(WriteFileAtomic(file, "{\"k\": " + n + "}\n").ok());
        args = in_reg({"dataset", "register", file, "--name", "d" + n});
        break;
      }
      case 2:
        args = in_reg({"adapter", "register", path("adapter" + std::to_string(k % kAdapters)),
                       "--name", "bot" + n});
        break;
      case 3: {
        ASSERT_EQ(RunGraft({"key", "generate", "--out", path("k" + n + ".pem")}).exit_code, 0);
        args = in_reg({"key", "trust", path("k" + n + ".pem.pub"), "--role", "approver"});
        break;
      }
      case 4:
        args = in_reg({"dataset", "revoke", "d" + std::to_string(k - 4), "--reason", "kill"});
        break;
      case 5:
        init_dir = path("init" + n);
        args = {"init", init_dir};
        break;
    }
    pid_t pid = Spawn(args);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 40000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++killed_running;
    CliResult audit = RunGraft(in_reg({"audit", "verify"}));
    ASSERT_EQ(audit.exit_code, 0) << "after killing: " << args[0] << " " << args[1] << "\n"
                                  << audit.out << audit.err;
    if (!init_dir.empty()) {
      // Either no registry (and init works again) or a complete one.
      if (fs::exists(init_dir)) {
        CliResult init_audit = RunGraft({"audit", "verify", "--registry", init_dir});
        ASSERT_EQ(init_audit.exit_code, 0) << init_audit.out << init_audit.err;
      } else {
        ASSERT_EQ(RunGraft({"init", init_dir}).exit_code, 0);
      }
    }
  }
  CliResult gc = RunGraft(in_reg({"registry", "gc", "--apply"}));
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  CliResult audit = RunGraft(in_reg({"audit", "verify"}));
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_FALSE(audit.out.find("orphan") != std::string::npos) << audit.out;
  std::cerr << "[kill] " << kKills << " kills, " << killed_running
            << " while the command was still running\n";
  EXPECT_GE(killed_running, kKills / 4);
}

}  // namespace
}  // namespace graft::testing
