#include "ir/description_io.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::ir {
namespace {

const char* kValid = R"(
name: tiny
input: {channels: 3, height: 8, width: 8, bits: 8}
layers:
  - {name: c1, op: conv, out_channels: 8, kernel: 3, stride: 1, padding: 1}
  - {name: r1, op: relu}
  - {name: dw, op: conv, depthwise: true, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [r1, dw]}
  - {name: pool, op: maxpool, kernel: 2}
  - {name: gap, op: global_avgpool}
  - {name: fc, op: fc, out_channels: 10, bias: true}
)";

std::string first_problem(const std::string& text) {
  try {
    parse_description(text, "net.yaml");
  } catch (const core::InputError& e) {
    return e.problems().front();
  }
  return "";
}

}  // namespace

TEST(Description, ParsesShapesAndCounts) {
  Network net = parse_description(kValid, "net.yaml");
  ASSERT_EQ(net.layers.size(), 7u);
  EXPECT_EQ(net.layers[0].out, (Shape{8, 8, 8}));
  EXPECT_TRUE(net.layers[2].is_depthwise());
  EXPECT_EQ(net.layers[2].groups, 8);
  EXPECT_EQ(net.layers[4].out, (Shape{8, 4, 4}));  // pooling stride defaults to the kernel
  EXPECT_EQ(net.layers[6].out, (Shape{10, 1, 1}));
  // MACs counted by hand: 3x3x3x8 per pixel x 64, depthwise 9x8x64, fc 8x10
  EXPECT_EQ(net.total_macs(), 27 * 8 * 64 + 9 * 8 * 64 + 80);
  EXPECT_EQ(net.layers[6].params_deployed(), 90);
}

TEST(Description, RoundTripsThroughYamlAndJson) {
  Network net = parse_description(kValid, "net.yaml");
  net.layers[0].weight_bits = 4;
  net.layers[1].folded_norm = true;  // a batch norm before the ReLU
  for (const std::string& text : {to_yaml(net), to_json(net)}) {
    Network back = parse_description(text, "round trip");
    ASSERT_EQ(back.layers.size(), net.layers.size()) << text;
    for (std::size_t i = 0; i < net.layers.size(); ++i) {
      EXPECT_EQ(back.layers[i].name, net.layers[i].name);
      EXPECT_EQ(back.layers[i].out, net.layers[i].out) << net.layers[i].name;
      EXPECT_EQ(back.layers[i].inputs, net.layers[i].inputs);
      EXPECT_EQ(back.layers[i].weight_bits, net.layers[i].weight_bits);
      EXPECT_EQ(back.layers[i].folded_norm, net.layers[i].folded_norm) << net.layers[i].name;
      EXPECT_EQ(back.layers[i].macs(), net.layers[i].macs());
    }
  }
}

TEST(Description, BuiltInExampleParses) {
  Network net = read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  EXPECT_EQ(net.input, (Shape{1, 28, 28}));
  EXPECT_EQ(net.layers.back().out, (Shape{10, 1, 1}));
  EXPECT_GT(net.total_macs(), 1000000);
}

// HiGHS-style: break one field at a time; each must be reported with file, path and value.
TEST(Description, EachBrokenFieldIsNamed) {
  struct Case {
    std::string from, to, expect;
  };
  const std::vector<Case> cases = {
      {"stride: 1, padding: 1}", "stride: 0, padding: 1}",
       "layers[0] 'c1': stride = 0x0, expected >= 1"},
      {"out_channels: 8,", "out_channels: eight,",
       "layers[0] 'c1'.out_channels: 'eight' is not an integer"},
      {"op: relu", "op: relux", "unknown op 'relux'"},
      {"inputs: [r1, dw]", "inputs: [r1, nope]", "'nope' is not an earlier layer"},
      {"channels: 3", "channels: -3", "input: shape -3x8x8"},
      {"kernel: 2}", "kernel: 2, colour: red}", "layers[4] 'pool'.colour: unknown key"},
      {"{name: fc, op: fc, out_channels: 10, bias: true}", "{name: fc, op: fc, bias: true}",
       "out_channels: missing"},
      {"name: c1,", "name: r1,", "duplicate name"},
      {"height: 8", "height: 1", "kernel is larger than the padded input"},
      {"op: maxpool, kernel: 2}", "op: maxpool, kernel: 2, folded_norm: true}",
       "layers[4] 'pool'.folded_norm: only a conv, an fc or an activation"},
  };
  for (const auto& c : cases) {
    std::string text = kValid;
    const auto pos = text.find(c.from);
    ASSERT_NE(pos, std::string::npos) << c.from;
    text.replace(pos, c.from.size(), c.to);
    const std::string problem = first_problem(text);
    EXPECT_NE(problem.find(c.expect), std::string::npos) << "got: " << problem;
    EXPECT_EQ(problem.rfind("net.yaml", 0), 0u) << problem;
  }
}

TEST(Description, MalformedYamlGivesLineAndColumn) {
  const std::string problem = first_problem("name: x\nlayers: [\n");
  EXPECT_NE(problem.find("net.yaml: line"), std::string::npos) << problem;
  EXPECT_NE(first_problem("- just\n- a list\n").find("expected a map"), std::string::npos);
  EXPECT_NE(first_problem("name: x\ninput: {channels: 1, height: 2, width: 2}\n").find("layers"),
            std::string::npos);
}

}  // namespace hao::ir
