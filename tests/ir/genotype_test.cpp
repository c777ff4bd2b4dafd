#include "ir/genotype.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "support.hpp"

namespace hao::ir {
namespace {

const std::string kData = HAO_SHARED_DATA;

// Splits one CSV line, honouring double quotes.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"')
      quoted = !quoted;
    else if (c == ',' && !quoted)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// Accel-NASBench's MAC column counts, besides conv and fc MACs, four operations per element
// of every batch-normalized conv output (batch norm and activation) and one per element
// entering a global pooling. (A linear fit over the 513 rows recovers these coefficients
// exactly, and hao's conv MACs with coefficient 1.)
double anb_style_macs(const Network& net) {
  double m = 0;
  for (const auto& l : net.layers) {
    m += static_cast<double>(l.macs());
    if (l.op == OpKind::kConv && l.folded_norm) m += 4.0 * static_cast<double>(l.out.elements());
    if (l.op == OpKind::kGlobalAvgPool) m += static_cast<double>(l.in.elements());
  }
  return m;
}

}  // namespace

TEST(Genotype, AnbMatchesTheMeasuredTableOnEveryRow) {
  const std::string path = kData + "/accel-nasbench/calibration.csv";
  if (test::missing_data(path)) GTEST_SKIP() << "reference data not found: " << path;
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  const auto header = csv_fields(line);
  std::size_t arch_col = 0, macs_col = 0, params_col = 0;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "arch_mnasnet_blocks") arch_col = i;
    if (header[i] == "macs_M") macs_col = i;
    if (header[i] == "params_M") params_col = i;
  }
  int rows = 0;
  double worst_macs = 0, worst_params = 0;
  while (std::getline(f, line)) {
    const auto fields = csv_fields(line);
    const Network net = expand_anb(fields[arch_col], "row " + std::to_string(rows));
    const double macs = std::stod(fields[macs_col]) * 1e6;
    const double params = std::stod(fields[params_col]) * 1e6;
    worst_macs = std::max(worst_macs, std::abs(anb_style_macs(net) - macs) / macs);
    worst_params = std::max(
        worst_params, std::abs(static_cast<double>(net.total_params_trained()) - params) / params);
    ++rows;
  }
  EXPECT_EQ(rows, 513);
  EXPECT_LT(worst_macs, 5e-4);    // squeeze-excite bookkeeping in the table differs by < 0.05%
  EXPECT_LT(worst_params, 1e-5);  // the table's six significant digits
}

TEST(Genotype, Nb201SpansThePublishedRanges) {
  const std::string path = kData + "/nb201/accuracy.csv";
  if (test::missing_data(path)) GTEST_SKIP() << "reference data not found: " << path;
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  double pmin = 1e18, pmax = 0, mmin = 1e18, mmax = 0;
  int cells = 0;
  while (std::getline(f, line)) {
    const auto fields = csv_fields(line);
    const Network net = expand_nb201(fields[1], "cell " + fields[0]);
    const auto p = static_cast<double>(net.total_params_trained());
    const auto m = static_cast<double>(net.total_macs());
    pmin = std::min(pmin, p), pmax = std::max(pmax, p);
    mmin = std::min(mmin, m), mmax = std::max(mmax, m);
    ++cells;
  }
  EXPECT_EQ(cells, 15625);
  // NAS-Bench-201 (Dong and Yang, ICLR 2020), CIFAR-10: 0.07M to 1.53M parameters,
  // 7.8M to 220.1M FLOPs (multiply-accumulates).
  EXPECT_NEAR(pmin / 1e6, 0.07, 0.005);
  EXPECT_NEAR(pmax / 1e6, 1.53, 0.005);
  EXPECT_NEAR(mmin / 1e6, 7.8, 0.05);
  EXPECT_NEAR(mmax / 1e6, 220.1, 0.05);
}

TEST(Genotype, Nb201CellStructure) {
  const Network all3x3 = expand_nb201(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_"
      "3x3~2|",
      "t");
  int convs = 0;
  for (const auto& l : all3x3.layers) convs += l.op == OpKind::kConv;
  EXPECT_EQ(convs, 1 + 15 * 6 + 2 * 3);  // stem, six per cell, three per reduction block
  EXPECT_EQ(all3x3.layers.back().out, (Shape{10, 1, 1}));
  // A cell whose output receives nothing computes nothing that reaches the output.
  const Network empty = expand_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "t");
  const std::int64_t stem = 3 * 9 * 16 * 32 * 32;
  const std::int64_t reduce1 = 9 * 16 * 32 * 16 * 16 + 9 * 32 * 32 * 16 * 16 + 16 * 32 * 16 * 16;
  const std::int64_t reduce2 = 9 * 32 * 64 * 8 * 8 + 9 * 64 * 64 * 8 * 8 + 32 * 64 * 8 * 8;
  EXPECT_EQ(empty.total_macs(), stem + reduce1 + reduce2 + 64 * 10);
}

// NAS-Bench-201's lastact: batch norm and ReLU after the last cell, its scale and shift counted
// as parameters (and not before any other activation).
TEST(Genotype, Nb201EndsInItsLastBatchNormAndReLU) {
  const std::string cell =
      "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
      "skip_connect~1|nor_conv_3x3~2|";
  for (const bool live : {false, true}) {
    Nb201Macro macro;
    macro.live_only = live;
    const Network net = expand_nb201(cell, "t", macro);
    std::int64_t params = 0;
    for (const auto& l : net.layers) {
      params += l.params_trained();
      if (l.op == OpKind::kAct) {
        EXPECT_EQ(l.folded_norm, l.name == "final_relu") << l.name;
      }
    }
    const Layer& last = net.layers[net.layers.size() - 3];
    EXPECT_EQ(last.name, "final_relu");
    EXPECT_EQ(last.params_trained(), 2 * 64);
    EXPECT_EQ(last.params_deployed(), 0);  // FINN's thresholds absorb it
    EXPECT_EQ(net.total_params_trained(), params);
  }
  // AutoShrink's macro network ends in its cells' own batch norms.
  for (const auto& l : expand_autoshrink("conv3:0;sep3:0,1", "t").layers)
    EXPECT_FALSE(l.op == OpKind::kAct && l.folded_norm) << l.name;
}

// NAS-Bench-201's reference network computes every op but none, also on a node that only
// holds zeros; the expansion keeps them (HW-NAS-Bench's FPGA latency counts them).
TEST(Genotype, Nb201KeepsOpsThatReadAZeroNode) {
  // Node 1 receives only none; the 1x1 conv 1->2 and the 3x3 conv 1->3 still compute.
  const Network net = expand_nb201(
      "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
      "t");
  int conv3 = 0, conv1 = 0, pools = 0;
  for (const auto& l : net.layers) {
    const bool in_cell = l.name.size() > 1 && l.name[0] == 's' && std::isdigit(l.name[1]);
    if (!in_cell) continue;  // stem, reduction blocks and head excluded
    conv3 += l.op == OpKind::kConv && l.kernel_h == 3;
    conv1 += l.op == OpKind::kConv && l.kernel_h == 1;
    pools += l.op == OpKind::kAvgPool;
  }
  EXPECT_EQ(conv3, 15 * 2);
  EXPECT_EQ(conv1, 15 * 1);
  EXPECT_EQ(pools, 15 * 1);
}

// For training, the cell computes only its live edges; the same cell on Fashion-MNIST images.
TEST(Genotype, Nb201TrainableComputesLiveEdgesOnly) {
  // Node 1 receives only none: the 1x1 conv 1->2 and the 3x3 conv 1->3 read zeros and go.
  const std::string arch =
      "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|";
  const Network net = genotype_model("nb201:" + arch, {1, 28, 28}, 10);
  int conv3 = 0, conv1 = 0, pools = 0;
  for (const auto& l : net.layers) {
    const bool in_cell = l.name.size() > 1 && l.name[0] == 's' && std::isdigit(l.name[1]);
    if (!in_cell) continue;
    conv3 += l.op == OpKind::kConv && l.kernel_h == 3;
    conv1 += l.op == OpKind::kConv && l.kernel_h == 1;
    pools += l.op == OpKind::kAvgPool;
  }
  EXPECT_EQ(conv3, 15);  // 2<-0 only
  EXPECT_EQ(conv1, 0);
  EXPECT_EQ(pools, 15);
  EXPECT_EQ(net.input, (Shape{1, 28, 28}));
  EXPECT_EQ(net.layers.back().out, (Shape{10, 1, 1}));
  // Stages at 28, 14 and 7 pixels.
  for (const auto& l : net.layers) {
    if (l.name == "reduce2_add") {
      EXPECT_EQ(l.out, (Shape{64, 7, 7}));
    }
  }
  EXPECT_LT(net.total_macs(), expand_nb201(arch, "t").total_macs());
  EXPECT_TRUE(is_genotype_model("nb201:" + arch));
  EXPECT_FALSE(is_genotype_model("model.onnx"));
}

TEST(Genotype, Nb201CutCellIsBadInput) {
  // 3<-0, 3<-1 and 3<-2 are none, or read node 2 which nothing reaches: no input-output path.
  for (const std::string cut :
       {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"}) {
    try {
      genotype_model("nb201:" + cut, {3, 32, 32}, 10);
      ADD_FAILURE() << cut;
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("no path from input to output"), std::string::npos);
    }
    EXPECT_NO_THROW(expand_nb201(cut, "t"));  // the reference network still prices it
  }
  EXPECT_THROW(genotype_model("nb201:" + std::string("|none~0|"), {3, 32, 32}, 10),
               core::InputError);
  EXPECT_THROW(
      genotype_model("nb201:|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
                     {3, 4, 4}, 10),
      core::InputError);  // too small an input
}

// An AutoShrink cell: node 1 sep3(input), node 2 conv1(input ++ node 1), node 3 sep3(node 1 ++
// node 2), node 4 conv1(input ++ node 3). Leaves: node 4 only (node 3 feeds it).
TEST(Genotype, AutoShrinkCellStructure) {
  const Network net =
      genotype_model("autoshrink:sep3:0;conv1:0,1;sep3:1,2;conv1:0,3", {1, 28, 28}, 10);
  const auto count = [&](const std::string& prefix, OpKind op) {
    int k = 0;
    for (const auto& l : net.layers) k += l.name.rfind(prefix, 0) == 0 && l.op == op;
    return k;
  };
  EXPECT_EQ(count("s0c0_", OpKind::kConcat), 3);        // nodes 2, 3 and 4 read two nodes each
  EXPECT_EQ(count("s0c0_", OpKind::kConv), 2 * 2 + 2);  // two separable (dw + pw), two 1x1
  EXPECT_EQ(count("s0c0_combine", OpKind::kConv), 0);   // one leaf: no combine
  int seen = 0;
  for (const auto& l : net.layers) {
    if (l.name == "s0c0_n2_concat") {
      EXPECT_EQ(l.out, (Shape{32, 28, 28}));
      ++seen;
    }
    if (l.name == "s2c0_n4_conv") {
      EXPECT_EQ(l.out, (Shape{64, 7, 7}));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(net.layers.back().out, (Shape{10, 1, 1}));
  // Two leaves (nodes 2 and 3) are concatenated and combined back to the width.
  const Network two = expand_autoshrink("sep3:0;conv1:0;sep3:1", "t");
  int combines = 0;
  for (const auto& l : two.layers)
    combines += l.name.find("_combine") != std::string::npos && l.op == OpKind::kConv;
  EXPECT_EQ(combines, 3);  // one per cell, three stages of one cell
  // A node no path reaches is dropped with its edges.
  const Network dropped = expand_autoshrink("sep3:;conv1:0,1", "t");
  for (const auto& l : dropped.layers) EXPECT_EQ(l.name.find("_n1_"), std::string::npos) << l.name;
  AutoShrinkMacro deep;
  deep.cells_per_stage = 2;
  EXPECT_GT(expand_autoshrink("sep3:0", "t", deep).total_macs(),
            expand_autoshrink("sep3:0", "t").total_macs());
}

TEST(Genotype, AutoShrinkBadCellsAreNamed) {
  const auto message = [](const std::string& cell) {
    try {
      expand_autoshrink(cell, "cells.csv: line 4");
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("sep3:0;conv7:0").find("node 2: 'conv7:0', expected OP:PREDS"),
            std::string::npos);
  EXPECT_NE(message("sep3:0;conv1:2").find("node 2: predecessor '2'"), std::string::npos);
  EXPECT_NE(message("sep3:0;conv1:0,0").find("given twice"), std::string::npos);
  EXPECT_NE(message("sep3:;conv1:1").find("no node that a path from the input reaches"),
            std::string::npos);
  EXPECT_NE(message("").find("no nodes"), std::string::npos);
  std::string huge = "conv1:0";
  for (int i = 1; i <= 100; ++i) huge += ";conv1:" + std::to_string(i);
  EXPECT_NE(message(huge).find("101 nodes, expected at most 100"), std::string::npos);
  EXPECT_NE(message("sep3:0;conv1:\xb5").find("predecessor"), std::string::npos);
  EXPECT_TRUE(message("sep3:0").empty());
}

TEST(Genotype, BadTokensAreNamed) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string ok =
      "b0:e6,k3,l1,se0;b1:e1,k5,l3,se0;b2:e6,k3,l2,se0;b3:e6,k3,l1,se0;"
      "b4:e4,k3,l2,se0;b5:e6,k5,l1,se0;b6:e4,k5,l2,se0";
  // The valid one expands into a network whose last layer is the 1x1 classifier.
  const Network valid = expand_anb(ok, "t");
  EXPECT_GT(valid.layers.size(), 12u * 3);  // 12 blocks of at least three layers
  EXPECT_EQ(valid.layers.back().out.h, 1);
  EXPECT_EQ(valid.layers.back().op, OpKind::kFc);
  std::string bad = ok;
  bad.replace(bad.find("e6,k3,l1"), 8, "e5,k3,l1");
  EXPECT_NE(message([&] {
              expand_anb(bad, "archs.csv: row 3");
            }).find("archs.csv: row 3: b0:e5,k3,l1,se0: expansion e5"),
            std::string::npos);
  EXPECT_NE(
      message([&] { expand_anb(ok.substr(0, ok.rfind(';')), "t"); }).find("block b6 is missing"),
      std::string::npos);
  EXPECT_NE(message([&] { expand_anb("b0:x", "t"); }).find("token 'b0:x'"), std::string::npos);
  // Found by fuzz_latency_model: a number too large for an int is a bad token, not a crash.
  EXPECT_NE(message([&] { expand_anb("b4:e222222222222222222224,k3,l2,se0", "t"); }).find("token"),
            std::string::npos);
  EXPECT_NE(message([&] {
              expand_nb201("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "t");
            }).find("unknown op 'conv_7x7'"),
            std::string::npos);
  EXPECT_NE(message([&] { expand_nb201("|none~0|+|none~0|", "t"); }).find("expected 3"),
            std::string::npos);
}

}  // namespace hao::ir
