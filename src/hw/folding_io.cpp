#include "hw/folding_io.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/memory.hpp"

namespace hao::hw {
namespace {

// The implementation FINN v0.10's specialize_layers picks by default.
const char* default_impl(FinnOp op) {
  switch (op) {
    case FinnOp::kSwu:
    case FinnOp::kFmPadding:
    case FinnOp::kThresholding:
    case FinnOp::kFifo:
    case FinnOp::kDataWidthConverter:
      return "rtl";
    default:
      return "hls";
  }
}

// One node of hao's FINN graph: layer, position among the layer's nodes, op.
struct GraphNode {
  std::size_t layer = 0;
  std::size_t slot = 0;
  FinnOp op = FinnOp::kMvau;
};

std::vector<GraphNode> graph_nodes(const ir::Network& net, const std::vector<LayerConfig>& configs,
                                   const Device& device, const DataflowOptions& options) {
  std::vector<GraphNode> out;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const LayerCost c = layer_cost(net.layers[i], configs[i], device, options);
    for (std::size_t k = 0; k < c.nodes.size(); ++k) out.push_back({i, k, c.nodes[k].op});
  }
  return out;
}

// Nodes FINN puts on a stream between two others (a FIFO, a width converter): they take no
// part in which layer a Thresholding entry belongs to.
bool on_stream(FinnOp op) { return op == FinnOp::kFifo || op == FinnOp::kDataWidthConverter; }

// An entry of the file: "MVAU_hls_3" -> MVAU, hls, 3, in file order.
struct Entry {
  std::string name;
  FinnOp op = FinnOp::kMvau;
  std::string impl;
  int ordinal = 0;
  std::size_t position = 0;
  const nlohmann::ordered_json* attrs = nullptr;
};

}  // namespace

std::vector<std::vector<std::string>> finn_node_names(const ir::Network& net,
                                                      const std::vector<LayerConfig>& configs,
                                                      const Device& device,
                                                      const DataflowOptions& options,
                                                      const std::vector<NamedNode>& extras) {
  std::vector<std::vector<std::string>> names(net.layers.size());
  std::map<std::string, int> counts;
  for (const NamedNode& e : extras)
    if (e.after.empty() && e.cost.op == FinnOp::kThresholding)
      ++counts[std::string(finn_op_base(e.cost.op)) + "_" + default_impl(e.cost.op)];
  for (const GraphNode& n : graph_nodes(net, configs, device, options)) {
    const std::string type = std::string(finn_op_base(n.op)) + "_" + default_impl(n.op);
    names[n.layer].push_back(type + "_" + std::to_string(counts[type]++));
  }
  return names;
}

FoldingFile read_folding(const std::string& path, const ir::Network& net, const Device& device,
                         const DataflowOptions& options) {
  return parse_folding(core::read_file(path), path, net, device, options);
}

FoldingFile parse_folding(const std::string& text, const std::string& path, const ir::Network& net,
                          const Device& device, const DataflowOptions& options) {
  nlohmann::ordered_json root;
  try {
    root = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  core::IssueList issues(path);
  if (!root.is_object()) {
    issues.add("", "expected a JSON object of FINN node names");
    issues.throw_if_any();
  }
  FoldingFile out;
  out.configs.assign(net.layers.size(), LayerConfig{});
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    LayerConfig& c = out.configs[i];
    c.mac = MacMapping::kLut;  // FINN's resType default (auto) is costed on LUTs
    c.memory = auto_weight_memory(net.layers[i], c);
  }
  const std::vector<GraphNode> graph = graph_nodes(net, out.configs, device, options);

  // The file's entries, per op type.
  static const std::regex kName(
      "^([A-Za-z]+?(?:_Pixel)?)(?:_Batch)?(?:_(hls|rtl))?_([0-9]+)$");  // FMPadding_Pixel
  std::map<FinnOp, std::vector<Entry>> by_op;
  std::vector<Entry> thresholds, order;
  std::size_t position = 0;
  for (auto it = root.begin(); it != root.end(); ++it, ++position) {
    if (it.key() == "Defaults") continue;
    Entry e;
    e.name = it.key();
    e.position = position;
    e.attrs = &it.value();
    std::smatch m;
    if (!std::regex_match(e.name, m, kName) || !finn_op_of(m[1].str(), e.op)) {
      issues.add(e.name,
                 "not a FINN node type hao models (expected names such as MVAU_hls_0, "
                 "ConvolutionInputGenerator_rtl_1, Thresholding_rtl_0)");
      continue;
    }
    if (!e.attrs->is_object()) {
      issues.add(e.name, "expected an object of attributes (PE, SIMD, ...)");
      continue;
    }
    e.impl = m[2].str();
    e.ordinal = std::stoi(m[3].str().substr(0, 9));
    order.push_back(e);
  }
  issues.throw_if_any();

  auto get_int = [&](const Entry& e, const char* key, std::int64_t& v) {
    if (!e.attrs->contains(key)) return false;
    const auto& a = (*e.attrs)[key];
    if (!a.is_number_integer() || a.get<std::int64_t>() < 1) {
      issues.add(e.name + "." + key, "'" + a.dump() + "', expected a positive integer");
      return false;
    }
    v = a.get<std::int64_t>();
    return true;
  };
  auto get_string = [&](const Entry& e, const char* key, std::string& v) {
    if (!e.attrs->contains(key)) return false;
    const auto& a = (*e.attrs)[key];
    v = a.is_string() ? a.get<std::string>() : a.dump();
    return true;
  };
  auto must_divide = [&](const Entry& e, const char* key, std::int64_t v, std::int64_t bound,
                         const std::string& what) {
    if (bound % v != 0)
      issues.add(e.name + "." + key, std::to_string(v) + " does not divide " + what + " (" +
                                         std::to_string(bound) + ")");
  };

  // Extras: nodes of FINN's graph outside hao's layers.
  const ir::Layer& last = net.layers.back();
  std::map<std::size_t, std::int64_t> stream_bits;  // Thresholding entry -> output stream bits
  std::map<std::size_t, bool> split_before;         // MVAU/VVAU entry -> thresholds split off
  std::map<std::size_t, std::size_t> entry_graph;   // entry position -> graph node index
  std::map<std::size_t, std::size_t> split_layer;   // split Thresholding entry -> its layer
  // The last entry before `e` in the file that `counts`, or null.
  auto last_before = [&](const Entry& e, auto counts) -> const Entry* {
    const Entry* before = nullptr;
    for (const Entry& o : order)
      if (o.position < e.position && counts(o)) before = &o;
    return before;
  };
  auto predecessor = [&](const Entry& e) {
    const Entry* before = last_before(e, [](const Entry&) { return true; });
    return before ? before->name : std::string();
  };
  auto lanes = [](const Entry& e, const char* key) {
    const auto it = e.attrs->find(key);
    return it != e.attrs->end() && it->is_number_integer() && it->get<std::int64_t>() > 0
               ? it->get<std::int64_t>()
               : std::int64_t{1};
  };
  // A FIFO is as wide as the stream it sits on: the output of the node before it in the file
  // (FINN inserts FIFOs between nodes in graph order), or the network's input.
  auto fifo_width = [&](const Entry& fifo) -> std::int64_t {
    const Entry* before = last_before(fifo, [](const Entry& e) { return !on_stream(e.op); });
    if (!before) return net.input_bits * net.input.c;
    if (const auto b = stream_bits.find(before->position); b != stream_bits.end()) return b->second;
    const auto g = entry_graph.find(before->position);
    if (g == entry_graph.end()) return lanes(*before, "PE") * last.act_bits;
    const ir::Layer& l = net.layers[graph[g->second].layer];
    switch (graph[g->second].op) {
      case FinnOp::kMvau:
      case FinnOp::kVvau:  // thresholds split off or none: the accumulator goes out
        if (split_before.count(before->position) || !l.has_fused_act)
          return lanes(*before, "PE") *
                 finn_accumulator_bits(fold_bounds(l).simd_max, l.weight_bits, l.act_bits);
        return lanes(*before, "PE") * l.act_bits;
      case FinnOp::kSwu:
      case FinnOp::kDownSampler:
      case FinnOp::kFmPadding:
        return lanes(*before, "SIMD") * l.act_bits;
      case FinnOp::kUpsample:  // all channels a word
        return l.in.c * l.act_bits;
      default:
        return lanes(*before, folds_with_pe(graph[g->second].op) ? "PE" : "SIMD") * l.act_bits;
    }
  };
  // The feature map on the stream an entry sits on: the output of the nearest node of hao's
  // graph before it in the file (a ChannelwiseOp or LabelSelect keeps its input's shape), or
  // the network's input.
  auto stream_shape = [&](const Entry& e) -> ir::Shape {
    const Entry* before = last_before(e, [&](const Entry& o) {
      return entry_graph.count(o.position) > 0 || stream_bits.count(o.position) > 0;
    });
    if (!before || !entry_graph.count(before->position)) {
      if (before && split_layer.count(before->position))
        return net.layers[split_layer.at(before->position)].out;
      return net.input;
    }
    const GraphNode& node = graph[entry_graph.at(before->position)];
    const ir::Layer& l = net.layers[node.layer];
    return node.op == FinnOp::kSwu || node.op == FinnOp::kFmPadding ||
                   node.op == FinnOp::kDownSampler
               ? l.in
               : l.out;
  };
  auto add_extra = [&](const Entry& e) {
    std::int64_t pe = 1, depth = 0;
    get_int(e, "PE", pe);
    NamedNode n;
    n.name = e.name;
    switch (e.op) {
      case FinnOp::kLabelSelect: {
        const std::int64_t labels = stream_shape(e).elements();
        must_divide(e, "PE", pe, labels, "the labels");
        n.cost = label_select_node(labels, pe);
        break;
      }
      case FinnOp::kChannelwiseOp: {  // ChannelwiseOp.get_exp_cycles: C/PE * H*W
        const ir::Shape shape = stream_shape(e);
        must_divide(e, "PE", pe, shape.c, "the channels");
        n.cost.op = e.op;
        n.cost.pe = pe;
        n.cost.cycles = ceil_div(shape.c, pe) * shape.h * shape.w;
        n.cost.res.lut = options.lut_stream_overhead +
                         static_cast<double>(pe * last.act_bits) * options.lut_per_stream_lane_bit;
        break;
      }
      case FinnOp::kFifo: {
        std::string style = "auto";
        get_string(e, "ram_style", style);
        if (style != "auto" && style != "block" && style != "distributed" && style != "ultra")
          issues.add(e.name + ".ram_style",
                     "'" + style + "', expected auto, block, distributed or ultra");
        std::string impl = "rtl";  // StreamingFIFO's default impl_style
        get_string(e, "impl_style", impl);
        if (impl != "rtl" && impl != "vivado")
          issues.add(e.name + ".impl_style", "'" + impl + "', expected rtl or vivado");
        get_int(e, "depth", depth);
        n.cost = fifo_node(fifo_width(e), depth, style, impl);
        break;
      }
      default:
        n.cost.op = e.op;  // a width converter: no cycles or resources modelled
        break;
    }
    n.attributes = e.attrs->dump();
    n.after = predecessor(e);
    out.extras.push_back(n);
  };

  // Non-threshold entries: the k-th entry of an op type is the k-th node of that op in the
  // graph (by ordinal when the file uses one implementation for the op, else in file order).
  std::map<std::size_t, const Entry*> matched;  // graph node index -> entry
  for (const Entry& e : order) {
    if (e.op == FinnOp::kThresholding)
      thresholds.push_back(e);
    else
      by_op[e.op].push_back(e);
  }
  std::vector<const Entry*> deferred;  // costed once the stream each sits on is known
  for (auto& [op, entries] : by_op) {
    const std::string first_impl = entries.front().impl;
    const bool one_impl = std::all_of(entries.begin(), entries.end(),
                                      [&](const Entry& e) { return e.impl == first_impl; });
    if (one_impl)
      std::stable_sort(entries.begin(), entries.end(),
                       [](const Entry& a, const Entry& b) { return a.ordinal < b.ordinal; });
    std::vector<std::size_t> nodes;
    for (std::size_t g = 0; g < graph.size(); ++g)
      if (graph[g].op == op) nodes.push_back(g);
    std::vector<std::string> unmatched;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (k < nodes.size()) {
        matched[nodes[k]] = &entries[k];
        entry_graph[entries[k].position] = nodes[k];
      } else if (op == FinnOp::kFifo || op == FinnOp::kLabelSelect ||
                 op == FinnOp::kChannelwiseOp || op == FinnOp::kDataWidthConverter) {
        deferred.push_back(&entries[k]);
      } else {
        unmatched.push_back(entries[k].name);
      }
    }
    // One message per op type, however many entries are left over (a file for another network
    // would otherwise give one line per node).
    if (unmatched.size() == 1) {
      issues.add(unmatched.front(), "names no node of " + net.name + "'s FINN graph (it has " +
                                        std::to_string(nodes.size()) + " " + finn_op_base(op) +
                                        " node" + (nodes.size() == 1 ? "" : "s") + ")");
    } else if (!unmatched.empty()) {
      issues.add(unmatched.front() + " ... " + unmatched.back(),
                 std::to_string(unmatched.size()) + " entries name no node of " + net.name +
                     "'s FINN graph: the file has " + std::to_string(entries.size()) + " " +
                     finn_op_base(op) + " entries, the graph " + std::to_string(nodes.size()) +
                     " (a folding file for another network?)");
    }
  }
  // Thresholding entries, in file order: first in the file, the input quantizer; right after
  // an MVAU/VVAU with a fused activation, that layer's thresholds; else the graph's next one.
  std::vector<std::size_t> graph_thresholds;
  for (std::size_t g = 0; g < graph.size(); ++g)
    if (graph[g].op == FinnOp::kThresholding) graph_thresholds.push_back(g);
  std::size_t next_threshold = 0;
  std::vector<std::string> no_threshold;  // entries left over
  std::set<std::size_t> taken;            // graph Thresholding nodes matched out of order
  std::vector<const Entry*> split(net.layers.size(), nullptr);
  std::map<std::size_t, std::string> split_names;  // activation layer -> its Thresholding entry
  for (const Entry& t : thresholds) {
    const Entry* before = last_before(
        t, [](const Entry& e) { return e.op != FinnOp::kThresholding && !on_stream(e.op); });
    std::int64_t pe = 1;
    get_int(t, "PE", pe);
    if (!before) {  // the input quantizer; before an fc, over the flattened input
      const bool flat = net.layers.front().op == ir::OpKind::kFc;
      const std::int64_t channels = flat ? net.input.elements() : net.input.c;
      must_divide(t, "PE", pe, channels, "the input channels");
      stream_bits[t.position] = pe * net.layers.front().act_bits;
      out.extras.insert(
          out.extras.begin(),
          {t.name,
           thresholding_node(channels, flat ? 1 : net.input.h * net.input.w,
                             threshold_steps(net.layers.front().act_bits), net.input_bits, pe),
           t.attrs->dump(), predecessor(t)});
      continue;
    }
    const auto g = entry_graph.find(before->position);
    if (g != entry_graph.end()) {
      const std::size_t layer = graph[g->second].layer;
      const ir::Layer& l = net.layers[layer];
      const FinnOp op = graph[g->second].op;
      if ((op == FinnOp::kMvau || op == FinnOp::kVvau) && l.has_fused_act && !split[layer]) {
        split[layer] = &t;
        // The thresholds belong to the activation fused into the layer.
        std::size_t act = layer;
        for (std::size_t j = layer + 1; j < net.layers.size(); ++j)
          if (net.layers[j].fused_into == static_cast<int>(layer)) {
            act = j;
            break;
          }
        // The graph has the node already where hao splits the thresholds itself (wide ones).
        const auto own = std::find_if(
            graph_thresholds.begin(), graph_thresholds.end(),
            [&](std::size_t n) { return graph[n].layer == act && taken.count(n) == 0; });
        if (own != graph_thresholds.end()) {
          matched[*own] = &t;
          taken.insert(*own);
          entry_graph[t.position] = *own;
          stream_bits[t.position] = pe * net.layers[act].act_bits;
          split_before[before->position] = true;
          continue;
        }
        must_divide(t, "PE", pe, l.out.c, "the channels");
        split_names[act] = t.name;
        split_layer[t.position] = act;
        out.configs[act].split_thresholds = true;
        out.configs[layer].split_thresholds = true;
        out.configs[act].pe = pe;
        stream_bits[t.position] = pe * net.layers[act].act_bits;
        split_before[before->position] = true;
        continue;
      }
    }
    while (next_threshold < graph_thresholds.size() &&
           taken.count(graph_thresholds[next_threshold]) != 0)
      ++next_threshold;
    if (next_threshold < graph_thresholds.size()) {
      const std::size_t node = graph_thresholds[next_threshold++];
      matched[node] = &t;
      taken.insert(node);
      entry_graph[t.position] = node;
      stream_bits[t.position] = pe * net.layers[graph[node].layer].act_bits;
    } else {
      no_threshold.push_back(t.name);
    }
  }
  if (no_threshold.size() == 1)
    issues.add(no_threshold.front(), "names no Thresholding node of " + net.name + "'s FINN graph");
  else if (!no_threshold.empty())
    issues.add(no_threshold.front() + " ... " + no_threshold.back(),
               std::to_string(no_threshold.size()) + " Thresholding entries of " +
                   std::to_string(thresholds.size()) + " name no Thresholding node of " + net.name +
                   "'s FINN graph (a folding file for another network?)");

  std::sort(deferred.begin(), deferred.end(),
            [](const Entry* a, const Entry* b) { return a->position < b->position; });
  for (const Entry* e : deferred) add_extra(*e);

  // The attributes of each matched node.
  for (const auto& [g, e] : matched) {
    const GraphNode& node = graph[g];
    const ir::Layer& l = net.layers[node.layer];
    LayerConfig& c = out.configs[node.layer];
    const FoldBounds b = fold_bounds(l);
    std::int64_t v = 0;
    switch (node.op) {
      case FinnOp::kMvau:
      case FinnOp::kVvau: {
        if (get_int(*e, "PE", v)) c.pe = v, must_divide(*e, "PE", v, b.pe_max, "MH");
        if (get_int(*e, "SIMD", v)) c.simd = v, must_divide(*e, "SIMD", v, b.simd_max, "MW");
        std::string s;
        if (get_string(*e, "resType", s)) {
          if (s == "dsp")
            c.mac = MacMapping::kDsp;
          else if (s == "lut")
            c.mac = MacMapping::kLut;
          else if (s == "auto")  // HLS's choice: DSPs for products of 4 bits and more
            c.mac = e->impl == "rtl" || (l.weight_bits >= 4 && l.act_bits >= 4) ? MacMapping::kDsp
                                                                                : MacMapping::kLut;
          else
            issues.add(e->name + ".resType", "'" + s + "', expected lut, dsp or auto");
        } else if (e->impl == "rtl") {
          c.mac = MacMapping::kDsp;  // FINN's rtl MVAU is built on DSPs
        }
        std::string style = "auto";
        get_string(*e, "ram_style", style);
        if (style == "ultra")
          c.memory = WeightMemory::kUram;
        else if (style == "block")
          c.memory = WeightMemory::kBram;
        else if (style == "distributed")
          c.memory = WeightMemory::kLutram;
        else if (style == "auto")
          c.memory = auto_weight_memory(l, c);
        else
          issues.add(e->name + ".ram_style",
                     "'" + style + "', expected block, distributed, ultra or auto");
        if (get_string(*e, "mem_mode", s) && s != "internal_decoupled" &&
            s != "internal_embedded" && s != "const" && s != "decoupled" && s != "external")
          issues.add(e->name + ".mem_mode", "'" + s +
                                                "', expected internal_decoupled, "
                                                "internal_embedded or external");
        if (s == "external")
          out.notes.push_back(e->name + ": mem_mode external: weights costed on chip anyway");
        break;
      }
      case FinnOp::kDownSampler:
        if (get_int(*e, "SIMD", v))
          c.swu_simd = v, must_divide(*e, "SIMD", v, l.in.c, "NumChannels");
        break;
      case FinnOp::kSwu:
        if (get_int(*e, "SIMD", v))
          c.swu_simd = v, must_divide(*e, "SIMD", v, l.in.c, "IFMChannels");
        if (std::string style; get_string(*e, "ram_style", style)) {
          if (style == "distributed")
            c.swu_memory = WeightMemory::kLutram;
          else if (style == "block" || style == "auto")  // FINN costs auto as block
            c.swu_memory = WeightMemory::kBram;
          else if (style == "ultra")
            c.swu_memory = WeightMemory::kUram;
          else
            issues.add(e->name + ".ram_style",
                       "'" + style + "', expected distributed, block, ultra or auto");
        }
        if (e->attrs->contains("parallel_window")) {
          const auto& a = (*e->attrs)["parallel_window"];
          if (!a.is_number_integer() || (a.get<int>() != 0 && a.get<int>() != 1))
            issues.add(e->name + ".parallel_window", "'" + a.dump() + "', expected 0 or 1");
          else
            c.swu_parallel = a.get<int>() == 1;
        }
        break;
      case FinnOp::kFmPadding:
        if (get_int(*e, "SIMD", v))
          c.pad_simd = v, must_divide(*e, "SIMD", v, l.in.c, "NumChannels");
        break;
      case FinnOp::kThresholding:  // an activation's own, or an add's requantizer
      case FinnOp::kDuplicateStreams:
        if (get_int(*e, "PE", v)) {
          must_divide(*e, "PE", v, l.out.c, "NumChannels");
          if (l.op == ir::OpKind::kAct && node.op == FinnOp::kThresholding)
            c.pe = v;
          else
            c.aux_pe = v;
        }
        break;
      case FinnOp::kStreamingMaxPool:  // 2-D: every channel in parallel, PE applies to 1-D only
        if (one_dimensional(l) && get_int(*e, "PE", v))
          c.pe = v, must_divide(*e, "PE", v, l.in.c, "NumChannels");
        break;
      case FinnOp::kUpsample:  // no folding attributes: every channel in parallel
        break;
      default:
        if (get_int(*e, "PE", v) || get_int(*e, "SIMD", v)) {
          must_divide(*e, "PE", v, l.out.c, "NumChannels");
          c.pe = v;
        }
        break;
    }
  }
  issues.throw_if_any();
  // Graph nodes the file leaves out keep FINN's defaults.
  // Each node by the file's name for it (FINN's default name where the file has none).
  auto& names = out.node_names;
  names = finn_node_names(net, out.configs, device, options);
  for (const auto& [g, e] : matched) names[graph[g].layer][graph[g].slot] = e->name;
  for (const auto& [act, name] : split_names) names[act].front() = name;
  for (std::size_t g = 0; g < graph.size(); ++g) {
    if (matched.count(g)) continue;
    const GraphNode& node = graph[g];
    LayerConfig& c = out.configs[node.layer];
    const std::string& name = names[node.layer][node.slot];
    switch (node.op) {
      case FinnOp::kDownSampler:
        c.swu_simd = net.layers[node.layer].in.c;  // FINN creates it with SIMD = NumChannels
        break;
      case FinnOp::kSwu:
        c.swu_simd = 1;
        break;
      case FinnOp::kFmPadding:
        c.pad_simd = 1;
        break;
      case FinnOp::kStreamingMaxPool:
        // FINN's files leave StreamingMaxPool out (its folding is not exported). A 1-D one is
        // taken at every channel in parallel: FINN creates it at PE 1, but finn-examples'
        // VGG10 measures ~230k frames/s at 250 MHz, which PE 1 (49,152 cycles for its first
        // pool) would not allow.
        if (one_dimensional(net.layers[node.layer])) c.pe = net.layers[node.layer].in.c;
        continue;
      case FinnOp::kUpsample:  // nothing to fold, nothing to default
        continue;
      default:
        break;
    }
    out.notes.push_back(name + " (layer '" + net.layers[node.layer].name +
                        "') is not in the file: FINN's defaults, PE = SIMD = 1");
  }
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    std::string why;
    if (!config_is_legal(net.layers[i], out.configs[i], device, why))
      issues.add(names[i].empty() ? net.layers[i].name : names[i].front(),
                 "layer '" + net.layers[i].name + "': " + why);
  }
  issues.throw_if_any();
  return out;
}

std::string folding_json(const ir::Network& net, const std::vector<LayerConfig>& configs,
                         const Device& device, const DataflowOptions& options,
                         const std::vector<std::vector<std::string>>& given_names,
                         const std::vector<NamedNode>& extras) {
  const auto names =
      given_names.empty() ? finn_node_names(net, configs, device, options) : given_names;
  std::vector<std::pair<std::string, nlohmann::ordered_json>> nodes;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const LayerCost cost = layer_cost(net.layers[i], configs[i], device, options);
    for (std::size_t k = 0; k < cost.nodes.size(); ++k) {
      const NodeCost& n = cost.nodes[k];
      nlohmann::ordered_json a;
      switch (n.op) {
        case FinnOp::kMvau:
        case FinnOp::kVvau:
          a["PE"] = n.pe;
          a["SIMD"] = n.simd;
          a["ram_style"] = finn_ram_style(configs[i].memory);
          a["resType"] = to_string(configs[i].mac);
          a["mem_mode"] = "internal_decoupled";
          break;
        case FinnOp::kDownSampler:
          a["SIMD"] = n.simd;
          break;
        case FinnOp::kSwu:
          a["SIMD"] = n.simd;
          a["parallel_window"] = n.parallel_window ? 1 : 0;
          a["ram_style"] = finn_ram_style(configs[i].swu_memory);
          break;
        case FinnOp::kFmPadding:
          a["SIMD"] = n.simd;
          break;
        case FinnOp::kConcat:
          a["SIMD"] = n.pe;
          break;
        case FinnOp::kFmPaddingPixel:
          a["SIMD"] = n.simd;
          break;
        case FinnOp::kStreamingMaxPool:
          if (!one_dimensional(net.layers[i]))
            continue;  // no folding attributes: FINN's own files leave it out
          a["PE"] = n.pe;
          break;
        case FinnOp::kUpsample:
          continue;  // no folding attributes
        default:
          a["PE"] = n.pe;
          break;
      }
      nodes.emplace_back(names[i][k], a);
    }
  }
  // Nodes outside the layers go back where the file had them: after the node they followed
  // (placed in passes, as a FIFO may follow another), else at the end.
  std::vector<const NamedNode*> pending;
  for (const NamedNode& e : extras) pending.push_back(&e);
  for (bool placed = true; placed && !pending.empty();) {
    placed = false;
    for (auto it = pending.begin(); it != pending.end();) {
      const std::string& after = (*it)->after;
      auto at = nodes.begin();
      if (!after.empty())
        at = std::find_if(nodes.begin(), nodes.end(),
                          [&](const auto& n) { return n.first == after; });
      if (at == nodes.end()) {
        ++it;
        continue;
      }
      nodes.emplace(after.empty() ? at : at + 1, (*it)->name,
                    (*it)->attributes.empty() ? nlohmann::ordered_json::object()
                                              : nlohmann::ordered_json::parse((*it)->attributes));
      it = pending.erase(it);
      placed = true;
    }
  }
  for (const NamedNode* e : pending)
    nodes.emplace_back(e->name, e->attributes.empty()
                                    ? nlohmann::ordered_json::object()
                                    : nlohmann::ordered_json::parse(e->attributes));
  nlohmann::ordered_json j;
  j["Defaults"] = nlohmann::ordered_json::object();
  for (auto& [name, a] : nodes) j[name] = std::move(a);
  return j.dump(2) + "\n";
}

}  // namespace hao::hw
