// Scales, ticks and marks of the inline SVG charts.
#include "reports/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace graft::reports {
namespace {

TEST(LinearScale, CoversValuesWithRoundBounds) {
  const LinearScale s = LinearScale::Covering({-0.07, 0.1}, 100, 500);
  EXPECT_LE(s.low, -0.07);
  EXPECT_GE(s.high, 0.1);
  EXPECT_DOUBLE_EQ(s.low, -0.1);  // padded by 5%, rounded out to steps of 0.05
  EXPECT_DOUBLE_EQ(s.high, 0.15);
  EXPECT_DOUBLE_EQ(s(s.low), 100);
  EXPECT_DOUBLE_EQ(s(s.high), 500);
}

TEST(LinearScale, TicksAreRoundAndIncludeZero) {
  const LinearScale s{-0.08, 0.12, 0, 1};
  const std::vector<double> ticks = s.Ticks(10);  // steps of 0.02
  ASSERT_EQ(ticks.size(), 11u);
  EXPECT_DOUBLE_EQ(ticks[0], -0.08);
  EXPECT_EQ(ticks[4], 0.0);
  EXPECT_FALSE(std::signbit(ticks[4]));
  EXPECT_DOUBLE_EQ(ticks[10], 0.12);
  EXPECT_EQ(s.Ticks(5), (std::vector<double>{-0.05, 0, 0.05, 0.1}));  // steps of 0.05
}

TEST(LinearScale, DegenerateAndNonFiniteInput) {
  const LinearScale empty = LinearScale::Covering({NAN, INFINITY}, 0, 10);
  EXPECT_EQ(empty.low, 0);
  EXPECT_EQ(empty.high, 1);
  const LinearScale flat = LinearScale::Covering({2, 2}, 0, 10);
  EXPECT_LT(flat.low, 2);
  EXPECT_GT(flat.high, 2);
  const LinearScale huge = LinearScale::Covering({-1e308, 1e308}, 0, 10);
  EXPECT_TRUE(std::isfinite(huge(0)));
  EXPECT_LE(huge.Ticks().size(), 20u);
}

TEST(SvgChart, EscapesTextAndSkipsNonFiniteMarks) {
  SvgChart chart(100, 50, "c", "t<\"");
  chart.Text(1, 2, "<script>", "label", "start", "tip&");
  chart.Line(0, 0, NAN, 1, "gone");
  chart.Circle(INFINITY, 1, 2, "gone");
  chart.Polyline({{0, 0}, {NAN, 1}, {2, 3}}, "p");
  const std::string svg = chart.Finish();
  EXPECT_NE(svg.find("aria-label=\"t&lt;&quot;\""), std::string::npos);
  EXPECT_NE(svg.find("<title>tip&amp;</title>&lt;script&gt;</text>"), std::string::npos);
  EXPECT_EQ(svg.find("gone"), std::string::npos);
  EXPECT_NE(svg.find("points=\"0.00,0.00 2.00,3.00\""), std::string::npos);
}

TEST(SvgChart, NumbersAndEllipsis) {
  EXPECT_EQ(SvgNumber(1.005), "1.00");
  EXPECT_EQ(SvgNumber(-0.001), "0.00");
  EXPECT_EQ(SvgNumber(NAN), "0");
  EXPECT_EQ(Ellipsize("abcdef", 4), "abc…");
  EXPECT_EQ(Ellipsize("abcd", 4), "abcd");
  EXPECT_EQ(Ellipsize("ééééé", 3), "éé…");  // counts characters, not bytes
}

}  // namespace
}  // namespace graft::reports
