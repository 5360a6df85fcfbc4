// TargetLogProbs with a frozen head: the hidden gradient is computed in the forward pass, from the
// same logits; values and gradients against the full log-softmax, per-thread blocks of any size.
#include "models/chunked_lm_head.h"

#include <gtest/gtest.h>

namespace graft::testing {
namespace {

double MaxError(const torch::Tensor& got, const torch::Tensor& expected) {
  return (got - expected).abs().max().item<double>();
}

// The plain computation: log_softmax over the full logits, picked, ignored targets give 0.
torch::Tensor Reference(const torch::Tensor& h, const torch::Tensor& head,
                        const torch::Tensor& targets) {
  return torch::log_softmax(torch::mm(h, head.to(torch::kFloat).t()), 1)
      .gather(1, targets.clamp_min(0).unsqueeze(1))
      .squeeze(1)
      .masked_fill(targets.lt(0), 0);
}

struct Case {
  int64_t rows;
  int64_t vocab;
  int64_t dim;
};

TEST(TargetLogProbs, AFrozenHeadGivesTheFullLogSoftmaxGradientFromTheForwardPass) {
  torch::manual_seed(11);
  const int threads = at::get_num_threads();
  // Odd sizes: vocabularies with and without a vector tail, fewer rows than threads.
  for (const Case& c : {Case{37, 50, 16}, Case{1, 9, 5}, Case{23, 1001, 24}}) {
    SCOPED_TRACE(c.rows);
    const torch::Tensor h0 = torch::randn({c.rows, c.dim});
    const torch::Tensor head = torch::randn({c.vocab, c.dim});
    torch::Tensor targets = torch::randint(c.vocab, {c.rows}, torch::kLong);
    targets[0] = -100;  // ignored
    const torch::Tensor upstream = torch::randn({c.rows});
    torch::Tensor hr = h0.clone().requires_grad_();
    const torch::Tensor expected = Reference(hr, head, targets);
    expected.backward(upstream);
    for (int64_t chunk : {0, 1, 5, 37}) {
      for (int n : {1, 2, 3}) {
        SCOPED_TRACE(std::to_string(chunk) + " rows per block, threads " + std::to_string(n));
        at::set_num_threads(n);
        torch::Tensor h = h0.clone().requires_grad_();
        const torch::Tensor got = models::TargetLogProbs(h, head, targets, chunk);
        got.backward(upstream);
        EXPECT_EQ(got[0].item<float>(), 0.0f);
        EXPECT_LT(MaxError(got, expected), 1e-5);
        EXPECT_LT(MaxError(h.grad(), hr.grad()), 1e-5);
        EXPECT_EQ(h.grad()[0].abs().sum().item<float>(), 0.0f);
      }
    }
  }
  at::set_num_threads(threads);
}

TEST(TargetLogProbs, ABf16HeadAndNoGradientGiveTheSameValues) {
  torch::manual_seed(12);
  const torch::Tensor h0 = torch::randn({19, 12});
  const torch::Tensor head = torch::randn({75, 12}).to(torch::kBFloat16);
  const torch::Tensor targets = torch::randint(75, {19}, torch::kLong);
  const torch::Tensor upstream = torch::randn({19});
  torch::Tensor hr = h0.clone().requires_grad_();
  const torch::Tensor expected = Reference(hr, head, targets);
  expected.backward(upstream);
  torch::Tensor h = h0.clone().requires_grad_();
  const torch::Tensor got = models::TargetLogProbs(h, head, targets, 4);
  got.backward(upstream);
  EXPECT_LT(MaxError(got, expected), 1e-4);
  EXPECT_LT(MaxError(h.grad(), hr.grad()), 1e-4);
  torch::NoGradGuard no_grad;
  EXPECT_LT(MaxError(models::TargetLogProbs(h0, head, targets, 4), got.detach()), 1e-6);
}

}  // namespace
}  // namespace graft::testing
