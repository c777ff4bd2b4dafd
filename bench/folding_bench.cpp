// Benchmarks of program 1 (dataflow folding). Run: ./build/bench/hao_bench
// Everything runs on one core (CBC with one thread). Counters:
//   ii        II of the ILP design (cycles)      gap    its relative optimality gap
//   greedy_ii II of the fastest greedy design that fits, ilp_over_greedy = ii / greedy_ii
#include <benchmark/benchmark.h>

#include <functional>
#include <random>

#include "hw/greedy_folding.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "ir/model_io.hpp"
#include "support.hpp"

namespace {

using hao::ilp::MapMethod;
using hao::ilp::MapOptions;

hao::ir::Network load(const std::string& model, const std::string& bits) {
  hao::ir::Network net = hao::ir::load_network(model);
  hao::ir::apply_bits(net, bits);
  hao::ir::infer_shapes(net, model);
  return net;
}

std::string fixture(const std::string& name) { return std::string(HAO_FIXTURES) + "/" + name; }

// End-to-end `hao map` (candidates, greedy warm start, bisection probes, lean tie-break).
void map_case(benchmark::State& state, const std::string& model, const std::string& device_name,
              const std::string& bits) {
  const hao::ir::Network net = load(model, bits);
  const hao::hw::Device device = hao::hw::load_device(device_name);
  hao::ilp::MapResult r;
  for (auto _ : state) r = hao::ilp::map_dataflow(net, device, {});
  MapOptions g;
  g.method = MapMethod::kGreedy;
  const hao::ilp::MapResult greedy = hao::ilp::map_dataflow(net, device, g);
  state.counters["feasible"] = r.feasible;
  state.counters["ii"] = static_cast<double>(r.eval.ii_cycles);
  state.counters["gap"] = r.stats.gap;
  state.counters["candidates"] = static_cast<double>(r.candidates);
  state.counters["greedy_ii"] = greedy.feasible ? static_cast<double>(greedy.eval.ii_cycles) : 0;
  if (greedy.feasible && r.feasible)
    state.counters["ilp_over_greedy"] =
        static_cast<double>(r.eval.ii_cycles) / static_cast<double>(greedy.eval.ii_cycles);
  state.SetLabel(hao::ilp::to_string(r.stats.status));
}

// The optimal II alone: bisection probes without the lean tie-break, against the direct
// min-II formulation on the same instance.
void ii_only(benchmark::State& state, const std::string& model, const std::string& device_name,
             const std::string& bits, bool direct) {
  const hao::ir::Network net = load(model, bits);
  const hao::hw::Device device = hao::hw::load_device(device_name);
  const hao::ilp::FoldingProblem p = hao::ilp::make_folding_problem(net, device, {});
  hao::ilp::SolveOptions o;
  o.lean_max_nodes = 1;
  hao::ilp::FoldingSolution s;
  for (auto _ : state)
    s = direct ? hao::ilp::minimize_ii(p, o) : hao::ilp::minimize_ii_bisect(p, o);
  state.counters["ii"] = static_cast<double>(s.ii_cycles);
  state.counters["gap"] = s.stats.gap;
  state.SetLabel(hao::ilp::to_string(s.stats.status));
}

// ILP against exhaustive enumeration on random small instances (seeded).
void small_instances(benchmark::State& state, bool brute) {
  std::mt19937 rng(2021);
  std::vector<hao::ilp::FoldingProblem> problems;
  while (problems.size() < 20) {
    const auto net = hao::test::random_network(rng);
    const auto dev = hao::test::random_device(rng);
    auto p = hao::ilp::make_folding_problem(net, dev, {});
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos <= 200000) problems.push_back(std::move(p));
  }
  std::int64_t checksum = 0;
  for (auto _ : state) {
    checksum = 0;
    for (const auto& p : problems) {
      auto s = brute ? hao::ilp::brute_force_min_ii(p) : hao::ilp::minimize_ii_bisect(p, {});
      checksum += s.ii_cycles;
    }
  }
  state.counters["sum_ii"] = static_cast<double>(checksum);
}

void register_all() {
  struct Case {
    const char* name;
    std::string model, device, bits;
  };
  const std::vector<Case> cases = {
      {"mobilenet_v2/zu9eg/w4a4", fixture("mobilenet_v2.onnx"), "zu9eg", "w4a4"},
      {"mobilenet_v2/zu9eg/w8a8", fixture("mobilenet_v2.onnx"), "zu9eg", "w8a8"},
      {"mobilenet_v2/zu7ev/w4a4", fixture("mobilenet_v2.onnx"), "zu7ev", "w4a4"},
      {"mobilenet_v2/zu7ev/w8a8", fixture("mobilenet_v2.onnx"), "zu7ev", "w8a8"},
      {"resnet18/u250/w4a4", fixture("resnet18.onnx"), "u250", "w4a4"},
      {"resnet18/u250/w8a8", fixture("resnet18.onnx"), "u250", "w8a8"},
      {"mnasnet1_0/zu9eg/w4a4", fixture("mnasnet1_0.onnx"), "zu9eg", "w4a4"},
      {"fmnist_mbv2/zu3eg/w4a4", std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml", "zu3eg", "w4a4"},
  };
  for (const auto& c : cases) {
    benchmark::RegisterBenchmark(
        ("map/" + std::string(c.name)).c_str(),
        [c](benchmark::State& s) { map_case(s, c.model, c.device, c.bits); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
  for (bool direct : {false, true}) {
    benchmark::RegisterBenchmark(
        (std::string("ii_only/") + (direct ? "direct" : "bisect") + "/mobilenet_v2/zu9eg/w4a4")
            .c_str(),
        [direct](benchmark::State& s) {
          ii_only(s, fixture("mobilenet_v2.onnx"), "zu9eg", "w4a4", direct);
        })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("small20/ilp", [](benchmark::State& s) {
    small_instances(s, false);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("small20/brute_force", [](benchmark::State& s) {
    small_instances(s, true);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
