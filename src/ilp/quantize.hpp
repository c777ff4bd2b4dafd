// Program 3 on either accelerator template, as `hao quantize` uses it: the template dispatch,
// the fastest designs a bit allocation can have, a latency target (a bisection over II
// targets on the dataflow template) and a sweep of speed targets.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "ilp/bit_program.hpp"
#include "ilp/engine_program.hpp"
#include "ir/network.hpp"

namespace hao::ilp {

enum class QuantizeTemplate { kDataflow, kEngine };

/// Bit choices as users give them: N (wNaN) or wXaY, each width in 2..8, none twice;
/// InputError naming `where` and the token otherwise.
std::vector<ir::BitWidths> parse_bit_choices(const std::vector<std::string>& tokens,
                                             const std::string& where);

/// The layers whose bits program 3 chooses: the weighted ones, except the first and last
/// unless `all_layers` (or unless there are only two).
std::vector<bool> choosable_layers(const ir::Network& net, bool all_layers);

/// Groups of layer names that must share a bit-width, as network layer indices; InputError
/// naming `where`, the group and the layer for a name the network lacks or whose bits are not
/// chosen. Groups of fewer than two layers are dropped.
std::vector<std::vector<int>> resolve_ties(const std::vector<std::string>& groups,
                                           const ir::Network& net,
                                           const std::vector<bool>& choosable,
                                           const std::string& where);

/// Program 3 on one template, with the solver options given.
class Quantizer {
 public:
  Quantizer(hw::Device device, QuantizeTemplate tmpl, SolveOptions solve);

  /// Least summed Omega at spec.target_fps (0: no speed target).
  QuantizeResult at_fps(const ir::Network& net, const QuantizeSpec& spec) const;
  /// Least summed Omega whose design's latency at batch 1 is within `latency_ms`. On the
  /// engine template that is the frame time. On the dataflow template latency = II + the
  /// pipeline fill, which program 3 does not see: the largest II target whose design meets
  /// the latency is found by bisection over integral II targets (the design at a target
  /// either meets it, or fits nothing, or is too slow). Infeasible with a reason when none.
  QuantizeResult at_latency(const ir::Network& net, QuantizeSpec spec, double latency_ms) const;
  /// The fastest design at the bits `net` carries (its chosen layers fixed); 0 when none fits.
  double fastest_at_bits(const ir::Network& net, const QuantizeSpec& spec) const;
  /// The fastest design at any allocation (every chosen layer at its cheapest choice); 0 when
  /// none fits.
  double fastest(const ir::Network& net, const QuantizeSpec& spec) const;

  struct SweepPoint {
    double target_fps = 0;
    QuantizeResult result;
  };
  /// Program 3 at `points` speed targets spaced geometrically from the most accurate
  /// allocation's fastest design to the fastest design of all. Empty when nothing fits.
  /// `progress(k, target_fps, result)` after each.
  std::vector<SweepPoint> sweep(
      const ir::Network& net, QuantizeSpec spec, int points,
      const std::function<void(int, double, const QuantizeResult&)>& progress = {}) const;

  const hw::Device& device() const { return device_; }
  bool engine() const { return tmpl_ == QuantizeTemplate::kEngine; }

 private:
  hw::Device device_;
  QuantizeTemplate tmpl_;
  SolveOptions solve_;
};

}  // namespace hao::ilp
