#include "search/dense_domain.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "search/autoshrink_domain.hpp"
#include "search/mbv2_domain.hpp"
#include "search/nn_degree.hpp"

namespace hao::search {
namespace {

constexpr std::size_t kSlotsPerCell = 4;  // width, depth, skips, bits
const char* const kKeys[kSlotsPerCell] = {"w", "d", "t", "b"};

std::vector<std::string> texts(const std::vector<int>& values) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(std::to_string(v));
  return out;
}

}  // namespace

DenseDomain::DenseDomain(DenseSpec spec, hw::Device device, ilp::MapOptions map)
    : NetworkDomain(std::move(device), std::move(map)), spec_(std::move(spec)) {
  HAO_CHECK(spec_.cells > 0 && !spec_.width.empty() && !spec_.depth.empty() &&
                !spec_.skips.empty() && !spec_.bits.empty(),
            "densenet space without choices");
  for (int c = 0; c < spec_.cells; ++c) {
    const std::string p = "c" + std::to_string(c) + ".";
    slots_.push_back({p + "width", texts(spec_.width)});
    slots_.push_back({p + "depth", texts(spec_.depth)});
    slots_.push_back({p + "skips", texts(spec_.skips)});
    slots_.push_back({p + "bits", texts(spec_.bits)});
  }
}

bool DenseDomain::valid(const Genotype& g) const { return in_range(g); }

Genotype DenseDomain::random(Rng& rng) const { return uniform(rng); }

Genotype DenseDomain::snap(const Genotype& g, Rng&) const { return clamped(g); }

std::vector<DenseDomain::Cell> DenseDomain::cells(const Genotype& g) const {
  HAO_CHECK(valid(g), "not a genotype of this densenet space");
  std::vector<Cell> out;
  for (std::size_t c = 0; c < static_cast<std::size_t>(spec_.cells); ++c) {
    const auto at = [&](std::size_t k) {
      return static_cast<std::size_t>(g[c * kSlotsPerCell + k]);
    };
    out.push_back({spec_.width[at(0)], spec_.depth[at(1)], spec_.skips[at(2)], spec_.bits[at(3)]});
  }
  return out;
}

std::string DenseDomain::label(const Genotype& g) const {
  std::string out;
  const auto cs = cells(g);
  for (std::size_t c = 0; c < cs.size(); ++c)
    out += (c ? ";c" : "c") + std::to_string(c) + ":w" + std::to_string(cs[c].width) + ",d" +
           std::to_string(cs[c].depth) + ",t" + std::to_string(cs[c].skips) + ",b" +
           std::to_string(cs[c].bits);
  return out;
}

Genotype DenseDomain::parse(const std::string& text, const std::string& where) const {
  auto fail = [&](const std::string& why) -> Genotype {
    throw core::InputError(where + ": genotype '" + text + "': " + why);
  };
  const auto parts = core::split(text, ';');
  if (parts.size() != static_cast<std::size_t>(spec_.cells))
    fail("expected " + std::to_string(spec_.cells) + " ';'-separated cells");
  Genotype g(slots_.size(), 0);
  for (std::size_t c = 0; c < parts.size(); ++c) {
    const std::string head = "c" + std::to_string(c) + ":";
    if (parts[c].rfind(head, 0) != 0)
      fail("cell " + std::to_string(c) + " must start with " + head);
    const auto fields = core::split(parts[c].substr(head.size()), ',');
    if (fields.size() != kSlotsPerCell)
      fail("cell " + std::to_string(c) + ": expected wW,dD,tT,bB");
    for (std::size_t k = 0; k < kSlotsPerCell; ++k) {
      if (fields[k].rfind(kKeys[k], 0) != 0)
        fail("cell " + std::to_string(c) + ": '" + fields[k] + "' must start with " + kKeys[k]);
      if (const std::string problem = set_choice(g, c * kSlotsPerCell + k, fields[k].substr(1));
          !problem.empty())
        fail(problem);
    }
  }
  return g;
}

std::optional<Topology> DenseDomain::topology(const Genotype& g) const {
  // In closed form (no network built): FLASH's co-design evaluates thousands of genotypes.
  Topology t;
  const double k2 = static_cast<double>(spec_.kernel) * spec_.kernel;
  double in = spec_.input_channels;
  int in_bits = spec_.input_bits, h = spec_.input_height, w = spec_.input_width;
  const auto add = [&](double weights, double pixels, int weight_bits, int act_bits) {
    t.parameters += weights;
    t.macs += weights * pixels;
    t.bit_ops += weights * pixels * weight_bits * act_bits;
  };
  bool first = true;
  for (const Cell& c : cells(g)) {
    if (!first) {  // a stride-2 transition, padded by half its kernel
      h = (h + 2 * (spec_.kernel / 2) - spec_.kernel) / 2 + 1;
      w = (w + 2 * (spec_.kernel / 2) - spec_.kernel) / 2 + 1;
    }
    first = false;
    const double pixels = static_cast<double>(h) * w;
    t.nn_degree += dense_window_cell_degree(c.width, c.depth, c.skips);
    add(k2 * in * c.width, pixels, c.bits, in_bits);
    for (int j = 1; j <= c.depth; ++j)
      add(k2 * c.width * (1.0 + std::min(c.skips, j - 1)) * c.width, pixels, c.bits, c.bits);
    in = c.width;
    in_bits = c.bits;
  }
  add(in * spec_.classes, 1, spec_.classifier_bits, spec_.classifier_bits);
  return t;
}

std::vector<std::vector<std::size_t>> DenseDomain::hierarchy() const {
  // FLASH's level 1 (widths and depths) with the bits: the predictor does not see bits, but
  // they set how large a network meets the latency, so they are chosen with its size.
  std::vector<std::vector<std::size_t>> levels(2);
  for (std::size_t c = 0; c < static_cast<std::size_t>(spec_.cells); ++c) {
    levels[0].push_back(c * kSlotsPerCell);      // width
    levels[0].push_back(c * kSlotsPerCell + 1);  // depth
    levels[0].push_back(c * kSlotsPerCell + 3);  // bits
    levels[1].push_back(c * kSlotsPerCell + 2);  // skips
  }
  return levels;
}

std::vector<double> DenseDomain::features(const Genotype& g) const {
  std::vector<double> f = Domain::features(g);
  for (const Cell& c : cells(g)) {
    f.push_back(c.width / 8.0);
    f.push_back(c.depth);
    f.push_back(c.skips);
  }
  // MACs in closed form (topology): no network built per feature row.
  f.push_back(std::log2(std::max(1.0, topology(g)->macs)) / 2);
  return f;
}

std::string DenseDomain::description(const Genotype& g, const std::string& name) const {
  const DenseSpec& s = spec_;
  std::ostringstream y;
  y << description_head(name, s.input_channels, s.input_height, s.input_width, s.input_bits);
  std::string last;  // the previous cell's output ("" for the network input)
  int in_bits = s.input_bits;
  const std::vector<Cell> cs = cells(g);
  for (std::size_t c = 0; c < cs.size(); ++c) {
    const Cell& cell = cs[c];
    const std::string p = "c" + std::to_string(c) + "_";
    const std::string bits = std::to_string(cell.bits);
    const auto conv = [&](const std::string& layer, int stride, const std::string& input,
                          int reads_bits) {
      y << "  - {name: " << layer << ", op: conv, out_channels: " << cell.width
        << ", kernel: " << s.kernel << ", stride: " << stride << ", padding: " << s.kernel / 2
        << (input.empty() ? std::string() : ", inputs: [" + input + "]")
        << ", folded_norm: true, weight_bits: " << bits << ", act_bits: " << reads_bits << "}\n"
        << "  - {name: " << layer << "_relu, op: relu, act_bits: " << bits << "}\n";
    };
    // Layer 0 is the transition; layer j reads layer j - 1 and layers j-2 .. j-1-skips.
    std::vector<std::string> outputs{p + "l0_relu"};
    conv(p + "l0", c == 0 ? 1 : 2, last, in_bits);
    for (int j = 1; j <= cell.depth; ++j) {
      std::string input = outputs[static_cast<std::size_t>(j - 1)];
      const int links = std::min(cell.skips, j - 1);
      if (links > 0) {
        std::string list = input;
        for (int k = 1; k <= links; ++k)
          list += ", " + outputs[static_cast<std::size_t>(j - 1 - k)];
        input = p + "l" + std::to_string(j) + "_cat";
        y << "  - {name: " << input << ", op: concat, inputs: [" << list << "], act_bits: " << bits
          << "}\n";
      }
      conv(p + "l" + std::to_string(j), 1, input, cell.bits);
      outputs.push_back(p + "l" + std::to_string(j) + "_relu");
    }
    last = outputs.back();
    in_bits = cell.bits;
  }
  y << "  - {name: pool, op: global_avgpool, act_bits: " << in_bits << "}\n"
    << "  - {name: classifier, op: fc, out_channels: " << s.classes
    << ", bias: true, weight_bits: " << s.classifier_bits << ", act_bits: " << s.classifier_bits
    << "}\n";
  return y.str();
}

std::unique_ptr<NetworkDomain> make_network_domain(const SpaceSpec& spec, hw::Device device,
                                                   ilp::MapOptions map) {
  if (spec.kind == "mbv2")
    return std::make_unique<Mbv2Domain>(spec.mbv2, std::move(device), std::move(map));
  if (spec.kind == "densenet")
    return std::make_unique<DenseDomain>(spec.dense, std::move(device), std::move(map));
  if (spec.kind == "autoshrink")
    return std::make_unique<AutoShrinkDomain>(spec.autoshrink, std::move(device), std::move(map));
  throw core::InputError("space '" + spec.name + "' (kind " + spec.kind +
                         ") has no networks to build: expected kind mbv2, densenet or autoshrink");
}

std::optional<ir::Network> space_member_network(const std::string& model) {
  const std::size_t colon = model.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const std::string space = model.substr(0, colon);
  const std::string ext = std::filesystem::path(space).extension().string();
  if (!builtin_space(space) && ext != ".yaml" && ext != ".yml") return std::nullopt;
  const SpaceSpec spec = load_space(space, "");  // the data folder matters to tabular ones only
  if (spec.kind == "tabular")
    throw core::InputError("model '" + model + "': space " + spec.name +
                           " is a table of measured architectures, not networks hao builds " +
                           "(a NAS-Bench-201 cell is nb201:ARCH)");
  // The description does not depend on the device; the domain needs one.
  const auto domain = make_network_domain(spec, hw::load_device("zu3eg"));
  return domain->network(domain->parse(model.substr(colon + 1), "model " + model), spec.name);
}

}  // namespace hao::search
