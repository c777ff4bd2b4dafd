// An ir::Network as a LibTorch module, for training and measurement on the CPU. Convs carry
// a BatchNorm2d where the IR says a norm is folded into them; the rest maps one to one.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::nn {

class IrNetImpl : public torch::nn::Module {
 public:
  /// Builds the layers of `net` (shapes must be inferred). Throws core::InputError for a
  /// layer it cannot build (naming it).
  explicit IrNetImpl(ir::Network net);

  /// N x C x H x W in, N x classes out (the last layer's output, flattened).
  torch::Tensor forward(torch::Tensor x);
  /// Every layer's output, in layer order (for shape checks and per-layer profiling).
  std::vector<torch::Tensor> forward_all(torch::Tensor x);

  const ir::Network& network() const { return net_; }
  /// A string that identifies the architecture (layers, ops, shapes): checkpoints carry it.
  std::string signature() const;

 private:
  torch::Tensor run_layer(std::size_t i, const std::vector<torch::Tensor>& outputs,
                          const torch::Tensor& input);

  ir::Network net_;
  std::vector<torch::nn::Conv2d> conv_;  // per layer; empty where none
  std::vector<torch::nn::BatchNorm2d> norm_;
  std::vector<torch::nn::Linear> fc_;
};
TORCH_MODULE(IrNet);

/// Saves parameters, buffers and the architecture's signature.
void save_checkpoint(IrNet& model, const std::string& path);
/// Loads a checkpoint into `model`. Throws core::InputError when the file is not a hao
/// checkpoint or was written for another network.
void load_checkpoint(IrNet& model, const std::string& path);

}  // namespace hao::nn
