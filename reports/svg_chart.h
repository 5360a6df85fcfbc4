// SvgChart: builds one inline SVG chart (scales, axes, marks) for the HTML reports.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace graft::reports {

// Maps the data interval [low, high] linearly onto the pixel interval [from, to] (`to` may be less
// than `from`, as on a y axis).
struct LinearScale {
  double low = 0;
  double high = 1;
  double from = 0;
  double to = 1;

  // A scale whose domain covers `values` (non-finite ones ignored), padded by `padding` of its
  // width and widened to whole tick steps; [0, 1] when there is nothing finite to cover.
  static LinearScale Covering(const std::vector<double>& values, double from, double to,
                              double padding = 0.05);

  double operator()(double value) const;
  // About `count` round tick values (1, 2 or 5 times a power of ten apart) within the domain.
  std::vector<double> Ticks(int count = 6) const;
};

// An <svg> element under construction. Marks take CSS classes: the page's stylesheet colours
// them. Coordinates print with two decimals; text is escaped; a line or circle with a
// non-finite coordinate is left out.
class SvgChart {
 public:
  // `css_class` marks the chart (tests count "forest-plot" charts); `title` is its accessible
  // name.
  SvgChart(double width, double height, std::string_view css_class, std::string_view title);

  void Line(double x1, double y1, double x2, double y2, std::string_view css_class);
  void Rect(double x, double y, double width, double height, std::string_view css_class,
            std::string_view fill = "", std::string_view stroke = "");
  void Circle(double cx, double cy, double r, std::string_view css_class);
  // `anchor` is start, middle or end. `tooltip` becomes a <title> child when not empty.
  void Text(double x, double y, std::string_view text, std::string_view css_class,
            std::string_view anchor = "start", std::string_view tooltip = "");
  // A polyline through `points` (non-finite points are skipped).
  void Polyline(const std::vector<std::pair<double, double>>& points, std::string_view css_class);
  // Raw SVG markup the caller built (for <defs>); must already be escaped.
  void Raw(std::string_view markup);

  // A horizontal axis at pixel row `y` with ticks and labels; gridlines up to `grid_top`.
  void XAxis(const LinearScale& x, double y, double grid_top, std::string_view label);
  // A vertical axis at pixel column `x` with ticks and labels; gridlines right to `grid_right`.
  void YAxis(const LinearScale& y, double x, double grid_right, std::string_view label);

  std::string Finish() const;

 private:
  std::string body_;
  double width_;
  double height_;
  std::string css_class_;
  std::string title_;
};

// Coordinates as SVG prints them: "%.2f".
std::string SvgNumber(double value);
// At most `max_chars` characters of `text` (code points, not bytes), with "…" when cut.
std::string Ellipsize(std::string_view text, size_t max_chars);

}  // namespace graft::reports
