// Scatter and line plots as standalone SVG files (e.g. predicted against measured, with the
// y = x line; or a trade-off curve).
#pragma once

#include <string>
#include <vector>

namespace hao::report {

/// `s` with <, > and & escaped for SVG and HTML text.
std::string xml_escape(const std::string& s);

struct ScatterSeries {
  std::string label;
  std::vector<double> x, y;
  std::string color = "#1f77b4";
  bool line = false;  ///< join the points in order (as PlotStyle::connect does for all)
};

/// Axes span the data on both (equal) scales, with a dashed y = x diagonal; `subtitle` goes
/// under the title (e.g. the error metrics).
std::string scatter_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                        const std::string& subtitle, const std::string& x_label,
                        const std::string& y_label);

struct PlotStyle {
  bool equal_axes = true;  ///< one scale for both axes (predicted against measured)
  bool diagonal = true;    ///< a dashed y = x line
  bool connect = false;    ///< join each series' points in order
  double marker_radius = 2.6;
  bool log_x = false;  ///< a logarithmic x axis (positive x only), ticks at 1, 2, 5 x 10^k
};

/// The general form: independent axes, lines through the points, as `style` says.
std::string plot_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                     const std::string& subtitle, const std::string& x_label,
                     const std::string& y_label, const PlotStyle& style);

}  // namespace hao::report
