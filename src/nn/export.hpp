// `hao export`: a trained, quantized network and its accelerator as files FINN builds from.
#pragma once

#include <string>
#include <vector>

#include "data/images.hpp"
#include "hw/device.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "ir/qonnx_export.hpp"
#include "nn/ir_module.hpp"
#include "nn/train.hpp"
#include "search/network_domain.hpp"

namespace hao::nn {

/// The network `model` computes in Mode::kQuantized (evaluation), as deployed: per conv and fc
/// its weights and bias with the batch norm folded in, the quantizer of its weights (one scale
/// per output channel) and of its input (from the tracked range), and the input normalization.
/// Throws core::InputError for a layer whose bits cannot be quantized (IrNetImpl::set_mode).
ir::DeployedModel deployed_model(IrNet& model, const Normalization& norm);

/// Checks that the checkpoint `path`, loaded into `model`, was trained quantization-aware at
/// the model's bits (its bits record, IrNetImpl::trained_bits, else its activation ranges).
/// Throws core::InputError naming the first layer whose bits differ, or saying that the
/// checkpoint holds float weights only, with `fine_tune` (the command that fine-tunes it at the
/// bits); returns a note when the checkpoint has ranges but no bits record (written before hao
/// kept one), else "".
std::string check_export_bits(IrNet& model, const std::string& path, const std::string& fine_tune);

struct ExportOptions {
  std::string out_dir;
  bool force = false;       ///< write into a folder that is not empty
  std::size_t samples = 1;  ///< test images for input.npy / expected_output.npy
  ilp::MapOptions map;      ///< the accelerator's folding (program 1)
  std::string checkpoint;   ///< for messages and the README
};

struct ExportResult {
  std::vector<std::string> files;  ///< written, in order
  ilp::MapResult design;           ///< the folding written to folding_config.json
  double sample_accuracy = 0;      ///< of hao's quantized inference on the samples
  std::size_t samples = 0;
  std::string board;  ///< FINN's name for the device's board; empty: part only
};

/// Writes the export of `model` (a checkpoint loaded, at the bits of its network) to
/// options.out_dir: model.qonnx.onnx (write_qonnx), folding_config.json (program 1's design of
/// `net` on `device`), input.npy and expected_output.npy (the first `samples` test images as raw
/// pixels and hao's quantized logits for them), build.py (FINN's build_dataflow configuration)
/// and README.md. The input normalization is the model's own (IrNetImpl::input_mean, from its
/// checkpoint) when it has one, else `ds`'s training set's (then `ds` must hold its images). Throws
/// core::InputError for an output folder that exists and is not empty (unless force), a network
/// that does not fit the data, or bits that cannot be quantized. When no folding fits the
/// device, nothing is written: `design.feasible` is false and `files` empty.
ExportResult export_design(const ir::Network& net, IrNet& model, const data::DataSet& ds,
                           const hw::Device& device, const ExportOptions& options);

/// The export of options.checkpoint: loaded into `net` (with the batch norms `norms` adds for
/// training, as it was trained), its bits checked (check_export_bits; its note, if any, into
/// `note`), the data set `data` read (its training images only when the checkpoint keeps no
/// input normalization), then export_design.
ExportResult export_checkpoint(const ir::Network& net, TrainingNorms norms, const std::string& data,
                               const hw::Device& device, const ExportOptions& options,
                               const std::string& fine_tune, std::string& note);

/// A study's design exported as export_checkpoint does: the network `domain` builds from the
/// stored genotype code `genotype` (named `name`), with the weights of `checkpoint` (its
/// finalist, fine-tuned at its bits), on the study's device with its program-1 settings, to
/// `out_dir` (written into when it holds files: the report's chosen/ folder). InputError for a
/// checkpoint of another network or bits (check_export_bits).
ExportResult export_study_design(const search::NetworkDomain& domain, const std::string& genotype,
                                 const std::string& name, const std::string& checkpoint,
                                 const std::string& out_dir);

}  // namespace hao::nn
