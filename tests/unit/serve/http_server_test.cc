// HttpServer's worker pools: slow answers run on the workers while fast ones are still answered
// on the network threads, light slow answers run while every heavy worker is busy and its queue
// full, and a request finding its queue full is answered 503 with Retry-After at once.
#include "serve/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <sstream>
#include <thread>

#include "tests/support/serve_process.h"

namespace graft::serve {
namespace {
using graft::testing::HttpExchange;
using graft::testing::HttpGet;
using graft::testing::HttpResult;

HttpResponse Text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

TEST(HttpServerTest, FullQueueAnswers503AtOnceAndFastAndLightAnswersGoOn) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  int started = 0;
  HttpHandler handler{[](const HttpRequest& request) -> std::optional<HttpResponse> {
                        if (request.path == "/fast") return Text("fast");
                        return std::nullopt;
                      },
                      [&](const HttpRequest& request) {
                        if (request.path == "/light") return Text("light");
                        std::unique_lock<std::mutex> lock(mutex);
                        ++started;
                        changed.notify_all();
                        changed.wait(lock, [&] { return release; });
                        return Text("slow " + request.path);
                      },
                      [](const HttpRequest& request) { return request.path == "/light"; }};
  HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.workers = 1;
  options.queue = 1;
  std::ostringstream log;
  std::unique_ptr<HttpServer> server = HttpServer::Listen(options, handler, log).value();
  std::thread runner([&] { server->Run(false); });
  const int port = server->port();

  HttpResult first, second, third;
  std::thread a([&] { first = HttpGet(port, "/a"); });
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return started == 1; }));
  }
  // The worker is busy: one of the next two waits in the queue, the other is turned away.
  std::atomic<int> answered{0};
  std::thread b([&] {
    second = HttpGet(port, "/b");
    ++answered;
  });
  std::thread c([&] {
    third = HttpGet(port, "/c");
    ++answered;
  });
  for (int i = 0; i < 400 && answered == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(answered, 1);  // the queued one still waits for the worker
  HttpResult busy = second.status == 503 ? second : third;
  EXPECT_EQ(busy.status, 503) << second.status << " " << third.status;
  EXPECT_EQ(busy.headers["retry-after"], "1");
  EXPECT_NE(busy.body.find("busy"), std::string::npos);
  HttpResult fast = HttpGet(port, "/fast");
  EXPECT_EQ(fast.status, 200);
  EXPECT_EQ(fast.body, "fast");
  // Light work has its own workers: answered while the heavy worker is held.
  HttpResult light = HttpGet(port, "/light");
  EXPECT_EQ(light.status, 200);
  EXPECT_EQ(light.body, "light");
  EXPECT_EQ(answered, 1);
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "slow /a");
  HttpResult& queued = second.status == 503 ? third : second;
  EXPECT_EQ(queued.status, 200);
  EXPECT_EQ(queued.body.rfind("slow /", 0), 0u);
  server->Stop();
  runner.join();
  EXPECT_NE(log.str().find("\" 503 "), std::string::npos) << log.str();
}

TEST(HttpServerTest, AThrowingHandlerIsA500) {
  HttpHandler handler{
      [](const HttpRequest&) -> std::optional<HttpResponse> { throw std::runtime_error("boom"); },
      [](const HttpRequest&) -> HttpResponse { return Text("unused"); },
      {}};
  HttpServerOptions options;
  options.port = 0;
  std::ostringstream log;
  std::unique_ptr<HttpServer> server = HttpServer::Listen(options, handler, log).value();
  std::thread runner([&] { server->Run(false); });
  HttpResult r = HttpGet(server->port(), "/x");
  EXPECT_EQ(r.status, 500);
  server->Stop();
  runner.join();
  EXPECT_NE(log.str().find("internal error: boom"), std::string::npos);
}

// A streamed body: its pieces arrive in order under the announced Content-Length; HEAD gets the
// length without the body; a stream that fails part way closes the connection, so the client
// gets fewer bytes than announced, and the log says why.
TEST(HttpServerTest, StreamedBodyArrivesWholeOrVisiblyCutShort) {
  constexpr size_t kPiece = 300 * 1024;
  HttpHandler handler{
      [](const HttpRequest&) -> std::optional<HttpResponse> { return std::nullopt; },
      [](const HttpRequest& request) {
        HttpResponse response;
        response.content_type = "application/octet-stream";
        response.stream_length = 4 * kPiece;
        const bool fail = request.path == "/fail";
        response.stream = [fail](const BodyWriter& write) -> Status {
          for (char c : std::string("abcd")) {
            if (fail && c == 'c') return VerificationFailed("piece c is wrong");
            GRAFT_RETURN_IF_ERROR(write(std::string(kPiece, c)));
          }
          return Status::Ok();
        };
        return response;
      },
      {}};
  HttpServerOptions options;
  options.port = 0;
  std::ostringstream log;
  std::unique_ptr<HttpServer> server = HttpServer::Listen(options, handler, log).value();
  std::thread runner([&] { server->Run(false); });

  HttpResult whole = HttpGet(server->port(), "/whole");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.headers["content-length"], std::to_string(4 * kPiece));
  EXPECT_EQ(whole.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(whole.body, std::string(kPiece, 'a') + std::string(kPiece, 'b') +
                            std::string(kPiece, 'c') + std::string(kPiece, 'd'));
  HttpResult head =
      HttpExchange(server->port(), "HEAD /whole HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(4 * kPiece));
  EXPECT_EQ(head.body, "");
  // Kept alive by default, the connection is closed after the failure all the same.
  HttpResult cut = HttpExchange(server->port(), "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.headers["content-length"], std::to_string(4 * kPiece));
  EXPECT_EQ(cut.body, std::string(kPiece, 'a') + std::string(kPiece, 'b'));
  server->Stop();
  runner.join();
  EXPECT_NE(log.str().find("\"GET /fail\" 200 " + std::to_string(2 * kPiece)), std::string::npos)
      << log.str();
  EXPECT_NE(log.str().find("aborted after " + std::to_string(2 * kPiece) + " of " +
                           std::to_string(4 * kPiece) + " bytes: piece c is wrong"),
            std::string::npos)
      << log.str();
}

}  // namespace
}  // namespace graft::serve
