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

}  // namespace
}  // namespace graft::serve
