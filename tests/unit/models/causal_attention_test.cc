#include "models/causal_attention.h"

#include <gtest/gtest.h>

#include <limits>

namespace graft::testing {
namespace {

// The textbook computation, one matrix per (batch, head) in float64: softmax(q k^T * scale +
// bias + causal mask) v, merged to [B, T, H * D].
torch::Tensor Naive(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                    const torch::Tensor& bias, double scale) {
  const int64_t batch = q.size(0), heads = q.size(1), queries = q.size(2), keys = k.size(2);
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale;  // [B, H, T, S]
  torch::Tensor hidden =
      torch::ones({queries, keys}, torch::kBool).triu(keys - queries + 1);  // j > S - T + i
  scores = scores.masked_fill(hidden, -std::numeric_limits<double>::infinity());
  if (bias.defined()) {
    scores = scores + bias.view({batch, heads, queries, keys}).to(scores.scalar_type());
  }
  torch::Tensor out = torch::matmul(torch::softmax(scores, -1), v);  // [B, H, T, D]
  return out.transpose(1, 2).reshape({batch, queries, heads * q.size(3)});
}

struct Inputs {
  torch::Tensor q, k, v;
};

// q [B, H, T, D] and k, v [B, H, S, D] as views into one [B, S, 3, H, D] buffer, the layout
// GPT-2's fused c_attn output has: strided rows, as the model passes them.
Inputs MakeInputs(int64_t batch, int64_t heads, int64_t queries, int64_t keys, int64_t dim,
                  uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor qkv = torch::randn({batch, keys, 3, heads, dim});
  auto part = [&](int64_t i) { return qkv.select(2, i).transpose(1, 2); };
  return {part(0).narrow(2, keys - queries, queries), part(1), part(2)};
}

double MaxError(const torch::Tensor& got, const torch::Tensor& expected) {
  return (got.to(torch::kFloat64) - expected).abs().max().item<double>();
}

TEST(CausalAttention, MatchesTheNaiveComputationAcrossQueryBlocks) {
  // 150 queries: blocks of 64, 64 and 22.
  Inputs in = MakeInputs(2, 3, 150, 150, 16, 1);
  torch::Tensor got = models::CausalAttention(in.q, in.k, in.v, torch::Tensor(), 0.25);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, 150, 48}));
  torch::Tensor expected = Naive(in.q.to(torch::kFloat64), in.k.to(torch::kFloat64),
                                 in.v.to(torch::kFloat64), torch::Tensor(), 0.25);
  EXPECT_LT(MaxError(got, expected), 2e-6);
}

TEST(CausalAttention, QueriesAfterCachedKeysSeeThemAll) {
  // 70 new queries after 30 cached positions: query i sees keys 0 .. 30 + i.
  Inputs in = MakeInputs(2, 2, 70, 100, 8, 2);
  torch::Tensor got = models::CausalAttention(in.q, in.k, in.v, torch::Tensor(), 0.5);
  torch::Tensor expected = Naive(in.q.to(torch::kFloat64), in.k.to(torch::kFloat64),
                                 in.v.to(torch::kFloat64), torch::Tensor(), 0.5);
  EXPECT_LT(MaxError(got, expected), 2e-6);
}

TEST(CausalAttention, PaddingBiasMasksKeysOnTopOfTheCausalMask) {
  Inputs in = MakeInputs(2, 2, 80, 80, 8, 3);
  // Batch row 1 has its first 5 positions padded (left padding): no query sees them.
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  torch::Tensor bias = torch::zeros({2, 2, 80, 80});
  bias.select(0, 1).narrow(-1, 0, 5).fill_(kLowest);
  bias = bias.view({4, 80, 80});
  torch::Tensor got = models::CausalAttention(in.q, in.k, in.v, bias, 0.3);
  torch::Tensor naive_bias = torch::zeros({2, 2, 80, 80}, torch::kFloat64);
  naive_bias.select(0, 1).narrow(-1, 0, 5).fill_(-std::numeric_limits<double>::infinity());
  torch::Tensor expected = Naive(in.q.to(torch::kFloat64), in.k.to(torch::kFloat64),
                                 in.v.to(torch::kFloat64), naive_bias.view({4, 80, 80}), 0.3);
  // Padded queries (row 1, positions < 5) see no key at all; their output is unused.
  EXPECT_LT(MaxError(got.select(0, 0), expected.select(0, 0)), 2e-6);
  EXPECT_LT(MaxError(got.select(0, 1).narrow(0, 5, 75), expected.select(0, 1).narrow(0, 5, 75)),
            2e-6);
  EXPECT_TRUE(torch::isfinite(got).all().item<bool>());
}

TEST(CausalAttention, FutureKeysHaveExactlyNoInfluence) {
  Inputs in = MakeInputs(1, 2, 130, 130, 8, 4);
  torch::Tensor before = models::CausalAttention(in.q, in.k, in.v, torch::Tensor(), 0.4);
  // Change every key and value from position 100 on: outputs before it keep their bits.
  torch::Tensor k = in.k.clone(), v = in.v.clone();
  k.narrow(2, 100, 30).mul_(3);
  v.narrow(2, 100, 30).add_(1);
  torch::Tensor after = models::CausalAttention(in.q, k, v, torch::Tensor(), 0.4);
  EXPECT_TRUE(after.narrow(1, 0, 100).equal(before.narrow(1, 0, 100)));
  EXPECT_FALSE(after.narrow(1, 100, 30).equal(before.narrow(1, 100, 30)));
}

TEST(CausalAttention, GradientsMatchAutogradOfTheNaiveComputation) {
  for (const bool padded : {false, true}) {
    SCOPED_TRACE(padded ? "padded" : "causal only");
    Inputs in = MakeInputs(2, 2, 150, 150, 8, 5);
    torch::Tensor bias;
    torch::Tensor naive_bias;
    if (padded) {
      bias = torch::zeros({2, 2, 150, 150});
      bias.select(0, 0).narrow(-1, 0, 3).fill_(std::numeric_limits<float>::lowest());
      naive_bias = torch::zeros({2, 2, 150, 150}, torch::kFloat64);
      naive_bias.select(0, 0).narrow(-1, 0, 3).fill_(-1e30);
      bias = bias.view({4, 150, 150});
      naive_bias = naive_bias.view({4, 150, 150});
    }
    torch::Tensor q = in.q.detach().requires_grad_();
    torch::Tensor k = in.k.detach().requires_grad_();
    torch::Tensor v = in.v.detach().requires_grad_();
    torch::Tensor upstream = torch::randn({2, 150, 16});
    if (padded) upstream.select(0, 0).narrow(0, 0, 3).zero_();  // padded queries' outputs unused
    models::CausalAttention(q, k, v, bias, 0.35).backward(upstream);

    torch::Tensor q64 = in.q.to(torch::kFloat64).detach().requires_grad_();
    torch::Tensor k64 = in.k.to(torch::kFloat64).detach().requires_grad_();
    torch::Tensor v64 = in.v.to(torch::kFloat64).detach().requires_grad_();
    Naive(q64, k64, v64, naive_bias, 0.35).backward(upstream.to(torch::kFloat64));
    EXPECT_LT(MaxError(q.grad(), q64.grad()), 1e-5);
    EXPECT_LT(MaxError(k.grad(), k64.grad()), 1e-5);
    EXPECT_LT(MaxError(v.grad(), v64.grad()), 1e-5);
    EXPECT_GT(v64.grad().abs().max().item<double>(), 0.1);  // the gradients are not trivially 0
  }
}

// [B, KV, S, D] → [B, KV * repeats, S, D]: the multi-head layout grouped-query attention stands
// for.
torch::Tensor Repeated(const torch::Tensor& x, int64_t repeats) {
  return x.repeat_interleave(repeats, 1);
}

TEST(CausalAttention, GroupedKeyValueHeadsMatchTheRepeatedOnes) {
  // 6 query heads share 2 kv heads (3 each); prompt (40 queries) and one new position after 36
  // cached ones (the single-query path generation takes), in inference and with gradients.
  for (const int64_t queries : {int64_t{40}, int64_t{1}}) {
    SCOPED_TRACE("queries=" + std::to_string(queries));
    torch::manual_seed(11);
    const torch::Tensor q = torch::randn({2, 6, queries, 16});
    const torch::Tensor k = torch::randn({2, 2, 40 + (queries == 1 ? -3 : 0), 16});
    const torch::Tensor v = torch::randn_like(k);
    torch::Tensor got;
    {
      torch::NoGradGuard no_grad;
      got = models::CausalAttention(q, k, v, torch::Tensor(), 0.25);
    }
    const torch::Tensor expected = Naive(q.to(torch::kFloat64), Repeated(k, 3).to(torch::kFloat64),
                                         Repeated(v, 3).to(torch::kFloat64), torch::Tensor(), 0.25);
    EXPECT_LT(MaxError(got, expected), 2e-6);

    torch::Tensor qg = q.detach().requires_grad_();
    torch::Tensor kg = k.detach().requires_grad_();
    torch::Tensor vg = v.detach().requires_grad_();
    const torch::Tensor upstream = torch::randn({2, queries, 96});
    models::CausalAttention(qg, kg, vg, torch::Tensor(), 0.25).backward(upstream);
    torch::Tensor k64 = k.to(torch::kFloat64).detach().requires_grad_();
    torch::Tensor v64 = v.to(torch::kFloat64).detach().requires_grad_();
    Naive(q.to(torch::kFloat64), Repeated(k64, 3), Repeated(v64, 3), torch::Tensor(), 0.25)
        .backward(upstream.to(torch::kFloat64));
    EXPECT_LT(MaxError(kg.grad(), k64.grad()), 1e-5);  // summed over the 3 query heads
    EXPECT_LT(MaxError(vg.grad(), v64.grad()), 1e-5);
  }
  EXPECT_THROW(models::CausalAttention(torch::randn({1, 6, 1, 8}), torch::randn({1, 4, 3, 8}),
                                       torch::randn({1, 4, 3, 8}), torch::Tensor(), 1.0),
               c10::Error);
}

TEST(CausalAttention, OneQueryAfterTheCacheMatchesWithPaddingAndOddHeadSizes) {
  // One query (generation's step) with strided rows, after 70 cached keys, left padding in batch
  // row 1, head sizes that are and are not a multiple of the vector width.
  for (const int64_t dim : {int64_t{64}, int64_t{20}, int64_t{3}}) {
    SCOPED_TRACE("dim=" + std::to_string(dim));
    Inputs in = MakeInputs(2, 3, 1, 71, dim, 12);
    torch::Tensor bias = torch::zeros({2, 3, 1, 71});
    bias.select(0, 1).narrow(-1, 0, 4).fill_(std::numeric_limits<float>::lowest());
    torch::Tensor naive_bias = torch::zeros({2, 3, 1, 71}, torch::kFloat64);
    naive_bias.select(0, 1).narrow(-1, 0, 4).fill_(-std::numeric_limits<double>::infinity());
    for (const bool padded : {false, true}) {
      torch::NoGradGuard no_grad;
      torch::Tensor got = models::CausalAttention(
          in.q, in.k, in.v, padded ? bias.view({6, 1, 71}) : torch::Tensor(), 0.3);
      torch::Tensor expected =
          Naive(in.q.to(torch::kFloat64), in.k.to(torch::kFloat64), in.v.to(torch::kFloat64),
                padded ? naive_bias.view({6, 1, 71}) : torch::Tensor(), 0.3);
      EXPECT_LT(MaxError(got, expected), 2e-6) << (padded ? "padded" : "causal only");
    }
  }
}

TEST(CausalAttention, ResultsDoNotDependOnTheThreadCount) {
  Inputs in = MakeInputs(2, 3, 100, 100, 8, 6);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::Tensor one = models::CausalAttention(in.q, in.k, in.v, torch::Tensor(), 0.3);
  at::set_num_threads(2);
  torch::Tensor two = models::CausalAttention(in.q, in.k, in.v, torch::Tensor(), 0.3);
  at::set_num_threads(threads);
  EXPECT_TRUE(one.equal(two));
}

}  // namespace
}  // namespace graft::testing
