#include "models/q8_kernels.h"

// GCC 12 warns that the AVX-512 intrinsics' own "undefined" placeholders are uninitialised
// where they are inlined (GCC bug 105593, fixed in 13): off for this file, whose vectors are all
// initialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <atomic>
#include <bit>
#include <cmath>

namespace graft {
namespace {

// One weight row (`groups` groups of 32 int8 values and their F16 scales) dotted with x, per
// instruction set. Each sums a group's 32 products first, then adds the group's sum times its
// scale, as the dequantised row would give up to rounding.
using DotFn = float (*)(const int8_t* q, const uint16_t* scales, const float* x, int64_t groups);

float DotScalar(const int8_t* q, const uint16_t* scales, const float* x, int64_t groups) {
  float total = 0;
  for (int64_t g = 0; g < groups; ++g) {
    float sum = 0;
    for (int64_t t = 0; t < kQ8Group; ++t) {
      sum += static_cast<float>(q[g * kQ8Group + t]) * x[g * kQ8Group + t];
    }
    total += sum * HalfBitsToFloat(scales[g]);
  }
  return total;
}

// Eight int8 values as eight floats.
__attribute__((target("avx2,fma,f16c"), always_inline)) inline __m256 Load8(const int8_t* q) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}

// A group's 32 products with x, in eight lanes.
__attribute__((target("avx2,fma,f16c"), always_inline)) inline __m256 GroupAvx2(const int8_t* q,
                                                                                const float* x) {
  __m256 a = _mm256_mul_ps(Load8(q), _mm256_loadu_ps(x));
  __m256 b = _mm256_mul_ps(Load8(q + 8), _mm256_loadu_ps(x + 8));
  a = _mm256_fmadd_ps(Load8(q + 16), _mm256_loadu_ps(x + 16), a);
  b = _mm256_fmadd_ps(Load8(q + 24), _mm256_loadu_ps(x + 24), b);
  return _mm256_add_ps(a, b);
}

__attribute__((target("avx2,fma,f16c"))) float DotAvx2(const int8_t* q, const uint16_t* scales,
                                                       const float* x, int64_t groups) {
  // Two accumulators (two groups a step), so that consecutive groups do not wait on each
  // other's multiply-add; named variables, so that they stay in registers.
  __m256 even = _mm256_setzero_ps();
  __m256 odd = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 1 < groups; g += 2) {
    even = _mm256_fmadd_ps(GroupAvx2(q + g * kQ8Group, x + g * kQ8Group),
                           _mm256_set1_ps(_cvtsh_ss(scales[g])), even);
    odd = _mm256_fmadd_ps(GroupAvx2(q + (g + 1) * kQ8Group, x + (g + 1) * kQ8Group),
                          _mm256_set1_ps(_cvtsh_ss(scales[g + 1])), odd);
  }
  if (g < groups) {
    even = _mm256_fmadd_ps(GroupAvx2(q + g * kQ8Group, x + g * kQ8Group),
                           _mm256_set1_ps(_cvtsh_ss(scales[g])), even);
  }
  const __m256 sum = _mm256_add_ps(even, odd);
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// Sixteen int8 values as sixteen floats.
__attribute__((target("avx512f,avx2,fma,f16c"), always_inline)) inline __m512 Load16(
    const int8_t* q) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
}

// A group's 32 products with x, in sixteen lanes.
__attribute__((target("avx512f,avx2,fma,f16c"), always_inline)) inline __m512 GroupAvx512(
    const int8_t* q, const float* x) {
  const __m512 a = _mm512_mul_ps(Load16(q), _mm512_loadu_ps(x));
  return _mm512_fmadd_ps(Load16(q + 16), _mm512_loadu_ps(x + 16), a);
}

__attribute__((target("avx512f,avx2,fma,f16c"))) float DotAvx512(const int8_t* q,
                                                                 const uint16_t* scales,
                                                                 const float* x, int64_t groups) {
  __m512 even = _mm512_setzero_ps();  // as DotAvx2
  __m512 odd = _mm512_setzero_ps();
  int64_t g = 0;
  for (; g + 1 < groups; g += 2) {
    even = _mm512_fmadd_ps(GroupAvx512(q + g * kQ8Group, x + g * kQ8Group),
                           _mm512_set1_ps(_cvtsh_ss(scales[g])), even);
    odd = _mm512_fmadd_ps(GroupAvx512(q + (g + 1) * kQ8Group, x + (g + 1) * kQ8Group),
                          _mm512_set1_ps(_cvtsh_ss(scales[g + 1])), odd);
  }
  if (g < groups) {
    even = _mm512_fmadd_ps(GroupAvx512(q + g * kQ8Group, x + g * kQ8Group),
                           _mm512_set1_ps(_cvtsh_ss(scales[g])), even);
  }
  // Eight lanes, then as DotAvx2. (Not _mm512_reduce_add_ps: GCC 12 warns inside it.)
  const __m512 sum = _mm512_add_ps(even, odd);
  const __m256 lanes =
      _mm256_add_ps(_mm512_castps512_ps256(sum),
                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1)));
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// Whole groups dequantised into F32, per instruction set.
using DequantizeFn = void (*)(const int8_t* q, const uint16_t* scales, int64_t groups, float* to);

void DequantizeScalar(const int8_t* q, const uint16_t* scales, int64_t groups, float* to) {
  for (int64_t g = 0; g < groups; ++g) {
    const float scale = HalfBitsToFloat(scales[g]);
    for (int64_t t = 0; t < kQ8Group; ++t) {
      to[g * kQ8Group + t] = static_cast<float>(q[g * kQ8Group + t]) * scale;
    }
  }
}

__attribute__((target("avx2,fma,f16c"))) void DequantizeAvx2(const int8_t* q,
                                                             const uint16_t* scales, int64_t groups,
                                                             float* to) {
  for (int64_t g = 0; g < groups; ++g) {
    const __m256 scale = _mm256_set1_ps(_cvtsh_ss(scales[g]));
    for (int64_t t = 0; t < kQ8Group; t += 8) {
      _mm256_storeu_ps(to + g * kQ8Group + t, _mm256_mul_ps(Load8(q + g * kQ8Group + t), scale));
    }
  }
}

__attribute__((target("avx512f,avx2,fma,f16c"))) void DequantizeAvx512(const int8_t* q,
                                                                       const uint16_t* scales,
                                                                       int64_t groups, float* to) {
  for (int64_t g = 0; g < groups; ++g) {
    const __m512 scale = _mm512_set1_ps(_cvtsh_ss(scales[g]));
    _mm512_storeu_ps(to + g * kQ8Group, _mm512_mul_ps(Load16(q + g * kQ8Group), scale));
    _mm512_storeu_ps(to + g * kQ8Group + 16, _mm512_mul_ps(Load16(q + g * kQ8Group + 16), scale));
  }
}

bool Supported(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c") &&
             __builtin_cpu_supports("fma");
    case Q8Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
             __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

Q8Isa Best(Q8Isa wanted) {
  for (Q8Isa isa : {Q8Isa::kAvx512, Q8Isa::kAvx2}) {
    const bool allowed = wanted == Q8Isa::kAuto || wanted == isa ||
                         (wanted == Q8Isa::kAvx512 && isa == Q8Isa::kAvx2);
    if (allowed && Supported(isa)) return isa;
  }
  return Q8Isa::kScalar;
}

std::atomic<Q8Isa>& Active() {
  static std::atomic<Q8Isa> active{Best(Q8Isa::kAuto)};
  return active;
}

// The kernels of one instruction set.
struct Kernels {
  DotFn dot;
  DequantizeFn dequantize;
};

Kernels KernelsFor(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAvx512:
      return {DotAvx512, DequantizeAvx512};
    case Q8Isa::kAvx2:
      return {DotAvx2, DequantizeAvx2};
    default:
      return {DotScalar, DequantizeScalar};
  }
}

}  // namespace

Q8Isa UseQ8Isa(Q8Isa isa) {
  const Q8Isa chosen = Best(isa);
  Active().store(chosen);
  return chosen;
}

Q8Isa ActiveQ8Isa() { return Active().load(); }

std::string_view Q8IsaName(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAvx512:
      return "avx512";
    case Q8Isa::kAvx2:
      return "avx2";
    case Q8Isa::kScalar:
      return "scalar";
    case Q8Isa::kAuto:
      break;
  }
  return "auto";
}

void Q8RowProducts(const int8_t* values, const uint16_t* scales, int64_t k_size, const float* x,
                   int64_t ldx, int64_t m, int64_t row_begin, int64_t row_end, float* y,
                   int64_t ldy) {
  const DotFn dot = KernelsFor(ActiveQ8Isa()).dot;
  const int64_t groups = k_size / kQ8Group;
  for (int64_t j = row_begin; j < row_end; ++j) {
    const int8_t* q = values + j * k_size;
    const uint16_t* s = scales + j * groups;
    for (int64_t r = 0; r < m; ++r) y[r * ldy + j] = dot(q, s, x + r * ldx, groups);
  }
}

void Q8DequantizeGroups(const int8_t* values, const uint16_t* scales, int64_t groups, float* to) {
  KernelsFor(ActiveQ8Isa()).dequantize(values, scales, groups, to);
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa · 2^-24
    const float value = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -value : value;
  }
  const uint32_t f32_exponent = exponent == 0x1fu ? 0xffu : exponent + (127 - 15);
  return std::bit_cast<float>(sign | (f32_exponent << 23) | (mantissa << 13));
}

}  // namespace graft
