#include "predict/arch_features.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.hpp"

namespace hao::predict {
namespace {

const std::string kAnb =
    "b0:e6,k3,l1,se0;b1:e1,k5,l3,se0;b2:e6,k3,l2,se0;b3:e6,k3,l1,se0;b4:e4,k3,l2,se0;"
    "b5:e6,k5,l1,se1;b6:e4,k5,l2,se0";

double feature(Space space, const std::string& arch, const std::string& name) {
  const std::vector<double> f = arch_features(space, arch, "test");
  const std::vector<std::string> names = arch_feature_names(space);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return f[i];
  ADD_FAILURE() << "no feature " << name;
  return -1;
}

}  // namespace

TEST(ArchFeatures, NamesMatchValues) {
  for (Space space : {Space::kAnb, Space::kNb201}) {
    const std::string arch =
        space == Space::kAnb ? kAnb
                             : "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|";
    EXPECT_EQ(arch_features(space, arch, "t").size(), arch_feature_names(space).size());
  }
  EXPECT_EQ(arch_feature_names(Space::kNb201).size(), 66u);
  EXPECT_EQ(arch_feature_names(Space::kAnb).size(), 70u);
}

TEST(ArchFeatures, OneHotIsTheOperatorsAlone) {
  const std::string arch = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|";
  const std::vector<double> all = arch_features(Space::kNb201, arch, "t");
  const std::vector<double> onehot = arch_features(Space::kNb201, arch, "t", Encoding::kOneHot);
  ASSERT_EQ(onehot.size(), 30u);
  EXPECT_EQ(arch_feature_names(Space::kNb201, Encoding::kOneHot).size(), 30u);
  EXPECT_TRUE(std::equal(onehot.begin(), onehot.end(), all.begin()));
  EXPECT_DOUBLE_EQ(std::accumulate(onehot.begin(), onehot.end(), 0.0), 6.0);  // one per edge
  EXPECT_EQ(arch_features(Space::kAnb, kAnb, "t", Encoding::kOneHot),
            arch_features(Space::kAnb, kAnb, "t"));
  EXPECT_EQ(parse_encoding("onehot"), Encoding::kOneHot);
  EXPECT_THROW(parse_encoding("graph"), core::InputError);
}

TEST(ArchFeatures, AnbIsOneHotPerBlock) {
  const std::vector<double> f = arch_features(Space::kAnb, kAnb, "t");
  // Per block: one expansion, one kernel, one layer count, and se (0 or 1).
  EXPECT_DOUBLE_EQ(std::accumulate(f.begin(), f.end(), 0.0), 7 * 3 + 1);
  EXPECT_EQ(feature(Space::kAnb, kAnb, "b1:e1"), 1);
  EXPECT_EQ(feature(Space::kAnb, kAnb, "b1:l3"), 1);
  EXPECT_EQ(feature(Space::kAnb, kAnb, "b5:se"), 1);
  EXPECT_EQ(feature(Space::kAnb, kAnb, "b6:se"), 0);
}

// The cell 1<-0 conv3, 2<-0 none, 2<-1 none, 3<-0 skip, 3<-1 none, 3<-2 none: node 2 only ever
// holds zeros and the conv on 1<-0 feeds nothing the output sees.
TEST(ArchFeatures, Nb201MarksDeadEdgesAndZeroNodes) {
  const std::string arch = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|";
  EXPECT_EQ(feature(Space::kNb201, arch, "1<-0 nor_conv_3x3"), 1);
  EXPECT_EQ(feature(Space::kNb201, arch, "live 1<-0 nor_conv_3x3"), 0);
  EXPECT_EQ(feature(Space::kNb201, arch, "live 1<-0 none"), 1);
  EXPECT_EQ(feature(Space::kNb201, arch, "live 3<-0 skip_connect"), 1);
  EXPECT_EQ(feature(Space::kNb201, arch, "node 1 zero"), 0);
  EXPECT_EQ(feature(Space::kNb201, arch, "node 2 zero"), 1);
  EXPECT_EQ(feature(Space::kNb201, arch, "node 3 zero"), 0);
  EXPECT_EQ(feature(Space::kNb201, arch, "node 2 depends on input"), 0);
  EXPECT_EQ(feature(Space::kNb201, arch, "node 3 depends on input"), 1);
}

// A pool of a zero node is zero; a convolution of one is its batch norm's shift, not zero, but
// still does not depend on the input.
TEST(ArchFeatures, Nb201ZeroPropagation) {
  const std::string pooled = "|none~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|";
  EXPECT_EQ(feature(Space::kNb201, pooled, "node 3 zero"), 1);
  const std::string conv = "|none~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|";
  EXPECT_EQ(feature(Space::kNb201, conv, "node 3 zero"), 0);
  EXPECT_EQ(feature(Space::kNb201, conv, "node 3 depends on input"), 0);
}

TEST(ArchFeatures, BadGenotypesAreInputErrors) {
  EXPECT_THROW(arch_features(Space::kNb201, "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "t"),
               core::InputError);
  EXPECT_THROW(arch_features(Space::kAnb, "b0:e5,k3,l1,se0", "t"), core::InputError);
}

}  // namespace hao::predict
