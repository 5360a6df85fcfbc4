// Q8_0 frozen matrices (llama.cpp's Q8_0: groups of 32 inputs, int8 values, one F16 scale per
// group) held in one int8 torch tensor, and the products and lookups that read them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "models/q8_kernels.h"

namespace graft::models {

// A Q8_0 matrix W [N outputs, K inputs] is an int8 tensor of W's values [N, K] (row-major,
// storage offset 0) whose storage continues, after the N × K values, with the N × K/32 F16
// scales, row by row. Being one tensor, it sits in the model's weight map, its LoRA layers and
// its LM head as a matrix of any other dtype does; the tensor is [N, K] or, for a GPT-2 Conv1D
// ([in, out]), the transposed view [K, N]. Only QuantizeQ8 makes them (weights files are read
// as F32, F16 or BF16 only), so an int8 matrix in a model is always one of these.

// Quantises `weight` (2-D; F32, BF16 or F16; any strides) whose inputs run along dimension
// `input_dim` (1 for a Linear's [out, in], 0 for a Conv1D's [in, out]), as llama.cpp's
// quantize_row_q8_0_ref: per group of 32 inputs, d = max|w| / 127, value = round(w / d) (halves
// away from zero), and d kept as F16. The result has weight's shape. Blocks of rows are read
// and converted in parallel (models/parallel_chunks.h), so besides the input only the int8
// result and one block per thread are held; `rows_done(begin, end)`, if given, is called (from
// any thread) once rows [begin, end) of the [N, K] matrix are quantised, so that a caller
// reading a mapped file can release them at once. Errors name `name`: K not a multiple of 32
// (no padding: as llama.cpp, such a matrix cannot be Q8_0), a non-finite value, a scale beyond
// F16.
Result<torch::Tensor> QuantizeQ8(const torch::Tensor& weight, int64_t input_dim,
                                 const std::string& name,
                                 const std::function<void(int64_t, int64_t)>& rows_done = {});

// Whether `tensor` is a Q8_0 matrix (int8, the layout above).
bool IsQ8(const torch::Tensor& tensor);

// The values [rows = N, cols = K] and scales [N, K / 32] of a Q8_0 tensor.
struct Q8Parts {
  const int8_t* values;
  const uint16_t* scales;
  int64_t rows;
  int64_t cols;
};
Q8Parts Q8Of(const torch::Tensor& tensor);

// The F32 matrix a Q8_0 tensor stands for (value × scale), in the tensor's shape.
torch::Tensor DequantizeQ8(const torch::Tensor& tensor);

// `count` values of W from element `offset` of its row-major values (a run, which may span
// rows), dequantised into `to`.
void DequantizeQ8Run(const Q8Parts& q8, int64_t offset, int64_t count, float* to);

// Rows `ids` (int64, any shape) of a Q8_0 embedding [rows, d] → F32 [ids..., d].
torch::Tensor EmbedQ8(const torch::Tensor& weight, const torch::Tensor& ids);

// Products of fewer rows than this read the int8 weights directly (Q8Product) with F32
// activations; with quantised activations (generation, below) every product does.
inline constexpr int64_t kQ8KernelMaxRows = 4;

// While it lives, products with a Q8_0 weight on this thread (generation's: GenerateFromIds
// holds one) quantise their activations to Q8_0 (QuantizeActivationsQ8) and multiply int8 by
// int8, as llama.cpp does. Other products (scoring, training and its backward pass) keep F32
// activations: they are the products with the dequantised weights.
class Q8Int8ActivationsScope {
 public:
  Q8Int8ActivationsScope();
  ~Q8Int8ActivationsScope();
  Q8Int8ActivationsScope(const Q8Int8ActivationsScope&) = delete;
  Q8Int8ActivationsScope& operator=(const Q8Int8ActivationsScope&) = delete;

 private:
  bool previous_;
};

// Whether a Q8Int8ActivationsScope quantises activations at all (default true): for tests and
// benchmarks (F32 activations in generation too); returns the previous setting.
bool UseQ8Int8Activations(bool on);

// Whether products on this thread quantise their activations now.
bool Q8Int8ActivationsHere();

// Whether Q8Product takes a product of `rows` rows; the others dequantise blocks of weight rows
// into F32 and multiply them with BLAS (parallel_linear.cc).
bool Q8ProductTakes(int64_t rows);

// out [M, N] = a [M, K] b (+ bias [N]) for F32 a and a Q8_0 b given as W^T [K, N] (the layout
// ParallelLinear takes; b.stride(0) == 1), through the int8 kernels (q8_kernels.h): the rows of
// W are split across threads and each is read once for (a block of) the M rows of a. When
// Q8Int8ActivationsHere, a's rows are quantised first (int8 × int8); otherwise they are
// multiplied in F32.
void Q8Product(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
               const torch::Tensor& bias);

}  // namespace graft::models
