#include "ir/qonnx_export.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "ir/weights.hpp"

namespace hao::ir {
namespace {

// Builds the graph: tensors, nodes and their names.
class Writer {
 public:
  Writer(const Network& net, const DeployedModel& model) : net_(net), model_(model) {}

  std::string run() {
    check();
    onnx::ModelProto m;
    m.set_ir_version(7);  // opset 13's
    m.set_producer_name("hao");
    m.set_producer_version(model_.producer_version);
    m.set_doc_string("Exported by hao export: a trained, quantized network for FINN.");
    auto* std_opset = m.add_opset_import();
    std_opset->set_domain("");
    std_opset->set_version(kQonnxExportOpset);
    auto* q_opset = m.add_opset_import();
    q_opset->set_domain(kQonnxDomain);
    q_opset->set_version(1);
    g_ = m.mutable_graph();
    g_->set_name(net_.name);

    const Shape& in = net_.input;
    add_value(g_->add_input(), "global_in", {1, in.c, in.h, in.w});
    auto* annotation = g_->add_quantization_annotation();
    annotation->set_tensor_name("global_in");
    auto* datatype = annotation->add_quant_parameter_tensor_names();
    datatype->set_key("finn_datatype");
    datatype->set_value("UINT8");

    // (x / 255 - mean) / stddev, as hao's data loader computes it.
    const std::int64_t c = in.c;
    std::string x = node("Div", "input_scale", {"global_in", scalar("input_255", 255.0f)});
    x = node("Sub", "input_mean", {x, constant("input_mean_value", {1, c, 1, 1}, model_.mean)});
    input_ =
        node("Div", "input_std", {x, constant("input_std_value", {1, c, 1, 1}, model_.stddev)});

    for (std::size_t i = 0; i < net_.layers.size(); ++i) outputs_.push_back(layer(i));
    // N x classes out, as hao's networks give it.
    const Layer& l = net_.layers.back();
    if (outputs_.back() != "global_out")  // a last fc's Gemm writes it
      *add_node("Flatten", "output_flatten", {outputs_.back()}, {"global_out"}).add_attribute() =
          int_attr("axis", 1);
    add_value(g_->add_output(), "global_out", {1, l.out.elements()});
    std::string bytes;
    if (!m.SerializeToString(&bytes))
      throw core::InternalError("the QONNX model could not be serialized");
    return bytes;
  }

 private:
  const Network& net_;
  const DeployedModel& model_;
  onnx::GraphProto* g_ = nullptr;
  std::string input_;                 // the normalized input
  std::vector<std::string> outputs_;  // per layer: the tensor it writes
  bool have_clip_bounds_ = false;
  bool have_gelu_constants_ = false;

  void check() const {
    if (model_.layers.size() != net_.layers.size())
      throw core::InputError("export of '" + net_.name +
                             "': " + std::to_string(model_.layers.size()) +
                             " deployed layers for " + std::to_string(net_.layers.size()));
    const auto c = static_cast<std::size_t>(net_.input.c);
    if (model_.mean.size() != c || model_.stddev.size() != c)
      throw core::InputError("export of '" + net_.name + "': the input normalization has " +
                             std::to_string(model_.mean.size()) + " channels, the network " +
                             std::to_string(c));
    for (std::size_t i = 0; i < net_.layers.size(); ++i) {
      const Layer& l = net_.layers[i];
      const DeployedLayer& d = model_.layers[i];
      const auto channels = static_cast<std::size_t>(l.in.c);
      if (l.op == OpKind::kAct && l.folded_norm &&
          (d.weight.size() != channels || d.bias.size() != channels))
        throw core::InputError("export of '" + net_.name + "': layer '" + l.name +
                               "': its batch norm's scale and shift do not fit its channels");
      if (!l.has_weights()) continue;
      const auto out = static_cast<std::size_t>(l.out.c);
      const bool fits = d.weight.size() == static_cast<std::size_t>(l.weights()) &&
                        (d.bias.empty() || d.bias.size() == out) &&
                        (d.weight_quant.bits == 0 || d.weight_quant.scale.size() == out) &&
                        (d.input_quant.bits == 0 || d.input_quant.scale.size() == 1);
      if (!fits)
        throw core::InputError("export of '" + net_.name + "': layer '" + l.name +
                               "': its deployed tensors do not fit its shape");
    }
  }

  static void add_value(onnx::ValueInfoProto* v, const std::string& name,
                        const std::vector<std::int64_t>& dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  }

  static onnx::AttributeProto int_attr(const std::string& name, std::int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  static onnx::AttributeProto ints_attr(const std::string& name,
                                        const std::vector<std::int64_t>& v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a.add_ints(x);
    return a;
  }
  static onnx::AttributeProto float_attr(const std::string& name, float v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(v);
    return a;
  }
  static onnx::AttributeProto string_attr(const std::string& name, const std::string& v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(v);
    return a;
  }

  // A float initializer; returns its name.
  std::string constant(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<float>& values) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return name;
  }
  std::string scalar(const std::string& name, float v) { return constant(name, {}, {v}); }
  std::string int64_constant(const std::string& name, const std::vector<std::int64_t>& values) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                                values.size() * sizeof(std::int64_t)));
    return name;
  }

  onnx::NodeProto& add_node(const std::string& op, const std::string& name,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs) {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  // A node with one output named after it; returns the output's name.
  std::string node(const std::string& op, const std::string& name,
                   const std::vector<std::string>& inputs) {
    add_node(op, name, inputs, {name + "_out"});
    return name + "_out";
  }

  // A Quant node on `x` (scale of `scale_dims`); returns its output.
  std::string quant(const std::string& x, const std::string& name, const Quantizer& q,
                    const std::vector<std::int64_t>& scale_dims) {
    const std::string scale = constant(name + "_scale", scale_dims, q.scale);
    const std::string zero = scalar(name + "_zeropt", 0.0f);
    const std::string bits = scalar(name + "_bitwidth", static_cast<float>(q.bits));
    auto& n = add_node("Quant", name, {x, scale, zero, bits}, {name + "_out"});
    n.set_domain(kQonnxDomain);
    *n.add_attribute() = int_attr("signed", q.is_signed ? 1 : 0);
    *n.add_attribute() = int_attr("narrow", q.narrow ? 1 : 0);
    *n.add_attribute() = string_attr("rounding_mode", "ROUND");
    return name + "_out";
  }

  std::string input_of(const Layer& l, std::size_t k) const {
    const int p = l.inputs.at(k);
    return p == kNetworkInput ? input_ : outputs_.at(static_cast<std::size_t>(p));
  }

  void window(onnx::NodeProto& n, const Layer& l) {
    *n.add_attribute() = ints_attr("kernel_shape", {l.kernel_h, l.kernel_w});
    *n.add_attribute() = ints_attr("strides", {l.stride_h, l.stride_w});
    *n.add_attribute() = ints_attr("pads", {l.pad_top, l.pad_left, l.pad_bottom, l.pad_right});
  }

  // A chain of binary `op`s over the layer's inputs.
  std::string chain(const std::string& op, const Layer& l) {
    std::string y = input_of(l, 0);
    for (std::size_t k = 1; k < l.inputs.size(); ++k) {
      const std::string name = k + 1 == l.inputs.size() ? l.name : l.name + "_" + std::to_string(k);
      y = node(op, name, {y, input_of(l, k)});
    }
    return y;
  }

  std::string layer(std::size_t i) {
    const Layer& l = net_.layers[i];
    switch (l.op) {
      case OpKind::kConv:
      case OpKind::kFc:
        return weighted(i);
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        const bool max = l.op == OpKind::kMaxPool;
        auto& n =
            add_node(max ? "MaxPool" : "AveragePool", l.name, {input_of(l, 0)}, {l.name + "_out"});
        window(n, l);
        *n.add_attribute() = int_attr("ceil_mode", l.ceil_mode ? 1 : 0);
        if (!max) *n.add_attribute() = int_attr("count_include_pad", 1);  // as hao pads
        return l.name + "_out";
      }
      case OpKind::kGlobalAvgPool:
        return node("GlobalAveragePool", l.name, {input_of(l, 0)});
      case OpKind::kAdd:
        return chain("Add", l);
      case OpKind::kMul:
        return chain("Mul", l);
      case OpKind::kConcat: {
        std::vector<std::string> inputs;
        for (std::size_t k = 0; k < l.inputs.size(); ++k) inputs.push_back(input_of(l, k));
        *add_node("Concat", l.name, inputs, {l.name + "_out"}).add_attribute() =
            int_attr("axis", 1);
        return l.name + "_out";
      }
      case OpKind::kAct:
        return activation(i);
      case OpKind::kUpsample: {  // as PyTorch exports F.interpolate(mode="nearest")
        const std::string scales =
            constant(l.name + "_scales", {4},
                     {1.0f, 1.0f, static_cast<float>(l.scale_h), static_cast<float>(l.scale_w)});
        auto& n = add_node("Resize", l.name, {input_of(l, 0), "", scales}, {l.name + "_out"});
        *n.add_attribute() = string_attr("mode", "nearest");
        *n.add_attribute() = string_attr("coordinate_transformation_mode", "asymmetric");
        *n.add_attribute() = string_attr("nearest_mode", "floor");
        return l.name + "_out";
      }
      case OpKind::kPixelPad:
        if (transposed_reader(i)) return "";  // written with the conv that reads it
        return pixel_pad(l);
    }
    throw core::InternalError("layer '" + l.name + "': no ONNX mapping");
  }

  // A conv that a pixel padding alone reads, with one group, stride and dilation 1 and padding a
  // ConvTranspose can give (kernel - 1 - pads at the start, up to stride - 1 more at the end):
  // written as that ConvTranspose, which FINN lowers back to the pair (InferPixelPaddingDeconv).
  bool transposed(const Layer& l) const {
    if (l.op != OpKind::kConv || l.inputs.front() == kNetworkInput) return false;
    const Layer& p = net_.layers[static_cast<std::size_t>(l.inputs.front())];
    auto fits = [](std::int64_t begin, std::int64_t end, std::int64_t k, std::int64_t s) {
      return begin <= k - 1 && std::max<std::int64_t>(0, end - (k - 1)) < s;
    };
    return p.op == OpKind::kPixelPad && p.fanout == 1 && l.groups == 1 && l.stride_h == 1 &&
           l.stride_w == 1 && l.dilation_h == 1 && l.dilation_w == 1 &&
           fits(l.pad_top, l.pad_bottom, l.kernel_h, p.stride_h) &&
           fits(l.pad_left, l.pad_right, l.kernel_w, p.stride_w);
  }
  bool transposed_reader(std::size_t i) const {
    for (const Layer& l : net_.layers)
      if (!l.inputs.empty() && l.inputs.front() == static_cast<int>(i) && transposed(l))
        return true;
    return false;
  }

  // A pixel padding on its own: a ConvTranspose of a 1 x 1 kernel of ones per channel.
  std::string pixel_pad(const Layer& l) {
    const std::string w = constant(l.name + "_ones", {l.in.c, 1, 1, 1},
                                   std::vector<float>(static_cast<std::size_t>(l.in.c), 1.0f));
    auto& n = add_node("ConvTranspose", l.name, {input_of(l, 0), w}, {l.name + "_out"});
    *n.add_attribute() = ints_attr("kernel_shape", {1, 1});
    *n.add_attribute() = ints_attr("strides", {l.stride_h, l.stride_w});
    *n.add_attribute() = int_attr("group", l.in.c);
    return l.name + "_out";
  }

  std::string activation(std::size_t i) {
    const Layer& l = net_.layers[i];
    std::string x = input_of(l, 0);
    if (l.folded_norm) {  // its batch norm, per channel: x scale + shift
      const DeployedLayer& d = model_.layers[i];
      const std::vector<std::int64_t> dims{1, l.in.c, 1, 1};
      x = node("Mul", l.name + "_norm_scale", {x, constant(l.name + "_scale", dims, d.weight)});
      x = node("Add", l.name + "_norm_shift", {x, constant(l.name + "_shift", dims, d.bias)});
    }
    switch (l.act) {
      case ActKind::kRelu:
        return node("Relu", l.name, {x});
      case ActKind::kRelu6:
      case ActKind::kClip:  // hao runs every clip as ReLU6
        if (!have_clip_bounds_) {
          scalar("clip_min", 0.0f);
          scalar("clip_max", 6.0f);
          have_clip_bounds_ = true;
        }
        return node("Clip", l.name, {x, "clip_min", "clip_max"});
      case ActKind::kSigmoid:
        return node("Sigmoid", l.name, {x});
      case ActKind::kTanh:
        return node("Tanh", l.name, {x});
      case ActKind::kLeakyRelu: {
        auto& n = add_node("LeakyRelu", l.name, {x}, {l.name + "_out"});
        *n.add_attribute() = float_attr("alpha", static_cast<float>(l.negative_slope));
        return l.name + "_out";
      }
      case ActKind::kHardSigmoid:
        return hard_sigmoid(l.name, x);
      case ActKind::kHardSwish:
        return node("Mul", l.name, {x, hard_sigmoid(l.name + "_gate", x)});
      case ActKind::kSilu:
        return node("Mul", l.name, {x, node("Sigmoid", l.name + "_gate", {x})});
      case ActKind::kGelu: {  // as PyTorch exports it: x * (0.5 (1 + erf(x / sqrt 2)))
        if (!have_gelu_constants_) {
          scalar("gelu_sqrt2", static_cast<float>(M_SQRT2));
          scalar("gelu_one", 1.0f);
          scalar("gelu_half", 0.5f);
          have_gelu_constants_ = true;
        }
        const std::string erf =
            node("Erf", l.name + "_erf", {node("Div", l.name + "_scaled", {x, "gelu_sqrt2"})});
        const std::string gate =
            node("Mul", l.name + "_gate",
                 {node("Add", l.name + "_one_plus", {erf, "gelu_one"}), "gelu_half"});
        return node("Mul", l.name, {x, gate});
      }
    }
    throw core::InternalError("layer '" + l.name + "': no ONNX mapping");
  }

  // PyTorch's hardsigmoid: relu6(x + 3) / 6.
  std::string hard_sigmoid(const std::string& name, const std::string& x) {
    auto& n = add_node("HardSigmoid", name, {x}, {name + "_out"});
    *n.add_attribute() = float_attr("alpha", 1.0f / 6.0f);
    *n.add_attribute() = float_attr("beta", 0.5f);
    return name + "_out";
  }

  // The output_padding that gives a transposed conv's pixel padding and a conv padded by
  // `begin` and `end`: the one that keeps the ConvTranspose's pads symmetric where it can (as
  // PyTorch writes them), else the least.
  static std::int64_t output_padding(std::int64_t begin, std::int64_t end, std::int64_t kernel,
                                     std::int64_t stride) {
    if (end >= begin && end - begin < stride) return end - begin;
    return std::max<std::int64_t>(0, end - (kernel - 1));
  }

  std::string weighted(std::size_t i) {
    const Layer& l = net_.layers[i];
    const DeployedLayer& d = model_.layers[i];
    const bool deconv = transposed(l);
    const Layer* pad = deconv ? &net_.layers[static_cast<std::size_t>(l.inputs.front())] : nullptr;
    // Zeros stay zeros under the input's quantizer: it can come before the pixel padding.
    std::string x = deconv ? input_of(*pad, 0) : input_of(l, 0);
    if (d.input_quant.bits > 0) x = quant(x, l.name + "_input_quant", d.input_quant, {});
    const bool fc = l.op == OpKind::kFc;
    const std::int64_t out = l.out.c;
    const std::vector<std::int64_t> dims =
        fc       ? std::vector<std::int64_t>{out, l.in.elements()}
        : deconv ? std::vector<std::int64_t>{l.in.c, out, l.kernel_h, l.kernel_w}
                 : std::vector<std::int64_t>{out, l.in.c / l.groups, l.kernel_h, l.kernel_w};
    std::string w = constant(
        l.name + "_weight", dims,
        deconv ? swapped_and_turned(d.weight, out, l.in.c, l.kernel_h * l.kernel_w) : d.weight);
    if (d.weight_quant.bits > 0)
      w = quant(w, l.name + "_weight_quant", d.weight_quant,
                fc       ? std::vector<std::int64_t>{out, 1}
                : deconv ? std::vector<std::int64_t>{1, out, 1, 1}
                         : std::vector<std::int64_t>{out, 1, 1, 1});
    std::vector<std::string> inputs = {x, w};
    if (!d.bias.empty()) inputs.push_back(constant(l.name + "_bias", {out}, d.bias));
    if (deconv) {
      auto& n = add_node("ConvTranspose", l.name, inputs, {l.name + "_out"});
      const std::int64_t extra_h =
          output_padding(l.pad_top, l.pad_bottom, l.kernel_h, pad->stride_h);
      const std::int64_t extra_w =
          output_padding(l.pad_left, l.pad_right, l.kernel_w, pad->stride_w);
      *n.add_attribute() = ints_attr("kernel_shape", {l.kernel_h, l.kernel_w});
      *n.add_attribute() = ints_attr("strides", {pad->stride_h, pad->stride_w});
      *n.add_attribute() =
          ints_attr("pads", {l.kernel_h - 1 - l.pad_top, l.kernel_w - 1 - l.pad_left,
                             l.kernel_h - 1 - l.pad_bottom + extra_h,
                             l.kernel_w - 1 - l.pad_right + extra_w});
      *n.add_attribute() = ints_attr("output_padding", {extra_h, extra_w});
      *n.add_attribute() = int_attr("group", 1);
      return l.name + "_out";
    }
    if (!fc) {
      auto& n = add_node("Conv", l.name, inputs, {l.name + "_out"});
      window(n, l);
      *n.add_attribute() = int_attr("group", l.groups);
      *n.add_attribute() = ints_attr("dilations", {l.dilation_h, l.dilation_w});
      return l.name + "_out";
    }
    auto& flat = add_node("Flatten", l.name + "_flatten", {x}, {l.name + "_flatten_out"});
    *flat.add_attribute() = int_attr("axis", 1);
    inputs[0] = l.name + "_flatten_out";
    const bool last = i + 1 == net_.layers.size();
    const std::string y = last ? "global_out" : l.name + "_gemm_out";
    auto& n = add_node("Gemm", l.name, inputs, {y});
    *n.add_attribute() = int_attr("transB", 1);
    if (last) return y;
    // N x C x 1 x 1, as the IR shapes an fc's output, so that any layer can follow.
    return node("Reshape", l.name + "_reshape",
                {y, int64_constant(l.name + "_shape", {-1, out, 1, 1})});
  }
};

}  // namespace

std::string write_qonnx(const Network& net, const DeployedModel& model) {
  if (net.layers.empty()) throw core::InputError("export of '" + net.name + "': no layers");
  return Writer(net, model).run();
}

}  // namespace hao::ir
