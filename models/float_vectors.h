// Eight-float vectors (GCC vector extensions) and the exp they need, for graft's torch-free
// kernels (gelu_tanh_kernel.cc, softmax_kernel.cc). Include it only from .cc files compiled with
// -ffp-contract=off and target_clones("avx2", "default"): every helper is always inlined into
// those clones, so each CPU computes the same bits.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace graft::models::float_vectors {

// Eight floats (or ints) processed together: AVX registers in the avx2 clone, pairs of SSE
// registers otherwise.
using Floats = float __attribute__((vector_size(32)));
using Ints = int32_t __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

// exp(x) by Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for exp(r)
// (relative error below 2e-7), times 2^n built in the exponent bits. Inputs are clamped to
// [-87, 87], where exp stays a normal float.
[[gnu::always_inline]] inline Floats Exp(Floats x) {
  x = x < 87.0f ? x : 87.0f;
  x = x > -87.0f ? x : -87.0f;
  const Floats scaled = x * 1.44269504088896341f;
  const Ints n = __builtin_convertvector(scaled + (scaled >= 0.0f ? 0.5f : -0.5f), Ints);
  const Floats nf = __builtin_convertvector(n, Floats);
  const Floats r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
  Floats p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const Ints exponent = (n + 127) << 23;
  return p * std::bit_cast<Floats>(exponent);
}

// Unaligned loads and stores. (Never through small stack arrays in a loop: the store-forwarding
// stalls made a kernel 3x slower.)
[[gnu::always_inline]] inline Floats Load(const float* p) {
  Floats v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void Store(float* p, Floats v) { std::memcpy(p, &v, sizeof v); }

// The lanes of `v` summed, in a fixed order.
[[gnu::always_inline]] inline float Sum(Floats v) {
  float total = 0.0f;
  for (int64_t i = 0; i < kLanes; ++i) total += v[i];
  return total;
}

[[gnu::always_inline]] inline float Max(Floats v) {
  float most = v[0];
  for (int64_t i = 1; i < kLanes; ++i) most = std::max(most, v[i]);
  return most;
}

// The last count < kLanes elements of an array: copied into a vector padded with `pad`.
[[gnu::always_inline]] inline Floats LoadPartial(const float* p, int64_t count, float pad) {
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, pad);
  std::copy(p, p + count, lanes);
  return Load(lanes);
}

[[gnu::always_inline]] inline void StorePartial(float* p, int64_t count, Floats v) {
  float lanes[kLanes];
  Store(lanes, v);
  std::copy(lanes, lanes + count, p);
}

}  // namespace graft::models::float_vectors
