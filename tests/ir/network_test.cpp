#include "ir/network.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support.hpp"

namespace hao::ir {

TEST(Network, ConvOutputFollowsOnnxFormula) {
  Network net;
  net.input = {3, 224, 224};
  net.layers.push_back(test::conv("c", kNetworkInput, 32, 3, 2));
  infer_shapes(net, "t");
  EXPECT_EQ(net.layers[0].out, (Shape{32, 112, 112}));
  EXPECT_EQ(net.layers[0].macs(), 3LL * 9 * 32 * 112 * 112);
}

TEST(Network, CeilModePoolingMatchesPyTorch) {
  Network net;
  net.input = {4, 7, 7};
  Layer p = test::simple("p", OpKind::kMaxPool, {kNetworkInput});
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  p.ceil_mode = true;
  net.layers.push_back(p);
  infer_shapes(net, "t");
  EXPECT_EQ(net.layers[0].out, (Shape{4, 4, 4}));  // torch: ceil((7-2)/2)+1 = 4
}

TEST(Network, SqueezeExciteBroadcastMultiply) {
  Network net;
  net.input = {8, 5, 5};
  net.layers.push_back(test::simple("gap", OpKind::kGlobalAvgPool, {kNetworkInput}));
  net.layers.push_back(test::conv("fc1", 0, 8, 1));
  net.layers.push_back(test::simple("mul", OpKind::kMul, {kNetworkInput, 1}));
  infer_shapes(net, "t");
  EXPECT_EQ(net.layers[2].out, (Shape{8, 5, 5}));
}

TEST(Network, MismatchedAddIsRejected) {
  Network net;
  net.input = {4, 6, 6};
  net.layers.push_back(test::conv("c", kNetworkInput, 8, 1));
  net.layers.push_back(test::simple("add", OpKind::kAdd, {kNetworkInput, 0}));
  EXPECT_THROW(infer_shapes(net, "t"), core::InputError);
}

TEST(Network, ForwardReferenceIsRejected) {
  Network net;
  net.input = {4, 6, 6};
  net.layers.push_back(test::simple("a", OpKind::kAct, {1}));
  net.layers.push_back(test::simple("b", OpKind::kAct, {kNetworkInput}));
  EXPECT_THROW(infer_shapes(net, "t"), core::InputError);
}

TEST(Network, AbsurdSizesAreRejectedNotOverflowed) {
  Network net;
  net.input = {3000000000, 3000000000, 3000000000};
  net.layers.push_back(test::conv("c", kNetworkInput, 4, 3));
  EXPECT_THROW(infer_shapes(net, "t"), core::InputError);
  // A fully connected layer over 1e12 inputs: every shape is within bounds, the MACs are not.
  Network fc;
  fc.input = {1000000, 1000, 1000};
  fc.layers.push_back(test::simple("fc", OpKind::kFc, {kNetworkInput}));
  fc.layers[0].out_channels = 2000;
  try {
    infer_shapes(fc, "t");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("MACs exceeds"), std::string::npos) << e.what();
  }
}

}  // namespace hao::ir
