// The study evaluators of generative spaces (search::NetworkDomain): each candidate's accelerator
// is program 1's optimal dataflow design (free, exact). Its accuracy is either judged on the
// space's weight-sharing supernet, trained once and kept for later studies (SupernetEvaluator,
// about a second per candidate at its bits), or a short training from scratch on a subset
// followed by each layer's measured quantization sensitivity (TrainingEvaluator). Either way
// the finalists are fine-tuned with quantization-aware training and tested.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "data/images.hpp"
#include "nn/space_supernet.hpp"
#include "nn/supernet_memo.hpp"
#include "nn/train.hpp"
#include "search/mbv2_domain.hpp"
#include "search/study.hpp"

namespace hao::nn {

struct TrainingEvaluatorOptions {
  long train_steps = 120;         ///< float batches per candidate
  std::size_t subset = 12000;     ///< training images per candidate
  std::size_t validation = 1000;  ///< held-out training images that decide
  long qat_steps = 0;             ///< quantization-aware batches per candidate (0: judged in float)
  long final_qat_steps = 40;      ///< quantization-aware batches per finalist
  long final_steps = 0;           ///< float batches per finalist before those
  double qat_lr_fraction = 0.02;  ///< QAT's peak learning rate, a fraction of the float one
  std::size_t calibration_images = 512;  ///< images that set activation ranges before QAT
  int sensitivity_probes = 8;            ///< Fisher probes per candidate
  /// false: no probes (search::strategy_reads_sensitivity: only the hao strategy's predictor
  /// reads them; autoshrink spent 43 s of a 917-s search on them). Not a study setting: a
  /// resumed study's records carry them or not, as its strategy reads them.
  bool measure_sensitivity = true;
  int sensitivity_batch = 128;  ///< images of the one batch they are taken over
  unsigned seed = 1;  ///< initialization (+ the candidate's index) and the validation split
  int threads = 0;    ///< 0: all cores
  std::string checkpoint_dir;  ///< each candidate's trained weights go here
  std::string device;          ///< the device as the user named it, kept with the study
  /// InputError naming the option; `where` prefixes it (e.g. "hao search").
  void validate(const std::string& where = "training evaluator") const;
};

/// What the evaluators of generative spaces share: program 1's design per candidate, the frame
/// interval as the objective, quantization-aware fine-tuning and the test set per finalist.
class Mbv2Evaluator : public search::Evaluator {
 public:
  std::string metric() const override { return "val acc"; }
  double objective_ms(const store::EvaluationRecord& record) const override;
  bool has_final() const override { return true; }

 protected:
  explicit Mbv2Evaluator(const search::NetworkDomain& domain) : domain_(domain) {}
  /// Program 1's design for `g` into `record` (bits, hardware, latency, fps, resources); false,
  /// with the record marked infeasible, when nothing fits. `seconds` gets the time it took.
  bool record_hardware(const search::Genotype& g, store::EvaluationRecord& record,
                       double& seconds) const;
  /// "ilp_time_limit_s" into `settings` when the study's is not the default; "target" when it
  /// is not program 1's dataflow design (a study for the CPU is another study).
  void add_map_settings(nlohmann::ordered_json& settings) const;
  /// The final measurement: `model` trained with `o` (its quantization-aware steps; none:
  /// nothing measured), its validation and test accuracy in percent, and the time since `t0`.
  /// The trained model is kept in `checkpoint` (when not empty), named in the note: the
  /// report exports the chosen design from it (hao export).
  static nlohmann::json final_note(IrNet& model, const data::DataSet& ds, const TrainOptions& o,
                                   std::chrono::steady_clock::time_point t0,
                                   const std::string& checkpoint);

  const search::NetworkDomain& domain_;
};

class TrainingEvaluator : public Mbv2Evaluator {
 public:
  /// Loads the space's data set; InputError when it is missing.
  TrainingEvaluator(const search::NetworkDomain& domain, TrainingEvaluatorOptions options);
  ~TrainingEvaluator() override;

  /// "device", "training" {train_steps, subset, validation, qat_steps, finalists,
  /// final_qat_steps, qat_lr_fraction}, and the calibration and sensitivity sizes when they
  /// are not the defaults (studies stored before they were options repeat those).
  nlohmann::ordered_json settings(int finalists) const override;
  void evaluate(const search::Candidate& c, store::EvaluationRecord& record) override;
  nlohmann::json finalize(const store::EvaluationRecord& record) override;

 private:
  /// What the candidates' and the finalists' trainings share.
  TrainOptions train_options() const;

  TrainingEvaluatorOptions options_;
  std::unique_ptr<data::DataSet> data_;
};

struct SupernetEvaluatorOptions {
  SupernetTrainOptions training;           ///< the supernet's (validation: the judging images)
  std::size_t recalibration_images = 500;  ///< per candidate, for its batch norms
  long final_qat_steps = 40;               ///< quantization-aware batches per finalist
  /// Float batches per finalist before those, from its inherited weights at the float learning
  /// rate (0.1, warm-up and cosine): the supernet's slice is a start, not a trained network
  /// (the default search's frontier tested at 71-75% without them, 83-85% with 120).
  long final_steps = 120;
  double qat_lr_fraction = 0.02;  ///< their peak learning rate, a fraction of 0.1
  int threads = 0;                ///< 0: all cores
  /// Where trained supernets are kept, one file per (space, data, training settings): a later
  /// study with the same ones loads it instead of training.
  std::string supernet_dir;
  /// A supernet trained beforehand (hao supernet train) instead: its training settings replace
  /// `training`'s; InputError when it is another space's.
  std::string supernet_file;
  std::string device;  ///< the device as the user named it, kept with the study
  std::string space;   ///< the space's name, kept in the supernet's checkpoint
  /// Where the finalists' fine-tuned checkpoints go (final-N.pt); empty: not kept.
  std::string checkpoint_dir;
  /// The supernet memo (SupernetMemo) that keeps each member's judgement and each finalist's
  /// measurement for the supernet's file contents and these settings; a later study takes them
  /// from it instead of computing them again. Empty: nothing kept, everything computed.
  std::string memo_file;
  /// Reports the supernet's training, when it trains.
  std::function<void(long step, long steps, double loss)> progress;
  void validate(const std::string& where = "supernet evaluator") const;
  /// The supernet judged on: `supernet_file`, else the one kept for `spec` and `training` in
  /// `supernet_dir` (supernet_file_name).
  std::string supernet_path(const search::Mbv2Spec& spec) const;
};

class SupernetEvaluator : public Mbv2Evaluator {
 public:
  /// Loads the space's data set and the supernet kept for these settings, or trains and keeps
  /// it. InputError for missing data or a damaged kept supernet (naming the file).
  SupernetEvaluator(const search::Mbv2Domain& domain, SupernetEvaluatorOptions options);
  ~SupernetEvaluator() override;

  /// "device", "evaluator": "supernet", "supernet" (its training settings) and the judging and
  /// final settings.
  nlohmann::ordered_json settings(int finalists) const override;
  void evaluate(const search::Candidate& c, store::EvaluationRecord& record) override;
  /// The candidate exported from the supernet at its bits, fine-tuned quantization-aware on
  /// the supernet's training images, then tested.
  nlohmann::json finalize(const store::EvaluationRecord& record) override;
  /// The genotypes the memo holds judgements of for this supernet and judging settings.
  std::vector<std::string> known() const override;

  /// The file the supernet is kept in, and whether this evaluator trained it.
  const std::string& supernet_path() const { return path_; }
  bool trained_supernet() const { return trained_; }
  const SupernetInfo& supernet_info() const { return info_; }

 private:
  /// The memo's keys: the supernet's digest, what else decides the result, the genotype.
  nlohmann::ordered_json judging_settings() const;
  std::string judgement_prefix() const;
  std::string judgement_key(const std::string& genotype) const;
  std::string finalist_key(const std::string& genotype) const;
  const search::Mbv2Domain& mbv2_;  ///< the supernet is an mbv2 space's
  SupernetEvaluatorOptions options_;
  std::unique_ptr<data::DataSet> data_;
  Supernet net_{nullptr};
  SupernetInfo info_;
  JudgeImages images_;
  std::string path_;
  bool trained_ = false;
  std::unique_ptr<SupernetMemo> memo_;
  std::string digest_;  ///< file_digest(path_), when there is a memo
};

/// The file name a supernet of `spec` trained with `training` is kept under in a folder:
/// "supernet-" and a 64-bit hash of the space's signature and the settings, in hex.
std::string supernet_file_name(const search::Mbv2Spec& spec, const SupernetTrainOptions& training);

}  // namespace hao::nn
