// Xoshiro256StarStar: graft's one seeded, platform-independent PRNG (bootstrap, data order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace graft {

// xoshiro256** 1.0 (Blackman and Vigna), seeded through SplitMix64. Every operation is defined on
// 64-bit unsigned integers, so a seed gives the same stream on every platform and compiler. The
// standard library's distributions are deliberately not used: their algorithms are unspecified.
class Xoshiro256StarStar {
 public:
  explicit Xoshiro256StarStar(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }
  // One of many independent streams of a seed (the trainer's data order: one stream an epoch):
  // seeded by SplitMix64(seed)'s first output XOR `stream`.
  static Xoshiro256StarStar ForStream(uint64_t seed, uint64_t stream) {
    return Xoshiro256StarStar(SplitMix64(seed) ^ stream);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform integer in [0, bound), bound > 0: Lemire's multiply-and-reject method (unbiased).
  uint64_t UniformBelow(uint64_t bound) {
    unsigned __int128 product = static_cast<unsigned __int128>(Next()) * bound;
    auto low = static_cast<uint64_t>(product);
    if (low < bound) {
      const uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = static_cast<unsigned __int128>(Next()) * bound;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // 32 random bits: the upper then the lower half of each 64-bit output.
  uint32_t Next32() {
    if (has_low_half_) {
      has_low_half_ = false;
      return low_half_;
    }
    const uint64_t x = Next();
    low_half_ = static_cast<uint32_t>(x);
    has_low_half_ = true;
    return static_cast<uint32_t>(x >> 32);
  }

  // Uniform integer in [0, bound), 0 < bound < 2^32, from Next32(): Lemire's method on 32 bits,
  // about twice as fast as UniformBelow for the bootstrap's index draws.
  uint32_t UniformBelow32(uint32_t bound) {
    uint64_t product = static_cast<uint64_t>(Next32()) * bound;
    auto low = static_cast<uint32_t>(product);
    if (low < bound) {
      const uint32_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = static_cast<uint64_t>(Next32()) * bound;
        low = static_cast<uint32_t>(product);
      }
    }
    return static_cast<uint32_t>(product >> 32);
  }

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Fisher-Yates, drawing with UniformBelow.
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[UniformBelow(i)]);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
  uint32_t low_half_ = 0;
  bool has_low_half_ = false;
};

}  // namespace graft
