#include "ir/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::ir {
namespace {

// What a tensor name stands for while walking the graph.
struct Value {
  bool constant = false;
  int producer = kNetworkInput;    // activations: layer index or kNetworkInput
  std::vector<std::int64_t> dims;  // constants: their dims
  std::vector<double> data;        // constants: values when small and numeric
};

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string where)
      : graph_(model.graph()), where_(std::move(where)) {}

  Network run() {
    net_.name = graph_.name().empty() ? "onnx_model" : graph_.name();
    collect_constants();
    find_input();
    for (int i = 0; i < graph_.node_size(); ++i) import_node(i, graph_.node(i));
    if (net_.layers.empty()) throw core::InputError(where_ + ": the graph has no layer hao models");
    infer_shapes(net_, where_);
    return std::move(net_);
  }

 private:
  const onnx::GraphProto& graph_;
  std::string where_;
  Network net_;
  std::map<std::string, Value> values_;
  std::string node_where_;  // "model.onnx: node 12 'Conv_12' (Conv)"

  [[noreturn]] void fail(const std::string& what) const {
    throw core::InputError(node_where_ + ": " + what);
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

  void collect_constants() {
    for (const auto& t : graph_.initializer()) {
      Value v;
      v.constant = true;
      v.dims.assign(t.dims().begin(), t.dims().end());
      v.data = tensor_data(t);
      values_[t.name()] = v;
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
    std::set<std::string> activation_reads;
    for (const auto& n : graph_.node())
      if (n.input_size() > 0 && n.op_type() != "Identity" && n.op_type() != "Cast")
        activation_reads.insert(n.input(0));
    std::vector<std::string> data_inputs;
    for (const auto& in : graph_.input()) {
      if (values_.count(in.name())) continue;
      bool known = false;
      std::vector<std::int64_t> dims = shape_of(in, known);
      if (activation_reads.count(in.name())) {
        data_inputs.push_back(in.name());
        if (!known || dims.size() != 4)
          throw core::InputError(where_ + ": input '" + in.name() +
                                 "' must be a 4-D tensor N x C x H x W with a known shape");
        for (std::size_t k = 1; k < 4; ++k)
          if (dims[k] < 1)
            throw core::InputError(where_ + ": input '" + in.name() + "' dimension " +
                                   std::to_string(k) + " = " + std::to_string(dims[k]) +
                                   ": export with a fixed input size (C, H, W >= 1)");
        if (dims[0] > 1)  // a static batch: hao's networks run any batch
          net_.notes.push_back(where_ + ": input '" + in.name() + "' has a static batch of " +
                               std::to_string(dims[0]) + "; hao ignores the batch size");
        net_.input = {dims[1], dims[2], dims[3]};
        values_[in.name()] = Value{};
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

  void alias(const onnx::NodeProto& n, int producer) {
    for (const auto& out : n.output()) {
      Value v;
      v.producer = producer;
      values_[out] = v;
    }
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
    alias(n, index);
    return index;
  }

  const Shape& shape(int producer) const { return net_.producer_shape(producer); }

  void window_attrs(const onnx::NodeProto& n, Layer& l, std::int64_t kh, std::int64_t kw) {
    l.kernel_h = kh;
    l.kernel_w = kw;
    auto strides = attr_ints(n, "strides");
    if (!strides.empty()) {
      if (strides.size() != 2)
        fail("strides has " + std::to_string(strides.size()) + " values, expected 2");
      l.stride_h = strides[0], l.stride_w = strides[1];
    }
    for (auto d : attr_ints(n, "dilations"))
      if (d != 1) fail("dilation " + std::to_string(d) + " is not modelled (only 1)");
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
      same(in.h, kh, l.stride_h, l.pad_top, l.pad_bottom);
      same(in.w, kw, l.stride_w, l.pad_left, l.pad_right);
    } else if (!pads.empty()) {
      if (pads.size() != 4) fail("pads has " + std::to_string(pads.size()) + " values, expected 4");
      l.pad_top = pads[0], l.pad_left = pads[1], l.pad_bottom = pads[2], l.pad_right = pads[3];
    }
  }

  void import_node(int index, const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    node_where_ = where_ + ": node " + std::to_string(index) + " '" + n.name() + "' (" + op + ")";
    if (n.output_size() < 1) fail("has no output");
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      fail("op domain '" + n.domain() + "' is not modelled");

    if (op == "Constant") {
      const auto* a = attr(n, "value");
      Value v;
      v.constant = true;
      if (a && a->has_t()) {
        v.dims.assign(a->t().dims().begin(), a->t().dims().end());
        v.data = tensor_data(a->t());
      }
      values_[n.output(0)] = v;
      return;
    }
    // Cast: hao's IR has no element types, so a cast (PyTorch's training-mode export casts
    // Clip's bounds) passes its value on.
    if (op == "Identity" || op == "Dropout" || op == "Cast") {
      const Value v = value(n, 0);
      values_[n.output(0)] = v;
      return;
    }
    if (op == "Conv") {
      Layer l;
      l.op = OpKind::kConv;
      l.inputs = {activation(n, 0)};
      const Value& w = constant(n, 1);
      if (w.dims.size() != 4)
        fail("weight has " + std::to_string(w.dims.size()) +
             " dims, only 2-D convolutions are modelled");
      l.out_channels = w.dims[0];
      l.groups = attr_int(n, "group", 1);
      const std::int64_t expected_cin = shape(l.inputs[0]).c;
      if (l.groups < 1 || w.dims[1] * l.groups != expected_cin)
        fail("weight " + std::to_string(w.dims[1]) + " input channels x group " +
             std::to_string(l.groups) + " != " + std::to_string(expected_cin) + " input channels");
      auto ks = attr_ints(n, "kernel_shape");
      if (!ks.empty() && (ks.size() != 2 || ks[0] != w.dims[2] || ks[1] != w.dims[3]))
        fail("kernel_shape does not match the weight's shape");
      window_attrs(n, l, w.dims[2], w.dims[3]);
      l.has_bias = n.input_size() > 2 && !n.input(2).empty();
      add_layer(n, l);
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
      add_layer(n, l);
      return;
    }
    if (op == "BatchNormalization") {
      const int p = activation(n, 0);
      if (p != kNetworkInput && net_.layers[static_cast<std::size_t>(p)].has_weights())
        net_.layers[static_cast<std::size_t>(p)].folded_norm = true;
      alias(n, p);
      return;
    }
    if (op == "Relu" || op == "Sigmoid" || op == "HardSigmoid" || op == "HardSwish" ||
        op == "Clip") {
      Layer l;
      l.op = OpKind::kAct;
      l.inputs = {activation(n, 0)};
      if (op == "Relu") l.act = ActKind::kRelu;
      if (op == "Sigmoid") l.act = ActKind::kSigmoid;
      if (op == "HardSigmoid") l.act = ActKind::kHardSigmoid;
      if (op == "HardSwish") l.act = ActKind::kHardSwish;
      if (op == "Clip") {
        double lo = -1e30, hi = 1e30;
        if (const auto* a = attr(n, "min")) lo = a->f();
        if (const auto* a = attr(n, "max")) hi = a->f();
        if (n.input_size() > 1 && !n.input(1).empty() && !constant(n, 1).data.empty())
          lo = constant(n, 1).data[0];
        if (n.input_size() > 2 && !n.input(2).empty() && !constant(n, 2).data.empty())
          hi = constant(n, 2).data[0];
        l.act = (lo == 0.0 && hi == 6.0) ? ActKind::kRelu6 : ActKind::kClip;
      }
      add_layer(n, l);
      return;
    }
    if (op == "Add" || op == "Mul") {
      const Value& a = value(n, 0);
      const Value& b = value(n, 1);
      if (a.constant && b.constant) fail("both operands are constants");
      if (a.constant || b.constant) {  // a bias or scale: folds into the neighbours
        alias(n, a.constant ? b.producer : a.producer);
        return;
      }
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
      if (ks.size() != 2) fail("kernel_shape must have 2 values");
      window_attrs(n, l, ks[0], ks[1]);
      l.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
      if (n.output_size() > 1 && !n.output(1).empty())
        fail("pooling indices output is not modelled");
      add_layer(n, l);
      return;
    }
    if (op == "GlobalAveragePool" || op == "ReduceMean") {
      Layer l;
      l.op = OpKind::kGlobalAvgPool;
      l.inputs = {activation(n, 0)};
      if (op == "ReduceMean") {
        auto axes = attr_ints(n, "axes");
        if (axes.empty() && n.input_size() > 1) {
          for (double d : constant(n, 1).data) axes.push_back(static_cast<std::int64_t>(d));
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
      alias(n, activation(n, 0));
      return;
    }
    if (op == "Reshape") {
      const int p = activation(n, 0);
      const Value& target = constant(n, 1);
      const std::int64_t elements = shape(p).elements();
      bool flat = target.data.size() == 2 &&
                  (target.data[1] == -1 || static_cast<std::int64_t>(target.data[1]) == elements);
      if (!flat) fail("only a reshape to (batch, features) is modelled");
      alias(n, p);
      return;
    }
    fail("op '" + op +
         "' is not modelled; supported: Conv, Gemm, MatMul, BatchNormalization, Cast, "
         "Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Mul, Add, Concat, MaxPool, AveragePool, "
         "GlobalAveragePool, ReduceMean, Flatten, Reshape, Identity, Dropout, Constant");
  }
};

}  // namespace

Network import_onnx(const std::string& bytes, const std::string& where) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    throw core::InputError(where +
                           ": not a valid ONNX model (the protobuf does not parse; "
                           "truncated or not ONNX)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw core::InputError(where + ": the ONNX model has no graph nodes");
  return Importer(model, where).run();
}

Network read_onnx(const std::string& path) { return import_onnx(core::read_file(path), path); }

}  // namespace hao::ir
