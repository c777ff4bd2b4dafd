#include "report/scatter_svg.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/text.hpp"

namespace hao::report {
namespace {

std::string escape(const std::string& s) {
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

// A "nice" tick step (1, 2 or 5 x 10^k) giving about `count` ticks over `span`.
double tick_step(double span, int count) {
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

}  // namespace

std::string scatter_svg(const std::vector<ScatterSeries>& series, const std::string& title,
                        const std::string& subtitle, const std::string& x_label,
                        const std::string& y_label) {
  double lo = 1e300, hi = -1e300;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      lo = std::min({lo, s.x[i], s.y[i]});
      hi = std::max({hi, s.x[i], s.y[i]});
    }
  if (lo > hi) lo = 0, hi = 1;
  const double step = tick_step(std::max(hi - lo, 1e-9), 6);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  constexpr double kW = 640, kH = 640, kLeft = 80, kRight = 30, kTop = 80, kBottom = 70;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  auto px = [&](double v) { return kLeft + (v - lo) / (hi - lo) * plot_w; };
  auto py = [&](double v) { return kTop + plot_h - (v - lo) / (hi - lo) * plot_h; };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
    << "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << kW / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">"
    << escape(title) << "</text>\n";
  o << "<text x=\"" << kW / 2 << "\" y=\"50\" text-anchor=\"middle\" fill=\"#444\">"
    << escape(subtitle) << "</text>\n";
  for (double v = lo; v <= hi + step / 2; v += step) {
    const std::string label = core::fixed(v, step < 1 ? 1 : 0);
    o << "<line x1=\"" << px(v) << "\" y1=\"" << kTop << "\" x2=\"" << px(v) << "\" y2=\""
      << kTop + plot_h << "\" stroke=\"#eee\"/>\n";
    o << "<line x1=\"" << kLeft << "\" y1=\"" << py(v) << "\" x2=\"" << kLeft + plot_w << "\" y2=\""
      << py(v) << "\" stroke=\"#eee\"/>\n";
    o << "<text x=\"" << px(v) << "\" y=\"" << kTop + plot_h + 18 << "\" text-anchor=\"middle\">"
      << label << "</text>\n";
    o << "<text x=\"" << kLeft - 8 << "\" y=\"" << py(v) + 4 << "\" text-anchor=\"end\">" << label
      << "</text>\n";
  }
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w << "\" height=\""
    << plot_h << "\" fill=\"none\" stroke=\"#333\"/>\n";
  o << "<line x1=\"" << px(lo) << "\" y1=\"" << py(lo) << "\" x2=\"" << px(hi) << "\" y2=\""
    << py(hi) << "\" stroke=\"#888\" stroke-dasharray=\"6,4\"/>\n";
  o << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kH - 22 << "\" text-anchor=\"middle\">"
    << escape(x_label) << "</text>\n";
  o << "<text transform=\"translate(22," << kTop + plot_h / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label) << "</text>\n";
  double legend_y = kTop + 20;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i)
      o << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"2.6\" fill=\""
        << s.color << "\" fill-opacity=\"0.6\"/>\n";
    o << "<circle cx=\"" << kLeft + 16 << "\" cy=\"" << legend_y - 4 << "\" r=\"4\" fill=\""
      << s.color << "\"/>\n";
    o << "<text x=\"" << kLeft + 26 << "\" y=\"" << legend_y << "\">" << escape(s.label)
      << "</text>\n";
    legend_y += 18;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hao::report
