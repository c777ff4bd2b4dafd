#include "ilp/quantize_mapper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "ilp/folding_program.hpp"
#include "ir/bits.hpp"

namespace hao::ilp {

namespace {

// Index of `name` in `names`, appended when new.
int name_index(std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<int>(it - names.begin());
  names.push_back(name);
  return static_cast<int>(names.size()) - 1;
}

// Copies of the candidates within `target_ii` that no other such candidate beats on every
// resource (cheapest_within), per placement of the thresholds: the program chooses the
// placement together with the linked layer's, so neither family may crowd out the other.
std::vector<hw::Candidate> cheapest_copies(const std::vector<hw::Candidate>& all,
                                           std::int64_t target_ii) {
  std::vector<hw::Candidate> out;
  for (bool split : {false, true}) {
    std::vector<hw::Candidate> family;
    for (const auto& c : all)
      if (c.config.split_thresholds == split) family.push_back(c);
    for (int k : cheapest_within(family, target_ii))
      out.push_back(family[static_cast<std::size_t>(k)]);
  }
  return out;
}

// The options program 3 prices layers with: hao map's, with the thresholds' placement a choice.
hw::DataflowOptions with_split_choice(hw::DataflowOptions options) {
  options.split_threshold_choice = true;
  return options;
}

std::int64_t ii_for_fps(double fps, const hw::Device& device) {
  return static_cast<std::int64_t>(std::floor(device.clock_mhz * 1e6 / fps + 1e-9));
}

}  // namespace

DataflowBitInstance make_dataflow_bit_problem(const ir::Network& net, const hw::Device& device,
                                              const hw::DataflowOptions& given,
                                              const QuantizeSpec& spec) {
  check_quantize_spec(net, spec);
  const hw::DataflowOptions options = with_split_choice(given);
  DataflowBitInstance d;
  BitProblem& p = d.problem;
  d.target_ii = spec.target_fps > 0 ? ii_for_fps(spec.target_fps, device)
                                    : std::numeric_limits<std::int64_t>::max();
  p.limit_resources = true;
  p.capacity = device.usable();
  for (const auto& c : spec.choices) p.bit_names.push_back(bits_name(c));
  if (spec.max_weight_bytes > 0) {
    p.budget_names.push_back("weight bytes");
    p.budgets.push_back(spec.max_weight_bytes);
  }
  if (spec.max_bops > 0) {
    p.budget_names.push_back("bit operations");
    p.budgets.push_back(spec.max_bops);
  }
  ir::Network derived = net;
  ir::derive_elementwise_bits(derived);
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const ir::Layer& layer = net.layers[l];
    p.items.push_back(layer.name);
    p.options.emplace_back();
    d.configs.emplace_back();
    // Each way this layer may run: its bits, and the bits of other layers that implies.
    struct Way {
      int index;
      ir::BitWidths bits;
      std::vector<std::pair<int, int>> requires_bits;
    };
    std::vector<Way> ways;
    const std::vector<std::size_t> fed =
        layer.has_weights() ? std::vector<std::size_t>{} : fed_layers(net, l);
    if (choosable(spec, l)) {
      for (std::size_t c = 0; c < spec.choices.size(); ++c)
        ways.push_back({static_cast<int>(c), spec.choices[c], {}});
    } else if (!fed.empty()) {
      // An element-wise layer takes the widest input precision of the layers it feeds: one
      // way per combination of the chosen ones among them (kept ones add a floor).
      std::vector<std::size_t> chosen;
      int floor = 0;
      for (std::size_t w : fed) {
        if (choosable(spec, w))
          chosen.push_back(w);
        else
          floor = std::max(floor, net.layers[w].act_bits);
      }
      for (const auto& ctx : tie_consistent_contexts(chosen, spec.choices.size(), spec.ties)) {
        Way way{0, {layer.weight_bits, floor}, {}};
        for (std::size_t k = 0; k < chosen.size(); ++k) {
          way.bits.act_bits =
              std::max(way.bits.act_bits, spec.choices[static_cast<std::size_t>(ctx[k])].act_bits);
          way.requires_bits.push_back({static_cast<int>(chosen[k]), ctx[k]});
        }
        way.index = name_index(p.bit_names, bits_name(way.bits));
        ways.push_back(way);
      }
    } else {
      // A layer no choice reaches runs at its own bits; an element-wise one at those
      // derive_elementwise_bits gives it, as the network at any choice (with_bits) has it.
      const ir::BitWidths own{layer.weight_bits,
                              layer.has_weights() ? layer.act_bits : derived.layers[l].act_bits};
      ways.push_back({name_index(p.bit_names, bits_name(own)), own, {}});
    }
    for (const Way& way : ways) {
      ir::Layer at = layer;
      at.weight_bits = way.bits.weight_bits;
      at.act_bits = way.bits.act_bits;
      const double omega =
          choosable(spec, l) ? spec.omega[l][static_cast<std::size_t>(way.index)] : 0;
      for (const auto& c :
           cheapest_copies(hw::layer_candidates(at, device, options), d.target_ii)) {
        BitOption o;
        o.bits = way.index;
        o.config = static_cast<int>(d.configs.back().size());
        o.omega = omega;
        o.res = c.cost.res;
        // Size and bit operations count the weighted layers (as HAWQ-V3's budgets do).
        const bool weighted = layer.has_weights();
        if (spec.max_weight_bytes > 0) o.use.push_back(weighted ? weight_bytes(at, way.bits) : 0);
        if (spec.max_bops > 0) o.use.push_back(weighted ? bit_operations(at, way.bits) : 0);
        o.requires_bits = way.requires_bits;
        o.split = c.config.split_thresholds;
        d.configs.back().push_back(c.config);
        p.options.back().push_back(o);
      }
    }
  }
  for (const auto& tie : spec.ties) p.ties.push_back(tie);
  // An MVAU/VVAU and the activation fused into it place their thresholds alike; at bits where
  // either cannot split, neither does.
  for (std::size_t a = 0; a < net.layers.size(); ++a) {
    const ir::Layer& act = net.layers[a];
    if (act.op == ir::OpKind::kAct && act.fused_into >= 0 &&
        hw::engine_kind(net.layers[static_cast<std::size_t>(act.fused_into)]) !=
            hw::EngineKind::kStream)
      p.links.push_back({act.fused_into, static_cast<int>(a)});
  }
  return d;
}

QuantizeResult quantize_dataflow(const ir::Network& net, const hw::Device& device,
                                 const hw::DataflowOptions& options, const QuantizeSpec& spec,
                                 const SolveOptions& solve) {
  QuantizeResult q;
  const DataflowBitInstance d = make_dataflow_bit_problem(net, device, options, spec);
  for (const auto& item : d.problem.options) q.variables += item.size();
  const std::int64_t input_ii = hw::input_transfer_cycles(net, device);
  if (d.target_ii < input_ii) {
    q.stats.status = SolveStatus::kInfeasible;
    q.reason = "bringing one input frame on chip takes " + std::to_string(input_ii) +
               " cycles, more than the " + std::to_string(d.target_ii) + " the target allows";
    return q;
  }
  const BitSolution s = solve_bits(d.problem, solve);
  q.stats = s.stats;
  if (!s.has_solution()) {
    q.reason = s.stats.status == SolveStatus::kInfeasible || s.stats.message.empty()
                   ? "every allocation of these bit choices needs more of " + device.name +
                         " than it has, at " + std::to_string(d.target_ii) + " cycles a frame"
                   : s.stats.message;
    return q;
  }
  q.feasible = true;
  q.omega = s.omega;
  q.bits.assign(net.layers.size(), -1);
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const BitOption& o = d.problem.options[l][static_cast<std::size_t>(s.choice[l])];
    if (choosable(spec, l)) q.bits[l] = o.bits;
    q.configs.push_back(d.configs[l][static_cast<std::size_t>(o.config)]);
  }
  q.network = with_bits(net, spec.choices, q.bits);
  q.dataflow = hw::evaluate_dataflow(q.network, q.configs, device, with_split_choice(options));
  q.fps = q.dataflow.fps;
  q.latency_ms = q.dataflow.latency_ms;
  q.used = q.dataflow.total;
  return q;
}

double fastest_dataflow_fps(const ir::Network& net, const hw::Device& device,
                            const hw::DataflowOptions& options, const QuantizeSpec& spec,
                            const SolveOptions& solve) {
  // Every cost of the dataflow template grows with the bits, so the narrowest choice is the
  // fastest one can build.
  const ir::Network at = at_narrowest(net, spec);
  const FoldingSolution s =
      minimize_ii(make_folding_problem(at, device, with_split_choice(options)), solve);
  if (!s.has_solution()) return 0;
  return device.clock_mhz * 1e6 / static_cast<double>(s.ii_cycles);
}

}  // namespace hao::ilp
