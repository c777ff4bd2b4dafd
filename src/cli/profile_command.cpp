#include "cli/profile_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/csv.hpp"
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
  cmd->add_option("model", a.model,
                  "Network: ONNX, hao description, a genotype nb201:ARCH or autoshrink:CELL, or "
                  "a search space's network SPACE:LABEL (default: built-in)");
  add_threads_option(*cmd, a.threads, "inference");
  cmd->add_option("--warmup", a.warmup, "Untimed runs first")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--repeats", a.repeats, "Timed runs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--checkpoint", a.checkpoint, "Load these weights first (optional)");
  add_json_option(*cmd, a.json, "the measurements");
  cmd->add_option("--space", a.space,
                  "With --archs: measure genotypes of this space (nb201 or anb) instead of one "
                  "network")
      ->check(CLI::IsMember({"nb201", "anb"}));
  cmd->add_option("--archs", a.archs,
                  "CSV with the space's genotype column (arch_str or arch_mnasnet_blocks), e.g. "
                  "nb201/accuracy.csv");
  cmd->add_option("--sample", a.sample, "Measure this many genotypes drawn at random (0: all)")
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the sample");
  cmd->add_option("--out", a.out,
                  "With --archs: the CSV to write (the file's rows with host_cpu_ms, p10_ms, "
                  "p90_ms), ready for hao calibrate --column host_cpu_ms");
  cmd->footer(
      "Exit codes: 0 measured, 1 built without LibTorch, 2 bad input.\n"
      "Example (a host-CPU latency column for 1,000 NAS-Bench-201 cells, then a regressor):\n"
      "  hao profile --space nb201 --archs nb201/accuracy.csv --sample 1000 --repeats 20 "
      "--out cpu.csv\n"
      "  hao calibrate --kind mlp --space nb201 --measurements cpu.csv --column host_cpu_ms "
      "--out cpu_mlp.json");
  return cmd;
}

#if HAO_HAS_TORCH
namespace {

int run_profile_genotypes(const ProfileArgs& a, std::ostream& out, std::ostream& err) {
  if (a.space.empty() || a.archs.empty() || a.out.empty())
    throw core::InputError("--space, --archs and --out go together (measure a space's genotypes)");
  if (!a.model.empty() || !a.checkpoint.empty() || !a.json.empty())
    throw core::InputError("--archs measures genotypes: give no model, --checkpoint or --json");
  nn::ProfileOptions o;
  o.threads = a.threads, o.warmup = a.warmup, o.repeats = a.repeats;
  const predict::Space space = predict::parse_space(a.space);
  const nn::GenotypeProfile measured = nn::profile_genotypes(
      space, a.archs, a.sample, a.seed, o, [&](std::size_t done, std::size_t total) {
        if (done % 25 == 0 || done == total)
          err << "hao: profiled " << done << " of " << total << " genotypes\n";
      });
  std::vector<std::string> header = measured.header;
  for (const char* c : {"host_cpu_ms", "p10_ms", "p90_ms"}) header.push_back(c);
  std::string csv = core::csv_record(header);
  for (const auto& r : measured.rows) {
    std::vector<std::string> fields = r.fields;
    fields.push_back(core::fixed(r.result.median_ms, 6));
    fields.push_back(core::fixed(r.result.p10_ms, 6));
    fields.push_back(core::fixed(r.result.p90_ms, 6));
    csv += core::csv_record(fields);
  }
  core::write_file(a.out, csv);
  out << "profiled " << measured.rows.size() << " genotypes of " << a.space << " from " << a.archs
      << " (" << a.repeats << " timed runs each after " << a.warmup << " warm-up, "
      << torch::get_num_threads() << " threads); written to " << a.out << "\n";
  return kExitOk;
}

}  // namespace

int run_profile(const ProfileArgs& a, std::ostream& out, std::ostream& err) {
  if (!a.archs.empty() || !a.space.empty()) return run_profile_genotypes(a, out, err);
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
