#include "cli/evaluation_options.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace graft::cli {

void AddEvaluationOptions(po::options_description& options) {
  options.add_options()("no-cache", "score the base again even if cached scores exist")(
      "batch-size", po::value<int64_t>()->default_value(8), "sequences per forward pass")(
      "max-length", po::value<int64_t>()->default_value(0),
      "window length in tokens (0: per task, else the model's context)")(
      "threads", po::value<int>()->default_value(0), "libtorch threads (0: default)")(
      "base-dtype", po::value<std::string>()->default_value("f32"),
      "keep the base's weights in f32, bf16, f16 or q8_0 (computing in f32)")(
      "resamples", po::value<int64_t>()->default_value(10000), "bootstrap resamples")(
      "seed", po::value<uint64_t>()->default_value(0), "bootstrap seed")(
      "confidence", po::value<double>()->default_value(0.95),
      "confidence of the reported intervals (a gate uses its policy's)");
}

Result<evaluator::EvaluationSettings> EvaluationSettingsFrom(const po::variables_map& vm) {
  evaluator::EvaluationSettings settings;
  settings.batch_size = vm["batch-size"].as<int64_t>();
  settings.max_length = vm["max-length"].as<int64_t>();
  settings.threads = vm["threads"].as<int>();
  GRAFT_ASSIGN_OR_RETURN(settings.base_dtype, ParseBaseDType(vm["base-dtype"].as<std::string>()));
  settings.use_cache = !vm.count("no-cache");
  settings.bootstrap.resamples = vm["resamples"].as<int64_t>();
  settings.bootstrap.seed = vm["seed"].as<uint64_t>();
  settings.bootstrap.confidence = vm["confidence"].as<double>();
  if (settings.batch_size < 1 || settings.max_length < 0 || settings.threads < 0 ||
      settings.bootstrap.resamples < 100 || !(settings.bootstrap.confidence > 0) ||
      !(settings.bootstrap.confidence < 1)) {
    return InvalidInput(
        "--batch-size must be >= 1, --max-length and --threads >= 0, --resamples >= 100 and "
        "--confidence in (0, 1)");
  }
  return settings;
}

evaluator::EvaluationProgress TerminalProgress() {
  if (Quiet() || !::isatty(STDERR_FILENO)) return {};
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

}  // namespace graft::cli
