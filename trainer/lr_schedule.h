// Learning-rate schedules: linear warmup, then cosine, linear or constant (as transformers does).
#pragma once

#include <cstdint>

#include "trainer/train_config.h"

namespace graft::trainer {

class LrSchedule {
 public:
  LrSchedule(double base_lr, ScheduleSettings settings, int64_t total_steps);

  // The learning rate of optimizer step `step` (0-based): base_lr * step / warmup during warmup,
  // then base_lr * 0.5 * (1 + cos(pi * progress)) for cosine, base_lr * (1 - progress) for linear,
  // base_lr for constant, where progress = (step - warmup) / (total - warmup).
  double At(int64_t step) const;

 private:
  double base_lr_;
  ScheduleSettings settings_;
  int64_t total_steps_;
};

}  // namespace graft::trainer
