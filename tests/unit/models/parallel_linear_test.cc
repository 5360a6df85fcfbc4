#include "models/parallel_linear.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "models/parallel_chunks.h"

namespace graft::testing {
namespace {

double MaxError(const torch::Tensor& got, const torch::Tensor& expected) {
  return (got - expected).abs().max().item<double>();
}

TEST(ForEachChunk, RunsOneChunkPerThreadOnDistinctThreads) {
  // Without -fopenmp on the including target, ATen's parallel_for silently runs on one thread.
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  std::mutex mutex;
  std::set<int> thread_ids;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  models::ForEachChunk(1000, 1, [&](int64_t begin, int64_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    thread_ids.insert(at::get_thread_num());
    chunks.emplace_back(begin, end);
    EXPECT_FALSE(c10::GradMode::is_enabled());
  });
  at::set_num_threads(threads);
  EXPECT_EQ(thread_ids.size(), 2u);
  std::sort(chunks.begin(), chunks.end());
  EXPECT_EQ(chunks, (std::vector<std::pair<int64_t, int64_t>>{{0, 500}, {500, 1000}}));
}

TEST(ForEachChunk, SmallLoopsStayOnOneThread) {
  std::vector<std::pair<int64_t, int64_t>> chunks;
  models::ForEachChunk(10, 16,
                       [&](int64_t begin, int64_t end) { chunks.emplace_back(begin, end); });
  EXPECT_EQ(chunks, (std::vector<std::pair<int64_t, int64_t>>{{0, 10}}));
}

// Two F32 sums of 64 products in different orders (graft's packed GEMM or BLAS, against
// libtorch's BLAS), on values up to ~30: a few ulps apart.
constexpr double kF32Agreement = 3e-5;

TEST(ParallelLinear, ForwardMatchesAddmmForAnyRowCount) {
  torch::manual_seed(1);
  torch::Tensor weight = torch::randn({64, 96});
  torch::Tensor bias = torch::randn({96});
  for (int64_t rows : {1, 7, 1001}) {
    SCOPED_TRACE(rows);
    torch::Tensor x = torch::randn({rows, 64});
    EXPECT_LT(MaxError(models::ParallelLinear(x, weight, bias), torch::addmm(bias, x, weight)),
              kF32Agreement);
    EXPECT_LT(MaxError(models::ParallelLinear(x, weight, torch::Tensor()), torch::mm(x, weight)),
              kF32Agreement);
  }
  // A transposed [out, in] weight, as a linear layer passes it.
  torch::Tensor linear = torch::randn({96, 64});
  torch::Tensor x = torch::randn({300, 64});
  EXPECT_LT(
      MaxError(models::ParallelLinear(x, linear.t(), bias), torch::addmm(bias, x, linear.t())),
      kF32Agreement);
}

TEST(ParallelLinear, ManyRowsMatchDoublePrecisionSplitByColumnsOrByRows) {
  // From 16 rows on, a product splits its columns while the rows are no more than the columns
  // (each thread then packs only its share of the weight) and its rows beyond: both, at odd sizes,
  // in both weight layouts, on 1-3 threads, against the product in double precision.
  torch::manual_seed(5);
  const int threads = at::get_num_threads();
  const int64_t in = 67;
  for (const int64_t out : {101, 250}) {
    torch::Tensor linear = torch::randn({out, in});  // [out, in], as a linear layer stores it
    torch::Tensor conv = torch::randn({in, out});    // [in, out], as GPT-2's Conv1D
    torch::Tensor bias = torch::randn({out});
    for (const int64_t rows : {16, 37, 101, 333}) {
      torch::Tensor x = torch::randn({rows, in});
      for (int n : {1, 2, 3}) {
        at::set_num_threads(n);
        for (const torch::Tensor& weight : {linear.t(), conv}) {
          SCOPED_TRACE(::testing::Message() << out << " columns, " << rows << " rows, " << n
                                            << " threads, weight strides " << weight.strides());
          const torch::Tensor expected = torch::mm(x.to(torch::kDouble), weight.to(torch::kDouble));
          EXPECT_LT(MaxError(models::ParallelLinear(x, weight, torch::Tensor()).to(torch::kDouble),
                             expected),
                    1e-4);
          EXPECT_LT(MaxError(models::ParallelLinear(x, weight, bias).to(torch::kDouble),
                             expected + bias.to(torch::kDouble)),
                    1e-4);
        }
      }
    }
  }
  at::set_num_threads(threads);
}

TEST(ParallelLinear, OneRowMatchesAddmmInEveryLayoutAndThreadCount) {
  // One row (generation) goes to BLAS's matrix-vector product, each thread over its columns.
  torch::manual_seed(4);
  const int threads = at::get_num_threads();
  torch::Tensor linear = torch::randn({1000, 64});  // [out, in], as a linear layer stores it
  torch::Tensor conv = torch::randn({64, 1000});    // [in, out], as GPT-2's Conv1D
  torch::Tensor bias = torch::randn({1000});
  torch::Tensor x = torch::randn({1, 64});
  for (int n : {1, 2}) {
    SCOPED_TRACE(n);
    at::set_num_threads(n);
    for (const torch::Tensor& weight : {linear.t(), conv}) {
      EXPECT_LT(MaxError(models::ParallelLinear(x, weight, bias), torch::addmm(bias, x, weight)),
                1e-4);
      EXPECT_LT(MaxError(models::ParallelLinear(x, weight, torch::Tensor()), torch::mm(x, weight)),
                1e-4);
      // A row of a larger matrix, and a BF16 weight (converted a block at a time).
      torch::Tensor rows = torch::randn({3, 64});
      EXPECT_LT(MaxError(models::ParallelLinear(rows.narrow(0, 1, 1), weight, bias),
                         torch::addmm(bias, rows.narrow(0, 1, 1), weight)),
                1e-4);
      torch::Tensor half = weight.to(torch::kBFloat16);
      EXPECT_LT(MaxError(models::ParallelLinear(x, half, bias),
                         torch::addmm(bias, x, half.to(torch::kFloat))),
                1e-4);
    }
  }
  // One output column: its stride may be anything, the product must still be right.
  for (const torch::Tensor& column : {torch::randn({64, 1}), torch::randn({1, 64}).t()}) {
    EXPECT_LT(MaxError(models::ParallelLinear(x, column, torch::Tensor()), torch::mm(x, column)),
              1e-4);
  }
  at::set_num_threads(threads);
}

TEST(ParallelLinear, GradientsMatchAutogradOfAddmm) {
  torch::manual_seed(2);
  for (const bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "bias" : "no bias");
    torch::Tensor x0 = torch::randn({517, 48});
    torch::Tensor w0 = torch::randn({80, 48});  // [out, in], used transposed
    torch::Tensor b0 = torch::randn({80});
    torch::Tensor upstream = torch::randn({517, 80});

    torch::Tensor x = x0.clone().requires_grad_();
    torch::Tensor w = w0.clone().requires_grad_();
    torch::Tensor b = with_bias ? b0.clone().requires_grad_() : torch::Tensor();
    models::ParallelLinear(x, w.t(), b).backward(upstream);

    torch::Tensor xr = x0.clone().requires_grad_();
    torch::Tensor wr = w0.clone().requires_grad_();
    torch::Tensor br = b0.clone().requires_grad_();
    (with_bias ? torch::addmm(br, xr, wr.t()) : torch::mm(xr, wr.t())).backward(upstream);

    EXPECT_LT(MaxError(x.grad(), xr.grad()), 1e-4);
    EXPECT_LT(MaxError(w.grad(), wr.grad()), 1e-3);  // sums over 517 rows
    if (with_bias) {
      EXPECT_LT(MaxError(b.grad(), br.grad()), 1e-4);
    }
  }
}

TEST(ParallelLinear, FrozenWeightGetsNoGradientAndInputStillDoes) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({64, 32}).requires_grad_();
  torch::Tensor w = torch::randn({32, 16});  // frozen
  torch::Tensor b = torch::randn({16});
  models::ParallelLinear(x, w, b).sum().backward();
  EXPECT_FALSE(w.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  // d/dx sum(x W + b) = 1 W^T: each row of the gradient is W's row sums.
  EXPECT_LT(MaxError(x.grad(), w.sum(1).expand({64, 32})), 1e-5);
}

}  // namespace
}  // namespace graft::testing
