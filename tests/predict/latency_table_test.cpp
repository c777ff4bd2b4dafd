#include "predict/latency_table.hpp"

#include <gtest/gtest.h>

#include <random>

#include "ir/genotype.hpp"

namespace hao::predict {

TEST(LatencyTable, RecoversAnAdditiveModelExactly) {
  // Latencies that are exactly additive over keys must be reproduced on unseen rows.
  std::mt19937 rng(3);
  const std::vector<std::string> vocab = {"a", "b", "c", "d", "e"};
  const std::vector<double> truth = {0.5, 1.25, 0.1, 2.0, 0.75};
  std::vector<std::vector<std::string>> keys;
  std::vector<double> y;
  for (int r = 0; r < 60; ++r) {
    std::vector<std::string> row;
    double ms = 0.3;  // intercept
    for (std::size_t k = 0; k < vocab.size(); ++k) {
      const int count = static_cast<int>(rng() % 3);
      for (int c = 0; c < count; ++c) row.push_back(vocab[k]), ms += truth[k];
    }
    keys.push_back(row);
    y.push_back(ms);
  }
  const LatencyTable t = LatencyTable::fit(keys, y);
  EXPECT_NEAR(t.predict({"a", "d", "d"}), 0.3 + 0.5 + 4.0, 1e-9);
  std::size_t unknown = 0;
  t.predict({"a", "zz"}, &unknown);
  EXPECT_EQ(unknown, 1u);
  const LatencyTable back = LatencyTable::from_json(t.to_json(), "t");
  EXPECT_NEAR(back.predict({"b", "c"}), t.predict({"b", "c"}), 1e-12);
}

TEST(LatencyTable, AnbBlocksShareKeysByShape) {
  const auto a = ir::expand_anb(
      "b0:e6,k3,l2,se0;b1:e1,k5,l3,se0;b2:e6,k3,l2,se0;b3:e6,k3,l1,se0;b4:e4,k3,l2,se0;"
      "b5:e6,k5,l1,se0;b6:e4,k5,l2,se1",
      "t");
  const auto keys = unit_keys(a, Grouping::kBlocks);
  // stem, stem_relu, 13 block layers, head, head_relu, pool, classifier
  EXPECT_EQ(keys.size(), 2u + 13u + 4u);
  // Repeated layers of a block (b1_1, b1_2) have one shape, hence one key.
  EXPECT_EQ(keys[2 + 2 + 1], keys[2 + 2 + 2]);
  EXPECT_NE(keys[2 + 2], keys[2 + 2 + 1]);  // the first layer of b1 changes channels
}

}  // namespace hao::predict
