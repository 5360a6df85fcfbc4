// Torch-free kernels over Q8_0 matrices (models/q8_weights.h): dot products of F32 rows, or of
// rows quantised to Q8_0 themselves, with int8 weight rows; AVX-512 (VNNI) and AVX2 versions
// chosen at run time, and a portable one.
#pragma once

#include <cstdint>
#include <string_view>

namespace graft::models {

// Q8_0 groups: 32 consecutive inputs share one scale, as in llama.cpp's Q8_0 blocks.
inline constexpr int64_t kQ8Group = 32;

// The instruction sets a kernel can be built for. kAuto picks the best the CPU has. kAvx512Vnni
// is kAvx512 with int8 × int8 dot products in VNNI (vpdpbusd); the others multiply int8 by int8
// with AVX2's vpmaddubsw (kAvx2, kAvx512) or in portable C++ (kScalar).
enum class Q8Isa { kAuto, kScalar, kAvx2, kAvx512, kAvx512Vnni };

// The kernel the products use from now on; an instruction set the CPU lacks falls back to the
// best it has (kScalar is always available). For tests and benchmarks; returns the one in use.
Q8Isa UseQ8Isa(Q8Isa isa);
Q8Isa ActiveQ8Isa();
std::string_view Q8IsaName(Q8Isa isa);  // "scalar", "avx2", "avx512", "avx512vnni"

// y[r * ldy + j] = Σ_k x[r * ldx + k] · scale(j, k / 32) · values[j * k_size + k] for the `m`
// rows r of x and the weight rows j in [row_begin, row_end): one pass over those weight rows
// (each is read once, for every row of x). `values` [N, K] int8 row-major, `scales` [N, K / 32]
// F16 bits, K a multiple of 32.
void Q8RowProducts(const int8_t* values, const uint16_t* scales, int64_t k_size, const float* x,
                   int64_t ldx, int64_t m, int64_t row_begin, int64_t row_end, float* y,
                   int64_t ldy);

// Quantises one row of activations x [k] (k a multiple of 32) to Q8_0 as llama.cpp's
// quantize_row_q8_0 does on x86 (what its Q8_0 × Q8_0 products read): per group of 32, with
// a = max |x|, value = round-half-to-even(x · (127 / a)) (0 for an all-zero group), so values
// lie in [-127, 127]; the group's scale a / 127 is kept in F32 (llama.cpp rounds it to F16).
void QuantizeActivationsQ8(const float* x, int64_t k, int8_t* values, float* scales);

// y[r * ldy + j] = Σ_g scale(j, g) · x_scales[r * G + g] · Σ_t values[j * k + 32 g + t] ·
// x_values[r * k + 32 g + t] for the `m` quantised rows r (QuantizeActivationsQ8; G = k / 32)
// and the weight rows j in [row_begin, row_end): each group's products are summed exactly in
// int32, then scaled in F32. Up to 4 rows of x share each load of a weight row; more rows are
// taken in blocks that stay in cache while the weight rows are read once a block.
void Q8Int8RowProducts(const int8_t* values, const uint16_t* scales, int64_t k_size,
                       const int8_t* x_values, const float* x_scales, int64_t m, int64_t row_begin,
                       int64_t row_end, float* y, int64_t ldy);

// to[g * 32 + t] = scale(g) · values[g * 32 + t] for `groups` whole groups.
void Q8DequantizeGroups(const int8_t* values, const uint16_t* scales, int64_t groups, float* to);

// F32 value of F16 bits (every F16 value, subnormals included, is exact in F32).
float HalfBitsToFloat(uint16_t bits);

}  // namespace graft::models
