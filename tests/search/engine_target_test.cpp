#include "search/engine_target.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/three_stage_space.hpp"

namespace hao::search {
namespace {

// Three small stages (program 2 is quick on them); a new domain per use: a domain takes one
// target, before it prices anything.
std::unique_ptr<Mbv2Domain> three_stages(const std::string& device) {
  return std::make_unique<Mbv2Domain>(three_stage_space(), hw::load_device(device));
}

const std::string kDpu = std::string(HAO_EXAMPLES) + "/devices/zcu102_dpu_b4096.yaml";

// An engine model with stated coefficients (what hao calibrate --kind engine writes).
std::shared_ptr<const predict::EngineModel> model_of(const hw::EngineShape& shape) {
  nlohmann::json coefficients;
  double c = 1e-6;
  for (const auto& name : hw::engine_term_names()) coefficients["ms_per_" + name] = c *= 1.5;
  const nlohmann::json j{{"engine", {{"pp", shape.pp}, {"pi", shape.pi}, {"po", shape.po}}},
                         {"host_cache_bytes", 262144.0},
                         {"intercept_ms", 0.3},
                         {"coefficients", coefficients}};
  return std::make_shared<const predict::EngineModel>(predict::EngineModel::from_json(j, "m"));
}

TEST(EngineTarget, PricesEachNetworkOnProgramTwosOptimalEngine) {
  auto d = three_stages("zu3eg");
  d->set_target(engine_target(*d, {}));
  EXPECT_EQ(d->target_name(), "engine");
  EXPECT_TRUE(d->target().settings.empty());
  Rng rng = rng_for(7, 0);
  for (const Genotype& g : {d->largest(), d->random(rng), d->random(rng)}) {
    const ilp::EngineMapResult r = ilp::map_engine(d->network(g), d->device(), {});
    ASSERT_TRUE(r.feasible) << d->label(g);
    const Hardware h = d->hardware(g);
    EXPECT_TRUE(h.feasible);
    EXPECT_DOUBLE_EQ(h.latency_ms, r.eval.latency_ms);
    EXPECT_DOUBLE_EQ(h.fps, 1000.0 / h.latency_ms);  // one frame at a time
    EXPECT_DOUBLE_EQ(d->latency_ms(g), h.latency_ms);
    EXPECT_EQ(h.resources.dsp, r.eval.total.dsp);
    EXPECT_EQ(h.resources.lut, r.eval.total.lut);
    EXPECT_EQ(h.resources.bram36, r.eval.total.bram36);
    EXPECT_TRUE(h.configs.empty());  // no dataflow folding
  }
  // No selection program (program 4 is over dataflow designs).
  EXPECT_EQ(d->selection(), nullptr);
}

// The bound program 2's latency is never below, on free and pinned engines: a differential
// test against program 2 itself over random networks; and it is no empty bound.
TEST(EngineTarget, TheLatencyBoundNeverExceedsProgramTwosOptimum) {
  for (const std::string& device : {std::string("zu3eg"), std::string("xc7z020"), kDpu}) {
    SCOPED_TRACE(device);
    auto d = three_stages(device);
    d->set_target(engine_target(*d, {}));
    Rng rng = rng_for(11, 0);
    double tightest = 0, loosest = 1;
    for (int i = 0; i < 25; ++i) {
      const Genotype g = i == 0 ? d->largest() : i == 1 ? d->smallest() : d->random(rng);
      const double bound = d->latency_bound_ms(g);
      const double exact = d->latency_ms(g);
      ASSERT_LT(exact, kInfeasibleMs) << d->label(g);
      EXPECT_LE(bound, exact * (1 + 1e-12)) << d->label(g);
      tightest = std::max(tightest, bound / exact);
      loosest = std::min(loosest, bound / exact);
      EXPECT_DOUBLE_EQ(d->latency_bound_ms(g), exact);  // once known, the latency itself
    }
    EXPECT_GT(loosest, 0.8) << "tightest " << tightest;  // 0.86 to 0.99 when written
  }
}

TEST(EngineTarget, ACalibratedModelPricesThePinnedEngineWhoseDesignProgramTwoGives) {
  auto d = three_stages(kDpu);
  ASSERT_TRUE(d->device().engine_pinned);
  EngineTargetOptions o;
  o.model = model_of(d->device().engine);
  o.model_path = "dpu.json";
  d->set_target(engine_target(*d, o));
  ASSERT_EQ(d->target().settings.size(), 1u);
  EXPECT_EQ(d->target().settings[0].first, "latency_model");
  EXPECT_EQ(d->target().settings[0].second, "dpu.json");
  Rng rng = rng_for(3, 0);
  for (const Genotype& g : {d->smallest(), d->random(rng)}) {
    const ir::Network net = d->network(g);
    const ilp::EngineMapResult r = ilp::map_engine(net, d->device(), {});
    ASSERT_TRUE(r.feasible);
    EXPECT_TRUE(r.design.config.shape == d->device().engine);
    const Hardware h = d->hardware(g);
    EXPECT_DOUBLE_EQ(h.latency_ms, o.model->predict(net));
    EXPECT_NE(h.latency_ms, r.eval.latency_ms);
    EXPECT_EQ(h.resources.dsp, r.eval.total.dsp);
    EXPECT_DOUBLE_EQ(engine_latency_bound_ms(net, d->device(), o), h.latency_ms);
  }
}

TEST(EngineTarget, RefusesAModelForAnEngineTheDeviceDoesNotPin) {
  auto free = three_stages("zu3eg");
  EngineTargetOptions o;
  o.model = model_of(hw::kDpuB4096);
  o.model_path = "dpu.json";
  try {
    engine_target(*free, o);
    FAIL() << "a model on a device that pins no engine";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dpu.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pins no engine"), std::string::npos) << e.what();
  }
  auto dpu = three_stages(kDpu);
  o.model = model_of({4, 8, 8});
  try {
    engine_target(*dpu, o);
    FAIL() << "a model of another engine";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("{pp: 4, pi: 8, po: 8}"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pins {pp: 8, pi: 16, po: 16}"), std::string::npos)
        << e.what();
  }
}

TEST(EngineTarget, HurricanePricesEachOperatorAloneOnTheWholeEngine) {
  auto d = three_stages("zu3eg");
  d->set_target(engine_target(*d, {}));
  EXPECT_EQ(d->operator_share(), 1.0);  // one operator at a time, on all of the engine
  const std::vector<OperatorPool> pools = select_operators(*d, 2);
  ASSERT_EQ(pools.size(), 6u);
  for (const OperatorPool& pool : pools)
    for (const PooledOperator& op : pool.operators) {
      EXPECT_EQ(op.cost.share, 1.0);
      EXPECT_GT(op.cost.latency_ms, 0);
      EXPECT_LT(op.cost.latency_ms, kInfeasibleMs);
    }
  // One operator by hand: the block alone on its own optimal engine. The largest network's
  // blocks are at 8 bits, as the CPU's pieces are: those are the same descriptions.
  const Genotype g = d->largest();
  const std::size_t p = 2;  // stage 1, block 0
  ASSERT_TRUE(d->operator_present(g, p));
  const OperatorCost cost = d->operator_cost(g, p, 1);
  std::string alone;
  for (const auto& [name, description] : d->pieces(g))
    if (name == "s1b0") alone = description;
  ASSERT_FALSE(alone.empty());
  ir::Network part = ir::parse_description(alone, "block");
  ir::derive_elementwise_bits(part);
  const ilp::EngineMapResult r = ilp::map_engine(part, d->device(), {});
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(cost.latency_ms, r.eval.latency_ms);
  EXPECT_DOUBLE_EQ(cost.macs, static_cast<double>(part.total_macs()));
}

// A target that records the parts it is asked to price: an engine's at the block's own bits,
// the CPU table's at its part_bits (8).
TEST(EngineTarget, PartsArePricedAtTheBlocksBitsUnlessTheTargetKeysThemOtherwise) {
  for (const int part_bits : {0, 8}) {
    auto d = three_stages("zu3eg");
    auto asked = std::make_shared<std::vector<std::string>>();
    LatencyTarget t;
    t.name = "probe";
    t.part_bits = part_bits;
    t.network = [](const Genotype&) { return Hardware{}; };
    t.part_ms = [asked](const std::string& description) {
      asked->push_back(description);
      return 1.0;
    };
    d->set_target(t);
    Genotype g = d->largest();
    const std::size_t p = 2;  // stage 1, block 0: its kernel, expansion and bits slots
    std::size_t k = 0;
    for (const OperatorPool& pool : select_operators(*d, 1))
      if (pool.position.name == "s1.b0") k = pool.position.slots[0];
    ASSERT_GT(k, 0u);
    g[k + 2] = 0;  // 4 bits
    asked->clear();
    d->operator_cost(g, p, 1);
    ASSERT_EQ(asked->size(), 1u);
    const bool at_4 = asked->front().find("weight_bits: 4") != std::string::npos;
    EXPECT_EQ(at_4, part_bits == 0) << asked->front();
  }
}

}  // namespace
}  // namespace hao::search
