#include "hw/folding_io.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"

namespace hao::hw {
namespace {

// FINN's ram_style for a weight memory.
const char* ram_style(WeightMemory m) {
  switch (m) {
    case WeightMemory::kLutram:
      return "distributed";
    case WeightMemory::kUram:
      return "ultra";
    case WeightMemory::kBram:
      break;
  }
  return "block";
}

// FINN's node base names, one per kind of layer hao models. The first name is written; the
// others are accepted when reading (older and newer FINN releases).
struct NodeKind {
  const char* key;
  std::vector<const char*> bases;
};
const std::vector<NodeKind> kNodeKinds = {
    {"mvau", {"MVAU", "MatrixVectorActivation", "StreamingFCLayer"}},
    {"vvau", {"VVAU", "VectorVectorActivation"}},
    {"maxpool", {"StreamingMaxPool"}},
    {"avgpool", {"Pool"}},
    {"gpool", {"GlobalAccPool"}},
    {"add", {"AddStreams"}},
    {"mul", {"ElementwiseMul"}},
    {"concat", {"StreamingConcat"}},
    {"act", {"Thresholding"}},
};

const char* kind_key(const ir::Layer& l) {
  switch (engine_kind(l)) {
    case EngineKind::kMvau:
      return "mvau";
    case EngineKind::kVvau:
      return "vvau";
    case EngineKind::kStream:
      break;
  }
  switch (l.op) {
    case ir::OpKind::kMaxPool:
      return "maxpool";
    case ir::OpKind::kAvgPool:
      return "avgpool";
    case ir::OpKind::kGlobalAvgPool:
      return "gpool";
    case ir::OpKind::kAdd:
      return "add";
    case ir::OpKind::kMul:
      return "mul";
    case ir::OpKind::kConcat:
      return "concat";
    default:
      return "act";
  }
}

const char* written_base(const std::string& key) {
  for (const auto& k : kNodeKinds)
    if (key == k.key) return k.bases.front();
  return "?";
}

// (kind key, ordinal within the kind) -> layer index
std::map<std::pair<std::string, int>, int> layer_slots(const ir::Network& net) {
  std::map<std::pair<std::string, int>, int> slots;
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const std::string key = kind_key(net.layers[i]);
    slots[{key, counts[key]++}] = static_cast<int>(i);
  }
  return slots;
}

}  // namespace

std::vector<std::string> finn_node_names(const ir::Network& net) {
  std::vector<std::string> names;
  std::map<std::string, int> counts;
  for (const auto& l : net.layers) {
    const std::string key = kind_key(l);
    names.push_back(std::string(written_base(key)) + "_hls_" + std::to_string(counts[key]++));
  }
  return names;
}

FoldingFile read_folding(const std::string& path, const ir::Network& net, const Device& device) {
  const nlohmann::json root = core::read_json(path);
  core::IssueList issues(path);
  if (!root.is_object()) {
    issues.add("", "expected a JSON object of FINN node names");
    issues.throw_if_any();
  }
  FoldingFile out;
  out.configs.assign(net.layers.size(), LayerConfig{});
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    LayerConfig& c = out.configs[i];
    if (engine_kind(net.layers[i]) == EngineKind::kStream) c.mac = MacMapping::kLut;
    c.memory = auto_weight_memory(net.layers[i], c);
  }
  const auto slots = layer_slots(net);
  std::vector<bool> seen(net.layers.size(), false);
  static const std::regex kName("^([A-Za-z]+?)(?:_Batch)?(?:_(?:hls|rtl))?_([0-9]+)$");
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string node = it.key();
    if (node == "Defaults") continue;
    std::smatch m;
    std::string key;
    if (std::regex_match(node, m, kName)) {
      for (const auto& k : kNodeKinds)
        for (const char* base : k.bases)
          if (m[1].str() == base) key = k.key;
    }
    if (key.empty()) {
      out.notes.push_back(node + ": not a layer hao models, skipped");
      continue;
    }
    const int ordinal = std::stoi(m[2].str());
    auto slot = slots.find({key, ordinal});
    if (slot == slots.end()) {
      issues.add(node,
                 "the network has no such layer (" + net.name + " has fewer " + key + " layers)");
      continue;
    }
    const auto index = static_cast<std::size_t>(slot->second);
    const ir::Layer& layer = net.layers[index];
    LayerConfig& c = out.configs[index];
    seen[index] = true;
    const nlohmann::json& attrs = it.value();
    if (!attrs.is_object()) {
      issues.add(node, "expected an object with PE and SIMD");
      continue;
    }
    auto get_lanes = [&](const char* name, std::int64_t& v) {
      if (!attrs.contains(name)) return;
      const auto& a = attrs[name];
      if (!a.is_number_integer() || a.get<std::int64_t>() < 1) {
        issues.add(node + "." + name, "'" + a.dump() + "', expected a positive integer");
        return;
      }
      v = a.get<std::int64_t>();
    };
    get_lanes("PE", c.pe);
    get_lanes("SIMD", c.simd);
    if (attrs.contains("resType") && engine_kind(layer) != EngineKind::kStream) {
      const auto& r = attrs["resType"];
      const std::string s = r.is_string() ? r.get<std::string>() : r.dump();
      if (s == "dsp")
        c.mac = MacMapping::kDsp;
      else if (s == "lut")
        c.mac = MacMapping::kLut;
      else if (s == "auto")
        c.mac =
            (layer.weight_bits >= 4 && layer.act_bits >= 4) ? MacMapping::kDsp : MacMapping::kLut;
      else
        issues.add(node + ".resType", "'" + s + "', expected lut, dsp or auto");
    }
    // ram_style "auto" (FINN's default) or none: where Vivado would put the memory.
    std::string style = "auto";
    if (attrs.contains("ram_style") && engine_kind(layer) != EngineKind::kStream) {
      const auto& r = attrs["ram_style"];
      style = r.is_string() ? r.get<std::string>() : r.dump();
      if (style == "ultra")
        c.memory = WeightMemory::kUram;
      else if (style == "block")
        c.memory = WeightMemory::kBram;
      else if (style == "distributed")
        c.memory = WeightMemory::kLutram;
      else if (style != "auto")
        issues.add(node + ".ram_style",
                   "'" + style + "', expected block, distributed, ultra or auto");
    }
    if (style == "auto") c.memory = auto_weight_memory(layer, c);
    std::string why;
    if (!config_is_legal(layer, c, device, why))
      issues.add(node, "layer '" + layer.name + "': " + why);
  }
  issues.throw_if_any();
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    if (!seen[i] && engine_kind(net.layers[i]) != EngineKind::kStream)
      out.notes.push_back("layer '" + net.layers[i].name + "' is not in the file: PE = SIMD = 1");
  return out;
}

std::string folding_json(const ir::Network& net, const std::vector<LayerConfig>& configs) {
  nlohmann::ordered_json j;
  j["Defaults"] = nlohmann::ordered_json::object();
  const auto names = finn_node_names(net);
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    nlohmann::ordered_json n;
    const bool stream = engine_kind(net.layers[i]) == EngineKind::kStream;
    n["PE"] = configs[i].pe;
    if (!stream) {
      n["SIMD"] = configs[i].simd;
      n["resType"] = to_string(configs[i].mac);
      n["ram_style"] = ram_style(configs[i].memory);
    }
    j[names[i]] = n;
  }
  return j.dump(2) + "\n";
}

}  // namespace hao::hw
