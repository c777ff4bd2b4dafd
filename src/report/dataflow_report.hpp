// Human- and machine-readable reports of a mapped dataflow design.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ilp/dataflow_mapper.hpp"

namespace hao::report {

/// The per-layer table, the totals against the device, II, fps, latency, the bottleneck
/// layer, and how the design was found (method, solve time, gap).
std::string dataflow_text(const ir::Network& net, const hw::Device& device,
                          const ilp::MapResult& result);

/// Everything in dataflow_text, as JSON.
nlohmann::ordered_json dataflow_json(const ir::Network& net, const hw::Device& device,
                                     const ilp::MapResult& result);

}  // namespace hao::report
