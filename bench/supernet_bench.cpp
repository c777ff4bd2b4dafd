// What slicing costs: one training step (forward, backward, SGD) of the largest network of the
// default space, run alone as hao train builds it (IrNet) and as the supernet's largest path
// (Supernet::forward with the same network), side by side at batch 64.
// And what judging a member costs (hao search --evaluator supernet, once per candidate): its
// batch norms re-estimated on 500 training images with its input ranges set on them
// (recalibrate), then its accuracy at its bits on 1,000 validation images (judge), per batch
// size and thread count (the benchmark's arguments).
// Run: ./build/bench/hao_supernet_bench [--benchmark_repetitions=5]
// Counters: images_per_s. The ratio supernet / alone is the slicing's overhead (issue 21's
// target: within 15%); alone / alone_nchw what channels-last convolutions gain. Threads: the
// benchmark's argument (LibTorch's intra-op threads).
#include <benchmark/benchmark.h>

#include "data/images.hpp"
#include "hw/device.hpp"
#include "nn/space_supernet.hpp"
#include "nn/supernet_train.hpp"
#include "nn/train.hpp"
#include "search/mbv2_domain.hpp"
#include "search/space_spec.hpp"

namespace {

using namespace hao;

const search::Mbv2Domain& domain() {
  static const search::Mbv2Domain d(search::load_space("fmnist-mbv2", HAO_EXAMPLES).mbv2,
                                    hw::load_device("zu3eg"));
  return d;
}

constexpr int kBatch = 64;

template <typename Forward>
void train_steps(benchmark::State& state, torch::nn::Module& module, Forward forward) {
  nn::keep_large_blocks_in_heap();
  torch::set_num_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({kBatch, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {kBatch});
  torch::optim::SGD sgd(module.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  module.train();
  for (int warm = 0; warm < 3; ++warm) {  // LibTorch picks its kernels on the first steps
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(forward(x), y).backward();
    sgd.step();
  }
  for (auto _ : state) {
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(forward(x), y).backward();
    sgd.step();
  }
  state.counters["images_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}

void alone(benchmark::State& state) {
  nn::IrNet net(domain().network(domain().largest(), "largest"));
  train_steps(state, *net, [&](const torch::Tensor& x) { return net->forward(x); });
}

// The same with convolutions on NCHW tensors, as LibTorch lays them out by default: the
// baseline of channels-last's speed-up (alone / alone_nchw).
void alone_nchw(benchmark::State& state) {
  nn::set_conv_channels_last(false);
  alone(state);
  nn::set_conv_channels_last(true);
}

void supernet_largest(benchmark::State& state) {
  nn::Supernet net = nn::space_supernet(domain());
  const ir::Network largest = domain().network(domain().largest(), "supernet");
  train_steps(state, *net, [&](const torch::Tensor& x) { return net->forward(largest, x); });
}

// A calibrated supernet and a mid-sized member of the default space at its bits, on
// Fashion-MNIST's training images.
struct Judging {
  data::DataSet ds = data::load_dataset("fashion-mnist");
  nn::Supernet net = nn::space_supernet(domain());
  ir::Network member;
  nn::JudgeImages images;
  Judging() {
    torch::manual_seed(1);
    search::Rng rng(7);
    member = domain().network(domain().random(rng), "member");
    nn::SupernetTrainOptions o;
    o.validation = 1000;
    images = nn::judge_images(ds, o, 500);
    net->calibrate(ds.train, images.norm, images.recalibrate, images.recalibrate.size());
  }
};

Judging& judging() {
  static Judging j;
  return j;
}

void judge_recalibrate(benchmark::State& state) {
  Judging& j = judging();
  torch::set_num_threads(static_cast<int>(state.range(1)));
  for (auto _ : state)
    benchmark::DoNotOptimize(nn::recalibrated_member(j.net, j.member, j.ds.train, j.images.norm,
                                                     j.images.recalibrate,
                                                     static_cast<int>(state.range(0))));
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * j.images.recalibrate.size()),
                         benchmark::Counter::kIsRate);
}

void judge_accuracy(benchmark::State& state) {
  Judging& j = judging();
  torch::set_num_threads(static_cast<int>(state.range(1)));
  nn::IrNet alone =
      nn::recalibrated_member(j.net, j.member, j.ds.train, j.images.norm, j.images.recalibrate);
  for (auto _ : state)
    benchmark::DoNotOptimize(nn::accuracy(alone, j.ds.train, j.images.norm, j.images.judge,
                                          static_cast<int>(state.range(0))));
  state.counters["images_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * j.images.judge.size()), benchmark::Counter::kIsRate);
}

// Arguments: the batch size, the threads (hao search judges at 100 on all cores).
void judging_args(benchmark::internal::Benchmark* b) {
  b->Args({50, 2})->Args({100, 1})->Args({100, 2})->Args({250, 2});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(judge_recalibrate)->Apply(judging_args);
BENCHMARK(judge_accuracy)->Apply(judging_args);
BENCHMARK(alone)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(alone_nchw)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(supernet_largest)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
