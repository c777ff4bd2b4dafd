#include "cli/supernet_command.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/device.hpp"
#include "search/mbv2_domain.hpp"
#include "search/space_spec.hpp"
#if HAO_HAS_TORCH
#include "nn/space_supernet.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {

namespace fs = std::filesystem;

namespace {

void add_space_option(CLI::App& cmd, std::string& space) {
  cmd.add_option("--space", space,
                 "A generative (kind mbv2) space: built-in fmnist-mbv2 or a YAML file (see "
                 "examples/spaces)")
      ->capture_default_str();
}

void add_member_options(CLI::App& cmd, SupernetArgs& a) {
  cmd.add_option("--checkpoint", a.checkpoint, "The supernet (hao supernet train --out)")
      ->required();
  cmd.add_option("--genotype", a.genotype,
                 "The network: its label as hao search prints it (e.g. "
                 "\"s0:d1,w1|k3e3b4;...;head:b8\"), or largest / smallest")
      ->required();
  cmd.add_option("--bits", a.bits,
                 "Every block's and the head's bits (one of the space's choices); default: the "
                 "genotype's");
  cmd.add_option("--recalibration-images", a.recalibration_images,
                 "Training images that re-estimate the network's batch norms (and set its input "
                 "ranges, at its bits); hao search judges on 500")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->capture_default_str();
}

}  // namespace

SupernetCommands add_supernet_command(CLI::App& app, SupernetArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "supernet",
      "The weight-sharing supernet of a generative space: one network, the space's largest, "
      "whose first channels, first blocks and kernel centres are every other network of the "
      "space (Once-for-All, NetAdaptV2's ordered channels). Trained once (the sandwich rule, "
      "then quantization-aware with each network at its bits), it "
      "judges any network of the space in about a second with inherited weights.");
  cmd->require_subcommand(1);
  SupernetCommands c;

  c.train = cmd->add_subcommand(
      "train",
      "Train the supernet: per step one batch through the largest network on the labels, the "
      "smallest and --random-members random ones on the labels (and, --distillation, on its "
      "soft labels), gradients accumulated (--mode single-path: one random network per step; "
      "--mode ordered-dropout: every image through its own network, in one pass); "
      "SGD (Nesterov), cosine decay. Then --qat-steps quantization-aware steps, each network "
      "at the bits it draws from the space's choices. Same seed and threads: same weights.");
  add_space_option(*c.train, a.space);
  c.train
      ->add_option("--mode", a.mode,
                   "sandwich (the largest, the smallest and --random-members random networks "
                   "each step: Once-for-All, BigNAS), single-path (one network drawn "
                   "uniformly each step: SPOS, as HURRICANE trains) or ordered-dropout (each "
                   "image of a batch through its own network in one forward-backward pass, the "
                   "largest, the smallest and random ones as 1 : 1 : --random-members: "
                   "NetAdaptV2)")
      ->check(CLI::IsMember({"sandwich", "single-path", "ordered-dropout"}))
      ->capture_default_str();
  c.train
      ->add_option("--steps", a.steps,
                   "Float steps (default: " + std::to_string(kSupernetSteps) +
                       " per operator of the space's largest operator pool, e.g. " +
                       std::to_string(kSupernetSteps) + " on fmnist-mbv2, " +
                       std::to_string(4 * kSupernetSteps) +
                       " on fmnist-mbv3: each operator has weights of its own, trained in its "
                       "share of the drawn networks' blocks)")
      ->check(CLI::Range(0L, 10000000L));
  c.train
      ->add_option("--epochs", a.epochs, "Float passes over the training images instead of --steps")
      ->check(positive_number());
  c.train
      ->add_option("--qat-steps", a.qat_steps,
                   "Quantization-aware steps after them (default: " +
                       std::to_string(kSupernetQatSteps) + " per operator, as --steps)")
      ->check(CLI::Range(0L, 10000000L));
  c.train->add_option("--batch-size", a.batch_size)
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  c.train
      ->add_option("--random-members", a.random_members,
                   "Random networks per step besides the largest and the smallest")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  c.train->add_option("--lr", a.lr, "Peak learning rate")
      ->check(positive_number())
      ->capture_default_str();
  c.train
      ->add_option("--qat-lr-fraction", a.qat_lr_fraction,
                   "The quantization-aware steps' peak learning rate, a fraction of --lr")
      ->check(CLI::Range(1e-4, 10.0))
      ->capture_default_str();
  c.train
      ->add_option("--distillation", a.distillation,
                   "The share of the other networks' loss on the largest's soft labels (in-place "
                   "distillation; 1: on them alone, as Once-for-All trains for hundreds of "
                   "epochs). In a few hundred steps the largest is a weak teacher: 0 judges "
                   "networks closer to their standalone trainings")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_seed_option(*c.train, a.seed, "the initialization, the networks drawn, the validation split");
  c.train
      ->add_option("--validation", a.validation,
                   "Training images held out: networks are judged on them")
      ->capture_default_str();
  c.train->add_option("--subset", a.subset, "Train on this many images only (short runs)");
  add_threads_option(*c.train, a.threads, "training");
  c.train->add_option("--out", a.out, "The checkpoint (default supernet-SPACE.pt)");
  add_json_option(*c.train, a.json, "the training's settings and figures");
  c.train->footer(
      "Exit codes: 0 trained, 1 built without LibTorch or an internal failure, 2 bad input.\n"
      "Example: hao supernet train --out fmnist.supernet.pt");

  c.eval = cmd->add_subcommand(
      "eval",
      "Judge one network of the space with the supernet's weights: its batch norms re-estimated "
      "on training images (--recalibration-images), then its accuracy on the training's "
      "validation images, at its bits when the supernet was trained quantization-aware.");
  add_space_option(*c.eval, a.space);
  add_member_options(*c.eval, a);
  c.eval->add_flag("--float", a.in_float, "Judge in float, not at the bits");
  add_threads_option(*c.eval, a.threads, "the evaluation");
  add_json_option(*c.eval, a.json, "the judgement");
  c.eval->footer(
      "Exit 2 for a genotype not in the space, bits outside its choices or a checkpoint of "
      "another space.\nExample: hao supernet eval --checkpoint fmnist.supernet.pt --genotype "
      "largest");

  c.exporter = cmd->add_subcommand(
      "export",
      "Write one network of the space as a checkpoint of its own (its slice of the weights, "
      "batch norms re-estimated as eval does) and its description, model.yaml, beside it: "
      "hao train MODEL --init, hao sensitivity and hao quantize --checkpoint take them.");
  add_space_option(*c.exporter, a.space);
  add_member_options(*c.exporter, a);
  c.exporter->add_option("--out", a.out, "The network's checkpoint")->required();
  c.exporter->footer(
      "Example: hao supernet export --checkpoint fmnist.supernet.pt --genotype largest --out "
      "net.pt\n  then: hao train model.yaml --init net.pt --epochs 0   (measures it)");
  return c;
}

#if HAO_HAS_TORCH
namespace {

// The space as a domain (the device is not used: members are judged, not mapped).
struct Space {
  search::SpaceSpec spec;
  std::unique_ptr<search::Mbv2Domain> domain;
};

Space load_mbv2_space(const std::string& name) {
  Space s;
  s.spec = search::parse_space(search::space_yaml(name), name, default_data_dir());
  if (s.spec.kind != "mbv2")
    throw core::InputError("--space " + name + ": a supernet needs a generative (kind mbv2) " +
                           "space; this one is " + s.spec.kind);
  s.domain = std::make_unique<search::Mbv2Domain>(s.spec.mbv2, hw::load_device("zu3eg"));
  return s;
}

search::Genotype member_genotype(const search::Mbv2Domain& d, const SupernetArgs& a) {
  search::Genotype g = a.genotype == "largest"    ? d.largest()
                       : a.genotype == "smallest" ? d.smallest()
                                                  : d.parse(a.genotype, "--genotype");
  if (a.bits != 0) g = search::Genotype(nn::with_uniform_bits(d, g, a.bits, "--bits"));
  return g;
}

// What eval and export start from: the space, the network asked for, the trained supernet and
// the images its members are judged on.
struct TrainedSupernet {
  Space space;
  search::Genotype genotype;
  nn::Supernet net{nullptr};
  nn::SupernetInfo info;
  data::DataSet ds;
  nn::JudgeImages images;
};

TrainedSupernet load_trained(const SupernetArgs& a) {
  TrainedSupernet t;
  t.space = load_mbv2_space(a.space);
  t.genotype = member_genotype(*t.space.domain, a);
  nn::use_threads(a.threads);
  t.net = nn::space_supernet(*t.space.domain);
  t.info = nn::load_supernet(t.net, *t.space.domain, a.checkpoint);
  t.ds = data::load_dataset(t.space.spec.mbv2.data);
  t.images = nn::judge_images(t.ds, nn::training_from_json(t.info.training, a.checkpoint),
                              a.recalibration_images);
  return t;
}

}  // namespace

int run_supernet_train(const SupernetArgs& a, std::ostream& out, std::ostream& err) {
  const Space space = load_mbv2_space(a.space);
  const data::DataSet ds = data::load_dataset(space.spec.mbv2.data);
  nn::SupernetTrainOptions o;
  o.steps = a.steps >= 0 ? a.steps : space.spec.mbv2.supernet_steps(kSupernetSteps);
  o.qat_steps = a.qat_steps >= 0 ? a.qat_steps : space.spec.mbv2.supernet_steps(kSupernetQatSteps);
  o.batch_size = a.batch_size;
  o.random_members = a.random_members, o.lr = a.lr, o.qat_lr_fraction = a.qat_lr_fraction;
  o.distillation = a.distillation;
  o.mode = nn::parse_supernet_mode(a.mode);
  o.seed = a.seed, o.validation = a.validation, o.subset = a.subset, o.threads = a.threads;
  if (a.epochs > 0) {
    const std::size_t images =
        a.subset ? a.subset : ds.train.size() - std::min(ds.train.size(), a.validation);
    o.steps = std::max<long>(
        1, std::lround(a.epochs * static_cast<double>(images) / static_cast<double>(a.batch_size)));
  }
  const std::string path = a.out.empty() ? "supernet-" + space.spec.name + ".pt" : a.out;
  err << "training the supernet of " << space.spec.name << " on " << ds.name << ": " << o.steps
      << " float + " << o.qat_steps << " quantization-aware steps of " << o.batch_size
      << " images x "
      << (o.mode == nn::SupernetMode::kSinglePath ? std::string("1 network drawn uniformly")
          : o.mode == nn::SupernetMode::kOrderedDropout
              ? "1 network per image (ordered dropout: the largest, the smallest and random ones, "
                "1 : 1 : " +
                    std::to_string(o.random_members) + ")"
              : std::to_string(2 + o.random_members) + " networks (sandwich)")
      << "\n";
  StepProgress progress(err, "supernet");
  const nn::SupernetInfo info =
      nn::train_and_save_supernet(*space.domain, ds, o, space.spec.name, path, progress);
  const auto& r = info.result;
  out << "largest network:  validation accuracy "
      << core::fixed(100 * r.value("largest_val_accuracy", 0.0), 2) << "%\n"
      << "smallest network: validation accuracy "
      << core::fixed(100 * r.value("smallest_val_accuracy", 0.0), 2) << "%"
      << (info.quantized ? " (at their bits)" : " (float)") << "\n"
      << core::fixed(r.value("seconds", 0.0), 1) << " s, "
      << core::fixed(r.value("images_per_s", 0.0), 0) << " images/s over all networks\n"
      << "supernet written to " << path << "\n";
  if (!a.json.empty()) {
    const nlohmann::ordered_json j{{"space", info.space},
                                   {"checkpoint", path},
                                   {"training", info.training},
                                   {"result", info.result},
                                   {"quantized", info.quantized}};
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}

int run_supernet_eval(const SupernetArgs& a, std::ostream& out, std::ostream& err) {
  const TrainedSupernet t = load_trained(a);
  if (!t.info.quantized && !a.in_float)
    err << "hao: note: " << a.checkpoint
        << " had no quantization-aware phase: the network is judged in float\n";
  const nn::MemberJudgement j =
      nn::judge_member(t.net, t.info, *t.space.domain, t.genotype, t.ds, t.images, a.in_float);
  const std::string label = t.space.domain->label(t.genotype);
  out << label << "\nvalidation accuracy " << core::fixed(100 * j.val_accuracy, 2) << "% "
      << (j.quantized ? "at its bits" : "in float") << " (" << j.judged << " images; batch norms "
      << "re-estimated on " << j.recalibrated << "), " << core::fixed(j.seconds, 2) << " s\n";
  if (!a.json.empty()) {
    const nlohmann::ordered_json out_json{
        {"genotype", label},  {"val_accuracy", 100 * j.val_accuracy}, {"quantized", j.quantized},
        {"judged", j.judged}, {"recalibrated", j.recalibrated},       {"seconds", j.seconds}};
    write_output(a.json, out_json.dump(2) + "\n", out);
  }
  return kExitOk;
}

int run_supernet_export(const SupernetArgs& a, std::ostream& out, std::ostream&) {
  const TrainedSupernet t = load_trained(a);
  const search::Mbv2Domain& domain = *t.space.domain;
  const std::string name = fs::path(a.out).stem().string();
  nn::IrNet member = nn::export_member(t.net, domain, t.genotype, name, t.ds, t.images);
  const fs::path yaml = fs::path(a.out).parent_path() / "model.yaml";
  {
    std::ofstream f(yaml);
    f << domain.description(t.genotype, name);
    if (!f) throw core::InputError(yaml.string() + ": cannot write");
  }
  nn::save_checkpoint(member, a.out);
  out << domain.label(t.genotype) << "\ncheckpoint written to " << a.out << ", its network to "
      << yaml.string() << "\nmeasure it: hao train " << yaml.string() << " --init " << a.out
      << " --epochs 0 --seed " << t.info.training.value("seed", 1u) << " --validation "
      << t.info.training.value("validation", std::size_t{5000}) << "\n";
  return kExitOk;
}
#else
namespace {
int without_torch(std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild "
         "(scripts/setup.sh does both)\n";
  return kExitFailure;
}
}  // namespace
int run_supernet_train(const SupernetArgs&, std::ostream&, std::ostream& err) {
  return without_torch(err);
}
int run_supernet_eval(const SupernetArgs&, std::ostream&, std::ostream& err) {
  return without_torch(err);
}
int run_supernet_export(const SupernetArgs&, std::ostream&, std::ostream& err) {
  return without_torch(err);
}
#endif

}  // namespace hao::cli
