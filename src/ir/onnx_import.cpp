#include "ir/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"

namespace hao::ir {
namespace {

// What a tensor name stands for while walking the graph.
struct Value {
  bool constant = false;
  int producer = kNetworkInput;               // activations: layer index or kNetworkInput
  std::vector<std::int64_t> dims;             // constants: their dims
  std::vector<double> data;                   // constants: values when small and numeric
  const onnx::TensorProto* tensor = nullptr;  // constants: the tensor, when the file has it
  bool integer = false;                       // constants: of an integer type (a shape's)
  // Activations: this value is the layer's output with no other reader on the way, so what
  // follows (a batch norm, a constant bias or scale) can fold into the layer's weights.
  bool sole = false;
  // The bits of the quantizer (QONNX Quant, BipolarQuant, Trunc, MultiThreshold) this value
  // passed through last, 0 when none: a conv's or fc's weight and input bits.
  int quant_bits = 0;
  // A conv's or fc's output through its batch norm: a quantizer here is its activation.
  bool after_norm = false;
  // A per-channel scale and shift no conv or fc took (a batch norm after a concat, an add or
  // a pool, as pre-activation networks have, or per-channel Mul and Add nodes): the activation
  // that reads it takes it as its `folded_norm`; any other reader is noted.
  bool affine = false;
  NormWeights affine_weights;  // with weights: the composition, as a batch norm's parameters
  // Zero padding by a Pad node (top, left, bottom, right), for the conv or average pooling
  // that reads it to add to its own.
  std::array<std::int64_t, 4> pads{};
  bool padded() const { return pads != std::array<std::int64_t, 4>{}; }
};

// Bits of a FINN/QONNX datatype name (UINT4, INT8, BIPOLAR, BINARY, TERNARY); 0 for a float
// or unknown name.
int datatype_bits(const std::string& name) {
  if (name == "BIPOLAR" || name == "BINARY") return 1;
  if (name == "TERNARY") return 2;
  for (const char* prefix : {"UINT", "INT"}) {
    const std::string p(prefix);
    std::int64_t bits = 0;
    if (name.rfind(p, 0) == 0 && core::parse_int(name.substr(p.size()), bits) && bits >= 1 &&
        bits <= 32)
      return static_cast<int>(bits);
  }
  return 0;
}

// QONNX's custom-op domains (older FINN and Brevitas exports use the second and third).
bool is_qonnx_domain(const std::string& d) {
  return d == "qonnx.custom_op.general" || d == "finn.custom_op.general" || d == "onnx.brevitas" ||
         d == "finn";
}

// The values of a float tensor, or nullopt with `why` saying what is wrong.
std::optional<std::vector<float>> float_values(const onnx::TensorProto& t, std::string& why) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    why = "its data is in an external file";
    return std::nullopt;
  }
  std::int64_t n = 1;
  for (const auto d : t.dims()) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<std::int32_t>::max() / d)) {
      why = "its dimension " + std::to_string(d) + " is out of range";
      return std::nullopt;
    }
    n *= d;
  }
  const auto count = static_cast<std::size_t>(n);
  std::vector<float> out;
  const std::string& raw = t.raw_data();
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (t.float_data_size() > 0) {
      out.assign(t.float_data().begin(), t.float_data().end());
    } else if (raw.size() == count * sizeof(float)) {
      out.resize(count);
      if (count > 0) std::memcpy(out.data(), raw.data(), raw.size());
    }
  } else if (t.data_type() == onnx::TensorProto::DOUBLE) {
    if (t.double_data_size() > 0) {
      out.assign(t.double_data().begin(), t.double_data().end());
    } else if (raw.size() == count * sizeof(double)) {
      for (std::size_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, raw.data() + i * sizeof(double), sizeof(double));
        out.push_back(static_cast<float>(v));
      }
    }
  } else {
    why = "its element type (ONNX data type " + std::to_string(t.data_type()) +
          ") is not float or double";
    return std::nullopt;
  }
  if (out.size() != count) {
    why = out.empty() && !raw.empty()
              ? "its data has " + std::to_string(raw.size()) + " bytes for its " +
                    std::to_string(count) + " elements"
              : "it holds " + std::to_string(out.size()) + " values for its " +
                    std::to_string(count) + " elements";
    return std::nullopt;
  }
  return out;
}

// Rows x cols, row-major, transposed.
std::vector<float> transposed(const std::vector<float>& m, std::size_t rows, std::size_t cols) {
  std::vector<float> t(m.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) t[c * rows + r] = m[r * cols + c];
  return t;
}

// The ONNX ops imported as one activation layer (what they read takes a pending batch norm).
bool is_activation_op(const std::string& op) {
  return op == "Relu" || op == "Sigmoid" || op == "HardSigmoid" || op == "HardSwish" ||
         op == "Clip" || op == "Gelu" || op == "LeakyRelu" || op == "Tanh";
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string where, WeightSet* weights)
      : graph_(model.graph()), where_(std::move(where)), weights_(weights) {}

  Network run() {
    net_.name = graph_.name().empty() ? "onnx_model" : graph_.name();
    for (const auto& n : graph_.node())
      if (n.op_type() != "Shape")  // it reads the shape, which hao knows, not the values
        for (const auto& in : n.input()) ++reads_[in];
    for (const auto& out : graph_.output()) ++reads_[out.name()];
    collect_constants();
    find_input();
    for (const auto& n : graph_.node())
      if (is_qonnx_domain(n.domain())) quantized_ = true;
    for (const auto& a : graph_.quantization_annotation())
      if (a.tensor_name() == input_name_)
        for (const auto& kv : a.quant_parameter_tensor_names())
          if (kv.key() == "finn_datatype" && datatype_bits(kv.value()) > 0)
            values_[input_name_].quant_bits = net_.input_bits = datatype_bits(kv.value());
    find_gelus();
    for (int i = 0; i < graph_.node_size(); ++i) {
      if (gelu_skipped_.count(i)) continue;
      const auto gelu = gelus_.find(i);
      import_node(i, gelu == gelus_.end() ? graph_.node(i) : gelu->second);
    }
    for (const auto& out : graph_.output()) {
      const auto it = values_.find(out.name());
      node_where_ = where_ + ": output '" + out.name() + "'";
      if (it != values_.end() && it->second.affine)
        unreproduced("the batch norm (or per-channel scale and shift) before it is not modelled");
    }
    if (net_.layers.empty()) throw core::InputError(where_ + ": the graph has no layer hao models");
    if (quantized_) derive_elementwise_bits(net_);  // as a bits file's unnamed layers
    if (!unquantized_.empty())
      net_.notes.push_back(where_ + ": no quantizer covers these operands, which keep 8 bits: " +
                           core::join(unquantized_, ", "));
    infer_shapes(net_, where_);
    note_finn_limits(net_);
    if (weights_) finish_weights();
    return std::move(net_);
  }

 private:
  const onnx::GraphProto& graph_;
  std::string where_;
  WeightSet* weights_;  // null: the caller wants the topology only
  Network net_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> reads_;  // tensor name -> nodes (and graph outputs) reading it
  std::string node_where_;            // "model.onnx: node 12 'Conv_12' (Conv)"
  // The file's weights while importing, by layer index.
  std::map<int, LayerWeights> loaded_;
  bool any_weight_data_ = false;
  std::string missing_;                    // why the file's weights cannot be taken, if so
  std::vector<std::string> unreproduced_;  // nodes whose function hao's layers do not compute
  bool quantized_ = false;                 // the file has QONNX quantizers: bits come from them
  std::map<int, onnx::NodeProto> gelus_;   // find_gelus: a Gelu node where its last node was
  std::set<int> gelu_skipped_;             // find_gelus: the other nodes of each
  bool input_scaling_noted_ = false;
  std::string input_name_;
  std::vector<std::string> unquantized_;  // "layer weights" / "layer input" without a quantizer

  void finish_weights() {
    if (!missing_.empty()) {
      if (any_weight_data_)
        weights_->notes.push_back("the file's weights are not used: " + missing_);
      return;
    }
    for (auto& [index, lw] : loaded_)
      weights_->layers[net_.layers[static_cast<std::size_t>(index)].name] = std::move(lw);
    for (const auto& u : unreproduced_)
      weights_->notes.push_back(u +
                                "; with the file's weights, hao's network computes "
                                "something else than the file");
  }

  // A node hao imports as a layer that computes something else (only matters with weights).
  void unreproduced(const std::string& what) {
    if (weights_) unreproduced_.push_back(node_where_ + ": " + what);
  }

  // Constant input k's values, or empty with missing_ saying why (a graph input without
  // data: exported with export_params=False).
  std::vector<float> weight_data(const onnx::NodeProto& n, int k) {
    const Value& v = constant(n, k);
    std::string why = "it has no data (a graph input: exported with export_params=False)";
    if (v.tensor) {
      if (auto data = float_values(*v.tensor, why)) {
        any_weight_data_ = true;
        return std::move(*data);
      }
    }
    if (missing_.empty()) missing_ = node_where_ + ": input '" + n.input(k) + "': " + why;
    return {};
  }

  // Per-channel values of constant input k for `channels` channels of a layer's output
  // (1-D, [1, C] after an fc, [C, 1, 1] or [1, C, 1, 1] after a conv), a scalar broadcast;
  // nullopt when its shape is no per-channel broadcast.
  std::optional<std::vector<float>> channel_values(const onnx::NodeProto& n, int k,
                                                   std::int64_t channels, bool fc) {
    const Value& v = constant(n, k);
    std::int64_t count = 1;
    int channel_axis = -1;  // from the end
    for (std::size_t d = 0; d < v.dims.size(); ++d) {
      count *= v.dims[d];
      if (v.dims[d] != 1) channel_axis = static_cast<int>(v.dims.size() - d);
    }
    if (count != 1 && (count != channels || channel_axis != (fc ? 1 : 3))) return std::nullopt;
    if (!weights_) return std::vector<float>{};
    std::vector<float> data = weight_data(n, k);
    if (data.size() == 1) data.assign(static_cast<std::size_t>(channels), data[0]);
    return data;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw core::InputError(node_where_ + ": " + what);
  }

  [[noreturn]] void fail_custom_op(const onnx::NodeProto& n) const {
    fail("custom op '" + n.op_type() + "' of domain '" + n.domain() +
         "' is not modelled (QONNX's Quant, BipolarQuant, Trunc and MultiThreshold are)");
  }

  static std::vector<double> tensor_data(const onnx::TensorProto& t) {
    std::vector<double> out;
    for (auto v : t.int64_data()) out.push_back(static_cast<double>(v));
    for (auto v : t.int32_data()) out.push_back(static_cast<double>(v));
    for (auto v : t.float_data()) out.push_back(static_cast<double>(v));
    for (auto v : t.double_data()) out.push_back(v);
    if (out.empty() && !t.raw_data().empty() && t.raw_data().size() <= 4096) {
      const std::string& raw = t.raw_data();
      if (t.data_type() == onnx::TensorProto::INT64) {
        for (std::size_t i = 0; i + 8 <= raw.size(); i += 8) {
          std::int64_t v;
          std::memcpy(&v, raw.data() + i, 8);
          out.push_back(static_cast<double>(v));
        }
      } else if (t.data_type() == onnx::TensorProto::FLOAT) {
        for (std::size_t i = 0; i + 4 <= raw.size(); i += 4) {
          float v;
          std::memcpy(&v, raw.data() + i, 4);
          out.push_back(static_cast<double>(v));
        }
      }
    }
    return out;
  }

  static bool integer_type(std::int64_t type) {
    return type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32 ||
           type == onnx::TensorProto::INT16 || type == onnx::TensorProto::INT8 ||
           type == onnx::TensorProto::UINT64 || type == onnx::TensorProto::UINT32 ||
           type == onnx::TensorProto::UINT16 || type == onnx::TensorProto::UINT8;
  }

  void collect_constants() {
    for (const auto& t : graph_.initializer()) {
      Value v;
      v.constant = true;
      v.dims.assign(t.dims().begin(), t.dims().end());
      v.data = tensor_data(t);
      v.tensor = &t;
      v.integer = integer_type(t.data_type());
      values_[t.name()] = v;
    }
  }

  // PyTorch exports GELU (an ONNX op only since opset 20) as x / sqrt 2 (or x times 1 / sqrt 2),
  // Erf, plus 1, times x and times 0.5 (the 0.5 anywhere in the product, or on x first). Each
  // such chain, whose inner values nothing else reads, is taken as one node Gelu(x) in place of
  // its last node, and named so; its other nodes are skipped.
  void find_gelus() {
    std::map<std::string, int> producer;
    std::map<std::string, std::vector<int>> readers;
    for (int i = 0; i < graph_.node_size(); ++i) {
      for (const auto& out : graph_.node(i).output()) producer[out] = i;
      for (const auto& in : graph_.node(i).input()) readers[in].push_back(i);
    }
    // A one-element constant: an initializer or a Constant node's value.
    auto scalar = [&](const std::string& name) -> std::optional<double> {
      if (const auto v = values_.find(name); v != values_.end() && v->second.constant)
        return v->second.data.size() == 1 ? std::optional(v->second.data[0]) : std::nullopt;
      const auto p = producer.find(name);
      if (p == producer.end() || graph_.node(p->second).op_type() != "Constant")
        return std::nullopt;
      const auto* a = attr(graph_.node(p->second), "value");
      if (!a || !a->has_t()) return std::nullopt;
      const auto data = tensor_data(a->t());
      return data.size() == 1 ? std::optional(data[0]) : std::nullopt;
    };
    auto is = [&](const std::string& name, double want) {
      const auto v = scalar(name);
      return v && std::abs(*v - want) <= 1e-4 * want;
    };
    auto sole_reader = [&](const std::string& name) {
      const auto r = readers.find(name);
      return reads_[name] == 1 && r != readers.end() ? r->second.front() : -1;
    };
    auto binary = [&](int k, const char* op) {
      const auto& n = graph_.node(k);
      return n.op_type() == op && n.domain().empty() && n.input_size() == 2 && n.output_size() == 1;
    };
    for (int e = 0; e < graph_.node_size(); ++e) {
      const auto& erf = graph_.node(e);
      if (erf.op_type() != "Erf" || !erf.domain().empty() || erf.input_size() != 1) continue;
      const auto s = producer.find(erf.input(0));
      if (s == producer.end() || sole_reader(erf.input(0)) != e) continue;
      const auto& scale = graph_.node(s->second);
      std::string x;
      if (binary(s->second, "Div") && is(scale.input(1), M_SQRT2)) x = scale.input(0);
      for (int k = 0; k < 2 && binary(s->second, "Mul"); ++k)
        if (is(scale.input(k), M_SQRT1_2) && !scalar(scale.input(1 - k))) x = scale.input(1 - k);
      if (x.empty() || scalar(x)) continue;
      std::vector<int> chain{s->second, e};
      bool one = false, half = false, times_x = false;
      std::string at = erf.output(0);
      while (!(one && half && times_x)) {
        const int k = sole_reader(at);
        if (k < 0 || (!binary(k, "Add") && !binary(k, "Mul"))) break;
        const auto& n = graph_.node(k);
        const std::string other = n.input(0) == at ? n.input(1) : n.input(0);
        if (n.op_type() == "Add") {
          if (one || !is(other, 1.0)) break;
          one = true;
        } else if (!half && is(other, 0.5)) {
          half = true;
        } else if (!times_x && other == x) {
          times_x = true;
        } else {  // (x times 0.5) times the rest
          const auto h = producer.find(other);
          if (times_x || half || h == producer.end() || sole_reader(other) != k ||
              !binary(h->second, "Mul"))
            break;
          const auto& hn = graph_.node(h->second);
          if (!(hn.input(0) == x && is(hn.input(1), 0.5)) &&
              !(hn.input(1) == x && is(hn.input(0), 0.5)))
            break;
          chain.push_back(h->second);
          times_x = half = true;
        }
        chain.push_back(k);
        at = n.output(0);
      }
      if (!(one && half && times_x)) continue;
      onnx::NodeProto gelu;
      gelu.set_op_type("Gelu");
      gelu.set_name(graph_.node(chain.back()).name());  // its output's node
      gelu.add_input(x);
      gelu.add_output(at);
      reads_[x] -= 1;  // x / sqrt 2 and times x: one read, by the Gelu
      gelus_[chain.back()] = gelu;
      chain.pop_back();
      gelu_skipped_.insert(chain.begin(), chain.end());
    }
  }

  static std::vector<std::int64_t> shape_of(const onnx::ValueInfoProto& info, bool& known) {
    std::vector<std::int64_t> dims;
    known = info.type().has_tensor_type() && info.type().tensor_type().has_shape();
    if (!known) return dims;
    for (const auto& d : info.type().tensor_type().shape().dim()) {
      if (d.has_dim_value())
        dims.push_back(d.dim_value());
      else
        dims.push_back(-1);  // symbolic (e.g. the batch)
    }
    return dims;
  }

  // The data input: a graph input that is no initializer and is read as an activation
  // (operand 0 of a node that computes; Identity only forwards, and PyTorch routes shared
  // weights through it). With export_params=False the other inputs are weights.
  void find_input() {
    std::set<std::string> activation_reads, computed;
    for (const auto& n : graph_.node())
      for (const auto& out : n.output()) computed.insert(out);
    for (const auto& n : graph_.node()) {
      if (n.input_size() == 0 || n.op_type() == "Identity" || n.op_type() == "Cast" ||
          is_qonnx_domain(n.domain()))
        continue;
      // Add(bias, x) and Mul(scale, x) with x computed: operand 0 is the constant.
      const bool binary = n.op_type() == "Add" || n.op_type() == "Mul";
      if (binary && n.input_size() == 2 && computed.count(n.input(1)) &&
          !computed.count(n.input(0)))
        continue;
      activation_reads.insert(n.input(0));
    }
    // A quantizer reads an activation when what it writes is read as one (else it quantizes
    // weights: export_params=False leaves them graph inputs too).
    for (const auto& n : graph_.node())
      if (is_qonnx_domain(n.domain()) && n.input_size() > 0 && n.output_size() > 0 &&
          activation_reads.count(n.output(0)))
        activation_reads.insert(n.input(0));
    std::vector<std::string> data_inputs;
    for (const auto& in : graph_.input()) {
      if (values_.count(in.name())) continue;
      bool known = false;
      std::vector<std::int64_t> dims = shape_of(in, known);
      if (activation_reads.count(in.name())) {
        data_inputs.push_back(in.name());
        if (!known || (dims.size() != 4 && dims.size() != 3))
          throw core::InputError(where_ + ": input '" + in.name() +
                                 "' must be a 4-D tensor N x C x H x W (or a 3-D N x C x L "
                                 "for 1-D convolutions) with a known shape");
        for (std::size_t k = 1; k < dims.size(); ++k)
          if (dims[k] < 1)
            throw core::InputError(where_ + ": input '" + in.name() + "' dimension " +
                                   std::to_string(k) + " = " + std::to_string(dims[k]) +
                                   ": export with a fixed input size (C, H, W >= 1)");
        if (dims.size() == 3) dims.insert(dims.begin() + 2, 1);  // N x C x L as N x C x 1 x L
        if (dims[0] > 1)  // a static batch: hao's networks run any batch
          net_.notes.push_back(where_ + ": input '" + in.name() + "' has a static batch of " +
                               std::to_string(dims[0]) + "; hao ignores the batch size");
        net_.input = {dims[1], dims[2], dims[3]};
        values_[in.name()] = Value{};
        input_name_ = in.name();
      } else {
        Value v;
        v.constant = true;
        v.dims = dims;
        values_[in.name()] = v;
      }
    }
    if (data_inputs.size() != 1)
      throw core::InputError(
          where_ + ": expected exactly one data input, found " +
          std::to_string(data_inputs.size()) +
          (data_inputs.empty() ? "" : " (" + core::join(data_inputs, ", ") + ")"));
  }

  const Value& value(const onnx::NodeProto& n, int k) {
    if (k >= n.input_size()) fail("missing input " + std::to_string(k));
    auto it = values_.find(n.input(k));
    if (it == values_.end()) fail("input '" + n.input(k) + "' is not produced by an earlier node");
    return it->second;
  }
  int activation(const onnx::NodeProto& n, int k) {
    const Value& v = value(n, k);
    if (v.constant) fail("input '" + n.input(k) + "' is a constant, expected an activation");
    return v.producer;
  }
  const Value& constant(const onnx::NodeProto& n, int k) {
    const Value& v = value(n, k);
    if (!v.constant)
      fail("input '" + n.input(k) +
           "' is computed at run time; hao needs it as an initializer "
           "or a graph input");
    return v;
  }

  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t def) {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
    const auto* a = attr(n, name);
    if (!a) return {};
    return {a->ints().begin(), a->ints().end()};
  }
  double attr_float(const onnx::NodeProto& n, const std::string& name, double def) {
    const auto* a = attr(n, name);
    return a ? static_cast<double>(a->f()) : def;
  }

  // Constant input k as `channels` values (a scalar is broadcast); the node is refused when
  // the count is another.
  std::vector<float> per_channel(const onnx::NodeProto& n, int k, std::int64_t channels,
                                 const std::string& what) {
    std::vector<float> data = weight_data(n, k);
    if (data.size() == 1) data.assign(static_cast<std::size_t>(channels), data[0]);
    if (!data.empty() && data.size() != static_cast<std::size_t>(channels))
      fail(what + " '" + n.input(k) + "' has " + std::to_string(data.size()) + " values for " +
           std::to_string(channels) + " channels");
    return data;
  }
  std::vector<float> bias_values(const onnx::NodeProto& n, int k, std::int64_t channels) {
    return per_channel(n, k, channels, "bias");
  }

  // A BatchNormalization node's parameters for `channels` channels.
  NormWeights norm_weights(const onnx::NodeProto& n, std::int64_t channels) {
    NormWeights norm;
    norm.scale = per_channel(n, 1, channels, "scale");
    norm.shift = per_channel(n, 2, channels, "bias");
    norm.mean = per_channel(n, 3, channels, "mean");
    norm.var = per_channel(n, 4, channels, "var");
    norm.eps = attr_float(n, "epsilon", 1e-5);
    return norm;
  }

  // Add or Mul of an activation and the constant operand `k`. Right after a conv or fc whose
  // output nothing else reads, a per-channel or scalar constant folds into its weights (Add:
  // its bias; Mul: its weights and bias), as PyTorch's MatMul + Add export of a linear layer
  // needs. Elsewhere a per-channel constant (or any, after a batch norm no layer took) is a
  // scale and shift for the activation that reads it (hao export writes a batch norm before
  // an activation so). Anything else is dropped: hao's cost models ignore it, and with the
  // file's weights the network then computes something else (a note says so).
  void fold_constant(const onnx::NodeProto& n, bool add, int k, bool invert = false) {
    const int p = activation(n, 1 - k);
    const Value in = value(n, 1 - k);
    if (p == kNetworkInput) {
      // The input's normalization: hao feeds its networks normalized images itself.
      if (weights_ && !input_scaling_noted_)
        weights_->notes.push_back(node_where_ +
                                  ": the input's scaling is left out (hao normalizes its "
                                  "inputs to the training set's mean and deviation itself)");
      input_scaling_noted_ = true;
      alias(n, p, false);
      return;
    }
    Layer* layer = &net_.layers[static_cast<std::size_t>(p)];
    const bool into_layer = layer->has_weights() && in.sole && !layer->folded_norm && !in.affine;
    std::optional<std::vector<float>> c;
    if (into_layer) {
      c = channel_values(n, k, layer->out_channels, layer->op == OpKind::kFc);
    } else if (layer->op != OpKind::kFc && (in.affine || constant_count(n, k) == layer->out.c)) {
      c = channel_values(n, k, layer->out.c, false);
    }
    if (c && invert)
      for (float& v : *c) v = add ? -v : 1.0f / v;
    if (!c) {
      unreproduced(std::string(add ? "an added" : "a multiplying") + " constant '" + n.input(k) +
                   "' is not modelled");
      alias(n, p, false);
      return;
    }
    if (!into_layer) {
      compose_affine(n, in, add, *c);
      return;
    }
    if (add) layer->has_bias = true;
    if (weights_ && !c->empty()) {
      LayerWeights& lw = loaded_[p];
      const std::size_t channels = c->size();
      if (add) {
        lw.bias.resize(channels, 0.0f);
        for (std::size_t i = 0; i < channels; ++i) lw.bias[i] += (*c)[i];
      } else {
        const std::size_t row = lw.weight.size() / channels;
        for (std::size_t i = 0; i < lw.weight.size(); ++i) lw.weight[i] *= (*c)[i / row];
        for (std::size_t i = 0; i < lw.bias.size(); ++i) lw.bias[i] *= (*c)[i];
      }
    }
    alias(n, p, in.sole);
  }

  // Elements of constant input k (the product of its dims).
  // The elements of a tensor of `dims`; -1 for a negative dimension, and at most 2^40 (a file's
  // dims are not to be trusted: their product may overflow).
  static std::int64_t element_count(const std::vector<std::int64_t>& dims) {
    constexpr std::int64_t kCap = std::int64_t{1} << 40;
    std::int64_t count = 1;
    for (const std::int64_t d : dims) {
      if (d < 0) return -1;
      count = d == 0 ? 0 : std::min(kCap, count > kCap / d ? kCap : count * d);
    }
    return count;
  }
  std::int64_t constant_count(const onnx::NodeProto& n, int k) {
    return element_count(constant(n, k).dims);
  }

  // `in` (a batch norm waiting for its activation, or a map no layer scales) times or plus
  // the per-channel `c`: the node's output carries the composed scale and shift.
  void compose_affine(const onnx::NodeProto& n, const Value& in, bool add,
                      const std::vector<float>& c) {
    Value v;
    v.producer = in.producer;
    v.affine = true;
    if (weights_) {
      NormWeights& a = v.affine_weights;
      if (in.affine) {
        a = in.affine_weights;
      } else {  // the identity: y = 1 (x - 0) / sqrt(1 + 0) + 0
        a.scale.assign(c.size(), 1.0f);
        a.shift.assign(c.size(), 0.0f);
        a.mean.assign(c.size(), 0.0f);
        a.var.assign(c.size(), 1.0f);
        a.eps = 0.0;
      }
      if (!c.empty() && a.scale.size() == c.size())
        for (std::size_t i = 0; i < c.size(); ++i) {
          if (add) {
            a.shift[i] += c[i];
          } else {
            a.scale[i] *= c[i];
            a.shift[i] *= c[i];
          }
        }
    }
    for (const auto& out : n.output()) values_[out] = v;
  }

  // The node's output is its input 0 as it is (Identity, Dropout, Cast, a one-input Concat).
  void pass_on(const onnx::NodeProto& n) {
    Value v = value(n, 0);
    v.sole = v.sole && reads_[n.output(0)] <= 1;
    values_[n.output(0)] = v;
  }

  // The node's outputs stand for `producer`'s output; `sole` whether nothing else read it on
  // the way (a layer's own outputs: sole when one node reads them).
  void alias(const onnx::NodeProto& n, int producer, bool sole, int quant_bits = 0) {
    for (const auto& out : n.output()) {
      Value v;
      v.producer = producer;
      v.sole = sole && reads_[out] <= 1;
      v.quant_bits = quant_bits;
      values_[out] = v;
    }
  }

  // A weighted layer's bits from the quantizers on its weight (operand 1) and input (0).
  void take_bits(const onnx::NodeProto& n, Layer& l) {
    if (!quantized_) return;
    const int w = value(n, 1).quant_bits, a = value(n, 0).quant_bits;
    const std::string name = n.name().empty() ? n.op_type() : n.name();
    if (w > 0)
      l.weight_bits = w;
    else
      unquantized_.push_back(name + " weights");
    if (a > 0)
      l.act_bits = a;
    else
      unquantized_.push_back(name + " input");
  }

  int add_layer(const onnx::NodeProto& n, Layer l) {
    l.name = n.name().empty() ? n.op_type() + "_" + std::to_string(net_.layers.size()) : n.name();
    if (net_.find(l.name) >= 0) l.name += "_" + std::to_string(net_.layers.size());
    net_.layers.push_back(std::move(l));
    try {
      infer_shapes(net_, where_);
    } catch (const core::InputError& e) {
      fail(e.what());
    }
    const int index = static_cast<int>(net_.layers.size()) - 1;
    alias(n, index, true);
    return index;
  }

  const Shape& shape(int producer) const { return net_.producer_shape(producer); }

  // x * sigmoid(x) and x * hardsigmoid(x): how PyTorch exports SiLU (ONNX has no such op) and
  // hard-swish below opset 14. When nothing but this product reads the gate, the gate's layer
  // becomes the one gated activation (SiLU, hard-swish), priced as a FINN build of it is (fork,
  // gate thresholds, product, requantizer) rather than as a sigmoid and a multiply of two
  // feature maps. True when `n` was taken so.
  bool gate_product(const onnx::NodeProto& n, const Value& x, const Value& gate) {
    if (gate.producer == kNetworkInput || !gate.sole) return false;
    Layer& g = net_.layers[static_cast<std::size_t>(gate.producer)];
    if (g.op != OpKind::kAct || g.inputs.front() != x.producer) return false;
    if (g.act == ActKind::kSigmoid)
      g.act = ActKind::kSilu;
    else if (g.act == ActKind::kHardSigmoid)
      g.act = ActKind::kHardSwish;
    else
      return false;
    alias(n, gate.producer, true);
    return true;
  }

  // A conv's or transposed conv's kernel_shape, where the node gives one, is its weight's.
  void check_kernel_shape(const onnx::NodeProto& n, std::int64_t kh, std::int64_t kw, bool one_d) {
    const auto ks = attr_ints(n, "kernel_shape");
    if (!ks.empty() &&
        (ks.size() != (one_d ? 1u : 2u) || ks.back() != kw || (!one_d && ks[0] != kh)))
      fail("kernel_shape does not match the weight's shape");
  }

  // A node hao models without dilation: every dilation 1.
  void refuse_dilations(const onnx::NodeProto& n) {
    for (auto d : attr_ints(n, "dilations"))
      if (d != 1) fail("dilation " + std::to_string(d) + " is not modelled (only 1)");
  }

  // Kernel, strides, padding and (a conv's) dilation of a windowed node. A 1-D window (`one_d`: a
  // kernel_shape of one value over N x C x L) is a 1 x K window over a 1 x L feature map.
  void window_attrs(const onnx::NodeProto& n, Layer& l, std::int64_t kh, std::int64_t kw,
                    bool one_d = false) {
    if (one_d && shape(l.inputs[0]).h != 1)
      fail(std::string("a 1-D ") + (l.op == OpKind::kConv ? "convolution" : "pooling") +
           " over a " + to_string(shape(l.inputs[0])) + " input (expected N x C x L)");
    l.kernel_h = kh;
    l.kernel_w = kw;
    const std::size_t spatial = one_d ? 1 : 2;
    auto strides = attr_ints(n, "strides");
    if (!strides.empty()) {
      if (strides.size() != spatial)
        fail("strides has " + std::to_string(strides.size()) + " values, expected " +
             std::to_string(spatial));
      l.stride_h = one_d ? 1 : strides[0];
      l.stride_w = strides.back();
    }
    const auto dilations = attr_ints(n, "dilations");
    if (!dilations.empty() && l.op == OpKind::kConv) {  // a dilated conv: FINN's SWU takes it
      if (dilations.size() != spatial)
        fail("dilations has " + std::to_string(dilations.size()) + " values, expected " +
             std::to_string(spatial));
      for (auto d : dilations)
        if (d < 1 || d > kMaxPad) fail("dilation " + std::to_string(d) + " is out of range");
      l.dilation_h = one_d ? 1 : dilations[0];
      l.dilation_w = dilations.back();
    } else {
      refuse_dilations(n);
    }
    const auto* ap = attr(n, "auto_pad");
    const std::string auto_pad = ap ? ap->s() : "NOTSET";
    auto pads = attr_ints(n, "pads");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const Shape& in = shape(l.inputs[0]);
      auto same = [&](std::int64_t size, std::int64_t k, std::int64_t s, std::int64_t& lo,
                      std::int64_t& hi) {
        const std::int64_t out = (size + s - 1) / s;
        const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + k - size);
        lo = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        hi = total - lo;
      };
      same(in.h, l.span_h(), l.stride_h, l.pad_top, l.pad_bottom);
      same(in.w, l.span_w(), l.stride_w, l.pad_left, l.pad_right);
    } else if (!pads.empty()) {
      if (pads.size() != 2 * spatial)
        fail("pads has " + std::to_string(pads.size()) + " values, expected " +
             std::to_string(2 * spatial));
      if (one_d)
        l.pad_left = pads[0], l.pad_right = pads[1];
      else
        l.pad_top = pads[0], l.pad_left = pads[1], l.pad_bottom = pads[2], l.pad_right = pads[3];
    }
  }

  // A constant with data, every value 1.
  static bool all_ones(const Value& v) {
    std::string why;
    const auto data = v.tensor ? float_values(*v.tensor, why) : std::nullopt;
    return data && !data->empty() &&
           std::all_of(data->begin(), data->end(), [](float x) { return x == 1.0f; });
  }

  // ConvTranspose as FINN lowers it (InferPixelPaddingDeconv): zeros between the input's
  // pixels (a pixel_pad layer, FINN's FMPadding_Pixel; none at stride 1) and a stride-1 conv
  // with the kernel turned by 180 degrees and its input and output channels swapped, padded
  // by kernel - 1 - pads on each side (and output_padding more at the end). group 1 only, as
  // FINN's lowering; a ConvTranspose of a 1 x 1 kernel of ones per channel (group = channels,
  // no bias) is a pixel padding alone, as hao export writes one.
  void import_conv_transpose(const onnx::NodeProto& n) {
    const int p = activation(n, 0);
    const Shape in = shape(p);
    const Value& w = constant(n, 1);
    const bool one_d = w.dims.size() == 3;  // ConvTranspose1d: over a 1 x L map
    if (w.dims.size() != 4 && !one_d)
      fail("weight has " + std::to_string(w.dims.size()) +
           " dims, only 1-D and 2-D transposed convolutions are modelled");
    if (one_d && in.h != 1)
      fail("a 1-D transposed convolution over a " + to_string(in) + " input (expected N x C x L)");
    const std::int64_t kh = one_d ? 1 : w.dims[2], kw = w.dims.back();
    const std::int64_t group = attr_int(n, "group", 1);
    check_kernel_shape(n, kh, kw, one_d);
    if (attr(n, "output_shape"))
      fail(
          "output_shape is not modelled; export with explicit pads and output_padding (as "
          "PyTorch does)");
    const auto* ap = attr(n, "auto_pad");
    if (ap && ap->s() != "NOTSET" && ap->s() != "VALID")
      fail("auto_pad '" + ap->s() + "' is not modelled (only explicit pads)");
    refuse_dilations(n);
    const std::size_t spatial = one_d ? 1 : 2;
    auto per_axis = [&](const char* name, std::size_t count) {
      std::vector<std::int64_t> v = attr_ints(n, name);
      if (v.empty()) v.assign(count, 0);
      if (v.size() != count)
        fail(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " +
             std::to_string(count));
      // 2-D order: h, w (output_padding) or top, left, bottom, right (pads); a 1-D one's
      // values are along w
      if (one_d)
        v = count == 2 ? std::vector<std::int64_t>{0, v[0], 0, v[1]}
                       : std::vector<std::int64_t>{0, v[0]};
      return v;
    };
    std::vector<std::int64_t> strides = attr_ints(n, "strides");
    if (strides.empty()) strides.assign(spatial, 1);
    if (strides.size() != spatial)
      fail("strides has " + std::to_string(strides.size()) + " values, expected " +
           std::to_string(spatial));
    if (one_d) strides = {1, strides[0]};
    const std::vector<std::int64_t> pads = per_axis("pads", 2 * spatial);
    const std::vector<std::int64_t> extra = per_axis("output_padding", spatial);
    for (std::size_t a = 0; a < 2; ++a) {
      if (strides[a] < 1 || strides[a] > kMaxPad)
        fail("stride " + std::to_string(strides[a]) + " is out of range (1..1048576)");
      if (extra[a] < 0 || extra[a] >= strides[a])
        fail("output_padding " + std::to_string(extra[a]) +
             " is out of range (0..stride - 1 = " + std::to_string(strides[a] - 1) + ")");
    }
    Layer pixel_pad;  // zeros between the input's pixels
    pixel_pad.op = OpKind::kPixelPad;
    pixel_pad.inputs = {p};
    pixel_pad.stride_h = strides[0], pixel_pad.stride_w = strides[1];
    if (group == in.c && group > 1 && kh == 1 && kw == 1 && w.dims[0] == in.c && w.dims[1] == 1 &&
        n.input_size() < 3 &&
        std::all_of(pads.begin(), pads.end(), [](auto v) { return v == 0; }) && extra[0] == 0 &&
        extra[1] == 0 && all_ones(w)) {
      const int bits = value(n, 0).quant_bits;
      add_layer(n, pixel_pad);
      values_[n.output(0)].quant_bits = bits;  // zeros are on every grid
      return;
    }
    if (group != 1)
      fail("group " + std::to_string(group) + " is not modelled (only 1, as FINN lowers it)");
    if (w.dims[0] != in.c)
      fail("weight has " + std::to_string(w.dims[0]) + " input channels, the input " +
           std::to_string(in.c));
    const std::int64_t kernel[2] = {kh, kw};
    Layer l;
    l.op = OpKind::kConv;
    l.out_channels = w.dims[1];
    l.kernel_h = kh, l.kernel_w = kw;
    std::int64_t* conv_pads[4] = {&l.pad_top, &l.pad_left, &l.pad_bottom, &l.pad_right};
    for (std::size_t k = 0; k < 4; ++k) {
      const std::int64_t last = kernel[k % 2] - 1;
      if (pads[k] < 0 || pads[k] > last)
        fail("pads " + std::to_string(pads[k]) + " is out of range (0..kernel - 1 = " +
             std::to_string(last) + "); cropping more is not modelled");
      *conv_pads[k] = last - pads[k] + (k >= 2 ? extra[k - 2] : 0);
    }
    l.has_bias = n.input_size() > 2 && !n.input(2).empty();
    take_bits(n, l);
    l.inputs = {p};
    if (strides[0] > 1 || strides[1] > 1) {
      pixel_pad.act_bits = l.act_bits;
      const std::string name = n.name().empty() ? n.op_type() : n.name();
      onnx::NodeProto named = n;
      named.set_name(name + "_pixel_pad");
      l.inputs = {add_layer(named, pixel_pad)};
    }
    const int layer = add_layer(n, l);
    if (weights_) {
      LayerWeights& lw = loaded_[layer];
      const std::vector<float> data = weight_data(n, 1);
      if (!data.empty()) lw.weight = swapped_and_turned(data, in.c, l.out_channels, kh * kw);
      if (l.has_bias) lw.bias = bias_values(n, 2, l.out_channels);
    }
  }

  // A Pad node's zeros before a conv or average pooling, added to the layer's own padding
  // (an average pooling then counts them, as it does its own).
  void take_pads(const onnx::NodeProto& n, Layer& l) {
    const Value& in = value(n, 0);
    l.pad_top += in.pads[0];
    l.pad_left += in.pads[1];
    l.pad_bottom += in.pads[2];
    l.pad_right += in.pads[3];
  }

  // A QONNX quantizer: on a constant (weights) it passes the constant on with its bits; on an
  // activation it passes the activation on with its bits, except MultiThreshold, which is the
  // activation function itself in FINN's graphs (a layer of its own here).
  void import_quantizer(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    int bits = 0;
    auto bits_input = [&](int k) {
      const Value& v = constant(n, k);
      const double b = v.data.size() == 1 ? v.data[0] : -1;
      if (b < 1 || b > 32 || b != std::floor(b))
        fail("bit width '" + n.input(k) + "' is not one whole number in 1..32");
      return static_cast<int>(b);
    };
    if (op == "Quant" || op == "IntQuant") {
      bits = bits_input(3);
    } else if (op == "BipolarQuant") {
      bits = 1;
    } else if (op == "Trunc") {
      bits = bits_input(4);
    } else if (op == "MultiThreshold") {
      const auto* a = attr(n, "out_dtype");
      bits = a ? datatype_bits(a->s()) : 0;
      if (bits == 0)
        fail("out_dtype '" + (a ? a->s() : std::string()) +
             "' is no integer datatype (UINTn, INTn, BIPOLAR, BINARY, TERNARY)");
    } else {
      fail_custom_op(n);
    }
    const Value& in = value(n, 0);
    if (in.constant) {
      Value v = in;
      v.quant_bits = bits;
      values_[n.output(0)] = v;
      return;
    }
    // Brevitas's QuantIdentity / QuantHardTanh after a batch norm: the quantizer is the layer's
    // activation, which FINN converts to a MultiThreshold and absorbs with the batch norm into
    // the layer's thresholds.
    if (op == "MultiThreshold" || in.after_norm) {
      const bool is_signed = op == "MultiThreshold"
                                 ? attr(n, "out_dtype")->s()[0] != 'U'
                                 : op == "BipolarQuant" || attr_int(n, "signed", 1) != 0;
      Layer l;
      l.op = OpKind::kAct;
      l.act = is_signed ? ActKind::kClip : ActKind::kRelu;
      l.inputs = {in.producer};
      unreproduced(op + " as an activation is run as " + (is_signed ? "ReLU6" : "ReLU"));
      add_layer(n, l);
      values_[n.output(0)].quant_bits = bits;
      return;
    }
    alias(n, in.producer, false, bits);
  }

  // Every input a constant of at most 16 values, all known (what shape arithmetic handles).
  bool all_small_constants(const onnx::NodeProto& n) {
    for (int k = 0; k < n.input_size(); ++k) {
      const auto it = values_.find(n.input(k));
      if (it == values_.end() || !is_small_constant(it->second)) return false;
    }
    return n.input_size() > 0;
  }

  // A constant of at most 16 values, all of them known: a shape, sizes, scales or indices.
  static bool is_small_constant(const Value& v) {
    const std::int64_t count = element_count(v.dims);
    return v.constant && count >= 0 && count <= 16 &&
           v.data.size() == static_cast<std::size_t>(count);
  }

  // The small integer arithmetic PyTorch exports to compute a shape at run time (x.size(0),
  // the sizes of F.interpolate(size=...), channels // groups): Shape of an activation (its
  // batch as 1), and Gather, Unsqueeze, Slice, Concat, Add, Sub, Mul and Div over such
  // constants, computed here (Div of integers truncates, as ONNX's does).
  void import_shape_arithmetic(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    Value v;
    v.constant = true;
    v.integer = true;
    if (op == "Shape") {
      const Shape s = shape(activation(n, 0));
      std::vector<double> dims = {1, static_cast<double>(s.c), static_cast<double>(s.h),
                                  static_cast<double>(s.w)};
      auto clamp = [](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + 4 : i, 0, 4); };
      const std::int64_t start = clamp(attr_int(n, "start", 0)), end = clamp(attr_int(n, "end", 4));
      for (std::int64_t i = start; i < end; ++i)
        v.data.push_back(dims[static_cast<std::size_t>(i)]);
      v.dims = {static_cast<std::int64_t>(v.data.size())};
      values_[n.output(0)] = v;
      return;
    }
    if (!value(n, 0).constant)
      fail(op + " of an activation ('" + n.input(0) +
           "') is not modelled; hao computes Shape, Gather, Unsqueeze and Slice only on the shape "
           "arithmetic PyTorch writes for sizes");
    const std::vector<double> x = small_constant(n, 0);
    v.integer = value(n, 0).integer;
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      const std::vector<double> y = small_constant(n, 1);
      v.integer = v.integer && value(n, 1).integer;
      if (x.size() != y.size() && x.size() != 1 && y.size() != 1)
        fail("operands of " + std::to_string(x.size()) + " and " + std::to_string(y.size()) +
             " values do not broadcast");
      const std::size_t count = std::max(x.size(), y.size());
      for (std::size_t i = 0; i < count; ++i) {
        const double a = x[x.size() == 1 ? 0 : i], b = y[y.size() == 1 ? 0 : i];
        if (op == "Div" && b == 0) fail("division by zero in a shape computation");
        v.data.push_back(op == "Add"   ? a + b
                         : op == "Sub" ? a - b
                         : op == "Mul" ? a * b
                         : v.integer   ? std::trunc(a / b)
                                       : a / b);
      }
      v.dims = x.size() >= y.size() ? value(n, 0).dims : value(n, 1).dims;
    } else if (op == "Gather") {
      if (attr_int(n, "axis", 0) != 0) fail("only a gather along axis 0 of a shape is modelled");
      const Value& indices = constant(n, 1);
      for (double i : small_constant(n, 1)) {
        const std::int64_t k = index_of(i < 0 ? i + static_cast<double>(x.size()) : i);
        if (k < 0 || k >= static_cast<std::int64_t>(x.size()))
          fail("index " + core::fixed(i, 0) + " is outside the " + std::to_string(x.size()) +
               " values gathered from");
        v.data.push_back(x[static_cast<std::size_t>(k)]);
      }
      v.dims = indices.dims;
    } else if (op == "Unsqueeze") {
      v.data = x;
      v.dims = {static_cast<std::int64_t>(x.size())};
    } else if (op == "Slice") {
      // Opset 10 and later: starts, ends[, axes, steps] as inputs; before, as attributes.
      auto operand = [&](int k, const char* name, std::int64_t def) {
        std::vector<std::int64_t> out = attr_ints(n, name);
        if (k < n.input_size() && !n.input(k).empty()) {
          out.clear();
          for (double d : small_constant(n, k)) out.push_back(index_of(d));
        }
        return out.empty() ? std::vector<std::int64_t>{def} : out;
      };
      const auto starts = operand(1, "starts", 0), ends = operand(2, "ends", 0);
      const auto axes = operand(3, "axes", 0), steps = operand(4, "steps", 1);
      if (starts.size() != 1 || ends.size() != 1 || axes.front() != 0 || steps.front() == 0)
        fail("only a slice of a 1-D shape along axis 0 is modelled");
      const auto size = static_cast<std::int64_t>(x.size());
      auto at = [&](std::int64_t i, std::int64_t lo, std::int64_t hi) {
        return std::clamp<std::int64_t>(i < 0 ? i + size : i, lo, hi);
      };
      const std::int64_t step = steps.front();
      if (step > 0)
        for (std::int64_t i = at(starts[0], 0, size); i < at(ends[0], 0, size); i += step)
          v.data.push_back(x[static_cast<std::size_t>(i)]);
      else
        for (std::int64_t i = at(starts[0], -1, size - 1); i > at(ends[0], -1, size - 1); i += step)
          v.data.push_back(x[static_cast<std::size_t>(i)]);
      v.dims = {static_cast<std::int64_t>(v.data.size())};
    } else {  // Concat of constants
      for (int k = 0; k < n.input_size(); ++k) {
        for (double d : small_constant(n, k)) v.data.push_back(d);
        v.integer = v.integer && value(n, k).integer;
      }
      v.dims = {static_cast<std::int64_t>(v.data.size())};
    }
    values_[n.output(0)] = v;
  }

  // An index or bound read as a double: PyTorch writes INT64_MAX for an open end, which no
  // int64 holds once it is a double, so the magnitudes are capped (far beyond any shape).
  std::int64_t index_of(double d) const {
    if (std::isnan(d)) fail("an index or bound is not a number");
    constexpr double kCap = 4e18;
    return static_cast<std::int64_t>(std::clamp(d, -kCap, kCap));
  }

  // Constant input k's values, when it is a small numeric constant (a shape, sizes, scales).
  std::vector<double> small_constant(const onnx::NodeProto& n, int k) {
    const Value& v = constant(n, k);
    if (!is_small_constant(v))
      fail("input '" + n.input(k) + "' is not a small numeric constant (a shape or indices)");
    return v.data;
  }

  // Nearest-neighbour upsampling by integer factors over height and width: Resize (opset 10
  // and later, by scales or sizes) and Upsample (opset 7 to 9). The coordinate mappings that
  // make output pixel y read input pixel floor(y / s) are taken: half_pixel and
  // pytorch_half_pixel with any rounding, asymmetric and tf_half_pixel_for_nn with floor
  // (PyTorch's export of F.interpolate and nn.Upsample).
  void import_upsample(const onnx::NodeProto& n) {
    const int p = activation(n, 0);
    const Shape in = shape(p);
    const auto* mode_attr = attr(n, "mode");
    const std::string mode = mode_attr ? mode_attr->s() : "nearest";
    if (mode != "nearest")
      fail("mode '" + mode +
           "': only nearest upsampling is modelled (FINN's UpsampleNearestNeighbour); export "
           "with mode='nearest', nn.Upsample's default, to map this network");
    if (n.op_type() == "Resize") {
      const auto* ctm_attr = attr(n, "coordinate_transformation_mode");
      const auto* nearest_attr = attr(n, "nearest_mode");
      const std::string ctm = ctm_attr ? ctm_attr->s() : "half_pixel";
      const std::string rounding = nearest_attr ? nearest_attr->s() : "round_prefer_floor";
      const bool centred = ctm == "half_pixel" || ctm == "pytorch_half_pixel";
      const bool floored =
          (ctm == "asymmetric" || ctm == "tf_half_pixel_for_nn") && rounding == "floor";
      if (!centred && !floored)
        fail("coordinate_transformation_mode '" + ctm + "' with nearest_mode '" + rounding +
             "' does not repeat each pixel; hao models nearest upsampling where output pixel y "
             "reads input pixel floor(y / scale) (half_pixel, or asymmetric with floor as "
             "PyTorch exports it)");
      if (attr(n, "axes"))
        fail("the axes attribute is not modelled; give scales or sizes for all four axes");
    }
    // Scales (or sizes) per axis N, C, H, W: an attribute in Upsample-7, else an input.
    std::vector<double> scales, sizes;
    if (const auto* a = attr(n, "scales")) {
      for (float f : a->floats()) scales.push_back(static_cast<double>(f));
    } else {
      const bool resize11 = n.op_type() == "Resize" && n.input_size() >= 3;
      const int scales_input = resize11 ? 2 : 1;
      auto given = [&](int k) {
        return k < n.input_size() && !n.input(k).empty() && constant_count(n, k) > 0;
      };
      if (given(scales_input)) scales = small_constant(n, scales_input);
      if (resize11 && given(3)) sizes = small_constant(n, 3);
    }
    std::array<double, 4> factor{};
    if (!scales.empty()) {
      if (scales.size() != 4)
        fail("expected 4 scales (N, C, H, W), got " + std::to_string(scales.size()));
      std::copy(scales.begin(), scales.end(), factor.begin());
    } else if (sizes.size() == 4) {
      const std::array<double, 4> dims = {1, static_cast<double>(in.c), static_cast<double>(in.h),
                                          static_cast<double>(in.w)};
      for (std::size_t k = 1; k < 4; ++k) factor[k] = sizes[k] / dims[k];
      factor[0] = 1;
    } else {
      fail("expected 4 constant scales or sizes (N, C, H, W)");
    }
    if (std::abs(factor[0] - 1) > 1e-6 || std::abs(factor[1] - 1) > 1e-6)
      fail("scales the batch or the channels (" + core::fixed(factor[0], 3) + ", " +
           core::fixed(factor[1], 3) + "); only height and width are modelled");
    Layer l;
    l.op = OpKind::kUpsample;
    l.inputs = {p};
    std::int64_t* out[2] = {&l.scale_h, &l.scale_w};
    for (std::size_t k = 2; k < 4; ++k) {
      const double f = factor[k];
      const double r = std::round(f);
      if (!(f >= 1 - 1e-6) || std::abs(f - r) > 1e-6 || r > 1048576)
        fail(std::string(k == 2 ? "height" : "width") + " scale " + core::fixed(f, 4) +
             ": only upsampling by an integer factor (1, 2, 3, ...) is modelled");
      *out[k - 2] = static_cast<std::int64_t>(r);
    }
    const int bits = value(n, 0).quant_bits;
    if (l.scale_h == 1 && l.scale_w == 1) {  // the identity
      alias(n, p, value(n, 0).sole, bits);
      return;
    }
    add_layer(n, l);
    values_[n.output(0)].quant_bits = bits;  // the same grid
  }

  // A scale and shift or a zero padding waiting for the node that takes it (an activation; a
  // conv or average pooling) must not be lost on another reader: a padding read by anything
  // else is refused, a scale and shift noted (only the file's weights make it matter).
  void check_pending(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    if (op == "Shape") return;  // it reads the shape only
    const bool passes =
        n.domain().empty() && (op == "Identity" || op == "Dropout" || op == "Cast" || op == "Pad");
    for (int k = 0; k < n.input_size(); ++k) {
      const auto it = values_.find(n.input(k));
      if (it == values_.end() || it->second.constant) continue;
      const Value& v = it->second;
      const bool other_constant =
          n.input_size() == 2 && values_.count(n.input(1 - k)) && values_[n.input(1 - k)].constant;
      const bool takes_affine =
          passes || (k == 0 && is_activation_op(op)) ||
          ((op == "Add" || op == "Mul" || op == "Sub" || op == "Div") && other_constant);
      if (v.affine && !(n.domain().empty() && takes_affine))
        unreproduced("the batch norm (or per-channel scale and shift) on its input '" + n.input(k) +
                     "' is not modelled: only an activation that reads it takes it");
      const bool takes_pads =
          passes || (k == 0 && (op == "Conv" || op == "AveragePool") && n.domain().empty());
      if (v.padded() && !takes_pads)
        fail("input '" + n.input(k) +
             "' is zero-padded by a Pad node; hao models such padding only before a Conv or "
             "AveragePool, which take it as their own");
    }
  }

  // Pad with zeros (mode constant, value 0) over height and width: the reader adds it to its
  // own padding. No padding at all passes the value on.
  static constexpr std::int64_t kMaxPad = std::int64_t{1} << 20;  // infer_shapes' dimension bound
  void import_pad(const onnx::NodeProto& n) {
    const auto* mode = attr(n, "mode");
    if (mode && mode->s() != "constant")
      fail("mode '" + mode->s() + "' is not modelled (only constant zero padding)");
    std::vector<std::int64_t> pads = attr_ints(n, "pads");  // opset < 11: an attribute
    double fill = attr_float(n, "value", 0.0);
    if (n.input_size() > 1 && !n.input(1).empty()) {
      const Value& c = constant(n, 1);
      if (c.data.empty() && !c.dims.empty() && c.dims[0] > 0)
        fail("pads '" + n.input(1) + "' has no values in the file");
      pads.clear();
      for (const double d : c.data)  // the range check first: a cast of 1e30 is undefined
        pads.push_back(std::abs(d) <= kMaxPad ? static_cast<std::int64_t>(d) : kMaxPad + 1);
    }
    if (n.input_size() > 2 && !n.input(2).empty()) {
      const Value& c = constant(n, 2);
      fill = c.data.empty() ? 0.0 : c.data[0];
    }
    if (n.input_size() > 3 && !n.input(3).empty()) fail("the axes input is not modelled");
    activation(n, 0);
    Value v = value(n, 0);
    if (pads.size() != 8)
      fail("pads has " + std::to_string(pads.size()) +
           " values; hao models padding of an N x C x H x W map (8 values)");
    for (const std::int64_t p : pads) {
      if (p < 0) fail("a negative padding (" + std::to_string(p) + ") crops; not modelled");
      if (p > kMaxPad) fail("padding " + std::to_string(p) + " is out of range");
    }
    if (pads[0] || pads[1] || pads[4] || pads[5])
      fail("padding of the batch or channel dimension is not modelled");
    const bool any = pads[2] || pads[3] || pads[6] || pads[7];
    if (any && fill != 0.0)
      fail("padding with " + core::fixed(fill, 3) + " is not modelled (only zeros)");
    v.pads[0] += pads[2];  // top
    v.pads[1] += pads[3];  // left
    v.pads[2] += pads[6];  // bottom
    v.pads[3] += pads[7];  // right
    v.sole = v.sole && !any && reads_[n.output(0)] <= 1;
    for (const auto& out : n.output()) values_[out] = v;
  }

  void import_node(int index, const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    node_where_ = where_ + ": node " + std::to_string(index) + " '" + n.name() + "' (" + op + ")";
    if (n.output_size() < 1) fail("has no output");
    check_pending(n);
    if (is_qonnx_domain(n.domain())) {
      import_quantizer(n);
      return;
    }
    if (!n.domain().empty() && n.domain() != "ai.onnx") fail_custom_op(n);

    if (op == "Constant") {
      const auto* a = attr(n, "value");
      Value v;
      v.constant = true;
      if (a && a->has_t()) {
        v.dims.assign(a->t().dims().begin(), a->t().dims().end());
        v.data = tensor_data(a->t());
        v.tensor = &a->t();
        v.integer = integer_type(a->t().data_type());
      }
      values_[n.output(0)] = v;
      return;
    }
    if (op == "Pad") {
      import_pad(n);
      return;
    }
    const bool binary = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
    if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Slice" ||
        ((op == "Concat" || binary) && all_small_constants(n))) {
      import_shape_arithmetic(n);
      return;
    }
    if (op == "Resize" || op == "Upsample") {
      import_upsample(n);
      return;
    }
    // Cast: hao's IR has no element types, so a cast (PyTorch's training-mode export casts
    // Clip's bounds) passes its value on.
    if (op == "Identity" || op == "Dropout" || op == "Cast") {
      pass_on(n);
      Value& v = values_[n.output(0)];
      if (op == "Cast" && v.constant) v.integer = integer_type(attr_int(n, "to", 0));
      return;
    }
    if (op == "Conv") {
      Layer l;
      l.op = OpKind::kConv;
      l.inputs = {activation(n, 0)};
      const Value& w = constant(n, 1);
      const bool one_d = w.dims.size() == 3;  // Conv1d: a 1 x K kernel over a 1 x L map
      if (w.dims.size() != 4 && !one_d)
        fail("weight has " + std::to_string(w.dims.size()) +
             " dims, only 1-D and 2-D convolutions are modelled");
      l.out_channels = w.dims[0];
      l.groups = attr_int(n, "group", 1);
      const std::int64_t expected_cin = shape(l.inputs[0]).c;
      if (l.groups < 1 || w.dims[1] * l.groups != expected_cin)
        fail("weight " + std::to_string(w.dims[1]) + " input channels x group " +
             std::to_string(l.groups) + " != " + std::to_string(expected_cin) + " input channels");
      const std::int64_t kh = one_d ? 1 : w.dims[2], kw = w.dims.back();
      check_kernel_shape(n, kh, kw, one_d);
      window_attrs(n, l, kh, kw, one_d);
      take_pads(n, l);
      l.has_bias = n.input_size() > 2 && !n.input(2).empty();
      take_bits(n, l);
      const int layer = add_layer(n, l);
      if (weights_) {
        LayerWeights& lw = loaded_[layer];
        lw.weight = weight_data(n, 1);
        if (l.has_bias) lw.bias = bias_values(n, 2, l.out_channels);
      }
      return;
    }
    if (op == "ConvTranspose") {
      import_conv_transpose(n);
      return;
    }
    if (op == "Gemm" || op == "MatMul") {
      Layer l;
      l.op = OpKind::kFc;
      l.inputs = {activation(n, 0)};
      const Value& w = constant(n, 1);
      if (w.dims.size() != 2)
        fail("weight has " + std::to_string(w.dims.size()) + " dims, expected 2");
      const bool trans_b = op == "Gemm" && attr_int(n, "transB", 0) != 0;
      if (op == "Gemm" && attr_int(n, "transA", 0) != 0) fail("transA = 1 is not modelled");
      const std::int64_t in_features = trans_b ? w.dims[1] : w.dims[0];
      l.out_channels = trans_b ? w.dims[0] : w.dims[1];
      const std::int64_t have = shape(l.inputs[0]).elements();
      if (in_features != have)
        fail("weight expects " + std::to_string(in_features) + " input features, the input has " +
             std::to_string(have));
      l.has_bias = op == "Gemm" && n.input_size() > 2 && !n.input(2).empty();
      take_bits(n, l);
      const int layer = add_layer(n, l);
      if (weights_) {
        // PyTorch's layout: out x in. ONNX's B is in x out unless Gemm transposes it.
        LayerWeights& lw = loaded_[layer];
        lw.weight = weight_data(n, 1);
        if (!trans_b && !lw.weight.empty())
          lw.weight = transposed(lw.weight, static_cast<std::size_t>(in_features),
                                 static_cast<std::size_t>(l.out_channels));
        const double alpha = attr_float(n, "alpha", 1.0), beta = attr_float(n, "beta", 1.0);
        for (float& x : lw.weight) x = static_cast<float>(x * alpha);
        if (l.has_bias) {
          lw.bias = bias_values(n, 2, l.out_channels);
          for (float& x : lw.bias) x = static_cast<float>(x * beta);
        }
      }
      return;
    }
    if (op == "BatchNormalization") {
      const int p = activation(n, 0);
      const Value in = value(n, 0);
      Layer* layer = p == kNetworkInput ? nullptr : &net_.layers[static_cast<std::size_t>(p)];
      if (layer && layer->has_weights() && in.sole && !layer->folded_norm && !in.affine) {
        if (weights_) loaded_[p].norm = norm_weights(n, layer->out_channels);
        layer->folded_norm = true;
        alias(n, p, true);
        values_[n.output(0)].after_norm = true;
        return;
      }
      if (in.affine || p == kNetworkInput) {
        unreproduced(in.affine ? "a batch norm after another scale and shift is not modelled"
                               : "a batch norm of the network's input is not modelled");
        alias(n, p, false);
        return;
      }
      // After a concat, an add, a pool, or a layer whose output is read elsewhere too: the
      // activation that reads it takes it.
      Value v;
      v.producer = p;
      v.affine = true;
      if (weights_) v.affine_weights = norm_weights(n, shape(p).c);
      for (const auto& out : n.output()) values_[out] = v;
      return;
    }
    if (is_activation_op(op)) {
      Layer l;
      l.op = OpKind::kAct;
      l.inputs = {activation(n, 0)};
      if (op == "Relu") l.act = ActKind::kRelu;
      if (op == "Sigmoid") l.act = ActKind::kSigmoid;
      if (op == "HardSigmoid") l.act = ActKind::kHardSigmoid;
      if (op == "HardSwish") l.act = ActKind::kHardSwish;
      if (op == "Tanh") l.act = ActKind::kTanh;
      if (op == "LeakyRelu") {
        l.act = ActKind::kLeakyRelu;
        l.negative_slope = attr_float(n, "alpha", 0.01);
        if (!(l.negative_slope >= 0 && l.negative_slope <= 1e6))
          fail("alpha " + core::fixed(l.negative_slope, 4) +
               " is not modelled: a negative slope makes the activation non-monotonic, which "
               "FINN's thresholds cannot compute (only alpha >= 0)");
      }
      if (op == "Gelu") {
        l.act = ActKind::kGelu;
        if (const auto* a = attr(n, "approximate"); a && a->s() != "none")
          unreproduced("GELU's '" + a->s() + "' approximation is run as the exact GELU");
      }
      if (op == "Clip") {
        double lo = -1e30, hi = 1e30;
        if (const auto* a = attr(n, "min")) lo = a->f();
        if (const auto* a = attr(n, "max")) hi = a->f();
        if (n.input_size() > 1 && !n.input(1).empty() && !constant(n, 1).data.empty())
          lo = constant(n, 1).data[0];
        if (n.input_size() > 2 && !n.input(2).empty() && !constant(n, 2).data.empty())
          hi = constant(n, 2).data[0];
        l.act = (lo == 0.0 && hi == 6.0) ? ActKind::kRelu6 : ActKind::kClip;
        if (l.act == ActKind::kClip)
          unreproduced("Clip to [" + core::fixed(lo, 3) + ", " + core::fixed(hi, 3) +
                       "] is run as ReLU6");
      }
      if (op == "HardSigmoid" && (std::abs(attr_float(n, "alpha", 0.2) - 1.0 / 6) > 1e-6 ||
                                  std::abs(attr_float(n, "beta", 0.5) - 0.5) > 1e-6))
        unreproduced("HardSigmoid is run with alpha 1/6 and beta 0.5 (PyTorch's)");
      const Value in = value(n, 0);
      l.folded_norm = in.affine;
      const int layer = add_layer(n, l);
      if (weights_ && in.affine) loaded_[layer].norm = in.affine_weights;
      return;
    }
    if (op == "Sub" || op == "Div") {  // x - c and x / c: a constant bias or scale
      if (!value(n, 1).constant || value(n, 0).constant)
        fail("only an activation " + std::string(op == "Sub" ? "minus" : "divided by") +
             " a constant is modelled");
      fold_constant(n, op == "Sub", 1, true);
      return;
    }
    if (op == "Add" || op == "Mul") {
      const Value& a = value(n, 0);
      const Value& b = value(n, 1);
      if (a.constant && b.constant) fail("both operands are constants");
      if (a.constant || b.constant) {  // a bias or a scale
        fold_constant(n, op == "Add", a.constant ? 0 : 1);
        return;
      }
      if (op == "Mul" && (gate_product(n, a, b) || gate_product(n, b, a))) return;
      Layer l;
      l.op = op == "Add" ? OpKind::kAdd : OpKind::kMul;
      l.inputs = {a.producer, b.producer};
      // Broadcast multiply (squeeze-excite): the full feature map goes first.
      if (l.op == OpKind::kMul && shape(l.inputs[0]).h < shape(l.inputs[1]).h)
        std::swap(l.inputs[0], l.inputs[1]);
      add_layer(n, l);
      return;
    }
    if (op == "Concat") {
      std::int64_t axis = attr_int(n, "axis", 1);
      if (axis != 1 && axis != -3)
        fail("axis = " + std::to_string(axis) + ", only channel concatenation (1) is modelled");
      if (n.input_size() == 1) {  // torch.cat of a one-tensor list (DenseNet's first layer)
        activation(n, 0);
        pass_on(n);
        return;
      }
      Layer l;
      l.op = OpKind::kConcat;
      for (int k = 0; k < n.input_size(); ++k) l.inputs.push_back(activation(n, k));
      add_layer(n, l);
      return;
    }
    if (op == "MaxPool" || op == "AveragePool") {
      Layer l;
      l.op = op == "MaxPool" ? OpKind::kMaxPool : OpKind::kAvgPool;
      l.inputs = {activation(n, 0)};
      auto ks = attr_ints(n, "kernel_shape");
      const bool one_d = ks.size() == 1;  // MaxPool1d / AvgPool1d over N x C x L
      if (ks.size() != 2 && !one_d) fail("kernel_shape must have 1 or 2 values");
      window_attrs(n, l, one_d ? 1 : ks[0], ks.back(), one_d);
      l.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
      if (l.op == OpKind::kAvgPool && attr_int(n, "count_include_pad", 0) == 0 &&
          l.pad_top + l.pad_left + l.pad_bottom + l.pad_right > 0)
        unreproduced("averages over the padding are taken with the padding counted");
      take_pads(n, l);
      if (n.output_size() > 1 && !n.output(1).empty())
        fail("pooling indices output is not modelled");
      const int bits = value(n, 0).quant_bits;
      add_layer(n, l);
      if (l.op == OpKind::kMaxPool) values_[n.output(0)].quant_bits = bits;  // same grid
      return;
    }
    if (op == "GlobalAveragePool" || op == "ReduceMean") {
      Layer l;
      l.op = OpKind::kGlobalAvgPool;
      l.inputs = {activation(n, 0)};
      if (op == "ReduceMean") {
        auto axes = attr_ints(n, "axes");
        if (axes.empty() && n.input_size() > 1) {
          for (double d : constant(n, 1).data) axes.push_back(index_of(d));
        }
        std::set<std::int64_t> s;
        for (auto a : axes) s.insert(a < 0 ? a + 4 : a);
        if (s != std::set<std::int64_t>{2, 3})
          fail("only a mean over height and width (axes 2, 3) is modelled");
      }
      add_layer(n, l);
      return;
    }
    if (op == "Flatten") {
      const std::int64_t axis = attr_int(n, "axis", 1);
      if (axis != 1)
        fail("axis = " + std::to_string(axis) +
             ", only flattening after the batch (1) is modelled");
      alias(n, activation(n, 0), value(n, 0).sole, value(n, 0).quant_bits);
      return;
    }
    if (op == "Reshape") {
      const int p = activation(n, 0);
      const Value& target = constant(n, 1);
      const std::int64_t elements = shape(p).elements();
      bool flat =
          target.data.size() == 2 && (target.data[1] == -1 || index_of(target.data[1]) == elements);
      if (!flat) fail("only a reshape to (batch, features) is modelled");
      alias(n, p, value(n, 0).sole, value(n, 0).quant_bits);
      return;
    }
    // A softmax, log-softmax or arg-max that only the graph's output reads: monotonic in each
    // value it normalizes, so the top class is that of the values before it. hao's network ends
    // at those values (a FINN design ends there too, or at a LabelSelect of the top classes);
    // the node is left out with a note.
    if (op == "Softmax" || op == "LogSoftmax" || op == "ArgMax") {
      const int p = activation(n, 0);
      const std::string& out = n.output(0);
      const bool output_only =
          reads_[out] == 1 &&
          std::any_of(graph_.output().begin(), graph_.output().end(),
                      [&](const onnx::ValueInfoProto& v) { return v.name() == out; });
      if (!output_only)
        fail("a " + op +
             " whose output another node reads is not modelled (only one at the "
             "network's output, which hao leaves out)");
      alias(n, p, value(n, 0).sole, value(n, 0).quant_bits);
      net_.notes.push_back(node_where_ + ": left out; hao's network ends at the values it " +
                           (op == "ArgMax" ? "ranks" : "normalizes") +
                           ", whose top class is the same");
      return;
    }
    if (op == "Erf")
      fail(
          "Erf is modelled only within a GELU as PyTorch exports it (x / sqrt 2, Erf, plus 1, "
          "times x and times 0.5, nothing else reading the values between)");
    fail("op '" + op +
         "' is not modelled; supported: Conv, Gemm, MatMul, BatchNormalization, Cast, "
         "Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu (also PyTorch's "
         "Erf form), Mul, "
         "Add, Concat, Pad, MaxPool, "
         "AveragePool, GlobalAveragePool, ReduceMean, Resize and Upsample (nearest), Flatten, "
         "ConvTranspose, Reshape, Sub, Div, Identity, Dropout, Constant, Shape arithmetic "
         "(Shape, Gather, Unsqueeze, Slice), Softmax, LogSoftmax and ArgMax at the output, and "
         "QONNX's Quant, BipolarQuant, Trunc and MultiThreshold");
  }
};

}  // namespace

Network import_onnx(const std::string& bytes, const std::string& where, WeightSet* weights) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    throw core::InputError(where +
                           ": not a valid ONNX model (the protobuf does not parse; "
                           "truncated or not ONNX)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw core::InputError(where + ": the ONNX model has no graph nodes");
  return Importer(model, where, weights).run();
}

Network read_onnx(const std::string& path, WeightSet* weights) {
  return import_onnx(core::read_file(path), path, weights);
}

}  // namespace hao::ir
