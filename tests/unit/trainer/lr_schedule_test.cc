#include "trainer/lr_schedule.h"

#include <gtest/gtest.h>

namespace graft::trainer {
namespace {

TEST(LrSchedule, WarmupThenCosine) {
  LrSchedule schedule(1.0, {.warmup_steps = 4, .kind = ScheduleKind::kCosine}, 14);
  EXPECT_DOUBLE_EQ(schedule.At(0), 0.0);
  EXPECT_DOUBLE_EQ(schedule.At(1), 0.25);
  EXPECT_DOUBLE_EQ(schedule.At(3), 0.75);
  EXPECT_DOUBLE_EQ(schedule.At(4), 1.0);
  EXPECT_NEAR(schedule.At(9), 0.5, 1e-12);  // halfway through the decay
  EXPECT_NEAR(schedule.At(14), 0.0, 1e-12);
}

TEST(LrSchedule, LinearAndConstant) {
  LrSchedule linear(2.0, {.warmup_steps = 0, .kind = ScheduleKind::kLinear}, 10);
  EXPECT_DOUBLE_EQ(linear.At(0), 2.0);
  EXPECT_DOUBLE_EQ(linear.At(5), 1.0);
  EXPECT_DOUBLE_EQ(linear.At(10), 0.0);
  EXPECT_DOUBLE_EQ(linear.At(12), 0.0);  // never negative
  LrSchedule constant(3e-4, {.warmup_steps = 2, .kind = ScheduleKind::kConstant}, 10);
  EXPECT_DOUBLE_EQ(constant.At(1), 1.5e-4);
  EXPECT_DOUBLE_EQ(constant.At(2), 3e-4);
  EXPECT_DOUBLE_EQ(constant.At(9), 3e-4);
}

TEST(LrSchedule, WarmupLongerThanTheRun) {
  LrSchedule schedule(1.0, {.warmup_steps = 10, .kind = ScheduleKind::kCosine}, 5);
  EXPECT_DOUBLE_EQ(schedule.At(4), 0.4);
}

}  // namespace
}  // namespace graft::trainer
