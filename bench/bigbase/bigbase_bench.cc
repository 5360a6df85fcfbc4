// graft_bigbase_bench: one measurement per process (so peak RSS is the mode's own), one JSON line.
//   graft_bigbase_bench load      BASE DTYPE THREADS           Load, then two forwards of 1 token
//   graft_bigbase_bench score     BASE DTYPE THREADS BATCH SEQ log p of every next token, no grad
//   graft_bigbase_bench generate  BASE DTYPE THREADS PROMPT NEW greedy with the KV cache
//   graft_bigbase_bench compare   BASE DTYPE THREADS BATCH SEQ score's log p, DTYPE against f32
//   graft_bigbase_bench bandwidth MIB THREADS                  bytes/s of summing a F32 buffer
//   graft_bigbase_bench ceiling   BASE THREADS BATCH SEQ      FMA peak, sgemm at the forward's
//                                                              shapes, the sgemm-bound tokens/s
// Environment, for q8_0: Q8_ACTIVATIONS=f32 keeps generation's activations in F32 (default: int8,
// models/q8_weights.h), Q8_ISA=scalar|avx2|avx512|avx512vnni picks the kernels (default: best).
// GEMM=blas sends F32 matrix products to BLAS instead of graft's packed GEMM
// (models/packed_gemm.h), for A/B runs of the same binary; the JSON line says which ran ("gemm").
#include <ATen/CPUGeneratorImpl.h>
#include <dlfcn.h>
#include <immintrin.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "core/omp_wait_policy.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/packed_gemm.h"
#include "models/parallel_chunks.h"
#include "models/parallel_linear.h"
#include "models/q8_weights.h"
#include "models/torch_threads.h"

namespace graft {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

[[noreturn]] void Die(const Status& status) {
  std::fprintf(stderr, "bigbase_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result) {
  if (!result.ok()) Die(result.status());
  return std::move(result).value();
}

// The bytes the weights take (a q8_0 matrix's storage holds its scales after its values).
double WeightBytes(const models::CausalLM& model) {
  double bytes = 0;
  for (const auto& [name, tensor] : model.Parameters())
    bytes += static_cast<double>(tensor.storage().nbytes());
  return bytes;
}

// BATCH (argv[5]) rows of SEQ (argv[6]) random tokens, the same in every run (a generator of
// its own, seed 0), and their next tokens: the items of score and compare.
std::pair<torch::Tensor, torch::Tensor> Items(char** argv, int64_t vocab, Json& out) {
  const int64_t batch = std::atoll(argv[5]);
  const int64_t seq = std::atoll(argv[6]);
  out["batch"] = batch;
  out["seq"] = seq;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  const torch::Tensor ids = torch::randint(vocab, {batch, seq + 1}, generator, torch::kLong);
  return {ids.narrow(1, 0, seq), ids.narrow(1, 1, seq)};
}

// Independent chains of fused multiply-adds in the FMA loops: enough to cover the FMA latency
// (4 cycles on Zen 4) on both FMA pipes with registers to spare.
constexpr int kChains = 12;

// Defines `float NAME(int64_t iterations)`, compiled for TARGET: iterations x kChains fused
// multiply-adds of WIDTH floats (the vector type VEC and its SET1, FMA and STORE intrinsics) on
// registers only, returning a value that depends on all of them (so that none is optimised
// away). One macro for both widths: the intrinsics must be inlined into a function compiled for
// their target, which a template cannot vary.
#define GRAFT_FMA_LOOP(NAME, TARGET, VEC, WIDTH, SET1, FMA, STORE)                           \
  __attribute__((target(TARGET))) float NAME(int64_t iterations) {                           \
    VEC acc[kChains];                                                                        \
    for (int j = 0; j < kChains; ++j) acc[j] = SET1(0.001f * static_cast<float>(j));         \
    const VEC a = SET1(0.999999f);                                                           \
    const VEC b = SET1(1e-7f);                                                               \
    for (int64_t i = 0; i < iterations; ++i) {                                               \
      _Pragma("GCC unroll 12") for (int j = 0; j < kChains; ++j) acc[j] = FMA(acc[j], a, b); \
    }                                                                                        \
    alignas(64) float lanes[WIDTH];                                                          \
    float sum = 0;                                                                           \
    for (int j = 0; j < kChains; ++j) {                                                      \
      STORE(lanes, acc[j]);                                                                  \
      for (float lane : lanes) sum += lane;                                                  \
    }                                                                                        \
    return sum;                                                                              \
  }

GRAFT_FMA_LOOP(FmaLoop512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_store_ps)
GRAFT_FMA_LOOP(FmaLoop256, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_store_ps)
#undef GRAFT_FMA_LOOP

// FLOP/s of `threads` threads each running `loop` (floats per FMA: `width`) for ~0.5 s: the
// machine's peak FP32 throughput when `loop` issues the widest FMA the cores execute at full rate.
double PeakFlops(float (*loop)(int64_t), int width, int threads) {
  const int64_t iterations = 50'000'000;
  loop(iterations / 10);  // warm-up: clocks up, AVX-512 units powered
  std::vector<float> sinks(static_cast<size_t>(threads));
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { sinks[static_cast<size_t>(t)] = loop(iterations); });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds = Seconds(start);
  volatile float sink = 0;
  for (float value : sinks) sink = sink + value;
  return 2.0 * width * kChains * static_cast<double>(iterations) * threads / seconds;
}

// One weight shape of the forward pass: `count` products of [rows, k] by a [k, n] weight per
// forward, stored as the model stores it (`transposed`: [n, k], as nn.Linear; else [k, n], as
// GPT-2's Conv1D).
struct WeightShape {
  std::string name;
  int64_t k;
  int64_t n;
  int64_t count;
  bool transposed;
};

std::vector<WeightShape> ForwardShapes(const formats::ModelConfig& c) {
  const int64_t d = c.hidden_size;
  const int64_t inner = c.intermediate_size;
  const int64_t layers = c.num_layers;
  if (c.arch == formats::Arch::kGpt2) {
    return {{"c_attn", d, 3 * d, layers, false},
            {"attn.c_proj", d, d, layers, false},
            {"c_fc", d, inner, layers, false},
            {"mlp.c_proj", inner, d, layers, false},
            {"lm_head", d, c.vocab_size, 1, true}};
  }
  const int64_t q = c.num_heads * c.head_dim;
  const int64_t kv = c.num_kv_heads * c.head_dim;
  return {{"q_proj", d, q, layers, true},        {"k_proj,v_proj", d, kv, 2 * layers, true},
          {"o_proj", q, d, layers, true},        {"gate_proj,up_proj", d, inner, 2 * layers, true},
          {"down_proj", inner, d, layers, true}, {"lm_head", d, c.vocab_size, 1, true}};
}

// FLOP/s of `product` (called with nothing), repeated for at least ~0.3 s after a warm-up.
double ProductFlops(double flops, const std::function<void()>& product) {
  product();
  int reps = 0;
  const auto start = Clock::now();
  do {
    product();
    ++reps;
  } while (Seconds(start) < 0.3);
  return flops * reps / Seconds(start);
}

// The ceiling of a forward pass of BATCH x SEQ tokens on this machine: the peak FMA throughput
// of THREADS threads (AVX-512 and AVX2 loops), then each weight shape's product [rows, k] x
// [k, n] into a preallocated output, as OpenBLAS runs it with its own pool of THREADS threads
// (as PyTorch does), and split over THREADS threads, one single-threaded sgemm each, by rows
// (as graft's ParallelLinear runs many rows) or by columns (its few rows), and the FLOPs of the
// forward: its products plus the causal attention's (q k^T and p v over the visible keys only). The
// sgemm bound is the time of every product at the best of the three rates, attention at the best
// rate of any shape, nothing else (norms, activations, softmax, copies: free): no fp32 forward with
// this BLAS is faster. Where graft's packed GEMM runs, the same split by rows and by columns with
// it gives the packed bound, the same figure for graft's own products.
void Ceiling(const formats::ModelConfig& c, int threads, int64_t batch, int64_t seq, Json& out) {
  const int64_t rows = batch * seq;
  out["rows"] = rows;
  out["batch"] = batch;
  out["seq"] = seq;
  out["threads"] = threads;
  if (__builtin_cpu_supports("avx512f")) {
    out["fma_avx512_flops_per_s"] = PeakFlops(FmaLoop512, 16, threads);
    out["fma_avx512_flops_per_s_one_thread"] = PeakFlops(FmaLoop512, 16, 1);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    out["fma_avx2_flops_per_s"] = PeakFlops(FmaLoop256, 8, threads);
  }
  using CoreNameFn = const char* (*)();
  if (auto core_name = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
    out["blas_core"] = core_name();  // the kernels OpenBLAS chose for this CPU
  }
  const double peak =
      std::max(out.value("fma_avx512_flops_per_s", 0.0), out.value("fma_avx2_flops_per_s", 0.0));
  models::SetTorchThreads(threads);
  torch::manual_seed(0);
  const torch::Tensor a_full = torch::randn({rows, std::max(c.hidden_size, c.intermediate_size)});
  double product_flops = 0;
  double bound_s = 0;
  double best_rate = 0;
  double packed_bound_s = 0;
  double packed_best_rate = 0;
  Json shapes = Json::array();
  for (const WeightShape& shape : ForwardShapes(c)) {
    const torch::Tensor a = a_full.narrow(1, 0, shape.k).contiguous();
    const torch::Tensor b =
        shape.transposed ? torch::randn({shape.n, shape.k}).t() : torch::randn({shape.k, shape.n});
    const double flops = 2.0 * static_cast<double>(rows * shape.k * shape.n);
    torch::Tensor c_out = torch::empty({rows, shape.n});
    models::SetBlasThreads(threads);
    const double blas = ProductFlops(flops, [&] { at::mm_out(c_out, a, b); });
    models::SetBlasThreads(1);
    // FLOP/s of the product split across the threads by rows (`by_rows`) or by columns, each
    // thread's part through `part_product`.
    using PartProduct = void (*)(torch::Tensor&, const torch::Tensor&, const torch::Tensor&);
    auto split_rate = [&](bool by_rows, PartProduct part_product) {
      return ProductFlops(flops, [&] {
        models::ForEachChunk(by_rows ? rows : shape.n, 1, [&](int64_t begin, int64_t end) {
          torch::Tensor part = c_out.narrow(by_rows ? 0 : 1, begin, end - begin);
          part_product(part, by_rows ? a.narrow(0, begin, end - begin) : a,
                       by_rows ? b : b.narrow(1, begin, end - begin));
        });
      });
    };
    const PartProduct blas_part = [](torch::Tensor& out, const torch::Tensor& x,
                                     const torch::Tensor& w) { at::mm_out(out, x, w); };
    const PartProduct packed_part = [](torch::Tensor& out, const torch::Tensor& x,
                                       const torch::Tensor& w) {
      models::ProductOnThisThread(out, x, w, {});
    };
    const double row_split = split_rate(true, blas_part);
    const double column_split = split_rate(false, blas_part);
    double packed_row_split = 0, packed_column_split = 0;
    if (models::PackedGemmTakes(rows)) {
      packed_row_split = split_rate(true, packed_part);
      packed_column_split = split_rate(false, packed_part);
    }
    const double best = std::max({blas, row_split, column_split});
    const double packed_best = std::max(packed_row_split, packed_column_split);
    if (packed_best > 0) packed_bound_s += flops * static_cast<double>(shape.count) / packed_best;
    packed_best_rate = std::max(packed_best_rate, packed_best);
    product_flops += flops * static_cast<double>(shape.count);
    bound_s += flops * static_cast<double>(shape.count) / best;
    best_rate = std::max(best_rate, best);
    shapes.push_back({{"name", shape.name},
                      {"m", rows},
                      {"k", shape.k},
                      {"n", shape.n},
                      {"per_forward", shape.count},
                      {"blas_pool_flops_per_s", blas},
                      {"row_split_flops_per_s", row_split},
                      {"column_split_flops_per_s", column_split},
                      {"packed_row_split_flops_per_s", packed_row_split},
                      {"packed_column_split_flops_per_s", packed_column_split}});
  }
  // q k^T and p v of every (batch, head) pair over the keys a query sees: 2 x 2 x D x (1 + .. + T).
  const double attention_flops = 4.0 * static_cast<double>(c.num_layers * batch * c.num_heads) *
                                 static_cast<double>(c.head_dim) *
                                 static_cast<double>(seq * (seq + 1) / 2);
  bound_s += attention_flops / best_rate;
  const double forward_flops = product_flops + attention_flops;
  out["shapes"] = shapes;
  out["product_flops"] = product_flops;
  out["attention_flops"] = attention_flops;
  out["forward_flops"] = forward_flops;
  out["flops_per_token"] = forward_flops / static_cast<double>(rows);
  out["sgemm_bound_s"] = bound_s;
  out["sgemm_bound_tokens_per_s"] = static_cast<double>(rows) / bound_s;
  out["sgemm_bound_flops_per_s"] = forward_flops / bound_s;
  if (packed_best_rate > 0) {
    packed_bound_s += attention_flops / packed_best_rate;
    out["packed_bound_tokens_per_s"] = static_cast<double>(rows) / packed_bound_s;
    out["packed_bound_flops_per_s"] = forward_flops / packed_bound_s;
  }
  if (peak > 0) out["fma_bound_tokens_per_s"] = static_cast<double>(rows) * peak / forward_flops;
}

int Main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: see the comment at the top of bench/bigbase/bigbase_bench.cc\n");
    return 2;
  }
  const std::string mode = argv[1];
  torch::NoGradGuard no_grad;
  Json out = {{"mode", mode}};
  if (mode == "bandwidth") {
    models::SetTorchThreads(std::atoi(argv[3]));
    torch::Tensor buffer = torch::ones({std::atoll(argv[2]) << 18});  // MIB MiB of floats
    buffer.sum();
    const int reps = 5;
    const auto start = Clock::now();
    for (int i = 0; i < reps; ++i) buffer.sum();
    out["bytes_per_s"] = static_cast<double>(buffer.nbytes()) * reps / Seconds(start);
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (mode == "ceiling") {
    if (argc < 6) {
      std::fprintf(stderr, "usage: graft_bigbase_bench ceiling BASE THREADS BATCH SEQ\n");
      return 2;
    }
    Ceiling(Must(formats::ModelConfig::Load(argv[2])), std::atoi(argv[3]), std::atoll(argv[4]),
            std::atoll(argv[5]), out);
    out["peak_rss_mib"] = PeakRssMib();
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (const char* gemm = std::getenv("GEMM")) models::UsePackedGemm(std::string(gemm) != "blas");
  out["gemm"] = models::PackedGemmAvailable() ? "packed" : "blas";
  if (const char* activations = std::getenv("Q8_ACTIVATIONS")) {
    models::UseQ8Int8Activations(std::string(activations) != "f32");
    out["q8_activations"] = activations;
  }
  if (const char* isa = std::getenv("Q8_ISA")) {
    models::Q8Isa wanted = models::Q8Isa::kAuto;
    for (models::Q8Isa each : {models::Q8Isa::kScalar, models::Q8Isa::kAvx2, models::Q8Isa::kAvx512,
                               models::Q8Isa::kAvx512Vnni}) {
      if (models::Q8IsaName(each) == isa) wanted = each;
    }
    out["q8_isa"] = std::string(models::Q8IsaName(models::UseQ8Isa(wanted)));
  }
  const std::string base = argv[2];
  const DType dtype = Must(ParseBaseDType(argv[3]));
  const int threads = std::atoi(argv[4]);
  models::SetTorchThreads(threads);
  out["base_dtype"] = argv[3];
  out["threads"] = threads;
  auto start = Clock::now();
  std::unique_ptr<models::CausalLM> model = Must(models::CausalLM::Load(base, dtype));
  out["load_s"] = Seconds(start);
  out["weight_bytes"] = WeightBytes(*model);
  const int64_t vocab = model->config().vocab_size;
  if (mode == "load") {
    // The mapped weights are read on first use: one forward of one token touches all of them.
    start = Clock::now();
    Must(model->Forward(torch::zeros({1, 1}, torch::kLong)));
    out["first_forward_s"] = Seconds(start);
    // The same forward with the weights resident: what the first one spent computing, so
    // load_s + first_forward_s - second_forward_s is what loading cost.
    start = Clock::now();
    Must(model->Forward(torch::zeros({1, 1}, torch::kLong)));
    out["second_forward_s"] = Seconds(start);
  } else if (mode == "compare") {
    // The score mode's items under DTYPE, then under f32 (a second model, loaded after).
    const auto [input, targets] = Items(argv, vocab, out);
    const torch::Tensor kept = Must(model->TargetLogProbs(input, {}, targets));
    model.reset();
    const torch::Tensor f32 =
        Must(Must(models::CausalLM::Load(base, DType::kF32))->TargetLogProbs(input, {}, targets));
    const torch::Tensor difference = (kept - f32).abs();
    out["max_abs_diff"] = difference.max().item<double>();
    out["mean_abs_diff"] = difference.mean().item<double>();
    out["mean_log_prob"] = kept.mean().item<double>();
    out["mean_log_prob_f32"] = f32.mean().item<double>();
  } else if (mode == "score") {
    const auto [input, targets] = Items(argv, vocab, out);
    Must(model->TargetLogProbs(input, {}, targets));  // warm-up (and page-in)
    const int reps = 3;
    start = Clock::now();
    double sum = 0;
    for (int i = 0; i < reps; ++i) {
      sum += Must(model->TargetLogProbs(input, {}, targets)).sum().item<double>();
    }
    const auto tokens = static_cast<double>(targets.numel() * reps);
    out["tokens_per_s"] = tokens / Seconds(start);
    out["mean_log_prob"] = sum / tokens;
  } else if (mode == "generate") {
    const int64_t prompt = std::atoll(argv[5]);
    const int64_t fresh = std::atoll(argv[6]);
    std::vector<int64_t> ids(static_cast<size_t>(prompt));
    for (int64_t i = 0; i < prompt; ++i) ids[static_cast<size_t>(i)] = (i * 7919) % 256;
    models::GenerationOptions options;
    options.max_new_tokens = 1;
    options.stop_token_ids = {-1};                        // never stop early
    Must(models::GenerateFromIds(*model, ids, options));  // warm-up: pages the weights in
    start = Clock::now();
    Must(models::GenerateFromIds(*model, ids, options));  // prefill and the first token
    out["prefill_s"] = Seconds(start);
    options.max_new_tokens = fresh + 1;
    start = Clock::now();
    models::Generation generation = Must(models::GenerateFromIds(*model, ids, options));
    const double total = Seconds(start);
    // Decode speed: the run's time without its prefill (measured again just above).
    out["decode_tokens_per_s"] =
        static_cast<double>(fresh) / (total - out["prefill_s"].get<double>());
    out["new_tokens"] = generation.new_ids;
    out["prompt"] = prompt;
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  out["peak_rss_mib"] = PeakRssMib();
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace graft

int main(int argc, char** argv) {
  // As graft-model runs (GOMP_SPINCOUNT unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set).
  graft::RestartWithOmpWaitPolicy(argv);
  return graft::Main(argc, argv);
}
