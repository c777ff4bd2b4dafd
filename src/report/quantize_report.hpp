// hao quantize's outputs: a design's per-layer table and totals (dataflow) or its bits and
// engine steps (engine), its JSON, the --bits-out file, and a sweep's table, plot and JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "ilp/quantize.hpp"
#include "ir/network.hpp"

namespace hao::report {

/// The network and device lines, then per layer its bits, Omega and hardware (dataflow), or
/// per weighted layer its bits and the engine's steps (engine), and the totals.
std::string quantize_text(const ir::Network& net, const hw::Device& device,
                          const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q, bool engine);
std::string dataflow_design_text(const ir::Network& net, const hw::Device& device,
                                 const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q);

/// The design as JSON ("feasible", "status", and when feasible fps, latency, Omega,
/// resources, per layer its bits and hardware, the engine's design).
nlohmann::ordered_json quantize_json(const ir::Network& net, const hw::Device& device,
                                     const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q,
                                     bool engine);

/// The chosen bits as a file hao map/train --bits read, one weighted layer a line.
std::string bits_yaml(const ilp::QuantizeResult& q);

/// A sweep's feasible points as a table (after the network and device lines), an SVG plot of
/// summed Omega against fps, and JSON.
std::string sweep_text(const ir::Network& net, const hw::Device& device,
                       const ilp::QuantizeSpec& spec,
                       const std::vector<ilp::Quantizer::SweepPoint>& points);
std::string sweep_svg(const ir::Network& net, const hw::Device& device,
                      const std::vector<ilp::Quantizer::SweepPoint>& points,
                      const std::string& template_name);
nlohmann::ordered_json sweep_json(const ir::Network& net, const hw::Device& device,
                                  const ilp::QuantizeSpec& spec,
                                  const std::vector<ilp::Quantizer::SweepPoint>& points,
                                  bool engine);

}  // namespace hao::report
