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

struct SupernetTrainOptions {
  long steps = 300;
  int batch_size = 64;
  int random_members = 2;  ///< members drawn per step besides the largest and the smallest
  double lr = 0.05;        ///< SGD (momentum 0.9, Nesterov), cosine decay to zero
  double weight_decay = 4e-5;
  double label_smoothing = 0.1;  ///< the largest member's loss on the labels
  unsigned seed = 1;             ///< initialization, shuffling, members drawn, validation split
  std::size_t validation = 5000;
  std::size_t subset = 0;  ///< > 0: train on this many images only
  int threads = 0;         ///< 0: LibTorch's default
};

struct SupernetTrainResult {
  long steps = 0;
  double seconds = 0;
  double images_per_s = 0;  ///< images through the largest member per second
  double final_loss = 0;    ///< the largest member's, mean over the last 20 steps
  double largest_val_accuracy = 0, smallest_val_accuracy = 0;  ///< after recalibration
};

/// Trains `net` on `ds`: per step one batch through the largest member on the labels, then the
/// smallest and `random_members` sampled ones on the largest's soft labels (in-place
/// distillation), their gradients accumulated into one SGD step. Same seed and threads, same
/// weights. Throws core::InputError when the networks do not fit the data.
SupernetTrainResult train_supernet(
    Supernet& net, const ir::Network& smallest, const MemberSampler& sample,
    const data::DataSet& ds, const SupernetTrainOptions& options,
    const std::function<void(long step, double loss)>& progress = {});

/// `member`'s top-1 accuracy on images `judge` of `set`, with inherited weights and its batch
/// norms' statistics re-estimated on images `recalibrate` (the shared statistics are left as
/// they were: a member's own mix of channels has its own statistics).
double member_accuracy(const Supernet& net, const ir::Network& member, const data::ImageSet& set,
                       const Normalization& norm, const std::vector<std::size_t>& recalibrate,
                       const std::vector<std::size_t>& judge, int batch_size = 100);

}  // namespace hao::nn
