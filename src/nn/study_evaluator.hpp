// The study evaluator of generative spaces (search::Mbv2Domain): each candidate's accelerator is
// program 1's optimal dataflow design (free, exact); its accuracy is a short training on a
// subset judged on the validation split, followed by each layer's measured quantization
// sensitivity; the finalists are fine-tuned with quantization-aware training and tested.
#pragma once

#include <memory>
#include <string>

#include "data/images.hpp"
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
  double qat_lr_fraction = 0.02;  ///< QAT's peak learning rate, a fraction of the float one
  std::size_t calibration_images = 512;  ///< images that set activation ranges before QAT
  int sensitivity_probes = 8;            ///< Fisher probes per candidate
  int sensitivity_batch = 128;           ///< images of the one batch they are taken over
  unsigned seed = 1;  ///< initialization (+ the candidate's index) and the validation split
  int threads = 0;    ///< 0: all cores
  std::string checkpoint_dir;  ///< each candidate's trained weights go here
  std::string device;          ///< the device as the user named it, kept with the study
  /// InputError naming the option; `where` prefixes it (e.g. "hao search").
  void validate(const std::string& where = "training evaluator") const;
};

class TrainingEvaluator : public search::Evaluator {
 public:
  /// Loads the space's data set; InputError when it is missing.
  TrainingEvaluator(const search::Mbv2Domain& domain, TrainingEvaluatorOptions options);
  ~TrainingEvaluator() override;

  /// "device", "training" {train_steps, subset, validation, qat_steps, finalists,
  /// final_qat_steps, qat_lr_fraction}, and the calibration and sensitivity sizes when they
  /// are not the defaults (studies stored before they were options repeat those).
  nlohmann::ordered_json settings(int finalists) const override;
  std::string metric() const override { return "val acc"; }
  void evaluate(const search::Candidate& c, store::EvaluationRecord& record) override;
  double objective_ms(const store::EvaluationRecord& record) const override;
  bool has_final() const override { return true; }
  nlohmann::json finalize(const store::EvaluationRecord& record) override;

 private:
  /// What the candidates' and the finalists' trainings share.
  TrainOptions train_options() const;

  const search::Mbv2Domain& domain_;
  TrainingEvaluatorOptions options_;
  std::unique_ptr<data::DataSet> data_;
};

}  // namespace hao::nn
