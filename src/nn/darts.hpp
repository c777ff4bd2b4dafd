// Latency-aware DARTS (Xu et al., arXiv 2001.06392) on the NAS-Bench-201 cell: every edge of
// the cell a softmax(alpha)-weighted mix of its five operators, one alpha table shared by every
// cell of NAS-Bench-201's macro network; weights and alphas trained in alternate first-order
// steps on two halves of the training images; the alphas' loss the cross-entropy plus lambda
// times a frozen latency MLP's predicted log latency of softmax(alpha); the cell derived by
// keeping each edge's strongest operator.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/images.hpp"
#include "ir/network.hpp"
#include "nn/profile.hpp"
#include "nn/train.hpp"
#include "predict/mlp_regressor.hpp"
#include "search/pareto.hpp"

namespace hao::nn {

struct DartsOptions {
  int cells_per_stage = 1;  ///< of the search network (DARTS searches a shallower one)
  int width = 16;           ///< the first stage's channels (then x2, x4)
  long steps = 600;         ///< alpha steps, each followed by a weight step
  /// Weight steps before the alphas move (the operators' weights first learn something;
  /// parameter-free ones otherwise win the first steps).
  long warmup_steps = 0;
  int batch_size = 64;
  double lr = 0.025;  ///< weights: SGD momentum 0.9, cosine decay to lr / 25
  double weight_decay = 3e-4;
  double alpha_lr = 3e-3;  ///< alphas: Adam, betas (0.5, 0.999)
  double alpha_weight_decay = 1e-3;
  double lambda = 0;       ///< weight of the predicted log latency (ms) in the alphas' loss; >= 0
  unsigned seed = 1;       ///< initialization, shuffling and the split into the two halves
  std::size_t subset = 0;  ///< > 0: search on this many training images (both halves)
  int threads = 0;         ///< 0: all cores (use_threads)
  /// The cell's derivation. False: each edge's strongest operator other than `none`, as DARTS
  /// derives (Liu et al. 2019 leave the zero operation out). True: NAS-Bench-201's, `none`
  /// included, derived again without it when that cuts the cell.
  bool keep_none = false;
};

/// A NAS-Bench-201 cell's alphas, edge by edge (arch_str order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1,
/// 3<-2), operator by operator (none, skip, conv 1x1, conv 3x3, avg pool 3x3).
using DartsAlphas = std::array<std::array<double, 5>, 6>;

/// The search at one point: what the progress display and the trace show.
struct DartsPoint {
  long step = 0;
  double weight_loss = 0;  ///< mean cross-entropy of the weight steps since the last point
  double alpha_loss = 0;   ///< mean cross-entropy of the alpha steps (without the latency term)
  double expected_ms = 0;  ///< the MLP's latency of softmax(alpha) (0 without an MLP)
  std::string genotype;    ///< derived at this point
};

struct DartsResult {
  DartsAlphas alpha{};    ///< the learned alphas
  DartsAlphas weights{};  ///< their softmax per edge
  std::string genotype;   ///< the derived cell (NAS-Bench-201 arch_str)
  std::string with_none;  ///< each edge's strongest operator, `none` included
  /// `none` was the strongest operator of an edge and the derivation left it out (always
  /// without keep_none; with it, when the strongest operators cut the cell).
  bool none_excluded = false;
  double predicted_ms = 0;  ///< the MLP's latency of the derived cell (0 without an MLP)
  std::vector<DartsPoint> trace;
  double seconds = 0;
  double images_per_s = 0;  ///< images through the network (both steps) per second
};

/// The cell of each edge's largest alpha; with `exclude_none`, among the other four.
std::string derive_nb201(const DartsAlphas& alpha, bool exclude_none);

/// Throws core::InputError (naming `where`) unless `mlp` reads the NAS-Bench-201 one-hot
/// encoding (hao calibrate --kind mlp --space nb201 --encoding onehot): DARTS feeds it
/// softmax(alpha) in place of the one-hots.
void check_darts_latency_model(const predict::MlpRegressor& mlp, const std::string& where);

/// Runs the search on `ds`'s training images. `latency` (may be null when lambda is 0) is the
/// frozen regressor of the latency term. `progress` gets a point every steps / 50 steps.
/// Throws core::InputError for lambda < 0, lambda > 0 without a model, a model on another
/// encoding, or too few images for a batch per half. Same seed and threads: same result.
DartsResult search_darts(const data::DataSet& ds, const DartsOptions& options,
                         const predict::MlpRegressor* latency,
                         const std::function<void(const DartsPoint&, long steps)>& progress = {});

/// `hao darts`: a search per lambda (same seed), then each derived cell in NAS-Bench-201's
/// macro network (five cells per stage, live edges only, for the data set's images) trained
/// standalone and its batch-1 latency measured on the host CPU.
struct DartsSweepOptions {
  DartsOptions search;
  std::vector<double> lambdas = {0};
  bool train = true;
  TrainOptions training;
  ProfileOptions profile;
};
struct DartsOutcome {
  double lambda = 0;
  DartsResult search;
  ir::Network network;  ///< the derived cell's standalone network
  bool trained = false;
  TrainResult training;
  /// Why the standalone training stopped (core::RunFailure's message, e.g. a loss gone NaN);
  /// empty when it ran. The sweep goes on with the next lambda either way.
  std::string training_failure;
  ProfileResult host;
};
struct DartsProgress {
  std::function<void(std::size_t run, const DartsPoint&, long steps)> search;
  std::function<void(std::size_t run, const Progress&)> training;
};
/// Throws core::InputError for what run_darts would refuse before its first search: no lambda,
/// a lambda below 0 or one above 0 without `latency`, a model on another encoding.
void check_darts_sweep(const DartsSweepOptions& options, const predict::MlpRegressor* latency);
std::vector<DartsOutcome> run_darts(const data::DataSet& ds, const DartsSweepOptions& options,
                                    const predict::MlpRegressor* latency,
                                    const DartsProgress& progress = {});

/// The sweep's pick: the lambda-0 run as the reference, the other runs in lambda order as the
/// sweep, each at (latency_ms[i], its validation accuracy in percent; an untrained run never
/// qualifies), chosen by search::first_faster_within(faster, within).
struct DartsPick {
  search::Objectives reference;
  std::optional<std::size_t> chosen;  ///< index into the outcomes; none when no lambda meets it
  search::Objectives at;              ///< the chosen run's point
};
/// nullopt without a trained lambda-0 run or with a single run.
std::optional<DartsPick> pick_darts_lambda(const std::vector<DartsOutcome>& outcomes,
                                           const std::vector<double>& latency_ms, double faster,
                                           double within);

}  // namespace hao::nn
