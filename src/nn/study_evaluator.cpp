#include "nn/study_evaluator.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>

#include "core/error.hpp"
#include "core/fnv1a.hpp"
#include "ir/bits.hpp"
#include "nn/sensitivity.hpp"
#include "nn/train.hpp"

namespace hao::nn {
namespace {

/// An exclusive lock on `path` (created when absent) for as long as it lives: workers that
/// start together train a missing supernet once, the others waiting and then loading it.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ < 0) throw core::InputError(path + ": cannot create the lock file");
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) throw core::InputError(path + ": cannot lock");
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr std::size_t kDefaultCalibrationImages = 512;
constexpr int kDefaultProbes = 8, kDefaultProbeBatch = 128;

/// `j[key]` when `j` is an object holding a value of T's kind there (a number for double), else
/// nothing: what the supernet memo holds may be another hao's or edited.
template <class T>
std::optional<T> kept_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  const nlohmann::json& v = j.at(key);
  bool fits = false;
  if constexpr (std::is_same_v<T, bool>)
    fits = v.is_boolean();
  else if constexpr (std::is_same_v<T, std::string>)
    fits = v.is_string();
  else
    fits = v.is_number();
  return fits ? std::optional<T>(v.get<T>()) : std::nullopt;
}

}  // namespace

double Mbv2Evaluator::objective_ms(const store::EvaluationRecord& r) const {
  return search::frame_interval_ms(r);
}

bool Mbv2Evaluator::record_hardware(const search::Genotype& g, store::EvaluationRecord& r,
                                    double& seconds) const {
  const auto th = Clock::now();
  const search::Hardware h = domain_.hardware(g);
  seconds = seconds_since(th);
  r.bits = ir::bits_summary(domain_.network(g));
  nlohmann::json hw;
  if (domain_.target_name() != "dataflow") hw["target"] = domain_.target_name();
  if (domain_.target_name() != "cpu")  // a design on the device, by program 1 or 2
    hw["device"] = domain_.device().name, hw["ilp_seconds"] = h.stats.seconds;
  r.hardware = hw.dump();
  if (!h.feasible) {
    r.accuracy = 0;
    r.latency_ms = search::kInfeasibleMs;
    r.extra = nlohmann::json{{"infeasible", h.reason}}.dump();
    return false;
  }
  r.latency_ms = h.latency_ms;
  r.fps = h.fps;
  r.dsp = h.resources.dsp, r.lut = h.resources.lut, r.bram36 = h.resources.bram36;
  return true;
}

void Mbv2Evaluator::add_map_settings(nlohmann::ordered_json& settings) const {
  if (domain_.target_name() != "dataflow") settings["target"] = domain_.target_name();
  for (const auto& [key, value] : domain_.target().settings) settings[key] = value;
  if (const double limit = domain_.map_options().solve.time_limit_s;
      limit != search::kStudyIlpTimeLimitS)
    settings["ilp_time_limit_s"] = limit;
}

namespace {

std::string final_checkpoint(const std::string& dir, int index) {
  if (dir.empty()) return "";
  return (std::filesystem::path(dir) / ("final-" + std::to_string(index) + ".pt")).string();
}

}  // namespace

nlohmann::json Mbv2Evaluator::final_note(IrNet& model, const data::DataSet& ds,
                                         const TrainOptions& o, Clock::time_point t0,
                                         const std::string& checkpoint) {
  const bool tuned = o.qat_steps > 0 || o.steps > 0;
  const TrainResult t = tuned ? train(model, ds, o) : TrainResult{};
  nlohmann::json note{{"test_accuracy", tuned ? 100 * t.test_accuracy : 0.0},
                      {"val_accuracy", 100 * t.val_accuracy},
                      {"qat_steps", o.qat_steps}};
  if (o.steps > 0) note["float_steps"] = o.steps;
  if (tuned && !checkpoint.empty()) {
    std::filesystem::create_directories(std::filesystem::path(checkpoint).parent_path());
    save_checkpoint(model, checkpoint);
    note["checkpoint"] = checkpoint;
  }
  note["seconds"] = seconds_since(t0);
  return note;
}

void TrainingEvaluatorOptions::validate(const std::string& where) const {
  core::IssueList issues(where);
  if (train_steps < 1) issues.add("--train-steps", std::to_string(train_steps) + ", expected >= 1");
  if (qat_steps < 0) issues.add("--qat-steps", std::to_string(qat_steps) + ", expected >= 0");
  if (final_qat_steps < 0)
    issues.add("--final-qat-steps", std::to_string(final_qat_steps) + ", expected >= 0");
  if (final_steps < 0) issues.add("--final-steps", std::to_string(final_steps) + ", expected >= 0");
  if (subset < 1) issues.add("--subset", "expected >= 1");
  if (calibration_images < 1) issues.add("--calibration-images", "expected >= 1");
  if (sensitivity_probes < 1) issues.add("--sensitivity-probes", "expected >= 1");
  if (sensitivity_batch < 1) issues.add("--sensitivity-batch", "expected >= 1");
  if (threads < 0) issues.add("--threads", std::to_string(threads) + ", expected >= 0");
  issues.throw_if_any();
}

TrainingEvaluator::TrainingEvaluator(const search::NetworkDomain& domain,
                                     TrainingEvaluatorOptions options)
    : Mbv2Evaluator(domain), options_(std::move(options)) {
  options_.validate();
  options_.threads = thread_count(options_.threads);
  data_ = std::make_unique<data::DataSet>(data::load_dataset(domain_.data()));
  if (!options_.checkpoint_dir.empty())
    std::filesystem::create_directories(options_.checkpoint_dir);
}

TrainingEvaluator::~TrainingEvaluator() = default;

nlohmann::ordered_json TrainingEvaluator::settings(int finalists) const {
  const auto& o = options_;
  nlohmann::ordered_json training{{"train_steps", o.train_steps},
                                  {"subset", o.subset},
                                  {"validation", o.validation},
                                  {"qat_steps", o.qat_steps},
                                  {"finalists", finalists},
                                  {"final_qat_steps", o.final_qat_steps},
                                  {"qat_lr_fraction", o.qat_lr_fraction}};
  if (o.final_steps > 0) training["final_steps"] = o.final_steps;
  if (o.calibration_images != kDefaultCalibrationImages)
    training["calibration_images"] = o.calibration_images;
  if (o.sensitivity_probes != kDefaultProbes) training["sensitivity_probes"] = o.sensitivity_probes;
  if (o.sensitivity_batch != kDefaultProbeBatch)
    training["sensitivity_batch"] = o.sensitivity_batch;
  nlohmann::ordered_json s{{"device", o.device}, {"training", training}};
  add_map_settings(s);
  return s;
}

TrainOptions TrainingEvaluator::train_options() const {
  TrainOptions o;
  o.subset = options_.subset;
  o.validation = options_.validation;
  o.qat_lr_fraction = options_.qat_lr_fraction;
  o.threads = options_.threads;
  o.seed = options_.seed;  // one validation split for every candidate
  o.float_validation = false;
  o.calibration_images = options_.calibration_images;
  return o;
}

void TrainingEvaluator::evaluate(const search::Candidate& c, store::EvaluationRecord& r) {
  double hardware_s = 0;
  if (!record_hardware(c.genotype, r, hardware_s)) return;

  seed_torch(options_.seed + static_cast<unsigned>(c.index));
  IrNet model(with_training_norms(
      domain_.network(c.genotype, "candidate" + std::to_string(c.index)), TrainingNorms::kAuto));
  TrainOptions o = train_options();
  o.steps = options_.train_steps;
  o.qat_steps = options_.qat_steps;
  o.test = false;
  const TrainResult t = train(model, *data_, o);
  const std::string checkpoint =
      (std::filesystem::path(options_.checkpoint_dir) / ("eval-" + std::to_string(c.index) + ".pt"))
          .string();
  save_checkpoint(model, checkpoint);
  r.accuracy = 100 * t.val_accuracy;

  nlohmann::json extra{
      {"checkpoint", checkpoint},     {"float_val_accuracy", 100 * t.float_val_accuracy},
      {"train_seconds", t.seconds},   {"images_per_s", t.images_per_s},
      {"ask_seconds", c.ask_seconds}, {"hardware_seconds", hardware_s},
      {"ask_source", c.ask_source}};
  if (options_.measure_sensitivity) {
    // The predictor's sensitivity features: per weighted layer, Omega of its weights and inputs
    // at each bit choice, with the Fisher information (never negative; briefly trained networks
    // are far from a minimum, where Hessian traces often are).
    const auto ts = Clock::now();
    SensitivityOptions sens;
    sens.curvature = Curvature::Fisher;
    sens.batches = 1, sens.batch_size = options_.sensitivity_batch;
    sens.min_iterations = sens.max_iterations = options_.sensitivity_probes;
    sens.bits = domain_.bit_choices();
    sens.seed = options_.seed;
    sens.threads = options_.threads;
    const SensitivityResult sr = layer_sensitivity(model, *data_, sens);
    nlohmann::json omega = nlohmann::json::object();
    for (const auto& l : sr.layers)
      for (std::size_t k = 0; k < sens.bits.size(); ++k)
        omega[model->network().layers[l.layer].name][std::to_string(sens.bits[k])] =
            l.omega[k] + l.omega_act[k];
    extra["sensitivity"] = omega;
    extra["sensitivity_probes"] = sr.iterations;
    extra["sensitivity_seconds"] = seconds_since(ts);
  }
  r.extra = extra.dump();
}

nlohmann::json TrainingEvaluator::finalize(const store::EvaluationRecord& r) {
  const auto t0 = Clock::now();
  const search::Genotype g =
      search::parse_code(r.genotype, "evaluation " + std::to_string(r.index));
  seed_torch(options_.seed);
  IrNet model(with_training_norms(domain_.network(g, "candidate" + std::to_string(r.index)),
                                  TrainingNorms::kAuto));
  load_checkpoint(model, nlohmann::json::parse(r.extra).at("checkpoint"));
  TrainOptions o = train_options();
  o.epochs = 0;
  o.steps = options_.final_steps;
  o.qat_steps = options_.final_qat_steps;
  o.float_test = false;
  return final_note(model, *data_, o, t0, final_checkpoint(options_.checkpoint_dir, r.index));
}

void SupernetEvaluatorOptions::validate(const std::string& where) const {
  core::IssueList issues(where);
  if (training.steps < 1)
    issues.add("--supernet-steps", std::to_string(training.steps) + ", expected >= 1");
  if (training.qat_steps < 0)
    issues.add("--supernet-qat-steps", std::to_string(training.qat_steps) + ", expected >= 0");
  if (training.validation < 1) issues.add("--validation", "expected >= 1");
  if (recalibration_images < 1) issues.add("--recalibration-images", "expected >= 1");
  if (final_qat_steps < 0)
    issues.add("--final-qat-steps", std::to_string(final_qat_steps) + ", expected >= 0");
  if (final_steps < 0) issues.add("--final-steps", std::to_string(final_steps) + ", expected >= 0");
  if (threads < 0) issues.add("--threads", std::to_string(threads) + ", expected >= 0");
  issues.throw_if_any();
}

std::string SupernetEvaluatorOptions::supernet_path(const search::Mbv2Spec& spec) const {
  if (!supernet_file.empty()) return supernet_file;
  return (std::filesystem::path(supernet_dir) / supernet_file_name(spec, training)).string();
}

std::string supernet_file_name(const search::Mbv2Spec& spec, const SupernetTrainOptions& t) {
  return "supernet-" +
         core::Fnv1a().add(space_signature(spec) + "|" + training_json(t).dump()).hex() + ".pt";
}

SupernetEvaluator::SupernetEvaluator(const search::Mbv2Domain& domain,
                                     SupernetEvaluatorOptions options)
    : Mbv2Evaluator(domain), mbv2_(domain), options_(std::move(options)) {
  options_.validate();
  options_.threads = thread_count(options_.threads);
  options_.training.threads = options_.threads;
  use_threads(options_.threads);
  data_ = std::make_unique<data::DataSet>(data::load_dataset(domain_.data()));
  path_ = options_.supernet_path(mbv2_.spec());
  if (!options_.supernet_file.empty()) {
    net_ = space_supernet(mbv2_);
    info_ = load_supernet(net_, mbv2_, path_);
    const int threads = options_.training.threads;
    options_.training = training_from_json(info_.training, path_);
    options_.training.threads = threads;
  } else {
    std::filesystem::create_directories(options_.supernet_dir.empty() ? "."
                                                                      : options_.supernet_dir);
    const FileLock only_one_trains(path_ + ".lock");
    if (std::filesystem::exists(path_)) {
      net_ = space_supernet(mbv2_);
      info_ = load_supernet(net_, mbv2_, path_);
    } else {
      info_ = train_and_save_supernet(mbv2_, *data_, options_.training, options_.space, path_,
                                      options_.progress);
      net_ = space_supernet(mbv2_);
      info_ = load_supernet(net_, mbv2_, path_);  // what a later study will load, exactly
      trained_ = true;
    }
  }
  images_ = judge_images(*data_, options_.training, options_.recalibration_images);
  if (!options_.memo_file.empty()) {
    const auto parent = std::filesystem::path(options_.memo_file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    memo_ = std::make_unique<SupernetMemo>(options_.memo_file);
    digest_ = file_digest(path_);
  }
}

// What else decides a judgement or a finalist's measurement besides the supernet's contents
// and the genotype (its bits included). The version is raised when the way hao computes either
// changes, so that an older hao's results are not taken for a newer one's.
constexpr int kMemoVersion = 1;

nlohmann::ordered_json SupernetEvaluator::judging_settings() const {
  return {{"version", kMemoVersion},
          {"data", domain_.data()},
          {"recalibration_images", options_.recalibration_images},
          {"threads", options_.threads}};
}

std::string SupernetEvaluator::judgement_prefix() const {
  return digest_ + "|" + judging_settings().dump() + "|";
}

std::string SupernetEvaluator::judgement_key(const std::string& genotype) const {
  return judgement_prefix() + genotype;
}

std::vector<std::string> SupernetEvaluator::known() const {
  if (!memo_) return {};
  const std::string prefix = judgement_prefix();
  std::vector<std::string> codes;
  for (const auto& key : memo_->keys("judgement", prefix))
    codes.push_back(key.substr(prefix.size()));
  return codes;
}

std::string SupernetEvaluator::finalist_key(const std::string& genotype) const {
  nlohmann::ordered_json settings = judging_settings();  // the export recalibrates as judging
  settings["final_steps"] = options_.final_steps;
  settings["final_qat_steps"] = options_.final_qat_steps;
  settings["qat_lr_fraction"] = options_.qat_lr_fraction;
  return digest_ + "|" + settings.dump() + "|" + genotype;
}

SupernetEvaluator::~SupernetEvaluator() = default;

nlohmann::ordered_json SupernetEvaluator::settings(int finalists) const {
  nlohmann::ordered_json s{{"device", options_.device},
                           {"evaluator", "supernet"},
                           {"supernet", training_json(options_.training)},
                           {"recalibration_images", options_.recalibration_images},
                           {"finalists", finalists},
                           {"final_qat_steps", options_.final_qat_steps},
                           {"qat_lr_fraction", options_.qat_lr_fraction}};
  if (options_.final_steps > 0) s["final_steps"] = options_.final_steps;
  add_map_settings(s);
  return s;
}

void SupernetEvaluator::evaluate(const search::Candidate& c, store::EvaluationRecord& r) {
  double hardware_s = 0;
  if (!record_hardware(c.genotype, r, hardware_s)) return;
  nlohmann::json extra{{"evaluator", "supernet"}};
  const std::string key = memo_ ? judgement_key(r.genotype) : "";
  const auto kept = memo_ ? memo_->find("judgement", key) : std::nullopt;
  // A value that is not what this evaluator writes (another hao's, edited) is computed again.
  if (const auto accuracy = kept ? kept_field<double>(*kept, "val_accuracy") : std::nullopt) {
    r.accuracy = 100 * *accuracy;
    extra["quantized"] = kept_field<bool>(*kept, "quantized").value_or(false);
    extra["judge_seconds"] = 0.0;
    extra["reused"] = true;  // judged by an earlier study on this supernet
  } else {
    const MemberJudgement j = judge_member(net_, info_, mbv2_, c.genotype, *data_, images_);
    r.accuracy = 100 * j.val_accuracy;
    extra["quantized"] = j.quantized;
    extra["judge_seconds"] = j.seconds;
    if (memo_)
      memo_->put(
          "judgement", key,
          {{"val_accuracy", j.val_accuracy}, {"quantized", j.quantized}, {"seconds", j.seconds}});
  }
  extra["ask_seconds"] = c.ask_seconds;
  extra["hardware_seconds"] = hardware_s;
  extra["ask_source"] = c.ask_source;
  r.extra = extra.dump();
}

nlohmann::json SupernetEvaluator::finalize(const store::EvaluationRecord& r) {
  const auto t0 = Clock::now();
  const std::string checkpoint = final_checkpoint(options_.checkpoint_dir, r.index);
  const std::string key = memo_ ? finalist_key(r.genotype) : "";
  if (auto kept = memo_ ? memo_->find("finalist", key) : std::nullopt;
      kept && kept_field<double>(*kept, "test_accuracy")) {
    // Its fine-tuned weights come along when this study keeps checkpoints; without them (the
    // earlier study's folder removed) it is fine-tuned again.
    const std::string from = kept_field<std::string>(*kept, "checkpoint").value_or("");
    std::error_code ec;
    if (!checkpoint.empty()) {
      if (from.empty() || !std::filesystem::exists(from, ec)) {
        ec = std::make_error_code(std::errc::no_such_file_or_directory);
      } else if (from != checkpoint) {
        std::filesystem::create_directories(std::filesystem::path(checkpoint).parent_path(), ec);
        std::filesystem::copy_file(from, checkpoint,
                                   std::filesystem::copy_options::overwrite_existing, ec);
      }
    }
    if (!ec) {
      nlohmann::json note = *kept;
      if (checkpoint.empty())
        note.erase("checkpoint");
      else
        note["checkpoint"] = checkpoint;
      note["computed_seconds"] = kept_field<double>(*kept, "seconds").value_or(0.0);
      note["reused"] = true;  // measured by an earlier study on this supernet
      note["seconds"] = seconds_since(t0);
      return note;
    }
  }
  const search::Genotype g =
      search::parse_code(r.genotype, "evaluation " + std::to_string(r.index));
  seed_torch(options_.training.seed);
  IrNet model =
      export_member(net_, mbv2_, g, "candidate" + std::to_string(r.index), *data_, images_);
  TrainOptions o;
  o.epochs = 0;
  o.steps = options_.final_steps;
  o.qat_steps = options_.final_qat_steps;
  o.validation = options_.training.validation;  // the supernet's split: no judging image trains
  o.seed = options_.training.seed;
  o.subset = options_.training.subset;
  o.qat_lr_fraction = options_.qat_lr_fraction;
  o.threads = options_.threads;
  o.float_test = false;
  o.float_validation = false;
  nlohmann::json note = final_note(model, *data_, o, t0, checkpoint);
  if (memo_) {
    nlohmann::json kept = note;  // its checkpoint found from any working directory
    if (kept.contains("checkpoint"))
      kept["checkpoint"] =
          std::filesystem::absolute(kept["checkpoint"].get<std::string>()).string();
    memo_->put("finalist", key, kept);
  }
  return note;
}

}  // namespace hao::nn
