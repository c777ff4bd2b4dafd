#include "nn/latency_mlp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "nn/train.hpp"
#include "predict/arch_features.hpp"

namespace hao::nn {

LatencyLoss parse_latency_loss(const std::string& name) {
  if (name == "log-mse") return LatencyLoss::kLogSquared;
  if (name == "relative") return LatencyLoss::kRelative;
  throw core::InputError("--loss: '" + name + "', expected log-mse or relative");
}

namespace {

using Network = std::vector<torch::nn::Linear>;

torch::Tensor forward(Network& net, torch::Tensor h) {
  for (std::size_t l = 0; l < net.size(); ++l) {
    h = net[l]->forward(h);
    if (l + 1 < net.size()) h = torch::relu(h);
  }
  return h.squeeze(1);
}

/// One fit of a fresh network (seeded by options.seed) to log ms `ys` from standardized `xs`.
Network train_network(const torch::Tensor& xs, const torch::Tensor& ys, std::size_t width,
                      const LatencyMlpOptions& options, double weight_decay) {
  torch::manual_seed(options.seed);
  Network net;
  std::vector<std::size_t> sizes = {width};
  sizes.insert(sizes.end(), options.hidden.begin(), options.hidden.end());
  sizes.push_back(1);
  std::vector<torch::Tensor> parameters;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    net.emplace_back(static_cast<long>(sizes[l]), static_cast<long>(sizes[l + 1]));
    for (const auto& p : net.back()->parameters()) parameters.push_back(p);
  }
  {
    torch::NoGradGuard no_grad;
    net.back()->bias.fill_(ys.mean().item<double>());  // start from the mean log latency
  }
  torch::optim::Adam adam(parameters,
                          torch::optim::AdamOptions(options.lr).weight_decay(weight_decay));
  const long rows = xs.size(0);
  const long batch = std::min(rows, static_cast<long>(std::max<std::size_t>(1, options.batch)));
  torch::Tensor order = torch::randperm(rows, torch::kLong);
  long next = 0;
  const int warm_up = options.loss == LatencyLoss::kRelative ? options.steps * 15 / 100 : 0;
  const auto loss_of = [&](const torch::Tensor& log_ratio, int step) {
    if (options.loss == LatencyLoss::kLogSquared || step < warm_up) return log_ratio.pow(2).mean();
    return (torch::exp(log_ratio.clamp_max(8.0)) - 1).abs().mean();  // |predicted/measured - 1|
  };
  for (int step = 0; step < options.steps; ++step) {
    if (next + batch > rows) order = torch::randperm(rows, torch::kLong), next = 0;
    const torch::Tensor pick = order.narrow(0, next, batch);
    next += batch;
    adam.zero_grad();
    const torch::Tensor loss =
        loss_of(batch == rows ? forward(net, xs) - ys
                              : forward(net, xs.index_select(0, pick)) - ys.index_select(0, pick),
                step);
    loss.backward();
    adam.step();
  }
  return net;
}

/// The weight decay of options.weight_decay with the lowest MAPE on a seeded 20% of the rows
/// when fitted on the other 80%, with every candidate's MAPE (percent). Fewer than 10 rows
/// leave too few to judge: the largest candidate (the strongest prior) is taken unjudged.
double select_weight_decay(const torch::Tensor& xs, const torch::Tensor& ys, std::size_t width,
                           const LatencyMlpOptions& options,
                           std::vector<std::pair<double, double>>& judged) {
  const std::vector<double>& candidates = options.weight_decay;
  const long rows = xs.size(0);
  if (rows < 10) return *std::max_element(candidates.begin(), candidates.end());
  std::vector<long> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), 0L);
  std::shuffle(order.begin(), order.end(), std::mt19937(options.seed));
  const long held = std::max(2L, rows / 5);
  const auto index = [&](long from, long count) {
    return torch::tensor(std::vector<long>(order.begin() + from, order.begin() + from + count),
                         torch::kLong);
  };
  const torch::Tensor test = index(0, held), train = index(held, rows - held);
  const torch::Tensor train_x = xs.index_select(0, train), train_y = ys.index_select(0, train);
  const torch::Tensor test_x = xs.index_select(0, test), test_y = ys.index_select(0, test);
  double best = candidates.front(), best_mape = std::numeric_limits<double>::infinity();
  for (double decay : candidates) {
    Network net = train_network(train_x, train_y, width, options, decay);
    torch::NoGradGuard no_grad;
    const double mape =
        100 * (torch::exp(forward(net, test_x) - test_y) - 1).abs().mean().item<double>();
    judged.emplace_back(decay, mape);
    if (mape < best_mape) best = decay, best_mape = mape;
  }
  return best;
}

}  // namespace

predict::MlpRegressor fit_latency_mlp(const std::vector<std::vector<double>>& features,
                                      const std::vector<double>& ms,
                                      const std::vector<std::string>& feature_names,
                                      const LatencyMlpOptions& options) {
  const std::size_t n = features.size(), width = feature_names.size();
  if (n == 0 || ms.size() != n)
    throw core::InputError("the latency MLP needs one latency per encoded row, and a row");
  if (options.weight_decay.empty())
    throw core::InputError("the latency MLP needs a weight decay (or several to choose from)");
  for (double decay : options.weight_decay)
    if (!(decay >= 0) || !std::isfinite(decay))
      throw core::InputError("--weight-decay: " + std::to_string(decay) +
                             " is not a non-negative number");
  for (std::size_t r = 0; r < n; ++r) {
    if (features[r].size() != width)
      throw core::InputError("row " + std::to_string(r) + " has " +
                             std::to_string(features[r].size()) + " features, expected " +
                             std::to_string(width));
    if (!(ms[r] > 0) || !std::isfinite(ms[r]))
      throw core::InputError("row " + std::to_string(r) + ": latency " + std::to_string(ms[r]) +
                             " ms is not positive");
  }
  use_threads(options.threads);

  predict::MlpRegressor m;
  m.feature_names = feature_names;
  m.feature_mean.assign(width, 0.0);
  m.feature_scale.assign(width, 1.0);
  for (std::size_t c = 0; c < width; ++c) {
    double mean = 0, var = 0;
    for (const auto& row : features) mean += row[c] / static_cast<double>(n);
    for (const auto& row : features) var += (row[c] - mean) * (row[c] - mean);
    const double sd = std::sqrt(var / static_cast<double>(n));
    m.feature_mean[c] = mean;
    m.feature_scale[c] = sd > 1e-9 ? sd : 1.0;  // a constant column stays 0
  }
  std::vector<float> x(n * width), y(n);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < width; ++c)
      x[r * width + c] =
          static_cast<float>((features[r][c] - m.feature_mean[c]) / m.feature_scale[c]);
    y[r] = static_cast<float>(std::log(ms[r]));
  }
  const torch::Tensor xs =
      torch::from_blob(x.data(), {static_cast<long>(n), static_cast<long>(width)}).clone();
  const torch::Tensor ys = torch::from_blob(y.data(), {static_cast<long>(n)}).clone();

  m.weight_decay = options.weight_decay.size() == 1
                       ? options.weight_decay.front()
                       : select_weight_decay(xs, ys, width, options, m.weight_decay_mape);
  for (const auto& linear : train_network(xs, ys, width, options, m.weight_decay)) {
    predict::MlpLayer layer;
    const torch::Tensor w = linear->weight.detach().to(torch::kDouble).contiguous();
    const torch::Tensor b = linear->bias.detach().to(torch::kDouble).contiguous();
    layer.out = static_cast<std::size_t>(w.size(0));
    layer.in = static_cast<std::size_t>(w.size(1));
    layer.weight.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
    layer.bias.assign(b.data_ptr<double>(), b.data_ptr<double>() + b.numel());
    m.layers.push_back(std::move(layer));
  }
  return m;
}

torch::Tensor mlp_log_ms(const predict::MlpRegressor& mlp, const torch::Tensor& features) {
  const auto width = static_cast<long>(mlp.feature_mean.size());
  HAO_CHECK(features.dim() == 2 && features.size(1) == width,
            "the latency MLP's input must be batch x its feature count");
  const auto options = torch::TensorOptions().dtype(features.dtype());
  const auto vector = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::TensorOptions().dtype(torch::kDouble)).to(options);
  };
  torch::Tensor h = (features - vector(mlp.feature_mean)) / vector(mlp.feature_scale);
  for (std::size_t l = 0; l < mlp.layers.size(); ++l) {
    const predict::MlpLayer& layer = mlp.layers[l];
    const torch::Tensor w =
        vector(layer.weight).view({static_cast<long>(layer.out), static_cast<long>(layer.in)});
    h = torch::nn::functional::linear(h, w, vector(layer.bias));
    if (l + 1 < mlp.layers.size()) h = torch::relu(h);
  }
  return h.squeeze(1);
}

predict::ModelFamily mlp_family(const predict::SampleSet& set, const LatencyMlpOptions& options) {
  auto encoded = std::make_shared<std::vector<std::vector<double>>>();
  auto measured = std::make_shared<std::vector<double>>();
  for (const auto& s : set.samples) {
    encoded->push_back(predict::arch_features(
        set.space, s.arch, set.source + ": line " + std::to_string(s.line), options.encoding));
    measured->push_back(s.measured_ms);
  }
  const std::vector<std::string> names = predict::arch_feature_names(set.space, options.encoding);
  predict::ModelFamily family;
  family.kind = predict::ModelKind::kMlp;
  std::size_t width = names.size();
  for (std::size_t h : options.hidden) family.coefficients += (width + 1) * h, width = h;
  family.coefficients += width + 1;
  family.min_rows = 10;
  family.model_key = "mlp";
  family.fit = [encoded, measured, names, options](const std::vector<std::size_t>& rows,
                                                   nlohmann::json* json) -> predict::RowPredictor {
    std::vector<std::vector<double>> x;
    std::vector<double> y;
    for (auto r : rows) x.push_back((*encoded)[r]), y.push_back((*measured)[r]);
    auto mlp = std::make_shared<predict::MlpRegressor>(fit_latency_mlp(x, y, names, options));
    if (json) *json = mlp->to_json();
    return [mlp, encoded](std::size_t i, std::size_t& unknown) {
      unknown = 0;
      return mlp->predict_ms((*encoded)[i]);
    };
  };
  return family;
}

}  // namespace hao::nn
