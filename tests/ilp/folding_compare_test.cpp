#include "ilp/folding_compare.hpp"

#include <gtest/gtest.h>

#include "finn_designs.hpp"
#include "hw/greedy_folding.hpp"
#include "support.hpp"

namespace hao::ilp {

// Every finn-examples design beside hao's optimum within its resources and FINN's SetFolding
// at its II: hao's design never spends more of any resource than the file's and is at least as
// fast (the target), the separate-thresholds builds of MobileNet-v1 included.
TEST(FoldingCompare, WithinAFinnDesignsResourcesHaoIsAtLeastAsFast) {
  for (const test::FinnDesign& d : test::kFinnDesigns) {
    SCOPED_TRACE(std::string(d.name) + " " + d.folding);
    if (test::missing_data(d.folding_path())) GTEST_SKIP();
    const ir::Network net = d.network();
    const hw::Device device = d.device_at_clock();
    const hw::FoldingFile file = hw::read_folding(d.folding_path(), net, device);
    const FoldingComparison c = compare_with_folding(net, device, file, {});
    ASSERT_FALSE(c.optimal.configs.empty()) << c.optimal.reason;
    EXPECT_TRUE(fits(c.optimal.eval.total, c.given.eval.total));
    EXPECT_GE(c.optimal.eval.fps, c.given.eval.fps);
    // SetFolding is asked for the file's II and, resource-blind, reaches it where it can: but
    // it folds a Pool or VVAU by its own cycles and gives the window unit before it the same
    // lanes, which may leave that unit the bottleneck (FINN's rule does the same).
    const int slow = c.set_folding.eval.bottleneck;
    ASSERT_GE(slow, 0);
    const hw::LayerCost& slowest = c.set_folding.eval.layers[static_cast<std::size_t>(slow)];
    const bool tied_window_unit =
        hw::engine_kind(net.layers[static_cast<std::size_t>(slow)]) != hw::EngineKind::kMvau &&
        hw::slowest_node(slowest, {hw::FinnOp::kSwu}) == slowest.cycles;
    if (!tied_window_unit) {
      EXPECT_LE(c.set_folding.eval.ii_cycles,
                std::max(c.given.eval.ii_cycles, hw::evaluate_dataflow(net, hw::greedy_fold(net, 1),
                                                                       device, {}, file.extras)
                                                     .ii_cycles));
    }
  }
}

}  // namespace hao::ilp
