#include "nn/train.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::nn {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

void check_fits(const ir::Network& net, const data::DataSet& ds) {
  const ir::Shape& in = net.input;
  if (in.c != ds.train.channels || in.h != ds.train.height || in.w != ds.train.width)
    throw core::InputError("network '" + net.name + "' takes " + ir::to_string(in) +
                           " inputs but " + ds.name + " has " + std::to_string(ds.train.channels) +
                           "x" + std::to_string(ds.train.height) + "x" +
                           std::to_string(ds.train.width) + " images");
  const ir::Shape& out = net.layers.back().out;
  if (out.elements() != ds.train.classes)
    throw core::InputError("network '" + net.name + "' has " + std::to_string(out.elements()) +
                           " outputs but " + ds.name + " has " + std::to_string(ds.train.classes) +
                           " classes");
}

// glibc serves large blocks with mmap and returns freed memory eagerly; LibTorch allocates
// and frees activation and im2col buffers of megabytes every step, so every step page-faults
// them in again. Keeping them in the heap took a single-thread training step on the built-in
// network from 84 to 348 images/s (sys time 46 s -> 1.7 s). Process-wide, set once. (Debian
// 12's glibc 2.36 accepts a 1 GiB mmap threshold: mallopt returns 1. Leaving the threshold
// dynamic, at most 32 MiB, made a default-search candidate whose 128-image activations are
// 38 MB train at 73 images/s instead of 561.)
void keep_large_blocks_in_heap() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)done;
}

int thread_count(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void use_threads(int threads) { torch::set_num_threads(thread_count(threads)); }

void seed_torch(unsigned seed) { torch::manual_seed(seed); }

Normalization normalization_of(const data::ImageSet& set) {
  Normalization n;
  const auto plane = static_cast<std::size_t>(set.height * set.width);
  for (std::int64_t c = 0; c < set.channels; ++c) {
    double sum = 0, sq = 0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      const std::uint8_t* p = set.pixels.data() + i * static_cast<std::size_t>(set.image_bytes()) +
                              static_cast<std::size_t>(c) * plane;
      for (std::size_t k = 0; k < plane; ++k) {
        const double v = p[k] / 255.0;
        sum += v, sq += v * v;
      }
      count += plane;
    }
    const double mean = sum / static_cast<double>(count);
    n.mean.push_back(static_cast<float>(mean));
    n.stddev.push_back(static_cast<float>(
        std::sqrt(std::max(1e-12, sq / static_cast<double>(count) - mean * mean))));
  }
  return n;
}

std::pair<torch::Tensor, torch::Tensor> batch_of(const data::ImageSet& set,
                                                 const std::vector<std::size_t>& indices,
                                                 const Normalization& norm) {
  const auto n = static_cast<std::int64_t>(indices.size());
  const std::int64_t bytes = set.image_bytes();
  torch::Tensor raw = torch::empty({n, bytes}, torch::kUInt8);
  torch::Tensor labels = torch::empty({n}, torch::kInt64);
  auto* dst = raw.data_ptr<std::uint8_t>();
  auto* lab = labels.data_ptr<std::int64_t>();
  for (std::int64_t k = 0; k < n; ++k) {
    const std::size_t i = indices[static_cast<std::size_t>(k)];
    std::copy_n(set.pixels.data() + i * static_cast<std::size_t>(bytes), bytes, dst + k * bytes);
    lab[k] = set.labels[i];
  }
  torch::Tensor x =
      raw.view({n, set.channels, set.height, set.width}).to(torch::kFloat32).div_(255.0);
  const torch::Tensor mean = torch::tensor(norm.mean).view({1, set.channels, 1, 1});
  const torch::Tensor sd = torch::tensor(norm.stddev).view({1, set.channels, 1, 1});
  return {x.sub_(mean).div_(sd), labels};
}

Evaluation evaluate(IrNet& model, const data::ImageSet& set, const Normalization& norm,
                    std::vector<std::size_t> indices, int batch_size) {
  if (indices.empty()) {
    indices.resize(set.size());
    std::iota(indices.begin(), indices.end(), std::size_t{0});
  }
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::int64_t correct = 0;
  double loss = 0;
  for (std::size_t at = 0; at < indices.size(); at += static_cast<std::size_t>(batch_size)) {
    const std::vector<std::size_t> part(
        indices.begin() + static_cast<long>(at),
        indices.begin() + static_cast<long>(std::min(indices.size(), at + batch_size)));
    auto [x, y] = batch_of(set, part, norm);
    const torch::Tensor logits = model->forward(x);
    correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
    loss += torch::nn::functional::cross_entropy(
                logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
  }
  model->train(was_training);
  const auto n = static_cast<double>(indices.size());
  return {static_cast<double>(correct) / n, loss / n};
}

double accuracy(IrNet& model, const data::ImageSet& set, const Normalization& norm,
                std::vector<std::size_t> indices, int batch_size) {
  return evaluate(model, set, norm, std::move(indices), batch_size).accuracy;
}

// Throws RunFailure when the recent losses sit at chance and so does the validation accuracy.
void check_stall(IrNet& model, const data::ImageSet& set, const Normalization& norm,
                 const std::vector<std::size_t>& validation, const std::vector<double>& recent,
                 std::int64_t classes, long steps, int batch_size) {
  double mean = 0;
  for (double l : recent) mean += l / static_cast<double>(recent.size());
  const double chance_loss = std::log(static_cast<double>(std::max<std::int64_t>(2, classes)));
  if (recent.empty() || mean <= 0.98 * chance_loss) return;
  const std::vector<std::size_t> sample(
      validation.begin(),
      validation.begin() + static_cast<long>(std::min<std::size_t>(validation.size(), 1000)));
  const double acc = sample.empty() ? 0 : accuracy(model, set, norm, sample, batch_size);
  if (!sample.empty() && acc > 1.5 / static_cast<double>(classes)) return;
  throw core::RunFailure(
      "the network is not learning: after " + std::to_string(steps) + " batches the loss is " +
      core::fixed(mean, 3) + " (chance: ln " + std::to_string(classes) + " = " +
      core::fixed(chance_loss, 3) + ") and the validation accuracy " + core::fixed(100 * acc, 1) +
      "%. A network without batch norm (PyTorch's eval-mode ONNX export folds them away) "
      "trains with --batchnorm always; otherwise try a lower --lr");
}

void calibrate(IrNet& model, const data::ImageSet& set, const Normalization& norm,
               const std::vector<std::size_t>& order, std::size_t images, int batch_size) {
  model->set_mode(IrNetImpl::Mode::kCalibrate);
  const std::vector<std::size_t> calib(
      order.begin(), order.begin() + static_cast<long>(std::min<std::size_t>(
                                         order.size(), std::max<std::size_t>(1, images))));
  evaluate(model, set, norm, calib, batch_size);
  model->set_mode(IrNetImpl::Mode::kQuantized);
}

long stall_check_steps(long per_epoch) { return std::max<long>(40, (per_epoch + 9) / 10); }

TrainResult train(IrNet& model, const data::DataSet& ds, const TrainOptions& o,
                  const std::function<void(const Progress&)>& progress) {
  check_fits(model->network(), ds);
  keep_large_blocks_in_heap();
  if (o.batch_size < 1) throw core::InputError("--batch-size must be at least 1");
  if (o.epochs < 0) throw core::InputError("--epochs must not be negative");
  if (o.qat_epochs < 0) throw core::InputError("--qat-epochs must not be negative");
  const bool qat = o.qat_epochs > 0 || o.qat_steps > 0;
  if (qat) model->check_trainable_bits();  // before any epoch is spent
  model->set_mode(IrNetImpl::Mode::kFloat);
  use_threads(o.threads);
  torch::manual_seed(o.seed);
  const data::Split split = data::split(ds.train.size(), o.validation, o.seed, o.subset);
  const Normalization norm = normalization_of(ds.train);
  model->set_input_normalization(norm.mean, norm.stddev);  // kept in its checkpoints
  const auto per_epoch =
      static_cast<long>((split.train.size() + static_cast<std::size_t>(o.batch_size) - 1) /
                        static_cast<std::size_t>(o.batch_size));
  const int float_epochs =
      o.steps > 0 ? static_cast<int>((o.steps + per_epoch - 1) / per_epoch) : o.epochs;
  const long float_total = o.steps > 0 ? o.steps : per_epoch * float_epochs;
  const int qat_epochs =
      o.qat_steps > 0 ? static_cast<int>((o.qat_steps + per_epoch - 1) / per_epoch) : o.qat_epochs;
  const long qat_total = o.qat_steps > 0 ? o.qat_steps : per_epoch * o.qat_epochs;
  const int all_epochs = float_epochs + qat_epochs;
  const long all_steps = float_total + qat_total;
  const double lr = o.lr > 0 ? o.lr : (o.optimizer == Optimizer::kSgd ? 0.1 : 0.002);
  const auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing);

  TrainResult result;
  std::mt19937_64 rng(o.seed + 1);
  std::vector<std::size_t> order = split.train;
  const auto start = Clock::now();
  double steady_seconds = 0, steady_images = 0;
  long done = 0;  // steps over both phases
  const long check_at = o.stall_check ? stall_check_steps(per_epoch) : -1;
  const std::int64_t classes = model->network().layers.back().out.c;
  std::vector<double> recent;  // the float phase's last losses, for the stall check

  // One phase: `epochs` epochs (at most `total` steps) from a fresh optimizer at `peak_lr`,
  // linear warm-up then cosine decay.
  auto phase = [&](int first_epoch, int epochs, long total, double peak_lr, bool quantized) {
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (o.optimizer == Optimizer::kSgd)
      opt = std::make_unique<torch::optim::SGD>(
          model->parameters(),
          torch::optim::SGDOptions(peak_lr).momentum(0.9).nesterov(true).weight_decay(
              o.weight_decay));
    else
      opt = std::make_unique<torch::optim::AdamW>(
          model->parameters(), torch::optim::AdamWOptions(peak_lr).weight_decay(o.weight_decay));
    const double warm = std::max(1.0, o.warmup_fraction * static_cast<double>(total));
    long phase_step = 0;
    model->train();
    for (int e = 0; e < epochs && phase_step < total; ++e) {
      const int epoch = first_epoch + e;
      std::shuffle(order.begin(), order.end(), rng);
      const auto t0 = Clock::now();
      auto steady_t0 = t0;
      double loss_sum = 0;
      std::int64_t correct = 0, seen = 0;
      long step = 0;
      for (std::size_t at = 0; at < order.size() && phase_step < total;
           at += static_cast<std::size_t>(o.batch_size), ++step, ++phase_step, ++done) {
        const std::vector<std::size_t> part(
            order.begin() + static_cast<long>(at),
            order.begin() + static_cast<long>(std::min(order.size(), at + o.batch_size)));
        auto [x, y] = batch_of(ds.train, part, norm);
        const double s = static_cast<double>(phase_step);
        const double f =
            s < warm ? (s + 1) / warm
                     : 0.5 * (1 + std::cos(M_PI * (s - warm) /
                                           std::max(1.0, static_cast<double>(total) - warm)));
        for (auto& group : opt->param_groups()) group.options().set_lr(peak_lr * f);
        opt->zero_grad();
        const torch::Tensor logits = model->forward(x);
        const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, loss_options);
        loss.backward();
        opt->step();
        const double loss_value = loss.item<double>();
        loss_sum += loss_value * static_cast<double>(part.size());
        if (!quantized && check_at > 0 && done < check_at) {
          recent.push_back(loss_value);
          if (recent.size() > 10) recent.erase(recent.begin());
          if (done + 1 == check_at)
            check_stall(model, ds.train, norm, split.validation, recent, classes, check_at,
                        o.batch_size);
        }
        correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
        seen += static_cast<std::int64_t>(part.size());
        if (done + 1 == kWarmupSteps) steady_t0 = Clock::now();
        if (done + 1 > kWarmupSteps) steady_images += static_cast<double>(part.size());
        if (progress && step % 10 == 0) {
          Progress p;
          p.epoch = epoch, p.epochs = all_epochs, p.step = step + 1;
          p.steps = std::min(per_epoch, total - (phase_step - step));
          p.loss = loss_sum / static_cast<double>(seen);
          p.images_per_s = static_cast<double>(seen) / std::max(1e-9, since(t0));
          p.eta_s = since(start) / static_cast<double>(done + 1) *
                    static_cast<double>(all_steps - done - 1);
          p.quantized = quantized;
          progress(p);
        }
      }
      EpochReport r;
      r.epoch = epoch;
      r.quantized = quantized;
      r.seconds = since(t0);
      if (done > kWarmupSteps) steady_seconds += since(steady_t0);
      r.train_loss = loss_sum / static_cast<double>(std::max<std::int64_t>(1, seen));
      r.train_accuracy =
          static_cast<double>(correct) / static_cast<double>(std::max<std::int64_t>(1, seen));
      r.images_per_s = static_cast<double>(seen) / std::max(1e-9, r.seconds);
      const bool validate = !split.validation.empty() &&
                            (quantized || !qat || o.float_validation || epoch < float_epochs);
      r.val_accuracy = validate ? accuracy(model, ds.train, norm, split.validation) : 0;
      result.epochs.push_back(r);
      if (progress) {
        Progress p;
        p.epoch = epoch, p.epochs = all_epochs, p.step = step, p.steps = step;
        p.loss = r.train_loss, p.images_per_s = r.images_per_s;
        p.epoch_done = true, p.val_accuracy = r.val_accuracy, p.quantized = quantized;
        progress(p);
      }
    }
  };

  if (float_total > 0) phase(1, float_epochs, float_total, lr, false);
  result.float_val_accuracy = !result.epochs.empty() ? result.epochs.back().val_accuracy
                              : split.validation.empty() || (qat && !o.float_validation)
                                  ? 0
                                  : accuracy(model, ds.train, norm, split.validation);
  result.float_test_accuracy =
      o.test && (!qat || o.float_test) ? accuracy(model, ds.test, norm) : 0;
  if (qat) {
    // Start every activation range from the float network's own, then train with the
    // quantizers in place at a tenth of the learning rate.
    calibrate(model, ds.train, norm, order, o.calibration_images, o.batch_size);
    phase(float_epochs + 1, qat_epochs, qat_total, lr * o.qat_lr_fraction, true);
    result.quantized = true;
  }
  result.seconds = since(start);
  double train_seconds = 0, images = 0;
  for (const auto& e : result.epochs) {
    train_seconds += e.seconds;
    images += e.images_per_s * e.seconds;
  }
  result.images_per_s = images / std::max(1e-9, train_seconds);
  result.steady_images_per_s = steady_images / std::max(1e-9, steady_seconds);
  result.val_accuracy =
      result.epochs.empty() ? result.float_val_accuracy : result.epochs.back().val_accuracy;
  result.test_accuracy =
      qat && o.test ? accuracy(model, ds.test, norm) : result.float_test_accuracy;
  return result;
}

}  // namespace hao::nn
