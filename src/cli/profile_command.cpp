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
#include "hw/device.hpp"
#include "nn/cpu_table.hpp"
#include "nn/profile.hpp"
#include "nn/train.hpp"
#include "search/space_spec.hpp"
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
                  "network. With --table: a generative mbv2 space (fmnist-mbv2 or a YAML file)");
  cmd->add_option("--archs", a.archs,
                  "CSV with the space's genotype column (arch_str or arch_mnasnet_blocks), e.g. "
                  "nb201/accuracy.csv");
  cmd->add_option("--sample", a.sample,
                  "Measure this many genotypes drawn at random (0: all; with --table: 20)")
      ->capture_default_str();
  cmd->add_option("--table", a.table,
                  "With --space: the host CPU's piece table (JSON; created when absent): each "
                  "network of the space runs its stem, blocks and head one after another, so "
                  "its latency is predicted as the sum of theirs, each measured alone once and "
                  "kept here with this CPU's model and thread count. Checks it against --sample "
                  "random networks measured whole (their pieces added), prints the error and "
                  "saves the table");
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
      "--out cpu_mlp.json\n"
      "Example (the host CPU's piece table of the default space, checked on 20 networks):\n"
      "  hao profile --space fmnist-mbv2 --table cpu_table.json --threads 1");
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

int run_profile_table(const ProfileArgs& a, std::ostream& out, std::ostream& err) {
  if (a.space.empty())
    throw core::InputError("--table measures a space's networks: give --space (e.g. fmnist-mbv2)");
  if (!a.model.empty() || !a.checkpoint.empty() || !a.archs.empty() || !a.out.empty())
    throw core::InputError(
        "--table measures a space's networks: give no model, --checkpoint, "
        "--archs or --out");
  const search::SpaceSpec spec = search::load_space(a.space, default_data_dir());
  if (spec.kind != "mbv2")
    throw core::InputError("--space " + a.space + ": a CPU piece table is for mbv2 spaces (kind '" +
                           spec.kind + "')");
  // The device plays no part in CPU latency; the domain needs one.
  const search::Mbv2Domain domain(spec.mbv2, hw::load_device("zu3eg"));
  nn::CpuTable table = nn::open_cpu_table(a.table, a.threads);
  const std::size_t stored = table.piece_ms.size();
  nn::ProfileOptions o;
  o.threads = a.threads, o.warmup = a.warmup, o.repeats = a.repeats;
  const int networks = a.sample == 0 ? 20 : static_cast<int>(a.sample);
  const nn::CpuTableCheck c =
      nn::check_cpu_table(table, domain, networks, a.seed, o, [&](std::size_t done, std::size_t n) {
        err << "hao: " << done << " of " << n << " networks measured whole and by pieces\n";
      });
  nn::save_cpu_table(table, a.table);
  report::Table t;
  t.add_column("network", report::Table::Align::kLeft);
  for (const char* column : {"pieces ms", "whole ms", "error"}) t.add_column(column);
  for (const auto& r : c.rows)
    t.add_row({r.label, core::fixed(r.predicted_ms, 4), core::fixed(r.measured_ms, 4),
               core::fixed(100 * (r.predicted_ms - r.measured_ms) / r.measured_ms, 1) + "%"});
  out << "CPU piece table of " << spec.name << " on '" << table.cpu << "', " << table.threads
      << " thread(s); each piece and network median of " << a.repeats << " runs after " << a.warmup
      << " warm-up:\n"
      << t.render() << "MAPE " << core::fixed(c.mape_pct, 1) << "% (max "
      << core::fixed(c.max_ape_pct, 1) << "%) over " << c.rows.size() << " networks; "
      << table.piece_ms.size() << " pieces in " << a.table << " (" << stored << " read, "
      << c.pieces_measured << " measured now)\n";
  if (!a.json.empty()) {
    nlohmann::ordered_json j{{"space", spec.name},
                             {"cpu", table.cpu},
                             {"threads", table.threads},
                             {"warmup", a.warmup},
                             {"repeats", a.repeats},
                             {"mape_pct", c.mape_pct},
                             {"max_ape_pct", c.max_ape_pct},
                             {"pieces", table.piece_ms.size()},
                             {"networks", nlohmann::ordered_json::array()}};
    for (const auto& r : c.rows)
      j["networks"].push_back(
          {{"genotype", r.label}, {"pieces_ms", r.predicted_ms}, {"whole_ms", r.measured_ms}});
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}

}  // namespace

int run_profile(const ProfileArgs& a, std::ostream& out, std::ostream& err) {
  if (!a.table.empty()) return run_profile_table(a, out, err);
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
