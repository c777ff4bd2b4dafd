#include "search/network_domain.hpp"

#include <algorithm>
#include <limits>

#include "core/text.hpp"
#include "ilp/folding_program.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"

namespace hao::search {

ir::Network NetworkDomain::network(const Genotype& g, const std::string& name) const {
  ir::Network net = ir::parse_description(description(g, name), "genotype " + label(g));
  ir::derive_elementwise_bits(net);
  return net;
}

Hardware NetworkDomain::hardware(const Genotype& g) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(g); it != cache_.end()) return it->second;
  }
  Hardware h;
  if (target_.network) {
    h = target_.network(g);
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_.emplace(g, h).first->second;
  }
  const ir::Network net = network(g);
  const ilp::MapResult r = ilp::map_dataflow(net, device_, map_);
  h.feasible = r.feasible;
  h.reason = r.reason;
  h.stats = r.stats;
  if (r.feasible) {
    h.fps = r.eval.fps;
    h.latency_ms = r.eval.latency_ms;
    h.resources = r.eval.total;
    h.configs = r.configs;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return cache_.emplace(g, h).first->second;
}

namespace {
// What latency_ms reports for a design: its frame interval.
double frame_interval_ms(const Hardware& h) { return h.feasible ? 1000.0 / h.fps : kInfeasibleMs; }
}  // namespace

double NetworkDomain::latency_ms(const Genotype& g) const { return frame_interval_ms(hardware(g)); }

double NetworkDomain::part_latency_ms(const ir::Network& part, double share) const {
  hw::Device device = device_;
  device.usable_fraction *= share;
  const ilp::MapResult r = ilp::map_dataflow(part, device, map_);
  return r.feasible ? 1000.0 / r.eval.fps : kInfeasibleMs;
}

double NetworkDomain::latency_bound_ms(const Genotype& g) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(g); it != cache_.end()) return frame_interval_ms(it->second);
    if (auto it = bound_cache_.find(g); it != bound_cache_.end()) return it->second;
  }
  if (target_.network && !target_.bound_ms) return latency_ms(g);  // nothing cheaper
  if (target_.bound_ms) {
    const double bound = target_.bound_ms(g);
    std::lock_guard<std::mutex> lock(mutex_);
    return bound_cache_.emplace(g, bound).first->second;
  }
  // The problem program 1 solves (map_dataflow's: thresholds' placement a choice).
  hw::DataflowOptions options = map_.cost;
  options.split_threshold_choice = true;
  const std::int64_t ii =
      ilp::relaxed_ii_bound(ilp::make_folding_problem(network(g), device_, options));
  const double bound = ii == std::numeric_limits<std::int64_t>::max()
                           ? kInfeasibleMs
                           // as hw::evaluate_dataflow and latency_ms compute it, to the bit
                           : 1000.0 / (device_.clock_mhz * 1e6 / static_cast<double>(ii));
  std::lock_guard<std::mutex> lock(mutex_);
  return bound_cache_.emplace(g, bound).first->second;
}

bool NetworkDomain::in_range(const Genotype& g) const {
  const auto& s = slots();
  if (g.size() != s.size()) return false;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i] < 0 || g[i] >= static_cast<int>(s[i].choices.size())) return false;
  return true;
}

Genotype NetworkDomain::uniform(Rng& rng) const {
  Genotype g;
  for (const auto& s : slots())
    g.push_back(std::uniform_int_distribution<int>(0, static_cast<int>(s.choices.size()) - 1)(rng));
  return g;
}

Genotype NetworkDomain::clamped(const Genotype& g) const {
  const auto& s = slots();
  Genotype c = g;
  c.resize(s.size(), 0);
  for (std::size_t i = 0; i < c.size(); ++i)
    c[i] = std::clamp(c[i], 0, static_cast<int>(s[i].choices.size()) - 1);
  return c;
}

std::string NetworkDomain::set_choice(Genotype& g, std::size_t slot,
                                      const std::string& value) const {
  const Slot& s = slots()[slot];
  auto it = std::find(s.choices.begin(), s.choices.end(), value);
  if (it == s.choices.end())
    return s.name + " = '" + value + "', expected one of " + core::join(s.choices, ", ");
  g[slot] = static_cast<int>(it - s.choices.begin());
  return "";
}

std::string NetworkDomain::description_head(const std::string& name, int channels, int height,
                                            int width, int bits) {
  return "name: " + name + "\ninput: {channels: " + std::to_string(channels) +
         ", height: " + std::to_string(height) + ", width: " + std::to_string(width) +
         ", bits: " + std::to_string(bits) + "}\nlayers:\n";
}

std::vector<std::pair<std::string, int>> NetworkDomain::layer_bits(const Genotype& g) const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& l : network(g).layers)
    if (l.has_weights()) out.emplace_back(l.name, l.weight_bits);
  return out;
}

}  // namespace hao::search
