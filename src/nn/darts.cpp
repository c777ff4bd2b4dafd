#include "nn/darts.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/genotype.hpp"
#include "nn/latency_mlp.hpp"
#include "nn/train.hpp"
#include "predict/arch_features.hpp"

namespace hao::nn {
namespace {

namespace F = torch::nn::functional;

constexpr std::size_t kEdges = 6, kOps = 5;
const std::array<const char*, kOps> kOpNames = {"none", "skip_connect", "nor_conv_1x1",
                                                "nor_conv_3x3", "avg_pool_3x3"};

// ReLU, convolution, batch norm (NAS-Bench-201's ReLUConvBN); the search's cell operators have
// no affine batch norm (DARTS: their scale would fight the alphas).
struct ReluConvBnImpl : torch::nn::Module {
  ReluConvBnImpl(long in, long out, long k, long stride, bool affine)
      : conv(register_module(
            "conv",
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false)))),
        bn(register_module(
            "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).affine(affine)))) {}
  // Channels-last inputs: oneDNN's convolutions are faster on them (see nn/ir_module.cpp).
  torch::Tensor forward(const torch::Tensor& relu_x) {
    return bn->forward(conv->forward(relu_x.contiguous(torch::MemoryFormat::ChannelsLast)));
  }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
};
TORCH_MODULE(ReluConvBn);

// One cell of mixed edges: node j = sum over i < j of sum over ops w[e][op] * op(node i).
struct MixedCellImpl : torch::nn::Module {
  explicit MixedCellImpl(long c) {
    for (std::size_t e = 0; e < kEdges; ++e) {
      const std::string n = std::to_string(e);
      conv1.push_back(register_module("e" + n + "_conv1", ReluConvBn(c, c, 1, 1, false)));
      conv3.push_back(register_module("e" + n + "_conv3", ReluConvBn(c, c, 3, 1, false)));
    }
  }
  // `w`: 6 x 5 operator weights.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w) {
    std::array<torch::Tensor, 4> node;
    std::array<torch::Tensor, 4> relu;  // a node's ReLU, shared by its convolutions
    node[0] = x;
    for (std::size_t j = 1; j <= 3; ++j) {
      torch::Tensor sum;
      for (std::size_t i = 0; i < j; ++i) {
        const std::size_t e = ir::nb201_edge(i, j);
        if (!relu[i].defined()) relu[i] = torch::relu(node[i]);
        const auto we = [&](std::size_t op) {
          return w[static_cast<long>(e)][static_cast<long>(op)];
        };
        torch::Tensor t =
            we(1) * node[i] + we(2) * conv1[e]->forward(relu[i]) +
            we(3) * conv3[e]->forward(relu[i]) +
            we(4) * F::avg_pool2d(
                        node[i],
                        F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false));
        sum = sum.defined() ? sum + t : t;  // `none` adds w[e][0] * 0
      }
      node[j] = sum;
    }
    return node[3];
  }
  std::vector<ReluConvBn> conv1, conv3;
};
TORCH_MODULE(MixedCell);

// NAS-Bench-201's residual reduction block, as ir::expand_nb201 builds it.
struct ReductionImpl : torch::nn::Module {
  ReductionImpl(long in, long out)
      : a(register_module("a", ReluConvBn(in, out, 3, 2, true))),
        b(register_module("b", ReluConvBn(out, out, 3, 1, true))),
        shortcut(register_module(
            "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(false)))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return b->forward(torch::relu(a->forward(torch::relu(x)))) +
           shortcut->forward(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2)));
  }
  ReluConvBn a, b;
  torch::nn::Conv2d shortcut;
};
TORCH_MODULE(Reduction);

// The macro network of mixed cells: stem, three stages of cells with reductions between,
// batch norm and ReLU (NAS-Bench-201's lastact), global pooling, classifier.
struct MixedNetImpl : torch::nn::Module {
  MixedNetImpl(long in_channels, long classes, long width, int cells_per_stage)
      : stem(register_module(
            "stem", torch::nn::Conv2d(
                        torch::nn::Conv2dOptions(in_channels, width, 3).padding(1).bias(false)))),
        stem_bn(register_module("stem_bn", torch::nn::BatchNorm2d(width))),
        fc(register_module("classifier", torch::nn::Linear(4 * width, classes))) {
    for (int stage = 0; stage < 3; ++stage) {
      const long c = width << stage;
      const std::string s = std::to_string(stage);
      if (stage > 0) reductions.push_back(register_module("reduce" + s, Reduction(c / 2, c)));
      std::vector<MixedCell> cells;
      for (int k = 0; k < cells_per_stage; ++k)
        cells.push_back(register_module("s" + s + "c" + std::to_string(k), MixedCell(c)));
      stages.push_back(cells);
    }
    last_bn = register_module("last_bn", torch::nn::BatchNorm2d(4 * width));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& w) {
    x = stem_bn->forward(stem->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)));
    for (std::size_t stage = 0; stage < stages.size(); ++stage) {
      if (stage > 0) x = reductions[stage - 1]->forward(x);
      for (auto& cell : stages[stage]) x = cell->forward(x, w);
    }
    x = torch::relu(last_bn->forward(x)).mean({2, 3});
    return fc->forward(x);
  }
  torch::nn::Conv2d stem;
  torch::nn::BatchNorm2d stem_bn;
  std::vector<Reduction> reductions;
  std::vector<std::vector<MixedCell>> stages;
  torch::nn::BatchNorm2d last_bn = nullptr;
  torch::nn::Linear fc;
};
TORCH_MODULE(MixedNet);

DartsAlphas to_array(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  DartsAlphas a{};
  for (std::size_t e = 0; e < kEdges; ++e)
    for (std::size_t o = 0; o < kOps; ++o)
      a[e][o] = c[static_cast<long>(e)][static_cast<long>(o)].item<double>();
  return a;
}

bool cut(const std::string& arch) {
  const std::array<bool, 6> live = ir::nb201_live_edges(ir::parse_nb201(arch, "derived cell"));
  return std::none_of(live.begin(), live.end(), [](bool b) { return b; });
}

// The cell by the options' rule; `with_none` the cell of each edge's largest alpha.
std::string derive(const DartsAlphas& alpha, bool keep_none, std::string& with_none) {
  with_none = derive_nb201(alpha, false);
  return keep_none && !cut(with_none) ? with_none : derive_nb201(alpha, true);
}

double predicted_ms(const predict::MlpRegressor* mlp, const std::string& arch) {
  if (!mlp) return 0;
  return mlp->predict_ms(predict::arch_features(predict::Space::kNb201, arch, "derived cell",
                                                predict::Encoding::kOneHot));
}

void check_lambda(double lambda, const predict::MlpRegressor* latency) {
  if (!(lambda >= 0) || !std::isfinite(lambda))
    throw core::InputError("--lambda " + core::number(lambda) + ": must be 0 or more");
  if (lambda > 0 && !latency)
    throw core::InputError("--lambda " + core::number(lambda) +
                           " weighs a predicted latency: give --latency-model");
  if (latency) check_darts_latency_model(*latency, "--latency-model");
}

}  // namespace

std::string derive_nb201(const DartsAlphas& alpha, bool exclude_none) {
  std::string arch;
  for (std::size_t j = 1; j <= 3; ++j) {
    if (j > 1) arch += "+";
    arch += "|";
    for (std::size_t i = 0; i < j; ++i) {
      const auto& a = alpha[ir::nb201_edge(i, j)];
      const auto from = a.begin() + (exclude_none ? 1 : 0);
      const auto op = static_cast<std::size_t>(std::max_element(from, a.end()) - a.begin());
      arch += std::string(kOpNames[op]) + "~" + std::to_string(i) + "|";
    }
  }
  return arch;
}

void check_darts_latency_model(const predict::MlpRegressor& mlp, const std::string& where) {
  const std::vector<std::string> expected =
      predict::arch_feature_names(predict::Space::kNb201, predict::Encoding::kOneHot);
  if (mlp.feature_names != expected)
    throw core::InputError(
        where + ": a model of " + std::to_string(mlp.feature_names.size()) + " features (first '" +
        (mlp.feature_names.empty() ? std::string() : mlp.feature_names.front()) +
        "'); DARTS needs one on NAS-Bench-201's one-hot encoding (30 features, operator per "
        "edge): hao calibrate --kind mlp --space nb201 --encoding onehot");
}

DartsResult search_darts(const data::DataSet& ds, const DartsOptions& o,
                         const predict::MlpRegressor* latency,
                         const std::function<void(const DartsPoint&, long steps)>& progress) {
  check_lambda(o.lambda, latency);
  if (o.steps < 1 || o.warmup_steps < 0 || o.batch_size < 1 || o.cells_per_stage < 1 || o.width < 1)
    throw core::InputError(
        "DARTS needs steps >= 1, warm-up >= 0, batch size, cells and width >= 1");
  const ir::Shape input{ds.train.channels, ds.train.height, ds.train.width};
  if (input.h % 4 != 0 || input.w % 4 != 0)
    throw core::InputError(ds.name + ": images of " + std::to_string(input.h) + "x" +
                           std::to_string(input.w) +
                           " px; the NAS-Bench-201 macro network halves them twice (a multiple "
                           "of 4 is needed)");
  const data::Split split = data::split(ds.train.size(), 0, o.seed, o.subset);
  const std::size_t half = split.train.size() / 2;
  if (half < static_cast<std::size_t>(o.batch_size))
    throw core::InputError("DARTS splits its " + std::to_string(split.train.size()) +
                           " training images in two halves, each smaller than a batch of " +
                           std::to_string(o.batch_size));
  std::vector<std::size_t> weight_half(split.train.begin(),
                                       split.train.begin() + static_cast<long>(half));
  std::vector<std::size_t> alpha_half(split.train.begin() + static_cast<long>(half),
                                      split.train.begin() + static_cast<long>(2 * half));

  use_threads(o.threads);
  seed_torch(o.seed);
  const Normalization norm = normalization_of(ds.train);
  MixedNet net(input.c, ds.train.classes, o.width, o.cells_per_stage);
  torch::Tensor alpha = (1e-3 * torch::randn({6, 5})).requires_grad_(true);

  torch::optim::SGD weight_opt(
      net->parameters(), torch::optim::SGDOptions(o.lr).momentum(0.9).weight_decay(o.weight_decay));
  torch::optim::Adam alpha_opt(
      {alpha},
      torch::optim::AdamOptions(o.alpha_lr).betas({0.5, 0.999}).weight_decay(o.alpha_weight_decay));

  const auto expected_log_ms = [&](const torch::Tensor& w) {
    return mlp_log_ms(*latency, w.reshape({1, 30}).to(torch::kDouble)).squeeze(0);
  };
  // Batches walk each half in shuffled passes.
  std::mt19937_64 rng(o.seed + 1);
  struct Cursor {
    std::vector<std::size_t>* order;
    std::size_t at = 0;
  };
  Cursor wc{&weight_half}, ac{&alpha_half};
  const auto next_batch = [&](Cursor& c) {
    if (c.at + static_cast<std::size_t>(o.batch_size) > c.order->size() || c.at == 0) {
      std::shuffle(c.order->begin(), c.order->end(), rng);
      c.at = 0;
    }
    std::vector<std::size_t> idx(c.order->begin() + static_cast<long>(c.at),
                                 c.order->begin() + static_cast<long>(c.at) + o.batch_size);
    c.at += static_cast<std::size_t>(o.batch_size);
    return batch_of(ds.train, idx, norm);
  };

  DartsResult r;
  const long total = o.warmup_steps + o.steps;
  const long every = std::max<long>(1, total / 50);
  double wsum = 0, asum = 0;
  long wn = 0, an = 0;
  const auto start = std::chrono::steady_clock::now();
  net->train();
  for (long step = 1; step <= total; ++step) {
    const double f =
        1.0 / 25 +
        (1 - 1.0 / 25) * 0.5 *
            (1 + std::cos(M_PI * static_cast<double>(step - 1) / static_cast<double>(total)));
    for (auto& g : weight_opt.param_groups()) g.options().set_lr(o.lr * f);
    if (step > o.warmup_steps) {
      // The alphas' first-order step on a batch of their half.
      auto [x, y] = next_batch(ac);
      const torch::Tensor w = torch::softmax(alpha, 1);
      const torch::Tensor ce = F::cross_entropy(net->forward(x, w), y);
      torch::Tensor loss = ce;
      if (o.lambda > 0) loss = loss + o.lambda * expected_log_ms(w).to(torch::kFloat);
      alpha_opt.zero_grad();
      weight_opt.zero_grad();
      loss.backward();
      alpha_opt.step();
      asum += ce.item<double>();
      ++an;
    }
    {
      auto [x, y] = next_batch(wc);
      const torch::Tensor w = torch::softmax(alpha, 1).detach();
      const torch::Tensor loss = F::cross_entropy(net->forward(x, w), y);
      weight_opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net->parameters(), 5.0);
      weight_opt.step();
      wsum += loss.item<double>();
      ++wn;
    }
    if (step % every == 0 || step == total) {
      DartsPoint p;
      p.step = step;
      p.weight_loss = wn ? wsum / static_cast<double>(wn) : 0;
      p.alpha_loss = an ? asum / static_cast<double>(an) : 0;
      std::string with_none;
      p.genotype = derive(to_array(alpha), o.keep_none, with_none);
      if (latency) {
        torch::NoGradGuard no_grad;
        p.expected_ms = std::exp(expected_log_ms(torch::softmax(alpha, 1)).item<double>());
      }
      r.trace.push_back(p);
      if (progress) progress(p, total);
      wsum = asum = 0;
      wn = an = 0;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.images_per_s = static_cast<double>((total + o.steps) * o.batch_size) / r.seconds;
  r.alpha = to_array(alpha);
  r.weights = to_array(torch::softmax(alpha, 1));
  r.genotype = derive(r.alpha, o.keep_none, r.with_none);
  r.none_excluded = r.genotype != r.with_none;
  r.predicted_ms = predicted_ms(latency, r.genotype);
  return r;
}

void check_darts_sweep(const DartsSweepOptions& options, const predict::MlpRegressor* latency) {
  if (options.lambdas.empty()) throw core::InputError("--lambda: give at least one value");
  for (double lambda : options.lambdas) check_lambda(lambda, latency);
}

std::vector<DartsOutcome> run_darts(const data::DataSet& ds, const DartsSweepOptions& options,
                                    const predict::MlpRegressor* latency,
                                    const DartsProgress& progress) {
  check_darts_sweep(options, latency);  // every lambda before the first search's minutes
  const ir::Shape input{ds.train.channels, ds.train.height, ds.train.width};
  std::vector<DartsOutcome> outcomes;
  for (std::size_t run = 0; run < options.lambdas.size(); ++run) {
    DartsOutcome out;
    out.lambda = options.lambdas[run];
    DartsOptions o = options.search;
    o.lambda = out.lambda;
    out.search = search_darts(ds, o, latency, [&](const DartsPoint& p, long steps) {
      if (progress.search) progress.search(run, p, steps);
    });
    out.network = ir::genotype_model(std::string("nb201:") + out.search.genotype, input,
                                     static_cast<int>(ds.train.classes));
    seed_torch(options.training.seed);
    IrNet model(out.network);
    if (options.train) {
      try {
        out.training = train(model, ds, options.training, [&](const Progress& p) {
          if (progress.training) progress.training(run, p);
        });
        out.trained = true;
      } catch (const core::RunFailure& e) {
        // One derived cell that does not train must not cost the other lambdas' searches.
        out.training_failure = e.what();
      }
    }
    ProfileOptions po = options.profile;
    po.per_layer = false;
    out.host = profile(model, po);
    outcomes.push_back(std::move(out));
  }
  return outcomes;
}

std::optional<DartsPick> pick_darts_lambda(const std::vector<DartsOutcome>& outcomes,
                                           const std::vector<double>& latency_ms, double faster,
                                           double within) {
  HAO_CHECK(latency_ms.size() == outcomes.size(), "one latency per DARTS outcome");
  const auto point = [&](std::size_t i) {
    return search::Objectives{latency_ms[i], outcomes[i].trained
                                                 ? 100 * outcomes[i].training.val_accuracy
                                                 : -std::numeric_limits<double>::infinity()};
  };
  std::optional<std::size_t> plain;
  std::vector<std::size_t> others;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    if (outcomes[i].lambda > 0)
      others.push_back(i);
    else if (!plain)
      plain = i;
  if (!plain || !outcomes[*plain].trained || outcomes.size() < 2) return std::nullopt;
  std::stable_sort(others.begin(), others.end(), [&](std::size_t x, std::size_t y) {
    return outcomes[x].lambda < outcomes[y].lambda;
  });
  std::vector<search::Objectives> sweep;
  for (std::size_t i : others) sweep.push_back(point(i));
  DartsPick pick;
  pick.reference = point(*plain);
  if (const auto k = search::first_faster_within(pick.reference, sweep, faster, within)) {
    pick.chosen = others[*k];
    pick.at = sweep[*k];
  }
  return pick;
}

}  // namespace hao::nn
