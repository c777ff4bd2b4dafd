#include "ilp/bit_program.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "ilp/folding_program.hpp"
#include "ilp/quantize_mapper.hpp"
#include "ir/model_io.hpp"
#include "support.hpp"

namespace hao::ilp {
namespace {

// HAWQ-V3's ResNet18 instance: per layer Omega(b) = trace/n * ||Q_b(W) - W||^2 for b in {4, 8},
// and what each bit-width costs in T4 latency, bit operations and model size.
struct Hawq {
  BitProblem problem;
  std::vector<double> all4, all8;  // per budget kind: latency, bops, size
};

Hawq load_hawq() {
  std::ifstream in(std::string(HAO_SHARED_DATA) + "/hawq/resnet18_ilp_instance.json");
  EXPECT_TRUE(in.good()) << "shared/data/hawq/resnet18_ilp_instance.json";
  const nlohmann::json j = nlohmann::json::parse(in);
  const auto n = j["layers"].get<std::size_t>();
  Hawq h;
  h.all4.assign(3, 0.0);
  h.all8.assign(3, 0.0);
  BitProblem& p = h.problem;
  p.bit_names = {"4", "8"};
  for (std::size_t i = 0; i < n; ++i) {
    p.items.push_back("layer" + std::to_string(i));
    const double trace = j["hutchinson_trace"][i].get<double>();
    const double bops = j["bops_millions"][i].get<double>();
    const double params = j["parameters"][i].get<double>();
    const BitOption four{0,
                         -1,
                         trace * j["delta_weights_4bit_square"][i].get<double>(),
                         {},
                         {j["latency_int4_ms"][i].get<double>(), bops / 64, params * 4},
                         {}};
    const BitOption eight{1,
                          -1,
                          trace * j["delta_weights_8bit_square"][i].get<double>(),
                          {},
                          {j["latency_int8_ms"][i].get<double>(), bops / 16, params * 8},
                          {}};
    for (std::size_t k = 0; k < 3; ++k) h.all4[k] += four.use[k], h.all8[k] += eight.use[k];
    p.options.push_back({four, eight});
  }
  for (const auto& t : j["ties"]) p.ties.push_back(t.get<std::vector<int>>());
  return h;
}

// With HAWQ-V3's budgets (all-4-bit + 0.5 (all-8-bit - all-4-bit)) for latency, bit
// operations and size, one at a time and all three at once, CBC's allocation has the Omega of
// brute force over every tied assignment, and meets the budget.
TEST(BitProgram, HawqResnet18EqualsBruteForce) {
  const Hawq h = load_hawq();
  ASSERT_EQ(h.problem.options.size(), 19u);
  const std::vector<std::string> names = {"latency_ms", "mbops", "size_bits"};
  for (int which = 0; which <= 3; ++which) {
    BitProblem p = h.problem;
    for (int k = 0; k < 3; ++k) {
      if (which != 3 && k != which) continue;
      p.budget_names.push_back(names[static_cast<std::size_t>(k)]);
      p.budgets.push_back(
          h.all4[static_cast<std::size_t>(k)] +
          0.5 * (h.all8[static_cast<std::size_t>(k)] - h.all4[static_cast<std::size_t>(k)]));
    }
    for (auto& item : p.options)
      for (auto& o : item) {
        std::vector<double> use;
        for (int k = 0; k < 3; ++k)
          if (which == 3 || k == which) use.push_back(o.use[static_cast<std::size_t>(k)]);
        o.use = use;
      }
    const BitSolution cbc = solve_bits(p, {});
    const BitSolution brute = brute_force_bits(p);
    const std::string ctx = which == 3 ? "all budgets" : names[static_cast<std::size_t>(which)];
    ASSERT_TRUE(cbc.has_solution()) << ctx << ": " << cbc.stats.message;
    ASSERT_TRUE(brute.has_solution()) << ctx;
    EXPECT_EQ(cbc.stats.status, SolveStatus::kOptimal) << ctx;
    EXPECT_NEAR(cbc.omega, brute.omega, 1e-9 * brute.omega) << ctx;
    EXPECT_TRUE(bit_choice_feasible(p, cbc.choice)) << ctx;
    // Something between all 4 and all 8 bits: the budget binds and not everything is 8-bit.
    int eights = 0;
    for (int c : cbc.choice) eights += c;
    EXPECT_GT(eights, 0) << ctx;
    EXPECT_LT(eights, 19) << ctx;
    // Tied layers share their bits.
    for (const auto& tie : p.ties)
      EXPECT_EQ(cbc.choice[static_cast<std::size_t>(tie[0])],
                cbc.choice[static_cast<std::size_t>(tie[1])])
          << ctx;
  }
}

// Random instances with several options per item (bits x configurations), ties, linked
// threshold placements, resources and a budget: CBC equals enumeration, infeasible exactly when
// enumeration finds nothing.
TEST(BitProgram, EqualsBruteForceOnRandomInstances) {
  std::mt19937 rng(305);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<>(lo, hi)(rng);
  };
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int feasible = 0, infeasible = 0;
  for (int trial = 0; trial < 80; ++trial) {
    BitProblem p;
    p.bit_names = {"w2a2", "w4a4", "w8a8"};
    p.limit_resources = true;
    p.capacity = {uniform(4, 20), uniform(200, 900), uniform(1, 6), 0};
    p.budget_names = {"size"};
    p.budgets = {uniform(10, 40)};
    const int items = pick(2, 5);
    for (int i = 0; i < items; ++i) {
      p.items.push_back("l" + std::to_string(i));
      p.options.emplace_back();
      const double trace = uniform(0.01, 1);
      for (int b = 0; b < 3; ++b)
        for (int k = pick(1, 3); k > 0; --k) {
          BitOption o;
          o.bits = b;
          o.config = k;
          o.omega = trace * std::pow(4.0, -b);
          o.res = {uniform(0, 5) * (b + 1), uniform(20, 200) * (b + 1), uniform(0, 1.5), 0};
          o.use = {uniform(1, 4) * (1 << b)};
          o.split = pick(0, 2) == 0;
          p.options.back().push_back(o);
        }
    }
    if (items >= 3 && pick(0, 1)) p.ties.push_back({0, items - 1});
    if (pick(0, 1)) p.links.push_back({0, 1});  // thresholds placed alike
    const BitSolution cbc = solve_bits(p, {});
    const BitSolution brute = brute_force_bits(p);
    const std::string ctx = "trial " + std::to_string(trial);
    if (!brute.has_solution()) {
      ++infeasible;
      EXPECT_EQ(cbc.stats.status, SolveStatus::kInfeasible) << ctx;
      continue;
    }
    ++feasible;
    ASSERT_TRUE(cbc.has_solution()) << ctx << ": " << cbc.stats.message;
    EXPECT_NEAR(cbc.omega, brute.omega, 1e-9 * std::max(1.0, brute.omega)) << ctx;
    EXPECT_TRUE(bit_choice_feasible(p, cbc.choice)) << ctx;
  }
  EXPECT_GT(feasible, 20);
  EXPECT_GT(infeasible, 3);
}

TEST(BitProgram, RejectsTiesOutOfRange) {
  BitProblem p;
  p.items = {"a"};
  p.bit_names = {"w4a4"};
  p.options = {{BitOption{}}};
  p.ties = {{0, 3}};
  EXPECT_THROW(solve_bits(p, {}), core::InputError);
}

// The dataflow instance against a reference that shares none of its pruning: for every tied
// bit assignment, the network at those bits is feasible at the target II exactly when
// enumerating its foldings finds an II within the target. The least Omega among feasible
// assignments is program 3's.
TEST(QuantizeDataflow, EqualsEnumerationOverBitsAndFoldings) {
  std::mt19937 rng(5);
  int compared = 0, infeasible = 0;
  const std::vector<ir::BitWidths> choices = {{2, 2}, {4, 4}, {8, 8}};
  for (int trial = 0; compared + infeasible < 40 && trial < 400; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    QuantizeSpec spec;
    spec.choices = choices;
    spec.omega.assign(net.layers.size(), {});
    std::vector<int> weighted;
    for (std::size_t l = 0; l < net.layers.size(); ++l)
      if (net.layers[l].has_weights()) {
        const double trace = std::uniform_real_distribution<>(0.1, 1)(rng);
        spec.omega[l] = {trace * 16, trace * 4, trace};
        weighted.push_back(static_cast<int>(l));
      }
    if (weighted.empty()) continue;
    if (weighted.size() >= 2) spec.ties.push_back({weighted.front(), weighted.back()});
    // A target between the fastest design at 2 bits and a slow one.
    const double fastest = fastest_dataflow_fps(net, device, {}, spec, {});
    if (fastest <= 0) continue;
    spec.target_fps = fastest * std::uniform_real_distribution<>(0.05, 1.0)(rng);
    const std::int64_t target_ii =
        static_cast<std::int64_t>(std::floor(device.clock_mhz * 1e6 / spec.target_fps + 1e-9));

    // Reference: enumerate bits per weighted layer, honour the tie, enumerate foldings.
    double best = -1;
    std::vector<std::size_t> sizes(weighted.size(), choices.size());
    bool too_big = false;
    test::for_each_choice(sizes, [&](const std::vector<int>& pick) {
      if (too_big) return;
      if (weighted.size() >= 2 && pick.front() != pick.back()) return;
      std::vector<int> bits(net.layers.size(), -1);
      double omega = 0;
      for (std::size_t w = 0; w < weighted.size(); ++w) {
        bits[static_cast<std::size_t>(weighted[w])] = pick[w];
        omega +=
            spec.omega[static_cast<std::size_t>(weighted[w])][static_cast<std::size_t>(pick[w])];
      }
      // hao map's program: the thresholds' placement a choice, linked pairs alike.
      hw::DataflowOptions split;
      split.split_threshold_choice = true;
      const FoldingProblem fp = make_folding_problem(with_bits(net, choices, bits), device, split);
      std::size_t combos = 1;
      for (const auto& c : fp.candidates) combos *= c.size();
      if (combos > 300000) {
        too_big = true;
        return;
      }
      const FoldingSolution f = brute_force_min_ii(fp);
      if (f.has_solution() && f.ii_cycles <= target_ii && (best < 0 || omega < best)) best = omega;
    });
    if (too_big) continue;
    const QuantizeResult q = quantize_dataflow(net, device, {}, spec, {});
    const std::string ctx = "trial " + std::to_string(trial);
    if (best < 0) {
      ++infeasible;
      EXPECT_FALSE(q.feasible) << ctx;
      continue;
    }
    ++compared;
    ASSERT_TRUE(q.feasible) << ctx << ": " << q.reason;
    EXPECT_NEAR(q.omega, best, 1e-9) << ctx;
    EXPECT_TRUE(q.dataflow.fits()) << ctx;
    EXPECT_LE(q.dataflow.ii_cycles, target_ii) << ctx;
  }
  EXPECT_GE(compared, 20);
}

}  // namespace
}  // namespace hao::ilp

namespace hao::ilp {
namespace {

// HAWQ-V3's size and bit-operation budgets on a network: the designs keep within them, on both
// templates, and they bind (without them the designs exceed them).
TEST(QuantizeBudgets, SizeAndBitOperationsBind) {
  const ir::Network net = ir::load_network(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  const hw::Device device = hw::load_device("zu3eg");
  QuantizeSpec spec;
  spec.choices = {{2, 2}, {4, 4}, {8, 8}};
  spec.omega.assign(net.layers.size(), {});
  for (std::size_t l = 1; l + 1 < net.layers.size(); ++l)
    if (net.layers[l].has_weights()) spec.omega[l] = {1.0, 0.1, 0.001};
  auto totals = [&](const ir::Network& at) {
    double bytes = 0, bops = 0;
    for (const auto& l : at.layers)
      if (l.has_weights()) {
        bytes += weight_bytes(l, {l.weight_bits, l.act_bits});
        bops += bit_operations(l, {l.weight_bits, l.act_bits});
      }
    return std::make_pair(bytes, bops);
  };
  const auto free_run = totals(quantize_dataflow(net, device, {}, spec, {}).network);
  QuantizeSpec bound = spec;
  bound.max_weight_bytes = 0.6 * free_run.first;
  bound.max_bops = 0.6 * free_run.second;
  const QuantizeResult d = quantize_dataflow(net, device, {}, bound, {});
  ASSERT_TRUE(d.feasible) << d.reason;
  EXPECT_LE(totals(d.network).first, bound.max_weight_bytes + 1e-6);
  EXPECT_LE(totals(d.network).second, bound.max_bops + 1e-6);
  const QuantizeResult e = quantize_engine(net, device, {}, bound);
  ASSERT_TRUE(e.feasible) << e.reason;
  EXPECT_LE(totals(e.network).first, bound.max_weight_bytes + 1e-6);
  EXPECT_LE(totals(e.network).second, bound.max_bops + 1e-6);
}

}  // namespace
}  // namespace hao::ilp
