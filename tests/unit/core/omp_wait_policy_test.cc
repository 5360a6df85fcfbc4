#include "core/omp_wait_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace graft::testing {
namespace {

// Restores OMP_WAIT_POLICY and GOMP_SPINCOUNT as they were when it goes out of scope.
class SavedOmpEnvironment {
 public:
  SavedOmpEnvironment() {
    for (int i = 0; i < 2; ++i) {
      if (const char* value = std::getenv(kNames[i])) saved_[i] = value;
    }
  }
  ~SavedOmpEnvironment() {
    for (int i = 0; i < 2; ++i) {
      if (saved_[i]) {
        ::setenv(kNames[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kNames[i]);
      }
    }
  }

 private:
  static constexpr const char* kNames[2] = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"};
  std::optional<std::string> saved_[2];
};

TEST(OmpWaitPolicy, SetsGraftsSpinCountUnlessTheUserChose) {
  SavedOmpEnvironment saved;
  ::unsetenv("OMP_WAIT_POLICY");
  ::unsetenv("GOMP_SPINCOUNT");
  EXPECT_TRUE(SetOmpWaitPolicy());
  ASSERT_NE(std::getenv("GOMP_SPINCOUNT"), nullptr);
  EXPECT_EQ(std::string(std::getenv("GOMP_SPINCOUNT")), kGraftGompSpinCount);
  EXPECT_FALSE(SetOmpWaitPolicy());  // set now: a restarted process does not restart again

  ::setenv("GOMP_SPINCOUNT", "300000", 1);
  EXPECT_FALSE(SetOmpWaitPolicy());
  EXPECT_EQ(std::string(std::getenv("GOMP_SPINCOUNT")), "300000");

  ::unsetenv("GOMP_SPINCOUNT");
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  EXPECT_FALSE(SetOmpWaitPolicy());
  EXPECT_EQ(std::getenv("GOMP_SPINCOUNT"), nullptr);
}

}  // namespace
}  // namespace graft::testing
