// `graft serve`: the registry, read-only, as web pages and a JSON API (docs/serve.md).
#include <sys/stat.h>

#include <boost/asio/ip/address.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/common.h"
#include "core/file_util.h"
#include "serve/http_server.h"
#include "serve/site.h"

namespace graft::cli {
namespace {

// "HOST:PORT" or "[IPv6]:PORT" into options.host and options.port.
Status ParseListen(const std::string& listen, serve::HttpServerOptions& options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return InvalidInput("--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  unsigned long value = 0;
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      (value = std::stoul(port)) > 65535) {
    return InvalidInput("--listen: port must be 0 to 65535, not \"" + port + "\"");
  }
  boost::system::error_code error;
  boost::asio::ip::make_address(host, error);
  if (error) return InvalidInput("--listen: \"" + host + "\" is not an IP address");
  options.host = host;
  options.port = static_cast<uint16_t>(value);
  return Status::Ok();
}

// The bearer token: the file's first line, at least 16 characters, readable by its owner only.
Result<std::string> ReadToken(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return InvalidInput("--token-file " + path + ": not found");
  if ((info.st_mode & 077) != 0) {
    return InvalidInput("--token-file " + path + ": readable by others; chmod 600 it");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4096));
  std::string token = text.substr(0, text.find('\n'));
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (token.size() < 16 || token.find_first_of(" \t") != std::string::npos) {
    return InvalidInput("--token-file " + path +
                        ": the first line must be a token of 16 or more characters, no spaces");
  }
  return token;
}

// An integer option within [low, high].
Result<int> Bounded(const po::variables_map& vm, const std::string& name, int low, int high) {
  const int value = vm[name].as<int>();
  if (value < low || value > high) {
    return InvalidInput("--" + name + " must be " + std::to_string(low) + " to " +
                        std::to_string(high));
  }
  return value;
}

Result<int> RunServe(const po::variables_map& vm) {
  serve::HttpServerOptions options;
  GRAFT_RETURN_IF_ERROR(ParseListen(vm["listen"].as<std::string>(), options));
  if (vm.count("token-file")) {
    GRAFT_ASSIGN_OR_RETURN(options.token, ReadToken(vm["token-file"].as<std::string>()));
  }
  const bool loopback = boost::asio::ip::make_address(options.host).is_loopback();
  if (!loopback && options.token.empty()) {
    return InvalidInput("--listen " + options.host +
                        " is beyond this machine: give --token-file so requests need a token");
  }
  GRAFT_ASSIGN_OR_RETURN(options.threads, Bounded(vm, "threads", 1, 64));
  GRAFT_ASSIGN_OR_RETURN(options.workers, Bounded(vm, "workers", 1, 64));
  GRAFT_ASSIGN_OR_RETURN(options.queue, Bounded(vm, "queue", 1, 100000));
  GRAFT_ASSIGN_OR_RETURN(options.light_workers, Bounded(vm, "light-workers", 1, 64));
  GRAFT_ASSIGN_OR_RETURN(options.light_queue, Bounded(vm, "light-queue", 1, 100000));
  GRAFT_ASSIGN_OR_RETURN(const int audit_interval, Bounded(vm, "audit-interval", 0, 86400));
  serve::PageCache::Options cache;
  GRAFT_ASSIGN_OR_RETURN(const int max_age, Bounded(vm, "verify-max-age", 0, 86400));
  cache.max_age = std::chrono::seconds(max_age);
  GRAFT_ASSIGN_OR_RETURN(const int reverify, Bounded(vm, "reverify-interval", 0, 86400));
  cache.force_interval = std::chrono::seconds(reverify);
  GRAFT_ASSIGN_OR_RETURN(const int cache_mb, Bounded(vm, "page-cache-mb", 0, 65536));
  GRAFT_ASSIGN_OR_RETURN(const int warm_up, Bounded(vm, "warm-up", 0, 100000));
  cache.max_bytes = size_t(cache_mb) << 20;
  const std::filesystem::path dir = RegistryDir(vm);
  serve::ServeContext context(dir, std::chrono::seconds(audit_interval), cache);
  {
    // Fails early on a directory that is not a registry, and loads and verifies the log before
    // the first adapter page needs it (once per log size, see LogCache).
    GRAFT_ASSIGN_OR_RETURN(serve::RegistryPool::Lease registry, context.pool.Acquire());
    GRAFT_RETURN_IF_ERROR(context.log.Get(*registry).status());
  }
  serve::Site site(context);
  GRAFT_ASSIGN_OR_RETURN(
      std::unique_ptr<serve::HttpServer> server,
      serve::HttpServer::Listen(
          options,
          {[&site](const serve::HttpRequest& request) { return site.Fast(request); },
           [&site](const serve::HttpRequest& request) { return site.Handle(request); },
           &serve::Site::Light},
          std::cerr));
  const bool v6 = options.host.find(':') != std::string::npos;
  std::cout << "graft serve: http://" << (v6 ? "[" + options.host + "]" : options.host) << ":"
            << server->port() << "/ (registry " << dir.string() << ", read-only"
            << (options.token.empty() ? "" : ", bearer token required") << ")" << std::endl;
  // After the start line, beside the requests: the pages of the most recently touched adapters
  // (stopped and joined when the server stops).
  std::jthread warming([&site, warm_up](std::stop_token stop) {
    if (warm_up == 0) return;
    const auto start = std::chrono::steady_clock::now();
    Result<size_t> built = site.WarmUp(static_cast<size_t>(warm_up), stop);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream line;
    line << "graft serve: warm-up: ";
    if (built.ok()) {
      line << *built << " adapter page(s) verified and kept in " << std::fixed
           << std::setprecision(1) << seconds << " s\n";
    } else {
      line << "stopped: " << built.status().message() << "\n";
    }
    std::cerr << line.str() << std::flush;
  });
  server->Run(/*signals=*/true);
  return kExitOk;
}

CommandRegistrar kServe({
    .group = "serve",
    .verb = "",
    .summary = "Browse the registry read-only in a web browser and over a JSON API",
    .usage = "[--listen 127.0.0.1:8080] [--token-file FILE] [--verify-max-age 600]",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
                                "HOST:PORT to listen on (port 0: any free port, printed at start)")(
              "token-file", po::value<std::string>(),
              "require 'Authorization: Bearer TOKEN' (the file's first line); needed to listen "
              "beyond loopback")("threads", po::value<int>()->default_value(4),
                                 "network threads (reading requests, cached pages, lookups)")(
              "workers", po::value<int>()->default_value(4),
              "threads verifying adapter and object pages, exports, lineages and audits")(
              "queue", po::value<int>()->default_value(1024),
              "requests waiting for one of --workers; past that 503 with Retry-After")(
              "light-workers", po::value<int>()->default_value(2),
              "threads building the other pages (lists, keys, channels, the log)")(
              "light-queue", po::value<int>()->default_value(256),
              "requests waiting for one of --light-workers; past that 503 with Retry-After")(
              "audit-interval", po::value<int>()->default_value(60),
              "seconds between two audits run from the page or API")(
              "verify-max-age", po::value<int>()->default_value(600),
              "seconds a page's verification is reused at most (0: verify every request)")(
              "reverify-interval", po::value<int>()->default_value(10),
              "seconds between two forced re-verifications (?verify=1) of one page")(
              "page-cache-mb", po::value<int>()->default_value(256),
              "memory for verified pages, MiB (0: no cache)")(
              "warm-up", po::value<int>()->default_value(0),
              "at start, verify and keep the pages of the N adapters the newest log events name");
          AddRegistryOption(options);
        },
    .run = RunServe,
});

GroupRegistrar kServeGroup("serve", "Serve the registry read-only over HTTP (pages and JSON API)");

}  // namespace
}  // namespace graft::cli
