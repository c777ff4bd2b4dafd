// hao search --strategy autoshrink as a user runs it: a short trajectory, resumed, and bad use
// (label `torch`: every candidate is trained).
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/csv.hpp"
#include "data/images.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;

}  // namespace

TEST(AutoShrinkTorch, ShortTrajectoryResumesAndRejectsOtherSettings) {
  if (!std::filesystem::exists(data::kFashionMnistDir)) GTEST_SKIP() << "no Fashion-MNIST";
  const std::string dir = ::testing::TempDir() + "autoshrink_cli";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto search = [&](const std::string& budget, const std::string& k) {
    return hao({"search",
                "--space",
                "fmnist-autoshrink",
                "--strategy",
                "autoshrink",
                "--budget",
                budget,
                "--shrink-candidates",
                k,
                "--storage",
                dir + "/s.db",
                "--out",
                dir + "/report",
                "--train-steps",
                "3",
                "--subset",
                "640",
                "--finalists",
                "1",
                "--final-qat-steps",
                "1",
                "--sensitivity-probes",
                "1",
                "--threads",
                "1"});
  };
  const HaoRun first = search("4", "3");
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_NE(first.err.find("(the fully connected cell)"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("(iteration 1: without edge e"), std::string::npos) << first.err;
  EXPECT_NE(first.out.find("AutoShrink's trajectory (incomplete"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("best cell: "), std::string::npos) << first.out;
  const core::CsvTable t = core::read_csv(dir + "/report/autoshrink_trajectory.csv");
  ASSERT_EQ(t.rows.size(), 2u);  // the full cell, and iteration 1's choice among its 3
  EXPECT_EQ(t.rows[0][t.column("edges")], "10");
  EXPECT_EQ(t.rows[0][t.column("cell")], "sep3:0;conv1:0,1;sep3:0,1,2;conv1:0,1,2,3");

  const HaoRun more = search("5", "3");  // resumed: iteration 2's first candidate
  ASSERT_EQ(more.code, kExitOk) << more.err;
  EXPECT_NE(more.out.find("resuming study"), std::string::npos) << more.out;
  EXPECT_NE(more.err.find("[5/5]"), std::string::npos) << more.err;
  EXPECT_NE(more.err.find("(iteration 2: without edge e"), std::string::npos) << more.err;

  const HaoRun other = search("6", "4");  // another k replays another trajectory: refused
  EXPECT_EQ(other.code, kExitBadInput) << other.err;
  const HaoRun mbv2 = hao({"search", "--strategy", "autoshrink", "--storage", dir + "/m.db"});
  EXPECT_EQ(mbv2.code, kExitBadInput);
  EXPECT_NE(mbv2.err.find("it needs a space of kind autoshrink"), std::string::npos) << mbv2.err;
}

}  // namespace hao::cli
