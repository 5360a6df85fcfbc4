// Paired 0/1 metrics: exact conditional McNemar, Tango's score test and interval, exact MDE.
#pragma once

#include <cstdint>

#include "evaluator/stats/distribution.h"

namespace graft::stats {

// Counts of one paired 0/1 comparison, in the direction of improvement: `wins` items only the
// adapter got right, `losses` items only the base got right, `n` items in all.
struct DiscordantCounts {
  int64_t wins = 0;
  int64_t losses = 0;
  int64_t n = 0;
};

// Exact conditional (McNemar) one-sided p-value of H0 "the adapter is not better":
// P(X >= wins), X ~ Bin(wins + losses, 1/2). No discordant pair gives 1.
double McNemarOneSidedP(const DiscordantCounts& counts);

// The continuity correction the gate uses with Tango's statistic: half a unit of wins - losses.
// Without it the one-sided error of the score test runs slightly above nominal (2.9% for 2.5% at
// n = 1000 with 90% agreement; bench/gate).
inline constexpr double kTangoContinuity = 0.5;

// Tango's (1998) score statistic for H0: P(win) - P(loss) = delta0, delta0 in (-1, 1):
// Z = (wins - losses - n delta0) / sqrt(n (2 q + delta0 (1 - delta0))), q the constrained maximum
// likelihood estimate of P(loss) under H0 (the root of a quadratic), with the numerator moved
// `continuity` towards 0 (0: Tango's uncorrected statistic). Z is +-infinity when the variance
// vanishes with a non-zero numerator, 0 when the numerator is 0.
double TangoScore(const DiscordantCounts& counts, double delta0, double continuity = 0);

// One-sided p-value of H0 "P(win) - P(loss) <= threshold": 1 - Phi(TangoScore(threshold)).
double TangoOneSidedP(const DiscordantCounts& counts, double threshold, double continuity = 0);

// Tango's two-sided score interval for P(win) - P(loss) at `confidence`: the delta0 where
// |TangoScore(delta0, continuity)| = z_{(1 + confidence)/2}, found by bisection in [-1, 1].
Interval TangoInterval(const DiscordantCounts& counts, double confidence, double continuity = 0);

// Minimum detectable effect of the exact conditional test at one-sided level (1 - confidence)/2,
// given the wins + losses discordant pairs observed: (2 pi - 1) (wins + losses) / n for the
// smallest pi with P(Bin(wins + losses, pi) >= critical) >= power. +infinity when even
// pi = 1 cannot reach the critical count (too few discordant pairs).
double ExactMcNemarMde(const DiscordantCounts& counts, double confidence, double power);

}  // namespace graft::stats
