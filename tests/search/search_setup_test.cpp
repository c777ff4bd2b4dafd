#include "search/search_setup.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "search/mbv2_domain.hpp"

namespace hao::search {
namespace {

SearchRequest request(const std::string& space) {
  SearchRequest r;
  r.space = space;
  r.data_dir = HAO_SHARED_DATA;
  return r;
}

std::string refusal(const SearchRequest& r) {
  try {
    prepare_search(r, hw::load_device("zu3eg"));
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

// One study per space, strategy, evaluator, target and seed; the budget by what a judgement
// costs.
TEST(SearchSetup, ResolvesTheEvaluatorBudgetAndStudyName) {
  const hw::Device zu3eg = hw::load_device("zu3eg");
  const SearchSetup table = prepare_search(request("nb201"), zu3eg);
  EXPECT_TRUE(table.tabular);
  EXPECT_FALSE(table.supernet);
  EXPECT_EQ(table.study.budget, kTabularBudget);
  EXPECT_EQ(table.study.name, "nb201-hao-s1");
  ASSERT_NE(table.evaluator, nullptr);
  EXPECT_EQ(table.network(), nullptr);

  const SearchSetup mbv2 = prepare_search(request("fmnist-mbv2"), zu3eg);
  EXPECT_TRUE(mbv2.supernet);  // the default evaluator on mbv2 spaces
  EXPECT_EQ(mbv2.study.budget, kSupernetBudget);
  EXPECT_EQ(mbv2.study.name, "fmnist-mbv2-hao-supernet-zu3eg-s1");
  EXPECT_EQ(mbv2.evaluator, nullptr);  // the caller's, built for this study
  ASSERT_NE(mbv2.network(), nullptr);
  EXPECT_EQ(mbv2.target_text, ", device zu3eg");

  SearchRequest scratch = request("fmnist-mbv2");
  scratch.evaluator = "scratch";
  scratch.study.seed = 3;
  scratch.study.strategy = "random";
  const SearchSetup s = prepare_search(scratch, zu3eg);
  EXPECT_FALSE(s.supernet);
  EXPECT_EQ(s.study.budget, kScratchBudget);
  EXPECT_EQ(s.study.name, "fmnist-mbv2-random-zu3eg-s3");

  SearchRequest engine = request("fmnist-mbv2");
  engine.target = "engine";
  engine.budget = 7;
  const SearchSetup e = prepare_search(engine, zu3eg);
  EXPECT_EQ(e.study.budget, 7);
  EXPECT_EQ(e.study.name, "fmnist-mbv2-hao-supernet-engine-zu3eg-s1");
  EXPECT_EQ(e.network()->target().name, "engine");

  // The host CPU comes from the caller (LibTorch measures it); the study is the CPU's.
  SearchRequest cpu = request("fmnist-mbv2");
  cpu.target = "cpu";
  int asked = 0;
  cpu.host_cpu = [&](const Mbv2Domain&) {
    ++asked;
    LatencyTarget t;
    t.name = "cpu";
    return t;
  };
  const SearchSetup c = prepare_search(cpu, zu3eg);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(c.study.name, "fmnist-mbv2-hao-supernet-cpu-s1");
  EXPECT_EQ(c.target_text, ", target the host CPU");
  EXPECT_EQ(c.network()->target().name, "cpu");

  SearchRequest named = request("fmnist-mbv2");
  named.study.name = "mine";
  EXPECT_EQ(prepare_search(named, zu3eg).study.name, "mine");
}

// Options that cannot apply to the space: one message naming the option, before anything runs.
TEST(SearchSetup, RefusesOptionsTheSpaceCannotTake) {
  SearchRequest r = request("fmnist-mbv2");
  r.latency_file = "x.csv", r.latency_column = "ms";
  EXPECT_NE(refusal(r).find("--latency applies to tabular spaces"), std::string::npos);

  r = request("nb201");
  r.evaluator = "supernet";
  EXPECT_NE(refusal(r).find("--evaluator supernet applies to generative spaces"),
            std::string::npos);

  r = request("fmnist-densenet");
  r.evaluator = "supernet";
  EXPECT_NE(refusal(r).find("supernets are built for mbv2 spaces only"), std::string::npos);

  r = request("fmnist-mbv2");
  r.study.warm_start = true;
  r.no_reuse = true;
  EXPECT_NE(refusal(r).find("--warm-start"), std::string::npos);

  r = request("fmnist-mbv2");
  r.evaluation_delay_s = 1;
  EXPECT_NE(refusal(r).find("--evaluation-delay applies to tabular spaces"), std::string::npos);

  r = request("fmnist-mbv2");
  r.latency_model = "m.json";
  EXPECT_NE(refusal(r).find("--latency-model prices a pinned engine"), std::string::npos);

  r = request("nb201");
  r.target = "engine";
  EXPECT_NE(refusal(r).find("a tabular space's latencies are its table's"), std::string::npos);

  r = request("nb201");
  r.budget = 100000;
  EXPECT_NE(refusal(r).find("--budget 100000 exceeds the space's"), std::string::npos);

  r = request("fmnist-mbv2");
  r.target = "cpu";  // no host_cpu: a build without LibTorch
  EXPECT_NE(refusal(r).find("--target cpu measures with LibTorch"), std::string::npos);

  r = request("fmnist-densenet");
  r.target = "cpu";
  EXPECT_NE(refusal(r).find("the host CPU's piece table is for mbv2 spaces"), std::string::npos);

  r = request("fmnist-mbv2");
  r.study.strategy = "netadapt";
  r.study.strategy_options.adapt_layers = 1000;
  EXPECT_NE(refusal(r).find("--layers"), std::string::npos);

  r = request("fmnist-mbv2");
  r.budget = -1;
  EXPECT_NE(refusal(r).find("--budget"), std::string::npos);
}

}  // namespace
}  // namespace hao::search
