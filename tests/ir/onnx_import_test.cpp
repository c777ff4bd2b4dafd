#include "ir/onnx_import.hpp"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"
#include "support.hpp"

namespace hao::ir {
namespace {

std::string fixture(const std::string& name) { return std::string(HAO_FIXTURES) + "/" + name; }

double relative_error(double got, double want) { return std::abs(got - want) / want; }

// A hand-built model: input 1x3x8x8 -> Conv(4, 3x3, pad 1) [+ an extra node] -> ...
onnx::ModelProto small_model(bool weights_as_initializers, const std::string& extra_op) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  auto* g = m.mutable_graph();
  g->set_name("small");
  auto add_input = [&](const std::string& name, std::vector<std::int64_t> dims) {
    auto* in = g->add_input();
    in->set_name(name);
    auto* shape = in->mutable_type()->mutable_tensor_type()->mutable_shape();
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) shape->add_dim()->set_dim_value(d);
  };
  add_input("x", {1, 3, 8, 8});
  auto add_weight = [&](const std::string& name, std::vector<std::int64_t> dims) {
    if (weights_as_initializers) {
      auto* t = g->add_initializer();
      t->set_name(name);
      t->set_data_type(onnx::TensorProto::FLOAT);
      std::int64_t n = 1;
      for (auto d : dims) t->add_dims(d), n *= d;
      for (std::int64_t i = 0; i < n; ++i) t->add_float_data(0.5f);
    } else {
      add_input(name, dims);
    }
  };
  add_weight("w", {4, 3, 3, 3});
  add_weight("fc_w", {10, 4});
  auto* conv = g->add_node();
  conv->set_name("conv0");
  conv->set_op_type("Conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_output("c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  auto* relu = g->add_node();
  relu->set_name("relu0");
  relu->set_op_type(extra_op.empty() ? "Relu" : extra_op);
  relu->add_input("c");
  relu->add_output("r");
  auto* gap = g->add_node();
  gap->set_name("gap");
  gap->set_op_type("GlobalAveragePool");
  gap->add_input("r");
  gap->add_output("g");
  auto* flat = g->add_node();
  flat->set_op_type("Flatten");
  flat->add_input("g");
  flat->add_output("f");
  auto* fc = g->add_node();
  fc->set_name("fc");
  fc->set_op_type("Gemm");
  fc->add_input("f");
  fc->add_input("fc_w");
  fc->add_output("y");
  auto* tb = fc->add_attribute();
  tb->set_name("transB");
  tb->set_i(1);
  return m;
}

}  // namespace

// torchvision's networks, make_onnx.py's one-stage detector (nearest upsampling, three
// outputs) and its U-Net (transposed convs, whose MACs count the inserted zeros).
TEST(OnnxImport, TorchvisionCountsMatchPyTorch) {
  const auto reference = nlohmann::json::parse(core::read_file(fixture("reference.json")));
  for (const auto& [name, ref] : reference.items()) {
    Network net = read_onnx(fixture(name + ".onnx"));
    // MACs of conv and linear layers, exactly as PyTorch's forward hooks count them.
    EXPECT_EQ(net.total_macs(), ref["macs"].get<std::int64_t>()) << name;
    // PyTorch counts batch-norm scale and shift; the export folds them into one bias per
    // channel, so deployed parameters sit slightly below and within 1%.
    EXPECT_LT(relative_error(static_cast<double>(net.total_params_deployed()),
                             ref["params"].get<double>()),
              0.01)
        << name << ": " << net.total_params_deployed();
  }
}

TEST(OnnxImport, PublishedFiguresWithinOnePercent) {
  Network mbv2 = read_onnx(fixture("mobilenet_v2.onnx"));
  EXPECT_LT(relative_error(static_cast<double>(mbv2.total_macs()), 300e6), 0.01);
  // torchvision's published count (3,504,872); the MobileNetV2 paper rounds to 3.4M.
  EXPECT_LT(relative_error(static_cast<double>(mbv2.total_params_deployed()), 3504872), 0.01);
  Network r18 = read_onnx(fixture("resnet18.onnx"));
  EXPECT_LT(relative_error(static_cast<double>(r18.total_macs()), 1.8e9), 0.01);
  EXPECT_LT(relative_error(static_cast<double>(r18.total_params_deployed()), 11.7e6), 0.01);
  EXPECT_EQ(r18.input, (Shape{3, 224, 224}));
  EXPECT_EQ(r18.layers.back().out, (Shape{1000, 1, 1}));
}

// PyTorch exports each SiLU as Sigmoid(x) and Mul(x, sigmoid): one SiLU activation in hao. A
// squeeze-excite gate (the sigmoid of its fc, times the block's map) stays a sigmoid and a
// multiply.
TEST(OnnxImport, SqueezeExciteIsPrimitivesAndSiluOneActivation) {
  Network net = read_onnx(fixture("efficientnet_b0.onnx"));
  int muls = 0, sigmoids = 0, silus = 0, depthwise = 0;
  for (const auto& l : net.layers) {
    muls += l.op == OpKind::kMul;
    sigmoids += l.op == OpKind::kAct && l.act == ActKind::kSigmoid;
    silus += l.op == OpKind::kAct && l.act == ActKind::kSilu;
    depthwise += l.is_depthwise();
  }
  EXPECT_EQ(depthwise, 16);  // one per MBConv block
  EXPECT_EQ(sigmoids, 16);   // the squeeze-excite gates
  EXPECT_EQ(muls, 16);       // their products
  // The stem, 15 expansions (the first block has none), 16 depthwise convs, 16 squeeze-excite
  // reductions and the head.
  EXPECT_EQ(silus, 49);
  for (const auto& l : net.layers)
    if (l.op == OpKind::kMul) {
      EXPECT_TRUE(l.scaled_by_gate) << l.name;
      EXPECT_EQ(net.layers[static_cast<std::size_t>(l.inputs[1])].act, ActKind::kSigmoid);
    }
}

namespace {

// conv -> GATE -> Mul(conv, gate) [-> Add(product, gate) when `gate_read_twice`] -> pooling, fc.
onnx::ModelProto gated_model(const std::string& gate, bool gate_read_twice) {
  onnx::ModelProto m = small_model(true, gate);
  auto* g = m.mutable_graph();
  if (gate == "HardSigmoid") {  // PyTorch's hard-sigmoid: alpha 1/6, beta 0.5
    auto* alpha = g->mutable_node(1)->add_attribute();
    alpha->set_name("alpha");
    alpha->set_f(1.0f / 6);
  }
  auto* mul = g->add_node();
  mul->set_name("product");
  mul->set_op_type("Mul");
  mul->add_input("c");
  mul->add_input("r");
  mul->add_output("m");
  std::string pooled = "m";
  if (gate_read_twice) {
    auto* add = g->add_node();
    add->set_name("sum");
    add->set_op_type("Add");
    add->add_input("m");
    add->add_input("r");
    add->add_output("s");
    pooled = "s";
  }
  // In graph order: conv, gate, the new nodes, then pooling, flatten and fc.
  std::vector<onnx::NodeProto> nodes(g->node().begin(), g->node().end());
  std::rotate(nodes.begin() + 2, nodes.begin() + 5, nodes.end());
  nodes[nodes.size() - 3].set_input(0, pooled);
  g->clear_node();
  for (auto& node : nodes) *g->add_node() = std::move(node);
  return m;
}

}  // namespace

TEST(OnnxImport, ProductOfAnActivationAndItsGateIsOneGatedActivation) {
  for (const auto& [gate, gated] :
       {std::pair{"Sigmoid", ActKind::kSilu}, std::pair{"HardSigmoid", ActKind::kHardSwish}}) {
    const Network net = import_onnx(gated_model(gate, false).SerializeAsString(), "gated.onnx");
    ASSERT_EQ(net.layers.size(), 4u) << gate;  // conv, the gated activation, pooling, fc
    EXPECT_EQ(net.layers[1].op, OpKind::kAct);
    EXPECT_EQ(net.layers[1].act, gated) << gate;
    EXPECT_EQ(net.layers[1].inputs, std::vector<int>{0});
    EXPECT_EQ(net.layers[2].inputs, std::vector<int>{1});  // the pooling reads the product
    EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");

    // A gate that something else reads too stays a gate and a multiply.
    const Network kept = import_onnx(gated_model(gate, true).SerializeAsString(), "kept.onnx");
    ASSERT_EQ(kept.layers.size(), 6u) << gate;
    EXPECT_EQ(kept.layers[1].act,
              gate == std::string("Sigmoid") ? ActKind::kSigmoid : ActKind::kHardSigmoid);
    EXPECT_EQ(kept.layers[2].op, OpKind::kMul);
    EXPECT_EQ(kept.layers[3].op, OpKind::kAdd);
  }
}

// A PyTorch Conv1d network (N x C x L input): each 1-D conv and pool is a 1 x K window over a
// 1 x L feature map; its padding only along L.
TEST(OnnxImport, OneDimensionalConvolutionsAreOneRowWindows) {
  Network net = read_onnx(fixture("finn_vgg10.onnx"));
  EXPECT_EQ(net.input, (Shape{2, 1, 1024}));
  const Layer& conv = net.layers[0];
  EXPECT_EQ(conv.op, OpKind::kConv);
  EXPECT_EQ(conv.kernel_h, 1);
  EXPECT_EQ(conv.kernel_w, 3);
  EXPECT_EQ(conv.pad_top + conv.pad_bottom, 0);
  EXPECT_EQ(conv.pad_left, 1);
  EXPECT_EQ(conv.pad_right, 1);
  EXPECT_EQ(conv.out, (Shape{32, 1, 1024}));
  EXPECT_EQ(conv.reduction_size(), 6);
  int pools = 0;
  for (const auto& l : net.layers)
    if (l.op == OpKind::kMaxPool) {
      EXPECT_EQ(l.kernel_h, 1);
      EXPECT_EQ(l.stride_w, 2);
      ++pools;
    }
  EXPECT_EQ(pools, 7);
  const auto fc = std::find_if(net.layers.begin(), net.layers.end(),
                               [](const Layer& l) { return l.op == OpKind::kFc; });
  ASSERT_NE(fc, net.layers.end());
  EXPECT_EQ(fc->reduction_size(), 32 * 8);
}

TEST(OnnxImport, WeightsAsInitializersOrGraphInputs) {
  for (bool init : {true, false}) {
    const std::string bytes = small_model(init, "").SerializeAsString();
    Network net = import_onnx(bytes, "small.onnx");
    ASSERT_EQ(net.layers.size(), 4u);
    EXPECT_EQ(net.layers[0].out, (Shape{4, 8, 8}));
    EXPECT_EQ(net.layers[3].op, OpKind::kFc);
    EXPECT_EQ(net.layers[3].out, (Shape{10, 1, 1}));
    EXPECT_EQ(net.total_macs(), 27 * 4 * 64 + 40);
  }
  // A bias as Add's first operand (PyTorch writes `bias + x` so) is no data input, also when
  // export_params=False leaves it a graph input: it folds into the conv.
  onnx::ModelProto m = small_model(false, "");
  auto* g = m.mutable_graph();
  auto* b = g->add_input();
  b->set_name("b");
  b->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (const std::int64_t d : {4, 1, 1})
    b->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  std::vector<onnx::NodeProto> nodes(g->node().begin(), g->node().end());
  onnx::NodeProto add;
  add.set_op_type("Add");
  add.add_input("b");
  add.add_input("c");
  add.add_output("cb");
  nodes[1].set_input(0, "cb");
  nodes.insert(nodes.begin() + 1, add);
  g->clear_node();
  for (auto& node : nodes) *g->add_node() = std::move(node);
  const Network biased = import_onnx(m.SerializeAsString(), "bias_first.onnx");
  ASSERT_EQ(biased.layers.size(), 4u);
  EXPECT_TRUE(biased.layers[0].has_bias);
}

TEST(OnnxImport, UnsupportedOpNamesNodeAndOp) {
  const std::string bytes = small_model(true, "LSTM").SerializeAsString();
  try {
    import_onnx(bytes, "small.onnx");
    FAIL();
  } catch (const core::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("small.onnx: node 1 'relu0' (LSTM)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("op 'LSTM' is not modelled"), std::string::npos) << msg;
  }
}

// A softmax, log-softmax or arg-max that only the graph's output reads is left out with a note
// (the top class is that of the values before it); one whose output another node reads is
// refused.
TEST(OnnxImport, SoftmaxAtTheOutputIsLeftOut) {
  for (const std::string op : {"Softmax", "LogSoftmax", "ArgMax"}) {
    SCOPED_TRACE(op);
    onnx::ModelProto m = small_model(true, "");
    auto* g = m.mutable_graph();
    auto* last = g->add_node();
    last->set_name("probs");
    last->set_op_type(op);
    last->add_input("y");
    last->add_output("p");
    g->add_output()->set_name("p");
    WeightSet weights;
    const Network net = import_onnx(m.SerializeAsString(), "sm.onnx", &weights);
    ASSERT_EQ(net.layers.size(), 4u);  // conv, relu, pooling, fc
    EXPECT_EQ(net.layers.back().op, OpKind::kFc);
    ASSERT_EQ(net.notes.size(), 1u);
    EXPECT_NE(net.notes[0].find("sm.onnx: node 5 'probs' (" + op +
                                "): left out; hao's network "
                                "ends at the values it"),
              std::string::npos)
        << net.notes[0];
    EXPECT_TRUE(weights.notes.empty());  // said once, in the network's notes
    auto* relu = g->add_node();
    relu->set_op_type("Relu");
    relu->add_input("p");
    relu->add_output("q");
    g->mutable_output(0)->set_name("q");
    const std::string why =
        test::input_error([&] { import_onnx(m.SerializeAsString(), "sm.onnx"); });
    EXPECT_NE(why.find("a " + op + " whose output another node reads is not modelled"),
              std::string::npos)
        << why;
  }
}

TEST(OnnxImport, TruncatedOrCorruptFilesGiveInputError) {
  const std::string bytes = core::read_file(fixture("mobilenet_v2.onnx"));
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{17}, bytes.size() / 3,
                          bytes.size() / 2, bytes.size() - 1}) {
    try {
      import_onnx(bytes.substr(0, cut), "cut.onnx");
    } catch (const core::InputError&) {
      continue;  // the expected outcome; anything else fails the test
    }
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string mutated = bytes;
    for (int k = 0; k < 8; ++k) mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    try {
      import_onnx(mutated, "mutated.onnx");
    } catch (const core::InputError&) {
    }
  }
  EXPECT_THROW(import_onnx("not a model at all", "x.onnx"), core::InputError);
}

// PyTorch's exports of the built-in network (tests/fixtures/make_fmnist_onnx.py): eval mode
// folds every batch norm away; a static batch is ignored with a note; training mode keeps the
// batch norms and casts Clip's bounds.
TEST(OnnxImport, PyTorchExportModesAndStaticBatch) {
  const Network eval = read_onnx(fixture("fmnist_mbv2_eval.onnx"));
  const Network b2 = read_onnx(fixture("fmnist_mbv2_eval_b2.onnx"));
  const Network train = read_onnx(fixture("fmnist_mbv2_train.onnx"));
  EXPECT_EQ(eval.input.c, 1);
  EXPECT_EQ(eval.input.h, 28);
  EXPECT_TRUE(eval.notes.empty());
  ASSERT_EQ(b2.notes.size(), 1u);
  EXPECT_NE(b2.notes[0].find("static batch of 2; hao ignores the batch size"), std::string::npos);
  EXPECT_EQ(b2.layers.size(), eval.layers.size());
  EXPECT_EQ(b2.total_macs(), eval.total_macs());
  EXPECT_EQ(train.total_macs(), eval.total_macs());
  int eval_norms = 0, train_norms = 0, convs = 0;
  for (const auto& l : eval.layers) eval_norms += l.folded_norm ? 1 : 0;
  for (const auto& l : train.layers) {
    train_norms += l.folded_norm ? 1 : 0;
    convs += l.op == OpKind::kConv ? 1 : 0;
  }
  EXPECT_EQ(eval_norms, 0);
  EXPECT_EQ(train_norms, convs);
  EXPECT_EQ(convs, 20);
}

// The weights of a PyTorch export (export_params=True): every conv and fc gets PyTorch's
// layout and count; the topology is the weightless file's.
TEST(OnnxImport, WeightsOfAnExportWithParameters) {
  WeightSet weights;
  const Network net = read_onnx(fixture("fmnist_mbv2_eval_weights.onnx"), &weights);
  const Network bare = read_onnx(fixture("fmnist_mbv2_eval.onnx"));
  EXPECT_TRUE(weights.notes.empty()) << core::join(weights.notes, "\n");
  EXPECT_EQ(net.layers.size(), bare.layers.size());
  EXPECT_EQ(net.total_macs(), bare.total_macs());
  EXPECT_EQ(net.total_params_deployed(), bare.total_params_deployed());
  std::size_t weighted = 0;
  for (const auto& l : net.layers) {
    if (!l.has_weights()) continue;
    ++weighted;
    ASSERT_TRUE(weights.layers.count(l.name)) << l.name;
    const LayerWeights& w = weights.layers.at(l.name);
    EXPECT_EQ(static_cast<std::int64_t>(w.weight.size()), l.weights()) << l.name;
    EXPECT_EQ(static_cast<std::int64_t>(w.bias.size()), l.has_bias ? l.out.c : 0) << l.name;
    EXPECT_FALSE(w.norm) << l.name;
  }
  EXPECT_EQ(weights.layers.size(), weighted);
  // Training mode: the convs' batch norms come with their statistics.
  WeightSet train;
  const Network train_net = read_onnx(fixture("fmnist_mbv2_train_weights.onnx"), &train);
  for (const auto& l : train_net.layers) {
    if (l.op != OpKind::kConv) continue;
    const LayerWeights& w = train.layers.at(l.name);
    ASSERT_TRUE(w.norm) << l.name;
    EXPECT_EQ(static_cast<std::int64_t>(w.norm->var.size()), l.out.c);
    EXPECT_GT(w.norm->var[0], 0.0f);
  }
}

// Constants around weighted layers fold into them: a conv's Mul and Add become its weights'
// scale and its bias, a MatMul + Add a biased fc (no extra layers); the file's weights without
// data for one tensor are not taken, with a note naming it.
TEST(OnnxImport, ConstantScalesAndBiasesFoldIntoTheirLayer) {
  WeightSet weights;
  const Network net = read_onnx(fixture("fold_constants_weights.onnx"), &weights);
  ASSERT_EQ(net.layers.size(), 3u);  // conv, relu, fc
  EXPECT_TRUE(net.layers[0].has_bias);
  EXPECT_EQ(net.layers[2].op, OpKind::kFc);
  EXPECT_TRUE(net.layers[2].has_bias);
  EXPECT_EQ(net.layers[2].in.elements(), 4 * 14 * 14);
  EXPECT_TRUE(weights.notes.empty()) << core::join(weights.notes, "\n");
  EXPECT_EQ(weights.layers.at(net.layers[2].name).bias.size(), 10u);
  const Network bare = read_onnx(fixture("fold_constants_weights.onnx"));
  EXPECT_EQ(bare.total_params_deployed(), net.total_params_deployed());

  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("fold_constants_weights.onnx"))));
  bool cut = false;
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.dims_size() == 2) {  // the MatMul's weight: its data cut short
      t.set_raw_data(t.raw_data().substr(0, 40));
      cut = true;
    }
  ASSERT_TRUE(cut);
  WeightSet damaged;
  const Network same = import_onnx(m.SerializeAsString(), "cut.onnx", &damaged);
  EXPECT_EQ(same.layers.size(), 3u);
  EXPECT_TRUE(damaged.empty());
  ASSERT_EQ(damaged.notes.size(), 1u);
  EXPECT_NE(damaged.notes[0].find("the file's weights are not used: cut.onnx: node 5"),
            std::string::npos)
      << damaged.notes[0];
  EXPECT_NE(damaged.notes[0].find("its data has 40 bytes for its 7840 elements"), std::string::npos)
      << damaged.notes[0];
}

// Batch norms that no conv or fc takes (a pre-activation network's, after a concat, a pool or
// an add) are the folded_norm of the activation that reads them, with their parameters; so is
// a per-channel Mul and Add before a ReLU (hao export's form of such a norm). The file's
// weights then leave nothing unreproduced (tests/fixtures/make_fmnist_onnx.py's PreAct).
TEST(OnnxImport, BatchNormsNoConvTakesBelongToTheActivationAfterThem) {
  WeightSet weights;
  const Network net = read_onnx(fixture("preact_weights.onnx"), &weights);
  EXPECT_TRUE(weights.notes.empty()) << core::join(weights.notes, "\n");
  EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");
  std::vector<std::string> normed;
  for (const auto& l : net.layers) {
    if (l.op != OpKind::kAct || !l.folded_norm) continue;
    normed.push_back(l.name);
    ASSERT_TRUE(weights.layers.count(l.name)) << l.name;
    const LayerWeights& w = weights.layers.at(l.name);
    EXPECT_TRUE(w.weight.empty());
    ASSERT_TRUE(w.norm) << l.name;
    EXPECT_EQ(static_cast<std::int64_t>(w.norm->scale.size()), l.in.c) << l.name;
    EXPECT_EQ(static_cast<std::int64_t>(w.norm->var.size()), l.in.c) << l.name;
  }
  // DenseNet's four layers' first norms, its transition's and its last; then the residual
  // blocks' norm of a map the add reads too, the Mul and Add, and the norm after the add.
  EXPECT_EQ(normed.size(), 9u) << core::join(normed, ", ");
  // Concatenating one tensor (each block's first layer) is no layer.
  for (const auto& l : net.layers) {
    if (l.op == OpKind::kConcat) {
      EXPECT_GE(l.inputs.size(), 2u) << l.name;
    }
  }
  // torchvision's DenseNet-121: each such norm's 2 x C parameters are trained, none deployed;
  // PyTorch's count less C for each norm the export folded into its conv's bias of C (the
  // stem's 64 channels, the 128 of each of the 58 dense layers' second norm).
  const auto ref = nlohmann::json::parse(core::read_file(fixture("reference.json")));
  const auto torch_params = ref["densenet121"]["params"].get<std::int64_t>();
  const Network densenet = read_onnx(fixture("densenet121.onnx"));
  EXPECT_EQ(densenet.total_params_trained(), torch_params - 64 - 58 * 128);
  int densenet_normed = 0;
  for (const auto& l : densenet.layers) densenet_normed += l.op == OpKind::kAct && l.folded_norm;
  EXPECT_EQ(densenet_normed, 62);  // 58 dense layers, 3 transitions, the last norm

  // Without the activation, a norm no layer takes is noted, not lost silently.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(core::read_file(fixture("preact_weights.onnx"))));
  for (auto& node : *m.mutable_graph()->mutable_node())
    if (node.op_type() == "Relu") node.set_op_type("Identity");
  WeightSet noted;
  import_onnx(m.SerializeAsString(), "no_relu.onnx", &noted);
  ASSERT_FALSE(noted.notes.empty());
  EXPECT_NE(core::join(noted.notes, "\n")
                .find("the batch norm (or per-channel scale and shift) on its input"),
            std::string::npos)
      << core::join(noted.notes, "\n");
}

// PyTorch writes a Pad before some poolings (DenseNet's AvgPool2d, all zeros). Zero padding
// before a conv or average pooling is added to its own; anything else is refused by name.
TEST(OnnxImport, ZeroPadNodesJoinTheConvOrPoolingAfterThem) {
  auto padded = [](std::vector<std::int64_t> pads, const std::string& mode,
                   const std::string& reader) {
    onnx::ModelProto m = small_model(true, "");
    auto* g = m.mutable_graph();
    auto* t = g->add_initializer();
    t->set_name("pads");
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(pads.size()));
    for (auto p : pads) t->add_int64_data(p);
    std::vector<onnx::NodeProto> nodes(g->node().begin(), g->node().end());
    onnx::NodeProto pad;
    pad.set_name("pad0");
    pad.set_op_type("Pad");
    pad.add_input(reader == "Conv" ? "x" : "c");
    pad.add_input("pads");
    pad.add_output("p");
    if (!mode.empty()) {
      auto* a = pad.add_attribute();
      a->set_name("mode");
      a->set_s(mode);
    }
    if (reader == "Conv") {
      nodes[0].set_input(0, "p");
      nodes[0].clear_attribute();  // the conv's own padding: none
      nodes.insert(nodes.begin(), pad);
    } else {  // the activation reads the padded map
      nodes[1].set_input(0, "p");
      nodes.insert(nodes.begin() + 1, pad);
    }
    g->clear_node();
    for (auto& node : nodes) *g->add_node() = std::move(node);
    return m.SerializeAsString();
  };
  const Network net = import_onnx(padded({0, 0, 1, 2, 0, 0, 1, 2}, "", "Conv"), "pad.onnx");
  ASSERT_EQ(net.layers.size(), 4u);
  EXPECT_EQ(net.layers[0].pad_top, 1);
  EXPECT_EQ(net.layers[0].pad_left, 2);
  EXPECT_EQ(net.layers[0].pad_bottom, 1);
  EXPECT_EQ(net.layers[0].pad_right, 2);
  EXPECT_EQ(net.layers[0].out, (Shape{4, 8, 10}));
  // No padding at all: the map passes on, whoever reads it.
  EXPECT_EQ(import_onnx(padded({0, 0, 0, 0, 0, 0, 0, 0}, "", "Relu"), "pad.onnx").layers.size(),
            4u);
  auto refused = [&](const std::string& bytes, const std::string& why) {
    try {
      import_onnx(bytes, "pad.onnx");
      ADD_FAILURE() << why;
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  refused(padded({0, 0, 1, 1, 0, 0, 1, 1}, "", "Relu"),
          "node 2 'relu0' (Relu): input 'p' is "
          "zero-padded by a Pad node");
  refused(padded({0, 0, 1, 1, 0, 0, 1, 1}, "reflect", "Conv"), "mode 'reflect' is not modelled");
  refused(padded({0, 1, 0, 0, 0, 0, 0, 0}, "", "Conv"), "padding of the batch or channel");
  refused(padded({0, 0, -1, 0, 0, 0, 0, 0}, "", "Conv"), "a negative padding (-1) crops");
  refused(padded({1, 1}, "", "Conv"), "pads has 2 values");
}

TEST(OnnxImport, DamagedFilesWithWeightsGiveInputError) {
  const std::string bytes = core::read_file(fixture("fold_constants_weights.onnx"));
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    std::string mutated = bytes;
    for (int k = 0; k < 6; ++k) mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    if (trial % 3 == 0) mutated.resize(rng() % mutated.size());
    try {
      WeightSet weights;
      import_onnx(mutated, "mutated.onnx", &weights);
    } catch (const core::InputError&) {
    }
  }
}

}  // namespace hao::ir
