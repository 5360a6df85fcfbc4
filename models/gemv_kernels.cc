#include "models/gemv_kernels.h"

#include <atomic>
#include <bit>
#include <cstring>

namespace graft::models {
namespace {

// One kernel, written once with GCC vector extensions of `kLanes` floats and always inlined
// into one function per instruction set (GemvAvx512, GemvAvx2, GemvPortable), where the
// compiler turns each vector into that set's registers: 16 floats a ZMM register, 8 a YMM, 4
// an XMM (SSE2, which every x86-64 has). Multiply-adds contract to FMA where the set has it.
// (Spelled out per width: GCC drops a vector_size that depends on a template parameter.)
template <int kLanes>
struct Lanes;

#define GRAFT_GEMV_LANES(N)                                      \
  template <>                                                    \
  struct Lanes<N> {                                              \
    using Floats = float __attribute__((vector_size(4 * N)));    \
    using Halves = uint16_t __attribute__((vector_size(2 * N))); \
    using Words = uint32_t __attribute__((vector_size(4 * N)));  \
  };
GRAFT_GEMV_LANES(4)
GRAFT_GEMV_LANES(8)
GRAFT_GEMV_LANES(16)
#undef GRAFT_GEMV_LANES

// kLanes consecutive weights from `p` as F32.
template <int kLanes>
[[gnu::always_inline]] inline typename Lanes<kLanes>::Floats LoadWeights(const float* p) {
  typename Lanes<kLanes>::Floats v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A BF16 is the upper half of the F32 of the same value: widened, shifted, exact.
template <int kLanes>
[[gnu::always_inline]] inline typename Lanes<kLanes>::Floats LoadWeights(const uint16_t* p) {
  typename Lanes<kLanes>::Halves h;
  std::memcpy(&h, p, sizeof h);
  using Words = typename Lanes<kLanes>::Words;
  return std::bit_cast<typename Lanes<kLanes>::Floats>(__builtin_convertvector(h, Words) << 16);
}

[[gnu::always_inline]] inline float Widen(float w) { return w; }
[[gnu::always_inline]] inline float Widen(uint16_t w) {
  return std::bit_cast<float>(static_cast<uint32_t>(w) << 16);
}

// The operands of one call (GemvRows's), passed through the dispatch by reference.
template <class T>
struct Operands {
  const T* w;
  int64_t ldw;
  int64_t k;
  const float* x;
  int64_t ldx;
  const float* bias;
  float* y;
  int64_t ldy;
};

// Output columns j .. j + kOut - 1 for the kRows rows of x: kRows × kOut accumulators (kSplit
// of each, over interleaved vectors, so that the multiply-adds of one output do not wait on each
// other), each x vector loaded once per step for all kOut weight rows, each weight vector used
// for all rows.
template <int kLanes, class T, int kRows, int kOut, int kSplit>
[[gnu::always_inline]] inline void Block(const Operands<T>& o, int64_t j) {
  using Floats = typename Lanes<kLanes>::Floats;
  Floats sums[kSplit][kRows][kOut] = {};
  const T* w = o.w + j * o.ldw;
  constexpr int64_t kStep = int64_t{kLanes} * kSplit;
  const int64_t whole = o.k - o.k % kLanes;
  const int64_t split_whole = o.k - o.k % kStep;
  auto step = [&](int64_t i, int s) [[gnu::always_inline]] {
    Floats xs[kRows];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) std::memcpy(&xs[r], o.x + r * o.ldx + i, sizeof xs[r]);
#pragma GCC unroll 8
    for (int c = 0; c < kOut; ++c) {
      const Floats wv = LoadWeights<kLanes>(w + c * o.ldw + i);
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) sums[s][r][c] += xs[r] * wv;
    }
  };
  for (int64_t i = 0; i < split_whole; i += kStep) {
#pragma GCC unroll 4
    for (int s = 0; s < kSplit; ++s) step(i + s * kLanes, s);
  }
  for (int64_t i = split_whole; i < whole; i += kLanes) step(i, 0);
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < kOut; ++c) {
      Floats sum = sums[0][r][c];
#pragma GCC unroll 4
      for (int s = 1; s < kSplit; ++s) sum += sums[s][r][c];
      float total = 0;
      for (int l = 0; l < kLanes; ++l) total += sum[l];
      for (int64_t i = whole; i < o.k; ++i) total += o.x[r * o.ldx + i] * Widen(w[c * o.ldw + i]);
      o.y[r * o.ldy + j + c] = total + (o.bias != nullptr ? o.bias[j + c] : 0.0f);
    }
  }
}

// Weight rows [begin, end) for kRows rows of x, kOut at a time, then one at a time: eight (or
// four, two) weight rows at a time, as far as the kRows × kOut accumulators, the x vectors and a
// weight vector fit the 32 (AVX-512) or 16 vector registers, so that each weight vector serves
// every row of x. One row of x (generation's step) with BF16 weights streams one weight row at a
// time into two accumulators instead, which decodes llama-1b ~9% faster; with F32 weights that
// was ~8% slower than eight rows at a time (2 threads, AVX-512, interleaved runs of
// graft_bigbase_bench generate; bench/README.md, bigbase).
template <int kLanes, class T, int kRows>
[[gnu::always_inline]] inline void Rows(const Operands<T>& o, int64_t begin, int64_t end) {
  constexpr bool kOneStream = kRows == 1 && sizeof(T) == 2;
  constexpr int kOut = kOneStream     ? 1
                       : kLanes == 16 ? (kRows <= 2 ? 8 : 4)
                                      : (kRows == 1   ? 8
                                         : kRows == 2 ? 4
                                                      : 2);
  constexpr int kSplit = kOneStream ? 2 : 1;
  int64_t j = begin;
  for (; j + kOut <= end; j += kOut) Block<kLanes, T, kRows, kOut, kSplit>(o, j);
  for (; j < end; ++j) Block<kLanes, T, kRows, 1, kSplit>(o, j);
}

template <int kLanes, class T>
[[gnu::always_inline]] inline void ForRows(const Operands<T>& o, int64_t m, int64_t begin,
                                           int64_t end) {
  switch (m) {
    case 1:
      return Rows<kLanes, T, 1>(o, begin, end);
    case 2:
      return Rows<kLanes, T, 2>(o, begin, end);
    case 3:
      return Rows<kLanes, T, 3>(o, begin, end);
    default:
      return Rows<kLanes, T, 4>(o, begin, end);
  }
}

// y[0, width) = Σ_j p[j] · v[j * ldv + (0, width)]: four vectors of y at a time, every row of v
// streamed once per four vectors.
template <int kLanes>
[[gnu::always_inline]] inline void Combine(const float* p, int64_t count, const float* v,
                                           int64_t ldv, int64_t width, float* y) {
  using Floats = typename Lanes<kLanes>::Floats;
  constexpr int kVectors = 4;
  int64_t d = 0;
  for (; d + kVectors * kLanes <= width; d += kVectors * kLanes) {
    Floats sums[kVectors] = {};
    for (int64_t j = 0; j < count; ++j) {
      const float weight = p[j];
#pragma GCC unroll 4
      for (int u = 0; u < kVectors; ++u)
        sums[u] += weight * LoadWeights<kLanes>(v + j * ldv + d + u * kLanes);
    }
    std::memcpy(y + d, sums, sizeof sums);
  }
  for (; d < width; ++d) {
    float sum = 0;
    for (int64_t j = 0; j < count; ++j) sum += p[j] * v[j * ldv + d];
    y[d] = sum;
  }
}

struct CombineCall {
  const float* p;
  int64_t count;
  const float* v;
  int64_t ldv;
  int64_t width;
  float* y;
};

// The arguments of GemvRows, as one instruction set's entry point takes them.
struct Call {
  GemvWeights type;
  Operands<float> f32;  // w as F32 (f32.w) or as BF16 bits (bf16.w)
  Operands<uint16_t> bf16;
  int64_t m;
  int64_t begin;
  int64_t end;
};

template <int kLanes>
[[gnu::always_inline]] inline void Run(const Call& call) {
  if (call.type == GemvWeights::kBF16) {
    ForRows<kLanes>(call.bf16, call.m, call.begin, call.end);
  } else {
    ForRows<kLanes>(call.f32, call.m, call.begin, call.end);
  }
}

__attribute__((target("avx512f,avx2,fma"))) void GemvAvx512(const Call& call) { Run<16>(call); }
__attribute__((target("avx2,fma"))) void GemvAvx2(const Call& call) { Run<8>(call); }
void GemvPortable(const Call& call) { Run<4>(call); }

__attribute__((target("avx512f,avx2,fma"))) void CombineAvx512(const CombineCall& c) {
  Combine<16>(c.p, c.count, c.v, c.ldv, c.width, c.y);
}
__attribute__((target("avx2,fma"))) void CombineAvx2(const CombineCall& c) {
  Combine<8>(c.p, c.count, c.v, c.ldv, c.width, c.y);
}
void CombinePortable(const CombineCall& c) { Combine<4>(c.p, c.count, c.v, c.ldv, c.width, c.y); }

bool Supported(GemvIsa isa) {
  switch (isa) {
    case GemvIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case GemvIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

GemvIsa Best(GemvIsa wanted) {
  for (GemvIsa isa : {GemvIsa::kAvx512, GemvIsa::kAvx2}) {
    const bool allowed = wanted == GemvIsa::kAuto || wanted == isa ||
                         (wanted == GemvIsa::kAvx512 && isa == GemvIsa::kAvx2);
    if (allowed && Supported(isa)) return isa;
  }
  return GemvIsa::kPortable;
}

std::atomic<GemvIsa>& Active() {
  static std::atomic<GemvIsa> active{Best(GemvIsa::kAuto)};
  return active;
}

// Runs the entry point of the instruction set in use on `call`.
template <class CallT>
void OnActiveIsa(const CallT& call, void (*avx512)(const CallT&), void (*avx2)(const CallT&),
                 void (*portable)(const CallT&)) {
  switch (Active().load()) {
    case GemvIsa::kAvx512:
      return avx512(call);
    case GemvIsa::kAvx2:
      return avx2(call);
    default:
      return portable(call);
  }
}

}  // namespace

GemvIsa UseGemvIsa(GemvIsa isa) {
  const GemvIsa chosen = Best(isa);
  Active().store(chosen);
  return chosen;
}

GemvIsa ActiveGemvIsa() { return Active().load(); }

std::string_view GemvIsaName(GemvIsa isa) {
  switch (isa) {
    case GemvIsa::kAvx512:
      return "avx512";
    case GemvIsa::kAvx2:
      return "avx2";
    case GemvIsa::kPortable:
      return "portable";
    case GemvIsa::kAuto:
      break;
  }
  return "auto";
}

void GemvRows(const void* w, GemvWeights type, int64_t ldw, int64_t k, const float* x, int64_t ldx,
              int64_t m, int64_t row_begin, int64_t row_end, const float* bias, float* y,
              int64_t ldy) {
  const Call call{type,
                  {static_cast<const float*>(w), ldw, k, x, ldx, bias, y, ldy},
                  {static_cast<const uint16_t*>(w), ldw, k, x, ldx, bias, y, ldy},
                  m,
                  row_begin,
                  row_end};
  OnActiveIsa(call, GemvAvx512, GemvAvx2, GemvPortable);
}

void CombineRows(const float* p, int64_t count, const float* v, int64_t ldv, int64_t width,
                 float* y) {
  const CombineCall call{p, count, v, ldv, width, y};
  OnActiveIsa(call, CombineAvx512, CombineAvx2, CombinePortable);
}

}  // namespace graft::models
