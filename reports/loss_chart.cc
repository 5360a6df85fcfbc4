#include "reports/loss_chart.h"

#include <utility>

#include "reports/svg_chart.h"

namespace graft::reports {
namespace {

constexpr double kWidth = 720;
constexpr double kHeight = 300;
constexpr double kLeft = 64;
constexpr double kRight = 16;
constexpr double kTop = 28;
constexpr double kBottom = 48;

}  // namespace

std::string RenderLossChart(const std::vector<LossPoint>& loss) {
  std::vector<double> steps;
  std::vector<double> values;
  for (const LossPoint& p : loss) {
    steps.push_back(static_cast<double>(p.step));
    values.push_back(p.train_loss);
    if (p.valid_loss) values.push_back(*p.valid_loss);
  }
  const LinearScale x = LinearScale::Covering(steps, kLeft, kWidth - kRight, 0);
  const LinearScale y = LinearScale::Covering(values, kHeight - kBottom, kTop);
  SvgChart chart(kWidth, kHeight, "loss-chart", "Training and validation loss by step");
  chart.XAxis(x, kHeight - kBottom, kTop, "step");
  chart.YAxis(y, kLeft, kWidth - kRight, "loss");
  std::vector<std::pair<double, double>> train;
  std::vector<std::pair<double, double>> valid;
  for (const LossPoint& p : loss) {
    const double px = x(static_cast<double>(p.step));
    train.emplace_back(px, y(p.train_loss));
    if (p.valid_loss) valid.emplace_back(px, y(*p.valid_loss));
  }
  chart.Polyline(train, "series-train");
  chart.Polyline(valid, "series-valid");
  for (const auto& [px, py] : valid) chart.Circle(px, py, 3, "point-valid");
  chart.Line(kLeft + 10, 14, kLeft + 34, 14, "series-train");
  chart.Text(kLeft + 40, 18, "train", "legend");
  chart.Line(kLeft + 100, 14, kLeft + 124, 14, "series-valid");
  chart.Text(kLeft + 130, 18, "validation", "legend");
  return chart.Finish();
}

}  // namespace graft::reports
