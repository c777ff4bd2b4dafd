// Training a supernet once for all its members (the sandwich rule with in-place distillation,
// as Once-for-All's and BigNAS's trainers do) and judging a member with inherited weights.
#pragma once

#include <functional>
#include <random>

#include "data/images.hpp"
#include "nn/supernet.hpp"
#include "nn/train.hpp"

namespace hao::nn {

/// Draws a member of the supernet's family (e.g. an mbv2 space's random genotype's network).
using MemberSampler = std::function<ir::Network(std::mt19937_64&)>;

/// How a step trains the members: the sandwich rule (the largest on the labels, then the
/// smallest and `random_members` drawn ones; Once-for-All, BigNAS), single-path (one member
/// drawn uniformly per step, its gradient alone: SPOS, as HURRICANE trains its supernet), or
/// ordered dropout (NetAdaptV2: every example of the batch through its own member, in one
/// forward-backward pass: example k through member k mod (2 + random_members) of the step's
/// largest, smallest and `random_members` drawn ones. NetAdaptV2 draws a member per example;
/// here each batch norm sees a group of a member's examples, not single images).
enum class SupernetMode { kSandwich, kSinglePath, kOrderedDropout };
/// "sandwich", "single-path" or "ordered-dropout"; InputError naming `what` otherwise.
SupernetMode parse_supernet_mode(const std::string& name, const std::string& what = "--mode");
std::string supernet_mode_name(SupernetMode mode);

struct SupernetTrainOptions {
  SupernetMode mode = SupernetMode::kSandwich;
  long steps = 300;  ///< float steps
  /// Then this many quantization-aware steps: the ranges calibrated at each of the supernet's
  /// act_bits, every member at its own bits (the sampler's draws carry the space's bit choices),
  /// each step's gradient clipped to norm 10.
  long qat_steps = 0;
  double qat_lr_fraction = 0.1;          ///< their peak learning rate, a fraction of lr
  std::size_t calibration_images = 512;  ///< images that set the ranges before them
  int batch_size = 64;
  int random_members = 2;  ///< members drawn per step besides the largest and the smallest
  double lr = 0.05;        ///< SGD (momentum 0.9, Nesterov), cosine decay to zero
  double weight_decay = 4e-5;
  double label_smoothing = 0.1;  ///< every loss on the labels
  /// The other members' loss: this share on the largest member's soft labels (in-place
  /// distillation, as Once-for-All and BigNAS train for hundreds of epochs), the rest on the
  /// labels. In a few hundred steps the largest is a weak teacher: on the labels alone the
  /// members judge 6 points closer to their standalone trainings (docs/benchmarks.md).
  double distillation = 0;
  unsigned seed = 1;  ///< initialization, shuffling, members drawn, validation split
  std::size_t validation = 5000;
  std::size_t subset = 0;  ///< > 0: train on this many images only
  int threads = 0;         ///< 0: all cores (use_threads)
};

struct SupernetTrainResult {
  long steps = 0, qat_steps = 0;
  double seconds = 0;
  double images_per_s = 0;  ///< batches' images (through every member of a step) per second
  double final_loss = 0;    ///< the largest member's, mean over the last 20 steps
  /// After recalibration; at their bits after a quantization-aware phase.
  double largest_val_accuracy = 0, smallest_val_accuracy = 0;
};

/// Trains `net` on `ds`: per step one batch through the largest member on the labels, then the
/// smallest and `random_members` sampled ones (on the labels and, `distillation`, on the
/// largest's soft labels), their gradients accumulated into one SGD step (single-path: one
/// sampled member on the labels per step); the float steps, then the
/// quantization-aware ones. Same seed and threads, same weights. Throws core::InputError when
/// the networks do not fit the data. `progress` gets the step (counting both phases), the
/// total and the largest member's loss.
SupernetTrainResult train_supernet(
    Supernet& net, const ir::Network& smallest, const MemberSampler& sample,
    const data::DataSet& ds, const SupernetTrainOptions& options,
    const std::function<void(long step, long steps, double loss)>& progress = {});

/// The images a trained supernet's members are judged on: batch norms re-estimated on the
/// first `recalibrate` training images of the training's split, accuracy on its validation
/// images.
struct JudgeImages {
  std::vector<std::size_t> recalibrate, judge;
  Normalization norm;
};
JudgeImages judge_images(const data::DataSet& ds, const SupernetTrainOptions& training,
                         std::size_t recalibrate = 1000);

/// `member` extracted (Supernet::extract) with its batch norms' statistics re-estimated on
/// images `recalibrate` of `set` in float (the shared statistics are left as they were: a
/// member's own mix of channels has its own statistics), in the supernet's mode; in kQuantized
/// its input ranges are also set on those images (kCalibrate), as hao train sets them before
/// quantization-aware training.
IrNet recalibrated_member(const Supernet& net, const ir::Network& member, const data::ImageSet& set,
                          const Normalization& norm, const std::vector<std::size_t>& recalibrate,
                          int batch_size = 100);

/// recalibrated_member's top-1 accuracy on images `judge` of `set` (at the member's bits when
/// the supernet is in kQuantized).
double member_accuracy(const Supernet& net, const ir::Network& member, const data::ImageSet& set,
                       const Normalization& norm, const std::vector<std::size_t>& recalibrate,
                       const std::vector<std::size_t>& judge, int batch_size = 100);

}  // namespace hao::nn
