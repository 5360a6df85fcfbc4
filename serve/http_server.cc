#include "serve/http_server.h"

#include <openssl/crypto.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <future>
#include <mutex>

namespace graft::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// A log field without quotes or control characters, and without spaces unless `spaces` (the
// target is client-chosen).
std::string LogField(std::string_view text, bool spaces = false) {
  std::string out;
  for (char c : text.substr(0, 300)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || (u == 0x20 && !spaces) || u == 0x7f || c == '"') ? '?' : c;
  }
  return out.empty() ? "-" : out;
}

HttpResponse JsonError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  response.body = "{\"error\":\"" + escaped + "\"}\n";
  return response;
}

}  // namespace

bool PercentDecode(std::string_view text, bool query, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && query) {
      c = ' ';
    }
    if (c == '\0') return false;
    out += c;
  }
  return true;
}

bool ParseTarget(std::string_view target, HttpRequest& request) {
  if (target.empty() || target.front() != '/') return false;
  const size_t question = target.find('?');
  if (!PercentDecode(target.substr(0, question), false, request.path)) return false;
  request.query.clear();
  if (question == std::string_view::npos) return true;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, key)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, value)) {
      return false;
    }
    request.query[key] = value;
  }
  return true;
}

namespace {

// Threads running queued jobs, at most `capacity` waiting.
class WorkerPool {
 public:
  WorkerPool(unsigned threads, size_t capacity) : threads_(threads), capacity_(capacity) {}

  void Start() {
    for (unsigned i = 0; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
  }
  // Queues `job` for a worker; false when the queue is full.
  bool Submit(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
    ready_.notify_one();
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      jobs_.clear();
    }
    ready_.notify_all();
  }
  void Join() {
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  unsigned threads_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  std::ostream* log;
  std::mutex log_mutex;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<size_t> connections{0};
  WorkerPool heavy;  // slow answers that verify, export or audit
  WorkerPool light;  // slow answers that only read a few rows

  Impl(HttpServerOptions o, HttpHandler h, std::ostream& l)
      : options(std::move(o)),
        handler(std::move(h)),
        log(&l),
        io(static_cast<int>(options.threads)),
        heavy(options.workers, options.queue),
        light(options.light_workers, options.light_queue) {}

  void Accept();
  // Queues `job` on the pool `request` belongs to; false when its queue is full.
  bool Submit(const HttpRequest& request, std::function<void()> job) {
    const bool cheap = handler.light && handler.light(request);
    return (cheap ? light : heavy).Submit(std::move(job));
  }
  void StopWorkers() {
    heavy.Stop();
    light.Stop();
  }
  void Log(const std::string& line) {
    const std::string text = line + '\n';  // one write per line
    std::lock_guard<std::mutex> lock(log_mutex);
    log->write(text.data(), static_cast<std::streamsize>(text.size())).flush();
  }
  bool Authorized(std::string_view header) const {
    if (options.token.empty()) return true;
    const std::string expected = "Bearer " + options.token;
    return header.size() == expected.size() &&
           CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
  }
};

namespace {

// One connection: reads requests one after another (keep-alive), answers each, closes on error,
// timeout or "Connection: close".
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code error;
    const tcp::endpoint remote = stream_.socket().remote_endpoint(error);
    remote_ = error ? "-" : remote.address().to_string();
  }
  ~Session() { --server_.connections; }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_request_bytes));
    parser_->body_limit(0);
    stream_.expires_after(server_.options.request_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) { self->OnRead(error); });
  }

  void OnRead(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::connection_reset || error == asio::error::operation_aborted) {
      return Close();
    }
    const auto start = Clock::now();
    if (error) {
      const int status = error == http::error::header_limit ? 431
                         : error == http::error::body_limit ? 413
                                                            : 400;
      return Send(JsonError(status, "bad request: " + error.message()), false, "-", "-", start,
                  false);
    }
    const auto& request = parser_->get();
    const std::string method(request.method_string());
    const std::string target(request.target());
    HttpResponse response;
    HttpRequest parsed;
    parsed.method = method;
    parsed.accept = std::string(request[http::field::accept]);
    const auto authorization = request[http::field::authorization];
    if (!server_.Authorized(std::string_view(authorization.data(), authorization.size()))) {
      response = JsonError(401, "missing or wrong bearer token");
      response.headers.push_back({"WWW-Authenticate", "Bearer realm=\"graft\""});
    } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response = JsonError(405, "read-only server: only GET and HEAD are allowed");
      response.headers.push_back({"Allow", "GET, HEAD"});
    } else if (!ParseTarget(target, parsed)) {
      response = JsonError(400, "malformed request target");
    } else {
      std::optional<HttpResponse> fast = Answer(server_.handler.fast, parsed);
      if (!fast) {
        const bool queued = server_.Submit(
            parsed, [self = shared_from_this(), parsed, keep_alive = request.keep_alive(), method,
                     target, start, head = request.method() == http::verb::head] {
              HttpResponse slow = *self->Answer(self->server_.handler.slow, parsed);
              if (slow.stream && !head) {
                return self->Stream(std::move(slow), keep_alive, method, target, start);
              }
              asio::post(self->stream_.get_executor(), [self, slow = std::move(slow), keep_alive,
                                                        method, target, start, head]() mutable {
                self->Send(std::move(slow), keep_alive, method, target, start, head);
              });
            });
        if (queued) return;
        fast = JsonError(503, "the server is busy; retry shortly");
        fast->headers.push_back({"Retry-After", "1"});
      }
      response = std::move(*fast);
    }
    Send(std::move(response), request.keep_alive(), method, target, start,
         request.method() == http::verb::head);
  }

  // The handler's answer; 500 (logged) when it throws.
  template <typename Handler>
  std::optional<HttpResponse> Answer(const Handler& handler, const HttpRequest& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      server_.Log(UtcNow() + " " + remote_ + " internal error: " + LogField(e.what()));
      return JsonError(500, "internal error");
    }
  }

  // The status line and headers every answer has, and the response's own.
  template <typename Body>
  static void SetHeaders(http::response<Body>& message, const HttpResponse& response) {
    message.version(11);
    message.result(static_cast<unsigned>(response.status));
    message.set(http::field::server, "graft");
    message.set(http::field::content_type, response.content_type);
    message.set(http::field::cache_control, "no-store");
    message.set("Content-Security-Policy", std::string(kSecurityPolicy));
    message.set("X-Content-Type-Options", "nosniff");
    message.set("X-Frame-Options", "DENY");
    message.set("Referrer-Policy", "no-referrer");
    message.set("Cross-Origin-Resource-Policy", "same-origin");
    for (const auto& [name, value] : response.headers) message.set(name, value);
  }

  void LogRequest(const std::string& method, const std::string& target, int status, uint64_t bytes,
                  Clock::time_point start, const std::string& note) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    char timing[32];
    std::snprintf(timing, sizeof timing, "%.1fms", ms);
    server_.Log(UtcNow() + " " + remote_ + " \"" + LogField(method) + " " + LogField(target) +
                "\" " + std::to_string(status) + " " + std::to_string(bytes) + " " + timing +
                (note.empty() ? "" : " " + note));
  }

  void Send(HttpResponse response, bool keep_alive, const std::string& method,
            const std::string& target, Clock::time_point start, bool head) {
    auto message = std::make_shared<http::response<http::string_body>>();
    SetHeaders(*message, response);
    const uint64_t bytes = response.stream ? response.stream_length : response.body.size();
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive);
    message->prepare_payload();
    if (head) message->body().clear();  // Content-Length stays that of the GET
    if (response.stream) message->content_length(response.stream_length);
    LogRequest(method, target, response.status, bytes, start, response.log_note);
    stream_.expires_after(server_.options.request_timeout);
    http::async_write(
        stream_, *message,
        [self = shared_from_this(), message, keep_alive](beast::error_code error, size_t) {
          if (error || !keep_alive) return self->Close();
          self->Read();
        });
  }

  // A streamed answer (HttpResponse::stream), on the worker that built it: the headers, then
  // each piece as `stream` writes it, the worker waiting for every write, so one piece at a time
  // is held. Closes the connection when the stream fails or its length is not the one announced.
  void Stream(HttpResponse response, bool keep_alive, const std::string& method,
              const std::string& target, Clock::time_point start) {
    struct Streamed {
      http::response<http::buffer_body> message;
      http::response_serializer<http::buffer_body> serializer{message};
      std::string piece;  // the bytes being written

      // `stream` writing through `write`; an exception is an internal error (logged).
      static Status Run(const std::function<Status(const BodyWriter&)>& stream,
                        const BodyWriter& write) {
        try {
          return stream(write);
        } catch (const std::exception& e) {
          return InternalError(std::string("internal error: ") + e.what());
        }
      }
    };
    auto state = std::make_shared<Streamed>();
    SetHeaders(state->message, response);
    state->message.keep_alive(keep_alive);
    state->message.content_length(response.stream_length);
    state->message.body().data = nullptr;
    state->message.body().more = true;
    // Writes what the serializer has to write now; a consumed body piece is no error.
    const auto write_body = [this, state](const auto& done) {
      http::async_write(stream_, state->serializer, [done](beast::error_code error, size_t) {
        done(error == http::error::need_buffer ? beast::error_code() : error);
      });
    };
    uint64_t sent = 0;
    Status status = Await([this, state](const auto& done) {
      http::async_write_header(stream_, state->serializer,
                               [done](beast::error_code error, size_t) { done(error); });
    });
    if (status.ok()) {
      status = Streamed::Run(response.stream, [&](std::string_view piece) -> Status {
        if (piece.empty()) return Status::Ok();
        sent += piece.size();
        if (sent > response.stream_length) {
          return InternalError("the body runs past its Content-Length");
        }
        state->piece.assign(piece);
        state->message.body().data = state->piece.data();
        state->message.body().size = state->piece.size();
        return Await(write_body);
      });
    }
    if (status.ok() && sent != response.stream_length) {
      status = InternalError("the body ended before its Content-Length");
    }
    if (status.ok()) {
      state->message.body().data = nullptr;
      state->message.body().more = false;
      status = Await(write_body);
    }
    LogRequest(method, target, response.status, sent, start,
               status.ok() ? response.log_note
                           : "aborted after " + std::to_string(sent) + " of " +
                                 std::to_string(response.stream_length) +
                                 " bytes: " + LogField(status.message(), true));
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), state, ok = status.ok(), keep_alive] {
                 if (!ok || !keep_alive) return self->Close();
                 self->Read();
               });
  }

  // Starts a write on the connection's strand (`start(done)` begins it; `done(error)` ends it)
  // and waits for it on this worker: an error when the write fails or times out, or when the
  // server stops first.
  template <typename Start>
  Status Await(const Start& start) {
    auto done = std::make_shared<std::promise<beast::error_code>>();
    std::future<beast::error_code> finished = done->get_future();
    asio::post(stream_.get_executor(), [self = shared_from_this(), start, done] {
      self->stream_.expires_after(self->server_.options.request_timeout);
      start([done](beast::error_code error) { done->set_value(error); });
    });
    while (finished.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout) {
      if (server_.io.stopped()) return IoError("the server is stopping");
    }
    const beast::error_code error = finished.get();
    return error ? IoError("writing the answer: " + error.message()) : Status::Ok();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::string remote_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted) return;
    if (!error) {
      if (++connections > options.max_connections) {
        --connections;
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), *this)->Start();
      }
    }
    Accept();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Listen(const HttpServerOptions& options,
                                                       HttpHandler handler, std::ostream& log) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), log);
  beast::error_code error;
  const auto address = asio::ip::make_address(options.host, error);
  if (error) return InvalidInput("--listen: \"" + options.host + "\" is not an IP address");
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.host + ":" + std::to_string(options.port);
  impl->acceptor.open(endpoint.protocol(), error);
  if (!error) impl->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl->acceptor.bind(endpoint, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return InvalidInput("cannot listen on " + where + ": " + error.message());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Run(bool signals) {
  asio::signal_set stop_signals(impl_->io);
  if (signals) {
    stop_signals.add(SIGINT);
    stop_signals.add(SIGTERM);
    stop_signals.async_wait([this](beast::error_code, int) { Stop(); });
  }
  impl_->Accept();
  impl_->heavy.Start();
  impl_->light.Start();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->options.threads; ++i) {
    threads.emplace_back([this] { impl_->io.run(); });
  }
  impl_->io.run();
  for (std::thread& thread : threads) thread.join();
  impl_->StopWorkers();
  impl_->heavy.Join();
  impl_->light.Join();
}

void HttpServer::Stop() {
  impl_->io.stop();
  impl_->StopWorkers();
}

}  // namespace graft::serve
