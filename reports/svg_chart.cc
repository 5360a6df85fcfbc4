#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "reports/escape.h"
#include "reports/number_format.h"

namespace graft::reports {
namespace {

// 1, 2 or 5 times a power of ten, the smallest such step >= raw.
double NiceStep(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  }
  return 10 * power;
}

bool Finite(std::initializer_list<double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

std::string Attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + XmlEscapeAttribute(value) + "\"";
}

std::string Num(std::string_view name, double value) {
  return " " + std::string(name) + "=\"" + SvgNumber(value) + "\"";
}

}  // namespace

LinearScale LinearScale::Covering(const std::vector<double>& values, double from, double to,
                                  double padding) {
  double low = INFINITY;
  double high = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  if (low > high) return {0, 1, from, to};
  if (!std::isfinite(high - low)) return {low, high, from, to};  // too wide to pad or round
  if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {
    const double half = std::max(std::abs(high) * 0.1, 1e-3);
    low -= half;
    high += half;
  }
  const double pad = (high - low) * padding;
  const double step = NiceStep((high - low + 2 * pad) / 6);
  if (!std::isfinite(step) || step <= 0) return {low, high, from, to};
  return {std::floor((low - pad) / step) * step, std::ceil((high + pad) / step) * step, from, to};
}

double LinearScale::operator()(double value) const {
  return from + (value - low) / (high - low) * (to - from);
}

std::vector<double> LinearScale::Ticks(int count) const {
  const double step = NiceStep((high - low) / std::max(count, 1));
  std::vector<double> ticks;
  if (!std::isfinite(step) || step <= 0) return ticks;
  for (double k = std::ceil(low / step - 1e-9); k * step <= high + step * 1e-9; ++k) {
    const double t = k * step;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

SvgChart::SvgChart(double width, double height, std::string_view css_class, std::string_view title)
    : width_(width), height_(height), css_class_(css_class), title_(title) {}

void SvgChart::Line(double x1, double y1, double x2, double y2, std::string_view css_class) {
  if (!Finite({x1, y1, x2, y2})) return;
  body_ += "<line" + Num("x1", x1) + Num("y1", y1) + Num("x2", x2) + Num("y2", y2) +
           Attr("class", css_class) + "/>\n";
}

void SvgChart::Rect(double x, double y, double width, double height, std::string_view css_class,
                    std::string_view fill, std::string_view stroke) {
  body_ += "<rect" + Num("x", x) + Num("y", y) + Num("width", width) + Num("height", height) +
           Attr("class", css_class) + (fill.empty() ? "" : Attr("fill", fill)) +
           (stroke.empty() ? "" : Attr("stroke", stroke)) + "/>\n";
}

void SvgChart::Circle(double cx, double cy, double r, std::string_view css_class) {
  if (!Finite({cx, cy, r})) return;
  body_ +=
      "<circle" + Num("cx", cx) + Num("cy", cy) + Num("r", r) + Attr("class", css_class) + "/>\n";
}

void SvgChart::Text(double x, double y, std::string_view text, std::string_view css_class,
                    std::string_view anchor, std::string_view tooltip) {
  body_ += "<text" + Num("x", x) + Num("y", y) + Attr("class", css_class) +
           Attr("text-anchor", anchor) + ">";
  if (!tooltip.empty()) body_ += "<title>" + XmlEscapeText(tooltip) + "</title>";
  body_ += XmlEscapeText(text) + "</text>\n";
}

void SvgChart::Polyline(const std::vector<std::pair<double, double>>& points,
                        std::string_view css_class) {
  std::string coordinates;
  for (const auto& [x, y] : points) {
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    if (!coordinates.empty()) coordinates += ' ';
    coordinates += SvgNumber(x) + "," + SvgNumber(y);
  }
  body_ += "<polyline" + Attr("points", coordinates) + Attr("class", css_class) + "/>\n";
}

void SvgChart::Raw(std::string_view markup) { body_ += markup; }

void SvgChart::XAxis(const LinearScale& x, double y, double grid_top, std::string_view label) {
  Line(x.from, y, x.to, y, "axis");
  for (double t : x.Ticks()) {
    Line(x(t), grid_top, x(t), y, "grid");
    Line(x(t), y, x(t), y + 4, "axis");
    Text(x(t), y + 16, FormatValue(t), "tick", "middle");
  }
  if (!label.empty()) Text((x.from + x.to) / 2, y + 32, label, "axis-label", "middle");
}

void SvgChart::YAxis(const LinearScale& y, double x, double grid_right, std::string_view label) {
  Line(x, y.from, x, y.to, "axis");
  for (double t : y.Ticks()) {
    Line(x, y(t), grid_right, y(t), "grid");
    Line(x - 4, y(t), x, y(t), "axis");
    Text(x - 6, y(t) + 4, FormatValue(t), "tick", "end");
  }
  if (!label.empty()) {
    body_ += "<text" + Num("x", 0) + Num("y", 0) + Attr("class", "axis-label") +
             Attr("text-anchor", "middle") + " transform=\"translate(" + SvgNumber(x - 44) + " " +
             SvgNumber((y.from + y.to) / 2) + ") rotate(-90)\">" + XmlEscapeText(label) +
             "</text>\n";
  }
}

std::string SvgChart::Finish() const {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\"" + Attr("class", css_class_) +
         Num("width", width_) + Num("height", height_) + " viewBox=\"0 0 " + SvgNumber(width_) +
         " " + SvgNumber(height_) + "\" role=\"img\"" + Attr("aria-label", title_) + ">\n<title>" +
         XmlEscapeText(title_) + "</title>\n" + body_ + "</svg>\n";
}

std::string SvgNumber(double value) {
  if (!std::isfinite(value)) return "0";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return std::string(buffer) == "-0.00" ? "0.00" : buffer;
}

std::string Ellipsize(std::string_view text, size_t max_chars) {
  const std::string clean = SanitizeText(text);
  size_t chars = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    if ((static_cast<unsigned char>(clean[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (++chars == max_chars) {
      size_t end = i + 1;
      while (end < clean.size() && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) ++end;
      return end < clean.size() ? clean.substr(0, i) + "…" : clean;
    }
  }
  return clean;
}

}  // namespace graft::reports
