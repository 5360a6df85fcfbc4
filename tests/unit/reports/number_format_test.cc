// Number formatting shared by every report format.
#include "reports/number_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace graft::reports {
namespace {

TEST(NumberFormat, ValuesUseSixSignificantDigits) {
  EXPECT_EQ(FormatValue(0.05), "0.05");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.333333");
  EXPECT_EQ(FormatValue(123456789), "1.23457e+08");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "nan");
}

TEST(NumberFormat, SignedDifferences) {
  EXPECT_EQ(FormatSigned(0.05), "+0.05");
  EXPECT_EQ(FormatSigned(-0.02), "-0.02");
  EXPECT_EQ(FormatSigned(0.0), "0");
  EXPECT_EQ(FormatSigned(-0.0), "0");
  EXPECT_EQ(FormatSigned(INFINITY), "+inf");
}

TEST(NumberFormat, IntervalsAndPercentages) {
  EXPECT_EQ(FormatInterval({-0.01, 0.03}), "[-0.01, +0.03]");
  EXPECT_EQ(FormatPercent(0.95), "95%");
  EXPECT_EQ(FormatPercent(0.9875), "98.75%");
  EXPECT_EQ(FormatOptional(std::nullopt), "");
  EXPECT_EQ(FormatOptional(2.5), "2.5");
  EXPECT_EQ(FormatIntervalAt({-0.07, -0.015}, 0.975), "[-0.07, -0.015] at 97.5%");
}

TEST(NumberFormat, CriterionIntervals) {
  policies::CriterionResult c;
  EXPECT_EQ(FormatCriterionInterval(c), "");
  c.interval = stats::Interval{0.05, 0.1};
  EXPECT_EQ(FormatCriterionInterval(c), "[+0.05, +0.1]");
  c.confidence = 0.9875;
  EXPECT_EQ(FormatCriterionInterval(c), "[+0.05, +0.1] at 98.75%");
}

}  // namespace
}  // namespace graft::reports
