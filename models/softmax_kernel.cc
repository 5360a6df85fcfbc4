#include "models/softmax_kernel.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/float_vectors.h"

namespace graft::models {
namespace {

using namespace float_vectors;

constexpr float kUnderflow = -87.0f;  // Exp's lower clamp: below it the weight is 0

// exp(x - max), or 0 where it would underflow.
[[gnu::always_inline]] inline Floats ShiftedExp(Floats x, float max) {
  const Floats shifted = x - max;
  const Floats e = Exp(shifted);
  return shifted < kUnderflow ? Floats{} : e;
}

// The largest of `width` floats.
[[gnu::always_inline]] inline float RowMax(const float* row, int64_t width) {
  const int64_t whole = width - width % kLanes;
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  Floats most = Floats{} + kLowest;
  for (int64_t j = 0; j < whole; j += kLanes) {
    const Floats x = Load(row + j);
    most = x > most ? x : most;
  }
  float max = Max(most);
  if (whole < width) max = std::max(max, Max(LoadPartial(row + whole, width - whole, kLowest)));
  return max;
}

[[gnu::always_inline]] inline void SoftmaxRow(float* row, int64_t visible, int64_t width) {
  const int64_t whole = visible - visible % kLanes;
  const int64_t rest = visible - whole;
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  const float max = RowMax(row, visible);
  Floats sums{};
  for (int64_t j = 0; j < whole; j += kLanes) {
    const Floats e = ShiftedExp(Load(row + j), max);
    sums += e;
    Store(row + j, e);
  }
  Floats last{};
  if (rest) {
    // Padding lanes get 0 (their `lowest` need not underflow: a row may be all `lowest`).
    const Ints lane = {0, 1, 2, 3, 4, 5, 6, 7};
    last = ShiftedExp(LoadPartial(row + whole, rest, kLowest), max);
    last = lane < static_cast<int32_t>(rest) ? last : Floats{};
    sums += last;
  }
  const Floats inverse = Floats{} + 1.0f / Sum(sums);
  for (int64_t j = 0; j < whole; j += kLanes) Store(row + j, Load(row + j) * inverse);
  if (rest) StorePartial(row + whole, rest, last * inverse);
  std::fill(row + visible, row + width, 0.0f);
}

// Terms of a vocabulary-wide row summed in float vectors before the total goes into a double.
constexpr int64_t kSumBlock = 512;

// sum(exp(row - max)) over `width` floats; with `store`, each exp(x - max) goes to out[j].
template <bool store>
[[gnu::always_inline]] inline double ShiftedExpSum(const float* row, int64_t width, float max,
                                                   float* out) {
  const int64_t whole = width - width % kLanes;
  double total = 0;
  for (int64_t block = 0; block < whole; block += kSumBlock) {
    const int64_t end = std::min(whole, block + kSumBlock);
    Floats sums{};
    for (int64_t j = block; j < end; j += kLanes) {
      const Floats e = ShiftedExp(Load(row + j), max);
      sums += e;
      if constexpr (store) Store(out + j, e);
    }
    total += Sum(sums);
  }
  for (int64_t j = whole; j < width; ++j) {
    const float e = ShiftedExp(Floats{} + row[j], max)[0];
    total += e;
    if constexpr (store) out[j] = e;
  }
  return total;
}

}  // namespace

[[gnu::target_clones("avx2", "default")]] float LogSumExpRow(const float* row, int64_t width) {
  const float max = RowMax(row, width);
  return max + static_cast<float>(std::log(ShiftedExpSum<false>(row, width, max, nullptr)));
}

[[gnu::target_clones("avx2", "default")]] float CrossEntropyGradientRow(float* row, int64_t width,
                                                                        int64_t target) {
  const float max = RowMax(row, width);
  const double sum = ShiftedExpSum<true>(row, width, max, row);
  const Floats inverse = Floats{} + static_cast<float>(1.0 / sum);
  const int64_t whole = width - width % kLanes;
  for (int64_t j = 0; j < whole; j += kLanes) Store(row + j, Load(row + j) * inverse);
  for (int64_t j = whole; j < width; ++j) row[j] *= inverse[0];
  if (target >= 0) row[target] -= 1.0f;
  return max + static_cast<float>(std::log(sum));
}

[[gnu::target_clones("avx2", "default")]] void CausalSoftmaxRows(float* data, int64_t rows,
                                                                 int64_t width, int64_t stride,
                                                                 int64_t first_visible) {
  for (int64_t r = 0; r < rows; ++r) {
    SoftmaxRow(data + r * stride, std::clamp<int64_t>(first_visible + r, 0, width), width);
  }
}

[[gnu::target_clones("avx2", "default")]] void SoftmaxBackwardRows(const float* probs, float* grad,
                                                                   int64_t rows, int64_t width,
                                                                   int64_t stride) {
  const int64_t whole = width - width % kLanes;
  const int64_t rest = width - whole;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = probs + r * stride;
    float* g = grad + r * stride;
    Floats dots{};
    for (int64_t j = 0; j < whole; j += kLanes) dots += Load(p + j) * Load(g + j);
    if (rest) dots += LoadPartial(p + whole, rest, 0.0f) * LoadPartial(g + whole, rest, 0.0f);
    const float dot = Sum(dots);
    for (int64_t j = 0; j < whole; j += kLanes) {
      const Floats pj = Load(p + j);
      Store(g + j, pj * (Load(g + j) - dot));
    }
    if (rest) {
      const Floats pj = LoadPartial(p + whole, rest, 0.0f);
      StorePartial(g + whole, rest, pj * (LoadPartial(g + whole, rest, 0.0f) - dot));
    }
  }
}

}  // namespace graft::models
