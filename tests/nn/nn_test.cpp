#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.hpp"
#include "ir/description_io.hpp"
#include "ir/model_io.hpp"
#include "nn/ir_module.hpp"
#include "nn/train.hpp"

namespace hao::nn {
namespace {

ir::Network example() { return ir::load_network(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml"); }

std::int64_t parameter_count(IrNet& m) {
  std::int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

// A small separable data set: each class lights up its own 4x4 patch, plus noise.
data::DataSet synthetic(std::size_t train, std::size_t test, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60), label(0, 9);
  auto make = [&](std::size_t n) {
    data::ImageSet s;
    s.channels = 1, s.height = 28, s.width = 28, s.classes = 10;
    for (std::size_t i = 0; i < n; ++i) {
      const int c = label(rng);
      s.labels.push_back(static_cast<std::uint8_t>(c));
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
          const bool lit = y / 7 == c / 4 && x / 7 == c % 4 && (y % 7) < 4 && (x % 7) < 4;
          s.pixels.push_back(static_cast<std::uint8_t>(noise(rng) + (lit ? 180 : 0)));
        }
    }
    return s;
  };
  data::DataSet ds;
  ds.name = "synthetic";
  ds.train = make(train);
  ds.test = make(test);
  return ds;
}

TEST(IrModule, ParametersAndShapesMatchTheIr) {
  for (const std::string& path : {std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml",
                                  std::string(HAO_FIXTURES) + "/mobilenet_v2.onnx",
                                  std::string(HAO_FIXTURES) + "/mobilenet_v3_small.onnx"}) {
    const ir::Network net = ir::load_network(path);
    IrNet m(net);
    // Weights, biases and every batch norm's scale and shift: what a framework counts.
    EXPECT_EQ(parameter_count(m), net.total_params_trained()) << path;
    m->eval();
    torch::NoGradGuard no_grad;
    const auto outs = m->forward_all(torch::zeros({1, net.input.c, net.input.h, net.input.w}));
    ASSERT_EQ(outs.size(), net.layers.size());
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const ir::Shape& s = net.layers[i].out;
      const auto& t = outs[i];
      const std::vector<std::int64_t> want = {1, s.c, s.h, s.w};
      EXPECT_EQ(t.sizes().vec(), want) << path << " layer " << net.layers[i].name;
    }
  }
}

TEST(IrModule, CheckpointRoundTripAndMismatch) {
  const std::string path = ::testing::TempDir() + "example.pt";
  seed_torch(3);
  IrNet a(example());
  save_checkpoint(a, path);
  seed_torch(4);
  IrNet b(example());
  load_checkpoint(b, path);
  a->eval(), b->eval();
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));

  ir::Network other = example();
  other.layers.back().out_channels = 12;  // another classifier
  ir::infer_shapes(other, "other");
  IrNet c(other);
  try {
    load_checkpoint(c, path);
    FAIL() << "expected an InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint of another network"), std::string::npos)
        << e.what();
  }
  const std::string junk = ::testing::TempDir() + "junk.pt";
  std::ofstream(junk) << "not a checkpoint";
  EXPECT_THROW(load_checkpoint(b, junk), core::InputError);
  EXPECT_THROW(load_checkpoint(b, junk + ".missing"), core::InputError);
}

TEST(Train, LearnsAndIsDeterministic) {
  const data::DataSet ds = synthetic(1200, 300, 1);
  TrainOptions o;
  o.epochs = 2, o.batch_size = 64, o.validation = 200, o.threads = 1, o.seed = 7;
  auto run = [&] {
    seed_torch(o.seed);
    IrNet m(example());
    return train(m, ds, o);
  };
  const TrainResult r1 = run(), r2 = run();
  ASSERT_EQ(r1.epochs.size(), 2u);
  EXPECT_EQ(r1.epochs.back().train_loss, r2.epochs.back().train_loss);  // same seed, same result
  EXPECT_EQ(r1.test_accuracy, r2.test_accuracy);
  EXPECT_GT(r1.test_accuracy, 0.9);  // ten patches: far above the 10% of chance
  EXPECT_GT(r1.val_accuracy, 0.9);
  EXPECT_LT(r1.epochs.back().train_loss, r1.epochs.front().train_loss);
}

TEST(Train, DataThatDoesNotFitTheNetworkIsBadInput) {
  data::DataSet ds = synthetic(300, 50, 2);
  IrNet m(example());
  TrainOptions o;
  o.validation = 50;
  ds.train.classes = ds.test.classes = 12;
  try {
    train(m, ds, o);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 10 outputs but synthetic has 12 classes"),
              std::string::npos)
        << e.what();
  }
  ds.train.classes = 10;
  ds.train.height = 32;
  EXPECT_THROW(train(m, ds, o), core::InputError);
}

}  // namespace
}  // namespace hao::nn
