#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/bench_command.hpp"
#include "cli/calibrate_command.hpp"
#include "cli/darts_command.hpp"
#include "cli/export_command.hpp"
#include "cli/map_command.hpp"
#include "cli/profile_command.hpp"
#include "cli/quantize_command.hpp"
#include "cli/search_command.hpp"
#include "cli/sensitivity_command.hpp"
#include "cli/supernet_command.hpp"
#include "cli/train_command.hpp"
#include "core/error.hpp"
#include "store/study_store.hpp"

namespace hao::cli {

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "hao: co-design a quantized CNN and the FPGA accelerator that runs it.\n"
      "Exit codes: 0 success, 1 internal failure, 2 bad input, 3 no feasible configuration.",
      "hao"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hao 0.1.0");
  MapArgs map_args;
  CLI::App* map = add_map_command(app, map_args);
  CalibrateArgs calibrate_args;
  CLI::App* calibrate = add_calibrate_command(app, calibrate_args);
  PredictArgs predict_args;
  CLI::App* predict = add_predict_command(app, predict_args);
  TrainArgs train_args;
  CLI::App* train = add_train_command(app, train_args);
  SensitivityArgs sensitivity_args;
  CLI::App* sensitivity = add_sensitivity_command(app, sensitivity_args);
  ProfileArgs profile_args;
  CLI::App* profile = add_profile_command(app, profile_args);
  QuantizeArgs quantize_args;
  CLI::App* quantize = add_quantize_command(app, quantize_args);
  BenchArgs bench_args;
  CLI::App* bench = add_bench_command(app, bench_args);
  SearchArgs search_args;
  CLI::App* search = add_search_command(app, search_args);
  ReportArgs report_args;
  CLI::App* report = add_report_command(app, report_args);
  DartsArgs darts_args;
  CLI::App* darts = add_darts_command(app, darts_args);
  ExportArgs export_args;
  CLI::App* exporter = add_export_command(app, export_args);
  SupernetArgs supernet_args;
  const SupernetCommands supernet = add_supernet_command(app, supernet_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    out << "hao 0.1.0\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "hao: error: " << e.what() << "\n";
    err << "Run 'hao --help' or 'hao SUBCOMMAND --help' for usage.\n";
    return kExitBadInput;
  }
  try {
    if (map->parsed()) return run_map(map_args, out, err);
    if (calibrate->parsed()) return run_calibrate(calibrate_args, out, err);
    if (predict->parsed()) return run_predict(predict_args, out, err);
    if (train->parsed()) return run_train(train_args, out, err);
    if (profile->parsed()) return run_profile(profile_args, out, err);
    if (sensitivity->parsed()) return run_sensitivity(sensitivity_args, out, err);
    if (quantize->parsed()) return run_quantize(quantize_args, out, err);
    if (bench->parsed()) return run_bench(bench_args, out, err);
    if (search->parsed()) return run_search(search_args, out, err);
    if (report->parsed()) return run_report(report_args, out, err);
    if (darts->parsed()) return run_darts(darts_args, out, err);
    if (exporter->parsed()) return run_export(export_args, out, err);
    if (supernet.train->parsed()) return run_supernet_train(supernet_args, out, err);
    if (supernet.eval->parsed()) return run_supernet_eval(supernet_args, out, err);
    if (supernet.exporter->parsed()) return run_supernet_export(supernet_args, out, err);
    return kExitBadInput;
  } catch (const core::InputError& e) {
    for (const auto& p : e.problems()) err << "hao: error: " << p << "\n";
    return kExitBadInput;
  } catch (const store::StoreError& e) {
    err << "hao: error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const core::RunFailure& e) {
    err << "hao: error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    err << "hao: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace hao::cli
