#include "hw/engine.hpp"

#include <gtest/gtest.h>

#include "ir/genotype.hpp"
#include "ir/onnx_import.hpp"
#include "support.hpp"

namespace hao::hw {

TEST(EngineTerms, ConvAndDepthwiseCyclesFollowTheEngineShape) {
  ir::Network net;
  net.input = {20, 10, 10};
  net.layers.push_back(test::conv("pw", ir::kNetworkInput, 40, 1));
  net.layers.push_back(test::simple("relu", ir::OpKind::kAct, {0}));
  net.layers.push_back(test::conv("dw", 1, 40, 3, 2, 40));
  ir::infer_shapes(net, "t");
  const EngineTerms t = engine_terms(net, {8, 16, 16});
  // pointwise: ceil(100/8) * ceil(20/16) * ceil(40/16) * 1 = 13 * 2 * 3
  EXPECT_DOUBLE_EQ(t.conv_cycles, 13 * 2 * 3);
  // depthwise 3x3 stride 2 -> 5x5: ceil(25/8) * ceil(40/16) * 9 = 4 * 3 * 9
  EXPECT_DOUBLE_EQ(t.dw_cycles, 4 * 3 * 9);
  EXPECT_DOUBLE_EQ(t.weight_bytes, 20 * 40 + 40 * 9);  // 8-bit weights
  EXPECT_DOUBLE_EQ(t.engine_layers, 2);                // the ReLU runs fused in the conv
  EXPECT_EQ(t.placement[1], Placement::kFused);
  EXPECT_DOUBLE_EQ(t.fmap_bytes, (2000 + 4000) + (4000 + 1000));
}

TEST(EngineTerms, SqueezeExciteRunsOnTheHost) {
  const std::string plain =
      "b0:e1,k3,l1,se0;b1:e4,k3,l1,se0;b2:e4,k3,l1,se0;b3:e4,k3,l1,se0;"
      "b4:e4,k3,l1,se0;b5:e4,k3,l1,se0;b6:e4,k3,l1,se0";
  std::string with_se = plain;
  with_se.replace(with_se.find("b2:e4,k3,l1,se0"), 15, "b2:e4,k3,l1,se1");
  const EngineTerms a = engine_terms(ir::expand_anb(plain, "t"), kDpuB4096);
  const EngineTerms b = engine_terms(ir::expand_anb(with_se, "t"), kDpuB4096);
  EXPECT_EQ(a.host_regions, 0);
  EXPECT_EQ(b.host_regions, 1);
  // b2's first layer: 24 channels in, expanded to 96 at 28x28 after the stride.
  EXPECT_DOUBLE_EQ(b.host_elements, 96 * 28 * 28);
  EXPECT_DOUBLE_EQ(b.host_pixels, 28 * 28);
  EXPECT_DOUBLE_EQ(b.host_macs, 2 * 96 * 6);       // reduce to int(24/4) = 6 and back
  EXPECT_DOUBLE_EQ(b.conv_cycles, a.conv_cycles);  // the engine's work is unchanged
  EXPECT_DOUBLE_EQ(b.engine_layers, a.engine_layers);
}

// PyTorch's EfficientNet-B0: every squeeze-excite region (global pooling, reduce conv, SiLU,
// expand conv, sigmoid, multiply) goes to the host, every other SiLU runs in its conv's output
// stage. Each SiLU is one layer since the import reads Mul(x, Sigmoid(x)) so; as two, the
// reduce conv's SiLU was a two-input multiply that hid the region's pooling.
TEST(EngineTerms, EfficientNetsSqueezeExciteOnTheHostItsSilusInTheirConvs) {
  const ir::Network net = ir::read_onnx(std::string(HAO_FIXTURES) + "/efficientnet_b0.onnx");
  const EngineTerms t = engine_terms(net, kDpuB4096);
  EXPECT_EQ(t.host_regions, 16);
  int fused = 0, on_host = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    if (net.layers[i].op == ir::OpKind::kAct && net.layers[i].act == ir::ActKind::kSilu) {
      fused += t.placement[i] == Placement::kFused;
      on_host += t.placement[i] == Placement::kHost;
    }
  EXPECT_EQ(fused, 33);    // the stem, 15 expansions, 16 depthwise convs, the head
  EXPECT_EQ(on_host, 16);  // each squeeze-excite's reduction
}

}  // namespace hao::hw
