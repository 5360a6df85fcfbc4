#include "models/softmax_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace graft::testing {
namespace {

// Rows of `width` values in [-8, 8), `stride` apart, seeded.
std::vector<float> RandomRows(int64_t rows, int64_t width, int64_t stride, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  std::vector<float> data(static_cast<size_t>(rows * stride), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < width; ++j) data[r * stride + j] = dist(gen);
  }
  return data;
}

TEST(SoftmaxKernel, CausalRowsMatchDoublePrecisionAndZeroTheHiddenEntries) {
  // Widths 1 to 37 cover whole vectors, tails and rows shorter than one vector.
  const int64_t rows = 37, width = 37, stride = 40;
  std::vector<float> data = RandomRows(rows, width, stride, 7);
  const std::vector<float> input = data;
  CausalSoftmaxRows(data.data(), rows, width, stride, /*first_visible=*/1);
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = &input[r * stride];
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j <= r; ++j) max = std::max<double>(max, x[j]);
    for (int64_t j = 0; j <= r; ++j) sum += std::exp(x[j] - max);
    for (int64_t j = 0; j < width; ++j) {
      const double expected = j <= r ? std::exp(x[j] - max) / sum : 0.0;
      const float got = data[r * stride + j];
      if (j > r) {
        EXPECT_EQ(got, 0.0f) << r << "," << j;
      } else {
        EXPECT_NEAR(got, expected, 1e-6 * std::max(1.0, expected)) << r << "," << j;
      }
    }
    for (int64_t j = width; j < stride; ++j) EXPECT_EQ(data[r * stride + j], 0.0f);  // untouched
  }
}

TEST(SoftmaxKernel, MaskedScoresGetZeroAndAFullyMaskedRowStaysUniform) {
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  std::vector<float> data = {kLowest, 2.0f,    kLowest, 2.0f,  // two equal visible scores
                             kLowest, kLowest, kLowest, kLowest};
  CausalSoftmaxRows(data.data(), 2, 4, 4, /*first_visible=*/4);
  EXPECT_EQ(data[0], 0.0f);
  EXPECT_FLOAT_EQ(data[1], 0.5f);
  EXPECT_EQ(data[2], 0.0f);
  EXPECT_FLOAT_EQ(data[3], 0.5f);
  for (int j = 4; j < 8; ++j) EXPECT_FLOAT_EQ(data[j], 0.25f);
}

TEST(SoftmaxKernel, BackwardIsTheSoftmaxJacobianTimesTheGradient) {
  const int64_t rows = 5, width = 21, stride = 24;
  std::vector<float> probs = RandomRows(rows, width, stride, 8);
  CausalSoftmaxRows(probs.data(), rows, width, stride, width);
  std::vector<float> grad = RandomRows(rows, width, stride, 9);
  const std::vector<float> upstream = grad;
  SoftmaxBackwardRows(probs.data(), grad.data(), rows, width, stride);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = &probs[r * stride];
    const float* g = &upstream[r * stride];
    for (int64_t i = 0; i < width; ++i) {
      // d loss / d score_i = sum_j g_j dp_j/ds_i = sum_j g_j p_j (delta_ij - p_i).
      double expected = 0;
      for (int64_t j = 0; j < width; ++j) {
        expected += g[j] * static_cast<double>(p[j]) * ((i == j ? 1.0 : 0.0) - p[i]);
      }
      EXPECT_NEAR(grad[r * stride + i], expected, 1e-6) << r << "," << i;
    }
  }
}

}  // namespace
}  // namespace graft::testing
