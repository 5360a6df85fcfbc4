#include "models/q8_kernels.h"

// GCC 12 warns that the AVX-512 intrinsics' own "undefined" placeholders are uninitialised
// where they are inlined (GCC bug 105593, fixed in 13): off for this file, whose vectors are all
// initialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>

namespace graft::models {
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

// `rows` (1 to kTileRows) quantised activation rows (x_values with row stride k_size, x_scales
// with row stride `groups`) dotted with one weight row, per instruction set: out[r]. Each group's
// 32 products are summed in int32 (exactly: |sum| ≤ 32 · 127 · 128), then scaled in F32.
constexpr int64_t kTileRows = 4;
using Int8DotFn = void (*)(const int8_t* q, const uint16_t* scales, const int8_t* x_values,
                           const float* x_scales, int64_t k_size, int64_t groups, int64_t rows,
                           float* out);

void Int8DotScalar(const int8_t* q, const uint16_t* scales, const int8_t* x_values,
                   const float* x_scales, int64_t k_size, int64_t groups, int64_t rows,
                   float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* x = x_values + r * k_size;
    float total = 0;
    for (int64_t g = 0; g < groups; ++g) {
      int32_t sum = 0;
      for (int64_t t = 0; t < kQ8Group; ++t) {
        sum += static_cast<int32_t>(q[g * kQ8Group + t]) * x[g * kQ8Group + t];
      }
      total += static_cast<float>(sum) * (HalfBitsToFloat(scales[g]) * x_scales[r * groups + g]);
    }
    out[r] = total;
  }
}

// The sum of eight float lanes.
__attribute__((target("avx2,fma,f16c"), always_inline)) inline float Sum8(__m256 v) {
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// llama.cpp's AVX2 product of two int8 groups: |w| (u8) times x with w's sign (s8) in
// vpmaddubsw (pairs of products: at most 2 · 128 · 127, no saturation), pairs summed to int32.
template <int kRows>
__attribute__((target("avx2,fma,f16c"))) void Int8DotAvx2Rows(const int8_t* q,
                                                              const uint16_t* scales,
                                                              const int8_t* x_values,
                                                              const float* x_scales, int64_t k_size,
                                                              int64_t groups, float* out) {
  __m256 acc[kRows];
  for (int r = 0; r < kRows; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t g = 0; g < groups; ++g) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + g * kQ8Group));
    const __m256i magnitude = _mm256_sign_epi8(w, w);
    const float scale = _cvtsh_ss(scales[g]);
    for (int r = 0; r < kRows; ++r) {
      const __m256i x = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(x_values + r * k_size + g * kQ8Group));
      const __m256i pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(x, w));
      const __m256i sums = _mm256_madd_epi16(pairs, ones);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                               _mm256_set1_ps(scale * x_scales[r * groups + g]), acc[r]);
    }
  }
  for (int r = 0; r < kRows; ++r) out[r] = Sum8(acc[r]);
}

// VNNI: vpdpbusd sums four u8 · s8 products into each int32 lane (|w| and x with w's sign, as
// above), two groups to a 512-bit register (lanes 0-7 and 8-15), each lane scaled by its group's
// two scales; an odd last group takes a 256-bit step.
template <int kRows>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) void Int8DotVnniRows(
    const int8_t* q, const uint16_t* scales, const int8_t* x_values, const float* x_scales,
    int64_t k_size, int64_t groups, float* out) {
  __m512 acc[kRows];
  for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_ps();
  // Lanes 0-7 take element 0, lanes 8-15 element 1 (of two F16 or two F32 scales).
  const __m256i half_pair = _mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i float_pair = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  int64_t g = 0;
  for (; g + 1 < groups; g += 2) {
    const __m512i w = _mm512_loadu_si512(q + g * kQ8Group);
    const __m512i magnitude = _mm512_abs_epi8(w);
    const __mmask64 negative = _mm512_movepi8_mask(w);
    uint32_t two_scales;
    std::memcpy(&two_scales, scales + g, sizeof two_scales);
    const __m512 w_scale = _mm512_cvtph_ps(_mm256_permutexvar_epi16(
        half_pair, _mm256_castsi128_si256(_mm_cvtsi32_si128(static_cast<int>(two_scales)))));
    for (int r = 0; r < kRows; ++r) {
      const __m512i x = _mm512_loadu_si512(x_values + r * k_size + g * kQ8Group);
      const __m512i signed_x = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), magnitude, signed_x);
      const __m512 x_scale = _mm512_permutexvar_ps(
          float_pair, _mm512_castps128_ps512(_mm_castsi128_ps(_mm_loadl_epi64(
                          reinterpret_cast<const __m128i*>(x_scales + r * groups + g)))));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(w_scale, x_scale), acc[r]);
    }
  }
  __m256 last[kRows];
  for (int r = 0; r < kRows; ++r) last[r] = _mm256_setzero_ps();
  if (g < groups) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + g * kQ8Group));
    const __m256i magnitude = _mm256_abs_epi8(w);
    const float scale = _cvtsh_ss(scales[g]);
    for (int r = 0; r < kRows; ++r) {
      const __m256i x = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(x_values + r * k_size + g * kQ8Group));
      const __m256i sums =
          _mm256_dpbusd_epi32(_mm256_setzero_si256(), magnitude, _mm256_sign_epi8(x, w));
      last[r] =
          _mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale * x_scales[r * groups + g]));
    }
  }
  for (int r = 0; r < kRows; ++r) {
    // Eight lanes, then as Sum8. (Not _mm512_reduce_add_ps: GCC 12 warns inside it.)
    const __m256 lanes =
        _mm256_add_ps(_mm512_castps512_ps256(acc[r]),
                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r]), 1)));
    out[r] = Sum8(_mm256_add_ps(lanes, last[r]));
  }
}

// A kernel of kRows rows for every row count up to kTileRows.
template <template <int> class Tile>
void ByRows(const int8_t* q, const uint16_t* scales, const int8_t* x_values, const float* x_scales,
            int64_t k_size, int64_t groups, int64_t rows, float* out) {
  switch (rows) {
    case 1:
      return Tile<1>::Run(q, scales, x_values, x_scales, k_size, groups, out);
    case 2:
      return Tile<2>::Run(q, scales, x_values, x_scales, k_size, groups, out);
    case 3:
      return Tile<3>::Run(q, scales, x_values, x_scales, k_size, groups, out);
    default:
      return Tile<4>::Run(q, scales, x_values, x_scales, k_size, groups, out);
  }
}

template <int kRows>
struct Avx2Tile {
  static void Run(const int8_t* q, const uint16_t* scales, const int8_t* x_values,
                  const float* x_scales, int64_t k_size, int64_t groups, float* out) {
    Int8DotAvx2Rows<kRows>(q, scales, x_values, x_scales, k_size, groups, out);
  }
};

template <int kRows>
struct VnniTile {
  static void Run(const int8_t* q, const uint16_t* scales, const int8_t* x_values,
                  const float* x_scales, int64_t k_size, int64_t groups, float* out) {
    Int8DotVnniRows<kRows>(q, scales, x_values, x_scales, k_size, groups, out);
  }
};

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
    case Q8Isa::kAvx512Vnni:
      return Supported(Q8Isa::kAvx512) && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    case Q8Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && Supported(Q8Isa::kAvx2);
    case Q8Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
             __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

Q8Isa Best(Q8Isa wanted) {
  // Each instruction set falls back to the ones listed after it.
  constexpr Q8Isa kOrder[] = {Q8Isa::kAvx512Vnni, Q8Isa::kAvx512, Q8Isa::kAvx2};
  bool allowed = wanted == Q8Isa::kAuto;
  for (Q8Isa isa : kOrder) {
    allowed = allowed || wanted == isa;
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
  Int8DotFn int8_dot;
};

Kernels KernelsFor(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAvx512Vnni:
      return {DotAvx512, DequantizeAvx512, ByRows<VnniTile>};
    case Q8Isa::kAvx512:
      return {DotAvx512, DequantizeAvx512, ByRows<Avx2Tile>};
    case Q8Isa::kAvx2:
      return {DotAvx2, DequantizeAvx2, ByRows<Avx2Tile>};
    default:
      return {DotScalar, DequantizeScalar, Int8DotScalar};
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
    case Q8Isa::kAvx512Vnni:
      return "avx512vnni";
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

void QuantizeActivationsQ8(const float* x, int64_t k, int8_t* values, float* scales) {
  for (int64_t g = 0; g < k / kQ8Group; ++g) {
    const float* group = x + g * kQ8Group;
    float amax = 0;
    for (int64_t t = 0; t < kQ8Group; ++t) amax = std::max(amax, std::fabs(group[t]));
    scales[g] = amax / 127.0f;
    const float inverse = amax != 0 ? 127.0f / amax : 0.0f;
    for (int64_t t = 0; t < kQ8Group; ++t) {
      // nearbyint rounds halves to even in the default rounding mode, as vroundps does.
      values[g * kQ8Group + t] = static_cast<int8_t>(std::nearbyint(group[t] * inverse));
    }
  }
}

void Q8Int8RowProducts(const int8_t* values, const uint16_t* scales, int64_t k_size,
                       const int8_t* x_values, const float* x_scales, int64_t m, int64_t row_begin,
                       int64_t row_end, float* y, int64_t ldy) {
  const Int8DotFn dot = KernelsFor(ActiveQ8Isa()).int8_dot;
  const int64_t groups = k_size / kQ8Group;
  // Rows of x a block (in L2 with their weight rows: 64 rows of K = 5632 are 352 KiB).
  const int64_t block = std::max<int64_t>(kTileRows, (384 << 10) / k_size / kTileRows * kTileRows);
  float out[kTileRows];
  for (int64_t b = 0; b < m; b += block) {
    const int64_t block_end = std::min(m, b + block);
    for (int64_t j = row_begin; j < row_end; ++j) {
      const int8_t* q = values + j * k_size;
      const uint16_t* s = scales + j * groups;
      for (int64_t r = b; r < block_end; r += kTileRows) {
        const int64_t rows = std::min(kTileRows, block_end - r);
        dot(q, s, x_values + r * k_size, x_scales + r * groups, k_size, groups, rows, out);
        for (int64_t i = 0; i < rows; ++i) y[(r + i) * ldy + j] = out[i];
      }
    }
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

}  // namespace graft::models
