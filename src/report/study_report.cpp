#include "report/study_report.hpp"

#include <algorithm>
#include <cmath>
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
#include "predict/calibration.hpp"
#include "report/dataflow_report.hpp"
#include "report/engine_report.hpp"
#include "report/scatter_svg.hpp"
#include "report/table.hpp"
#include "search/autoshrink_domain.hpp"
#include "search/network_domain.hpp"
#include "search/pareto.hpp"
#include "search/space_spec.hpp"
#include "search/study.hpp"

namespace hao::report {
namespace {

namespace fs = std::filesystem;

struct Design {
  const store::EvaluationRecord* record = nullptr;
  double test_accuracy = -1;  ///< < 0: not measured
  bool front = false;
};

/// The Pareto plot: every evaluation (validation accuracy on trained spaces) and the frontier
/// (test accuracy after QAT), over fps on a log axis.
std::string pareto_svg(const std::vector<Design>& designs, const std::string& title, bool tabular) {
  ScatterSeries all{tabular ? "evaluated" : "evaluated (validation)", {}, {}, "#999999"};
  ScatterSeries front{tabular ? "Pareto front" : "frontier (test, after QAT)", {}, {}, "#d62728"};
  front.line = true;
  std::vector<const Design*> f;
  for (const auto& d : designs) {
    if (d.record->fps <= 0) continue;
    all.x.push_back(d.record->fps), all.y.push_back(d.record->accuracy);
    if (d.front) f.push_back(&d);
  }
  std::sort(f.begin(), f.end(),
            [](const Design* a, const Design* b) { return a->record->fps < b->record->fps; });
  for (const Design* d : f) {
    front.x.push_back(d->record->fps);
    front.y.push_back(tabular ? d->record->accuracy : d->test_accuracy);
  }
  PlotStyle style;
  style.equal_axes = style.diagonal = false;
  style.log_x = true;
  return plot_svg(
      {all, front}, title, "", "frames per second (log scale)",
      tabular ? "accuracy (%)" : "accuracy (%): validation during search, test on the frontier",
      style);
}

}  // namespace

std::unique_ptr<search::NetworkDomain> study_domain(const store::StudyStore& db,
                                                    const std::string& study) {
  const nlohmann::json settings = nlohmann::json::parse(db.settings(study));
  const search::SpaceSpec spec = search::parse_space(settings.at("space_yaml").get<std::string>(),
                                                     "study '" + study + "' space", ".");
  ilp::MapOptions mo;
  mo.solve.time_limit_s = settings.value("ilp_time_limit_s", search::kStudyIlpTimeLimitS);
  return search::make_network_domain(spec,
                                     hw::load_device(settings.at("device").get<std::string>()), mo);
}

ChosenDesign write_study_report(const store::StudyStore& db, const std::string& study,
                                const StudyReportOptions& options, std::ostream& out) {
  const nlohmann::json settings = nlohmann::json::parse(db.settings(study));
  const bool tabular = settings.value("kind", "") == "tabular";
  // What latency is: program 1's dataflow design, program 2's engine, or the host CPU.
  const std::string target = settings.value("target", "dataflow");
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
      pts.push_back({search::frame_interval_ms(*designs[i].record), designs[i].test_accuracy});
    }
  std::vector<std::size_t> front_pts = search::pareto_front(pts);  // indices into pts
  std::sort(front_pts.begin(), front_pts.end(), [&](std::size_t a, std::size_t b) {
    return designs[measured[a]].record->fps > designs[measured[b]].record->fps;
  });
  std::vector<std::size_t> front;  // indices into designs, fastest first
  std::vector<search::Objectives> front_objectives;
  for (std::size_t k : front_pts) {
    front.push_back(measured[k]);
    front_objectives.push_back(pts[k]);
    designs[measured[k]].front = true;
  }
  // The knee, over the frontier ordered fastest first.
  const std::size_t chosen = front.empty() ? designs.size() : front[search::knee(front_objectives)];

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

  Table t;
  std::vector<std::string> header;
  for (const auto& c : columns)
    if (c.in_table) t.add_column(c.title, left(c) ? Table::Align::kLeft : Table::Align::kRight);
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
  // Who judged the candidates: a table, the supernet or trainings from scratch (studies
  // stored before there was a choice say nothing and trained).
  std::size_t reused = 0;  // judgements a supernet evaluator took from earlier studies
  for (const auto& r : records) {
    const auto extra = nlohmann::json::parse(r.extra, nullptr, /*allow_exceptions=*/false);
    reused += extra.is_object() && extra.value("reused", false);
  }
  const std::string judged_by =
      tabular ? "table look-ups"
      : settings.value("evaluator", "") == "supernet"
          ? "judged at their bits on the supernet" +
                (reused ? ", " + std::to_string(reused) + " of them by earlier studies"
                        : std::string())
          : "each trained from scratch";
  out << "study '" << study << "': " << records.size() << " evaluations (" << judged_by << "), "
      << (tabular ? "" : std::to_string(measured.size()) + " measured on the test set, ")
      << "frontier " << front.size() << " designs (* = chosen, the knee)\n"
      << t.render();
  if (const std::string tau = db.note(study, "predictor_kendall"); !tau.empty()) {
    const nlohmann::json k = nlohmann::json::parse(tau, nullptr, /*allow_exceptions=*/false);
    if (k.is_object() && k.contains("gp") && k["gp"].is_number())
      out << "accuracy predictors' cross-validated Kendall tau: Gaussian process "
          << core::fixed(k["gp"].get<double>(), 2)
          << (k.contains("ridge") && k["ridge"].is_number()
                  ? ", ridge " + core::fixed(k["ridge"].get<double>(), 2)
                  : std::string())
          << (k.contains("nn_degree") && k["nn_degree"].is_number()
                  ? "; NN-Degree's (no training) " + core::fixed(k["nn_degree"].get<double>(), 2)
                  : std::string())
          << "\n";
  }

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
  core::write_file((dir / "pareto.svg").string(),
                   pareto_svg(designs, "hao search: " + study, tabular));

  // The chosen design, ready to build (trained spaces).
  std::string layers_text, folding;
  ChosenDesign result;
  if (!tabular && chosen < designs.size()) {
    const auto network = study_domain(db, study);
    const search::NetworkDomain& domain = *network;
    const ilp::MapOptions& mo = domain.map_options();
    const search::Genotype g =
        search::parse_code(designs[chosen].record->genotype, db.path() + ": study '" + study + "'");
    const ir::Network net =
        domain.network(g, "design" + std::to_string(designs[chosen].record->index));
    fs::create_directories(dir / "chosen");
    core::write_file((dir / "chosen" / "model.yaml").string(), domain.description(g, net.name));
    if (target == "dataflow") {  // the accelerator it was chosen with
      const ilp::MapResult m = ilp::map_dataflow(net, domain.device(), mo);
      layers_text = dataflow_text(net, domain.device(), m);
      folding = hw::folding_json(net, m.configs, domain.device(), mo.cost);
      core::write_file((dir / "chosen" / "folding_config.json").string(), folding);
    } else if (target == "engine") {
      ilp::EngineMapOptions eo;
      eo.solve.time_limit_s = mo.solve.time_limit_s;
      const ilp::EngineMapResult m = ilp::map_engine(net, domain.device(), eo);
      std::optional<CalibratedLatency> calibrated;
      if (const std::string model = settings.value("latency_model", ""); !model.empty()) {
        if (fs::exists(model))
          calibrated = CalibratedLatency{
              model, predict::load_predictor(core::read_json(model), model)(net, "", nullptr)};
        else
          out << "note: the study's latency model " << model
              << " is gone: chosen/layers.txt gives program 2's stated latency alone\n";
      }
      layers_text = engine_text(net, domain.device(), m, calibrated);
    }
    if (!layers_text.empty())
      core::write_file((dir / "chosen" / "layers.txt").string(), layers_text);
    result.index = designs[chosen].record->index;
    result.genotype = designs[chosen].record->genotype;
    result.dir = (dir / "chosen").string();
    result.target = target;
    const std::string note = db.note(study, "final/" + std::to_string(result.index));
    if (!note.empty()) result.checkpoint = nlohmann::json::parse(note).value("checkpoint", "");
  }

  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hao search: " +
      xml_escape(study) +
      "</"
      "title>\n<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:"
      "collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l{text-align:left}"
      "tr.chosen{background:#fde}pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></"
      "head><body>\n"
      "<h1>hao search: " +
      xml_escape(study) + "</h1>\n<p>Space <b>" + xml_escape(settings.value("space", "")) +
      "</b>, strategy <b>" + xml_escape(settings.value("strategy", "")) + "</b>, seed " +
      settings["seed"].dump() +
      (tabular           ? ""
       : target == "cpu" ? ", target <b>the host CPU</b> (its piece table)"
       : target == "engine"
           ? ", target <b>program 2's engine</b> on <b>" +
                 xml_escape(settings.value("device", "")) + "</b>" +
                 (settings.contains("latency_model")
                      ? " (latency: " + xml_escape(settings.value("latency_model", "")) + ")"
                      : std::string())
           : ", device <b>" + xml_escape(settings.value("device", "")) + "</b>") +
      "; " + std::to_string(records.size()) + " evaluations (" + judged_by + ") in " +
      xml_escape(db.path()) + ".</p>\n";
  html += "<p><img src=\"pareto.svg\" alt=\"Pareto plot\" width=\"640\"></p>\n";
  html += "<h2>Frontier</h2>\n<table><tr>";
  for (const auto& c : columns) html += "<th>" + xml_escape(c.title) + "</th>";
  html += "</tr>\n";
  for (std::size_t i : front) {
    html += std::string("<tr") + (i == chosen ? " class=\"chosen\"" : "") + ">";
    for (const auto& c : columns)
      html += std::string(left(c) ? "<td class=\"l\">" : "<td>") +
              xml_escape(c.text(designs[i], i == chosen)) + "</td>";
    html += "</tr>\n";
  }
  html += "</table>\n";
  if (!layers_text.empty())
    html += "<h2>Chosen design " + std::to_string(designs[chosen].record->index) + ": " +
            (target == "engine" ? "program 2's engine, step by step" : "per-layer accelerator") +
            "</h2>\n<pre>" + xml_escape(layers_text) + "</pre>\n";
  if (!folding.empty())
    html +=
        "<h2>Folding file (FINN folding_config.json)</h2>\n<p><a "
        "href=\"chosen/folding_config.json\">"
        "chosen/folding_config.json</a>, network <a "
        "href=\"chosen/model.yaml\">chosen/model.yaml</a></p>\n<pre>" +
        xml_escape(folding) + "</pre>\n";
  html +=
      "<p>Data: <a href=\"pareto.csv\">pareto.csv</a>, <a href=\"pareto.json\">pareto.json</a>, "
      "<a href=\"pareto.svg\">pareto.svg</a>.</p>\n</body></html>\n";
  core::write_file((dir / "index.html").string(), html);
  out << "report: " << (dir / "index.html").string() << " (pareto.csv, pareto.json, pareto.svg"
      << (layers_text.empty() ? "" : ", chosen/") << ")\n";
  return result;
}

void write_shrink_trajectory(const search::AutoShrinkDomain& domain,
                             const search::ShrinkTrajectory& t, const std::string& cost,
                             const std::string& csv, std::ostream& out) {
  Table table;
  for (const char* c :
       {"iteration", "edges", "cell", "val acc", "MMACs", "frame ms", "score", "best"})
    table.add_column(c, std::string(c) == "cell" ? Table::Align::kLeft : Table::Align::kRight);
  std::string rows = "iteration,edges,cell,accuracy,macs,frame_ms,score,best\n";
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const search::Observation& o = t.steps[i].kept;
    const double macs = domain.topology(o.genotype)->macs, score = t.steps[i].score;
    const std::string label = domain.label(o.genotype), best = i == t.best ? "*" : "";
    const std::size_t edges = domain.edges(o.genotype).size();
    table.add_row({std::to_string(i), std::to_string(edges), label,
                   core::fixed(o.accuracy, 2) + "%", core::fixed(macs / 1e6, 2),
                   core::fixed(o.latency_ms, 3), core::fixed(score, 2), best});
    rows += std::to_string(i) + "," + std::to_string(edges) + ",\"" + label + "\"," +
            core::fixed(o.accuracy, 4) + "," + core::fixed(macs, 0) + "," +
            core::fixed(o.latency_ms, 6) + "," + core::fixed(score, 4) + "," +
            (best.empty() ? "0" : "1") + "\n";
  }
  out << "AutoShrink's trajectory ("
      << (t.complete ? "complete" : "incomplete: a larger --budget continues it")
      << "; score = val acc - 10 log10(" << cost << " / " << (cost == "macs" ? "1e6" : "1 ms")
      << ")):\n"
      << table.render();
  if (!t.steps.empty())
    out << "best cell: " << domain.label(t.steps[t.best].kept.genotype) << " (score "
        << core::fixed(t.steps[t.best].score, 2) << ")\n";
  core::write_file(csv, rows);
  out << "trajectory written to " << csv << "\n";
}

void write_adapt_trajectory(const search::Domain& domain, const search::AdaptTrajectory& t,
                            const std::string& csv, std::ostream& out) {
  Table table;
  for (const char* c :
       {"iteration", "samples", "target ms", "frame ms", "fps", "val acc", "network"})
    table.add_column(c, std::string(c) == "network" ? Table::Align::kLeft : Table::Align::kRight);
  std::string rows = "iteration,samples,target_ms,frame_ms,fps,accuracy,network\n";
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const search::AdaptStep& s = t.steps[i];
    const bool fits = s.latency_ms < search::kInfeasibleMs;
    const bool judged = i > 0 || fits;  // a start that fits nowhere is not judged
    const std::string label = domain.label(s.kept);
    const std::string target = i == 0                                ? ""
                               : s.target_ms >= search::kFitTargetMs ? "fit"
                                                                     : core::fixed(s.target_ms, 5);
    const std::string frame = fits ? core::fixed(s.latency_ms, 5) : "no fit";
    const std::string fps = fits ? core::fixed(1000 / s.latency_ms, 0) : "";
    const std::string accuracy = judged ? core::fixed(s.accuracy, 2) : "";
    table.add_row({std::to_string(i), std::to_string(s.samples.size()), target, frame, fps,
                   judged ? accuracy + "%" : "", label});
    rows += std::to_string(i) + "," + std::to_string(s.samples.size()) + "," + target + "," +
            (fits ? frame : "") + "," + fps + "," + accuracy + ",\"" + label + "\"\n";
  }
  out << "NetAdapt's trajectory ("
      << (t.complete ? "complete: as fast as the smallest network, or nothing left to shrink"
                     : "incomplete: the budget ran out")
      << "; each iteration keeps its most accurate sample):\n"
      << table.render();
  core::write_file(csv, rows);
  out << "trajectory written to " << csv << "\n";
}

void write_hurricane_report(const search::Domain& domain,
                            const std::vector<search::OperatorPool>& pools,
                            const search::HurricaneTrajectory& t,
                            const std::vector<search::Observation>& observations,
                            const std::string& dir, std::ostream& out) {
  Table kept;
  for (const char* c : {"position", "kept operators (score: MACs per ns per whole target)"})
    kept.add_column(c, Table::Align::kLeft);
  std::string rows = "position,operator,macs,latency_ms,share,score,kept\n";
  for (const search::OperatorPool& pool : pools) {
    std::string list;
    for (const search::PooledOperator& op : pool.operators) {
      const std::string name = search::operator_label(domain, pool.position, op.choices);
      const bool fits = op.cost.latency_ms < search::kInfeasibleMs;
      rows += pool.position.name + ",\"" + name + "\"," + core::fixed(op.cost.macs, 0) + "," +
              (fits ? core::fixed(op.cost.latency_ms, 6) : "") + "," +
              core::fixed(op.cost.share, 4) + "," + core::fixed(op.score, 1) + "," +
              (op.kept ? "1" : "0") + "\n";
      if (op.kept)
        list += (list.empty() ? "" : ", ") + name + " (" + core::fixed(op.score / 1e6, 2) + ")";
    }
    kept.add_row({pool.position.name, list});
  }
  out << "HURRICANE's operator selection (each operator alone on the target, on a dataflow "
         "device a position's operators on one share of it; score = MACs per ns of latency, per "
         "whole target):\n"
      << kept.render();
  core::write_file(dir + "/hurricane_operators.csv", rows);

  std::map<search::Genotype, double> accuracy;
  for (const search::Observation& o : observations) accuracy[o.genotype] = o.accuracy;
  Table gens;
  for (const char* c : {"stage", "generation", "networks", "random", "mutations", "crossovers",
                        "best val acc", "best network"})
    gens.add_column(c,
                    std::string(c) == "best network" ? Table::Align::kLeft : Table::Align::kRight);
  rows = "stage,generation,networks,random,mutations,crossovers,best_accuracy,best_network\n";
  for (const search::HurricaneGeneration& g : t.generations) {
    int count[3] = {0, 0, 0};
    const search::Genotype* best = nullptr;
    for (std::size_t i = 0; i < g.members.size(); ++i) {
      count[g.origins[i] == "random" ? 0 : g.origins[i] == "mutation" ? 1 : 2]++;
      auto it = accuracy.find(g.members[i]);
      if (it != accuracy.end() && (!best || it->second > accuracy.at(*best))) best = &g.members[i];
    }
    const std::string stage = g.stage == 0 ? "later layers" : "early layers";
    const std::string acc = best ? core::fixed(accuracy.at(*best), 2) : "";
    const std::string label = best ? domain.label(*best) : "";
    gens.add_row({stage, std::to_string(g.index + 1), std::to_string(g.members.size()),
                  std::to_string(count[0]), std::to_string(count[1]), std::to_string(count[2]),
                  best ? acc + "%" : "", label});
    rows += stage + "," + std::to_string(g.index + 1) + "," + std::to_string(g.members.size()) +
            "," + std::to_string(count[0]) + "," + std::to_string(count[1]) + "," +
            std::to_string(count[2]) + "," + acc + ",\"" + label + "\"\n";
  }
  out << "HURRICANE's evolution (frame interval limit " << core::fixed(t.limit_ms, 4) << " ms; "
      << (t.complete ? "complete" : "incomplete: the budget ran out or workers are judging")
      << "):\n"
      << gens.render();
  if (t.best)
    out << "best within the limit: " << domain.label(*t.best) << " ("
        << core::fixed(t.best_accuracy, 2) << "%, " << core::fixed(domain.latency_ms(*t.best), 4)
        << " ms)\n";
  core::write_file(dir + "/hurricane_generations.csv", rows);
  out << "operators and generations written to " << dir << "/hurricane_operators.csv and " << dir
      << "/hurricane_generations.csv\n";
}

void write_strategy_report(const search::Domain& domain, const search::StudyOptions& study,
                           const std::vector<search::Observation>& observations,
                           const std::string& dir, std::ostream& out) {
  const search::StrategyOptions options = study.strategy_options.for_budget(study.budget);
  if (study.strategy == "autoshrink")
    write_shrink_trajectory(
        dynamic_cast<const search::AutoShrinkDomain&>(domain),
        search::shrink_trajectory(domain, study.strategy_options, study.seed, observations),
        study.strategy_options.shrink_cost, dir + "/autoshrink_trajectory.csv", out);
  if (study.strategy == "netadapt")
    write_adapt_trajectory(
        domain,
        search::adapt_trajectory(domain, search::adapt_options(options), study.seed, observations),
        dir + "/netadapt_trajectory.csv", out);
  if (study.strategy == "hurricane") {
    const search::HurricaneOptions h = search::hurricane_options(options);
    const auto pools = search::select_operators(domain, h.operators);
    write_hurricane_report(domain, pools,
                           search::hurricane_trajectory(domain, h, study.seed, pools, observations),
                           observations, dir, out);
  }
}

}  // namespace hao::report
