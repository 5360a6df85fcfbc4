#include "models/gelu_tanh_kernel.h"

#include <initializer_list>

#include "models/float_vectors.h"

namespace graft::models {
namespace {

using namespace float_vectors;

constexpr float kTwoSqrtTwoOverPi = 1.5957691216057308f;  // 2 sqrt(2/pi)
constexpr float kCubic = 0.044715f;

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

// The last count < kLanes elements, padded to one vector with zeros.
template <typename Compute>
[[gnu::always_inline]] inline void Tail(int64_t count, float* out, Compute compute,
                                        std::initializer_list<const float*> in) {
  if (count == 0) return;
  Floats args[2] = {};
  int k = 0;
  for (const float* p : in) args[k++] = LoadPartial(p, count, 0.0f);
  StorePartial(out, count, compute(args[0], args[1]));
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

}  // namespace graft::models
