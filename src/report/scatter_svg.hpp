// A scatter plot as a standalone SVG file (predicted against measured, with the y = x line).
#pragma once

#include <string>
#include <vector>

namespace hao::report {

struct ScatterSeries {
  std::string label;
  std::vector<double> x, y;
  std::string color = "#1f77b4";
};

/// Axes span the data on both (equal) scales, with a dashed y = x diagonal; `subtitle` goes
/// under the title (e.g. the error metrics).
std::string scatter_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                        const std::string& subtitle, const std::string& x_label,
                        const std::string& y_label);

}  // namespace hao::report
