#include "models/gemv_kernels.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/parallel_linear.h"

namespace graft::testing {
namespace {

using models::GemvIsa;
using models::GemvWeights;

// Restores automatic choice when a test leaves (also on failure).
struct IsaGuard {
  ~IsaGuard() { models::UseGemvIsa(models::GemvIsa::kAuto); }
};

// The instruction sets this CPU runs, each through the test switch.
std::vector<models::GemvIsa> AvailableIsas() {
  std::vector<models::GemvIsa> out;
  for (models::GemvIsa isa :
       {models::GemvIsa::kPortable, models::GemvIsa::kAvx2, models::GemvIsa::kAvx512}) {
    if (models::UseGemvIsa(isa) == isa) out.push_back(isa);
  }
  models::UseGemvIsa(models::GemvIsa::kAuto);
  return out;
}

uint16_t ToBf16Bits(float f) { return static_cast<uint16_t>(std::bit_cast<uint32_t>(f) >> 16); }
float FromBf16Bits(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

TEST(GemvKernels, PortableIsAlwaysThereAndAutoPicksTheBest) {
  IsaGuard guard;
  EXPECT_EQ(models::UseGemvIsa(models::GemvIsa::kPortable), models::GemvIsa::kPortable);
  EXPECT_EQ(models::ActiveGemvIsa(), models::GemvIsa::kPortable);
  EXPECT_EQ(models::GemvIsaName(models::GemvIsa::kPortable), "portable");
  const models::GemvIsa best = models::UseGemvIsa(models::GemvIsa::kAuto);
  EXPECT_NE(best, models::GemvIsa::kAuto);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    EXPECT_EQ(best, models::GemvIsa::kAvx512);
  }
}

// Every instruction set, weight type, row count 1-4, odd sizes (k not a multiple of any vector
// width, n not a multiple of the output unroll), padded leading dimensions, a slice of the
// weight rows, with and without bias: against a double-precision sum of the same values.
TEST(GemvKernels, MatchDoublePrecisionAtOddSizesOnEveryInstructionSet) {
  IsaGuard guard;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const std::vector<models::GemvIsa> isas = AvailableIsas();
  ASSERT_FALSE(isas.empty());
  for (models::GemvIsa isa : isas) {
    ASSERT_EQ(models::UseGemvIsa(isa), isa);
    for (models::GemvWeights type : {models::GemvWeights::kF32, models::GemvWeights::kBF16}) {
      for (const auto& [k, n] : std::vector<std::pair<int64_t, int64_t>>{
               {1, 1}, {3, 5}, {17, 9}, {37, 13}, {131, 7}, {256, 11}, {1000, 6}}) {
        for (int64_t m = 1; m <= models::kGemvMaxRows; ++m) {
          for (const bool with_bias : {false, true}) {
            SCOPED_TRACE(std::string(models::GemvIsaName(isa)) +
                         (type == models::GemvWeights::kBF16 ? " bf16" : " f32") +
                         " k=" + std::to_string(k) + " n=" + std::to_string(n) +
                         " m=" + std::to_string(m) + (with_bias ? " bias" : ""));
            const int64_t ldw = k + 3;
            const int64_t ldx = k + 5;
            const int64_t ldy = n + 2;
            std::vector<float> w32(static_cast<size_t>(n * ldw));
            std::vector<uint16_t> w16(w32.size());
            for (size_t i = 0; i < w32.size(); ++i) {
              w16[i] = ToBf16Bits(normal(rng));
              w32[i] = type == models::GemvWeights::kBF16 ? FromBf16Bits(w16[i]) : normal(rng);
            }
            std::vector<float> x(static_cast<size_t>(m * ldx));
            for (float& v : x) v = normal(rng);
            std::vector<float> bias(static_cast<size_t>(n));
            for (float& v : bias) v = normal(rng);
            const float kUntouched = 12345.0f;
            std::vector<float> y(static_cast<size_t>(m * ldy), kUntouched);
            // Rows [1, n) when there are several: row 0 must stay as it was.
            const int64_t begin = n > 1 ? 1 : 0;
            const void* w = type == models::GemvWeights::kBF16
                                ? static_cast<const void*>(w16.data())
                                : static_cast<const void*>(w32.data());
            models::GemvRows(w, type, ldw, k, x.data(), ldx, m, begin, n,
                             with_bias ? bias.data() : nullptr, y.data(), ldy);
            for (int64_t r = 0; r < m; ++r) {
              for (int64_t j = 0; j < ldy; ++j) {
                const float got = y[static_cast<size_t>(r * ldy + j)];
                if (j < begin || j >= n) {
                  EXPECT_EQ(got, kUntouched) << "r=" << r << " j=" << j;
                  continue;
                }
                double expected = with_bias ? bias[static_cast<size_t>(j)] : 0.0;
                double magnitude = std::abs(expected);
                for (int64_t i = 0; i < k; ++i) {
                  const double term = static_cast<double>(x[static_cast<size_t>(r * ldx + i)]) *
                                      w32[static_cast<size_t>(j * ldw + i)];
                  expected += term;
                  magnitude += std::abs(term);
                }
                // F32 accumulation: a few ulps of the sum of magnitudes.
                EXPECT_NEAR(got, expected, 4e-7 * magnitude * std::sqrt(k) + 1e-6)
                    << "r=" << r << " j=" << j;
              }
            }
          }
        }
      }
    }
  }
}

// ParallelLinear sends 1-4 rows of a transposed [out, in] weight, F32 or BF16, to the kernels:
// on every instruction set and thread count, against a double-precision addmm (BF16: of the same
// values widened), with rows that are views of a larger matrix.
TEST(GemvKernels, ParallelLinearFewRowsMatchDoubleAddmm) {
  IsaGuard guard;
  torch::manual_seed(11);
  const int threads = at::get_num_threads();
  torch::Tensor linear = torch::randn({1003, 77});  // [out, in]
  torch::Tensor bias = torch::randn({1003});
  torch::Tensor wide = torch::randn({6, 80});
  for (models::GemvIsa isa : AvailableIsas()) {
    ASSERT_EQ(models::UseGemvIsa(isa), isa);
    for (int n : {1, 2}) {
      at::set_num_threads(n);
      for (const auto dtype : {torch::kFloat, torch::kBFloat16}) {
        const torch::Tensor weight = linear.to(dtype).t();
        const torch::Tensor exact = weight.to(torch::kDouble);
        for (int64_t m = 1; m <= models::kGemvMaxRows; ++m) {
          SCOPED_TRACE(std::string(models::GemvIsaName(isa)) + " threads=" + std::to_string(n) +
                       " m=" + std::to_string(m) + (dtype == torch::kFloat ? " f32" : " bf16"));
          const torch::Tensor x = wide.narrow(0, 1, m).narrow(1, 2, 77);  // strided rows
          const torch::Tensor xd = x.to(torch::kDouble);
          const torch::Tensor got = models::ParallelLinear(x, weight, bias);
          ASSERT_EQ(got.sizes(), (std::vector<int64_t>{m, 1003}));
          EXPECT_LT((got.to(torch::kDouble) - torch::addmm(bias.to(torch::kDouble), xd, exact))
                        .abs()
                        .max()
                        .item<double>(),
                    1e-4);
          const torch::Tensor plain = models::ParallelLinear(x, weight, torch::Tensor());
          EXPECT_LT((plain.to(torch::kDouble) - torch::mm(xd, exact)).abs().max().item<double>(),
                    1e-4);
        }
      }
    }
  }
  at::set_num_threads(threads);
}

// y = p V over V's contiguous rows (padded leading dimension), widths below, at and above the
// vector widths, on every instruction set: against a double-precision sum; y past `width` is
// left alone.
TEST(GemvKernels, CombineRowsMatchesDoublePrecisionOnEveryInstructionSet) {
  IsaGuard guard;
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  for (models::GemvIsa isa : AvailableIsas()) {
    ASSERT_EQ(models::UseGemvIsa(isa), isa);
    for (const int64_t width : {1, 5, 16, 64, 67, 130}) {
      for (const int64_t count : {1, 3, 50}) {
        SCOPED_TRACE(std::string(models::GemvIsaName(isa)) + " width=" + std::to_string(width) +
                     " count=" + std::to_string(count));
        const int64_t ldv = width + 3;
        std::vector<float> p(static_cast<size_t>(count));
        for (float& value : p) value = std::abs(normal(rng));
        std::vector<float> v(static_cast<size_t>(count * ldv));
        for (float& value : v) value = normal(rng);
        const float kUntouched = 12345.0f;
        std::vector<float> y(static_cast<size_t>(width + 2), kUntouched);
        models::CombineRows(p.data(), count, v.data(), ldv, width, y.data());
        for (int64_t d = 0; d < width; ++d) {
          double expected = 0, magnitude = 0;
          for (int64_t j = 0; j < count; ++j) {
            const double term = static_cast<double>(p[static_cast<size_t>(j)]) *
                                v[static_cast<size_t>(j * ldv + d)];
            expected += term;
            magnitude += std::abs(term);
          }
          EXPECT_NEAR(y[static_cast<size_t>(d)], expected, 4e-7 * magnitude * count + 1e-6)
              << "d=" << d;
        }
        EXPECT_EQ(y[static_cast<size_t>(width)], kUntouched);
        EXPECT_EQ(y[static_cast<size_t>(width + 1)], kUntouched);
      }
    }
  }
}

}  // namespace
}  // namespace graft::testing
