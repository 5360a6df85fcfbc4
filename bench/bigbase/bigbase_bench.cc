// graft_bigbase_bench: one measurement per process (so peak RSS is the mode's own), one JSON line.
//   graft_bigbase_bench load      BASE DTYPE THREADS           Load, then two forwards of 1 token
//   graft_bigbase_bench score     BASE DTYPE THREADS BATCH SEQ log p of every next token, no grad
//   graft_bigbase_bench generate  BASE DTYPE THREADS PROMPT NEW greedy with the KV cache
//   graft_bigbase_bench compare   BASE DTYPE THREADS BATCH SEQ score's log p, DTYPE against f32
//   graft_bigbase_bench bandwidth MIB THREADS                  bytes/s of summing a F32 buffer
// Environment, for q8_0: Q8_ACTIVATIONS=f32 keeps generation's activations in F32 (default: int8,
// models/q8_weights.h), Q8_ISA=scalar|avx2|avx512|avx512vnni picks the kernels (default: best).
#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/json.h"
#include "core/omp_wait_policy.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/q8_weights.h"

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
double WeightBytes(const CausalLM& model) {
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

int Main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: see the comment at the top of bench/bigbase/bigbase_bench.cc\n");
    return 2;
  }
  const std::string mode = argv[1];
  torch::NoGradGuard no_grad;
  Json out = {{"mode", mode}};
  if (mode == "bandwidth") {
    SetTorchThreads(std::atoi(argv[3]));
    torch::Tensor buffer = torch::ones({std::atoll(argv[2]) << 18});  // MIB MiB of floats
    buffer.sum();
    const int reps = 5;
    const auto start = Clock::now();
    for (int i = 0; i < reps; ++i) buffer.sum();
    out["bytes_per_s"] = static_cast<double>(buffer.nbytes()) * reps / Seconds(start);
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (const char* activations = std::getenv("Q8_ACTIVATIONS")) {
    UseQ8Int8Activations(std::string(activations) != "f32");
    out["q8_activations"] = activations;
  }
  if (const char* isa = std::getenv("Q8_ISA")) {
    Q8Isa wanted = Q8Isa::kAuto;
    for (Q8Isa each : {Q8Isa::kScalar, Q8Isa::kAvx2, Q8Isa::kAvx512, Q8Isa::kAvx512Vnni}) {
      if (Q8IsaName(each) == isa) wanted = each;
    }
    out["q8_isa"] = std::string(Q8IsaName(UseQ8Isa(wanted)));
  }
  const std::string base = argv[2];
  const DType dtype = Must(ParseBaseDType(argv[3]));
  const int threads = std::atoi(argv[4]);
  SetTorchThreads(threads);
  out["base_dtype"] = argv[3];
  out["threads"] = threads;
  auto start = Clock::now();
  std::unique_ptr<CausalLM> model = Must(CausalLM::Load(base, dtype));
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
        Must(Must(CausalLM::Load(base, DType::kF32))->TargetLogProbs(input, {}, targets));
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
    GenerationOptions options;
    options.max_new_tokens = 1;
    options.stop_token_ids = {-1};                // never stop early
    Must(GenerateFromIds(*model, ids, options));  // warm-up: pages the weights in
    start = Clock::now();
    Must(GenerateFromIds(*model, ids, options));  // prefill and the first token
    out["prefill_s"] = Seconds(start);
    options.max_new_tokens = fresh + 1;
    start = Clock::now();
    Generation generation = Must(GenerateFromIds(*model, ids, options));
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
