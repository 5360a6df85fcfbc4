#include "models/packed_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/gemv_kernels.h"

namespace graft::testing {
namespace {

// A matrix of `rows` × `columns` normal values stored with the given layout in a buffer with
// room to spare (strides larger than the sizes), returned with its view.
struct Stored {
  std::vector<float> values;
  models::FloatMatrix view;
};

enum class Layout { kRowMajor, kColumnMajor, kStrided };

Stored Make(int64_t rows, int64_t columns, Layout layout, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  Stored s;
  int64_t row_stride = 0, column_stride = 0;
  switch (layout) {
    case Layout::kRowMajor:
      row_stride = columns + 3;
      column_stride = 1;
      break;
    case Layout::kColumnMajor:
      row_stride = 1;
      column_stride = rows + 5;
      break;
    case Layout::kStrided:
      row_stride = 2 * columns + 1;
      column_stride = 2;
      break;
  }
  s.values.assign(static_cast<size_t>((rows - 1) * row_stride + (columns - 1) * column_stride + 1),
                  0.0f);
  for (float& v : s.values) v = normal(rng);
  s.view = {s.values.data(), row_stride, column_stride};
  return s;
}

double At(const models::FloatMatrix& x, int64_t i, int64_t j) {
  return x.data[i * x.row_stride + j * x.column_stride];
}

std::string LayoutName(Layout layout) {
  return layout == Layout::kRowMajor      ? "row-major"
         : layout == Layout::kColumnMajor ? "column-major"
                                          : "strided";
}

// Every size around the tile (12 × 32), the 16-lane vectors and the cache blocks (depth 256,
// 240 rows, 1024 columns), every layout of both operands, overwriting and accumulating, with a
// padded output whose padding must stay untouched: against the product in double precision.
TEST(PackedGemm, MatchesDoublePrecisionAtEverySizeAndLayout) {
  if (!models::PackedGemmAvailable()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(11);
  struct Shape {
    int64_t m, n, k;
  };
  const std::vector<Shape> shapes = {{1, 1, 1},      {1, 32, 16},    {5, 7, 3},     {12, 32, 256},
                                     {13, 33, 257},  {11, 31, 15},   {24, 17, 600}, {241, 40, 20},
                                     {30, 1030, 40}, {250, 64, 513}, {3, 1057, 17}};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kColumnMajor, Layout::kStrided};
  for (const Shape& shape : shapes) {
    for (Layout a_layout : layouts) {
      for (Layout b_layout : layouts) {
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE(std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" +
                       std::to_string(shape.k) + " a " + LayoutName(a_layout) + " b " +
                       LayoutName(b_layout) + (accumulate ? " accumulate" : ""));
          const Stored a = Make(shape.m, shape.k, a_layout, rng);
          const Stored b = Make(shape.k, shape.n, b_layout, rng);
          const int64_t ldc = shape.n + 7;
          std::vector<float> c(static_cast<size_t>(shape.m * ldc));
          std::normal_distribution<float> normal;
          for (float& v : c) v = normal(rng);
          const std::vector<float> before = c;
          models::PackedGemm(shape.m, shape.n, shape.k, a.view, b.view, accumulate, c.data(), ldc);
          double worst = 0;
          for (int64_t i = 0; i < shape.m; ++i) {
            for (int64_t j = 0; j < ldc; ++j) {
              const size_t at = static_cast<size_t>(i * ldc + j);
              if (j >= shape.n) {
                ASSERT_EQ(c[at], before[at]) << "padding written at " << i << ", " << j;
                continue;
              }
              double want = accumulate ? before[at] : 0.0;
              double magnitude = std::fabs(want);
              for (int64_t p = 0; p < shape.k; ++p) {
                want += At(a.view, i, p) * At(b.view, p, j);
                magnitude += std::fabs(At(a.view, i, p) * At(b.view, p, j));
              }
              worst = std::max(worst, std::fabs(c[at] - want) / (magnitude + 1e-30));
            }
          }
          // F32 accumulation over at most 600 terms, relative to the sum of magnitudes; a wrong or
          // missing term is off by ~1.
          EXPECT_LT(worst, 1e-5);
        }
      }
    }
  }
}

TEST(PackedGemm, EmptyDepthClearsOrKeepsTheOutput) {
  if (!models::PackedGemmAvailable()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::vector<float> c = {1, 2, 3, 4};
  const models::FloatMatrix none{nullptr, 0, 1};
  models::PackedGemm(2, 2, 0, none, none, true, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{1, 2, 3, 4}));
  models::PackedGemm(2, 2, 0, none, none, false, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));
}

TEST(PackedGemm, RunsOnlyOnTheAvx512InstructionSet) {
  struct Restore {
    ~Restore() {
      models::UseGemvIsa(models::GemvIsa::kAuto);
      models::UsePackedGemm(true);
    }
  } restore;
  models::UseGemvIsa(models::GemvIsa::kAvx2);
  EXPECT_FALSE(models::PackedGemmAvailable());
  const bool avx512 = models::UseGemvIsa(models::GemvIsa::kAvx512) == models::GemvIsa::kAvx512;
  EXPECT_EQ(models::PackedGemmAvailable(), avx512);
  EXPECT_EQ(models::PackedGemmTakes(models::kPackedGemmMinRows), avx512);
  EXPECT_FALSE(models::PackedGemmTakes(models::kPackedGemmMinRows - 1));
  EXPECT_FALSE(models::UsePackedGemm(false));
  EXPECT_FALSE(models::PackedGemmTakes(models::kPackedGemmMinRows));
  EXPECT_EQ(models::UsePackedGemm(true), avx512);
}

}  // namespace
}  // namespace graft::testing
