// Operator pools in the mbv2 space: a block chooses among MobileNetV3's variants of the
// inverted residual block (hard-swish, squeeze-excite), each with layers of its own.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "hw/dataflow.hpp"
#include "hw/device.hpp"
#include "hw/engine.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/made_up_accuracy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/netadapt_strategy.hpp"
#include "search/slot_named.hpp"
#include "search/space_spec.hpp"
#include "support.hpp"

namespace hao::search {
namespace {

// Every operator in stages 0 and 2; stage 1 chooses between the plain block and squeeze-excite.
const char* kSpace =
    "name: pools\nkind: mbv2\n"
    "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
    "stem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
    "stages: [{channels: 8, stride: 1}, {channels: 12, stride: 2, operators: [mbconv, "
    "mbconv-se]}, {channels: 16, stride: 2}]\n"
    "head: {channels: 32}\n"
    "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3, 5], expansion: [1, 3], "
    "bits: [4, 8], operators: [mbconv, mbconv-hswish, mbconv-se, mbconv-se-hswish]}\n";

const Mbv2Domain& pool_space() {
  static const Mbv2Domain d(parse_space(kSpace, "pools.yaml", HAO_SHARED_DATA).mbv2,
                            hw::load_device("zu9eg"));
  return d;
}

const ir::Layer& layer(const ir::Network& net, const std::string& name) {
  const int i = net.find(name);
  EXPECT_GE(i, 0) << name;
  return net.layers.at(static_cast<std::size_t>(std::max(i, 0)));
}

// Each operator's weights train in its share of the drawn blocks, so the supernet's default
// length scales with the largest pool: 4 operators here (stage 1's 2 do not lower it).
TEST(OperatorPool, SupernetStepsScaleWithTheLargestPool) {
  EXPECT_EQ(pool_space().spec().supernet_steps(600), 2400);
  Mbv2Spec single = pool_space().spec();
  single.operators = {"mbconv"};
  EXPECT_EQ(single.supernet_steps(600), 1200);  // stage 1's pool of 2 is now the largest
  single.stages[1].operators.clear();
  EXPECT_EQ(single.supernet_steps(600), 600);
}

TEST(OperatorPool, EachOperatorIsABlockWithLayersOfItsOwn) {
  const Mbv2Domain& d = pool_space();
  EXPECT_EQ(d.slots()[slot_named(d, "s0.b1.operator")].choices,
            (std::vector<std::string>{"mbconv", "mbconv-hswish", "mbconv-se", "mbconv-se-hswish"}));
  EXPECT_EQ(d.slots()[slot_named(d, "s1.b0.operator")].choices,
            (std::vector<std::string>{"mbconv", "mbconv-se"}));
  EXPECT_TRUE(d.slots()[slot_named(d, "s1.b0.operator")].ordered_as_listed);
  // The largest network takes each pool's last operator: squeeze-excite and hard-swish in
  // stage 0, squeeze-excite in stage 1.
  const ir::Network big = d.network(d.largest());
  const std::string p = "s0b1_mbconv-se-hswish_";
  EXPECT_EQ(layer(big, p + "expand_relu").act, ir::ActKind::kHardSwish);
  EXPECT_EQ(layer(big, p + "dw_relu").act, ir::ActKind::kHardSwish);
  const ir::Layer& scale = layer(big, p + "se_scale");
  EXPECT_EQ(scale.op, ir::OpKind::kMul);
  ASSERT_EQ(scale.inputs.size(), 2u);
  EXPECT_EQ(scale.inputs[0], big.find(p + "dw_relu"));
  EXPECT_EQ(scale.inputs[1], big.find(p + "se_gate"));
  EXPECT_EQ(layer(big, p + "se_gate").act, ir::ActKind::kHardSigmoid);
  // Squeeze to a quarter of the hidden width (8 x 3 = 24 -> 8), back to 24, on a 1x1 map.
  EXPECT_EQ(layer(big, p + "se_reduce").out.c, 8);
  EXPECT_EQ(layer(big, p + "se_expand").out.c, 24);
  EXPECT_EQ(layer(big, p + "se_expand").in.h, 1);
  EXPECT_EQ(layer(big, p + "project").inputs, std::vector<int>{big.find(p + "se_scale")});
  EXPECT_EQ(layer(big, "s1b0_mbconv-se_dw_relu").act, ir::ActKind::kRelu6);
  EXPECT_GE(big.find("s1b0_mbconv-se_se_scale"), 0);
  // The smallest takes the first: the plain block, ReLU6 and no squeeze-excite.
  const ir::Network small = d.network(d.smallest());
  EXPECT_EQ(layer(small, "s0b0_mbconv_dw_relu").act, ir::ActKind::kRelu6);
  for (const ir::Layer& l : small.layers) EXPECT_EQ(l.name.find("se_"), std::string::npos);
  // Squeeze-excite adds its two 1x1 convs' MACs; hard-swish adds none.
  Genotype g = d.largest();
  auto macs_at = [&](const std::string& op) {
    g[slot_named(d, "s0.b0.operator")] =
        static_cast<int>(std::find(d.slots()[slot_named(d, "s0.b0.operator")].choices.begin(),
                                   d.slots()[slot_named(d, "s0.b0.operator")].choices.end(), op) -
                         d.slots()[slot_named(d, "s0.b0.operator")].choices.begin());
    return d.network(g).total_macs();
  };
  EXPECT_EQ(macs_at("mbconv"), macs_at("mbconv-hswish"));
  EXPECT_EQ(macs_at("mbconv-se") - macs_at("mbconv"), 2 * 24 * 8);
  EXPECT_EQ(macs_at("mbconv-se-hswish"), macs_at("mbconv-se"));
}

TEST(OperatorPool, LabelsNameEachBlocksOperatorAndReadBack) {
  const Mbv2Domain& d = pool_space();
  Rng rng = rng_for(4, 0);
  std::set<std::string> operators;
  for (int i = 0; i < 60; ++i) {
    const Genotype g = d.random(rng);
    ASSERT_TRUE(d.valid(g));
    const std::string label = d.label(g);
    EXPECT_EQ(d.parse(label, "test"), g) << label;
    for (const char* op :
         {"/mbconv|", "/mbconv-hswish", "/mbconv-se|", "/mbconv-se;", "/mbconv-se-hswish"})
      if (label.find(op) != std::string::npos) operators.insert(op);
    EXPECT_GT(d.network(g).total_macs(), 0);
  }
  EXPECT_GE(operators.size(), 4u);
  // A block without its operator, or with one its stage's pool lacks: the label and the choices.
  const std::string largest = d.label(d.largest());
  std::string bare = largest;
  bare.erase(bare.find("/mbconv-se-hswish"), std::string("/mbconv-se-hswish").size());
  EXPECT_NE(test::input_error([&] { d.parse(bare, "g.txt"); }).find("kKeEbB/OPERATOR"),
            std::string::npos);
  std::string foreign = largest;
  const std::size_t s1 = foreign.find(";s1:");
  foreign.replace(foreign.find("/mbconv-se", s1), std::string("/mbconv-se").size(),
                  "/mbconv-hswish");
  const std::string e = test::input_error([&] { d.parse(foreign, "g.txt"); });
  EXPECT_NE(e.find("g.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("mbconv-hswish"), std::string::npos) << e;
  // A removed block's operator holds its first choice, as its other slots do.
  Genotype shallow = d.largest();
  shallow[slot_named(d, "s2.depth")] = 0;
  shallow = d.snap(shallow, rng);
  EXPECT_EQ(shallow[slot_named(d, "s2.b1.operator")], 0);
}

TEST(OperatorPool, TargetsPriceOperatorsDifferently) {
  const Mbv2Domain& d = pool_space();
  // The engine runs squeeze-excite on the host: one host region per such block.
  Genotype g = d.largest();
  const ir::Network net = d.network(g);
  const hw::EngineTerms t = hw::engine_terms(net, hw::EngineShape{}, hw::EngineOptions{});
  int se_blocks = 0;
  for (const ir::Layer& l : net.layers) se_blocks += l.name.find("se_scale") != std::string::npos;
  EXPECT_EQ(se_blocks, 6);
  EXPECT_EQ(t.host_regions, se_blocks);
  // A dataflow design holds squeeze-excite's map in a FIFO until its gate: the scale costs the
  // map's memory (stage 0's 24 x 12 x 12 at 8 bits: past LUTRAM's depth, block RAM).
  ir::Layer mul = layer(net, "s0b1_mbconv-se-hswish_se_scale");
  EXPECT_TRUE(mul.scaled_by_gate);
  EXPECT_FALSE(layer(net, "s0b1_mbconv-se-hswish_add").scaled_by_gate);
  const hw::Device dev = hw::load_device("zu9eg");
  const hw::LayerCost gated = hw::layer_cost(mul, hw::LayerConfig{}, dev, {});
  mul.scaled_by_gate = false;
  const hw::LayerCost plain = hw::layer_cost(mul, hw::LayerConfig{}, dev, {});
  EXPECT_EQ(gated.cycles, plain.cycles);
  EXPECT_GE(gated.res.bram36 - plain.res.bram36, 1.0);
  // HURRICANE's pools hold every kernel x expansion x operator of the position.
  const std::vector<OperatorPool> pools = select_operators(d, 3);
  for (const OperatorPool& pool : pools) {
    SCOPED_TRACE(pool.position.name);
    ASSERT_EQ(pool.position.slots.size(), 3u);
    const bool stage1 = pool.position.name.rfind("s1.", 0) == 0;
    EXPECT_EQ(pool.operators.size(), stage1 ? 8u : 16u);
    std::set<std::pair<double, double>> costs;
    for (const PooledOperator& op : pool.operators)
      costs.insert({op.cost.macs, op.cost.latency_ms});
    EXPECT_GT(costs.size(), pool.operators.size() / 2);  // operators are priced, not copied
  }
}

TEST(OperatorPool, NetAdaptShrinksTowardThePlainestOperator) {
  const Mbv2Domain& d = pool_space();
  AdaptOptions o;
  o.layers = 2;
  o.samples = 3;
  o.budget = 30;
  auto s = make_netadapt_strategy(d, 2, o);
  const std::vector<Genotype> asked = run_made_up(*s, d, o.budget);
  ASSERT_FALSE(asked.empty());
  for (const Genotype& g : asked) EXPECT_TRUE(d.valid(g)) << d.label(g);
  EXPECT_EQ(d.label(asked.front()), d.label(d.largest()));
}

TEST(OperatorPool, AnUnknownOrRepeatedOperatorIsRefusedNamingTheField) {
  auto refuse = [](const std::string& from, const std::string& to) {
    std::string text = kSpace;
    text.replace(text.find(from), from.size(), to);
    return test::input_error([&] { parse_space(text, "pools.yaml", HAO_SHARED_DATA); });
  };
  std::string e = refuse("mbconv-se-hswish]", "mbconv-se-relu]");
  EXPECT_NE(e.find("pools.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("choices.operators[3]"), std::string::npos) << e;
  EXPECT_NE(e.find("mbconv-se-relu"), std::string::npos) << e;
  EXPECT_NE(e.find("mbconv-hswish"), std::string::npos) << e;  // the names it knows
  e = refuse("operators: [mbconv, mbconv-se]", "operators: [mbconv, mbconv]");
  EXPECT_NE(e.find("stages[1].operators[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("repeats"), std::string::npos) << e;
  e = refuse("operators: [mbconv, mbconv-se]", "operators: []");
  EXPECT_NE(e.find("stages[1].operators"), std::string::npos) << e;
}

}  // namespace
}  // namespace hao::search
