#include "evaluator/stats/paired_binary.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "evaluator/stats/normal.h"
#include "evaluator/stats/student_t.h"

namespace graft::stats {

double McNemarOneSidedP(const DiscordantCounts& counts) {
  return BinomialUpperTail(counts.wins, counts.wins + counts.losses, 0.5);
}

double TangoScore(const DiscordantCounts& counts, double delta0, double continuity) {
  const auto n = static_cast<double>(counts.n);
  const auto wins = static_cast<double>(counts.wins);
  const auto losses = static_cast<double>(counts.losses);
  const double raw = wins - losses - n * delta0;
  const double numerator = std::copysign(std::max(0.0, std::abs(raw) - continuity), raw);
  // 2n q^2 + B q + C = 0 (Tango 1998, eq. 3, with x12 = wins and x21 = losses).
  const double a = 2 * n;
  const double b = -wins - losses + (2 * n - wins + losses) * delta0;
  const double c = -losses * delta0 * (1 - delta0);
  const double root = std::sqrt(std::max(0.0, b * b - 4 * a * c));
  const double q = std::max({0.0, -delta0, (root - b) / (2 * a)});
  const double variance = n * (2 * q + delta0 * (1 - delta0));
  if (!(variance > 0)) {
    if (numerator == 0) return 0;
    return numerator > 0 ? std::numeric_limits<double>::infinity()
                         : -std::numeric_limits<double>::infinity();
  }
  return numerator / std::sqrt(variance);
}

double TangoOneSidedP(const DiscordantCounts& counts, double threshold, double continuity) {
  if (counts.n <= 0) return 1;
  return 1 - NormalCdf(TangoScore(counts, threshold, continuity));
}

Interval TangoInterval(const DiscordantCounts& counts, double confidence, double continuity) {
  if (counts.n <= 0) return {-1, 1};
  const double z = *NormalQuantile(0.5 + confidence / 2);
  const double estimate =
      static_cast<double>(counts.wins - counts.losses) / static_cast<double>(counts.n);
  // TangoScore decreases in delta0: the lower bound solves Z = z below the estimate, the upper
  // bound Z = -z above it.
  auto solve = [&](double target, double low, double high) {
    for (int i = 0; i < 100 && high - low > 1e-13; ++i) {
      const double mid = 0.5 * (low + high);
      (TangoScore(counts, mid, continuity) > target ? low : high) = mid;
    }
    return 0.5 * (low + high);
  };
  return {solve(z, -1, estimate), solve(-z, estimate, 1)};
}

double ExactMcNemarMde(const DiscordantCounts& counts, double confidence, double power) {
  const int64_t d = counts.wins + counts.losses;
  const double alpha = (1 - confidence) / 2;
  // The smallest win count with P(X >= wins | p = 1/2) <= alpha (the tail shrinks as k grows).
  int64_t low_k = 0, critical = d + 1;
  while (low_k < critical) {
    const int64_t mid = low_k + (critical - low_k) / 2;
    if (BinomialUpperTail(mid, d, 0.5) <= alpha) {
      critical = mid;
    } else {
      low_k = mid + 1;
    }
  }
  if (critical > d || counts.n <= 0) return std::numeric_limits<double>::infinity();
  double low = 0.5, high = 1;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (low + high);
    (BinomialUpperTail(critical, d, mid) < power ? low : high) = mid;
  }
  return (2 * high - 1) * static_cast<double>(d) / static_cast<double>(counts.n);
}

}  // namespace graft::stats
