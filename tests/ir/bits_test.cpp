#include "ir/bits.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/error.hpp"
#include "ir/description_io.hpp"

namespace hao::ir {
namespace {
Network two_layers() {
  return parse_description(R"(
name: two
input: {channels: 1, height: 4, width: 4}
layers:
  - {name: a, op: conv, out_channels: 2, kernel: 1}
  - {name: b, op: fc, out_channels: 3}
)",
                           "two.yaml");
}
}  // namespace

TEST(Bits, UniformSpecSetsEveryLayer) {
  Network net = two_layers();
  apply_bits(net, "w4a2");
  for (const auto& l : net.layers) {
    EXPECT_EQ(l.weight_bits, 4);
    EXPECT_EQ(l.act_bits, 2);
  }
}

TEST(Bits, OutOfRangeIsRejected) {
  Network net = two_layers();
  EXPECT_THROW(apply_bits(net, "w0a4"), core::InputError);
  EXPECT_THROW(apply_bits(net, "w4a17"), core::InputError);
}

TEST(Bits, PerLayerFileNamesUnknownLayers) {
  Network net = two_layers();
  const std::string path = ::testing::TempDir() + "bits.yaml";
  {
    std::ofstream f(path);
    f << "a: w2a2\nb: {weight_bits: 3, act_bits: 5}\n";
  }
  apply_bits(net, path);
  EXPECT_EQ(net.layers[0].weight_bits, 2);
  EXPECT_EQ(net.layers[1].weight_bits, 3);
  EXPECT_EQ(net.layers[1].act_bits, 5);
  {
    std::ofstream f(path);
    f << "zz: w2a2\na: {weight_bits: 99}\n";
  }
  try {
    apply_bits(net, path);
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("zz: no such layer"), std::string::npos);
    EXPECT_NE(e.problems()[1].find("a.weight_bits: 99 is outside 1..16"), std::string::npos);
  }
  std::remove(path.c_str());
}

// Keys and values of any YAML shape are named in the message, not thrown as yaml-cpp's own
// conversion error (found by fuzzing: a sequence as a key).
TEST(Bits, PerLayerFileOfOddShapesNamesEachProblem) {
  Network net = two_layers();
  try {
    apply_bits_text(net, "[a, b]: w4a4\na: {[x]: 4}\nb: [1]\n", "odd.yaml");
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 3u);
    EXPECT_NE(e.problems()[0].find("odd.yaml: line 1: a key must be a layer name, not '[a, b]'"),
              std::string::npos)
        << e.problems()[0];
    EXPECT_NE(e.problems()[1].find("a.[x]: unknown key"), std::string::npos) << e.problems()[1];
    EXPECT_NE(e.problems()[2].find("b: '[1]', expected wXaY"), std::string::npos)
        << e.problems()[2];
  }
}

}  // namespace hao::ir

namespace hao::ir {

// A conv, an activation and an add feeding two weighted layers: the element-wise layers take
// the widest input precision of the weighted layers they reach; a file naming one keeps it.
TEST(Bits, ElementwiseLayersFollowTheLayersTheyFeed) {
  const std::string text = R"(
name: fan
input: {channels: 2, height: 4, width: 4}
defaults: {weight_bits: 4, act_bits: 4}
layers:
  - {name: a, op: conv, out_channels: 2, kernel: 1}
  - {name: a_relu, op: relu}
  - {name: b, op: conv, out_channels: 2, kernel: 1}
  - {name: sum, op: add, inputs: [a_relu, b]}
  - {name: c, op: conv, out_channels: 2, kernel: 1}
  - {name: pool, op: global_avgpool}
)";
  Network net = parse_description(text, "fan.yaml");
  const std::string path = ::testing::TempDir() + "fan_bits.yaml";
  {
    std::ofstream f(path);
    f << "b: w8a8\nc: w2a2\n";
  }
  apply_bits(net, path);
  const auto act = [&](const char* name) {
    return net.layers[static_cast<std::size_t>(net.find(name))].act_bits;
  };
  EXPECT_EQ(act("a_relu"), 8);  // feeds b (8) and, through sum, c (2)
  EXPECT_EQ(act("sum"), 2);     // feeds c only
  EXPECT_EQ(act("pool"), 4);    // feeds nothing weighted: unchanged
  {
    std::ofstream f(path);
    f << "c: w2a2\nsum: w4a6\n";
  }
  Network kept = parse_description(text, "fan.yaml");
  apply_bits(kept, path);
  EXPECT_EQ(kept.layers[static_cast<std::size_t>(kept.find("sum"))].act_bits, 6);
  EXPECT_EQ(kept.layers[static_cast<std::size_t>(kept.find("a_relu"))].act_bits, 6);
}

}  // namespace hao::ir
