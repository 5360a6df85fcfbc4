#include "models/packed_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <utility>
#include <vector>

#include "models/gemv_kernels.h"

// Everything with AVX-512 instructions is a function of its own with this target, called only
// after PackedGemmAvailable(); the rest of the file (and every template it instantiates from the
// standard library) is compiled for any x86-64.
#define GRAFT_AVX512 __attribute__((target("avx512f,fma")))

// GCC 12's AVX-512 intrinsics pass `_mm512_undefined_ps()` (a self-initialised variable) as the
// unused source of their unmasked forms, which -Wmaybe-uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace graft::models {
namespace {

// The register tile: kTileRows rows of a (broadcast one at a time) × kTileColumns columns of b
// (two ZMM registers of 16 floats), 24 accumulators that keep the two FMA pipes busy.
constexpr int64_t kTileRows = 12;
constexpr int64_t kTileColumns = 32;
// The lanes of a ZMM register that hold a packed column of a tile's rows.
constexpr __mmask16 kTileRowLanes = (1u << kTileRows) - 1;

// The cache blocks (BLIS's KC, MC, NC): a kBlockDepth × kTileColumns panel of b (32 KiB) stays
// in L1 while every kTileRows × kBlockDepth panel of a's kBlockRows × kBlockDepth block (240
// KiB, in L2) passes over it; b is packed kBlockDepth × kBlockColumns (1 MiB) at a time. Measured
// on the 2-core Zen machine at llama-1b's and gpt2-124m's shapes, single-threaded: depths 192-512
// and row blocks 112-264 within ~10% of each other, these the best.
constexpr int64_t kBlockDepth = 256;
constexpr int64_t kBlockRows = 240;      // a multiple of kTileRows
constexpr int64_t kBlockColumns = 1024;  // a multiple of kTileColumns

static_assert(kBlockRows % kTileRows == 0 && kBlockColumns % kTileColumns == 0);

// The mask of the first `count` (clamped to 0..16) lanes.
inline __mmask16 FirstLanes(int64_t count) {
  return count >= 16 ? __mmask16{0xFFFF}
                     : static_cast<__mmask16>((1u << std::max<int64_t>(count, 0)) - 1);
}

// In place: the 16 rows of a 16 × 16 block become its 16 columns.
GRAFT_AVX512 inline void Transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  // Pairs of pairs: u[4g + c] holds, in each 128-bit lane L, column 4L + c of rows 4g .. 4g + 3.
  __m512 u[16];
  for (int i = 0; i < 16; i += 4) {
    const __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
    const __m512d t2 = _mm512_castps_pd(t[i + 2]), t3 = _mm512_castps_pd(t[i + 3]);
    u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  // Gather the lanes: 0x88 takes lanes 0 and 2 of each operand, 0xDD lanes 1 and 3.
  __m512 v[16];
  for (int c = 0; c < 4; ++c) {
    v[c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    v[4 + c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    v[8 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    v[12 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_shuffle_f32x4(v[c], v[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v[c], v[8 + c], 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(v[4 + c], v[12 + c], 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v[4 + c], v[12 + c], 0xDD);
  }
}

// a's rows [0, rows) (rows <= kTileRows) and columns [0, depth) into `packed`, column by column:
// packed[p * kTileRows + i] = a(i, p), the rows past `rows` zero.
GRAFT_AVX512 void PackRows(const FloatMatrix& a, int64_t rows, int64_t depth, float* packed) {
  int64_t whole = 0;           // columns of packed written by 16 × 16 transposes
  if (a.column_stride == 1) {  // a's rows are contiguous: transpose 16 columns at a time
    whole = depth - depth % 16;
    for (int64_t p = 0; p < whole; p += 16) {
      __m512 block[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        block[i] = i < rows ? _mm512_loadu_ps(a.data + i * a.row_stride + p) : _mm512_setzero_ps();
      }
      Transpose16(block);
#pragma GCC unroll 16
      for (int q = 0; q < 16; ++q) {
        _mm512_mask_storeu_ps(packed + (p + q) * kTileRows, kTileRowLanes, block[q]);
      }
    }
  } else if (a.row_stride == 1) {  // a's columns are contiguous: copy them
    const __mmask16 lanes = FirstLanes(rows);
    for (int64_t p = 0; p < depth; ++p) {
      _mm512_mask_storeu_ps(packed + p * kTileRows, kTileRowLanes,
                            _mm512_maskz_loadu_ps(lanes, a.data + p * a.column_stride));
    }
    return;
  }
  for (int64_t p = whole; p < depth; ++p) {
    float* column = packed + p * kTileRows;
    const float* from = a.data + p * a.column_stride;
    for (int64_t i = 0; i < rows; ++i) column[i] = from[i * a.row_stride];
    std::fill(column + rows, column + kTileRows, 0.0f);
  }
}

// b's rows [0, depth) and columns [0, columns) (columns <= kTileColumns) into `packed`, row by
// row: packed[p * kTileColumns + j] = b(p, j), the columns past `columns` zero.
GRAFT_AVX512 void PackColumns(const FloatMatrix& b, int64_t depth, int64_t columns, float* packed) {
  if (b.column_stride == 1) {  // b's rows are contiguous: copy them
    const __mmask16 low = FirstLanes(columns), high = FirstLanes(columns - 16);
    for (int64_t p = 0; p < depth; ++p) {
      const float* row = b.data + p * b.row_stride;
      _mm512_store_ps(packed + p * kTileColumns, _mm512_maskz_loadu_ps(low, row));
      _mm512_store_ps(packed + p * kTileColumns + 16, _mm512_maskz_loadu_ps(high, row + 16));
    }
    return;
  }
  int64_t whole = 0;  // rows of packed written by 16 × 16 transposes
  if (b.row_stride == 1 && columns == kTileColumns) {  // b's columns are contiguous: transpose
    whole = depth - depth % 16;
    for (int64_t p = 0; p < whole; p += 16) {
      for (int64_t half = 0; half < kTileColumns; half += 16) {
        __m512 block[16];
        for (int j = 0; j < 16; ++j) {
          block[j] = _mm512_loadu_ps(b.data + (half + j) * b.column_stride + p);
        }
        Transpose16(block);
        for (int q = 0; q < 16; ++q) {
          _mm512_store_ps(packed + (p + q) * kTileColumns + half, block[q]);
        }
      }
    }
  }
  for (int64_t p = whole; p < depth; ++p) {
    float* row = packed + p * kTileColumns;
    for (int64_t j = 0; j < columns; ++j) row[j] = b.data[p * b.row_stride + j * b.column_stride];
    std::fill(row + columns, row + kTileColumns, 0.0f);
  }
}

// c (kRows × up to 32, the columns in the masks) (+)= a panel × b panel over `depth`.
template <int kRows>
GRAFT_AVX512 void Tile(int64_t depth, const float* a_panel, const float* b_panel, float* c,
                       int64_t ldc, bool add, __mmask16 low, __mmask16 high) {
  __m512 sums[kRows][2];
  for (int i = 0; i < kRows; ++i) sums[i][0] = sums[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < depth; ++p) {
    const __m512 b0 = _mm512_load_ps(b_panel + p * kTileColumns);
    const __m512 b1 = _mm512_load_ps(b_panel + p * kTileColumns + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i) {
      const __m512 a = _mm512_set1_ps(a_panel[p * kTileRows + i]);
      sums[i][0] = _mm512_fmadd_ps(a, b0, sums[i][0]);
      sums[i][1] = _mm512_fmadd_ps(a, b1, sums[i][1]);
    }
  }
  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    if (add) {
      sums[i][0] = _mm512_add_ps(sums[i][0], _mm512_maskz_loadu_ps(low, row));
      sums[i][1] = _mm512_add_ps(sums[i][1], _mm512_maskz_loadu_ps(high, row + 16));
    }
    _mm512_mask_storeu_ps(row, low, sums[i][0]);
    _mm512_mask_storeu_ps(row + 16, high, sums[i][1]);
  }
}

using TileFn = void (*)(int64_t, const float*, const float*, float*, int64_t, bool, __mmask16,
                        __mmask16);

template <int... kRows>
constexpr std::array<TileFn, sizeof...(kRows)> Tiles(std::integer_sequence<int, kRows...>) {
  return {&Tile<kRows + 1>...};
}

// Tile<rows> for rows 1 .. kTileRows.
constexpr std::array<TileFn, kTileRows> kTiles =
    Tiles(std::make_integer_sequence<int, kTileRows>());

// The product with packing buffers of the caller's: `a_packed` kBlockRows × kBlockDepth and
// `b_packed` kBlockDepth × kBlockColumns floats, both 64-byte aligned.
GRAFT_AVX512 void Gemm(int64_t m, int64_t n, int64_t k, const FloatMatrix& a, const FloatMatrix& b,
                       bool accumulate, float* c, int64_t ldc, float* a_packed, float* b_packed) {
  for (int64_t column = 0; column < n; column += kBlockColumns) {
    const int64_t columns = std::min(kBlockColumns, n - column);
    for (int64_t inner = 0; inner < k; inner += kBlockDepth) {
      const int64_t depth = std::min(kBlockDepth, k - inner);
      const bool add = accumulate || inner > 0;
      for (int64_t j = 0; j < columns; j += kTileColumns) {
        const FloatMatrix from{b.data + inner * b.row_stride + (column + j) * b.column_stride,
                               b.row_stride, b.column_stride};
        PackColumns(from, depth, std::min(kTileColumns, columns - j), b_packed + j * depth);
      }
      for (int64_t row = 0; row < m; row += kBlockRows) {
        const int64_t rows = std::min(kBlockRows, m - row);
        for (int64_t i = 0; i < rows; i += kTileRows) {
          const FloatMatrix from{a.data + (row + i) * a.row_stride + inner * a.column_stride,
                                 a.row_stride, a.column_stride};
          PackRows(from, std::min(kTileRows, rows - i), depth, a_packed + i * depth);
        }
        for (int64_t j = 0; j < columns; j += kTileColumns) {
          const __mmask16 low = FirstLanes(columns - j), high = FirstLanes(columns - j - 16);
          for (int64_t i = 0; i < rows; i += kTileRows) {
            const int64_t tile_rows = std::min(kTileRows, rows - i);
            kTiles[tile_rows - 1](depth, a_packed + i * depth, b_packed + j * depth,
                                  c + (row + i) * ldc + column + j, ldc, add, low, high);
          }
        }
      }
    }
  }
}

// `count` floats, 64-byte aligned, in a buffer kept by the calling thread between calls.
float* Aligned(std::vector<float>& buffer, int64_t count) {
  constexpr int64_t kSlack = 64 / sizeof(float);
  if (static_cast<int64_t>(buffer.size()) < count + kSlack) buffer.resize(count + kSlack);
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<float*>((address + 63) & ~uintptr_t{63});
}

std::atomic<bool>& Allowed() {
  static std::atomic<bool> allowed{true};
  return allowed;
}

}  // namespace

bool PackedGemmAvailable() { return Allowed().load() && ActiveGemvIsa() == GemvIsa::kAvx512; }

bool PackedGemmTakes(int64_t rows) { return rows >= kPackedGemmMinRows && PackedGemmAvailable(); }

bool UsePackedGemm(bool use) {
  Allowed().store(use);
  return PackedGemmAvailable();
}

void PackedGemm(int64_t m, int64_t n, int64_t k, FloatMatrix a, FloatMatrix b, bool accumulate,
                float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    }
    return;
  }
  thread_local std::vector<float> a_buffer, b_buffer;
  float* a_packed = Aligned(a_buffer, kBlockRows * kBlockDepth);
  float* b_packed = Aligned(b_buffer, kBlockDepth * kBlockColumns);
  Gemm(m, n, k, a, b, accumulate, c, ldc, a_packed, b_packed);
}

}  // namespace graft::models
