// HttpServer: a small HTTP/1.1 server on Boost.Beast (async, a few threads) that hands each GET to
// a handler, slow ones to two bounded worker pools (heavy and light work apart), sends bodies
// whole or streamed a piece at a time, and adds the limits, security headers, bearer
// authentication and request log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace graft::serve {

struct HttpRequest {
  std::string method;                        // GET, HEAD, ...
  std::string path;                          // percent-decoded path, without the query
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  std::string accept;                        // the Accept header
};

// Sends one piece of a streamed body; returns once it was written to the connection (an error
// when the connection failed, timed out or the server is stopping).
using BodyWriter = std::function<Status(std::string_view piece)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string log_note;  // appended to the request's log line ("cached", "built")
  // A body streamed instead of `body` (slow answers only): `stream_length` bytes, the
  // Content-Length, which `stream` writes a piece at a time on the worker that answered, each
  // through the BodyWriter, so only the piece in flight is held. When `stream` fails or writes
  // another number of bytes, the connection is closed there: the client gets fewer bytes than
  // Content-Length says, and the request log the reason. HEAD sends the headers alone.
  std::function<Status(const BodyWriter& write)> stream;
  uint64_t stream_length = 0;
};

// A request is answered in two stages: `fast` runs on a network thread and answers what takes no
// work to speak of (nullopt: it does); `slow` then runs on a bounded worker pool: the light one
// when `light` says the work is cheap (it never waits behind heavy work), else the heavy one. A
// request finding its pool's queue full is answered 503 with Retry-After at once.
struct HttpHandler {
  std::function<std::optional<HttpResponse>(const HttpRequest&)> fast;
  std::function<HttpResponse(const HttpRequest&)> slow;
  std::function<bool(const HttpRequest&)> light;  // empty: every slow answer is heavy
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;        // 0: any free port (see HttpServer::port())
  unsigned threads = 4;        // network threads (reading, fast answers, writing)
  unsigned workers = 4;        // threads for heavy slow answers
  size_t queue = 1024;         // heavy requests waiting for a worker; past that 503
  unsigned light_workers = 2;  // threads for light slow answers
  size_t light_queue = 256;    // light requests waiting for a worker; past that 503
  std::string token;           // non-empty: every request needs "Authorization: Bearer <token>"
  size_t max_request_bytes = 16 * 1024;      // request line and headers; GET has no body
  std::chrono::seconds request_timeout{30};  // reading a request, writing a response
  size_t max_connections = 1024;
};

class HttpServer {
 public:
  // Binds and listens (errors: a bad address, a port in use). `log` gets one line per request.
  static Result<std::unique_ptr<HttpServer>> Listen(const HttpServerOptions& options,
                                                    HttpHandler handler, std::ostream& log);
  ~HttpServer();

  // The port actually bound (the chosen one when options.port was 0).
  uint16_t port() const;
  // Serves on options.threads network threads and options.workers workers until Stop() (or
  // SIGINT/SIGTERM when `signals`).
  void Run(bool signals);
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-decodes `text` ('+' is a space in a query); false on a malformed escape or a NUL.
bool PercentDecode(std::string_view text, bool query, std::string& out);
// "/a/b?x=1&y=2" into path and query; false when malformed.
bool ParseTarget(std::string_view target, HttpRequest& request);

}  // namespace graft::serve
