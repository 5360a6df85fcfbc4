// Test support: a `graft serve` child process on a free loopback port, and a minimal blocking
// HTTP/1.1 client to talk to it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace graft::testing {

struct HttpResult {
  int status = 0;                              // 0: no response (connection failed or closed early)
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// Sends `request_text` (a whole request) to 127.0.0.1:port and reads the response until the
// server closes the connection (requests should say "Connection: close"). 30 s timeout.
HttpResult HttpExchange(int port, const std::string& request_text);
// GET `target` with Connection: close and optional extra header lines ("Name: value").
HttpResult HttpGet(int port, const std::string& target,
                   const std::vector<std::string>& headers = {});

class ServeProcess {
 public:
  // Starts `graft serve --listen 127.0.0.1:0 --registry DIR ARGS...`, waits for the line that
  // names the bound port (port() is 0 when the server did not start; exit_code() then says how
  // it ended and log() has its stderr).
  ServeProcess(const std::filesystem::path& registry, const std::vector<std::string>& args = {});
  ~ServeProcess();  // SIGTERM, then wait
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What the server wrote to stderr so far (its request log).
  std::string log() const;
  // The server's peak resident set size so far (VmHWM), in KiB; 0 when it is not running.
  long PeakRssKib() const;
  // Stops the server and returns its exit code.
  int Stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::filesystem::path log_file_;
};

}  // namespace graft::testing
