// Training and evaluation of an IrNet on an image data set, on the CPU.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/images.hpp"
#include "nn/ir_module.hpp"

namespace hao::nn {

enum class Optimizer { kSgd, kAdam };

struct TrainOptions {
  int epochs = 3;
  long steps = 0;  ///< > 0: train this many batches instead of whole epochs
  int batch_size = 128;
  Optimizer optimizer = Optimizer::kSgd;
  double lr = 0;  ///< 0: 0.1 for SGD (momentum 0.9, Nesterov), 0.002 for Adam
  double weight_decay = 4e-5;
  double label_smoothing = 0.1;
  double warmup_fraction = 0.02;  ///< linear warm-up, then a cosine decay to zero
  unsigned seed = 1;              ///< initialization, shuffling and the validation split
  std::size_t validation = 5000;  ///< training images held out for decisions
  std::size_t subset = 0;         ///< > 0: train on this many images only
  int threads = 0;                ///< 0: all cores (use_threads)
  int qat_epochs = 0;             ///< then this many quantization-aware epochs at the IR's bits
  long qat_steps = 0;             ///< > 0: that many quantization-aware batches instead
  bool test = true;               ///< measure test accuracy (searches decide without it)
  bool float_test = true;         ///< with QAT, also measure the float network's test accuracy
  bool float_validation = true;   ///< with QAT, also validate after the float phase
  std::size_t calibration_images = 2048;  ///< images that set the activation ranges before QAT
  double qat_lr_fraction = 0.1;           ///< their peak learning rate, as a fraction of lr
  /// Stop a float training that does not learn: when, after stall_check_steps(per_epoch)
  /// batches, the mean loss of the last 10 is still above 0.98 ln(classes) and the accuracy on
  /// (up to 1,000 of) the validation images is at chance (at most 1.5 / classes), train throws
  /// core::RunFailure saying so and what to try, instead of spending the remaining epochs.
  bool stall_check = true;
};

/// The batch after which a float training is checked for a stall: 10% of an epoch of
/// `per_epoch` batches, and at least 40 (a short run must first get past its warm-up).
long stall_check_steps(long per_epoch);

/// What the progress display needs, reported every few batches and at each epoch's end.
struct Progress {
  int epoch = 0, epochs = 0;
  long step = 0, steps = 0;  ///< in this epoch
  double loss = 0;           ///< running mean over the epoch
  double images_per_s = 0;
  double eta_s = 0;  ///< for the whole run
  bool epoch_done = false;
  double val_accuracy = -1;  ///< at epoch_done
  bool quantized = false;    ///< a quantization-aware epoch
};

struct EpochReport {
  int epoch = 0;
  bool quantized = false;
  double train_loss = 0, train_accuracy = 0, val_accuracy = 0;
  double seconds = 0, images_per_s = 0;
};

struct TrainResult {
  std::vector<EpochReport> epochs;
  double val_accuracy = 0;   ///< after training (quantized when there were QAT epochs)
  double test_accuracy = 0;  ///< reported, never used for decisions
  double float_val_accuracy = 0, float_test_accuracy = 0;  ///< after the float epochs
  bool quantized = false;
  double seconds = 0;
  double images_per_s = 0;  ///< training throughput over the run
  /// Throughput after the first kWarmupSteps steps (LibTorch picks and JITs its kernels on
  /// the first ones), what benchmarks compare.
  double steady_images_per_s = 0;
};
inline constexpr long kWarmupSteps = 5;

/// Keeps large freed blocks in glibc's heap instead of returning them to the kernel, which
/// LibTorch's per-step buffers otherwise page-fault back in (4x on one thread). Process-wide.
void keep_large_blocks_in_heap();

/// The thread count `threads` asks for: itself, or when 0 every core the machine reports
/// (LibTorch's own default is one thread where cgroups hide the cores).
int thread_count(int threads);
/// Sets LibTorch's intra-op threads to thread_count(threads). Results depend on the count (the
/// order of float sums), so every command resolves 0 alike: a search's judgement and `hao
/// supernet eval` of the same network agree.
void use_threads(int threads);

/// Seeds LibTorch's generator. Call it before building a model: LibTorch seeds its default
/// generator nondeterministically, so initial weights differ from run to run otherwise.
void seed_torch(unsigned seed);

/// Per-channel mean and standard deviation of a set's pixels (scaled to [0, 1]).
struct Normalization {
  std::vector<float> mean, stddev;
};
Normalization normalization_of(const data::ImageSet& set);

/// Images `indices` of `set` as a normalized float tensor N x C x H x W and their labels.
std::pair<torch::Tensor, torch::Tensor> batch_of(const data::ImageSet& set,
                                                 const std::vector<std::size_t>& indices,
                                                 const Normalization& norm);

/// Top-1 accuracy (0..1) of `model` on the images `indices` of `set` (all when empty).
double accuracy(IrNet& model, const data::ImageSet& set, const Normalization& norm,
                std::vector<std::size_t> indices = {}, int batch_size = 100);

/// Top-1 accuracy (0..1) and mean cross-entropy (no label smoothing) of `model` on the images
/// `indices` of `set` (all when empty).
struct Evaluation {
  double accuracy = 0, loss = 0;
};
Evaluation evaluate(IrNet& model, const data::ImageSet& set, const Normalization& norm,
                    std::vector<std::size_t> indices = {}, int batch_size = 100);

/// Sets every conv and fc input range from the first `images` (at least one) of `order` in
/// `set`, run through the float network (IrNetImpl::Mode::kCalibrate), and leaves the model
/// in Mode::kQuantized: where quantization-aware training starts.
void calibrate(IrNet& model, const data::ImageSet& set, const Normalization& norm,
               const std::vector<std::size_t>& order, std::size_t images, int batch_size);

/// Throws core::InputError when `net`'s input or class count does not fit `ds`'s images.
void check_fits(const ir::Network& net, const data::DataSet& ds);

/// Trains `model` on `ds` (float epochs, then optional quantization-aware ones, see
/// IrNetImpl::Mode) and reports validation and test accuracy at float and at the bits. With no
/// epochs or steps at all it only measures the model as it is. Checks that
/// the network's input and class count fit the data (core::InputError otherwise). Same seed, same
/// threads: same result.
TrainResult train(IrNet& model, const data::DataSet& ds, const TrainOptions& options,
                  const std::function<void(const Progress&)>& progress = {});

}  // namespace hao::nn
