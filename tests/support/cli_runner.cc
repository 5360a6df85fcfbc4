#include "tests/support/cli_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace graft::testing {
namespace fs = std::filesystem;

fs::path GraftBinary() { return GRAFT_BINARY; }
fs::path ModelBinary() { return GRAFT_MODEL_BINARY; }
fs::path SourceDir() { return GRAFT_SOURCE_DIR; }
fs::path InteropDir() { return SourceDir() / "tests" / "data" / "interop"; }

namespace {

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

CliResult RunGraft(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const fs::path& cwd) {
  return RunBinary(GraftBinary(), args, env, cwd);
}

CliResult RunBinary(const fs::path& binary_path, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, const fs::path& cwd) {
  CliResult result;
  char out_template[] = "/tmp/graft-cli-out-XXXXXX";
  char err_template[] = "/tmp/graft-cli-err-XXXXXX";
  int out_fd = ::mkstemp(out_template);
  int err_fd = ::mkstemp(err_template);
  if (out_fd < 0 || err_fd < 0) return result;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (!env.count(key)) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string binary = binary_path.string();
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0) {
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    result.peak_rss_kib = usage.ru_maxrss;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ::close(out_fd);
  ::close(err_fd);
  result.out = Slurp(out_template);
  result.err = Slurp(err_template);
  ::unlink(out_template);
  ::unlink(err_template);
  return result;
}

}  // namespace graft::testing
