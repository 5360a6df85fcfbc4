// Q8_0 frozen weights: quantisation of weights and activations, the int8 kernels on every
// instruction set, the tiled product, and whole models kept in q8_0 against F32.
#include "models/q8_weights.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/file_util.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/parallel_linear.h"
#include "tests/unit/models/model_test_helpers.h"

namespace graft::testing {
namespace {

namespace fs = std::filesystem;

double MaxError(const torch::Tensor& got, const torch::Tensor& expected) {
  return (got - expected).abs().max().item<double>();
}

torch::Tensor Normal(std::vector<int64_t> shape, uint64_t seed, double std = 1.0) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::normal(0.0, std, shape, generator, torch::kFloat);
}

torch::Tensor MustQuantize(const torch::Tensor& weight, int64_t input_dim) {
  auto q8 = models::QuantizeQ8(weight, input_dim, "w");
  EXPECT_TRUE(q8.ok()) << q8.status().ToString();
  return q8.ok() ? *q8 : torch::Tensor();
}

// Runs `check` once with each instruction set the CPU has (the portable one always), then
// restores the automatic choice.
void ForEachIsa(const std::function<void()>& check) {
  for (models::Q8Isa isa : {models::Q8Isa::kScalar, models::Q8Isa::kAvx2, models::Q8Isa::kAvx512,
                            models::Q8Isa::kAvx512Vnni}) {
    if (models::UseQ8Isa(isa) != isa) continue;  // not on this CPU
    SCOPED_TRACE(std::string(models::Q8IsaName(isa)));
    check();
  }
  models::UseQ8Isa(models::Q8Isa::kAuto);
}

// Per group of 32 inputs, |w - value · scale| is at most half a step (d / 2, d = max|w| / 127)
// plus the F16 rounding of d (relative 2^-11) times the largest value, 127: 0.562 d in all.
TEST(Q8Quantize, EachGroupIsWithinHalfAStepOfTheWeights) {
  // Rows and groups of very different magnitudes, and an all-zero group.
  torch::Tensor w = Normal({5, 96}, 1) * torch::tensor({1e-3, 0.02, 1.0, 30.0, 0.5}).unsqueeze(1);
  w[4].narrow(0, 32, 32).zero_();
  const torch::Tensor q8 = MustQuantize(w, 1);
  ASSERT_TRUE(models::IsQ8(q8));
  EXPECT_EQ(q8.sizes(), w.sizes());
  EXPECT_EQ(q8.storage().nbytes(), 5u * 96 + 5 * 3 * 2);  // values, then one F16 scale a group
  const torch::Tensor groups = w.view({5, 3, 32});
  const torch::Tensor step = groups.abs().amax(2, true) / 127;
  ForEachIsa([&] {
    const torch::Tensor back = models::DequantizeQ8(q8);
    const torch::Tensor error = (back.view({5, 3, 32}) - groups).abs();
    EXPECT_TRUE((error <= step * 0.5621 + 1e-12).all().item<bool>())
        << "worst error / step: " << (error / step.clamp_min(1e-30)).max().item<double>();
    EXPECT_GT(error.max().item<double>(), 0);  // really rounded
    EXPECT_TRUE(back[4].narrow(0, 32, 32).eq(0).all().item<bool>());
    // A run starting inside a group and crossing rows.
    std::vector<float> run(100);
    models::DequantizeQ8Run(models::Q8Of(q8), 96 + 17, 100, run.data());
    EXPECT_TRUE(torch::from_blob(run.data(), {100}).equal(back.view({-1}).narrow(0, 113, 100)));
  });
  // The largest weight of a group is value ±127.
  const models::Q8Parts parts = models::Q8Of(q8);
  const int64_t at = w[2].narrow(0, 0, 32).abs().argmax().item<int64_t>();
  EXPECT_EQ(std::abs(parts.values[2 * 96 + at]), 127);
  // llama.cpp's rounding: halves away from zero. Group: 127 · 0.5 then k · 0.5 + 0.25.
  torch::Tensor exact = torch::zeros({1, 32});
  exact[0][0] = 63.5;
  exact[0][1] = 0.25;
  exact[0][2] = -0.75;
  const torch::Tensor exact_q8 = MustQuantize(exact, 1);
  const models::Q8Parts halves = models::Q8Of(exact_q8);
  EXPECT_EQ(models::HalfBitsToFloat(halves.scales[0]), 0.5f);
  EXPECT_EQ(halves.values[0], 127);
  EXPECT_EQ(halves.values[1], 1);
  EXPECT_EQ(halves.values[2], -2);
}

TEST(Q8Quantize, GroupsAlongTheInputDimensionOfEitherLayout) {
  const torch::Tensor w = Normal({64, 7}, 2);  // a Conv1D [in, out]
  const torch::Tensor conv = MustQuantize(w, 0);
  EXPECT_EQ(conv.sizes(), w.sizes());
  ASSERT_TRUE(models::IsQ8(conv));
  const torch::Tensor linear = MustQuantize(w.t().contiguous(), 1);
  EXPECT_TRUE(models::DequantizeQ8(conv).equal(models::DequantizeQ8(linear).t()));
  // A BF16 weight quantises as its F32 values do.
  const torch::Tensor bf16 = w.to(torch::kBFloat16);
  EXPECT_TRUE(models::DequantizeQ8(MustQuantize(bf16, 0))
                  .equal(models::DequantizeQ8(MustQuantize(bf16.to(torch::kFloat), 0))));
  EXPECT_FALSE(models::IsQ8(w));
  EXPECT_FALSE(models::IsQ8(torch::zeros({4, 32}, torch::kChar)));  // int8 without scales
}

TEST(Q8Quantize, RefusesWhatItCannotQuantise) {
  auto odd = models::QuantizeQ8(torch::ones({4, 100}), 1, "model.safetensors: tensor \"x\"");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("tensor \"x\" has shape [4, 100]: its 100 inputs are not "
                                        "a multiple of 32"),
            std::string::npos)
      << odd.status().message();
  // Conv1D layout: the inputs are the first dimension.
  EXPECT_FALSE(models::QuantizeQ8(torch::ones({48, 64}), 0, "x").ok());
  EXPECT_TRUE(models::QuantizeQ8(torch::ones({48, 64}), 1, "x").ok());
  EXPECT_FALSE(models::QuantizeQ8(torch::ones({64}), 1, "x").ok());
  torch::Tensor nan = torch::ones({3, 64});
  nan[2][40] = NAN;
  auto not_finite = models::QuantizeQ8(nan, 1, "x");
  ASSERT_FALSE(not_finite.ok());
  EXPECT_NE(not_finite.status().message().find("row 2 is not finite"), std::string::npos)
      << not_finite.status().message();
  torch::Tensor huge = torch::ones({1, 32});
  huge[0][3] = 1e10;  // its scale, 7.9e7, is beyond F16's 65504
  EXPECT_FALSE(models::QuantizeQ8(huge, 1, "x").ok());
}

// The int8 kernels (rows of a up to kQ8KernelMaxRows) and the tiled dequantise-and-sgemm path
// (more rows) against torch's F32 product of the dequantised weights (only the summation order
// differs) and of the original weights (the quantisation error: within 1% of the largest output
// for normal data).
TEST(Q8Product, MatchesTorchOnEveryInstructionSetAndLayout) {
  ForEachIsa([] {
    for (int64_t m : {1, 2, 3, 4, 5, 37}) {
      for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 32}, {7, 96}, {129, 2048}, {300, 64}}) {
        SCOPED_TRACE("m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
                     std::to_string(k));
        const torch::Tensor w = Normal({n, k}, 3 + n + k, 0.05);  // Linear [out, in]
        const torch::Tensor a = Normal({m, k}, 4 + m);
        const torch::Tensor bias = Normal({n}, 5);
        const torch::Tensor q8 = MustQuantize(w, 1);
        const torch::Tensor dequantised = models::DequantizeQ8(q8);
        const torch::Tensor exact = torch::addmm(bias, a, dequantised.t());
        const torch::Tensor got = models::ParallelLinear(a, q8.t(), bias);
        EXPECT_LT(RelativeError(got, exact), 1e-5);
        EXPECT_LT(RelativeError(got, torch::addmm(bias, a, w.t())), 1e-2);
        EXPECT_LT(
            RelativeError(models::ParallelLinear(a, q8.t(), {}), torch::mm(a, dequantised.t())),
            1e-5);
        // A Conv1D [in, out] kept in q8_0 is given to the product as it is.
        const torch::Tensor conv = MustQuantize(w.t().contiguous(), 0);
        EXPECT_LT(RelativeError(models::ParallelLinear(a, conv, bias), exact), 1e-5);
      }
    }
  });
}

// llama.cpp's quantize_row_q8_0 (x86): per group, scale max|x| / 127 and values
// round-half-to-even(x · 127 / max|x|).
TEST(Q8Activations, QuantiseAsLlamaCppDoes) {
  // Group 0: max 127, so the values are x rounded, halves to even. Group 1: zeros. Group 2:
  // random, max 3.
  std::vector<float> x(96, 0.0f);
  const std::vector<float> halves = {0.5f,   1.5f,   2.5f,    -2.5f, -0.5f,
                                     126.5f, 127.0f, -127.0f, 3.49f};
  const std::vector<int> rounded = {0, 2, 2, -2, 0, 126, 127, -127, 3};
  std::copy(halves.begin(), halves.end(), x.begin());
  const torch::Tensor random = Normal({32}, 61);
  for (int t = 0; t < 32; ++t) x[64 + t] = random[t].item<float>();
  const float amax = random.abs().max().item<float>();
  std::vector<int8_t> values(96, 99);
  std::vector<float> scales(3, -1.0f);
  models::QuantizeActivationsQ8(x.data(), 96, values.data(), scales.data());
  EXPECT_EQ(scales[0], 1.0f);
  for (size_t t = 0; t < rounded.size(); ++t) EXPECT_EQ(values[t], rounded[t]) << halves[t];
  EXPECT_EQ(scales[1], 0.0f);
  for (int t = 32; t < 64; ++t) EXPECT_EQ(values[t], 0);
  EXPECT_EQ(scales[2], amax / 127.0f);
  int extremes = 0;
  for (int t = 64; t < 96; ++t) {
    EXPECT_EQ(values[t], static_cast<int>(std::nearbyint(x[t] * (127.0f / amax))));
    EXPECT_LE(std::fabs(x[t] - values[t] * scales[2]), scales[2] * 0.5001f);
    extremes += std::abs(values[t]) == 127;
  }
  EXPECT_EQ(extremes, 1);
}

// Q8_0 weight rows [n, k] whose values are `values` and whose scales are all 1 (each group's
// largest |value| is 127), so that the products are sums of integers.
torch::Tensor UnitScaleWeights(const torch::Tensor& values) {
  torch::Tensor w = values.to(torch::kFloat).clone();
  const torch::Tensor q8 = MustQuantize(w, 1);
  const models::Q8Parts parts = models::Q8Of(q8);
  for (int64_t i = 0; i < values.numel(); ++i) {
    EXPECT_EQ(parts.values[i], values.view({-1})[i].item<int>());
  }
  for (int64_t g = 0; g < values.numel() / 32; ++g)
    EXPECT_EQ(models::HalfBitsToFloat(parts.scales[g]), 1);
  return q8;
}

// Random int8 values in [-127, 127] whose every group of 32 has a ±127, and some extreme rows:
// every value +127, every value -127 (against +127: the most negative sum), a zero group.
torch::Tensor Int8Values(int64_t rows, int64_t k, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Tensor v = at::randint(-127, 128, {rows, k}, generator, torch::kLong);
  v.view({rows, k / 32, 32}).select(2, 5).fill_(127);
  if (rows > 2) {
    v[0].fill_(127);
    v[1].fill_(-127);
  }
  return v;
}

// The int8 × int8 products against exact integer sums (unit scales, where F32 sums of these
// integers are exact) and against double sums of the scaled products (random scales), for odd
// row counts, row counts across the kernels' tiles and blocks, and K = 32, 64 and 2048 + 32.
TEST(Q8Int8Product, MatchesExactSumsOnEveryInstructionSet) {
  ForEachIsa([] {
    for (int64_t k : {32, 64, 2080}) {
      for (int64_t m : {1, 2, 3, 4, 5, 7, 9, 190}) {
        if (m == 190 && k != 2080) continue;  // more rows than a block only where blocks are small
        SCOPED_TRACE("m " + std::to_string(m) + " k " + std::to_string(k));
        const int64_t n = 5;
        const int64_t groups = k / 32;
        const torch::Tensor w = Int8Values(n, k, 70 + k);
        const torch::Tensor x = Int8Values(m, k, 71 + m + k);
        if (m > 3) x[3].narrow(0, k - 32, 32).zero_();  // a zero group (k = 32: the whole row)
        const torch::Tensor q8 = UnitScaleWeights(w);
        const models::Q8Parts parts = models::Q8Of(q8);
        std::vector<int8_t> x_values(m * k);
        std::vector<float> x_scales(m * groups);
        const torch::Tensor xf = x.to(torch::kFloat).contiguous();
        for (int64_t r = 0; r < m; ++r) {
          models::QuantizeActivationsQ8(xf.data_ptr<float>() + r * k, k, x_values.data() + r * k,
                                        x_scales.data() + r * groups);
        }
        const torch::Tensor exact = torch::mm(x, w.t());  // int64
        std::vector<float> y(m * n, NAN);
        models::Q8Int8RowProducts(parts.values, parts.scales, k, x_values.data(), x_scales.data(),
                                  m, 0, n, y.data(), n);
        for (int64_t r = 0; r < m; ++r) {
          for (int64_t j = 0; j < n; ++j) {
            ASSERT_EQ(static_cast<int64_t>(y[r * n + j]), exact[r][j].item<int64_t>())
                << "row " << r << " weight row " << j;
          }
        }
        if (m > 2) {
          EXPECT_EQ(y[0], 127.0f * 127 * k);  // +127 · +127 throughout
        }
        // Random scales: activation scales of normal rows, weight scales of normal weights.
        const torch::Tensor wr = Normal({n, k}, 72 + k, 0.05);
        const torch::Tensor q8r = MustQuantize(wr, 1);
        const torch::Tensor xr = Normal({m, k}, 73 + m).contiguous();
        for (int64_t r = 0; r < m; ++r) {
          models::QuantizeActivationsQ8(xr.data_ptr<float>() + r * k, k, x_values.data() + r * k,
                                        x_scales.data() + r * groups);
        }
        const models::Q8Parts pr = models::Q8Of(q8r);
        // Only weight rows [1, n): the split across threads.
        models::Q8Int8RowProducts(pr.values, pr.scales, k, x_values.data(), x_scales.data(), m, 1,
                                  n, y.data(), n);
        for (int64_t r = 0; r < m; ++r) {
          for (int64_t j = 1; j < n; ++j) {
            double expected = 0;
            double magnitude = 0;
            for (int64_t g = 0; g < groups; ++g) {
              int64_t sum = 0;
              int64_t sum_of_magnitudes = 0;  // bounds the kernels' partial sums
              for (int64_t t = 0; t < 32; ++t) {
                const int64_t product =
                    int64_t{pr.values[j * k + g * 32 + t]} * x_values[r * k + g * 32 + t];
                sum += product;
                sum_of_magnitudes += std::abs(product);
              }
              const double scale = double{models::HalfBitsToFloat(pr.scales[j * groups + g])} *
                                   x_scales[r * groups + g];
              expected += scale * static_cast<double>(sum);
              magnitude += std::fabs(scale) * static_cast<double>(sum_of_magnitudes);
            }
            // F32 rounding: the scales' product and one addition a partial sum (2^-24 each).
            ASSERT_NEAR(y[r * n + j], expected, (groups + 2) * 6e-8 * magnitude + 1e-30)
                << "row " << r << " weight row " << j;
          }
        }
      }
    }
  });
}

// Products inside a Q8Int8ActivationsScope (generation's) quantise the activations:
// ParallelLinear gives the int8 × int8 products of the quantised rows (any row count), and with
// UseQ8Int8Activations(false) the F32 ones; outside the scope (scoring, training), F32 ones.
TEST(Q8Int8Product, ProductsInTheScopeQuantiseTheActivations) {
  ForEachIsa([] {
    for (int64_t m : {1, 3, 4, 5, 37}) {
      SCOPED_TRACE("m " + std::to_string(m));
      const int64_t n = 129;
      const int64_t k = 2048;
      const torch::Tensor w = Normal({n, k}, 80, 0.05);
      const torch::Tensor a = Normal({m, k}, 81 + m);
      const torch::Tensor bias = Normal({n}, 82);
      const torch::Tensor q8 = MustQuantize(w, 1);
      // The rows as QuantizeActivationsQ8 makes them, as F32.
      std::vector<int8_t> values(m * k);
      std::vector<float> scales(m * k / 32);
      for (int64_t r = 0; r < m; ++r) {
        models::QuantizeActivationsQ8(a.data_ptr<float>() + r * k, k, values.data() + r * k,
                                      scales.data() + r * k / 32);
      }
      const torch::Tensor a_q = torch::from_blob(values.data(), {m, k / 32, 32}, torch::kChar)
                                    .to(torch::kFloat)
                                    .mul(torch::from_blob(scales.data(), {m, k / 32, 1}))
                                    .view({m, k});
      const torch::Tensor dequantised = models::DequantizeQ8(q8);
      const torch::Tensor int8_exact = torch::addmm(bias, a_q, dequantised.t());
      const torch::Tensor f32_exact = torch::addmm(bias, a, dequantised.t());
      torch::NoGradGuard no_grad;
      EXPECT_FALSE(models::Q8Int8ActivationsHere());
      EXPECT_LT(RelativeError(models::ParallelLinear(a, q8.t(), bias), f32_exact), 1e-5);
      {
        const models::Q8Int8ActivationsScope int8;
        EXPECT_TRUE(models::Q8Int8ActivationsHere());
        const torch::Tensor got = models::ParallelLinear(a, q8.t(), bias);
        EXPECT_LT(RelativeError(got, int8_exact), 1e-5);
        EXPECT_GT(RelativeError(got, f32_exact), 1e-4);  // really quantised
        EXPECT_LT(RelativeError(got, f32_exact), 1e-2);
        EXPECT_TRUE(models::UseQ8Int8Activations(false));
        EXPECT_LT(RelativeError(models::ParallelLinear(a, q8.t(), bias), f32_exact), 1e-5);
        models::UseQ8Int8Activations(true);
      }
      EXPECT_FALSE(models::Q8Int8ActivationsHere());
    }
  });
}

// The backward pass multiplies by W itself (not W^T): the gradient of the input is that of the
// dequantised weights, so LoRA layers train over a q8_0 base.
TEST(Q8Product, GradientOfTheInputIsThatOfTheDequantisedWeights) {
  const torch::Tensor w = Normal({70, 64}, 6, 0.05);
  const torch::Tensor q8 = MustQuantize(w, 1);
  for (int64_t m : {1, 9}) {
    const torch::Tensor a = Normal({m, 64}, 7).requires_grad_(true);
    const torch::Tensor a_ref = a.detach().clone().requires_grad_(true);
    const torch::Tensor dy = Normal({m, 70}, 8);
    (models::ParallelLinear(a, q8.t(), {}) * dy).sum().backward();
    (torch::mm(a_ref, models::DequantizeQ8(q8).t()) * dy).sum().backward();
    EXPECT_LT(RelativeError(a.grad(), a_ref.grad()), 1e-5);
  }
}

TEST(Q8Embedding, LooksUpDequantisedRows) {
  const torch::Tensor w = Normal({50, 64}, 9);
  const torch::Tensor q8 = MustQuantize(w, 1);
  const torch::Tensor ids = torch::tensor({{3, 49, 0}, {3, 7, 8}}, torch::kLong);
  const torch::Tensor rows = models::EmbedQ8(q8, ids);
  EXPECT_EQ(rows.sizes(), (std::vector<int64_t>{2, 3, 64}));
  EXPECT_TRUE(rows.equal(torch::embedding(models::DequantizeQ8(q8), ids)));
}

// The same model kept in q8_0, and in F32 with the dequantised weights: a q8_0 model computes
// exactly what its dequantised weights give, up to summation order.
std::unique_ptr<models::CausalLM> Dequantised(const models::CausalLM& q8) {
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, tensor] : q8.Parameters()) {
    weights[name] =
        models::IsQ8(tensor) ? models::DequantizeQ8(tensor).contiguous() : tensor.clone();
  }
  auto model = models::CausalLM::FromWeights(q8.config(), std::move(weights), "dequantised");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(*model);
}

// A tiny model of `arch` (F32, in memory) and the same saved and loaded back with --base-dtype
// q8_0 (its F32 vectors stay valid after the directory is gone: they map the files).
std::pair<std::unique_ptr<models::CausalLM>, std::unique_ptr<models::CausalLM>> TinyAndQ8(
    formats::Arch arch, uint64_t seed) {
  auto model = TinyModel(arch, seed);
  TempDir dir("graft-q8");
  EXPECT_TRUE(model->SaveHf(dir.path()).ok());
  auto loaded = models::CausalLM::Load(dir.path(), DType::kI8);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return {std::move(model), loaded.ok() ? std::move(*loaded) : nullptr};
}

// Scores (log p of the next token) of a q8_0 base (F32 activations): within 1e-4 nats of its
// dequantised F32 model, and within 0.05 nats of the F32 model (these tiny models' weights are
// normal(0, 0.2) and their scores range over about -15..0); every matrix (embeddings and LM head
// included) is int8, every vector F32.
TEST(Q8Base, ScoresMatchF32WithinTolerance) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    auto [model, loaded] = TinyAndQ8(arch, 21);
    ASSERT_NE(loaded, nullptr);
    models::CausalLM& q8 = *loaded;
    EXPECT_EQ(q8.base_dtype(), DType::kI8);
    double q8_bytes = 0;
    double f32_bytes = 0;
    for (const auto& [name, tensor] : q8.Parameters()) {
      EXPECT_EQ(models::IsQ8(tensor), tensor.dim() == 2) << name;
      if (tensor.dim() == 2) {
        q8_bytes += static_cast<double>(tensor.storage().nbytes());
        f32_bytes += static_cast<double>(tensor.numel()) * 4;
      }
    }
    EXPECT_NEAR(q8_bytes / f32_bytes, 34.0 / 128, 1e-9);  // llama.cpp's 34 bytes per 32 weights
    const torch::Tensor ids = RandomIds(2, 24, q8.config().vocab_size, 22);
    const torch::Tensor targets = RandomIds(2, 24, q8.config().vocab_size, 23);
    torch::NoGradGuard no_grad;
    auto scores = [&](models::CausalLM& m) {
      auto out = m.TargetLogProbs(ids, {}, targets);
      EXPECT_TRUE(out.ok()) << out.status().ToString();
      return *out;
    };
    const torch::Tensor q8_scores = scores(q8);
    const torch::Tensor f32_scores = scores(*model);
    EXPECT_LT(MaxError(q8_scores, scores(*Dequantised(q8))), 1e-4);
    const double error = MaxError(q8_scores, f32_scores);
    EXPECT_LT(error, 0.05);
    EXPECT_GT(error, 0);
    std::cout << formats::ArchName(arch) << ": max |q8_0 - f32| score " << error << " nats, mean "
              << (q8_scores - f32_scores).abs().mean().item<double>() << "\n";
    // One-token steps (the int8 kernels) give the logits of the whole-sequence forward.
    models::KvCache cache;
    Logits(q8, ids.narrow(1, 0, 20), {}, &cache);
    const torch::Tensor step = Logits(q8, ids.narrow(1, 20, 1), {}, &cache);
    const torch::Tensor whole = Logits(q8, ids.narrow(1, 0, 21));
    EXPECT_LT(MaxError(step.select(1, 0), whole.select(1, 20)), 1e-4);
  }
}

// Greedy generation over the KV cache (activations quantised, int8 × int8 products: the prompt's
// rows and one row a step): the tokens of the F32 model, on every instruction set, and with F32
// activations too.
TEST(Q8Base, GreedyGenerationGivesTheF32Tokens) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    auto [model, q8] = TinyAndQ8(arch, 31);
    ASSERT_NE(q8, nullptr);
    models::GenerationOptions options;
    options.max_new_tokens = 8;
    options.stop_token_ids = {-1};  // never stops early
    const std::vector<int64_t> prompt = {5, 17, 42, 99, 3};
    auto f32 = models::GenerateFromIds(*model, prompt, options);
    ASSERT_TRUE(f32.ok()) << f32.status().ToString();
    ASSERT_EQ(f32->new_ids.size(), 8u);
    ForEachIsa([&] {
      auto got = models::GenerateFromIds(*q8, prompt, options);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->new_ids, f32->new_ids);
    });
    EXPECT_TRUE(models::UseQ8Int8Activations(false));
    auto f32_activations = models::GenerateFromIds(*q8, prompt, options);
    models::UseQ8Int8Activations(true);
    ASSERT_TRUE(f32_activations.ok());
    EXPECT_EQ(f32_activations->new_ids, f32->new_ids);
  }
}

// LoRA trains over a q8_0 base: its gradients are those of the dequantised F32 base.
TEST(Q8Base, LoraGradientsAreThoseOfTheDequantisedBase) {
  for (formats::Arch arch : {formats::Arch::kGpt2, formats::Arch::kLlama}) {
    SCOPED_TRACE(formats::ArchName(arch));
    auto [model, loaded] = TinyAndQ8(arch, 41);
    ASSERT_NE(loaded, nullptr);
    auto dequantised = Dequantised(*loaded);
    formats::LoraConfig lora;
    lora.r = 4;
    lora.target_modules = formats::TargetModules::AllLinear();
    lora.init_lora_weights = formats::LoraInit::kRandom;
    const torch::Tensor ids = RandomIds(2, 16, model->config().vocab_size, 42);
    std::vector<models::NamedTensors> grads;
    for (models::CausalLM* m : {loaded.get(), dequantised.get()}) {
      ASSERT_TRUE(m->adapters().Add("a", lora, 1).ok());
      ASSERT_TRUE(m->adapters().SetActive(std::string("a")).ok());
      auto log_probs = m->TargetLogProbs(ids, {}, ids);
      ASSERT_TRUE(log_probs.ok()) << log_probs.status().ToString();
      (-log_probs->sum()).backward();
      auto params = m->adapters().Parameters("a");
      ASSERT_TRUE(params.ok());
      grads.emplace_back();
      for (const auto& [name, tensor] : *params) {
        ASSERT_TRUE(tensor.grad().defined()) << name;
        grads.back().emplace_back(name, tensor.grad());
      }
    }
    ASSERT_EQ(grads[0].size(), grads[1].size());
    for (size_t i = 0; i < grads[0].size(); ++i) {
      EXPECT_LT(RelativeError(grads[0][i].second, grads[1][i].second), 1e-4) << grads[0][i].first;
    }
  }
}

TEST(Q8Base, RefusesWhatItCannotDo) {
  auto bad_dtype = ParseBaseDType("int4");
  ASSERT_FALSE(bad_dtype.ok());
  EXPECT_NE(bad_dtype.status().message().find("expected f32, bf16, f16 or q8_0"),
            std::string::npos);
  EXPECT_EQ(*ParseBaseDType("q8_0"), DType::kI8);
  EXPECT_EQ(BaseDTypeName(DType::kI8), "q8_0");
  EXPECT_FALSE(models::CausalLM::Load("/nonexistent", DType::kI32).ok());

  // d = 48: the matrices' inputs cannot be grouped by 32.
  auto odd = models::CausalLM::CreateRandom(TinyConfig(formats::Arch::kLlama,
                                                       [](Json& json) {
                                                         json["hidden_size"] = 48;
                                                         json["num_attention_heads"] = 3;
                                                         json["num_key_value_heads"] = 1;
                                                       }),
                                            1);
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  TempDir dir("graft-q8");
  ASSERT_TRUE((*odd)->SaveHf(dir.path() / "odd").ok());
  auto refused = models::CausalLM::Load(dir.path() / "odd", DType::kI8);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("model.safetensors: tensor \""), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("inputs are not a multiple of 32"), std::string::npos)
      << refused.status().message();

  auto loaded = TinyAndQ8(formats::Arch::kGpt2, 51).second;
  ASSERT_NE(loaded, nullptr);
  models::CausalLM& q8 = *loaded;
  Status full = q8.SetBaseTrainable(true);
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.message().find("kept in q8_0"), std::string::npos) << full.message();
  Status save = q8.SaveHf(dir.path() / "saved");
  ASSERT_FALSE(save.ok());
  EXPECT_NE(save.message().find("q8_0"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "saved"));
  formats::LoraConfig lora;
  lora.r = 2;
  lora.target_modules = formats::TargetModules::Names({"c_attn"});
  ASSERT_TRUE(q8.adapters().Add("a", lora, 1).ok());
  ASSERT_TRUE(q8.adapters().SetActive(std::string("a")).ok());
  Status merge = q8.adapters().Merge("a");
  ASSERT_FALSE(merge.ok());
  EXPECT_NE(merge.message().find("cannot be merged"), std::string::npos) << merge.message();
}

}  // namespace
}  // namespace graft::testing
