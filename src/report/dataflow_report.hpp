// Human- and machine-readable reports of a mapped dataflow design.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ilp/dataflow_mapper.hpp"
#include "ilp/folding_compare.hpp"

namespace hao::report {

/// The per-layer table, the totals against the device, II, fps, latency, the bottleneck
/// layer, and how the design was found (method, solve time, gap).
std::string dataflow_text(const ir::Network& net, const hw::Device& device,
                          const ilp::MapResult& result);

/// Everything in dataflow_text, as JSON.
nlohmann::ordered_json dataflow_json(const ir::Network& net, const hw::Device& device,
                                     const ilp::MapResult& result);

/// A folding file's design beside hao's optimum within its resources and FINN's SetFolding
/// at its II: one row each (II, fps, ratio to the file's, resources, whether it fits).
std::string comparison_text(const hw::Device& device, const ilp::FoldingComparison& comparison);

/// The three designs of the comparison as dataflow_json objects, with the optimum's budget.
nlohmann::ordered_json comparison_json(const ir::Network& net, const hw::Device& device,
                                       const ilp::FoldingComparison& comparison);

}  // namespace hao::report
