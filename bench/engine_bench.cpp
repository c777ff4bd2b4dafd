// Benchmarks of program 2 (engine configuration). Run: ./build/bench/hao_engine_bench
// One core (CBC with one thread). Counters:
//   latency_ms   the ILP design's batch-1 latency      gap      its relative optimality gap
//   grid_ms      the grid baseline's latency (every shape, buffer splits in eighths)
//   grid_over_ilp = grid_ms / latency_ms (>= 1: how much slower the scripted sweep's design is)
//   unfused_over_ilp: the ILP optimum without fused chains, over the one with them
//   shapes, variables: engine shapes and tiling binaries left after pruning
#include <benchmark/benchmark.h>

#include "ilp/engine_program.hpp"
#include "ir/bits.hpp"
#include "ir/model_io.hpp"

namespace {

std::string fixture(const std::string& name) { return std::string(HAO_FIXTURES) + "/" + name; }

void engine_case(benchmark::State& state, const std::string& model, const std::string& device_name,
                 const std::string& bits) {
  hao::ir::Network net = hao::ir::load_network(model);
  hao::ir::apply_bits(net, bits);
  hao::ir::infer_shapes(net, model);
  const hao::hw::Device device = hao::hw::load_device(device_name);
  hao::ilp::EngineMapResult r;
  for (auto _ : state) r = hao::ilp::map_engine(net, device, {});
  const hao::ilp::EngineMapResult grid = hao::ilp::grid_engine(net, device, {});
  hao::ilp::EngineMapOptions unfused;
  unfused.fusion = false;
  const hao::ilp::EngineMapResult alone = hao::ilp::map_engine(net, device, unfused);
  state.counters["latency_ms"] = r.eval.latency_ms;
  state.counters["gap"] = r.stats.gap;
  state.counters["shapes"] = static_cast<double>(r.shapes);
  state.counters["variables"] = static_cast<double>(r.variables);
  state.counters["grid_ms"] = grid.eval.latency_ms;
  if (r.feasible && grid.feasible)
    state.counters["grid_over_ilp"] = grid.eval.latency_ms / r.eval.latency_ms;
  if (r.feasible && alone.feasible)
    state.counters["unfused_over_ilp"] = alone.eval.latency_ms / r.eval.latency_ms;
  state.SetLabel(hao::ilp::to_string(r.stats.status));
}

void register_all() {
  struct Case {
    const char* name;
    std::string model, device, bits;
  };
  const std::string dpu = std::string(HAO_EXAMPLES) + "/devices/zcu102_dpu_b4096.yaml";
  const std::vector<Case> cases = {
      {"mobilenet_v2/zu3eg/w8a8", fixture("mobilenet_v2.onnx"), "zu3eg", "w8a8"},
      {"mobilenet_v2/zu3eg/w4a4", fixture("mobilenet_v2.onnx"), "zu3eg", "w4a4"},
      {"mobilenet_v2/zu9eg/w8a8", fixture("mobilenet_v2.onnx"), "zu9eg", "w8a8"},
      {"mobilenet_v2/dpu_b4096/w8a8", fixture("mobilenet_v2.onnx"), dpu, "w8a8"},
      {"mnasnet1_0/zu3eg/w8a8", fixture("mnasnet1_0.onnx"), "zu3eg", "w8a8"},
      {"efficientnet_b0/zu3eg/w8a8", fixture("efficientnet_b0.onnx"), "zu3eg", "w8a8"},
      {"resnet18/zu3eg/w8a8", fixture("resnet18.onnx"), "zu3eg", "w8a8"},
      {"mobilenet_v3_small/zu2eg/w8a8", fixture("mobilenet_v3_small.onnx"), "zu2eg", "w8a8"},
      {"fmnist_mbv2/zu3eg/w8a8", std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml", "zu3eg", "w8a8"},
  };
  for (const auto& c : cases)
    benchmark::RegisterBenchmark(
        ("engine/" + std::string(c.name)).c_str(),
        [c](benchmark::State& s) { engine_case(s, c.model, c.device, c.bits); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
