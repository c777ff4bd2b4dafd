// QONNX: the export writer (without LibTorch: made-up deployed tensors) read back by the
// importer, and QONNX models laid out as Brevitas and FINN write them (make_qonnx.py).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <functional>
#include <limits>
#include <random>
#include <stdexcept>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "ir/onnx_import.hpp"
#include "ir/qonnx_export.hpp"
#include "support.hpp"

namespace hao::ir {
namespace {

std::string fixture(const std::string& name) { return std::string(HAO_FIXTURES) + "/" + name; }

// Made-up deployed tensors for `net` at its bits: random weights and biases, a scale per
// channel, and an input range unsigned after an activation and signed elsewhere.
DeployedModel made_up(const Network& net, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  DeployedModel d;
  d.mean.assign(static_cast<std::size_t>(net.input.c), 0.3f);
  d.stddev.assign(static_cast<std::size_t>(net.input.c), 0.35f);
  d.layers.resize(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    if (!l.has_weights()) continue;
    DeployedLayer& dl = d.layers[i];
    for (std::int64_t k = 0; k < l.weights(); ++k) dl.weight.push_back(normal(rng));
    for (std::int64_t k = 0; k < l.out.c; ++k) dl.bias.push_back(normal(rng));
    dl.weight_quant = {l.weight_bits, true, l.weight_bits >= 4,
                       std::vector<float>(static_cast<std::size_t>(l.out.c), 0.1f)};
    const bool after_act = l.inputs[0] != kNetworkInput &&
                           net.layers[static_cast<std::size_t>(l.inputs[0])].op == OpKind::kAct;
    dl.input_quant = {l.act_bits, !after_act, !after_act && l.act_bits >= 4, {0.05f}};
  }
  return d;
}

// `net` at w4a4 (its elementwise layers' bits derived), written by hao export with made-up
// tensors and read back.
Network exported_back(Network& net, unsigned seed) {
  apply_bits(net, "w4a4");
  derive_elementwise_bits(net);
  return import_onnx(write_qonnx(net, made_up(net, seed)), "export.onnx");
}

// Layer for layer: the same name, op, activation, inputs and output shape.
void expect_same_layers(const Network& back, const Network& net) {
  ASSERT_EQ(back.layers.size(), net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    SCOPED_TRACE(net.layers[i].name);
    EXPECT_EQ(back.layers[i].name, net.layers[i].name);
    EXPECT_EQ(back.layers[i].op, net.layers[i].op);
    EXPECT_EQ(back.layers[i].act, net.layers[i].act);
    EXPECT_EQ(back.layers[i].inputs, net.layers[i].inputs);
    EXPECT_EQ(back.layers[i].out, net.layers[i].out);
  }
}

// GELU: PyTorch's export (Div, Erf, Add, Mul, Mul) reads as one gated activation per GELU,
// named after the node whose output it is; hao's QONNX export writes the same chain with the
// 0.5 on the gate, which reads back as the same network.
TEST(Qonnx, GeluChainsReadAsOneActivationAndExportBack) {
  Network net = read_onnx(fixture("gelus_weights.onnx"));
  ASSERT_EQ(net.layers.size(), 6u);  // conv, gelu, conv, gelu, add, fc
  for (const std::size_t i : {1u, 3u}) {
    EXPECT_EQ(net.layers[i].op, OpKind::kAct);
    EXPECT_EQ(net.layers[i].act, ActKind::kGelu);
    EXPECT_EQ(net.layers[i].inputs, std::vector<int>{static_cast<int>(i) - 1});
    EXPECT_TRUE(is_gated(net.layers[i].act));
  }
  EXPECT_EQ(net.layers[1].name, "/Mul_1");
  EXPECT_EQ(net.layers[4].inputs, (std::vector<int>{1, 3}));  // h + gelu(conv2(h))
  EXPECT_EQ(net.layers[1].fanout, 2);
  EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");

  expect_same_layers(exported_back(net, 5), net);

  // An Erf whose chain something else reads is no GELU: refused, naming the node.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("gelus_weights.onnx"))));
  m.mutable_graph()->add_output()->set_name(m.graph().node(3).output(0));  // /Erf's
  const std::string erf =
      test::input_error([&] { import_onnx(m.SerializeAsString(), "erf.onnx"); });
  EXPECT_NE(erf.find("'/Erf' (Erf): Erf is modelled only within a GELU"), std::string::npos) << erf;
}

// LeakyRelu (its slope kept) and Tanh: one activation each, monotonic (fused into the conv
// before them as thresholds), written back by hao export and by the description as read.
TEST(Qonnx, LeakyReluAndTanhReadWithTheirSlopeAndExportBack) {
  Network net = read_onnx(fixture("leaky_tanh_weights.onnx"));
  ASSERT_EQ(net.layers.size(), 5u);  // conv, leaky_relu, conv, tanh, fc
  EXPECT_EQ(net.layers[1].act, ActKind::kLeakyRelu);
  EXPECT_NEAR(net.layers[1].negative_slope, 0.1, 1e-7);
  EXPECT_EQ(net.layers[3].act, ActKind::kTanh);
  EXPECT_FALSE(is_gated(ActKind::kLeakyRelu));
  EXPECT_EQ(net.layers[1].fused_into, 0);  // thresholds of the conv before it
  EXPECT_EQ(net.layers[3].fused_into, 2);
  EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");

  const Network back = exported_back(net, 7);
  ASSERT_EQ(back.layers.size(), net.layers.size());
  EXPECT_EQ(back.layers[1].act, ActKind::kLeakyRelu);
  EXPECT_NEAR(back.layers[1].negative_slope, 0.1, 1e-7);
  EXPECT_EQ(back.layers[3].act, ActKind::kTanh);
  const Network described = parse_description(to_yaml(net), "leaky.yaml");
  EXPECT_EQ(described.layers[1].act, ActKind::kLeakyRelu);
  EXPECT_DOUBLE_EQ(described.layers[1].negative_slope, net.layers[1].negative_slope);

  // A negative slope is no monotonic activation: refused, naming the node and the value; a
  // slope on another op in a description, likewise.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("leaky_tanh_weights.onnx"))));
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "LeakyRelu") n.mutable_attribute(0)->set_f(-0.5f);
  const std::string negative =
      test::input_error([&] { import_onnx(m.SerializeAsString(), "negative.onnx"); });
  EXPECT_NE(negative.find("(LeakyRelu): alpha -0.5000 is not modelled"), std::string::npos)
      << negative;
  const std::string misplaced = test::input_error([] {
    parse_description(
        "name: n\ninput: {channels: 1, height: 8, width: 8}\nlayers:\n"
        "  - {name: c, op: conv, out_channels: 4, kernel: 3, padding: 1}\n"
        "  - {name: a, op: relu, negative_slope: 0.1}\n",
        "slope.yaml");
  });
  EXPECT_NE(misplaced.find("slope.yaml: layers[1] 'a'.negative_slope: only a leaky_relu has one"),
            std::string::npos)
      << misplaced;
}

// Nearest upsampling as PyTorch exports it (make_fmnist_onnx.py's Upsampling): nn.Upsample
// (Resize by constant scales) before a U-Net-style concat, F.interpolate(size=x.shape[2:])
// (Resize by sizes that Shape, Gather, Slice and Concat compute at run time) and a view whose
// width Div and Mul compute from h.size() (into the Reshape). The two are one upsample layer
// each; hao's QONNX export and the description write them back as read; Upsample (opset 9)
// reads alike.
TEST(Qonnx, ResizeReadsAsNearestUpsamplingAndExportsBack) {
  Network net = read_onnx(fixture("upsampling_weights.onnx"));
  ASSERT_EQ(net.layers.size(), 11u);  // conv relu conv relu up concat conv relu up maxpool fc
  const Layer& up = net.layers[4];
  EXPECT_EQ(up.op, OpKind::kUpsample);
  EXPECT_EQ(up.out, (Shape{16, 14, 14}));
  EXPECT_EQ(net.layers[5].op, OpKind::kConcat);
  EXPECT_EQ(net.layers[5].inputs, (std::vector<int>{1, 4}));
  const Layer& sized = net.layers[8];
  EXPECT_EQ(sized.op, OpKind::kUpsample);
  EXPECT_EQ(sized.scale_h, 2);
  EXPECT_EQ(sized.scale_w, 2);
  EXPECT_EQ(sized.out, (Shape{8, 28, 28}));
  EXPECT_EQ(net.layers[10].in, (Shape{8, 7, 7}));
  EXPECT_EQ(net.layers[3].fanout, 1);  // the Shape nodes read no values
  EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");

  expect_same_layers(exported_back(net, 9), net);
  const Network described = parse_description(to_yaml(net), "up.yaml");
  EXPECT_EQ(described.layers[8].scale_h, 2);
  EXPECT_EQ(described.layers[8].out, sized.out);

  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("upsampling_weights.onnx"))));
  auto resize = [&]() -> onnx::NodeProto& {
    for (auto& n : *m.mutable_graph()->mutable_node())
      if (n.op_type() == "Resize") return n;
    throw std::logic_error("no Resize");
  };
  auto set = [](onnx::NodeProto& n, const std::string& name, const std::string& value) {
    for (auto& a : *n.mutable_attribute())
      if (a.name() == name) a.set_s(value);
  };
  auto refusal = [&] {
    return test::input_error([&] { import_onnx(m.SerializeAsString(), "up.onnx"); });
  };
  const onnx::ModelProto pristine = m;  // each case below starts from the file as exported
  const std::string scales_name = resize().input(2);
  // Upsample-9: (X, scales), mode only.
  onnx::NodeProto& n = resize();
  n.set_op_type("Upsample");
  const std::string scales = n.input(2);
  n.mutable_input()->DeleteSubrange(1, 2);
  n.add_input(scales);
  n.clear_attribute();
  const Network opset9 = import_onnx(m.SerializeAsString(), "up9.onnx");
  EXPECT_EQ(opset9.layers[4].op, OpKind::kUpsample);
  EXPECT_EQ(opset9.layers[4].out, up.out);

  m = pristine;
  set(resize(), "mode", "linear");
  EXPECT_NE(refusal().find("(Resize): mode 'linear': only nearest upsampling is modelled"),
            std::string::npos)
      << refusal();
  m = pristine;
  set(resize(), "coordinate_transformation_mode", "align_corners");
  EXPECT_NE(refusal().find("coordinate_transformation_mode 'align_corners' with nearest_mode "
                           "'floor' does not repeat each pixel"),
            std::string::npos)
      << refusal();
  m = pristine;
  for (auto& t : *m.mutable_graph()->mutable_node())
    if (t.op_type() == "Constant" && t.output(0) == scales_name) {
      const float half[4] = {1, 1, 1.5f, 1.5f};
      t.mutable_attribute(0)->mutable_t()->set_raw_data(
          std::string(reinterpret_cast<const char*>(half), sizeof(half)));
    }
  EXPECT_NE(refusal().find("height scale 1.5000: only upsampling by an integer factor"),
            std::string::npos)
      << refusal();
  // The shape slice by negative bounds reads alike; an open end (INT64_MAX, as PyTorch writes
  // x.shape[2:]) slices to the end, here leaving six sizes, which Resize refuses.
  m = pristine;
  onnx::NodeProto* slice = nullptr;
  for (auto& t : *m.mutable_graph()->mutable_node())
    if (t.op_type() == "Slice") slice = &t;
  ASSERT_NE(slice, nullptr);
  auto set_int64 = [&](const std::string& name, std::int64_t v) {
    for (auto& t : *m.mutable_graph()->mutable_node())
      if (t.op_type() == "Constant" && t.output(0) == name)
        t.mutable_attribute(0)->mutable_t()->set_raw_data(
            std::string(reinterpret_cast<const char*>(&v), sizeof(v)));
  };
  const std::string starts = slice->input(1), ends = slice->input(2);
  set_int64(starts, -4);
  set_int64(ends, -2);
  EXPECT_EQ(import_onnx(m.SerializeAsString(), "up.onnx").layers[8].out, sized.out);
  set_int64(ends, std::numeric_limits<std::int64_t>::max());
  EXPECT_NE(refusal().find("(Resize): expected 4 constant scales or sizes"), std::string::npos)
      << refusal();
  // Shape arithmetic on an activation (a channel slice, say) is refused as such.
  m = pristine;
  m.mutable_graph()->mutable_node(1)->set_op_type("Slice");  // the first Relu
  EXPECT_NE(refusal().find("(Slice): Slice of an activation ('/conv/Conv_output_0') is not "
                           "modelled"),
            std::string::npos)
      << refusal();

  // A description's upsample needs its scale; no other op takes one.
  const std::string head =
      "name: n\ninput: {channels: 1, height: 8, width: 8}\nlayers:\n"
      "  - {name: c, op: conv, out_channels: 4, kernel: 3, padding: 1}\n";
  const std::string missing = test::input_error(
      [&] { parse_description(head + "  - {name: u, op: upsample}\n", "u.yaml"); });
  EXPECT_NE(missing.find("u.yaml: layers[1] 'u'.scale: missing (required for upsample"),
            std::string::npos)
      << missing;
  const std::string zero = test::input_error(
      [&] { parse_description(head + "  - {name: u, op: upsample, scale: [2, 0]}\n", "u.yaml"); });
  EXPECT_NE(zero.find("scale = 2x0, expected integers 1..1048576"), std::string::npos) << zero;
  const std::string misplaced = test::input_error([&] {
    parse_description(head + "  - {name: p, op: maxpool, kernel: 2, scale: 2}\n", "u.yaml");
  });
  EXPECT_NE(misplaced.find("'p'.scale: only an upsample has one"), std::string::npos) << misplaced;
  const Network two_by_three =
      parse_description(head + "  - {name: u, op: upsample, scale: [2, 3]}\n", "u.yaml");
  EXPECT_EQ(two_by_three.layers[1].out, (Shape{4, 16, 24}));
  ASSERT_EQ(two_by_three.notes.size(), 1u);
  EXPECT_NE(two_by_three.notes[0].find("upsample 'u' (4x8x8 by 2x3): FINN v0.10's "
                                       "UpsampleNearestNeighbour takes square maps"),
            std::string::npos)
      << two_by_three.notes[0];
  EXPECT_TRUE(described.notes.empty());
}

// ConvTranspose as PyTorch exports it (make_fmnist_onnx.py's Transposed) is FINN's lowering: a
// pixel padding (zeros between pixels; none along an axis of stride 1) and a stride-1 conv of
// the turned kernel padded by kernel - 1 - pads (output_padding more at the end). hao's QONNX
// export writes the pair back as one ConvTranspose with the same weights; a pixel padding that
// no such conv reads alone is a ConvTranspose of ones per channel, which reads back as itself.
TEST(Qonnx, ConvTransposeReadsAsPixelPaddingAndConvAndExportsBack) {
  Network net = read_onnx(fixture("transposed_weights.onnx"));
  ASSERT_EQ(net.layers.size(), 16u);
  const Layer& pad = net.layers[4];
  EXPECT_EQ(pad.name, "/up/ConvTranspose_pixel_pad");
  EXPECT_EQ(pad.op, OpKind::kPixelPad);
  EXPECT_EQ(pad.out, (Shape{16, 13, 13}));
  const Layer& up = net.layers[5];
  EXPECT_EQ(up.name, "/up/ConvTranspose");
  EXPECT_EQ(up.op, OpKind::kConv);
  EXPECT_EQ(up.inputs, std::vector<int>{4});
  EXPECT_EQ(up.pad_top + up.pad_left + up.pad_bottom + up.pad_right, 4);  // k - 1 - 0 each
  EXPECT_EQ(up.out, (Shape{8, 14, 14}));
  EXPECT_TRUE(up.folded_norm);
  const Layer& up2 = net.layers[9];  // k 3, pads 1, output_padding 1
  EXPECT_EQ(std::vector<std::int64_t>({up2.pad_top, up2.pad_left, up2.pad_bottom, up2.pad_right}),
            std::vector<std::int64_t>({1, 1, 2, 2}));
  EXPECT_EQ(up2.out, (Shape{4, 28, 28}));
  EXPECT_EQ(net.layers[11].stride_h, 2);
  EXPECT_EQ(net.layers[11].stride_w, 1);
  EXPECT_EQ(net.layers[11].out, (Shape{4, 55, 28}));
  const Layer& up3 = net.layers[12];  // k 4 x 3, pads 1, no bias
  EXPECT_EQ(std::vector<std::int64_t>({up3.pad_top, up3.pad_left, up3.pad_bottom, up3.pad_right}),
            std::vector<std::int64_t>({2, 1, 2, 1}));
  EXPECT_EQ(up3.out, (Shape{4, 56, 28}));
  EXPECT_FALSE(up3.has_bias);
  // FINN's lowering pads every side alike and takes no output_padding: up2 and up3 are noted.
  ASSERT_EQ(net.notes.size(), 2u) << core::join(net.notes, "\n");
  EXPECT_NE(net.notes[0].find("transposed conv '/up2/ConvTranspose' (pixel_pad "
                              "'/up2/ConvTranspose_pixel_pad' and a 3x3 conv padded 1, 1, 2, 2)"),
            std::string::npos)
      << net.notes[0];

  // Exported: three ConvTransposes, the weights turned back; read back, the same layers and
  // weights.
  Network w4 = net;
  apply_bits(w4, "w4a4");
  derive_elementwise_bits(w4);
  const DeployedModel d = made_up(w4, 5);
  const std::string bytes = write_qonnx(w4, d);
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  int transposes = 0;
  for (const auto& n : m.graph().node()) transposes += n.op_type() == "ConvTranspose";
  EXPECT_EQ(transposes, 3);
  WeightSet weights;
  const Network back = import_onnx(bytes, "export.onnx", &weights);
  expect_same_layers(back, net);
  for (const std::size_t i : {5u, 9u, 12u}) {
    SCOPED_TRACE(net.layers[i].name);
    EXPECT_EQ(back.layers[i].pad_bottom, net.layers[i].pad_bottom);
    EXPECT_EQ(weights.layers.at(net.layers[i].name).weight, d.layers[i].weight);
  }
  const Network described = parse_description(to_yaml(net), "t.yaml");
  EXPECT_EQ(described.layers[11].stride_w, 1);
  EXPECT_EQ(described.layers[12].out, up3.out);

  // A pixel padding no conv takes (a pooling reads it; two convs read another; a dilated conv
  // reads a third) is written alone.
  const std::string head =
      "name: n\ninput: {channels: 2, height: 6, width: 6}\nlayers:\n"
      "  - {name: p, op: pixel_pad, stride: [3, 2]}\n";
  Network alone = parse_description(head +
                                        "  - {name: m, op: maxpool, kernel: 2}\n"
                                        "  - {name: q, op: pixel_pad, inputs: m, stride: 2}\n"
                                        "  - {name: a, op: conv, inputs: q, out_channels: 2, "
                                        "kernel: 2, padding: 1}\n"
                                        "  - {name: b, op: conv, inputs: q, out_channels: 2, "
                                        "kernel: 2, padding: 1}\n"
                                        "  - {name: s, op: add, inputs: [a, b]}\n"
                                        "  - {name: r, op: pixel_pad, stride: 2}\n"
                                        "  - {name: e, op: conv, out_channels: 2, kernel: 2, "
                                        "dilation: 2, padding: 1}\n",
                                    "alone.yaml");
  EXPECT_EQ(alone.layers[0].out, (Shape{2, 16, 11}));
  const Network alone_back = exported_back(alone, 2);  // the dilated conv stays a Conv
  expect_same_layers(alone_back, alone);
  EXPECT_EQ(alone_back.layers.back().dilation_h, 2);
  const std::string missing = test::input_error(
      [&] { parse_description(head + "  - {name: z, op: pixel_pad}\n", "z.yaml"); });
  EXPECT_NE(missing.find("z.yaml: layers[1] 'z'.stride: missing (required for pixel_pad"),
            std::string::npos)
      << missing;

  // What hao does not model is refused, naming the attribute and value.
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("transposed_weights.onnx"))));
  const onnx::ModelProto pristine = m;
  auto deconv = [&]() -> onnx::NodeProto& {
    for (auto& n : *m.mutable_graph()->mutable_node())
      if (n.op_type() == "ConvTranspose") return n;
    throw std::logic_error("no ConvTranspose");
  };
  auto set_ints = [&](const std::string& name, const std::vector<std::int64_t>& v) {
    onnx::AttributeProto* a = nullptr;
    for (auto& x : *deconv().mutable_attribute())
      if (x.name() == name) a = &x;
    if (!a) {
      a = deconv().add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INTS);
    }
    a->clear_ints();
    for (auto x : v) a->add_ints(x);
  };
  auto refusal = [&] {
    return test::input_error([&] { import_onnx(m.SerializeAsString(), "t.onnx"); });
  };
  const std::vector<std::pair<std::function<void()>, std::string>> cases = {
      {[&] {
         set_ints("dilations", {2, 2});
       },
       "(ConvTranspose): dilation 2 is not modelled"},
      {[&] {
         set_ints("output_padding", {2, 0});
       },
       "output_padding 2 is out of range (0..stride - 1 = 1)"},
      {[&] {
         set_ints("pads", {0, 0, 2, 0});
       },
       "pads 2 is out of range (0..kernel - 1 = 1); cropping more is not modelled"},
      {[&] {
         set_ints("output_shape", {14, 14});
       },
       "output_shape is not modelled"},
      {[&] { set_ints("strides", {2}); }, "strides has 1 values, expected 2"},
      {[&] {
         for (auto& a : *deconv().mutable_attribute())
           if (a.name() == "group") a.set_i(2);
       },
       "group 2 is not modelled (only 1, as FINN lowers it)"}};
  for (const auto& [change, want] : cases) {
    SCOPED_TRACE(want);
    m = pristine;
    change();
    const std::string why = refusal();
    EXPECT_NE(why.find(want), std::string::npos) << why;
  }
}

// Dilated convs as PyTorch exports them (make_fmnist_onnx.py's Dilated) keep their dilations
// through hao's QONNX export and a description; a dilation on anything but a conv is refused.
TEST(Qonnx, DilatedConvsReadAndExportBackWithTheirDilations) {
  Network net = read_onnx(fixture("dilated_weights.onnx"));
  ASSERT_EQ(net.layers.size(), 8u);  // conv relu dwconv relu conv relu maxpool fc
  const std::vector<std::pair<std::int64_t, std::int64_t>> dilations = {{2, 2}, {3, 1}, {2, 3}};
  const std::size_t convs[3] = {0, 2, 4};
  for (std::size_t k = 0; k < 3; ++k) {
    const Layer& l = net.layers[convs[k]];
    EXPECT_EQ(std::make_pair(l.dilation_h, l.dilation_w), dilations[k]) << l.name;
  }
  EXPECT_TRUE(net.layers[2].is_depthwise());
  EXPECT_EQ(net.layers[2].out, (Shape{8, 28, 28}));
  EXPECT_EQ(net.layers[4].out, (Shape{8, 14, 14}));
  const Network back = exported_back(net, 4);
  expect_same_layers(back, net);
  const Network described = parse_description(to_yaml(net), "d.yaml");
  for (const Network* other : {&back, &described})
    for (const std::size_t i : convs) {
      EXPECT_EQ(other->layers[i].dilation_h, net.layers[i].dilation_h);
      EXPECT_EQ(other->layers[i].dilation_w, net.layers[i].dilation_w);
    }
  const std::string pool = test::input_error([&] {
    parse_description(
        "name: n\ninput: {channels: 1, height: 8, width: 8}\nlayers:\n"
        "  - {name: p, op: maxpool, kernel: 2, dilation: 2}\n",
        "p.yaml");
  });
  EXPECT_NE(pool.find("p.yaml: layers[0] 'p'.dilation: only a conv has one"), std::string::npos)
      << pool;
}

TEST(Qonnx, ExportReadsBackAsTheSameNetworkWithItsBitsAndWeights) {
  Network net = read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  apply_bits(net, "w4a4");
  // A mixed design: 2-bit and 8-bit layers among the 4-bit ones.
  net.layers[static_cast<std::size_t>(net.find("b2_expand"))].weight_bits = 2;
  net.layers[static_cast<std::size_t>(net.find("b2_expand"))].act_bits = 2;
  net.layers[static_cast<std::size_t>(net.find("b4_expand"))].weight_bits = 8;
  net.layers[static_cast<std::size_t>(net.find("classifier"))].weight_bits = 8;
  derive_elementwise_bits(net);
  const DeployedModel d = made_up(net, 3);
  const std::string bytes = write_qonnx(net, d);

  WeightSet weights;
  const Network back = import_onnx(bytes, "export.onnx", &weights);
  EXPECT_EQ(back.name, net.name);
  EXPECT_EQ(back.input, net.input);
  EXPECT_EQ(back.input_bits, 8);  // the UINT8 annotation
  ASSERT_EQ(back.layers.size(), net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& a = net.layers[i];
    const Layer& b = back.layers[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.op, a.op);
    EXPECT_EQ(b.out, a.out);
    EXPECT_EQ(b.inputs, a.inputs);
    EXPECT_EQ(b.act_bits, a.act_bits);
    EXPECT_EQ(b.fused_into, a.fused_into);
    EXPECT_EQ(b.fanout, a.fanout);
    if (!a.has_weights()) continue;
    EXPECT_EQ(b.weight_bits, a.weight_bits);
    EXPECT_EQ(b.groups, a.groups);
    EXPECT_EQ(b.stride_h, a.stride_h);
    EXPECT_EQ(b.pad_top, a.pad_top);
    const LayerWeights& w = weights.layers.at(a.name);
    EXPECT_EQ(w.weight, d.layers[i].weight);  // the float weights the Quant node reads
    EXPECT_EQ(w.bias, d.layers[i].bias);
  }
  EXPECT_TRUE(back.notes.empty()) << core::join(back.notes, "; ");
  // The input's scaling is hao's own normalization: said once, with the weights.
  ASSERT_EQ(weights.notes.size(), 1u);
  EXPECT_NE(weights.notes[0].find("normalizes its inputs"), std::string::npos);
}

TEST(Qonnx, ExportStatesEachQuantizerAsQonnxQuant) {
  Network net = read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  net.layers[0].act_bits = 3;  // below 4 bits signed grids are not narrow
  net.layers[0].weight_bits = 3;
  const DeployedModel d = made_up(net, 5);
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(write_qonnx(net, d)));
  int quants = 0;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "Quant") continue;
    ++quants;
    EXPECT_EQ(n.domain(), kQonnxDomain);
    ASSERT_EQ(n.input_size(), 4);
    std::map<std::string, std::int64_t> a;
    std::string rounding;
    for (const auto& at : n.attribute())
      if (at.name() == "rounding_mode")
        rounding = at.s();
      else
        a[at.name()] = at.i();
    EXPECT_EQ(rounding, "ROUND");
    if (n.name() == "stem_weight_quant") {
      EXPECT_EQ(a["signed"], 1);
      EXPECT_EQ(a["narrow"], 0);
    }
    if (n.name() == "b0_expand_input_quant") {  // after a ReLU6: unsigned
      EXPECT_EQ(a["signed"], 0);
      EXPECT_EQ(a["narrow"], 0);
    }
    if (n.name() == "b1_expand_weight_quant") {
      EXPECT_EQ(a["signed"], 1);
      EXPECT_EQ(a["narrow"], 1);
    }
  }
  int weighted = 0;
  for (const auto& l : net.layers) weighted += l.has_weights() ? 2 : 0;
  EXPECT_EQ(quants, weighted);
  bool opset = false;
  for (const auto& o : m.opset_import()) opset |= o.domain() == kQonnxDomain && o.version() == 1;
  EXPECT_TRUE(opset);
  EXPECT_EQ(m.graph().output(0).name(), "global_out");

  // Deployed tensors that do not fit the network are refused.
  DeployedModel bad = d;
  bad.layers[0].weight.pop_back();
  EXPECT_THROW(write_qonnx(net, bad), core::InputError);
}

TEST(Qonnx, BrevitasCnvTakesItsBitsFromItsQuantizers) {
  const Network q = read_onnx(fixture("qonnx_cnv_w1a1.onnx"));
  Network plain = read_onnx(fixture("finn_cnv.onnx"));
  apply_bits(plain, fixture("finn_bits/cnv-w1a1.yaml"));
  // Conv, BatchNormalization, BipolarQuant as FINN's Conv + MultiThreshold: one activation each.
  ASSERT_EQ(q.layers.size(), plain.layers.size());
  for (std::size_t i = 0; i < q.layers.size(); ++i) {
    SCOPED_TRACE(q.layers[i].name);
    EXPECT_EQ(q.layers[i].op, plain.layers[i].op);
    EXPECT_EQ(q.layers[i].out, plain.layers[i].out);
    EXPECT_EQ(q.layers[i].act_bits, plain.layers[i].act_bits);
    EXPECT_EQ(q.layers[i].fused_into, plain.layers[i].fused_into);
    if (q.layers[i].has_weights()) {
      EXPECT_EQ(q.layers[i].weight_bits, plain.layers[i].weight_bits);
      EXPECT_TRUE(q.layers[i].folded_norm || i + 1 == q.layers.size());
    }
  }
  EXPECT_TRUE(q.notes.empty()) << core::join(q.notes, "; ");
}

TEST(Qonnx, MultiThresholdTruncAndQuantSetTheBitsTheyName) {
  const Network n = read_onnx(fixture("qonnx_ops.onnx"));
  auto layer = [&](const std::string& name) -> const Layer& {
    const int i = n.find(name);
    EXPECT_GE(i, 0) << name;
    return n.layers.at(static_cast<std::size_t>(std::max(i, 0)));
  };
  EXPECT_EQ(n.input_bits, 8);
  EXPECT_EQ(layer("input_threshold").op, OpKind::kAct);  // FINN's input quantizer
  EXPECT_EQ(layer("input_threshold").act, ActKind::kRelu);
  EXPECT_EQ(layer("conv0").weight_bits, 4);
  EXPECT_EQ(layer("conv0").act_bits, 4);  // MultiThreshold's UINT4
  EXPECT_EQ(layer("conv1").weight_bits, 2);
  EXPECT_EQ(layer("conv1").act_bits, 4);  // Trunc's 4 output bits after the pooling
  EXPECT_EQ(layer("fc").weight_bits, 8);
  EXPECT_EQ(layer("fc").act_bits, 3);
}

TEST(Qonnx, OtherCustomOpsAndBadBitWidthsAreNamed) {
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("qonnx_ops.onnx"))));
  onnx::ModelProto unknown = m;
  for (auto& n : *unknown.mutable_graph()->mutable_node())
    if (n.op_type() == "Trunc") n.set_op_type("XnorPopcount");
  std::string bytes;
  unknown.SerializeToString(&bytes);
  try {
    import_onnx(bytes, "u.onnx");
    FAIL() << "accepted an unknown custom op";
  } catch (const core::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("u.onnx: node"), std::string::npos) << what;
    EXPECT_NE(what.find("custom op 'XnorPopcount' of domain 'qonnx.custom_op.general'"),
              std::string::npos)
        << what;
  }
  onnx::ModelProto other_domain = m;
  other_domain.mutable_graph()->mutable_node(1)->set_domain("com.example");
  other_domain.SerializeToString(&bytes);
  EXPECT_THROW(import_onnx(bytes, "d.onnx"), core::InputError);

  onnx::ModelProto fractional = m;
  for (auto& t : *fractional.mutable_graph()->mutable_initializer())
    if (t.name() == "conv0_wq_bitwidth") {
      const float bits = 2.5f;
      t.set_raw_data(std::string(reinterpret_cast<const char*>(&bits), sizeof bits));
    }
  fractional.SerializeToString(&bytes);
  try {
    import_onnx(bytes, "f.onnx");
    FAIL() << "accepted 2.5 bits";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bit width 'conv0_wq_bitwidth'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace hao::ir
