// --nproc: launching local data-parallel workers (cli/data_parallel.h).
#include "cli/data_parallel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace graft::cli {
namespace {

constexpr int kMaxLocalWorkers = 64;

// The workers, for the signal handler (SIGINT/SIGTERM are forwarded to each).
std::vector<pid_t> g_workers;

void ForwardSignal(int signal) {
  for (pid_t pid : g_workers) ::kill(pid, signal);
}

// This process's command line (argv), from /proc/self/cmdline (read as a stream: /proc files
// have no size).
Result<std::vector<std::string>> OwnArguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (text.empty()) return InternalError("cannot read /proc/self/cmdline");
  std::vector<std::string> args;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

// The arguments without --nproc N / --nproc=N.
std::vector<std::string> WithoutNproc(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;
    } else if (args[i].rfind("--nproc=", 0) != 0) {
      out.push_back(args[i]);
    }
  }
  return out;
}

// A TCP port on 127.0.0.1 that nobody listens on now (the kernel's choice).
Result<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    return IoError(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

// 128 + signal for a worker a signal ended, as a shell reports it.
int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

void AddNprocOption(po::options_description& options) {
  options.add_options()(
      "nproc", po::value<int>(),
      "run data-parallel in N local worker processes (rendezvous on 127.0.0.1); across machines, "
      "start one process per rank with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set "
      "(docs/distributed.md)");
}

Result<std::optional<int>> LaunchLocalWorkers(const po::variables_map& vm) {
  if (!vm.count("nproc")) return std::optional<int>();
  const int nproc = vm["nproc"].as<int>();
  if (nproc < 1 || nproc > kMaxLocalWorkers) {
    return InvalidInput("--nproc " + std::to_string(nproc) + ": expected 1 to " +
                        std::to_string(kMaxLocalWorkers));
  }
  if (nproc == 1) return std::optional<int>();
  if (const char* world = std::getenv("WORLD_SIZE");
      world != nullptr && std::string(world) != "1") {
    return InvalidInput("--nproc launches its own workers; it does not combine with WORLD_SIZE=" +
                        std::string(world) + " in the environment");
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> args, OwnArguments());
  args = WithoutNproc(args);
  GRAFT_ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
  std::error_code error;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return InternalError("cannot read /proc/self/exe: " + error.message());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::cout.flush();
  std::cerr.flush();
  struct sigaction forward {};
  forward.sa_handler = ForwardSignal;
  sigemptyset(&forward.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      ForwardSignal(SIGKILL);
      return InternalError(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // A process group of its own: the terminal's Ctrl-C reaches the launcher, which forwards
      // it once.
      ::setpgid(0, 0);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv(self.c_str(), argv.data());
      std::fprintf(stderr, "graft: cannot run %s: %s\n", self.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    g_workers.push_back(pid);
    if (rank == 0) {
      sigaction(SIGINT, &forward, &old_int);
      sigaction(SIGTERM, &forward, &old_term);
    }
  }

  // Wait for every worker. Once one has failed, the others get their collective timeout plus a
  // grace period to notice and exit, then are killed.
  std::vector<int> codes(static_cast<size_t>(nproc), -1);
  int running = nproc;
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline = Clock::time_point::max();  // max: no rank has failed yet
  long timeout_seconds = 300;
  if (const char* t = std::getenv("GRAFT_DIST_TIMEOUT")) timeout_seconds = std::atol(t);
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < g_workers.size(); ++r) {
        if (g_workers[r] != pid) continue;
        codes[r] = ExitCodeOf(status);
        --running;
        if (codes[r] != 0) {
          std::cerr << "graft: rank " << r << " (pid " << pid << ") "
                    << (WIFSIGNALED(status)
                            ? "was killed by signal " + std::to_string(WTERMSIG(status))
                            : "exited with code " + std::to_string(codes[r]))
                    << "\n";
          if (deadline == Clock::time_point::max()) {
            deadline = Clock::now() + std::chrono::seconds(std::max(1L, timeout_seconds) + 30);
          }
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (Clock::now() > deadline) {
      for (size_t r = 0; r < g_workers.size(); ++r) {
        if (codes[r] < 0) ::kill(g_workers[r], SIGKILL);
      }
      deadline = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_workers.clear();
  int code = codes[0];
  for (int c : codes) {
    if (code == 0 && c != 0) code = c;
  }
  return std::optional<int>(code < 0 ? 1 : code);
}

}  // namespace graft::cli
