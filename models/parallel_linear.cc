#include "models/parallel_linear.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "models/gemv_kernels.h"
#include "models/packed_gemm.h"
#include "models/parallel_chunks.h"
#include "models/q8_weights.h"

namespace graft::models {
namespace {

// A part of a product is worth a thread of its own from about this many multiply-adds on: a few
// microseconds of GEMM, against the cost of handing work to another thread.
constexpr int64_t kMinMultiplyAddsPerPart = 1 << 18;

// Products of fewer rows than this split the columns: the weight, not the rows, is the work.
constexpr int64_t kMinRowsForRowSplit = 16;

// Products of more rows than this split the rows even when the columns are more.
constexpr int64_t kMaxRowsForColumnSplit = 512;

// Whether an F32 product of a [M, K] and b [K, N] splits b's columns rather than a's rows. BLAS
// first copies ("packs") both operands: split by rows, every thread packs all of b (the
// weight, read from memory); split by columns, only its share of b but all of a (in cache). So
// the columns win while the rows are few and no more than the columns: single-threaded sgemm
// halves at llama-1b's and gpt2-124m's shapes measured 1.3-2x faster split by columns at M = 32,
// 1.1-1.25x at 128, 1.02-1.06x at 512 (N >= 2048), and 0.92-1x at M > N (bench/README.md,
// "Scoring: the FP32 ceiling"); at M = 2048 (gpt2-124m LoRA training, batch 4 x 512) the rows
// trained ~5% faster (5 interleaved pairs; bench/README.md, "Decode: grouped-query attention in
// place").
bool SplitColumns(const torch::Tensor& a, const torch::Tensor& b) {
  return a.size(0) < kMinRowsForRowSplit ||
         (a.size(0) <= b.size(1) && a.size(0) <= kMaxRowsForColumnSplit);
}

// The fewest rows (or columns) of a part whose rows each cost `multiply_adds`.
int64_t MinPart(int64_t multiply_adds) {
  return kMinMultiplyAddsPerPart / std::max<int64_t>(1, multiply_adds);
}

// out = a b (+ bias), the rows of a and out split across threads.
void RowSplitProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                     const torch::Tensor& bias) {
  ForEachChunk(a.size(0), MinPart(a.size(1) * b.size(1)), [&](int64_t begin, int64_t end) {
    torch::Tensor part = out.narrow(0, begin, end - begin);
    ProductOnThisThread(part, a.narrow(0, begin, end - begin), b, bias);
  });
}

// Converts `count` values at `from` (BF16 or F16) to F32 at `to`.
void ToFloat(const void* from, c10::ScalarType type, int64_t count, float* to) {
  if (type == c10::kBFloat16) {
    // A BF16 is the upper half of the F32 with the same value.
    const uint16_t* bits = static_cast<const uint16_t*>(from);
    uint32_t* out = reinterpret_cast<uint32_t*>(to);
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(bits[i]) << 16;
  } else {
    const c10::Half* half = static_cast<const c10::Half*>(from);
    for (int64_t i = 0; i < count; ++i) to[i] = static_cast<float>(half[i]);
  }
}

// BLAS's Fortran sgemm (column-major), the one libtorch itself calls; looked up at run time
// because libtorch does not export its own wrapper and graft does not link BLAS directly.
using SgemmFn = void (*)(const char* transa, const char* transb, const int* m, const int* n,
                         const int* k, const float* alpha, const float* a, const int* lda,
                         const float* b, const int* ldb, const float* beta, float* c,
                         const int* ldc);

SgemmFn Sgemm() {
  static const SgemmFn sgemm = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  return sgemm;
}

// BLAS's Fortran sgemv (column-major): y = alpha op(A) x + beta y.
using SgemvFn = void (*)(const char* trans, const int* m, const int* n, const float* alpha,
                         const float* a, const int* lda, const float* x, const int* incx,
                         const float* beta, float* y, const int* incy);

SgemvFn Sgemv() {
  static const SgemvFn sgemv = reinterpret_cast<SgemvFn>(dlsym(RTLD_DEFAULT, "sgemv_"));
  return sgemv;
}

// c [m, n] (row-major, leading dimension ldc) = beta c + a [m, k] b [k, n], where a is
// row-major with leading dimension lda and b is given by `b_rows` [k, n] row-major (leading
// dimension ldb) or, with `b_transposed`, as [n, k] row-major (leading dimension ldb). One row
// (m = 1) is a matrix-vector product, which streams b once instead of packing it first; more
// go to graft's packed GEMM where it takes them (PackedGemmTakes), to BLAS otherwise.
void RowMajorGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b_rows,
                  int64_t ldb, bool b_transposed, float beta, float* c, int64_t ldc) {
  const float alpha = 1;
  const int ldb_blas = static_cast<int>(ldb);
  SgemvFn sgemv = Sgemv();
  if (m == 1 && sgemv != nullptr) {
    // Column-major, b^T is [n, k] with leading dimension ldb (b_transposed) or b is [n, k]
    // transposed: c^T = b^T a^T.
    const char trans = b_transposed ? 'T' : 'N';
    const int rows = static_cast<int>(b_transposed ? k : n);
    const int cols = static_cast<int>(b_transposed ? n : k);
    const int one = 1;
    sgemv(&trans, &rows, &cols, &alpha, b_rows, &ldb_blas, a, &one, &beta, c, &one);
    return;
  }
  if (PackedGemmTakes(m)) {
    const FloatMatrix b_matrix =
        b_transposed ? FloatMatrix{b_rows, 1, ldb} : FloatMatrix{b_rows, ldb, 1};
    PackedGemm(m, n, k, {a, lda, 1}, b_matrix, beta != 0, c, ldc);
    return;
  }
  if (SgemmFn sgemm = Sgemm()) {
    // Column-major: c^T [n, m] = b^T [n, k] a^T [k, m].
    const char transa = b_transposed ? 'T' : 'N';
    const char transb = 'N';
    const int mi = static_cast<int>(n), ni = static_cast<int>(m), ki = static_cast<int>(k);
    const int lda_blas = static_cast<int>(lda), ldc_blas = static_cast<int>(ldc);
    sgemm(&transa, &transb, &mi, &ni, &ki, &alpha, b_rows, &ldb_blas, a, &lda_blas, &beta, c,
          &ldc_blas);
    return;
  }
  const auto options = torch::TensorOptions().dtype(torch::kFloat);
  const torch::Tensor a_t = torch::from_blob(const_cast<float*>(a), {m, k}, {lda, 1}, options);
  torch::Tensor b_t = torch::from_blob(
      const_cast<float*>(b_rows),
      b_transposed ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, {ldb, 1}, options);
  if (b_transposed) b_t = b_t.t();
  torch::Tensor c_t = torch::from_blob(c, {m, n}, {ldc, 1}, options);
  if (beta == 0) {
    at::mm_out(c_t, a_t, b_t);
  } else {
    c_t.addmm_(a_t, b_t);
  }
}

// out = a b (+ bias), the columns of b and out split across threads: each thread reads only its
// part of b, which is what a product of few rows (generation: one) is bound by. One row of F32
// (a b with a unit stride in one dimension) goes straight to BLAS's matrix-vector product
// (RowMajorGemm): a matrix product would first copy ("pack") its part of b, reading it twice.
void ColumnSplitProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                        const torch::Tensor& bias) {
  const bool vector = a.size(0) == 1 && Sgemv() != nullptr && b.scalar_type() == torch::kFloat &&
                      a.scalar_type() == torch::kFloat && (b.stride(0) == 1 || b.stride(1) == 1) &&
                      a.stride(1) == 1 && out.stride(1) == 1;
  ForEachChunk(b.size(1), MinPart(a.size(0) * a.size(1)), [&](int64_t begin, int64_t end) {
    torch::Tensor part = out.narrow(1, begin, end - begin);
    const torch::Tensor b_part = b.narrow(1, begin, end - begin);
    if (vector) {
      const bool transposed = b.stride(0) == 1;  // b = W^T: its columns are W's rows
      // A dimension of size 1 may have any stride; BLAS wants a leading dimension that fits.
      const int64_t ldb =
          transposed ? std::max(b.stride(1), b.size(0)) : std::max(b.stride(0), end - begin);
      float beta = 0;
      if (bias.defined()) {
        part.copy_(bias.narrow(0, begin, end - begin));
        beta = 1;
      }
      RowMajorGemm(1, end - begin, a.size(1), a.data_ptr<float>(), a.stride(0),
                   b_part.data_ptr<float>(), ldb, transposed, beta, part.data_ptr<float>(),
                   out.stride(0));
    } else {
      ProductOnThisThread(part, a, b_part,
                          bias.defined() ? bias.narrow(0, begin, end - begin) : bias);
    }
  });
}

// F32 scratch of at least `count` floats, one per thread, kept between calls.
float* Scratch(int64_t count) {
  thread_local std::vector<float> scratch;
  if (static_cast<int64_t>(scratch.size()) < count) scratch.resize(static_cast<size_t>(count));
  return scratch.data();
}

// out = a b (+ bias) for a low-precision b [K, N] (BF16, F16 or Q8_0; any layout with one unit
// stride) and F32 a, computed in F32: the columns are split across threads, and each thread
// converts its columns of b a block at a time into F32 scratch that stays in cache, then
// multiplies the block. b is thus read once from memory, in its own (smaller) dtype, and never
// held in F32 in full.
void ConvertingProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                       const torch::Tensor& bias) {
  const int64_t m = a.size(0);
  const int64_t k = b.size(0);
  const int64_t n = b.size(1);
  const bool column_major = b.stride(0) == 1;  // b's columns are contiguous: b = W^T
  const size_t element = b.element_size();
  const auto* base = static_cast<const uint8_t*>(b.data_ptr());
  const bool q8 = IsQ8(b);
  const Q8Parts q8_parts = q8 ? Q8Of(b) : Q8Parts{};
  // `count` values of b from element `offset` (in b's strides) as F32.
  auto convert = [&](int64_t offset, int64_t count, float* to) {
    if (q8) {
      DequantizeQ8Run(q8_parts, offset, count, to);
    } else {
      ToFloat(base + offset * element, b.scalar_type(), count, to);
    }
  };
  const torch::Tensor a_rows = a.stride(1) == 1 && a.stride(0) >= k ? a : a.contiguous();
  // Few rows: a block fits in L2 next to its output; many rows: wide blocks for the GEMM.
  const int64_t scratch_floats = m <= 16 ? (64 << 10) : (1 << 20);
  const int64_t block = std::max<int64_t>(8, scratch_floats / std::max<int64_t>(1, k));
  ForEachChunk(n, MinPart(m * k), [&](int64_t begin, int64_t end) {
    float* scratch = Scratch(block * k);
    for (int64_t c = begin; c < end; c += block) {
      const int64_t width = std::min(block, end - c);
      if (column_major) {  // column j of b is row j of W: convert `width` rows of K
        for (int64_t j = 0; j < width; ++j) {
          convert((c + j) * b.stride(1), k, scratch + j * k);
        }
      } else {  // row i of b holds this block's columns contiguously
        for (int64_t i = 0; i < k; ++i) {
          convert(i * b.stride(0) + c, width, scratch + i * width);
        }
      }
      float* c_out = out.data_ptr<float>() + c;
      const int64_t ldc = out.stride(0);
      float beta = 0;
      if (bias.defined()) {
        const float* bias_values = bias.data_ptr<float>() + c;
        for (int64_t r = 0; r < m; ++r) std::copy_n(bias_values, width, c_out + r * ldc);
        beta = 1;
      }
      RowMajorGemm(m, width, k, a_rows.data_ptr<float>(), a_rows.stride(0), scratch,
                   column_major ? k : width, column_major, beta, c_out, ldc);
    }
  });
}

// Whether GemvProduct takes a b: a few F32 rows of a and b = W^T with W's rows contiguous
// (nn.Linear's weight as LoraLinear and the LM head pass it), in F32 or BF16.
bool GemvTakes(const torch::Tensor& a, const torch::Tensor& b) {
  return a.size(0) >= 1 && a.size(0) <= models::kGemvMaxRows && a.scalar_type() == torch::kFloat &&
         (b.scalar_type() == torch::kFloat || b.scalar_type() == torch::kBFloat16) &&
         b.stride(0) == 1 && (b.size(1) == 1 || b.stride(1) >= b.size(0));
}

// Bytes of W a thread of GemvProduct takes at a time: as many as leave each thread at least
// four turns, within these bounds. Longer runs of contiguous rows stream faster (1 MiB read
// ~10% faster than 256 KiB blocks by two threads); more turns let a thread that runs late leave
// its share to the others.
constexpr int64_t kGemvMinBlockBytes = 256 << 10;
constexpr int64_t kGemvMaxBlockBytes = 1 << 20;
constexpr int64_t kGemvTurnsPerThread = 4;

// out = a b (+ bias) for GemvTakes's operands, through the matrix-vector kernels
// (gemv_kernels.h), which stream W once in its own dtype: the output columns (W's rows) in
// blocks of contiguous rows that the threads take in turn until none is left, so that a thread
// that runs late (another process on its core) leaves its share to the others instead of
// making them wait at the end.
void GemvProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                 const torch::Tensor& bias) {
  const torch::Tensor rows = a.stride(1) == 1 ? a : a.contiguous();
  const torch::Tensor bias_values = bias.defined() ? bias.contiguous() : bias;
  const models::GemvWeights type =
      b.scalar_type() == torch::kBFloat16 ? models::GemvWeights::kBF16 : models::GemvWeights::kF32;
  const int64_t k = b.size(0);
  const int64_t n = b.size(1);
  const int64_t min_rows = std::max<int64_t>(1, MinPart(a.size(0) * k));
  const int64_t threads = std::clamp<int64_t>(n / min_rows, 1, at::get_num_threads());
  const int64_t row_bytes = std::max<int64_t>(1, k * b.element_size());
  const int64_t block_bytes = std::clamp(n * row_bytes / (threads * kGemvTurnsPerThread),
                                         kGemvMinBlockBytes, kGemvMaxBlockBytes);
  const int64_t block = std::max<int64_t>(8, block_bytes / row_bytes);
  std::atomic<int64_t> next{0};
  ForEachChunk(threads, 1, [&](int64_t, int64_t) {
    for (int64_t begin = next.fetch_add(block); begin < n; begin = next.fetch_add(block)) {
      models::GemvRows(b.data_ptr(), type, b.stride(1), k, rows.data_ptr<float>(), rows.stride(0),
                       rows.size(0), begin, std::min(n, begin + block),
                       bias_values.defined() ? bias_values.data_ptr<float>() : nullptr,
                       out.data_ptr<float>(), out.stride(0));
    }
  });
}

// out = a b (+ bias), choosing the split: by columns when b is not F32 or a has few rows, by
// rows otherwise; a Q8_0 b goes through its int8 kernels when Q8ProductTakes says so
// (q8_weights.h), a few rows of a W^T in F32 or BF16 through the matrix-vector kernels. `out`
// is a fresh [M, N] F32 tensor.
void Product(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
             const torch::Tensor& bias) {
  if (b.stride(0) == 1 && IsQ8(b) && Q8ProductTakes(a.size(0))) {
    Q8Product(out, a, b, bias);
  } else if (GemvTakes(a, b)) {
    GemvProduct(out, a, b, bias);
  } else if (b.scalar_type() != torch::kFloat) {
    ConvertingProduct(out, a, b, bias);
  } else if (SplitColumns(a, b)) {
    ColumnSplitProduct(out, a, b, bias);
  } else {
    RowSplitProduct(out, a, b, bias);
  }
}

torch::Tensor Forward(const torch::Tensor& rows, const torch::Tensor& weight,
                      const torch::Tensor& bias) {
  torch::Tensor y = torch::empty({rows.size(0), weight.size(1)}, rows.options());
  Product(y, rows, weight, bias);
  return y;
}

torch::Tensor SaveAndForward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                             const torch::Tensor& weight, const torch::Tensor& bias) {
  // Each gradient needs the other operand; keep only what a requested one reads, so that a
  // frozen layer does not hold on to its input.
  ctx->save_for_backward({weight.requires_grad() ? rows : torch::Tensor(),
                          rows.requires_grad() ? weight : torch::Tensor()});
  return Forward(rows, weight, bias);
}

// libtorch's Function cannot take an undefined tensor as an input, so a layer without a bias has
// a forward of its own, and the backward returns gradients for only the inputs given.
class ParallelLinearFunction : public torch::autograd::Function<ParallelLinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->saved_data["bias"] = true;
    return SaveAndForward(ctx, rows, weight, bias);
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weight) {
    ctx->saved_data["bias"] = false;
    return SaveAndForward(ctx, rows, weight, torch::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& rows = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& dy = grads[0];
    torch::autograd::variable_list result(ctx->saved_data["bias"].toBool() ? 3 : 2);
    if (ctx->needs_input_grad(0)) {
      result[0] = torch::empty({dy.size(0), weight.size(0)}, dy.options());
      Product(result[0], dy, weight.t(), torch::Tensor());
    }
    if (ctx->needs_input_grad(1)) {
      result[1] = torch::empty({rows.size(1), dy.size(1)}, dy.options());
      ColumnSplitProduct(result[1], rows.t(), dy, torch::Tensor());
    }
    if (result.size() == 3 && ctx->needs_input_grad(2)) result[2] = dy.sum(0);
    return result;
  }
};

}  // namespace

void ProductOnThisThread(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                         const torch::Tensor& bias) {
  if (PackedGemmTakes(a.size(0)) && a.scalar_type() == torch::kFloat &&
      b.scalar_type() == torch::kFloat && out.stride(1) == 1) {
    if (bias.defined()) out.copy_(bias);
    PackedGemm(a.size(0), b.size(1), a.size(1), {a.data_ptr<float>(), a.stride(0), a.stride(1)},
               {b.data_ptr<float>(), b.stride(0), b.stride(1)}, bias.defined(),
               out.data_ptr<float>(), out.stride(0));
  } else if (bias.defined()) {
    at::addmm_out(out, bias, a, b);
  } else {
    at::mm_out(out, a, b);
  }
}

torch::Tensor ParallelLinear(const torch::Tensor& rows, const torch::Tensor& weight,
                             const torch::Tensor& bias) {
  const bool differentiable =
      torch::GradMode::is_enabled() &&
      (rows.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  if (!differentiable) return Forward(rows, weight, bias);
  return bias.defined() ? ParallelLinearFunction::apply(rows, weight, bias)
                        : ParallelLinearFunction::apply(rows, weight);
}

}  // namespace graft::models
