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
  models::CausalSoftmaxRows(data.data(), rows, width, stride, /*first_visible=*/1);
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
  models::CausalSoftmaxRows(data.data(), 2, 4, 4, /*first_visible=*/4);
  EXPECT_EQ(data[0], 0.0f);
  EXPECT_FLOAT_EQ(data[1], 0.5f);
  EXPECT_EQ(data[2], 0.0f);
  EXPECT_FLOAT_EQ(data[3], 0.5f);
  for (int j = 4; j < 8; ++j) EXPECT_FLOAT_EQ(data[j], 0.25f);
}

TEST(SoftmaxKernel, BackwardIsTheSoftmaxJacobianTimesTheGradient) {
  const int64_t rows = 5, width = 21, stride = 24;
  std::vector<float> probs = RandomRows(rows, width, stride, 8);
  models::CausalSoftmaxRows(probs.data(), rows, width, stride, width);
  std::vector<float> grad = RandomRows(rows, width, stride, 9);
  const std::vector<float> upstream = grad;
  models::SoftmaxBackwardRows(probs.data(), grad.data(), rows, width, stride);
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

// Log-sum-exp and cross-entropy gradient of one row against double precision, at widths with
// and without a vector tail and at a vocabulary's width, where a float sum would drift.
TEST(SoftmaxKernel, CrossEntropyRowsMatchDoublePrecision) {
  for (int64_t width : {1, 7, 8, 37, 50257}) {
    SCOPED_TRACE(width);
    const std::vector<float> input = RandomRows(1, width, width, static_cast<uint32_t>(width));
    double max = -INFINITY, sum = 0;
    for (float x : input) max = std::max<double>(max, x);
    for (float x : input) sum += std::exp(x - max);
    const double lse = max + std::log(sum);
    EXPECT_NEAR(models::LogSumExpRow(input.data(), width), lse, 2e-6 * std::abs(lse));
    for (int64_t target : {int64_t{-1}, int64_t{0}, width - 1}) {
      SCOPED_TRACE(target);
      std::vector<float> row = input;
      EXPECT_NEAR(models::CrossEntropyGradientRow(row.data(), width, target), lse,
                  2e-6 * std::abs(lse));
      double total = 0;
      for (int64_t j = 0; j < width; ++j) {
        const double expected = std::exp(input[j] - lse) - (j == target ? 1.0 : 0.0);
        EXPECT_NEAR(row[j], expected, 1e-6) << j;
        total += row[j];
      }
      // softmax sums to 1, so the gradient sums to 1 - 1 with a target and to 1 without.
      EXPECT_NEAR(total, target >= 0 ? 0.0 : 1.0, 1e-5);
    }
  }
}

TEST(SoftmaxKernel, CrossEntropyOfAnExtremeRowUnderflowsToExactZeros) {
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  std::vector<float> row = {kLowest, 100.0f, -100.0f, 100.0f, kLowest, 0.0f, 0.0f, 0.0f, kLowest};
  const float lse = models::CrossEntropyGradientRow(row.data(), 9, 1);
  EXPECT_FLOAT_EQ(lse, 100.0f + std::log(2.0f));
  EXPECT_FLOAT_EQ(row[1], -0.5f);
  EXPECT_FLOAT_EQ(row[3], 0.5f);
  for (int j : {0, 2, 4, 5, 8}) EXPECT_EQ(row[j], 0.0f) << j;
}

}  // namespace
}  // namespace graft::testing
