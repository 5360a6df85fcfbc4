#include "models/gelu_tanh_kernel.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <initializer_list>

namespace graft {
namespace {

// Eight floats (or ints) processed together: AVX registers in the avx2 clone, pairs of SSE
// registers otherwise.
using Floats = float __attribute__((vector_size(32)));
using Ints = int32_t __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

constexpr float kTwoSqrtTwoOverPi = 1.5957691216057308f;  // 2 sqrt(2/pi)
constexpr float kCubic = 0.044715f;

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

// sigmoid(2u) = 0.5 (1 + tanh(u)) for u = sqrt(2/pi) (x + 0.044715 x^3).
[[gnu::always_inline]] inline Floats HalfOnePlusTanh(Floats x) {
  const Floats v = kTwoSqrtTwoOverPi * (x + kCubic * x * x * x);
  return 1.0f / (1.0f + Exp(-v));
}

[[gnu::always_inline]] inline Floats Gelu(Floats x) { return x * HalfOnePlusTanh(x); }

// d/dx [x s(x)] = s + x s (1 - s) v'(x), s = sigmoid(v), v = 2 sqrt(2/pi) (x + 0.044715 x^3).
[[gnu::always_inline]] inline Floats GeluSlope(Floats x) {
  const Floats s = HalfOnePlusTanh(x);
  return s + x * s * (1.0f - s) * kTwoSqrtTwoOverPi * (1.0f + 3.0f * kCubic * x * x);
}

[[gnu::always_inline]] inline Floats Load(const float* p) {
  Floats v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void Store(float* p, Floats v) { std::memcpy(p, &v, sizeof v); }

// The last n % kLanes elements: copied into a zero-padded vector, computed, copied back.
template <typename Compute>
[[gnu::always_inline]] inline void Tail(int64_t count, float* out, Compute compute,
                                        std::initializer_list<const float*> in) {
  if (count == 0) return;
  float lanes[3][kLanes] = {};
  int k = 0;
  for (const float* p : in) std::copy(p, p + count, lanes[k++]);
  Floats result = compute(Load(lanes[0]), Load(lanes[1]));
  Store(lanes[2], result);
  std::copy(lanes[2], lanes[2] + count, out);
}

}  // namespace

// Whole vectors first, then the tail padded to one vector, so every element gets the same code.
[[gnu::target_clones("avx2", "default")]] void GeluTanhForward(const float* x, float* y,
                                                               int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(y + i, Gelu(Load(x + i)));
  Tail(n - i, y + i, [](Floats v, Floats) { return Gelu(v); }, {x + i});
}

[[gnu::target_clones("avx2", "default")]] void GeluTanhBackward(const float* x, const float* dy,
                                                                float* dx, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(dx + i, Load(dy + i) * GeluSlope(Load(x + i)));
  Tail(n - i, dx + i, [](Floats v, Floats g) { return g * GeluSlope(v); }, {x + i, dy + i});
}

}  // namespace graft
