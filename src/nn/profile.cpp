#include "nn/profile.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/csv.hpp"
#include "core/error.hpp"
#include "nn/train.hpp"
#include "predict/metrics.hpp"

namespace hao::nn {
namespace {

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

}  // namespace

ProfileResult profile(IrNet& model, const ProfileOptions& o) {
  if (o.warmup < 0) throw core::InputError("--warmup must not be negative");
  if (o.repeats < 1) throw core::InputError("--repeats must be at least 1");
  use_threads(o.threads);
  keep_large_blocks_in_heap();
  torch::manual_seed(o.seed);
  torch::NoGradGuard no_grad;
  model->eval();
  const ir::Shape& in = model->network().input;
  const torch::Tensor x = torch::randn({1, in.c, in.h, in.w});
  for (int k = 0; k < o.warmup; ++k) model->forward(x);

  ProfileResult r;
  r.repeats = o.repeats;
  r.threads = torch::get_num_threads();
  std::vector<double> ms;
  for (int k = 0; k < o.repeats; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    model->forward(x);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  r.median_ms = quantile(ms, 0.5);
  r.p10_ms = quantile(ms, 0.1);
  r.p90_ms = quantile(ms, 0.9);
  r.min_ms = *std::min_element(ms.begin(), ms.end());
  r.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());

  if (!o.per_layer) return r;
  // Per layer: the same number of layer-by-layer runs, each layer's median.
  const std::size_t n = model->network().layers.size();
  std::vector<std::vector<double>> per(n);
  for (int k = 0; k < o.repeats; ++k) {
    std::vector<double> s;
    model->forward_timed(x, s);
    for (std::size_t i = 0; i < n; ++i) per[i].push_back(s[i] * 1e3);
  }
  for (std::size_t i = 0; i < n; ++i) {
    r.layers.push_back({i, quantile(per[i], 0.5)});
    r.layers_sum_ms += r.layers.back().median_ms;
  }
  return r;
}

GenotypeProfile profile_genotypes(predict::Space space, const std::string& archs_csv,
                                  std::size_t sample, unsigned seed, const ProfileOptions& options,
                                  const std::function<void(std::size_t, std::size_t)>& progress) {
  const core::CsvTable table = core::read_csv(archs_csv);
  const std::size_t arch = table.column(predict::arch_column(space));
  const std::size_t rows = table.rows.size();
  if (sample > rows)
    throw core::InputError("--sample " + std::to_string(sample) + ": " + archs_csv + " has only " +
                           std::to_string(rows) + " genotypes");
  std::vector<std::size_t> pick = predict::shuffled(rows, seed);
  if (sample == 0) {
    std::sort(pick.begin(), pick.end());
  } else {
    pick.resize(sample);
  }
  // Expand every genotype first: a bad one is reported before any time is spent.
  std::vector<ir::Network> nets;
  core::IssueList issues(archs_csv);
  for (std::size_t r : pick) {
    try {
      nets.push_back(predict::expand(space, table.rows[r][arch],
                                     archs_csv + ": line " + std::to_string(r + 2)));
    } catch (const core::InputError& e) {
      issues.absorb(e);
    }
  }
  issues.throw_if_any();
  ProfileOptions o = options;
  o.per_layer = false;
  GenotypeProfile out{table.header, {}};
  for (std::size_t i = 0; i < pick.size(); ++i) {
    IrNet model(nets[i]);
    out.rows.push_back({pick[i] + 2, table.rows[pick[i]], profile(model, o)});
    if (progress) progress(i + 1, pick.size());
  }
  return out;
}

}  // namespace hao::nn
