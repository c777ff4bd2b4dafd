#include "nn/sensitivity.hpp"

#include <cmath>

#include "core/error.hpp"
#include "nn/train.hpp"

namespace hao::nn {
namespace {

struct Weighted {
  std::vector<std::size_t> layers;
  std::vector<torch::Tensor> weights;
};

Weighted weighted_layers(IrNet& model) {
  Weighted w;
  for (std::size_t i = 0; i < model->network().layers.size(); ++i)
    if (model->weight(i).defined()) {
      w.layers.push_back(i);
      w.weights.push_back(model->weight(i));
    }
  return w;
}

torch::Tensor loss_of(IrNet& model, const torch::Tensor& x, const torch::Tensor& y) {
  return torch::nn::functional::cross_entropy(model->forward(x), y);
}

// Per layer v^T H v for probes `v` (one per weight tensor), by double backward.
std::vector<double> quadratic_forms(const torch::Tensor& loss, const std::vector<torch::Tensor>& w,
                                    const std::vector<torch::Tensor>& v) {
  const auto grads = torch::autograd::grad({loss}, w, {}, /*retain_graph=*/true,
                                           /*create_graph=*/true);
  torch::Tensor gv = torch::zeros({});
  for (std::size_t k = 0; k < w.size(); ++k) gv = gv + (grads[k] * v[k]).sum();
  const auto hv = torch::autograd::grad({gv}, w, {}, /*retain_graph=*/true);
  std::vector<double> out;
  for (std::size_t k = 0; k < w.size(); ++k) out.push_back((hv[k] * v[k]).sum().item<double>());
  return out;
}

std::vector<torch::Tensor> rademacher_like(const std::vector<torch::Tensor>& t) {
  std::vector<torch::Tensor> v;
  for (const auto& x : t)
    v.push_back(torch::randint(0, 2, x.sizes(), torch::kFloat32).mul_(2).sub_(1));
  return v;
}

// Per tensor ||grad_t sum_n s_n loss_n(c_n)||^2 / N for labels c_n drawn from the model's
// softmax and signs s_n: an unbiased probe of the Fisher information's trace (the cross terms
// between images vanish in expectation over the signs).
std::vector<double> fisher_forms(const torch::Tensor& logits, const std::vector<torch::Tensor>& t) {
  const std::int64_t n = logits.size(0);
  const torch::Tensor log_p = torch::log_softmax(logits, 1);
  const torch::Tensor drawn = torch::multinomial(log_p.detach().exp(), 1);
  const torch::Tensor signs = torch::randint(0, 2, {n}, torch::kFloat32).mul_(2).sub_(1);
  const torch::Tensor z = -(log_p.gather(1, drawn).squeeze(1) * signs).sum();
  const auto g = torch::autograd::grad({z}, t, {}, /*retain_graph=*/true);
  std::vector<double> out;
  for (const auto& gk : g) out.push_back(gk.pow(2).sum().item<double>() / static_cast<double>(n));
  return out;
}

constexpr int kFloatBits = 32;
using Mode = IrNetImpl::Mode;

}  // namespace

SensitivityResult layer_sensitivity(IrNet& model, const data::DataSet& ds,
                                    const SensitivityOptions& o) {
  if (o.batches < 1 || o.batch_size < 1 || o.max_iterations < 1)
    throw core::InputError("--batches, --batch-size and --iterations must be at least 1");
  for (int b : o.bits)
    if (b < 2 || b > 8) throw core::InputError("--bits " + std::to_string(b) + ": expected 2..8");
  keep_large_blocks_in_heap();
  if (o.curvature == Curvature::Measured) return measured_sensitivity(model, ds, o);
  use_threads(o.threads);
  torch::manual_seed(o.seed);
  const data::Split split =
      data::split(ds.train.size(), std::min<std::size_t>(5000, ds.train.size() / 10), o.seed);
  const Normalization norm = normalization_of(ds.train);
  const std::size_t take =
      std::min(split.train.size(), static_cast<std::size_t>(o.batches * o.batch_size));
  auto [x, y] = batch_of(
      ds.train, {split.train.begin(), split.train.begin() + static_cast<long>(take)}, norm);
  return sensitivity_on(model, x, y, o);
}

SensitivityResult sensitivity_on(IrNet& model, const torch::Tensor& x, const torch::Tensor& y,
                                 const SensitivityOptions& o) {
  model->eval();
  const Weighted w = weighted_layers(model);
  const ir::Network& net = model->network();
  // One forward keeping every layer's output, so that each weighted layer's input is a tensor
  // of the graph whose Hessian can be probed like the weights'.
  const torch::Tensor input = x.detach().clone().requires_grad_(true);
  const std::vector<torch::Tensor> outputs = model->forward_all(input);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(outputs.back().flatten(1), y);
  std::vector<torch::Tensor> acts;
  for (std::size_t l : w.layers) {
    const int from = net.layers[l].inputs.at(0);
    acts.push_back(from == ir::kNetworkInput ? input : outputs[static_cast<std::size_t>(from)]);
  }
  std::vector<torch::Tensor> probed = w.weights;
  probed.insert(probed.end(), acts.begin(), acts.end());
  const std::size_t nw = w.weights.size();

  SensitivityResult r;
  std::vector<double> sum(probed.size(), 0.0);
  std::vector<double> previous(probed.size(), 0.0);
  for (int it = 1; it <= o.max_iterations; ++it) {
    const std::vector<double> q = o.curvature == Curvature::Fisher
                                      ? fisher_forms(outputs.back().flatten(1), probed)
                                      : quadratic_forms(loss, probed, rademacher_like(probed));
    bool settled = it >= o.min_iterations;
    for (std::size_t k = 0; k < q.size(); ++k) {
      sum[k] += q[k];
      const double mean = sum[k] / it;
      // The weights decide convergence; activation traces ride along.
      if (k < nw && std::abs(mean - previous[k]) > o.tolerance * std::max(std::abs(mean), 1e-12))
        settled = false;
      previous[k] = mean;
    }
    r.iterations = it;
    if (o.progress) o.progress(it, settled ? it : o.max_iterations);
    if (settled) {
      r.converged = true;
      break;
    }
  }
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < nw; ++k) {
    LayerSensitivity s;
    s.layer = w.layers[k];
    s.params = w.weights[k].numel();
    s.trace = sum[k] / r.iterations;
    const torch::Tensor a = acts[k].detach();
    s.act_elements = a.numel();
    s.act_trace = sum[nw + k] / r.iterations;
    const bool is_signed = a.min().item<double>() < 0;
    for (int b : o.bits) {
      const double err = (fake_quant_weight(w.weights[k].detach(), b) - w.weights[k].detach())
                             .pow(2)
                             .sum()
                             .item<double>();
      s.omega.push_back(s.trace / static_cast<double>(s.params) * err);
      const double clip = activation_clip(a, b, is_signed);
      const double act_err =
          (fake_quant_act(a, is_signed ? -clip : 0.0, clip, b) - a).pow(2).sum().item<double>();
      s.omega_act.push_back(s.act_trace / static_cast<double>(s.act_elements) * act_err);
    }
    r.layers.push_back(s);
  }
  return r;
}

SensitivityResult measured_sensitivity(IrNet& model, const data::DataSet& ds,
                                       const SensitivityOptions& o) {
  use_threads(o.threads);
  const Weighted w = weighted_layers(model);
  const std::vector<std::size_t>& layers = w.layers;
  std::vector<std::pair<int, int>> kept;
  for (std::size_t l : layers)
    kept.emplace_back(model->network().layers[l].weight_bits, model->network().layers[l].act_bits);
  std::vector<torch::Tensor> state;
  for (const auto& t : model->parameters()) state.push_back(t.detach().clone());
  for (const auto& t : model->buffers()) state.push_back(t.clone());
  auto restore = [&] {
    torch::NoGradGuard no_grad;
    std::size_t k = 0;
    for (auto& t : model->parameters()) t.copy_(state[k++]);
    for (auto& t : model->buffers()) t.copy_(state[k++]);
  };
  for (std::size_t l : layers) model->set_bits(l, kFloatBits, kFloatBits);

  TrainOptions t;
  t.epochs = 0;
  t.qat_steps = o.recovery_steps;
  t.batch_size = o.batch_size;
  t.seed = o.seed;
  t.threads = o.threads;
  t.validation = o.validation;
  t.test = t.float_test = t.float_validation = false;
  const data::Split split = data::split(ds.train.size(), t.validation, t.seed);
  const Normalization norm = normalization_of(ds.train);
  const int runs = 1 + 2 * static_cast<int>(layers.size() * o.bits.size());
  int done = 0;
  // The validation loss after `recovery_steps` quantization-aware steps from the given weights
  // at the model's current bits (all float but the layer under test): same seed, same batches.
  auto measure = [&] {
    restore();
    if (o.recovery_steps > 0)
      train(model, ds, t);
    else  // train's start without its steps
      calibrate(model, ds.train, norm, split.train, t.calibration_images, o.batch_size);
    const double loss = evaluate(model, ds.train, norm, split.validation).loss;
    if (o.progress) o.progress(++done, runs);
    return loss;
  };
  // The model comes back as it came, also when a run throws (bad data, a progress callback).
  auto put_back = [&] {
    restore();
    for (std::size_t k = 0; k < layers.size(); ++k)
      model->set_bits(layers[k], kept[k].first, kept[k].second);
    model->set_mode(Mode::kFloat);
  };
  SensitivityResult r;
  try {
    const double reference = measure();
    for (std::size_t k = 0; k < layers.size(); ++k) {
      LayerSensitivity s;
      s.layer = layers[k];
      s.params = w.weights[k].numel();
      for (int b : o.bits) {
        model->set_bits(layers[k], b, kFloatBits);
        s.omega.push_back(measure() - reference);
        model->set_bits(layers[k], kFloatBits, b);
        s.omega_act.push_back(measure() - reference);
      }
      model->set_bits(layers[k], kFloatBits, kFloatBits);
      r.layers.push_back(s);
    }
  } catch (...) {
    put_back();
    throw;
  }
  put_back();
  r.converged = true;
  return r;
}

std::vector<double> exact_traces(IrNet& model, const torch::Tensor& x, const torch::Tensor& y) {
  model->eval();
  const Weighted w = weighted_layers(model);
  const torch::Tensor loss = loss_of(model, x, y);
  std::vector<double> traces(w.weights.size(), 0.0);
  for (std::size_t k = 0; k < w.weights.size(); ++k) {
    const auto grads = torch::autograd::grad({loss}, {w.weights[k]}, {}, true, true);
    const torch::Tensor g = grads[0].flatten();
    for (std::int64_t j = 0; j < g.numel(); ++j) {
      const auto h = torch::autograd::grad({g[j]}, {w.weights[k]}, {}, true);
      traces[k] += h[0].flatten()[j].item<double>();
    }
  }
  return traces;
}

std::vector<double> exact_fisher_traces(IrNet& model, const torch::Tensor& x) {
  model->eval();
  const Weighted w = weighted_layers(model);
  const torch::Tensor log_p = torch::log_softmax(model->forward(x).flatten(1), 1);
  const torch::Tensor p = log_p.detach().exp();
  std::vector<double> traces(w.weights.size(), 0.0);
  for (std::int64_t i = 0; i < log_p.size(0); ++i)
    for (std::int64_t c = 0; c < log_p.size(1); ++c) {
      const auto g = torch::autograd::grad({-log_p[i][c]}, w.weights, {}, true);
      for (std::size_t k = 0; k < g.size(); ++k)
        traces[k] += p[i][c].item<double>() * g[k].pow(2).sum().item<double>();
    }
  for (double& t : traces) t /= static_cast<double>(log_p.size(0));
  return traces;
}

nlohmann::ordered_json sensitivity_json(const IrNet& model, const SensitivityResult& r,
                                        const SensitivityOptions& o) {
  nlohmann::ordered_json j;
  j["network"] = model->network().name;
  j["method"] = o.curvature == Curvature::Fisher     ? "fisher"
                : o.curvature == Curvature::Measured ? "measured"
                                                     : "hutchinson";
  const bool measured = o.curvature == Curvature::Measured;
  if (measured) {
    j["bits"] = o.bits;
    j["recovery_steps"] = o.recovery_steps;
    j["validation_images"] = o.validation;
    j["omega_definition"] =
        "validation cross-entropy with only this layer's weights at b bits (per channel), after "
        "recovery_steps quantization-aware steps, minus the same with nothing quantized";
    j["omega_act_definition"] = "the same with only this layer's input at b bits (per tensor)";
  } else {
    j["iterations"] = r.iterations;
    j["converged"] = r.converged;
    j["tolerance"] = o.tolerance;
    j["images"] = o.batches * o.batch_size;
    j["bits"] = o.bits;
    j["omega_definition"] = "trace / params * ||Q_b(W) - W||^2, Q_b per channel, two's complement";
    j["omega_act_definition"] =
        "act_trace / act_elements * ||Q_b(a) - a||^2 over the probe batch, Q_b per tensor";
  }
  j["layers"] = nlohmann::ordered_json::array();
  for (const auto& s : r.layers) {
    nlohmann::ordered_json omega;
    nlohmann::ordered_json omega_act;
    for (std::size_t k = 0; k < o.bits.size(); ++k) {
      omega[std::to_string(o.bits[k])] = s.omega[k];
      omega_act[std::to_string(o.bits[k])] = s.omega_act[k];
    }
    // A measured sensitivity has no traces.
    nlohmann::ordered_json layer = {{"name", model->network().layers[s.layer].name},
                                    {"params", s.params}};
    if (!measured) layer["trace"] = s.trace;
    layer["omega"] = omega;
    if (!measured) {
      layer["act_elements"] = s.act_elements;
      layer["act_trace"] = s.act_trace;
    }
    layer["omega_act"] = omega_act;
    j["layers"].push_back(layer);
  }
  return j;
}

}  // namespace hao::nn
