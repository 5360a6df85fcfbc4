#include "trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace graft::trainer {

LrSchedule::LrSchedule(double base_lr, ScheduleSettings settings, int64_t total_steps)
    : base_lr_(base_lr), settings_(settings), total_steps_(total_steps) {}

double LrSchedule::At(int64_t step) const {
  const int64_t warmup = settings_.warmup_steps;
  if (step < warmup) return base_lr_ * static_cast<double>(step) / static_cast<double>(warmup);
  if (settings_.kind == ScheduleKind::kConstant) return base_lr_;
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup));
  if (settings_.kind == ScheduleKind::kLinear) return base_lr_ * std::max(0.0, 1.0 - progress);
  return base_lr_ * std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

}  // namespace graft::trainer
