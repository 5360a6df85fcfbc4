#include "evaluator/stats/student_t.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace graft::stats {
namespace {

// The continued fraction of I_x(a, b), valid for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < kEpsilon) break;
  }
  return h;
}

double LogBinomialPmf(int64_t k, int64_t n, double log_p, double log_q) {
  const auto kd = static_cast<double>(k), nd = static_cast<double>(n);
  return std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * log_p +
         (nd - kd) * log_q;
}

}  // namespace

double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1 - std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
}

double StudentTCdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double tail = 0.5 * IncompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

Result<double> StudentTQuantile(double p, double df) {
  if (!(p > 0 && p < 1)) {
    return InvalidInput("t quantile needs a probability in (0, 1), got " + std::to_string(p));
  }
  if (!(df > 0)) return InvalidInput("t quantile needs degrees of freedom > 0");
  if (p < 0.5) {
    GRAFT_ASSIGN_OR_RETURN(double upper, StudentTQuantile(1 - p, df));
    return -upper;
  }
  double low = 0, high = 1;
  while (StudentTCdf(high, df) < p) {
    low = high;
    high *= 2;
    if (high > 1e300) return high;
  }
  for (int i = 0; i < 200 && high - low > 1e-12 * high; ++i) {
    const double mid = 0.5 * (low + high);
    (StudentTCdf(mid, df) < p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

double BinomialUpperTail(int64_t k, int64_t n, double p) {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const double log_p = std::log(p), log_q = std::log1p(-p);
  // Sum from the larger of k and the mode upwards and downwards to k, relative to the first term.
  const auto mode = static_cast<int64_t>(std::floor(static_cast<double>(n + 1) * p));
  const int64_t start = std::max(k, std::min(mode, n));
  const double log_first = LogBinomialPmf(start, n, log_p, log_q);
  double scaled = 0;
  for (int64_t j = start; j <= n; ++j) {
    const double term = std::exp(LogBinomialPmf(j, n, log_p, log_q) - log_first);
    scaled += term;
    if (j > start && term < 1e-17 * scaled) break;
  }
  for (int64_t j = start - 1; j >= k; --j) {
    const double term = std::exp(LogBinomialPmf(j, n, log_p, log_q) - log_first);
    scaled += term;
    if (term < 1e-17 * scaled) break;
  }
  return std::min(1.0, std::exp(log_first + std::log(scaled)));
}

}  // namespace graft::stats
