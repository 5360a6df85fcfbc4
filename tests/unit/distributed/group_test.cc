// DistEnv's parsing of torchrun's variables, and a Group of 2 ranks (two threads of this
// process, over 127.0.0.1): all-reduce, all-gather, the start-up check, and a rank that leaves.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "distributed/dist_env.h"
#include "distributed/group.h"

namespace graft::distributed {
namespace {

class EnvGuard {
 public:
  explicit EnvGuard(std::map<std::string, std::string> values) {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GRAFT_DIST_TIMEOUT"}) {
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~EnvGuard() {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GRAFT_DIST_TIMEOUT"}) {
      ::unsetenv(name);
    }
  }
};

TEST(DistEnv, ReadsTorchrunVariables) {
  {
    EnvGuard env({});
    auto parsed = DistEnv::FromEnvironment();
    ASSERT_TRUE(parsed.ok());
    EXPECT_FALSE(parsed->has_value());  // one process
  }
  EnvGuard env({{"RANK", "1"},
                {"WORLD_SIZE", "4"},
                {"LOCAL_RANK", "1"},
                {"MASTER_ADDR", "10.0.0.1"},
                {"MASTER_PORT", "29500"},
                {"GRAFT_DIST_TIMEOUT", "7"}});
  auto parsed = DistEnv::FromEnvironment();
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->rank, 1);
  EXPECT_EQ((*parsed)->world_size, 4);
  EXPECT_EQ((*parsed)->master_addr, "10.0.0.1");
  EXPECT_EQ((*parsed)->master_port, 29500);
  EXPECT_EQ((*parsed)->timeout, std::chrono::seconds(7));
}

TEST(DistEnv, RejectsBadVariablesNamingThem) {
  struct Case {
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"WORLD_SIZE", "two"}}, "WORLD_SIZE=\"two\""},
      {{{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}, "RANK is unset"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "2"}}, "RANK=\"2\""},
      {{{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "1"}}, "MASTER_ADDR"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}},
       "MASTER_PORT=\"70000\""},
  };
  for (const Case& c : cases) {
    EnvGuard env(c.env);
    auto parsed = DistEnv::FromEnvironment();
    ASSERT_FALSE(parsed.ok()) << c.expected;
    EXPECT_EQ(parsed.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << parsed.status().message();
  }
}

DistEnv Rank(int rank, int port, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  DistEnv env;
  env.rank = rank;
  env.world_size = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  env.timeout = timeout;
  return env;
}

int Port(int offset) { return 30000 + static_cast<int>(::getpid() % 20000) + offset; }

// Runs `body(group)` on ranks 0 and 1 in two threads; returns what each returned.
template <typename T>
std::pair<T, T> OnTwoRanks(int port, const std::function<T(Group&)>& body) {
  auto run = [&](int rank) {
    auto group = Group::Connect(Rank(rank, port));
    EXPECT_TRUE(group.ok()) << group.status().ToString();
    return body(**group);
  };
  auto one = std::async(std::launch::async, run, 1);
  T zero = run(0);
  return {std::move(zero), one.get()};
}

TEST(Group, SumsGathersAndChecksInputs) {
  auto [zero, one] = OnTwoRanks<std::string>(Port(0), [](Group& g) -> std::string {
    torch::Tensor values = torch::full({3}, static_cast<float>(g.rank() + 1));
    EXPECT_TRUE(g.AllReduceSum(values).ok());
    EXPECT_TRUE(torch::equal(values, torch::full({3}, 3.0f)));
    EXPECT_EQ(g.allreduce_bytes(), 12);
    torch::Tensor doubles = torch::tensor({0.1 * (g.rank() + 1)}, torch::kFloat64);
    EXPECT_TRUE(g.AllReduceSum(doubles).ok());
    EXPECT_DOUBLE_EQ(doubles.item<double>(), 0.1 + 0.2);
    auto gathered = g.AllGather(std::string("from ") + std::to_string(g.rank()));
    EXPECT_TRUE(gathered.ok());
    EXPECT_EQ(*gathered, (std::vector<std::string>{"from 0", "from 1"}));
    auto same = g.CheckInputs(Status::Ok(), {{"base", "aa"}, {"data", "bb"}});
    EXPECT_TRUE(same.ok()) << same.status().ToString();
    EXPECT_EQ(same->size(), 2u);
    EXPECT_EQ((*same)[1].digests.at("data"), "bb");
    auto differ =
        g.CheckInputs(Status::Ok(), {{"base", "aa"}, {"data", g.rank() == 0 ? "bb" : "cc"}});
    EXPECT_FALSE(differ.ok());
    return differ.status().message();
  });
  EXPECT_EQ(zero, one);  // every rank stops with the same message
  EXPECT_NE(zero.find("rank 1 ("), std::string::npos) << zero;
  EXPECT_NE(zero.find("differs from rank 0"), std::string::npos) << zero;
  EXPECT_NE(zero.find("in data: cc there, bb on rank 0"), std::string::npos) << zero;
}

TEST(Group, ARankThatCannotStartStopsTheOthers) {
  auto [zero, one] = OnTwoRanks<std::string>(Port(1), [](Group& g) -> std::string {
    Status local = g.rank() == 1 ? NotFound("train.jsonl: no such file") : Status::Ok();
    return g.CheckInputs(local, {}).status().message();
  });
  EXPECT_NE(zero.find("rank 1 ("), std::string::npos) << zero;
  EXPECT_NE(zero.find("could not start: train.jsonl: no such file"), std::string::npos) << zero;
  EXPECT_EQ(one, "train.jsonl: no such file");
}

TEST(Group, ARankThatLeavesFailsTheOthersWithinTheTimeout) {
  const int port = Port(2);
  std::promise<void> joined;  // rank 0's Connect returned: the group is formed on both sides
  std::promise<void> left;
  auto quitter = std::async(std::launch::async, [&] {
    auto group = Group::Connect(Rank(1, port));
    joined.get_future().wait();
    ASSERT_TRUE(group.ok());
    group->reset();  // exits the group without taking part in the next all-reduce
    left.set_value();
  });
  auto group = Group::Connect(Rank(0, port));
  joined.set_value();
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  left.get_future().wait();
  torch::Tensor values = torch::ones({4});
  const auto started = std::chrono::steady_clock::now();
  Status status = (*group)->AllReduceSum(values);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  quitter.wait();
  ASSERT_FALSE(status.ok());
  EXPECT_LT(seconds, 15.0);
  EXPECT_NE(status.message().find("rank 0 of 2: all-reduce failed: another rank exited"),
            std::string::npos)
      << status.message();
}

TEST(Group, ARankThatHangsFailsTheOthersAfterTheTimeout) {
  const int port = Port(3);
  const auto timeout = std::chrono::seconds(2);
  std::promise<void> done;
  auto hanging = std::async(std::launch::async, [&] {
    auto group = Group::Connect(Rank(1, port, timeout));
    ASSERT_TRUE(group.ok());
    done.get_future().wait();  // alive, but never joins the all-reduce
  });
  auto group = Group::Connect(Rank(0, port, timeout));
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  torch::Tensor values = torch::ones({4});
  const auto started = std::chrono::steady_clock::now();
  Status status = (*group)->AllReduceSum(values);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  done.set_value();
  hanging.wait();
  ASSERT_FALSE(status.ok());
  EXPECT_GE(seconds, 1.5);
  EXPECT_LT(seconds, 10.0);
  EXPECT_NE(status.message().find("did not answer within 2 s"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace graft::distributed
