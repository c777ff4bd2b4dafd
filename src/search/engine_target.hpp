// Program 2's layer-sequential engine as a search target (hao search --target engine): each
// network priced on its own optimal engine for the device (engine shape, buffers, tilings and
// fused chains, ilp/engine_program.hpp), or on the device's pinned engine (a DPU) with the
// latency a calibrated model predicts from measurements (hao calibrate --kind engine).
#pragma once

#include <memory>
#include <string>

#include "ilp/engine_program.hpp"
#include "predict/engine_model.hpp"
#include "search/network_domain.hpp"

namespace hao::search {

struct EngineTargetOptions {
  ilp::EngineMapOptions map;  ///< program 2's options (its time limit)
  /// A calibrated model of the device's pinned engine: the latency is its prediction, while
  /// program 2 still gives the design (buffers, tilings, resources) and whether one fits.
  std::shared_ptr<const predict::EngineModel> model;
  std::string model_path;  ///< where the model was read (the study's settings record it)
};

/// Program 2's design for `net` on `device` as a search prices it: feasible with the reason when
/// not, latency (the model's when there is one) and fps its inverse (one frame at a time),
/// resources, program 2's solve statistics.
Hardware engine_hardware(const ir::Network& net, const hw::Device& device,
                         const EngineTargetOptions& options);

/// A lower bound on engine_hardware's latency, without solving program 2: the least
/// hw::engine_cycles_bound over the shapes program 2 may choose (the device's pinned one, or
/// every shape that fits), at the device's clock; with a model, the model's latency (what
/// engine_hardware gives whenever a design fits).
double engine_latency_bound_ms(const ir::Network& net, const hw::Device& device,
                               const EngineTargetOptions& options);

/// The engine target over `domain`'s networks and device. InputError when a model is given for
/// a device that pins no engine, or pins another shape than the one the model was fitted on.
LatencyTarget engine_target(const NetworkDomain& domain, EngineTargetOptions options);

}  // namespace hao::search
