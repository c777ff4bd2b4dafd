#include "cli/calibrate_command.hpp"

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "core/csv.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "hw/device.hpp"
#include "predict/arch_features.hpp"
#include "predict/calibration.hpp"
#include "report/scatter_svg.hpp"
#include "report/table.hpp"
#if HAO_HAS_TORCH
#include "nn/latency_mlp.hpp"
#endif

namespace hao::cli {

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Fit a latency model to measured latencies of a search space's architectures and report "
      "its k-fold cross-validated error: MAPE, largest error, Spearman and Kendall rank "
      "correlation. Kind engine: the physical model of a layer-sequential engine (DPU-like), "
      "11 non-negative coefficients in physical units over per-layer compute cycles, DDR "
      "bytes, layer count and host-CPU fallback terms. Kind lut: one entry per distinct block "
      "(anb) or layer (nb201) shape, the data-driven baseline. Kind mlp: a multi-layer "
      "perceptron (LibTorch) on the genotype's encoding (nb201: the operator per edge, the live "
      "cell and which nodes hold zeros or depend on the input; anb: the choices per block), "
      "predicting log latency; for latencies that are not a sum of layer costs.");
  cmd->add_option("--kind", a.kind, "Model kind: engine, lut or mlp")
      ->check(CLI::IsMember({"engine", "lut", "mlp"}))
      ->capture_default_str();
  add_device_options(*cmd, a.device, /*overrides=*/false,
                     "Device: for --kind engine, a YAML file that pins the engine (engine: {pp, "
                     "pi, po}), e.g. examples/devices/zcu102_dpu_b4096.yaml");
  cmd->add_option(
      "--holdout", a.holdout,
      "Regular expression over the genotype: matching rows are left out of the fit and "
      "predicted (e.g. 'b0:e[0-9],k5' holds out every network with a kernel-5 block b0)");
  cmd->add_option("--space", a.space, "Search space of the genotypes: anb or nb201")
      ->check(CLI::IsMember({"anb", "nb201"}))
      ->capture_default_str();
  cmd->add_option("--measurements", a.measurements, "CSV with the measured latencies")->required();
  cmd->add_option("--column", a.column, "Column of --measurements holding latency in ms")
      ->required();
  cmd->add_option("--archs", a.archs,
                  "CSV with arch_index and the genotype column, joined on arch_index when "
                  "--measurements has no genotypes (e.g. nb201/accuracy.csv for latency_ms.csv)");
  cmd->add_option("--out", a.out, "Write the fitted model (JSON)")->required();
  cmd->add_option("--predictions", a.predictions,
                  "Write each sample's measured and cross-validated predicted latency (CSV)");
  cmd->add_option("--plot", a.plot,
                  "Write an SVG plot of cross-validated predicted against measured latency");
  cmd->add_option("--grouping", a.grouping,
                  "Table units: blocks or layers (default: blocks for anb, layers for nb201)")
      ->check(CLI::IsMember({"blocks", "layers"}));
  cmd->add_option("--folds", a.folds, "Cross-validation folds")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  cmd->add_option("--train-sizes", a.train_sizes,
                  "Learning curve: for each size N, fit on N random rows and test on all the "
                  "others (e.g. --train-sizes 100,300,1000)")
      ->delimiter(',');
  cmd->add_option("--hidden", a.hidden, "mlp: widths of the hidden layers")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "mlp: Adam steps per fit, each on 512 rows")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--loss", a.loss,
                  "mlp: what a fit minimizes: relative (mean |predicted/measured - 1|, the MAPE "
                  "itself) or log-mse (squared error of log latency)")
      ->check(CLI::IsMember({"relative", "log-mse"}))
      ->capture_default_str();
  cmd->add_option("--encoding", a.encoding,
                  "mlp: what the network reads: structure (nb201: operators, live cell, zero "
                  "and input-dependent nodes) or onehot (the operators alone, the encoding "
                  "latency-aware DARTS relaxes; anb is one-hot either way)")
      ->check(CLI::IsMember({"structure", "onehot"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", a.weight_decay,
                  "mlp: Adam's L2 penalty; several values: each fit picks the one with the "
                  "lowest MAPE on a held-out 20% of its rows, then refits on all of them (the "
                  "model JSON records the choice)")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--threads", a.threads, "mlp: LibTorch threads (0: all cores)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the fold assignment, the learning curve's rows and mlp weights");
  cmd->footer(
      "Rows with an empty or NaN measurement are skipped and counted. Exit 2 on bad input.\n"
      "Example (the Raspberry Pi 4 column of HW-NAS-Bench, which no layer table fits):\n"
      "  hao calibrate --kind mlp --space nb201 --measurements nb201/latency_ms.csv "
      "--archs nb201/accuracy.csv --column raspi4 --train-sizes 100,300,1000 --out raspi4.json");
  return cmd;
}

CLI::App* add_predict_command(CLI::App& app, PredictArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "predict",
      "Predict latencies with a model from `hao calibrate`: every row of --archs is written back "
      "with a predicted_latency_ms column appended (empty where the model cannot price a shape).");
  cmd->add_option("--model", a.model, "Model JSON from hao calibrate")->required();
  cmd->add_option("--archs", a.archs, "CSV with an arch_mnasnet_blocks or arch_str column")
      ->required();
  cmd->add_option("--out", a.out, "Output CSV (default: stdout)");
  return cmd;
}

int run_calibrate(const CalibrateArgs& a, std::ostream& out, std::ostream& err) {
  const predict::Space space = predict::parse_space(a.space);
  predict::CalibrationOptions options;
  options.folds = a.folds;
  options.seed = a.seed;
  options.grouping = a.grouping.empty()
                         ? (space == predict::Space::kAnb ? predict::Grouping::kBlocks
                                                          : predict::Grouping::kLayers)
                         : predict::parse_grouping(a.grouping);
  options.kind = predict::parse_model_kind(a.kind);
  options.holdout_regex = a.holdout;
  if (options.kind == predict::ModelKind::kEngine) {
    if (a.device.name.empty())
      throw core::InputError(
          "--kind engine needs --device with a pinned engine, e.g. "
          "examples/devices/zcu102_dpu_b4096.yaml");
    const hw::Device device = a.device.load();
    if (!device.engine_pinned)
      throw core::InputError(
          "--device " + a.device.name +
          ": pins no engine; add engine: {pp: P, pi: I, po: O} to a device file");
    options.engine = device.engine;
  }
  options.train_sizes = a.train_sizes;
  const CalibrateArgs defaults;
  if (options.kind != predict::ModelKind::kMlp &&
      (a.hidden != defaults.hidden || a.steps != defaults.steps || a.loss != defaults.loss ||
       a.encoding != defaults.encoding || a.threads != defaults.threads ||
       a.weight_decay != defaults.weight_decay))
    throw core::InputError(
        "--hidden, --steps, --loss, --encoding, --weight-decay and --threads apply to --kind "
        "mlp only");
  const predict::SampleSet set = predict::load_samples(space, a.measurements, a.column, a.archs);
  if (set.skipped_missing)
    err << "hao: note: " << a.measurements << ": skipped " << set.skipped_missing
        << " rows with no measurement in " << a.column << "\n";
  predict::CalibrationResult r;
  if (options.kind == predict::ModelKind::kMlp) {
#if HAO_HAS_TORCH
    nn::LatencyMlpOptions mlp;
    mlp.hidden = a.hidden;
    mlp.steps = a.steps;
    mlp.seed = a.seed;
    mlp.threads = a.threads;
    mlp.loss = nn::parse_latency_loss(a.loss);
    mlp.encoding = predict::parse_encoding(a.encoding);
    mlp.weight_decay = a.weight_decay;
    predict::ModelFamily family = nn::mlp_family(set, mlp);
    const std::size_t fits =
        static_cast<std::size_t>(a.folds) + 1 + (a.holdout.empty() ? 0 : 1) + a.train_sizes.size();
    auto done = std::make_shared<std::size_t>(0);
    family.fit = [fit = family.fit, done, fits, &err](const std::vector<std::size_t>& rows,
                                                      nlohmann::json* json) {
      err << "hao: fitting MLP " << ++*done << " of " << fits << " (" << rows.size() << " rows)\n";
      return fit(rows, json);
    };
    r = predict::calibrate(set, options, family);
#else
    throw core::InputError("--kind mlp needs hao built with LibTorch (Debian libtorch-dev)");
#endif
  } else {
    r = predict::calibrate(set, options);
  }
  r.model["device"] = a.device.name;
  r.model["measurements"] = a.measurements;
  core::write_file(a.out, r.model.dump(2) + "\n");

  out << "calibrated " << a.kind
      << (options.kind == predict::ModelKind::kLut
              ? " (" + predict::grouping_name(options.grouping) + ")"
              : "")
      << " on " << set.samples.size() << " rows of " << a.measurements << ":" << a.column << " ("
      << set.skipped_missing << " skipped), " << r.coefficients << " coefficients\n";
  report::Table t;
  t.add_column("", report::Table::Align::kLeft);
  t.add_column("MAPE");
  t.add_column("median");
  t.add_column("max error");
  t.add_column("Spearman");
  t.add_column("Kendall");
  auto row = [&](const std::string& name, const predict::FitMetrics& m) {
    t.add_row({name, core::fixed(m.mape_pct, 2) + "%", core::fixed(m.median_ape_pct, 2) + "%",
               core::fixed(m.max_ape_pct, 2) + "%", core::fixed(m.spearman, 4),
               core::fixed(m.kendall, 4)});
  };
  row(std::to_string(a.folds) + "-fold CV (unseen rows)", r.cv);
  row("fit on all rows", r.train);
  if (!a.holdout.empty()) row("held out: " + a.holdout, r.holdout);
  for (const predict::CurvePoint& p : r.curve)
    row("fit on " + std::to_string(p.train_rows) + ", test on " + std::to_string(p.test.n), p.test);
  out << t.render();
  if (r.cv_unknown_samples)
    out << r.cv_unknown_samples << " rows had a shape their fold's table never saw\n";
  if (r.holdout_unknown_samples)
    out << r.holdout_unknown_samples
        << " held-out rows had a shape the table never saw (priced as 0)\n";
  if (r.model.contains("mlp") && r.model["mlp"].contains("weight_decay_selection")) {
    out << "weight decay " << r.model["mlp"]["weight_decay"].get<double>()
        << " (MAPE on a held-out 20% of the rows:";
    for (const auto& c : r.model["mlp"]["weight_decay_selection"])
      out << " " << c["weight_decay"].get<double>() << ": "
          << core::fixed(c["holdout_mape_pct"].get<double>(), 2) << "%";
    out << ")\n";
  }
  out << "model written to " << a.out << "\n";
  if (!a.plot.empty()) {
    std::vector<double> measured;
    for (const auto& s : set.samples) measured.push_back(s.measured_ms);
    const std::string subtitle =
        std::to_string(a.folds) + "-fold CV: MAPE " + core::fixed(r.cv.mape_pct, 2) + "%, max " +
        core::fixed(r.cv.max_ape_pct, 1) + "%, Spearman " + core::fixed(r.cv.spearman, 4) + ", " +
        std::to_string(r.coefficients) + " coefficients";
    core::write_file(
        a.plot, report::scatter_svg({{a.kind + " model, unseen rows", measured, r.cv_predicted}},
                                    a.column + " (" + a.kind + " model)", subtitle,
                                    "measured latency (ms)", "predicted latency (ms)"));
  }
  if (!a.predictions.empty()) {
    std::string csv =
        core::csv_record({"line", predict::arch_column(space), "measured_ms", "cv_predicted_ms"});
    for (std::size_t i = 0; i < set.samples.size(); ++i)
      csv += core::csv_record({std::to_string(set.samples[i].line), set.samples[i].arch,
                               core::fixed(set.samples[i].measured_ms, 6),
                               core::fixed(r.cv_predicted[i], 6)});
    core::write_file(a.predictions, csv);
  }
  return kExitOk;
}

int run_predict(const PredictArgs& a, std::ostream& out, std::ostream& err) {
  const nlohmann::json model = core::read_json(a.model);
  const predict::LatencyPredictor predict_ms = predict::load_predictor(model, a.model);
  const nlohmann::json& space_name = model["space"];
  const predict::Space space =
      predict::parse_space(space_name.is_string() ? space_name.get<std::string>() : "");
  const core::CsvTable table = core::read_csv(a.archs);
  const std::size_t arch = table.column(predict::arch_column(space));
  std::vector<std::string> header = table.header;
  header.push_back("predicted_latency_ms");
  std::string csv = core::csv_record(header);
  std::size_t incomplete = 0;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const ir::Network net =
        predict::expand(space, table.rows[r][arch], a.archs + ": line " + std::to_string(r + 2));
    std::size_t unknown = 0;
    const double ms = predict_ms(net, table.rows[r][arch], &unknown);
    std::vector<std::string> fields = table.rows[r];
    fields.push_back(unknown ? "" : core::fixed(ms, 6));
    if (unknown) ++incomplete;
    csv += core::csv_record(fields);
  }
  if (a.out.empty())
    out << csv;
  else
    core::write_file(a.out, csv);
  if (incomplete)
    err << "hao: note: " << incomplete << " of " << table.rows.size()
        << " rows contain a shape the model's table never saw; their prediction is left empty\n";
  return kExitOk;
}

}  // namespace hao::cli
