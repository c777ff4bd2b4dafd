// Generative spaces as search domains: a genotype expands into an IR network (through hao's
// YAML description), and its latency is the frame interval of program 1's optimal dataflow
// accelerator on the device, free before any training. Mbv2Domain and DenseDomain are the
// kinds; the study's training evaluator works on any of them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "ir/network.hpp"
#include "search/domain.hpp"

namespace hao::search {

struct SpaceSpec;

/// Program 1's time limit per candidate in a study, unless the study says otherwise (hao
/// search --ilp-time-limit; kept with the study as "ilp_time_limit_s" when not this).
inline constexpr double kStudyIlpTimeLimitS = 20;

/// A genotype's accelerator: program 1's fastest design on the device.
struct Hardware {
  bool feasible = false;
  std::string reason;  ///< when not feasible
  double fps = 0, latency_ms = 0;
  hw::Resources resources;
  std::vector<hw::LayerConfig> configs;
  ilp::SolveStats stats;  ///< program 1's
};

/// A target other than program 1's dataflow accelerator: the host CPU (latencies measured and
/// looked up, nn/cpu_table.hpp) or program 2's layer-sequential engine (search/engine_target.hpp).
/// A network's design (its latency, fps its inverse, and the resources where the target has
/// them), and a part's latency alone (given as its YAML description). Both must be safe to call
/// from several threads.
struct LatencyTarget {
  std::string name;  ///< e.g. "cpu", "engine"
  std::function<Hardware(const Genotype&)> network;
  std::function<double(const std::string& description)> part_ms;
  /// A lower bound on a network's latency, cheaper than `network` (none: the latency itself).
  std::function<double(const Genotype&)> bound_ms;
  /// The bits a part is priced at: 0 its own; the CPU's table keys pieces at 8 (float there).
  int part_bits = 0;
  /// What the study's settings record of the target besides its name (e.g. a latency model).
  std::vector<std::pair<std::string, std::string>> settings;
};

class NetworkDomain : public Domain {
 public:
  NetworkDomain(hw::Device device, ilp::MapOptions map)
      : device_(std::move(device)), map_(std::move(map)) {}

  /// The network as hao's YAML description (what hao map and hao train read).
  virtual std::string description(const Genotype& g,
                                  const std::string& name = "candidate") const = 0;
  /// The genotype of a label() string; InputError naming `where` otherwise.
  virtual Genotype parse(const std::string& label, const std::string& where) const = 0;
  /// The data set the space's networks are for (data::load_dataset's name).
  virtual const std::string& data() const = 0;
  /// The bit-widths the space's layers choose from (what sensitivities are measured at).
  virtual const std::vector<int>& bit_choices() const = 0;

  /// The network, named `name`, with its bits (element-wise layers derived).
  ir::Network network(const Genotype& g, const std::string& name = "candidate") const;
  /// Program 1 on the device, cached per genotype; on another target (set_target) that
  /// target's design (no dataflow configs).
  Hardware hardware(const Genotype& g) const;
  /// Prices networks on `target` instead of program 1 from now on (before any is priced).
  void set_target(LatencyTarget target) { target_ = std::move(target); }
  /// "dataflow" (program 1 on the device), or the target set.
  std::string target_name() const { return target_.network ? target_.name : "dataflow"; }
  /// The target set, or an empty one (dataflow).
  const LatencyTarget& target() const { return target_; }
  /// The frame interval, 1 / fps in ms (a dataflow pipeline's throughput, what the search's
  /// frontier is over; Hardware::latency_ms also counts the pipeline's depth); kInfeasibleMs
  /// when nothing fits.
  double latency_ms(const Genotype& g) const override;
  /// At the II of program 1's relaxation (ilp::relaxed_ii_bound; microseconds, where program 1
  /// takes a tenth of a second); latency_ms itself once that is known. On another target its
  /// bound_ms, or else its latency.
  double latency_bound_ms(const Genotype& g) const override;
  std::vector<std::pair<std::string, int>> layer_bits(const Genotype& g) const override;
  /// A part of a network (an operator alone) priced on the target: program 1's frame interval
  /// for it on `share` of the device's resources (each usable fraction times share);
  /// kInfeasibleMs when nothing fits that share.
  double part_latency_ms(const ir::Network& part, double share) const;
  /// A part (its YAML description) alone on the target set (set_target).
  double part_target_ms(const std::string& description) const {
    return target_.part_ms(description);
  }
  const hw::Device& device() const { return device_; }
  const ilp::MapOptions& map_options() const { return map_; }

 protected:
  /// Every slot's choice index within its slot's choices.
  bool in_range(const Genotype& g) const;
  /// Each slot's choice drawn uniformly (not snapped).
  Genotype uniform(Rng& rng) const;
  /// Each slot clamped into its choices (resized to the slots).
  Genotype clamped(const Genotype& g) const;
  /// g's `slot` set to the choice spelled `value`: "" when done, else the problem ("NAME =
  /// 'VALUE', expected one of ...") for parse's message.
  std::string set_choice(Genotype& g, std::size_t slot, const std::string& value) const;
  /// The start of a description: its name, the input, "layers:".
  static std::string description_head(const std::string& name, int channels, int height, int width,
                                      int bits);

  hw::Device device_;
  ilp::MapOptions map_;

 private:
  LatencyTarget target_;
  mutable std::mutex mutex_;
  mutable std::map<Genotype, Hardware> cache_;
  mutable std::map<Genotype, double> bound_cache_;
};

/// The domain of a generative space (kind mbv2, densenet or autoshrink); InputError for a
/// tabular one.
std::unique_ptr<NetworkDomain> make_network_domain(const SpaceSpec& spec, hw::Device device,
                                                   ilp::MapOptions map = {});

/// A network of a generative space named as hao search reports it: "SPACE:LABEL", SPACE a
/// built-in space's name or a space YAML file (.yaml, .yml), LABEL a genotype label of that
/// space; the network as the search builds and trains it (its bits included). nullopt when
/// `model` is not of that form (no colon, or the part before the first one is neither);
/// InputError naming the model for a label outside the space or a tabular space.
std::optional<ir::Network> space_member_network(const std::string& model);

}  // namespace hao::search
