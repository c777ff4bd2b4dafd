#include "cli/search_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/csv.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "report/dataflow_report.hpp"
#include "report/scatter_svg.hpp"
#include "report/table.hpp"
#include "search/mbv2_domain.hpp"
#include "search/pareto.hpp"

namespace hao::cli {
namespace {

namespace fs = std::filesystem;

struct Design {
  const store::EvaluationRecord* record = nullptr;
  double test_accuracy = -1;  ///< < 0: not measured
  bool front = false;
};

/// Draws the plot with gnuplot; returns false (and says why) when it cannot.
bool draw_plot(const fs::path& dir, const std::vector<Design>& designs, const std::string& title,
               bool tabular, std::ostream& err) {
  std::string all, front, chosen;
  std::vector<const Design*> f;
  for (const auto& d : designs) {
    all += core::fixed(d.record->fps, 3) + " " + core::fixed(d.record->accuracy, 4) + "\n";
    if (d.front) f.push_back(&d);
  }
  std::sort(f.begin(), f.end(),
            [](const Design* a, const Design* b) { return a->record->fps < b->record->fps; });
  for (const Design* d : f)
    front += core::fixed(d->record->fps, 3) + " " +
             core::fixed(tabular ? d->record->accuracy : d->test_accuracy, 4) + "\n";
  core::write_file((dir / "evaluated.dat").string(), all);
  core::write_file((dir / "front.dat").string(), front);
  const std::string y =
      tabular ? "accuracy (%)" : "accuracy (%): validation during search, test on the frontier";
  std::string script = "set title '" + title +
                       "' noenhanced\n"
                       "set xlabel 'frames per second (log scale)'\nset ylabel '" +
                       y +
                       "'\n"
                       "set logscale x\nset grid\nset key top right\n";
  const std::string plot =
      "plot 'evaluated.dat' using 1:2 with points pt 7 ps 0.6 lc rgb '#999999' title '" +
      std::string(tabular ? "evaluated" : "evaluated (validation)") +
      "', 'front.dat' using 1:2 with linespoints pt 5 ps 1.0 lw 2 lc rgb '#d62728' title '" +
      std::string(tabular ? "Pareto front" : "frontier (test, after QAT)") + "'\n";
  script += "set terminal svg size 800,520 dynamic\nset output 'pareto.svg'\n" + plot;
  script += "set terminal pngcairo size 800,520\nset output 'pareto.png'\n" + plot;
  core::write_file((dir / "pareto.gp").string(), script);
  const std::string cmd = "cd '" + dir.string() + "' && gnuplot pareto.gp 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    err << "hao: note: cannot run gnuplot; pareto.svg/png not drawn (pareto.gp is there)\n";
    return false;
  }
  std::string output;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) output += buf;
  const int rc = pclose(p);
  if (rc != 0) {
    err << "hao: note: gnuplot failed (apt-get install gnuplot-nox); pareto.svg/png not drawn: "
        << output << "\n";
    return false;
  }
  return true;
}

}  // namespace

std::string genotype_code(const search::Genotype& g) {
  std::string s;
  for (std::size_t i = 0; i < g.size(); ++i) s += (i ? "," : "") + std::to_string(g[i]);
  return s;
}

search::Genotype parse_code(const std::string& code, const std::string& where) {
  search::Genotype g;
  for (const auto& part : core::split(code, ',')) {
    double v = 0;
    if (!core::parse_double(part, v))
      throw core::InputError(where + ": genotype '" + code + "' is damaged");
    g.push_back(static_cast<int>(v));
  }
  return g;
}

std::string bits_summary(const ir::Network& net) {
  std::map<std::string, int> counts;
  std::string first, last;
  std::vector<const ir::Layer*> weighted;
  for (const auto& l : net.layers)
    if (l.has_weights()) weighted.push_back(&l);
  auto wa = [](const ir::Layer& l) {
    return "w" + std::to_string(l.weight_bits) + "a" + std::to_string(l.act_bits);
  };
  for (std::size_t i = 1; i + 1 < weighted.size(); ++i) ++counts[wa(*weighted[i])];
  std::string s = weighted.empty() ? "" : weighted.front()->name + " " + wa(*weighted.front());
  for (const auto& [bits, n] : counts) s += ", " + std::to_string(n) + " layers " + bits;
  if (weighted.size() > 1) s += ", " + weighted.back()->name + " " + wa(*weighted.back());
  return s;
}

double frame_interval_ms(const store::EvaluationRecord& r) {
  if (r.latency_ms >= search::kInfeasibleMs || r.fps <= 0) return search::kInfeasibleMs;
  return 1000.0 / r.fps;
}

search::Observation observation_of(const store::EvaluationRecord& r, const search::Genotype& g) {
  search::Observation o{g, r.accuracy, frame_interval_ms(r), {}};
  const nlohmann::json extra = nlohmann::json::parse(r.extra, nullptr, /*allow_exceptions=*/false);
  if (!extra.is_object() || !extra.contains("sensitivity") || !extra["sensitivity"].is_object())
    return o;
  for (const auto& [layer, per_bits] : extra["sensitivity"].items()) {
    if (!per_bits.is_object()) continue;
    for (const auto& [bits, omega] : per_bits.items())
      if (omega.is_number() && !bits.empty() && bits.size() <= 2 &&
          std::all_of(bits.begin(), bits.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
        o.omega[layer][std::stoi(bits)] = omega.get<double>();
  }
  return o;
}

std::vector<std::size_t> pick_finalists(const std::vector<store::EvaluationRecord>& records,
                                        std::size_t n) {
  // Peel validation fronts; a design at an fps some finalist already has waits for a second
  // pass: of two designs at one speed only the more accurate can join the test frontier.
  std::vector<std::size_t> left, out, later;
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i].latency_ms < search::kInfeasibleMs) left.push_back(i);
  auto same_speed = [&](std::size_t i) {
    for (std::size_t k : out)
      if (std::abs(records[k].fps - records[i].fps) <= 1e-6 * records[i].fps) return true;
    return false;
  };
  while (out.size() < n && !left.empty()) {
    std::vector<search::Objectives> pts;
    // Over the frame interval, as the frontier is; a dataflow pipeline's latency also counts
    // its depth.
    for (std::size_t i : left) pts.push_back({frame_interval_ms(records[i]), records[i].accuracy});
    std::vector<std::size_t> front;
    for (std::size_t k : search::pareto_front(pts)) front.push_back(left[k]);
    std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
      return records[a].accuracy > records[b].accuracy;
    });
    for (std::size_t i : front)
      if (out.size() < n) (same_speed(i) ? later : out).push_back(i);
    std::vector<std::size_t> rest;
    for (std::size_t i : left)
      if (std::find(front.begin(), front.end(), i) == front.end()) rest.push_back(i);
    left = std::move(rest);
  }
  for (std::size_t i : later)
    if (out.size() < n) out.push_back(i);
  return out;
}

void write_search_report(const store::StudyStore& db, const std::string& study,
                         const ReportOptions& options, std::ostream& out, std::ostream& err) {
  const nlohmann::json settings = nlohmann::json::parse(db.settings(study));
  const bool tabular = settings.value("kind", "") == "tabular";
  const std::vector<store::EvaluationRecord> records = db.evaluations(study);
  if (records.empty())
    throw core::InputError(db.path() + ": study '" + study + "' has no evaluations yet");
  std::vector<Design> designs;
  for (const auto& r : records) {
    Design d;
    d.record = &r;
    const std::string note = db.note(study, "final/" + std::to_string(r.index));
    if (!note.empty()) d.test_accuracy = nlohmann::json::parse(note).value("test_accuracy", -1.0);
    if (tabular) d.test_accuracy = r.accuracy;
    designs.push_back(d);
  }
  // The frontier: measured designs no other measured design beats in both test accuracy and fps.
  std::vector<std::size_t> measured;
  std::vector<search::Objectives> pts;
  for (std::size_t i = 0; i < designs.size(); ++i)
    if (designs[i].test_accuracy >= 0 && designs[i].record->latency_ms < search::kInfeasibleMs) {
      measured.push_back(i);
      pts.push_back({1.0 / designs[i].record->fps, designs[i].test_accuracy});
    }
  std::vector<std::size_t> front;
  for (std::size_t k : search::pareto_front(pts)) front.push_back(measured[k]);
  for (std::size_t i : front) designs[i].front = true;
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    return designs[a].record->fps > designs[b].record->fps;
  });
  // The knee.
  std::size_t chosen = front.empty() ? designs.size() : front[0];
  if (!front.empty()) {
    double a_lo = 1e300, a_hi = -1e300, f_lo = 1e300, f_hi = -1e300;
    for (std::size_t i : front) {
      a_lo = std::min(a_lo, designs[i].test_accuracy),
      a_hi = std::max(a_hi, designs[i].test_accuracy);
      f_lo = std::min(f_lo, std::log(designs[i].record->fps)),
      f_hi = std::max(f_hi, std::log(designs[i].record->fps));
    }
    double best = -1;
    for (std::size_t i : front) {
      const double s =
          (a_hi > a_lo ? (designs[i].test_accuracy - a_lo) / (a_hi - a_lo) : 1) +
          (f_hi > f_lo ? (std::log(designs[i].record->fps) - f_lo) / (f_hi - f_lo) : 1);
      if (s > best) best = s, chosen = i;
    }
  }

  // The frontier's columns, each rendered in the printed table, pareto.csv and index.html.
  struct Column {
    std::string title;  ///< table and HTML; empty title with text: the chosen mark
    std::string csv;    ///< pareto.csv header
    std::function<std::string(const Design&, bool chosen)> text;
    std::function<std::string(const Design&, bool chosen)> csv_value;  ///< empty: as text
    bool in_table = true;
  };
  using R = const Design&;
  const char* pct = tabular ? "" : "%";
  std::vector<Column> columns{
      {"design", "design", [](R d, bool) { return std::to_string(d.record->index); }, {}},
      {"", "chosen", [](R, bool c) { return std::string(c ? "*" : ""); },
       [](R, bool c) { return std::string(c ? "1" : "0"); }},
      {tabular ? "accuracy" : "test acc", tabular ? "accuracy" : "test_accuracy",
       [&](R d, bool) { return core::fixed(d.test_accuracy, 2) + pct; },
       [](R d, bool) { return core::fixed(d.test_accuracy, 4); }}};
  if (!tabular)
    columns.push_back({"val acc", "val_accuracy",
                       [](R d, bool) { return core::fixed(d.record->accuracy, 2) + "%"; },
                       [](R d, bool) { return core::fixed(d.record->accuracy, 4); }});
  columns.push_back({"fps", "fps",
                     [&](R d, bool) { return core::fixed(d.record->fps, tabular ? 1 : 0); },
                     [](R d, bool) { return core::fixed(d.record->fps, 3); }});
  columns.push_back({"latency ms", "latency_ms",
                     [&](R d, bool) { return core::fixed(d.record->latency_ms, tabular ? 3 : 4); },
                     [](R d, bool) { return core::fixed(d.record->latency_ms, 5); }});
  if (!tabular) {
    columns.push_back({"DSP", "dsp", [](R d, bool) { return core::fixed(d.record->dsp, 0); }, {}});
    columns.push_back({"LUT", "lut", [](R d, bool) { return core::fixed(d.record->lut, 0); }, {}});
    columns.push_back(
        {"BRAM36", "bram36", [](R d, bool) { return core::fixed(d.record->bram36, 1); }, {}});
    columns.push_back({"bits", "bits", [](R d, bool) { return d.record->bits; }, {}});
  }
  // The genotype: long, so the printed table shows it only where there are no bits to show.
  columns.push_back(
      {"genotype", "genotype", [](R d, bool) { return d.record->label; }, {}, tabular});
  const auto left = [](const Column& c) {
    return c.title.empty() || c.title == "bits" || c.title == "genotype";
  };

  report::Table t;
  std::vector<std::string> header;
  for (const auto& c : columns)
    if (c.in_table)
      t.add_column(c.title, left(c) ? report::Table::Align::kLeft : report::Table::Align::kRight);
  for (const auto& c : columns) header.push_back(c.csv);
  std::string csv = core::csv_record(header);
  nlohmann::ordered_json jfront = nlohmann::json::array();
  for (std::size_t i : front) {
    const auto& r = *designs[i].record;
    std::vector<std::string> row, values;
    for (const auto& c : columns) {
      if (c.in_table) row.push_back(c.text(designs[i], i == chosen));
      values.push_back((c.csv_value ? c.csv_value : c.text)(designs[i], i == chosen));
    }
    t.add_row(row);
    csv += core::csv_record(values);
    jfront.push_back({{"design", r.index},
                      {"chosen", i == chosen},
                      {"test_accuracy", designs[i].test_accuracy},
                      {"val_accuracy", r.accuracy},
                      {"fps", r.fps},
                      {"latency_ms", r.latency_ms},
                      {"dsp", r.dsp},
                      {"lut", r.lut},
                      {"bram36", r.bram36},
                      {"bits", r.bits},
                      {"genotype", r.label}});
  }
  out << "study '" << study << "': " << records.size() << " evaluations, "
      << (tabular ? "" : std::to_string(measured.size()) + " measured on the test set, ")
      << "frontier " << front.size() << " designs (* = chosen, the knee)\n"
      << t.render();

  const fs::path dir = options.out_dir;
  fs::create_directories(dir);
  core::write_file((dir / "pareto.csv").string(), csv);
  nlohmann::ordered_json j{
      {"study", study}, {"storage", db.path()}, {"settings", settings}, {"frontier", jfront}};
  if (const std::string tau = db.note(study, "predictor_kendall"); !tau.empty())
    j["predictor_kendall_cv"] = nlohmann::json::parse(tau);
  for (const auto& d : designs) {
    const auto& r = *d.record;
    nlohmann::ordered_json e{{"design", r.index},
                             {"genotype", r.label},
                             {"accuracy", r.accuracy},
                             {"fps", r.fps},
                             {"latency_ms", r.latency_ms},
                             {"dsp", r.dsp},
                             {"lut", r.lut},
                             {"bram36", r.bram36},
                             {"bits", r.bits},
                             {"wall_s", r.wall_s},
                             {"seed", r.seed}};
    if (!tabular && d.test_accuracy >= 0) e["test_accuracy"] = d.test_accuracy;
    if (!r.extra.empty()) e["extra"] = nlohmann::json::parse(r.extra);
    j["evaluations"].push_back(e);
  }
  const std::string json_text = j.dump(2) + "\n";
  core::write_file((dir / "pareto.json").string(), json_text);
  if (!options.json_out.empty()) {
    if (options.json_out == "-")
      out << json_text;
    else
      core::write_file(options.json_out, json_text);
  }
  const bool plotted = draw_plot(dir, designs, "hao search: " + study, tabular, err);

  // The chosen design, ready to build (trained spaces).
  std::string layers_text, folding;
  if (!tabular && chosen < designs.size()) {
    const search::SpaceSpec spec = search::parse_space(settings.at("space_yaml").get<std::string>(),
                                                       "study '" + study + "' space", ".");
    const search::Mbv2Domain domain(spec.mbv2,
                                    hw::load_device(settings.at("device").get<std::string>()));
    const search::Genotype g =
        parse_code(designs[chosen].record->genotype, db.path() + ": study '" + study + "'");
    const ir::Network net =
        domain.network(g, "design" + std::to_string(designs[chosen].record->index));
    ilp::MapOptions mo;
    mo.solve.time_limit_s = 20;
    const ilp::MapResult m = ilp::map_dataflow(net, domain.device(), mo);
    layers_text = report::dataflow_text(net, domain.device(), m);
    folding = hw::folding_json(net, m.configs);
    fs::create_directories(dir / "chosen");
    core::write_file((dir / "chosen" / "model.yaml").string(), domain.description(g, net.name));
    core::write_file((dir / "chosen" / "folding_config.json").string(), folding);
    core::write_file((dir / "chosen" / "layers.txt").string(), layers_text);
  }

  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hao search: " +
      report::xml_escape(study) +
      "</"
      "title>\n<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:"
      "collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l{text-align:left}"
      "tr.chosen{background:#fde}pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></"
      "head><body>\n"
      "<h1>hao search: " +
      report::xml_escape(study) + "</h1>\n<p>Space <b>" +
      report::xml_escape(settings.value("space", "")) + "</b>, strategy <b>" +
      report::xml_escape(settings.value("strategy", "")) + "</b>, seed " + settings["seed"].dump() +
      (tabular ? "" : ", device <b>" + report::xml_escape(settings.value("device", "")) + "</b>") +
      "; " + std::to_string(records.size()) + " evaluations in " + report::xml_escape(db.path()) +
      ".</p>\n";
  if (plotted) html += "<p><img src=\"pareto.svg\" alt=\"Pareto plot\" width=\"800\"></p>\n";
  html += "<h2>Frontier</h2>\n<table><tr>";
  for (const auto& c : columns) html += "<th>" + report::xml_escape(c.title) + "</th>";
  html += "</tr>\n";
  for (std::size_t i : front) {
    html += std::string("<tr") + (i == chosen ? " class=\"chosen\"" : "") + ">";
    for (const auto& c : columns)
      html += std::string(left(c) ? "<td class=\"l\">" : "<td>") +
              report::xml_escape(c.text(designs[i], i == chosen)) + "</td>";
    html += "</tr>\n";
  }
  html += "</table>\n";
  if (!layers_text.empty())
    html += "<h2>Chosen design " + std::to_string(designs[chosen].record->index) +
            ": per-layer accelerator</h2>\n<pre>" + report::xml_escape(layers_text) +
            "</pre>\n<h2>Folding file (FINN folding_config.json)</h2>\n<p><a "
            "href=\"chosen/folding_config.json\">"
            "chosen/folding_config.json</a>, network <a "
            "href=\"chosen/model.yaml\">chosen/model.yaml</a></p>\n<pre>" +
            report::xml_escape(folding) + "</pre>\n";
  html +=
      "<p>Data: <a href=\"pareto.csv\">pareto.csv</a>, <a href=\"pareto.json\">pareto.json</a>" +
      std::string(plotted ? ", <a href=\"pareto.png\">pareto.png</a>" : "") +
      ".</p>\n</body></html>\n";
  core::write_file((dir / "index.html").string(), html);
  out << "report: " << (dir / "index.html").string() << " (pareto.csv, pareto.json"
      << (plotted ? ", pareto.svg, pareto.png" : "") << (layers_text.empty() ? "" : ", chosen/")
      << ")\n";
}

}  // namespace hao::cli
