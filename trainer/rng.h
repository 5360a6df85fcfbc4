// A small, portable PRNG (xoshiro256**, seeded by SplitMix64) for deterministic data order.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace graft::trainer {

// Same seed and stream → same sequence on every platform and standard library (std::shuffle and
// the std distributions are not specified bit for bit, so graft does not use them).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream);

  uint64_t Next();
  // Uniform in [0, bound) without modulo bias (Lemire's method); bound > 0.
  uint64_t Below(uint64_t bound);

  // Fisher–Yates.
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[Below(i)]);
    }
  }

 private:
  uint64_t s_[4];
};

}  // namespace graft::trainer
