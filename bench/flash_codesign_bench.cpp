// FLASH's hierarchical SHGO against exhaustive search of the same surrogate on the DenseNet
// space: the NN-Degree predictor and the latency model fitted to a study's trained networks
// (as strategy flash fits them), then at each of --targets latency targets (geometric over the
// study's latencies) the best predicted accuracy under the modelled latency, found by
// flash_codesign and by evaluating every genotype of the space. Prints per target both optima,
// the gap, the times and the points SHGO evaluated; --json FILE writes the same. With
// --fit-first N only the study's first N evaluations (flash's calibration networks) fit the
// predictor, and with --holdout-storage/--holdout-study the predictor is scored on another
// study's trained networks: Kendall tau-b and RMSE of its predictions.
//   ./build/bench/hao_flash_codesign_bench --storage hao-studies.db --study NAME
//       [--space fmnist-densenet] [--device zu3eg] [--targets 8] [--json out.json]
//       [--fit-first N] [--holdout-storage FILE --holdout-study NAME]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/text.hpp"
#include "predict/degree_predictor.hpp"
#include "predict/metrics.hpp"
#include "report/table.hpp"
#include "search/flash_strategy.hpp"
#include "search/network_domain.hpp"
#include "search/space_spec.hpp"
#include "search/study.hpp"
#include "store/study_store.hpp"

using namespace hao;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string storage, study, space = "fmnist-densenet", device = "zu3eg", json_path;
  std::string holdout_storage, holdout_study;
  int targets = 8, fit_first = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--storage") storage = v;
    if (k == "--study") study = v;
    if (k == "--space") space = v;
    if (k == "--device") device = v;
    if (k == "--targets") targets = std::stoi(v);
    if (k == "--json") json_path = v;
    if (k == "--fit-first") fit_first = std::stoi(v);
    if (k == "--holdout-storage") holdout_storage = v;
    if (k == "--holdout-study") holdout_study = v;
  }
  if (storage.empty() || study.empty()) {
    std::fprintf(stderr,
                 "usage: %s --storage FILE --study NAME [--space S] [--device D] "
                 "[--targets N] [--json FILE]\n",
                 argv[0]);
    return 2;
  }
  const search::SpaceSpec spec = search::load_space(space, ".");
  const auto domain = search::make_network_domain(spec, hw::load_device(device));
  std::vector<search::Observation> observations;
  std::vector<double> degree, params, accuracy;
  double lo = search::kInfeasibleMs, hi = 0;
  for (const auto& r : store::open_store(storage)->evaluations(study)) {
    if (!(r.fps > 0) || (fit_first > 0 && r.index >= fit_first)) continue;
    search::Observation o{search::parse_code(r.genotype, storage), r.accuracy, 1000.0 / r.fps, {}};
    const search::Topology t = *domain->topology(o.genotype);
    degree.push_back(t.nn_degree);
    params.push_back(t.parameters);
    accuracy.push_back(o.accuracy);
    lo = std::min(lo, o.latency_ms);
    hi = std::max(hi, o.latency_ms);
    observations.push_back(std::move(o));
  }
  predict::DegreePredictor predictor;
  predictor.fit(degree, params, accuracy);
  nlohmann::json holdout;
  if (!holdout_storage.empty()) {
    std::vector<double> predicted_acc, measured_acc;
    double sse = 0;
    for (const auto& r : store::open_store(holdout_storage)->evaluations(holdout_study)) {
      const search::Topology t = *domain->topology(search::parse_code(r.genotype, holdout_storage));
      predicted_acc.push_back(predictor.predict(t.nn_degree, t.parameters));
      measured_acc.push_back(r.accuracy);
      sse += std::pow(predicted_acc.back() - r.accuracy, 2);
    }
    const double tau = predict::kendall_tau_b(predicted_acc, measured_acc);
    const double rmse = std::sqrt(sse / static_cast<double>(measured_acc.size()));
    std::printf(
        "predictor %s fitted on %zu networks; on %zu held-out networks: Kendall tau %.3f, "
        "RMSE %.2f points\n",
        predictor.chosen().name().c_str(), accuracy.size(), measured_acc.size(), tau, rmse);
    holdout = {{"networks", measured_acc.size()}, {"kendall", tau}, {"rmse", rmse}};
  }
  const auto model = search::LatencyModel::fit(*domain, observations);
  if (!model) {
    std::fprintf(stderr, "the study has fewer than 3 feasible evaluations\n");
    return 2;
  }
  const auto predicted = [&](const search::Genotype& g) {
    const search::Topology t = *domain->topology(g);
    return predictor.predict(t.nn_degree, t.parameters);
  };
  const auto modelled = [&](const search::Genotype& g) { return model->predict_ms(*domain, g); };

  // Every genotype once: its prediction and modelled latency.
  const auto t0 = Clock::now();
  std::vector<double> all_pred, all_ms;
  const auto& slots = domain->slots();
  search::Genotype g(slots.size(), 0);
  for (;;) {
    all_pred.push_back(predicted(g));
    all_ms.push_back(modelled(g));
    std::size_t i = 0;
    while (i < g.size() && g[i] + 1 == static_cast<int>(slots[i].choices.size())) g[i++] = 0;
    if (i == g.size()) break;
    ++g[i];
  }
  const double enumerate_s = std::chrono::duration<double>(Clock::now() - t0).count();

  report::Table table;
  for (const char* c : {"target ms", "SHGO", "exhaustive", "gap %", "SHGO points", "SHGO s"})
    table.add_column(c);
  nlohmann::json rows = nlohmann::json::array();
  double worst_gap = 0, slowest = 0;
  for (int k = 0; k < targets; ++k) {
    const double target = lo * std::pow(hi / lo, (k + 0.5) / targets);
    double best = -1e300;
    for (std::size_t i = 0; i < all_pred.size(); ++i)
      if (all_ms[i] <= target) best = std::max(best, all_pred[i]);
    const search::Genotype start = search::codesign_start(*domain, observations, target);
    std::size_t points = 0;
    const auto s0 = Clock::now();
    const auto minima =
        search::flash_codesign(*domain, predicted, modelled, target, start, {}, &points);
    const double seconds = std::chrono::duration<double>(Clock::now() - s0).count();
    const double found = minima.empty() ? NAN : predicted(minima.front());
    const double gap = 100 * (best - found) / std::abs(best);
    worst_gap = std::max(worst_gap, gap);
    slowest = std::max(slowest, seconds);
    table.add_row({core::fixed(target, 4), core::fixed(found, 3), core::fixed(best, 3),
                   core::fixed(gap, 3), std::to_string(points), core::fixed(seconds, 3)});
    rows.push_back({{"target_ms", target},
                    {"shgo", found},
                    {"exhaustive", best},
                    {"gap_pct", gap},
                    {"shgo_points", points},
                    {"shgo_s", seconds}});
  }
  std::fputs(table.render().c_str(), stdout);
  std::printf(
      "predictor %s (leave-one-out RMSE %.2f) on %zu networks; %zu genotypes "
      "evaluated exhaustively in %.1f s; worst gap %.3f%%, slowest SHGO %.3f s\n",
      predictor.chosen().name().c_str(), predictor.chosen().loo_rmse, accuracy.size(),
      all_pred.size(), enumerate_s, worst_gap, slowest);
  if (!json_path.empty())
    std::ofstream(json_path) << nlohmann::json{{"rows", rows},
                                               {"genotypes", all_pred.size()},
                                               {"exhaustive_s", enumerate_s},
                                               {"worst_gap_pct", worst_gap},
                                               {"holdout", holdout}}
                                    .dump(2)
                             << "\n";
  return 0;
}
