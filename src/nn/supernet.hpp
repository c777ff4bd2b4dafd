// A weight-sharing supernet: one set of weights, that of the largest network of a family, from
// which every member of the family runs as a slice (Once-for-All's progressive shrinking space,
// NetAdaptV2's ordered channels). A member's conv or fc takes the largest network's layer of the
// same name: its first output channels, its first input channels (per group), the centre of its
// kernel, the first channels of its batch norm and the layer's input quantization range at the
// member's activation bits. So a narrower member is a prefix of a wider one, and a smaller
// kernel the centre of a larger one. A family whose blocks choose among operators (each with
// weights of its own, its layers named after it) is held as the union of its largest network
// at each operator: the layers of every such network, merged by name.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "data/images.hpp"
#include "ir/network.hpp"
#include "nn/ir_module.hpp"
#include "nn/train.hpp"

namespace hao::nn {

class SupernetImpl : public torch::nn::Module {
 public:
  /// The largest network of the family (shapes inferred), with a batch norm on every conv
  /// that carries one in the members. Per activation bit width in `act_bits` every weighted
  /// layer keeps its own input range (a 4-bit input clips tighter than an 8-bit one); a member
  /// at other bits uses the largest network's ranges.
  /// `others`: the family's largest networks at its other operators (none where blocks do not
  /// choose operators), whose layers not in `largest` join the shared ones. A layer's segment
  /// is its name up to the first '_' ("s1b0" of "s1b0_mbconv-se_dw"; "stem", "head", ...): the
  /// merged layers keep the segments in `largest`'s order, each segment's layers network by
  /// network, so that a member that takes each block from another network still finds every
  /// producer before its readers.
  explicit SupernetImpl(ir::Network largest, std::vector<int> act_bits = {},
                        std::vector<ir::Network> others = {});

  /// Throws core::InputError, naming the layer and what differs, when `member` is no slice of
  /// the largest network: a weighted layer it does not have, another op or grouping, more
  /// channels, a larger kernel or one off its centre.
  void check_member(const ir::Network& member) const;

  /// `member`'s logits (N x classes) computed with the shared weights, in the current mode;
  /// in training mode its batch norms update the first channels' running statistics. Checks
  /// the member first (check_member's InputError).
  torch::Tensor forward(const ir::Network& member, const torch::Tensor& x);

  /// Ordered dropout (NetAdaptV2): example b of `x` through `members[b]`, every example its own
  /// member, in one pass. Per layer of the largest network, the examples whose members have it
  /// are grouped by what the layer is in their member (channels, kernel, bits, inputs), each
  /// group computed on its slice as forward(member, ...) computes it, its channels beyond the
  /// member's zero; so each row of the result is forward(members[b], x[b]) in evaluation (in
  /// training a group's batch norms see that group's examples). Checks every member.
  torch::Tensor forward_each(const std::vector<const ir::Network*>& members,
                             const torch::Tensor& x);

  /// `member` as a network of its own with its slice of the weights, batch norms and ranges
  /// copied in: in every mode it computes what forward(member, x) computes.
  IrNet extract(const ir::Network& member) const;

  /// The mode every member runs in (IrNetImpl::Mode); kCalibrate resets the ranges.
  void set_mode(IrNetImpl::Mode mode);
  /// Sets every range from the first `images` of `order` in `set`: the largest network (and
  /// each of the others) in kCalibrate, once at each of the act_bits (every weighted layer at
  /// those bits) and once at its own; leaves the supernet in kQuantized.
  void calibrate(const data::ImageSet& set, const Normalization& norm,
                 const std::vector<std::size_t>& order, std::size_t images, int batch_size = 100);
  const std::vector<int>& act_bits() const { return act_bits_; }
  IrNetImpl::Mode mode() const { return store_->mode(); }

  /// The largest member (at the last operator of every pool): the sandwich rule's teacher.
  const ir::Network& largest() const { return variants_.front(); }
  /// The module that holds every shared tensor: the largest network's, the other operators'
  /// layers merged in (not itself a network to run where there are others).
  IrNet largest_module() const { return store_; }

 private:
  // Layer `member_layer` (of network `network`)'s slice of the shared tensors.
  WeightedParams slice(const ir::Layer& member_layer, const std::string& network) const;
  // The index of the stored layer named `name`, or throws naming `member`.
  std::size_t position(const std::string& name, const std::string& member) const;
  const ir::Network& stored() const { return store_->network(); }

  std::vector<ir::Network> variants_;  // the largest network first, then the others
  IrNet store_ = nullptr;
  std::map<std::string, std::size_t> index_;  // layer name -> index in the stored layers
  std::vector<int> act_bits_;
  std::map<int, std::vector<torch::Tensor>> bit_range_;  // bits -> per layer (weighted only)
};
TORCH_MODULE(Supernet);

}  // namespace hao::nn
