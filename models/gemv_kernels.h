// Torch-free products of a few F32 rows (generation: one) with F32 or BF16 weight rows, and of
// one row with a matrix's rows combined (attention of one query), with AVX-512 and AVX2 versions
// chosen at run time and a portable one.
#pragma once

#include <cstdint>
#include <string_view>

namespace graft::models {

// The most rows of x one pass over the weights serves (ParallelLinear sends products of more
// rows to BLAS).
inline constexpr int64_t kGemvMaxRows = 4;

// The instruction sets a kernel can be built for. kAuto picks the best the CPU has.
enum class GemvIsa { kAuto, kPortable, kAvx2, kAvx512 };

// The kernel the products use from now on; an instruction set the CPU lacks falls back to the
// best it has (kPortable, plain vector code for any x86-64, is always available). For tests and
// benchmarks; returns the one in use.
GemvIsa UseGemvIsa(GemvIsa isa);
GemvIsa ActiveGemvIsa();
std::string_view GemvIsaName(GemvIsa isa);  // "portable", "avx2", "avx512"

// The weights' element type: F32, or BF16 (the upper 16 bits of an F32, widened exactly).
enum class GemvWeights { kF32, kBF16 };

// y[r * ldy + j] = bias[j] + Σ_k x[r * ldx + k] · w[j * ldw + k] for the `m` (1..kGemvMaxRows)
// rows r of x and the weight rows j in [row_begin, row_end), accumulated in F32; `bias` may be
// null (then 0). One pass over those weight rows, a few at a time, each read once for every row
// of x: a matrix-vector product that streams the weights at the memory's speed.
void GemvRows(const void* w, GemvWeights type, int64_t ldw, int64_t k, const float* x, int64_t ldx,
              int64_t m, int64_t row_begin, int64_t row_end, const float* bias, float* y,
              int64_t ldy);

// y[d] = Σ_{j < count} p[j] · v[j * ldv + d] for d in [0, width): a row of weights times a
// matrix whose rows are contiguous (one query's attention probabilities times the values).
void CombineRows(const float* p, int64_t count, const float* v, int64_t ldv, int64_t width,
                 float* y);

}  // namespace graft::models
