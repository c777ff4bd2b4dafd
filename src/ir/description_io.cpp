#include "ir/description_io.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/yaml_text.hpp"

namespace hao::ir {
namespace {

// Reads typed fields from YAML nodes, recording each problem instead of throwing.
class FieldReader {
 public:
  explicit FieldReader(core::IssueList& issues) : issues_(issues) {}

  bool get_int(const YAML::Node& map, const std::string& key, const std::string& path,
               std::int64_t& out) {
    const YAML::Node n = map[key];
    if (!n) return false;
    if (!n.IsScalar() || !core::parse_int(n.Scalar(), out)) {
      issues_.add(path + "." + key, "'" + yaml_text(n) + "' is not an integer");
      return false;
    }
    return true;
  }
  bool get_double(const YAML::Node& map, const std::string& key, const std::string& path,
                  double& out) {
    const YAML::Node n = map[key];
    if (!n) return false;
    if (!n.IsScalar() || !core::parse_double(n.Scalar(), out)) {
      issues_.add(path + "." + key, "'" + yaml_text(n) + "' is not a number");
      return false;
    }
    return true;
  }
  bool get_bool(const YAML::Node& map, const std::string& key, const std::string& path, bool& out) {
    const YAML::Node n = map[key];
    if (!n) return false;
    const std::string s = n.IsScalar() ? core::to_lower(n.Scalar()) : "";
    if (s == "true" || s == "yes")
      out = true;
    else if (s == "false" || s == "no")
      out = false;
    else {
      issues_.add(path + "." + key, "'" + yaml_text(n) + "' is not true or false");
      return false;
    }
    return true;
  }
  bool get_string(const YAML::Node& map, const std::string& key, const std::string& path,
                  std::string& out) {
    const YAML::Node n = map[key];
    if (!n) return false;
    if (!n.IsScalar()) {
      issues_.add(path + "." + key, "'" + yaml_text(n) + "' is not a string");
      return false;
    }
    out = n.Scalar();
    return true;
  }
  // An integer or a list of `count` integers (e.g. kernel: 3 or kernel: [3, 1]).
  bool get_ints(const YAML::Node& map, const std::string& key, const std::string& path,
                std::size_t count, std::vector<std::int64_t>& out) {
    const YAML::Node n = map[key];
    if (!n) return false;
    std::int64_t v = 0;
    if (n.IsScalar() && core::parse_int(n.Scalar(), v)) {
      out.assign(count, v);
      return true;
    }
    if (n.IsSequence() && n.size() == count) {
      out.clear();
      for (const auto& e : n) {
        if (!e.IsScalar() || !core::parse_int(e.Scalar(), v)) break;
        out.push_back(v);
      }
      if (out.size() == count) return true;
    }
    issues_.add(path + "." + key, "'" + yaml_text(n) + "', expected an integer or a list of " +
                                      std::to_string(count) + " integers");
    return false;
  }
  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& allowed) {
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : yaml_text(kv.first);
      bool known = false;
      for (const auto& a : allowed) known = known || a == key;
      if (!known)
        issues_.add(path + "." + key, "unknown key, expected " + core::join_choices(allowed));
    }
  }

 private:
  core::IssueList& issues_;
};

const std::vector<std::string> kLayerKeys = {
    "name",     "op",          "inputs",         "out_channels", "kernel",    "stride",
    "padding",  "groups",      "depthwise",      "bias",         "ceil_mode", "weight_bits",
    "act_bits", "folded_norm", "negative_slope", "scale",        "dilation"};

bool lookup_op(const std::string& text, OpKind& op, ActKind& act) {
  for (OpKind k :
       {OpKind::kConv, OpKind::kFc, OpKind::kMaxPool, OpKind::kAvgPool, OpKind::kGlobalAvgPool,
        OpKind::kAdd, OpKind::kMul, OpKind::kConcat, OpKind::kUpsample, OpKind::kPixelPad}) {
    if (op_name(k) == text) {
      op = k;
      return true;
    }
  }
  for (ActKind a :
       {ActKind::kRelu, ActKind::kRelu6, ActKind::kClip, ActKind::kSigmoid, ActKind::kHardSigmoid,
        ActKind::kHardSwish, ActKind::kSilu, ActKind::kGelu, ActKind::kLeakyRelu, ActKind::kTanh}) {
    if (act_name(a) == text) {
      op = OpKind::kAct;
      act = a;
      return true;
    }
  }
  return false;
}

std::vector<std::string> accepted_op_names() {
  std::vector<std::string> names;
  for (const auto& n : op_names())
    if (n != "act") names.push_back(n);
  for (const auto& n : act_names()) names.push_back(n);
  return names;
}

}  // namespace

Network parse_description(const std::string& text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw core::InputError(where + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  core::IssueList issues(where);
  if (!root.IsMap()) {
    issues.add("", "expected a map with keys name, input and layers");
    issues.throw_if_any();
  }
  FieldReader r(issues);
  r.check_keys(root, "", {"name", "input", "defaults", "layers"});

  Network net;
  net.name = "network";
  r.get_string(root, "name", "", net.name);

  const YAML::Node input = root["input"];
  if (!input || !input.IsMap()) {
    issues.add("input", "missing, expected {channels, height, width[, bits]}");
  } else {
    r.check_keys(input, "input", {"channels", "height", "width", "bits"});
    std::int64_t bits = 8;
    for (auto [key, field] :
         {std::pair{"channels", &net.input.c}, std::pair{"height", &net.input.h},
          std::pair{"width", &net.input.w}}) {
      if (!input[key])
        issues.add(std::string("input.") + key, "missing");
      else
        r.get_int(input, key, "input", *field);
    }
    if (r.get_int(input, "bits", "input", bits)) net.input_bits = static_cast<int>(bits);
  }

  std::int64_t default_wbits = 8, default_abits = 8;
  if (const YAML::Node d = root["defaults"]) {
    if (!d.IsMap())
      issues.add("defaults", "expected a map {weight_bits, act_bits}");
    else {
      r.check_keys(d, "defaults", {"weight_bits", "act_bits"});
      r.get_int(d, "weight_bits", "defaults", default_wbits);
      r.get_int(d, "act_bits", "defaults", default_abits);
    }
  }

  const YAML::Node layers = root["layers"];
  if (!layers || !layers.IsSequence()) {
    issues.add("layers", "missing, expected a list of layers");
    issues.throw_if_any();
  }
  std::map<std::string, int> index_of;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const YAML::Node n = layers[i];
    std::string path = "layers[" + std::to_string(i) + "]";
    Layer l;
    if (!n.IsMap()) {
      issues.add(path, "expected a map with at least name and op");
      continue;
    }
    if (!r.get_string(n, "name", path, l.name)) issues.add(path + ".name", "missing");
    path += " '" + l.name + "'";
    r.check_keys(n, path, kLayerKeys);

    std::string op;
    if (!r.get_string(n, "op", path, op)) {
      issues.add(path + ".op", "missing, expected " + core::join_choices(accepted_op_names()));
    } else if (!lookup_op(op, l.op, l.act)) {
      issues.add(path + ".op",
                 "unknown op '" + op + "', expected " + core::join_choices(accepted_op_names()));
    }

    if (const YAML::Node in = n["inputs"]) {
      std::vector<std::string> names;
      if (in.IsScalar())
        names.push_back(in.Scalar());
      else if (in.IsSequence())
        for (const auto& e : in) names.push_back(e.IsScalar() ? e.Scalar() : yaml_text(e));
      else
        issues.add(path + ".inputs", "expected a layer name or a list of names");
      for (const auto& name : names) {
        if (name == "input")
          l.inputs.push_back(kNetworkInput);
        else if (auto it = index_of.find(name); it != index_of.end())
          l.inputs.push_back(it->second);
        else
          issues.add(path + ".inputs", "'" + name + "' is not an earlier layer or 'input'");
      }
    } else {
      l.inputs.push_back(static_cast<int>(i) - 1);  // previous layer, or the input for i = 0
    }

    std::int64_t v = 0;
    if (r.get_int(n, "out_channels", path, v)) l.out_channels = v;
    std::vector<std::int64_t> pair;
    if (r.get_ints(n, "kernel", path, 2, pair)) l.kernel_h = pair[0], l.kernel_w = pair[1];
    if (r.get_ints(n, "stride", path, 2, pair)) l.stride_h = pair[0], l.stride_w = pair[1];
    if (r.get_ints(n, "dilation", path, 2, pair)) {
      l.dilation_h = pair[0], l.dilation_w = pair[1];
      if (l.op != OpKind::kConv) issues.add(path + ".dilation", "only a conv has one");
    }
    if (r.get_ints(n, "scale", path, 2, pair)) {
      l.scale_h = pair[0], l.scale_w = pair[1];
      if (l.op != OpKind::kUpsample) issues.add(path + ".scale", "only an upsample has one");
    } else if (l.op == OpKind::kUpsample && !n["scale"]) {
      issues.add(path + ".scale", "missing (required for upsample: an integer or [h, w])");
    }
    if (l.op == OpKind::kMaxPool || l.op == OpKind::kAvgPool) {
      if (!n["stride"]) l.stride_h = l.kernel_h, l.stride_w = l.kernel_w;
    }
    if (l.op == OpKind::kPixelPad && !n["stride"])
      issues.add(path + ".stride", "missing (required for pixel_pad: an integer or [h, w])");
    std::vector<std::int64_t> pads;
    if (r.get_ints(n, "padding", path, 4, pads)) {
      l.pad_top = pads[0], l.pad_left = pads[1], l.pad_bottom = pads[2], l.pad_right = pads[3];
    }
    if (r.get_int(n, "groups", path, v)) l.groups = v;
    r.get_bool(n, "depthwise", path, l.depthwise);
    r.get_bool(n, "bias", path, l.has_bias);
    r.get_bool(n, "folded_norm", path, l.folded_norm);
    r.get_bool(n, "ceil_mode", path, l.ceil_mode);
    l.weight_bits = static_cast<int>(default_wbits);
    l.act_bits = static_cast<int>(default_abits);
    if (r.get_int(n, "weight_bits", path, v)) l.weight_bits = static_cast<int>(v);
    if (r.get_int(n, "act_bits", path, v)) l.act_bits = static_cast<int>(v);
    if ((l.op == OpKind::kConv || l.op == OpKind::kFc) && !n["out_channels"] && !l.depthwise)
      issues.add(path + ".out_channels", "missing (required for " + op_name(l.op) + ")");
    if (l.depthwise && l.op != OpKind::kConv)
      issues.add(path + ".depthwise", "only a conv can be depthwise");
    if (r.get_double(n, "negative_slope", path, l.negative_slope)) {
      if (l.op != OpKind::kAct || l.act != ActKind::kLeakyRelu)
        issues.add(path + ".negative_slope", "only a leaky_relu has one");
      else if (!(l.negative_slope >= 0 && l.negative_slope <= 1e6))
        issues.add(path + ".negative_slope",
                   core::fixed(l.negative_slope, 4) +
                       ", expected >= 0 (a negative slope makes the activation non-monotonic, "
                       "which FINN's thresholds cannot compute)");
    }
    if (l.folded_norm && !l.has_weights() && l.op != OpKind::kAct)
      issues.add(path + ".folded_norm",
                 "only a conv, an fc or an activation (a batch norm before it) has one");

    index_of[l.name] = static_cast<int>(i);
    net.layers.push_back(std::move(l));
  }
  issues.throw_if_any();
  infer_shapes(net, where);
  note_finn_limits(net);
  return net;
}

Network read_description(const std::string& path) {
  return parse_description(core::read_file(path), path);
}

namespace {

std::string input_name(const Network& net, int index) {
  return index == kNetworkInput ? "input" : net.layers[static_cast<std::size_t>(index)].name;
}

std::string op_text(const Layer& l) {
  return l.op == OpKind::kAct ? act_name(l.act) : op_name(l.op);
}

nlohmann::ordered_json layer_json(const Network& net, const Layer& l) {
  nlohmann::ordered_json j;
  j["name"] = l.name;
  j["op"] = op_text(l);
  std::vector<std::string> inputs;
  for (int p : l.inputs) inputs.push_back(input_name(net, p));
  j["inputs"] = inputs;
  if (l.has_weights()) j["out_channels"] = l.out_channels;
  const bool windowed =
      l.op == OpKind::kConv || l.op == OpKind::kMaxPool || l.op == OpKind::kAvgPool;
  if (windowed) {
    j["kernel"] = {l.kernel_h, l.kernel_w};
    j["stride"] = {l.stride_h, l.stride_w};
    j["padding"] = {l.pad_top, l.pad_left, l.pad_bottom, l.pad_right};
  }
  if (l.op == OpKind::kConv) j["groups"] = l.groups;
  if (l.dilation_h != 1 || l.dilation_w != 1) j["dilation"] = {l.dilation_h, l.dilation_w};
  if (l.op == OpKind::kUpsample) j["scale"] = {l.scale_h, l.scale_w};
  if (l.op == OpKind::kPixelPad) j["stride"] = {l.stride_h, l.stride_w};
  if (l.op == OpKind::kMaxPool || l.op == OpKind::kAvgPool) j["ceil_mode"] = l.ceil_mode;
  if (l.has_weights()) {
    j["bias"] = l.has_bias;
    j["folded_norm"] = l.folded_norm;
    j["weight_bits"] = l.weight_bits;
  }
  if (l.op == OpKind::kAct && l.folded_norm) j["folded_norm"] = true;
  if (l.op == OpKind::kAct && l.act == ActKind::kLeakyRelu) j["negative_slope"] = l.negative_slope;
  j["act_bits"] = l.act_bits;
  return j;
}

nlohmann::ordered_json network_json(const Network& net) {
  nlohmann::ordered_json j;
  j["name"] = net.name;
  j["input"] = {{"channels", net.input.c},
                {"height", net.input.h},
                {"width", net.input.w},
                {"bits", net.input_bits}};
  j["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : net.layers) j["layers"].push_back(layer_json(net, l));
  return j;
}

void emit(YAML::Emitter& e, const nlohmann::ordered_json& j, bool flow) {
  if (j.is_object()) {
    if (flow) e << YAML::Flow;
    e << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      e << YAML::Key << it.key() << YAML::Value;
      emit(e, it.value(), flow || it.value().is_array());
    }
    e << YAML::EndMap;
  } else if (j.is_array()) {
    if (flow) e << YAML::Flow;
    e << YAML::BeginSeq;
    for (const auto& v : j) emit(e, v, v.is_object() || flow);
    e << YAML::EndSeq;
  } else if (j.is_boolean()) {
    e << j.get<bool>();
  } else if (j.is_number_integer()) {
    e << j.get<std::int64_t>();
  } else if (j.is_string()) {
    e << j.get<std::string>();
  } else {
    e << j.dump();
  }
}

}  // namespace

std::string to_json(const Network& net) { return network_json(net).dump(2) + "\n"; }

std::string to_yaml(const Network& net) {
  YAML::Emitter e;
  emit(e, network_json(net), false);
  return std::string(e.c_str()) + "\n";
}

}  // namespace hao::ir
