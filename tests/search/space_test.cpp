#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "core/error.hpp"
#include "ir/description_io.hpp"
#include "search/dense_domain.hpp"
#include "search/mbv2_domain.hpp"
#include "search/nn_degree.hpp"
#include "search/space_spec.hpp"

namespace hao::search {
namespace {

Mbv2Domain default_domain() {
  const SpaceSpec s = load_space("fmnist-mbv2", HAO_SHARED_DATA);
  return Mbv2Domain(s.mbv2, hw::load_device("zu3eg"));
}

TEST(SpaceSpec, BuiltInSpacesLoad) {
  const SpaceSpec m = load_space("fmnist-mbv2", "data");
  EXPECT_EQ(m.kind, "mbv2");
  EXPECT_EQ(m.mbv2.stages.size(), 4u);
  EXPECT_EQ(m.mbv2.depth, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(m.mbv2.width, (std::vector<double>{0.5, 0.75, 1.0}));
  const SpaceSpec t = load_space("nb201", "data");
  EXPECT_EQ(t.kind, "tabular");
  EXPECT_EQ(t.table.accuracy_file, "data/nb201/accuracy.csv");
  EXPECT_EQ(t.table.latency_column, "fpga");
  EXPECT_EQ(load_space("anb", "d").table.space, "anb");
}

std::string problems(const std::string& yaml) {
  try {
    parse_space(yaml, "s.yaml", "data");
  } catch (const core::InputError& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    return all;
  }
  return "";
}

TEST(SpaceSpec, BadFilesNameKeyAndValue) {
  const std::string ok =
      "name: x\nkind: mbv2\nstages: [{channels: 8, stride: 1}]\n"
      "choices: {depth: [1], width: [1.0], kernel: [3], expansion: [1], bits: [8]}\n";
  EXPECT_EQ(problems(ok), "");
  EXPECT_NE(problems(ok + "colour: red\n").find("s.yaml: colour: unknown key"), std::string::npos);
  std::string empty = ok;
  empty.replace(empty.find("kernel: [3]"), 11, "kernel: []");
  EXPECT_NE(problems(empty).find("choices.kernel: expected a non-empty list"), std::string::npos);
  std::string bits = ok;
  bits.replace(bits.find("bits: [8]"), 9, "bits: [8, 1]");
  EXPECT_NE(problems(bits).find("choices.bits[1]: 1 is out of range 2..8"), std::string::npos);
  EXPECT_NE(problems("name: x\nkind: dense\n")
                .find("kind: 'dense', expected mbv2, densenet, autoshrink or tabular"),
            std::string::npos);
  EXPECT_NE(problems("name: x\nkind: tabular\ngenotype: nb201\naccuracy: {file: a.csv}\n"
                     "latency: {file: b.csv, column: c, rows: 3}\n"),
            "");
  EXPECT_NE(problems("[1, 2").find("not YAML"), std::string::npos);
  EXPECT_THROW(load_space("no-such-space", "data"), core::InputError);
}

TEST(Mbv2Domain, GenotypesRoundTripAndMapOnZu3eg) {
  const Mbv2Domain d = default_domain();
  EXPECT_EQ(d.slots().size(), 4u * (2 + 3 * 3) + 1);
  Rng rng(3);
  std::set<Genotype> seen;
  int feasible = 0;
  for (int i = 0; i < 6; ++i) {
    const Genotype g = d.random(rng);
    ASSERT_TRUE(d.valid(g));
    EXPECT_EQ(d.parse(d.label(g), "test"), g) << d.label(g);
    const ir::Network net = d.network(g);
    EXPECT_EQ(net.layers.front().weight_bits, 8);
    EXPECT_EQ(net.layers.back().weight_bits, 8);
    seen.insert(g);
    const Hardware h = d.hardware(g);
    if (!h.feasible) {
      // 8-bit activations keep 255 thresholds per channel (FINN's MultiThreshold): on the
      // zu3eg a wide stage at 8 bits runs out of block RAM.
      EXPECT_NE(h.reason.find("usable on zu3eg"), std::string::npos) << h.reason;
      continue;
    }
    ++feasible;
    EXPECT_GT(h.fps, 0);
    EXPECT_DOUBLE_EQ(d.latency_ms(g), 1000.0 / h.fps);  // the frame interval, cached
    EXPECT_GE(h.latency_ms, d.latency_ms(g));           // a pipeline is at least one frame deep
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_GE(feasible, 3);
  // A block past its stage's depth holds choice 0: snapping clears it.
  Genotype g = d.random(rng);
  g[0] = 0;          // stage 0 depth 1
  g[2 + 3 + 0] = 1;  // block 1's kernel
  EXPECT_FALSE(d.valid(g));
  EXPECT_TRUE(d.valid(d.snap(g, rng)));
  EXPECT_THROW(d.parse("s0:d1,w1", "test"), core::InputError);
}

// The screening bound against program 1 itself on networks of the default space: never
// above the exact frame interval, infeasible only where program 1 finds nothing, and close.
TEST(Mbv2Domain, LatencyBoundIsBelowProgram1AndClose) {
  const Mbv2Domain d = default_domain();
  Rng rng(11);
  int feasible = 0, tight = 0;
  double worst = 1;
  for (int i = 0; i < 16; ++i) {
    const Genotype g = d.random(rng);
    const double bound = d.latency_bound_ms(g);
    const double exact = d.latency_ms(g);
    if (bound >= kInfeasibleMs) {
      EXPECT_GE(exact, kInfeasibleMs) << d.label(g);
      continue;
    }
    EXPECT_LE(bound, exact) << d.label(g);
    if (exact >= kInfeasibleMs) continue;
    ++feasible;
    tight += bound == exact;
    worst = std::min(worst, bound / exact);
    EXPECT_EQ(d.latency_bound_ms(g), exact);  // once known, the exact figure
  }
  EXPECT_GE(feasible, 8);
  EXPECT_GE(2 * tight, feasible) << tight << " of " << feasible << " tight";  // 9 of 11
  EXPECT_GE(worst, 0.75);                                                     // 0.80
}

DenseDomain dense_domain() {
  const SpaceSpec s = load_space("fmnist-densenet", HAO_SHARED_DATA);
  return DenseDomain(s.dense, hw::load_device("zu3eg"));
}

// The pieces a CPU runs one after another (stem, blocks, head) are the network, cut: their MACs
// and weights add up to the network's, one piece per present block.
TEST(Mbv2Domain, PiecesCoverTheNetworkExactly) {
  const Mbv2Domain d = default_domain();
  for (std::uint64_t k = 0; k < 12; ++k) {
    Rng rng = rng_for(17, k);
    const Genotype g = d.random(rng);
    const ir::Network whole = d.network(g);
    std::int64_t macs = 0, weights = 0;
    std::size_t blocks = 0;
    const auto pieces = d.pieces(g);
    for (const auto& [name, description] : pieces) {
      const ir::Network piece = ir::parse_description(description, name);
      macs += piece.total_macs();
      weights += piece.total_params_trained();
      blocks += name != "stem" && name != "head";
    }
    EXPECT_EQ(macs, whole.total_macs()) << d.label(g);
    EXPECT_EQ(weights, whole.total_params_trained()) << d.label(g);
    std::size_t present = 0;
    for (std::size_t p = 0; p < d.operator_positions().size(); ++p)
      present += d.operator_present(g, p);
    EXPECT_EQ(blocks, present);
    EXPECT_EQ(pieces.front().first, "stem");
    EXPECT_EQ(pieces.back().first, "head");
  }
}

TEST(DenseSpace, LoadsAndNamesBadSkipsCellsAndKernels) {
  const SpaceSpec s = load_space("fmnist-densenet", "data");
  EXPECT_EQ(s.kind, "densenet");
  EXPECT_EQ(s.dense.cells, 3);
  EXPECT_EQ(s.dense.width, (std::vector<int>{8, 16, 24, 32}));
  const std::string ok =
      "name: x\nkind: densenet\nchoices: {width: [16, 8], depth: [3], skips: [2, 0]}\n";
  EXPECT_EQ(problems(ok), "");
  EXPECT_EQ(parse_space(ok, "s", "d").dense.width, (std::vector<int>{8, 16}));  // ascending
  EXPECT_EQ(parse_space(ok, "s", "d").dense.bits, (std::vector<int>{8}));       // the default
  std::string skips = ok;
  skips.replace(skips.find("skips: [2, 0]"), 13, "skips: [3, 0]");
  EXPECT_NE(problems(skips).find("choices.skips: 3 exceeds the earlier layers any layer can link "
                                 "to (the deepest cell, depth 3, has at most 2"),
            std::string::npos)
      << problems(skips);
  EXPECT_NE(problems(ok + "cells: 6\n").find("cells: 6 cells halve the 28x28 input 5 times"),
            std::string::npos);
  EXPECT_NE(problems(ok + "kernel: 4\n").find("kernel: 4, expected an odd size"),
            std::string::npos);
}

TEST(DenseDomain, NetworksConcatenateTheirSkipsAndMapOnZu3eg) {
  const DenseDomain d = dense_domain();
  EXPECT_EQ(d.slots().size(), 12u);
  Rng rng(5);
  int feasible = 0;
  for (int i = 0; i < 8; ++i) {
    const Genotype g = d.random(rng);
    EXPECT_EQ(d.parse(d.label(g), "test"), g) << d.label(g);
    const ir::Network net = d.network(g);
    const auto cells = d.cells(g);
    // Per cell: a transition conv, `depth` convs, a concat for each layer with links.
    std::size_t convs = 0, concats = 0, expected_concats = 0;
    for (const auto& c : cells)
      for (int j = 2; j <= c.depth; ++j) expected_concats += c.skips > 0;
    for (const auto& l : net.layers) {
      convs += l.op == ir::OpKind::kConv;
      if (l.op == ir::OpKind::kConcat) {
        ++concats;
        // Its channels: the predecessor's and one width per linked layer.
        const auto& c = cells[static_cast<std::size_t>(l.name[1] - '0')];
        const int j = std::stoi(l.name.substr(4));
        EXPECT_EQ(l.out.c, c.width * (1 + std::min(c.skips, j - 1))) << l.name;
      }
    }
    std::size_t expected_convs = 0;
    for (const auto& c : cells) expected_convs += 1 + static_cast<std::size_t>(c.depth);
    EXPECT_EQ(convs, expected_convs) << d.label(g);
    EXPECT_EQ(concats, expected_concats) << d.label(g);
    EXPECT_EQ(net.layers.back().out.c, 10);
    // NN-Degree from the network's own layers: per cell, the mean input channels of its
    // depth convs (the transition excluded), summed.
    double degree = 0;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double sum = 0;
      for (const auto& l : net.layers)
        if (l.op == ir::OpKind::kConv && l.name[1] == static_cast<char>('0' + c) &&
            l.name.substr(2, 3) != "_l0")
          sum += static_cast<double>(l.in.c);
      degree += sum / cells[c].depth;
    }
    EXPECT_NEAR(d.topology(g)->nn_degree, degree, 1e-9) << d.label(g);
    // Weights, MACs and bit operations in closed form equal the network's own counts.
    double weights = 0, macs = 0, bit_ops = 0;
    for (const auto& l : net.layers) {
      weights += static_cast<double>(l.weights());
      macs += static_cast<double>(l.macs());
      bit_ops += static_cast<double>(l.macs()) * l.weight_bits * l.act_bits;
    }
    const Topology t = *d.topology(g);
    EXPECT_NEAR(t.parameters, weights, 0.5) << d.label(g);
    EXPECT_NEAR(t.macs, macs, 0.5) << d.label(g);
    EXPECT_NEAR(t.bit_ops, bit_ops, 0.5) << d.label(g);
    const Hardware h = d.hardware(g);
    if (h.feasible) {
      ++feasible;
      EXPECT_GT(h.fps, 0);
    }
  }
  EXPECT_GE(feasible, 4);
  EXPECT_THROW(d.parse("c0:w16,d3,t1,b8", "test"), core::InputError);
  EXPECT_THROW(d.parse("c0:w15,d3,t1,b8;c1:w16,d3,t1,b8;c2:w16,d3,t1,b8", "test"),
               core::InputError);
}

TEST(SpaceMember, SpaceAndLabelBuildTheNetworkTheSearchBuilds) {
  const DenseDomain d = dense_domain();
  Rng rng(11);
  for (int i = 0; i < 4; ++i) {
    const Genotype g = d.random(rng);
    const auto net = space_member_network("fmnist-densenet:" + d.label(g));
    ASSERT_TRUE(net.has_value()) << d.label(g);
    const ir::Network want = d.network(g, "fmnist-densenet");
    ASSERT_EQ(net->layers.size(), want.layers.size());
    for (std::size_t l = 0; l < want.layers.size(); ++l) {
      EXPECT_EQ(net->layers[l].name, want.layers[l].name);
      EXPECT_EQ(net->layers[l].weights(), want.layers[l].weights());
      EXPECT_EQ(net->layers[l].weight_bits, want.layers[l].weight_bits);
      EXPECT_EQ(net->layers[l].act_bits, want.layers[l].act_bits);
    }
  }
  // A space file works as the built-in name does; an mbv2 label too.
  const Mbv2Domain m = default_domain();
  const Genotype g = m.random(rng);
  EXPECT_EQ(
      space_member_network(std::string(HAO_EXAMPLES) + "/spaces/fmnist-mbv2.yaml:" + m.label(g))
          ->layers.size(),
      m.network(g).layers.size());
  // Not of the form: left to the other readers.
  EXPECT_FALSE(space_member_network("model.onnx").has_value());
  EXPECT_FALSE(space_member_network("net.yaml").has_value());
  EXPECT_FALSE(space_member_network("C:/nets/model.onnx").has_value());
  // A label outside the space, and a table, are bad input naming what is wrong.
  try {
    space_member_network("fmnist-densenet:c0:w17,d2,t2,b4;c1:w16,d4,t0,b8;c2:w24,d1,t0,b8");
    ADD_FAILURE() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c0.width = '17'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(space_member_network("anb:0"), core::InputError);
}

// A label is user input now (a model argument): mutated labels of every generative space build
// a network or are an InputError, never another exception or a crash.
TEST(SpaceMember, MutatedLabelsAreNetworksOrInputErrors) {
  const std::string alphabet = "cdwtbk0123456789:;,|.-e /mnos";
  std::mt19937 gen(7);
  Rng rng(3);
  int built = 0, refused = 0;
  for (const std::string space :
       {"fmnist-densenet", "fmnist-mbv2", "fmnist-mbv3", "fmnist-autoshrink"}) {
    const auto domain = make_network_domain(load_space(space, ""), hw::load_device("zu3eg"));
    for (int i = 0; i < 150; ++i) {
      std::string label = domain->label(domain->random(rng));
      const int edits = 1 + static_cast<int>(gen() % 3);
      for (int e = 0; e < edits && !label.empty(); ++e) {
        const std::size_t at = gen() % label.size();
        switch (gen() % 3) {
          case 0:
            label[at] = alphabet[gen() % alphabet.size()];
            break;
          case 1:
            label.erase(at, 1 + gen() % 4);
            break;
          default:
            label.insert(at, 1, alphabet[gen() % alphabet.size()]);
        }
      }
      try {
        (void)space_member_network(space + ":" + label);
        ++built;
      } catch (const core::InputError&) {
        ++refused;
      }
    }
  }
  EXPECT_GT(built, 0);
  EXPECT_GT(refused, 0);
}

TEST(DenseDomain, WindowDegreeIsFlashsFormulaWhenEveryLayerHasItsSkips) {
  // Layer j links to min(t, j - 1) earlier layers; with t = 0 or depth 1 no layer links.
  EXPECT_DOUBLE_EQ(dense_window_cell_degree(16, 1, 3), 16);
  EXPECT_DOUBLE_EQ(dense_window_cell_degree(16, 4, 0), 16);
  // depth 4, t 1: layers 2..4 read one more layer of 16: 16 + 16 * 3 / 4.
  EXPECT_DOUBLE_EQ(dense_window_cell_degree(16, 4, 1), dense_cell_degree({16, 4, 16}));
  EXPECT_DOUBLE_EQ(dense_window_cell_degree(8, 3, 2), 8 + 8 * (0 + 1 + 2) / 3.0);
}

}  // namespace
}  // namespace hao::search
