#include "ir/bits.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <regex>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/yaml_text.hpp"

namespace hao::ir {

bool parse_bit_widths(const std::string& text, const std::string& where, BitWidths& out) {
  static const std::regex kPattern("^[wW]([0-9]+)[aA]([0-9]+)$");
  std::smatch m;
  if (!std::regex_match(text, m, kPattern)) return false;
  std::int64_t w = 0, a = 0;
  bool ok = core::parse_int(m[1].str(), w) && core::parse_int(m[2].str(), a);
  if (!ok || w < 1 || w > 16 || a < 1 || a > 16)
    throw core::InputError(where + ": bits '" + text +
                           "': weight and activation bits must be within 1..16");
  out.weight_bits = static_cast<int>(w);
  out.act_bits = static_cast<int>(a);
  return true;
}

namespace {

int read_width(const YAML::Node& node, const std::string& path, core::IssueList& issues) {
  try {
    int v = node.as<int>();
    if (v >= 1 && v <= 16) return v;
    issues.add(path, std::to_string(v) + " is outside 1..16");
  } catch (const YAML::Exception&) {
    issues.add(path, "'" + yaml_text(node) + "' is not an integer");
  }
  return 0;
}

}  // namespace

void apply_bits(Network& net, const std::string& spec) {
  BitWidths uniform;
  if (parse_bit_widths(spec, "--bits", uniform)) {
    for (auto& l : net.layers) {
      l.weight_bits = uniform.weight_bits;
      l.act_bits = uniform.act_bits;
    }
    return;
  }
  apply_bits_text(net, core::read_file(spec), spec);
}

void apply_bits_text(Network& net, const std::string& text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw core::InputError(where + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  core::IssueList issues(where);
  std::vector<bool> named(net.layers.size(), false);
  if (!root.IsMap()) {
    issues.add("", "expected a map from layer names to bit-widths such as w4a4");
    issues.throw_if_any();
  }
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) {
      issues.add("line " + std::to_string(kv.first.Mark().line + 1),
                 "a key must be a layer name, not '" + yaml_text(kv.first) + "'");
      continue;
    }
    const std::string name = kv.first.Scalar();
    const int index = net.find(name);
    if (index < 0) {
      issues.add(name, "no such layer in network '" + net.name + "'");
      continue;
    }
    Layer& l = net.layers[static_cast<std::size_t>(index)];
    named[static_cast<std::size_t>(index)] = true;
    const YAML::Node& v = kv.second;
    if (v.IsScalar()) {
      BitWidths b;
      try {
        if (parse_bit_widths(v.as<std::string>(), where + ": " + name, b)) {
          l.weight_bits = b.weight_bits;
          l.act_bits = b.act_bits;
        } else {
          issues.add(name, "'" + v.as<std::string>() + "', expected wXaY such as w4a8");
        }
      } catch (const core::InputError& e) {
        issues.absorb(e);
      }
    } else if (v.IsMap()) {
      for (const auto& f : v) {
        const std::string key = f.first.IsScalar() ? f.first.Scalar() : yaml_text(f.first);
        if (key == "weight_bits") {
          if (int w = read_width(f.second, name + ".weight_bits", issues)) l.weight_bits = w;
        } else if (key == "act_bits") {
          if (int a = read_width(f.second, name + ".act_bits", issues)) l.act_bits = a;
        } else {
          issues.add(name + "." + key, "unknown key, expected weight_bits or act_bits");
        }
      }
    } else {
      issues.add(name, "'" + yaml_text(v) + "', expected wXaY or {weight_bits, act_bits}");
    }
  }
  issues.throw_if_any();
  derive_elementwise_bits(net, named);
}

void derive_elementwise_bits(Network& net, const std::vector<bool>& keep) {
  const std::size_t n = net.layers.size();
  std::vector<std::vector<int>> readers(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int p : net.layers[i].inputs)
      if (p != kNetworkInput) readers[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
  // Layers are in topological order: walk back so that every reader is settled first.
  // fed[i]: the widest input precision of the weighted layers that i's output reaches through
  // element-wise layers, 0 when none.
  std::vector<int> fed(n, 0);
  for (std::size_t i = n; i-- > 0;) {
    for (int r : readers[i]) {
      const Layer& reader = net.layers[static_cast<std::size_t>(r)];
      fed[i] = std::max(fed[i],
                        reader.has_weights() ? reader.act_bits : fed[static_cast<std::size_t>(r)]);
    }
    Layer& l = net.layers[i];
    if (l.has_weights()) continue;
    if (fed[i] > 0 && (keep.empty() || !keep[i])) l.act_bits = fed[i];
    // An element-wise reader passes on data at the precision its own input is taken at.
    fed[i] = l.act_bits;
  }
}

std::string bits_summary(const Network& net) {
  std::map<std::string, int> counts;
  std::vector<const Layer*> weighted;
  for (const auto& l : net.layers)
    if (l.has_weights()) weighted.push_back(&l);
  auto wa = [](const Layer& l) {
    return "w" + std::to_string(l.weight_bits) + "a" + std::to_string(l.act_bits);
  };
  for (std::size_t i = 1; i + 1 < weighted.size(); ++i) ++counts[wa(*weighted[i])];
  std::string s = weighted.empty() ? "" : weighted.front()->name + " " + wa(*weighted.front());
  for (const auto& [bits, n] : counts) s += ", " + std::to_string(n) + " layers " + bits;
  if (weighted.size() > 1) s += ", " + weighted.back()->name + " " + wa(*weighted.back());
  return s;
}

}  // namespace hao::ir
