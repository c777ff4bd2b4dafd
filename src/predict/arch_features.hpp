// The encodings of search-space genotypes that a learned latency regressor reads.
#pragma once

#include <string>
#include <vector>

#include "predict/samples.hpp"

namespace hao::predict {

/// kStructure: everything below; kOneHot: the operator (choice) one-hots only, the encoding
/// latency-aware DARTS relaxes (softmax(alpha) in place of each one-hot), differentiable in it.
enum class Encoding { kStructure, kOneHot };
Encoding parse_encoding(const std::string& name);  ///< "structure" or "onehot"
std::string encoding_name(Encoding encoding);

/// The encoding of a genotype of `space`, one value per name of arch_feature_names(space).
///  - nb201: per edge (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2) a one-hot of its operator (30
///    values); the same for the live cell, where an edge that no input-output path uses
///    counts as none (30); per computed node (1, 2, 3) whether it only ever holds zeros (every
///    edge into it is none, or a skip or pool of a zero node) and whether it depends on the
///    input (6). Runtimes that fold constants skip what a dead or zero branch computes; a
///    one-hot row alone leaves the regressor to discover that from few samples.
///  - anb: per block b0..b6 a one-hot of expansion {1,4,6}, kernel {3,5} and layers {1..4},
///    and squeeze-excite as 0/1 (70 values).
/// Throws core::InputError naming `where` for a genotype the space cannot expand.
/// With Encoding::kOneHot, nb201 keeps the first 30 values (anb is one-hot either way).
std::vector<double> arch_features(Space space, const std::string& arch, const std::string& where,
                                  Encoding encoding = Encoding::kStructure);
std::vector<std::string> arch_feature_names(Space space, Encoding encoding = Encoding::kStructure);

}  // namespace hao::predict
