#include "nn/supernet_train.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace hao::nn {

namespace F = torch::nn::functional;

IrNet recalibrated_member(const Supernet& net, const ir::Network& member, const data::ImageSet& set,
                          const Normalization& norm, const std::vector<std::size_t>& recalibrate,
                          int batch_size) {
  keep_large_blocks_in_heap();
  IrNet alone = net->extract(member);
  torch::NoGradGuard no_grad;
  // Batch norms update their statistics in float only (quantization-aware, they are folded).
  alone->set_mode(IrNetImpl::Mode::kFloat);
  // Re-estimate every batch norm's statistics: a cumulative average over the recalibration
  // batches (momentum 1/k on the k-th), the batches' statistics in training mode.
  std::vector<torch::nn::BatchNorm2d> norms;
  for (std::size_t i = 0; i < member.layers.size(); ++i)
    if (const auto& bn = alone->norm(i)) {
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
      norms.push_back(bn);
    }
  alone->train();
  const auto step = static_cast<std::size_t>(std::max(1, batch_size));
  long k = 0;
  for (std::size_t at = 0; at < recalibrate.size(); at += step, ++k) {
    for (auto& bn : norms) bn->options.momentum(1.0 / static_cast<double>(k + 1));
    const std::vector<std::size_t> idx(
        recalibrate.begin() + static_cast<long>(at),
        recalibrate.begin() + static_cast<long>(std::min(recalibrate.size(), at + step)));
    alone->forward(batch_of(set, idx, norm).first);
  }
  for (auto& bn : norms) bn->options.momentum(0.1);
  alone->eval();
  // Its own input ranges too: a layer's input in this member (say a depthwise conv without the
  // expand conv before it, or a narrower head) is not what the supernet's ranges saw.
  if (net->mode() == IrNetImpl::Mode::kQuantized && !recalibrate.empty())
    calibrate(alone, set, norm, recalibrate, recalibrate.size(), batch_size);
  alone->set_mode(net->mode());
  return alone;
}

double member_accuracy(const Supernet& net, const ir::Network& member, const data::ImageSet& set,
                       const Normalization& norm, const std::vector<std::size_t>& recalibrate,
                       const std::vector<std::size_t>& judge, int batch_size) {
  IrNet alone = recalibrated_member(net, member, set, norm, recalibrate, batch_size);
  return accuracy(alone, set, norm, judge, batch_size);
}

SupernetMode parse_supernet_mode(const std::string& name, const std::string& what) {
  if (name == "sandwich") return SupernetMode::kSandwich;
  if (name == "single-path") return SupernetMode::kSinglePath;
  if (name == "ordered-dropout") return SupernetMode::kOrderedDropout;
  throw core::InputError(what + " '" + name +
                         "': expected sandwich, single-path or ordered-dropout");
}

std::string supernet_mode_name(SupernetMode mode) {
  switch (mode) {
    case SupernetMode::kSinglePath:
      return "single-path";
    case SupernetMode::kOrderedDropout:
      return "ordered-dropout";
    case SupernetMode::kSandwich:
      break;
  }
  return "sandwich";
}

namespace {
constexpr double kMaxGradNorm = 10;
}  // namespace

SupernetTrainResult train_supernet(Supernet& net, const ir::Network& smallest,
                                   const MemberSampler& sample, const data::DataSet& ds,
                                   const SupernetTrainOptions& o,
                                   const std::function<void(long, long, double)>& progress) {
  check_fits(net->largest(), ds);
  net->check_member(smallest);
  if (o.batch_size < 1) throw core::InputError("--batch-size must be at least 1");
  if (o.steps < 0) throw core::InputError("--steps must not be negative");
  if (o.qat_steps < 0) throw core::InputError("--qat-steps must not be negative");
  if (!(o.distillation >= 0 && o.distillation <= 1))
    throw core::InputError("--distillation " + std::to_string(o.distillation) +
                           ": expected a share from 0 to 1");
  keep_large_blocks_in_heap();
  use_threads(o.threads);
  torch::manual_seed(o.seed);
  net->set_mode(IrNetImpl::Mode::kFloat);
  const data::Split split = data::split(ds.train.size(), o.validation, o.seed, o.subset);
  if (split.train.empty()) throw core::InputError(ds.name + ": no training images left");
  const Normalization norm = normalization_of(ds.train);
  torch::optim::SGD optimizer(
      net->parameters(),
      torch::optim::SGDOptions(o.lr).momentum(0.9).nesterov(true).weight_decay(o.weight_decay));
  std::mt19937_64 rng(o.seed + 1);
  std::vector<std::size_t> order = split.train;
  std::size_t at = order.size();  // shuffle before the first batch
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> recent;
  SupernetTrainResult r;
  long images = 0;
  const long total = o.steps + o.qat_steps;
  // `steps` steps at a cosine learning rate from `peak` down to zero.
  auto phase = [&](long steps, double peak, bool quantized) {
    net->train();
    for (long s = 0; s < steps; ++s) {
      const double lr =
          0.5 * peak * (1 + std::cos(M_PI * static_cast<double>(s) / static_cast<double>(steps)));
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      if (at + static_cast<std::size_t>(o.batch_size) > order.size()) {
        std::shuffle(order.begin(), order.end(), rng);
        at = 0;
      }
      const std::vector<std::size_t> idx(
          order.begin() + static_cast<long>(at),
          order.begin() + static_cast<long>(std::min(order.size(), at + o.batch_size)));
      at += idx.size();
      const auto [x, y] = batch_of(ds.train, idx, norm);
      optimizer.zero_grad();
      auto ce = [&](const torch::Tensor& logits) {
        return F::cross_entropy(logits, y,
                                F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
      };
      // Single-path: one drawn member on the labels. Sandwich: the largest on the labels, then
      // the others on the labels and, in-place distillation, on the largest's soft labels, in
      // the proportion `distillation`. The loss shown is the first member's.
      torch::Tensor loss;
      std::size_t passes = 1;
      if (o.mode == SupernetMode::kSinglePath) {
        loss = ce(net->forward(sample(rng), x));
        loss.backward();
      } else if (o.mode == SupernetMode::kOrderedDropout) {
        // Example k through member k mod (2 + random_members): the largest, the smallest,
        // then the drawn ones (so that each batch norm sees a group of examples, not one).
        std::vector<ir::Network> drawn;
        for (int k = 0; k < o.random_members; ++k) drawn.push_back(sample(rng));
        std::vector<const ir::Network*> step_members{&net->largest(), &smallest};
        for (const ir::Network& m : drawn) step_members.push_back(&m);
        std::vector<const ir::Network*> each;
        for (std::size_t k = 0; k < idx.size(); ++k)
          each.push_back(step_members[k % step_members.size()]);
        loss = ce(net->forward_each(each, x));
        loss.backward();
      } else {
        const torch::Tensor logits = net->forward(net->largest(), x);
        loss = ce(logits);
        loss.backward();
        const torch::Tensor soft = torch::softmax(logits.detach(), 1);
        std::vector<ir::Network> members{smallest};
        for (int k = 0; k < o.random_members; ++k) members.push_back(sample(rng));
        for (const ir::Network& m : members) {
          const torch::Tensor out = net->forward(m, x);
          torch::Tensor member_loss = ce(out);
          if (o.distillation > 0)
            member_loss = (1 - o.distillation) * member_loss -
                          o.distillation * (soft * torch::log_softmax(out, 1)).sum(1).mean();
          member_loss.backward();
        }
        passes += members.size();
      }
      // Quantization-aware, a step's summed gradient is clipped to norm kMaxGradNorm: a member
      // whose input ranges were set on other members' activations (another operator before
      // it) can collapse a channel to a constant, whose batch norm, on the batch's statistics,
      // then multiplies the gradient by up to 1/sqrt(eps) per layer; in fmnist-mbv3 the
      // gradient grew to 1e23 in four steps. On the default space the norm stays below it (3
      // to 7), where the clip multiplies by 1.
      if (quantized) torch::nn::utils::clip_grad_norm_(net->parameters(), kMaxGradNorm);
      optimizer.step();
      images += static_cast<long>(idx.size() * passes);
      recent.push_back(loss.item<double>());
      if (recent.size() > 20) recent.erase(recent.begin());
      ++r.steps;
      if (progress) progress(r.steps, total, loss.item<double>());
    }
  };
  phase(o.steps, o.lr, false);
  if (o.qat_steps > 0) {
    net->calibrate(ds.train, norm, split.train, o.calibration_images);
    const long float_steps = r.steps;
    phase(o.qat_steps, o.lr * o.qat_lr_fraction, true);
    r.qat_steps = r.steps - float_steps;
    r.steps = float_steps;
  }
  net->eval();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.images_per_s = r.seconds > 0 ? static_cast<double>(images) / r.seconds : 0;
  r.final_loss = recent.empty() ? 0
                                : std::accumulate(recent.begin(), recent.end(), 0.0) /
                                      static_cast<double>(recent.size());
  // Judge the two ends as any member is judged later.
  const JudgeImages judging = judge_images(ds, o);
  if (!judging.judge.empty()) {
    r.largest_val_accuracy = member_accuracy(net, net->largest(), ds.train, judging.norm,
                                             judging.recalibrate, judging.judge);
    r.smallest_val_accuracy =
        member_accuracy(net, smallest, ds.train, judging.norm, judging.recalibrate, judging.judge);
  }
  return r;
}

JudgeImages judge_images(const data::DataSet& ds, const SupernetTrainOptions& o,
                         std::size_t recalibrate) {
  const data::Split split = data::split(ds.train.size(), o.validation, o.seed, o.subset);
  JudgeImages images;
  images.recalibrate.assign(
      split.train.begin(),
      split.train.begin() + static_cast<long>(std::min(split.train.size(), recalibrate)));
  images.judge = split.validation;
  images.norm = normalization_of(ds.train);
  return images;
}

}  // namespace hao::nn
