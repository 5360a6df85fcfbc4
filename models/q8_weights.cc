#include "models/q8_weights.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "models/parallel_chunks.h"

namespace graft::models {
namespace {

// Floats of a block of weight rows converted at a time while quantising (per thread).
constexpr int64_t kQuantizeBlockFloats = 1 << 16;

// Rows of W a thread takes at least in a product: a few microseconds of work.
constexpr int64_t kMinRowsPerPart = 64;

std::string ShapeString(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// N and K of an int8 tensor in either orientation, and whether it is the transposed view.
struct Orientation {
  int64_t rows = 0;
  int64_t cols = 0;
  bool transposed = false;
};

Orientation OrientationOf(const torch::Tensor& tensor) {
  if (tensor.stride(1) == 1 && tensor.stride(0) == tensor.size(1)) {
    return {tensor.size(0), tensor.size(1), false};
  }
  return {tensor.size(1), tensor.size(0), true};
}

uint64_t StorageBytes(int64_t rows, int64_t cols) {
  return static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) +
         static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols / kQ8Group) * 2;
}

// Quantises the `rows` rows of `src` (F32, K per row) into values and F16 scales. Returns the
// first row with a value that is not finite or a scale beyond F16, or -1.
int64_t QuantizeRows(const float* src, int64_t rows, int64_t k, int8_t* values, uint16_t* scales) {
  const int64_t groups = k / kQ8Group;
  int64_t bad = -1;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* x = src + r * k + g * kQ8Group;
      float amax = 0;
      bool finite = true;
      for (int64_t t = 0; t < kQ8Group; ++t) {
        finite = finite && std::isfinite(x[t]);
        amax = std::max(amax, std::fabs(x[t]));
      }
      const float d = amax / 127.0f;
      const float inverse = d != 0 ? 1.0f / d : 0.0f;
      const c10::Half half(d);
      if (bad < 0 && !(finite && std::isfinite(static_cast<float>(half)))) bad = r;
      scales[r * groups + g] = half.x;
      int8_t* q = values + r * k + g * kQ8Group;
      for (int64_t t = 0; t < kQ8Group; ++t) q[t] = static_cast<int8_t>(std::round(x[t] * inverse));
    }
  }
  return bad;
}

}  // namespace

Result<torch::Tensor> QuantizeQ8(const torch::Tensor& weight, int64_t input_dim,
                                 const std::string& name,
                                 const std::function<void(int64_t, int64_t)>& rows_done) {
  if (weight.dim() != 2 || (input_dim != 0 && input_dim != 1)) {
    return InvalidInput(name + " has shape " + ShapeString(weight.sizes()) +
                        ": only matrices can be kept in q8_0");
  }
  const torch::Tensor w = input_dim == 1 ? weight : weight.t();  // [N, K]
  const int64_t n = w.size(0);
  const int64_t k = w.size(1);
  if (k == 0 || k % kQ8Group != 0) {
    return InvalidInput(name + " has shape " + ShapeString(weight.sizes()) + ": its " +
                        std::to_string(k) +
                        " inputs are not a multiple of 32, which q8_0 groups them by (keep "
                        "this base in f32, bf16 or f16)");
  }
  torch::Tensor packed = torch::empty({static_cast<int64_t>(StorageBytes(n, k))}, torch::kChar);
  int8_t* values = packed.data_ptr<int8_t>();
  auto* scales = reinterpret_cast<uint16_t*>(values + n * k);
  const int64_t block = std::max<int64_t>(16, kQuantizeBlockFloats / k);
  std::atomic<int64_t> bad_row{std::numeric_limits<int64_t>::max()};
  ForEachChunk(n, block, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r += block) {
      const int64_t rows = std::min(block, end - r);
      // A view of the input itself when it is F32 row-major already (no copy).
      const torch::Tensor part = w.narrow(0, r, rows).to(torch::kFloat).contiguous();
      const int64_t bad = QuantizeRows(part.data_ptr<float>(), rows, k, values + r * k,
                                       scales + r * (k / kQ8Group));
      if (rows_done) rows_done(r, r + rows);
      int64_t seen = bad_row.load();
      while (bad >= 0 && r + bad < seen && !bad_row.compare_exchange_weak(seen, r + bad)) {
      }
    }
  });
  if (bad_row.load() != std::numeric_limits<int64_t>::max()) {
    return InvalidInput(name + ": a value in row " + std::to_string(bad_row.load()) +
                        " is not finite, or a group's scale (max |w| / 127) exceeds F16's "
                        "range: it cannot be kept in q8_0");
  }
  const torch::Tensor matrix = packed.as_strided({n, k}, {k, 1}, 0);
  return input_dim == 1 ? matrix : matrix.t();
}

bool IsQ8(const torch::Tensor& tensor) {
  if (!tensor.defined() || tensor.scalar_type() != torch::kChar || tensor.dim() != 2 ||
      tensor.storage_offset() != 0) {
    return false;
  }
  const Orientation o = OrientationOf(tensor);
  return o.cols % kQ8Group == 0 && tensor.storage().nbytes() == StorageBytes(o.rows, o.cols);
}

Q8Parts Q8Of(const torch::Tensor& tensor) {
  TORCH_CHECK(IsQ8(tensor), "not a q8_0 matrix");
  const Orientation o = OrientationOf(tensor);
  const auto* values = static_cast<const int8_t*>(tensor.storage().data());
  return {values, reinterpret_cast<const uint16_t*>(values + o.rows * o.cols), o.rows, o.cols};
}

void DequantizeQ8Run(const Q8Parts& q8, int64_t offset, int64_t count, float* to) {
  const int64_t groups = q8.cols / kQ8Group;
  const int64_t row = offset / q8.cols;
  const int64_t col = offset % q8.cols;
  const int8_t* q = q8.values + offset;
  const uint16_t* scales = q8.scales + row * groups;
  for (int64_t t = 0; t < count;) {
    const int64_t group = (col + t) / kQ8Group;
    if ((col + t) % kQ8Group == 0 && count - t >= kQ8Group) {  // whole groups: the kernels
      const int64_t whole = (count - t) / kQ8Group;
      Q8DequantizeGroups(q + t, scales + group, whole, to + t);
      t += whole * kQ8Group;
      continue;
    }
    const int64_t end = std::min(count, (group + 1) * kQ8Group - col);
    const float scale = HalfBitsToFloat(scales[group]);
    for (; t < end; ++t) to[t] = static_cast<float>(q[t]) * scale;
  }
}

torch::Tensor DequantizeQ8(const torch::Tensor& tensor) {
  const Q8Parts q8 = Q8Of(tensor);
  torch::Tensor out = torch::empty({q8.rows, q8.cols}, torch::kFloat);
  float* data = out.data_ptr<float>();
  ForEachChunk(q8.rows, kMinRowsPerPart, [&](int64_t begin, int64_t end) {
    DequantizeQ8Run(q8, begin * q8.cols, (end - begin) * q8.cols, data + begin * q8.cols);
  });
  return OrientationOf(tensor).transposed ? out.t() : out;
}

torch::Tensor EmbedQ8(const torch::Tensor& weight, const torch::Tensor& ids) {
  const Q8Parts q8 = Q8Of(weight);
  TORCH_CHECK(!OrientationOf(weight).transposed, "a q8_0 embedding must be [rows, d]");
  const torch::Tensor flat = ids.reshape({-1}).to(torch::kLong).contiguous();
  const int64_t count = flat.size(0);
  torch::Tensor out = torch::empty({count, q8.cols}, torch::kFloat);
  const int64_t* index = flat.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    TORCH_CHECK(index[i] >= 0 && index[i] < q8.rows, "embedding index ", index[i], " out of range");
    DequantizeQ8Run(q8, index[i] * q8.cols, q8.cols, out.data_ptr<float>() + i * q8.cols);
  }
  auto shape = ids.sizes().vec();
  shape.push_back(q8.cols);
  return out.view(shape);
}

namespace {

std::atomic<bool>& Int8Activations() {
  static std::atomic<bool> on{true};
  return on;
}

thread_local bool int8_scope_here = false;  // a Q8Int8ActivationsScope on this thread

}  // namespace

Q8Int8ActivationsScope::Q8Int8ActivationsScope() : previous_(int8_scope_here) {
  int8_scope_here = true;
}

Q8Int8ActivationsScope::~Q8Int8ActivationsScope() { int8_scope_here = previous_; }

bool UseQ8Int8Activations(bool on) { return Int8Activations().exchange(on); }

bool Q8Int8ActivationsHere() { return int8_scope_here && Int8Activations().load(); }

bool Q8ProductTakes(int64_t rows) { return rows <= kQ8KernelMaxRows || Q8Int8ActivationsHere(); }

void Q8Product(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
               const torch::Tensor& bias) {
  const Q8Parts q8 = Q8Of(b);
  TORCH_CHECK(OrientationOf(b).transposed && a.size(1) == q8.cols, "q8_0 product: bad operands");
  const torch::Tensor rows = a.stride(1) == 1 ? a : a.contiguous();
  const torch::Tensor bias_values = bias.defined() ? bias.contiguous() : bias;
  const int64_t m = rows.size(0);
  const int64_t k = q8.cols;
  const int64_t groups = k / kQ8Group;
  const bool int8 = Q8Int8ActivationsHere();
  // a's rows quantised (int8 only): values [M, K] and scales [M, K / 32].
  std::vector<int8_t> x_values(int8 ? static_cast<size_t>(m * k) : 0);
  std::vector<float> x_scales(int8 ? static_cast<size_t>(m * groups) : 0);
  if (int8) {
    ForEachChunk(m, std::max<int64_t>(1, kQuantizeBlockFloats / k),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     QuantizeActivationsQ8(rows.data_ptr<float>() + r * rows.stride(0), k,
                                           x_values.data() + r * k, x_scales.data() + r * groups);
                   }
                 });
  }
  float* y = out.data_ptr<float>();
  const int64_t ldy = out.stride(0);
  ForEachChunk(q8.rows, kMinRowsPerPart, [&](int64_t begin, int64_t end) {
    if (int8) {
      Q8Int8RowProducts(q8.values, q8.scales, k, x_values.data(), x_scales.data(), m, begin, end, y,
                        ldy);
    } else {
      Q8RowProducts(q8.values, q8.scales, k, rows.data_ptr<float>(), rows.stride(0), m, begin, end,
                    y, ldy);
    }
    if (bias_values.defined()) {
      const float* add = bias_values.data_ptr<float>();
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t j = begin; j < end; ++j) y[r * ldy + j] += add[j];
      }
    }
  });
}

}  // namespace graft::models
