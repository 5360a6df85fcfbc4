// `graft eval ADAPTER --suite NAME...`: paired evaluation of the frozen base and base+adapter.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "core/file_util.h"
#include "evaluator/adapter_evaluator.h"

namespace graft::cli {
namespace {

// Progress with items/s and ETA on stderr, only when stderr is a terminal.
EvaluationProgress TerminalProgress() {
  if (!::isatty(STDERR_FILENO)) return {};
  auto start = std::make_shared<std::chrono::steady_clock::time_point>();
  auto current = std::make_shared<std::string>();
  return [start, current](const std::string& what, int64_t done, int64_t total) {
    auto now = std::chrono::steady_clock::now();
    if (what != *current) {
      *current = what;
      *start = now;
    }
    double seconds = std::chrono::duration<double>(now - *start).count();
    double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    std::fprintf(stderr, "\r\033[K%s: %lld/%lld items, %.1f items/s, ETA %.0fs", what.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate, eta);
    if (done == total) std::fprintf(stderr, "\n");
  };
}

void PrintOutcome(const EvaluationOutcome& outcome) {
  std::printf("evaluation sha256:%s of %s on base %s\n", outcome.attestation_digest.c_str(),
              outcome.adapter_label.c_str(), ShortDigest(outcome.base_digest).c_str());
  for (const SuiteOutcome& suite : outcome.suites) {
    std::printf("\nsuite %s (%s)%s\n", suite.name.c_str(), ShortDigest(suite.digest).c_str(),
                suite.base_from_cache ? " [base scores from cache]" : "");
    std::printf("  %-24s %-14s %6s %12s %12s %12s  %-27s\n", "task", "metric", "n", "base",
                "adapter", "delta", "interval");
    for (const TaskOutcome& task : suite.tasks) {
      for (const MetricComparison& c : task.comparisons) {
        std::printf("  %-24s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g] @%g\n",
                    task.name.c_str(), c.metric.c_str(), c.n, c.base, c.adapter, c.delta,
                    c.interval.low, c.interval.high, c.confidence);
        for (const MetricComparison& s : c.slices) {
          std::printf("    %-22s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g]\n",
                      ("[" + s.slice + "]").c_str(), s.metric.c_str(), s.n, s.base, s.adapter,
                      s.delta, s.interval.low, s.interval.high);
        }
      }
    }
  }
}

Result<int> RunEval(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  EvaluationSettings settings;
  settings.batch_size = vm["batch-size"].as<int64_t>();
  settings.max_length = vm["max-length"].as<int64_t>();
  settings.threads = vm["threads"].as<int>();
  settings.use_cache = !vm.count("no-cache");
  settings.bootstrap.resamples = vm["resamples"].as<int64_t>();
  settings.bootstrap.seed = vm["seed"].as<uint64_t>();
  settings.bootstrap.confidence = vm["confidence"].as<double>();
  if (settings.batch_size < 1 || settings.max_length < 0 || settings.threads < 0 ||
      settings.bootstrap.resamples < 100 || settings.bootstrap.confidence <= 0 ||
      settings.bootstrap.confidence >= 1) {
    return InvalidInput(
        "--batch-size must be >= 1, --max-length and --threads >= 0, --resamples >= 100 and "
        "--confidence in (0, 1)");
  }
  AdapterEvaluator evaluator(reg, settings);
  GRAFT_ASSIGN_OR_RETURN(
      EvaluationOutcome outcome,
      evaluator.Evaluate(vm["adapter"].as<std::string>(),
                         vm["suite"].as<std::vector<std::string>>(), key, TerminalProgress()));
  Json result = {{"attestation", outcome.attestation_digest},
                 {"subject", {{"name", outcome.adapter_label}, {"sha256", outcome.adapter_digest}}},
                 {"predicate", outcome.predicate}};
  if (vm.count("json")) {
    GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(result));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(vm["json"].as<std::string>(), text + "\n"));
  }
  PrintOutcome(outcome);
  return kExitOk;
}

CommandRegistrar kEval({
    .group = "eval",
    .verb = "",
    .summary = "Evaluate an adapter and its frozen base on registered suites (paired statistics)",
    .usage = "ADAPTER --suite NAME [--suite NAME]... --key KEY",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>()->required(),
                                "adapter REF (name@N, name@channel, digest or prefix)")(
              "suite", po::value<std::vector<std::string>>()->required(), "suite REF (repeat)")(
              "key", po::value<std::string>()->required(),
              "evaluator private key (trusted with role evaluator)")(
              "json", po::value<std::string>(), "also write the signed result to FILE")(
              "no-cache", "score the base again even if cached scores exist")(
              "batch-size", po::value<int64_t>()->default_value(8), "sequences per forward pass")(
              "max-length", po::value<int64_t>()->default_value(0),
              "window length in tokens (0: per task, else the model's context)")(
              "threads", po::value<int>()->default_value(0), "libtorch threads (0: default)")(
              "resamples", po::value<int64_t>()->default_value(10000), "bootstrap resamples")(
              "seed", po::value<uint64_t>()->default_value(0), "bootstrap seed")(
              "confidence", po::value<double>()->default_value(0.95),
              "confidence of the reported intervals");
          positional.add("adapter", 1);
          AddRegistryOption(options);
        },
    .run = RunEval,
});

}  // namespace
}  // namespace graft::cli
