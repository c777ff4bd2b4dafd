#include "report/scatter_svg.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::report {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

namespace {

// A "nice" tick step (1, 2 or 5 x 10^k) giving about `count` ticks over `span`.
double tick_step(double span, int count) {
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// The value of the form 1, 2 or 5 x 10^k at or below `v` (or at or above, `up`); v > 0.
double nice_125(double v, bool up) {
  const double d = std::pow(10.0, std::floor(std::log10(v)));
  if (up) {
    for (double m : {1.0, 2.0, 5.0})
      if (m * d >= v * (1 - 1e-12)) return m * d;
    return 10 * d;
  }
  for (double m : {5.0, 2.0})
    if (m * d <= v * (1 + 1e-12)) return m * d;
  return d;
}

}  // namespace

std::string scatter_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                        const std::string& subtitle, const std::string& x_label,
                        const std::string& y_label) {
  return plot_svg(series, title, subtitle, x_label, y_label, PlotStyle{});
}

std::string plot_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                     const std::string& subtitle, const std::string& x_label,
                     const std::string& y_label, const PlotStyle& style) {
  double x_lo = 1e300, x_hi = -1e300, y_lo = 1e300, y_hi = -1e300;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  if (style.equal_axes) {
    x_lo = y_lo = std::min(x_lo, y_lo);
    x_hi = y_hi = std::max(x_hi, y_hi);
  }
  if (x_lo > x_hi) x_lo = style.log_x ? 1 : 0, x_hi = style.log_x ? 10 : 1;
  if (y_lo > y_hi) y_lo = 0, y_hi = 1;
  const double x_step = tick_step(std::max(x_hi - x_lo, 1e-9 * std::max(1.0, std::abs(x_hi))), 6);
  const double y_step = tick_step(std::max(y_hi - y_lo, 1e-9 * std::max(1.0, std::abs(y_hi))), 6);
  // A log axis spans whole decades' 1-2-5 ticks around the data; a linear one whole steps.
  std::vector<double> x_ticks;
  if (style.log_x) {
    HAO_CHECK(x_lo > 0, "a logarithmic axis needs positive values");
    x_lo = nice_125(x_lo, false);
    x_hi = std::max(nice_125(x_hi, true), nice_125(x_lo * 1.01, true));
    for (double d = std::pow(10.0, std::floor(std::log10(x_lo))); d <= x_hi; d *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (m * d >= x_lo * (1 - 1e-9) && m * d <= x_hi * (1 + 1e-9)) x_ticks.push_back(m * d);
  } else {
    x_lo = std::floor(x_lo / x_step) * x_step, x_hi = std::ceil(x_hi / x_step) * x_step;
    if (x_hi <= x_lo) x_hi = x_lo + x_step;
    for (double v = x_lo; v <= x_hi + x_step / 2; v += x_step) x_ticks.push_back(v);
  }
  y_lo = std::floor(y_lo / y_step) * y_step, y_hi = std::ceil(y_hi / y_step) * y_step;
  if (y_hi <= y_lo) y_hi = y_lo + y_step;
  constexpr double kW = 640, kH = 640, kLeft = 80, kRight = 30, kTop = 80, kBottom = 70;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  auto px = [&](double v) {
    if (style.log_x) return kLeft + std::log(v / x_lo) / std::log(x_hi / x_lo) * plot_w;
    return kLeft + (v - x_lo) / (x_hi - x_lo) * plot_w;
  };
  auto py = [&](double v) { return kTop + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h; };
  auto label = [](double v, double step) {
    const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    return core::fixed(v, digits);
  };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
    << "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << kW / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">"
    << xml_escape(title) << "</text>\n";
  o << "<text x=\"" << kW / 2 << "\" y=\"50\" text-anchor=\"middle\" fill=\"#444\">"
    << xml_escape(subtitle) << "</text>\n";
  for (double v : x_ticks) {
    o << "<line x1=\"" << px(v) << "\" y1=\"" << kTop << "\" x2=\"" << px(v) << "\" y2=\""
      << kTop + plot_h << "\" stroke=\"#eee\"/>\n";
    o << "<text x=\"" << px(v) << "\" y=\"" << kTop + plot_h + 18 << "\" text-anchor=\"middle\">"
      << (style.log_x ? core::fixed(v, v >= 1 ? 0 : 3) : label(v, x_step)) << "</text>\n";
  }
  for (double v = y_lo; v <= y_hi + y_step / 2; v += y_step) {
    o << "<line x1=\"" << kLeft << "\" y1=\"" << py(v) << "\" x2=\"" << kLeft + plot_w << "\" y2=\""
      << py(v) << "\" stroke=\"#eee\"/>\n";
    o << "<text x=\"" << kLeft - 8 << "\" y=\"" << py(v) + 4 << "\" text-anchor=\"end\">"
      << label(v, y_step) << "</text>\n";
  }
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w << "\" height=\""
    << plot_h << "\" fill=\"none\" stroke=\"#333\"/>\n";
  if (style.diagonal)
    o << "<line x1=\"" << px(x_lo) << "\" y1=\"" << py(y_lo) << "\" x2=\"" << px(x_hi) << "\" y2=\""
      << py(y_hi) << "\" stroke=\"#888\" stroke-dasharray=\"6,4\"/>\n";
  o << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kH - 22 << "\" text-anchor=\"middle\">"
    << xml_escape(x_label) << "</text>\n";
  o << "<text transform=\"translate(22," << kTop + plot_h / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(y_label) << "</text>\n";
  double legend_y = kTop + 20;
  for (const auto& s : series) {
    if ((style.connect || s.line) && s.x.size() > 1) {
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i) o << px(s.x[i]) << "," << py(s.y[i]) << " ";
      o << "\"/>\n";
    }
    for (std::size_t i = 0; i < s.x.size(); ++i)
      o << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\""
        << style.marker_radius << "\" fill=\"" << s.color << "\" fill-opacity=\"0.6\"/>\n";
    o << "<circle cx=\"" << kLeft + 16 << "\" cy=\"" << legend_y - 4 << "\" r=\"4\" fill=\""
      << s.color << "\"/>\n";
    o << "<text x=\"" << kLeft + 26 << "\" y=\"" << legend_y << "\">" << xml_escape(s.label)
      << "</text>\n";
    legend_y += 18;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hao::report
