// The supernet of a generative mbv2 space (search::Mbv2Domain): built from the space's largest
// genotype, trained with the space's smallest and random genotypes, saved with the space's
// signature, and its members judged or exported as standalone networks.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "data/images.hpp"
#include "nn/supernet.hpp"
#include "nn/supernet_train.hpp"
#include "search/mbv2_domain.hpp"

namespace hao::nn {

/// The space's dimensions as text (data, input, stem, stages, head, every choice list): two
/// spaces with the same text have the same members, whatever their names or comments.
std::string space_signature(const search::Mbv2Spec& spec);

/// The supernet of `domain`'s space: its largest genotype's network (and, where blocks choose
/// operators, the largest at each other operator), with input ranges per bit choice of the
/// space.
Supernet space_supernet(const search::Mbv2Domain& domain);

/// train_supernet with the space's smallest genotype and its random ones (each at the bits it
/// draws).
SupernetTrainResult train_space_supernet(
    Supernet& net, const search::Mbv2Domain& domain, const data::DataSet& ds,
    const SupernetTrainOptions& options,
    const std::function<void(long step, long steps, double loss)>& progress = {});

/// The settings that change a trained supernet's weights, as kept in its checkpoint.
nlohmann::ordered_json training_json(const SupernetTrainOptions& o);
/// training_json's inverse; InputError naming `where` for a missing or mistyped field.
SupernetTrainOptions training_from_json(const nlohmann::json& j, const std::string& where);

/// What a supernet checkpoint carries besides the weights.
struct SupernetInfo {
  std::string space;        ///< the space's name when it was trained
  std::string signature;    ///< space_signature
  nlohmann::json training;  ///< training_json
  nlohmann::json result;    ///< the training's figures (steps, seconds, accuracies)
  bool quantized = false;   ///< trained quantization-aware: members run at their bits
};

/// Saves the weights, every range and `info`.
void save_supernet(Supernet& net, const SupernetInfo& info, const std::string& path);
/// Loads a checkpoint of `domain`'s space into `net` (space_supernet's) and sets its mode.
/// InputError naming the file: not a supernet checkpoint, another space's (naming it), damaged.
SupernetInfo load_supernet(Supernet& net, const search::Mbv2Domain& domain,
                           const std::string& path);

/// `bits` for every searchable bit slot of `g` (the blocks' and the head's); InputError naming
/// `where` and the space's choices when `bits` is not one of them.
search::Genotype with_uniform_bits(const search::Mbv2Domain& domain, search::Genotype g, int bits,
                                   const std::string& where);

/// Genotype `g`'s standalone network, named `name`, with its slice of the weights and batch
/// norms re-estimated on `images` (recalibrated_member), in float: a network `hao train` builds
/// from Mbv2Domain::description(g, name) takes its checkpoint.
IrNet export_member(const Supernet& net, const search::Mbv2Domain& domain,
                    const search::Genotype& g, const std::string& name, const data::DataSet& ds,
                    const JudgeImages& images);

/// space_supernet trained on `ds` (train_space_supernet) and saved to `path` with its info.
SupernetInfo train_and_save_supernet(
    const search::Mbv2Domain& domain, const data::DataSet& ds, const SupernetTrainOptions& options,
    const std::string& space_name, const std::string& path,
    const std::function<void(long step, long steps, double loss)>& progress = {});

/// A member judged on a trained supernet.
struct MemberJudgement {
  double val_accuracy = 0;                   ///< 0..1, on JudgeImages::judge
  bool quantized = false;                    ///< at the genotype's bits (else in float)
  std::size_t recalibrated = 0, judged = 0;  ///< images
  double seconds = 0;
};
/// Genotype `g`'s accuracy with inherited weights on `images` (judge_images of the training's
/// settings, member_accuracy); in float when `in_float` or when the supernet had no
/// quantization-aware phase.
MemberJudgement judge_member(Supernet net, const SupernetInfo& info,
                             const search::Mbv2Domain& domain, const search::Genotype& g,
                             const data::DataSet& ds, const JudgeImages& images,
                             bool in_float = false);

}  // namespace hao::nn
