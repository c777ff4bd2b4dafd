#include "cli/profile_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "report/table.hpp"
#if HAO_HAS_TORCH
#include "nn/profile.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {

CLI::App* add_profile_command(CLI::App& app, ProfileArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Measure a network's batch-1 inference latency on this CPU with LibTorch (float): warm-up "
      "runs, then timed runs (median, spread) and a per-layer breakdown. The host CPU as a "
      "measured hardware target.");
  cmd->add_option("model", a.model, "Network: ONNX or hao description (default: built-in)");
  add_threads_option(*cmd, a.threads, "inference");
  cmd->add_option("--warmup", a.warmup, "Untimed runs first")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--repeats", a.repeats, "Timed runs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--checkpoint", a.checkpoint, "Load these weights first (optional)");
  add_json_option(*cmd, a.json, "the measurements");
  cmd->footer("Exit codes: 0 measured, 1 built without LibTorch, 2 bad input.");
  return cmd;
}

#if HAO_HAS_TORCH
int run_profile(const ProfileArgs& a, std::ostream& out, std::ostream& err) {
  const ir::Network net = load_model(a.model, err);
  nn::seed_torch(1);
  nn::IrNet model(net);
  if (!a.checkpoint.empty()) nn::load_checkpoint(model, a.checkpoint);
  nn::ProfileOptions o;
  o.threads = a.threads, o.warmup = a.warmup, o.repeats = a.repeats;
  const nn::ProfileResult r = nn::profile(model, o);
  out << "network  " << net.name << ": " << net.layers.size() << " layers, "
      << core::fixed(static_cast<double>(net.total_macs()) / 1e6, 1) << " M MACs, input "
      << ir::to_string(net.input) << "\n";
  out << "latency  median " << core::fixed(r.median_ms, 3) << " ms (p10 "
      << core::fixed(r.p10_ms, 3) << ", p90 " << core::fixed(r.p90_ms, 3) << ", min "
      << core::fixed(r.min_ms, 3) << ") = " << core::fixed(1000.0 / r.median_ms, 1)
      << " frames/s at batch 1, " << r.threads << " threads, " << r.repeats << " runs after "
      << a.warmup << " warm-up\n\n";
  report::Table t;
  t.add_column("layer", report::Table::Align::kLeft);
  t.add_column("op", report::Table::Align::kLeft);
  t.add_column("out", report::Table::Align::kLeft);
  t.add_column("MACs");
  t.add_column("median ms");
  t.add_column("share");
  for (const auto& lt : r.layers) {
    const ir::Layer& l = net.layers[lt.layer];
    const std::string op = l.is_depthwise()           ? "dwconv"
                           : l.op == ir::OpKind::kAct ? ir::act_name(l.act)
                                                      : ir::op_name(l.op);
    t.add_row({l.name, op, ir::to_string(l.out),
               l.has_weights() ? core::with_commas(l.macs()) : "-", core::fixed(lt.median_ms, 4),
               core::fixed(100 * lt.median_ms / std::max(1e-12, r.layers_sum_ms), 1) + "%"});
  }
  t.add_rule();
  t.add_row({"sum of layers", "", "", core::with_commas(net.total_macs()),
             core::fixed(r.layers_sum_ms, 4), "100%"});
  out << t.render();
  if (!a.json.empty()) {
    nlohmann::ordered_json j;
    j["network"] = net.name;
    j["threads"] = r.threads;
    j["warmup"] = a.warmup;
    j["repeats"] = r.repeats;
    j["latency_ms"] = {{"median", r.median_ms},
                       {"p10", r.p10_ms},
                       {"p90", r.p90_ms},
                       {"min", r.min_ms},
                       {"mean", r.mean_ms}};
    j["layers"] = nlohmann::ordered_json::array();
    for (const auto& lt : r.layers)
      j["layers"].push_back({{"name", net.layers[lt.layer].name}, {"median_ms", lt.median_ms}});
    j["layers_sum_ms"] = r.layers_sum_ms;
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}
#else
int run_profile(const ProfileArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
