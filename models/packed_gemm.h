// PackedGemm: one thread's F32 matrix product c = a b (+ c), with an AVX-512 register tile of 12
// rows × 32 columns over operands first copied ("packed") into cache-sized panels, BLIS's
// scheme. On this project's 2-core Zen 5 machine it runs at 77-88% of the cores' FMA peak, ~1.7×
// OpenBLAS 0.3.21's sgemm (bench/README.md, "An AVX-512 GEMM of graft's own"). ParallelLinear
// splits a product across threads and gives each thread's part to this, or to BLAS where this
// does not apply. Torch-free.
#pragma once

#include <cstdint>

namespace graft::models {

// A matrix of F32 values: element (i, j) at data[i * row_stride + j * column_stride]. Either
// stride may be 1 (row-major or column-major) or neither.
struct FloatMatrix {
  const float* data;
  int64_t row_stride;
  int64_t column_stride;
};

// Whether PackedGemm runs here: the CPU has AVX-512, the matrix-vector kernels' instruction set
// in use (UseGemvIsa, gemv_kernels.h) is AVX-512, and UsePackedGemm did not turn it off;
// otherwise products go to BLAS.
bool PackedGemmAvailable();

// Products of fewer rows than this stay with BLAS: each weight panel a thread packs serves only
// 2 × rows FLOPs per element, and llama-1b's prompt of 32 tokens measured ×0.90 of BLAS through
// PackedGemm, 64 tokens ×1.39 (bench/README.md, "An AVX-512 GEMM of graft's own").
inline constexpr int64_t kPackedGemmMinRows = 64;

// Whether a product of `rows` rows goes to PackedGemm: PackedGemmAvailable() and at least
// kPackedGemmMinRows rows.
bool PackedGemmTakes(int64_t rows);

// For tests and benchmarks: whether products may use PackedGemm at all (by default they may).
// Returns PackedGemmAvailable() after the change.
bool UsePackedGemm(bool use);

// c[i * ldc + j] (+)= Σ_p a(i, p) b(p, j) for i < m, j < n, p < k, on the calling thread: `c`
// is overwritten, or added to with `accumulate`. Requires PackedGemmAvailable(). Elements of c
// outside the m × n block are neither read nor written.
void PackedGemm(int64_t m, int64_t n, int64_t k, FloatMatrix a, FloatMatrix b, bool accumulate,
                float* c, int64_t ldc);

}  // namespace graft::models
