// Human- and machine-readable reports of a mapped engine (layer-sequential) design.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ilp/engine_program.hpp"

namespace hao::report {

/// A latency from a calibrated model, shown beside the stated model's.
struct CalibratedLatency {
  std::string model;  ///< the model file
  double latency_ms = 0;
};

/// The per-step table (tiling, compute and memory cycles, which binds, bytes moved), the
/// engine shape and buffers, the totals against the device, and how the design was found.
std::string engine_text(const ir::Network& net, const hw::Device& device,
                        const ilp::EngineMapResult& result,
                        const std::optional<CalibratedLatency>& calibrated = {});

/// Everything in engine_text, as JSON.
nlohmann::ordered_json engine_json(const ir::Network& net, const hw::Device& device,
                                   const ilp::EngineMapResult& result,
                                   const std::optional<CalibratedLatency>& calibrated = {});

}  // namespace hao::report
