#include "models/gelu_tanh.h"

#include <gtest/gtest.h>

#include "models/gelu_tanh_kernel.h"

namespace graft::testing {
namespace {

// x from -30 to 30 in steps of 1/128 plus an odd tail, so whole vectors and the padded tail run.
torch::Tensor Inputs() {
  return torch::arange(-30.0, 30.0, 1.0 / 128, torch::kFloat32).narrow(0, 0, 7677);
}

TEST(GeluTanh, ForwardMatchesAtenWithinFloatRounding) {
  torch::Tensor x = Inputs();
  torch::Tensor expected = torch::gelu(x.to(torch::kFloat64), "tanh");
  torch::Tensor got = models::GeluTanh(x).to(torch::kFloat64);
  torch::Tensor aten = torch::gelu(x, "tanh").to(torch::kFloat64);
  // Against the float64 truth, error relative to max(|gelu(x)|, 1): graft's kernel is within a
  // few float ulps, as ATen's own float kernel is.
  auto error = [&](const torch::Tensor& t) {
    return ((t - expected).abs() / expected.abs().clamp_min(1.0)).max().item<double>();
  };
  EXPECT_LT(error(got), 3e-7) << "ATen's float kernel: " << error(aten);
  // Known values: gelu(0) = 0, gelu(x) -> x for large x and -> 0 for very negative x.
  EXPECT_EQ(models::GeluTanh(torch::zeros({1})).item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(models::GeluTanh(torch::full({1}, 12.0f)).item<float>(), 12.0f);
  EXPECT_NEAR(models::GeluTanh(torch::full({1}, -12.0f)).item<float>(), 0.0f, 1e-30);
  EXPECT_NEAR(models::GeluTanh(torch::full({1}, 1.0f)).item<float>(), 0.8411920071f, 1e-6);
}

TEST(GeluTanh, BackwardMatchesAtenGradient) {
  torch::Tensor x = Inputs().to(torch::kFloat64).requires_grad_();
  torch::Tensor dy = torch::randn({x.size(0)}, torch::kFloat64);
  torch::gelu(x, "tanh").backward(dy);
  torch::Tensor expected = x.grad().clone();

  torch::Tensor xf = Inputs().requires_grad_();
  models::GeluTanh(xf).backward(dy.to(torch::kFloat32));
  torch::Tensor got = xf.grad().to(torch::kFloat64);
  torch::Tensor xa = Inputs().requires_grad_();
  torch::gelu(xa, "tanh").backward(dy.to(torch::kFloat32));
  auto error = [&](const torch::Tensor& t) {
    return ((t - expected).abs() / expected.abs().clamp_min(1.0)).max().item<double>();
  };
  // A few float ulps of the gradient's size (|dy| reaches about 4 here).
  EXPECT_LT(error(got), 3e-6) << "ATen's float kernel: " << error(xa.grad().to(torch::kFloat64));
}

TEST(GeluTanh, NonContiguousAndOtherDtypesFallBackToAten) {
  torch::Tensor x = torch::randn({6, 5}).t();
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_TRUE(models::GeluTanh(x).equal(torch::gelu(x, "tanh")));
  torch::Tensor d = torch::randn({9}, torch::kFloat64);
  EXPECT_TRUE(models::GeluTanh(d).equal(torch::gelu(d, "tanh")));
}

TEST(GeluTanh, KernelWorksInPlaceAndTailMatchesFullVectors) {
  // The same value computed inside a whole vector and inside the padded tail gives the same bits.
  std::vector<float> values = {-3.5f, -1.0f, -0.25f, 0.0f, 0.5f, 1.5f, 2.0f, 7.0f, 1.25f};
  std::vector<float> out(values.size());
  models::GeluTanhForward(values.data(), out.data(), static_cast<int64_t>(values.size()));
  float tail_only = 0;
  models::GeluTanhForward(&values[1], &tail_only, 1);
  EXPECT_EQ(tail_only, out[1]);
  std::vector<float> in_place = values;
  models::GeluTanhForward(in_place.data(), in_place.data(), static_cast<int64_t>(in_place.size()));
  EXPECT_EQ(in_place, out);
}

}  // namespace
}  // namespace graft::testing
