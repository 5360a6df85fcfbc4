#include "reports/forest_plot.h"

#include <cctype>

#include "reports/number_format.h"
#include "reports/svg_chart.h"

namespace graft::reports {
namespace {

constexpr double kWidth = 960;
constexpr double kLabelWidth = 250;
constexpr double kValueWidth = 230;
constexpr double kRowHeight = 26;
constexpr double kTop = 12;
constexpr double kAxisHeight = 44;

std::string RowLabel(const EvaluationRow& row) {
  const stats::MetricComparison& m = *row.comparison;
  if (!m.slice.empty()) return "[" + m.slice + "]";
  return row.suite->suite.name + " / " + m.metric;
}

}  // namespace

std::string StatusClass(const policies::CriterionResult* criterion) {
  if (criterion == nullptr) return "status-none";
  std::string name(policies::CriterionStatusName(criterion->status));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "status-" + name;
}

std::string RenderForestPlot(const std::vector<EvaluationRow>& rows, std::string_view title) {
  const double plot_bottom = kTop + kRowHeight * static_cast<double>(rows.size());
  std::vector<double> extent = {0};
  for (const EvaluationRow& row : rows) {
    extent.push_back(row.interval().low);
    extent.push_back(row.interval().high);
    extent.push_back(row.comparison->delta);
    if (row.delta_threshold()) extent.push_back(*row.delta_threshold());
  }
  const LinearScale x = LinearScale::Covering(extent, kLabelWidth + 10, kWidth - kValueWidth - 10);
  SvgChart chart(kWidth, plot_bottom + kAxisHeight, "forest-plot", title);
  chart.XAxis(x, plot_bottom, kTop, "delta (adapter − base)");
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvaluationRow& row = rows[i];
    const double top = kTop + kRowHeight * static_cast<double>(i);
    const double y = top + kRowHeight / 2;
    const std::string status = StatusClass(row.criterion);
    if (i % 2 == 1) chart.Rect(0, top, kWidth, kRowHeight, "band");
    const stats::Interval interval = row.interval();
    const std::string detail = FormatSigned(row.comparison->delta) + " " +
                               FormatInterval(interval) + " at " + FormatPercent(row.confidence());
    const bool slice = !row.comparison->slice.empty();
    chart.Text(slice ? 24 : 8, y + 4, RowLabel(row), slice ? "label slice" : "label", "start",
               detail);
    if (const std::optional<double> t = row.delta_threshold()) {
      chart.Line(x(*t), top + 3, x(*t), top + kRowHeight - 3, "threshold " + status);
    }
    chart.Line(x(interval.low), y, x(interval.high), y, "ci " + status);
    chart.Line(x(interval.low), y - 5, x(interval.low), y + 5, "ci " + status);
    chart.Line(x(interval.high), y - 5, x(interval.high), y + 5, "ci " + status);
    chart.Circle(x(row.comparison->delta), y, 4.5, "point " + status);
    chart.Text(kWidth - kValueWidth + 4, y + 4, detail, "value", "start");
  }
  chart.Line(x(0), kTop, x(0), plot_bottom, "zero");
  return chart.Finish();
}

}  // namespace graft::reports
