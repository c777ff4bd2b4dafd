#include "search/autoshrink_domain.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/description_io.hpp"
#include "ir/genotype.hpp"

namespace hao::search {
namespace {

// Which nodes a path from the cell input (node 0) reaches through the present edges.
std::vector<bool> reached(const Genotype& g, const std::vector<std::pair<int, int>>& ends,
                          std::size_t nodes) {
  std::vector<bool> r(nodes + 1, false);
  r[0] = true;
  for (std::size_t s = 0; s < ends.size(); ++s)  // ordered by target node: sources come first
    if (g[s] == 1 && r[static_cast<std::size_t>(ends[s].first)])
      r[static_cast<std::size_t>(ends[s].second)] = true;
  return r;
}

}  // namespace

AutoShrinkDomain::AutoShrinkDomain(AutoShrinkSpec spec, hw::Device device, ilp::MapOptions map)
    : NetworkDomain(std::move(device), std::move(map)), spec_(std::move(spec)), bits_{spec_.bits} {
  HAO_CHECK(spec_.nodes.size() >= 2, "autoshrink space without nodes");
  for (int j = 1; j <= static_cast<int>(spec_.nodes.size()); ++j)
    for (int i = 0; i < j; ++i) {
      slots_.push_back({"e" + std::to_string(i) + "-" + std::to_string(j), {"off", "on"}});
      ends_.emplace_back(i, j);
    }
}

bool AutoShrinkDomain::valid(const Genotype& g) const {
  if (!in_range(g)) return false;
  const std::vector<bool> r = reached(g, ends_, spec_.nodes.size());
  bool any = false;
  for (std::size_t s = 0; s < ends_.size(); ++s) {
    if (g[s] != 1) continue;
    if (!r[static_cast<std::size_t>(ends_[s].first)]) return false;
    any = true;
  }
  return any;
}

Genotype AutoShrinkDomain::random(Rng& rng) const { return snap(uniform(rng), rng); }

Genotype AutoShrinkDomain::snap(const Genotype& g, Rng&) const {
  Genotype out = clamped(g);
  const std::vector<bool> r = reached(out, ends_, spec_.nodes.size());
  bool any = false;
  for (std::size_t s = 0; s < ends_.size(); ++s) {
    if (!r[static_cast<std::size_t>(ends_[s].first)]) out[s] = 0;
    any = any || out[s] == 1;
  }
  if (!any) out[0] = 1;  // edge 0 -> 1
  return out;
}

Genotype AutoShrinkDomain::full() const { return Genotype(slots_.size(), 1); }

std::vector<std::size_t> AutoShrinkDomain::edges(const Genotype& g) const {
  std::vector<std::size_t> out;
  for (std::size_t s = 0; s < g.size(); ++s)
    if (g[s] == 1) out.push_back(s);
  return out;
}

std::string AutoShrinkDomain::label(const Genotype& g) const {
  HAO_CHECK(in_range(g), "not a genotype of this autoshrink space");
  std::string out;
  std::size_t s = 0;
  for (std::size_t j = 1; j <= spec_.nodes.size(); ++j) {
    std::vector<std::string> preds;
    for (std::size_t i = 0; i < j; ++i, ++s)
      if (g[s] == 1) preds.push_back(std::to_string(i));
    out += (j > 1 ? ";" : "") + spec_.nodes[j - 1] + ":" + core::join(preds, ",");
  }
  return out;
}

Genotype AutoShrinkDomain::parse(const std::string& text, const std::string& where) const {
  const std::vector<ir::AutoShrinkNode> nodes = ir::parse_autoshrink(text, where);
  const auto fail = [&](const std::string& why) {
    throw core::InputError(where + ": cell '" + text + "': " + why);
  };
  if (nodes.size() != spec_.nodes.size())
    fail(std::to_string(nodes.size()) + " nodes; this space's cells have " +
         std::to_string(spec_.nodes.size()) + " (" + core::join(spec_.nodes, ", ") + ")");
  Genotype g(slots_.size(), 0);
  for (std::size_t j = 1; j <= nodes.size(); ++j) {
    if (nodes[j - 1].op != spec_.nodes[j - 1])
      fail("node " + std::to_string(j) + " is " + nodes[j - 1].op + "; this space's is " +
           spec_.nodes[j - 1]);
    for (int i : nodes[j - 1].preds) g[ir::nb201_edge(static_cast<std::size_t>(i), j)] = 1;
  }
  if (!valid(g))
    fail(
        "an edge leaves a node no path from the input reaches, or no node is reached (the "
        "canonical form drops such edges)");
  return g;
}

ir::Network AutoShrinkDomain::cell_network(const Genotype& g, const std::string& name) const {
  ir::AutoShrinkMacro macro;
  macro.input = {spec_.input_channels, spec_.input_height, spec_.input_width};
  macro.classes = spec_.classes;
  macro.cells_per_stage = spec_.cells_per_stage;
  ir::Network net = ir::expand_autoshrink(label(g), "genotype", macro);
  net.name = name;
  for (ir::Layer& l : net.layers) l.weight_bits = l.act_bits = spec_.bits;
  return net;
}

std::optional<Topology> AutoShrinkDomain::topology(const Genotype& g) const {
  Topology t;
  for (const ir::Layer& l : cell_network(g).layers) {
    t.macs += static_cast<double>(l.macs());
    t.parameters += static_cast<double>(l.weights());
    t.bit_ops += static_cast<double>(l.macs()) * l.weight_bits * l.act_bits;
  }
  return t;
}

std::string AutoShrinkDomain::description(const Genotype& g, const std::string& name) const {
  return ir::to_yaml(cell_network(g, name));
}

}  // namespace hao::search
