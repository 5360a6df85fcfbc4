// Torch-free kernels over Q8_0 matrices (models/q8_weights.h): dot products of F32 rows with
// int8 weight rows, with AVX-512 and AVX2 versions chosen at run time and a portable one.
#pragma once

#include <cstdint>
#include <string_view>

namespace graft {

// Q8_0 groups: 32 consecutive inputs share one scale, as in llama.cpp's Q8_0 blocks.
inline constexpr int64_t kQ8Group = 32;

// The instruction sets a kernel can be built for. kAuto picks the best the CPU has.
enum class Q8Isa { kAuto, kScalar, kAvx2, kAvx512 };

// The kernel the products use from now on; an instruction set the CPU lacks falls back to the
// best it has (kScalar is always available). For tests and benchmarks; returns the one in use.
Q8Isa UseQ8Isa(Q8Isa isa);
Q8Isa ActiveQ8Isa();
std::string_view Q8IsaName(Q8Isa isa);  // "scalar", "avx2", "avx512"

// y[r * ldy + j] = Σ_k x[r * ldx + k] · scale(j, k / 32) · values[j * k_size + k] for the `m`
// rows r of x and the weight rows j in [row_begin, row_end): one pass over those weight rows
// (each is read once, for every row of x). `values` [N, K] int8 row-major, `scales` [N, K / 32]
// F16 bits, K a multiple of 32.
void Q8RowProducts(const int8_t* values, const uint16_t* scales, int64_t k_size, const float* x,
                   int64_t ldx, int64_t m, int64_t row_begin, int64_t row_end, float* y,
                   int64_t ldy);

// to[g * 32 + t] = scale(g) · values[g * 32 + t] for `groups` whole groups.
void Q8DequantizeGroups(const int8_t* values, const uint16_t* scales, int64_t groups, float* to);

// F32 value of F16 bits (every F16 value, subnormals included, is exact in F32).
float HalfBitsToFloat(uint16_t bits);

}  // namespace graft
