#include "search/study.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "core/error.hpp"
#include "search/pareto.hpp"
#include "search/tabular.hpp"
#include "search/workers_check.hpp"

namespace hao::search {
namespace {

const TabularDomain& nb201() {
  static const TabularDomain domain(default_source("nb201", HAO_SHARED_DATA));
  return domain;
}

std::string fresh_store(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "hao_study_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (name + ".db")).string();
  std::filesystem::remove(path);
  return path;
}

/// A table's evaluator that dies at evaluation `fail_at` (a killed run) and counts finals.
class FlakyEvaluator : public TabularEvaluator {
 public:
  explicit FlakyEvaluator(const TabularDomain& d, int fail_at = -1)
      : TabularEvaluator(d), fail_at_(fail_at) {}
  void evaluate(const Candidate& c, store::EvaluationRecord& r) override {
    if (c.index == fail_at_) throw std::runtime_error("killed");
    TabularEvaluator::evaluate(c, r);
  }
  bool has_final() const override { return true; }
  nlohmann::json finalize(const store::EvaluationRecord& r) override {
    ++finals;
    return {{"test_accuracy", r.accuracy - 1}};
  }
  int finals = 0;

 private:
  int fail_at_;
};

StudyOptions options(const std::string& strategy, int budget) {
  StudyOptions o;
  o.name = "s";
  o.strategy = strategy;
  o.seed = 3;
  o.budget = budget;
  o.finalists = 4;
  o.predictor_quality = false;
  return o;
}

std::vector<std::string> labels(const std::vector<store::EvaluationRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.label);
  return out;
}

const StudySpace kSpace{"nb201", "tabular", "name: nb201"};

TEST(Study, AKilledAndResumedStudyEvaluatesWhatAnUninterruptedOneDoes) {
  for (const std::string strategy : {"hao", "random", "nsga2", "evolution"}) {
    SCOPED_TRACE(strategy);
    store::SqliteStudyStore whole(fresh_store("whole-" + strategy));
    TabularEvaluator plain(nb201());
    const StudyResult expected = run_study(whole, nb201(), plain, kSpace, options(strategy, 18));
    ASSERT_EQ(expected.records.size(), 18u);
    EXPECT_FALSE(expected.resumed);

    const std::string path = fresh_store("killed-" + strategy);
    {
      store::SqliteStudyStore db(path);
      FlakyEvaluator dies(nb201(), 11);
      EXPECT_THROW(run_study(db, nb201(), dies, kSpace, options(strategy, 18)), std::runtime_error);
      EXPECT_EQ(db.evaluations("s").size(), 11u);
    }
    {
      store::SqliteStudyStore db(path);  // extended in two steps: a budget may grow
      FlakyEvaluator lives(nb201());
      const StudyResult partial = run_study(db, nb201(), lives, kSpace, options(strategy, 14));
      EXPECT_TRUE(partial.resumed);
      EXPECT_EQ(partial.replayed, 11u);
      const StudyResult resumed = run_study(db, nb201(), lives, kSpace, options(strategy, 18));
      EXPECT_EQ(resumed.replayed, 14u);
      EXPECT_EQ(labels(resumed.records), labels(expected.records));
      EXPECT_EQ(resumed.observations.size(), 18u);
    }
  }
}

TEST(Study, FinalistsAreMeasuredOnceAndKeptAcrossResumes) {
  store::SqliteStudyStore db(fresh_store("finals"));
  FlakyEvaluator e(nb201());
  const StudyResult first = run_study(db, nb201(), e, kSpace, options("random", 12));
  EXPECT_EQ(first.finalists.size(), 4u);
  EXPECT_EQ(e.finals, 4);
  for (std::size_t k : first.finalists) {
    const auto note =
        nlohmann::json::parse(db.note("s", "final/" + std::to_string(first.records[k].index)));
    EXPECT_DOUBLE_EQ(note.at("test_accuracy").get<double>(), first.records[k].accuracy - 1);
  }
  const StudyResult again = run_study(db, nb201(), e, kSpace, options("random", 12));
  EXPECT_EQ(again.finalists, first.finalists);
  EXPECT_EQ(e.finals, 4);  // nothing measured twice
}

/// A table's evaluator that knows some genotypes already, as a supernet's memo does.
class KnowingEvaluator : public FlakyEvaluator {
 public:
  KnowingEvaluator(const TabularDomain& d, std::vector<std::string> known, int fail_at = -1)
      : FlakyEvaluator(d, fail_at), known_(std::move(known)) {}
  std::vector<std::string> known() const override { return known_; }

 private:
  std::vector<std::string> known_;
};

std::vector<std::string> genotypes_of(const std::vector<store::EvaluationRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.genotype);
  return out;
}

// A warm study evaluates what its evaluator knows first, in order and each once, then asks its
// strategy; killed and resumed with an evaluator that knows more by then, it evaluates what the
// whole one did (the list it began with is its note).
TEST(Study, AWarmStartEvaluatesTheKnownGenotypesFirstAndResumesAlike) {
  store::SqliteStudyStore earlier(fresh_store("warm_earlier"));
  TabularEvaluator plain(nb201());
  StudyOptions other = options("random", 6);
  other.seed = 11;
  std::vector<std::string> known =
      genotypes_of(run_study(earlier, nb201(), plain, kSpace, other).records);
  const std::string later = known.back();  // learned after the study began
  known.pop_back();
  known.push_back(known[1]);  // a genotype known twice is evaluated once
  StudyOptions warm = options("hao", 9);
  warm.warm_start = true;
  store::SqliteStudyStore whole_db(fresh_store("warm_whole"));
  KnowingEvaluator knows(nb201(), known);
  const StudyResult whole = run_study(whole_db, nb201(), knows, kSpace, warm);
  const std::vector<std::string> got = genotypes_of(whole.records);
  ASSERT_EQ(got.size(), 9u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(got[i], known[i]) << i;
  for (std::size_t i = 5; i < got.size(); ++i)
    EXPECT_EQ(std::count(got.begin(), got.end(), got[i]), 1) << i;

  store::SqliteStudyStore db(fresh_store("warm_killed"));
  KnowingEvaluator dies(nb201(), known, 3);
  EXPECT_THROW(run_study(db, nb201(), dies, kSpace, warm), std::runtime_error);
  std::vector<std::string> more = known;
  more.insert(more.begin() + 2, later);
  KnowingEvaluator lives(nb201(), more);
  const StudyResult resumed = run_study(db, nb201(), lives, kSpace, warm);
  EXPECT_EQ(genotypes_of(resumed.records), got);

  // Without the warm start it is another study.
  StudyOptions cold = warm;
  cold.warm_start = false;
  EXPECT_THROW(run_study(db, nb201(), lives, kSpace, cold), core::InputError);
}

// A warm study's list is its note; a note that is not a list of the space's genotypes (edited,
// another program's) is refused naming the study and the note, and nothing is evaluated.
TEST(Study, ADamagedWarmStartNoteIsRefusedNamingIt) {
  store::SqliteStudyStore db(fresh_store("warm_damaged"));
  TabularEvaluator plain(nb201());
  StudyOptions earlier = options("random", 4);
  earlier.name = "earlier";
  const std::vector<std::string> known =
      genotypes_of(run_study(db, nb201(), plain, kSpace, earlier).records);
  StudyOptions warm = options("hao", 9);
  warm.warm_start = true;
  KnowingEvaluator dies(nb201(), known, 2);
  EXPECT_THROW(run_study(db, nb201(), dies, kSpace, warm), std::runtime_error);
  const std::size_t stored = db.evaluations("s").size();
  ASSERT_GE(stored, 1u);
  KnowingEvaluator lives(nb201(), known);
  for (const auto& [note, expected] : std::vector<std::pair<std::string, std::string>>{
           {"not json", "note warm_start is not a list of genotypes"},
           {R"({"a": 1})", "note warm_start is not a list of genotypes"},
           {"[7]", "note warm_start holds 7, not a genotype"},
           {R"(["0,9x,1"])", "s warm start"}}) {
    db.put_note("s", "warm_start", note);
    try {
      run_study(db, nb201(), lives, kSpace, warm);
      ADD_FAILURE() << "note " << note << " accepted";
    } catch (const core::InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(expected), std::string::npos) << what;
      EXPECT_TRUE(what.find("study 's'") != std::string::npos ||
                  what.find("s warm start") != std::string::npos)
          << what;
    }
    EXPECT_EQ(db.evaluations("s").size(), stored) << note;
  }
}

TEST(Study, OtherSettingsAndDamagedRecordsAreRefusedNamingThem) {
  const std::string path = fresh_store("refused");
  store::SqliteStudyStore db(path);
  TabularEvaluator e(nb201());
  run_study(db, nb201(), e, kSpace, options("random", 3));
  StudyOptions other = options("random", 5);
  other.seed = 4;
  try {
    run_study(db, nb201(), e, kSpace, other);
    FAIL() << "other settings accepted";
  } catch (const core::InputError& err) {
    EXPECT_NE(std::string(err.what()).find("exists with other settings"), std::string::npos);
  }
  EXPECT_EQ(db.evaluations("s").size(), 3u);  // nothing written

  StudyOptions fresh = options("random", 2);
  fresh.name = "damaged";
  store::EvaluationRecord r;
  r.index = 0;
  r.genotype = "0,9x,1";
  r.label = "?";
  db.open_study("damaged", study_settings(kSpace, fresh, e).dump());
  db.add("damaged", r);
  try {
    run_study(db, nb201(), e, kSpace, fresh);
    FAIL() << "a damaged genotype replayed";
  } catch (const core::InputError& err) {
    EXPECT_NE(std::string(err.what())
                  .find("study 'damaged' evaluation 0: genotype '0,9x,1' is "
                        "damaged"),
              std::string::npos)
        << err.what();
  }
  StudyOptions bad = options("tpe", 0);
  try {
    bad.validate("hao search");
    FAIL();
  } catch (const core::InputError& err) {
    EXPECT_EQ(err.problems().size(), 2u);  // both named at once
  }
}

// What a resumed search tells its strategy is what the live run told it: the sensitivity is
// read back from the stored evaluation to the last bit; damaged or missing, it is left out.
TEST(Study, StoredSensitivityIsToldBackExactly) {
  store::EvaluationRecord r;
  r.accuracy = 84.5;
  r.fps = 1000;
  r.latency_ms = 0.5;
  const double omega4 = 0.1234567890123456789, omega8 = 1.0 / 3e7;
  r.extra = nlohmann::json{{"checkpoint", "x.pt"},
                           {"sensitivity", {{"s0b0_dw", {{"4", omega4}, {"8", omega8}}}}}}
                .dump();
  const Observation o = observation_of(r, {1, 2}, frame_interval_ms(r));
  EXPECT_EQ(o.genotype, (Genotype{1, 2}));
  EXPECT_EQ(o.accuracy, 84.5);
  EXPECT_EQ(o.latency_ms, 1.0);  // the frame interval
  ASSERT_EQ(o.omega.size(), 1u);
  EXPECT_EQ(o.omega.at("s0b0_dw").at(4), omega4);
  EXPECT_EQ(o.omega.at("s0b0_dw").at(8), omega8);
  for (const std::string extra : {"", "{", "[1]", R"({"sensitivity": 3})",
                                  R"({"sensitivity": {"a": {"x4": 1, "4": "y"}}})"}) {
    r.extra = extra;
    EXPECT_TRUE(observation_of(r, {1, 2}, 1.0).omega.empty()) << extra;
  }
}

TEST(Pareto, PeelFrontsTakesFrontsInTurnAndOneDesignPerSpeedFirst) {
  //                                  A        B        C        D        E        F
  const std::vector<Objectives> p{{1, 80}, {2, 90}, {1, 70}, {3, 85}, {2, 88}, {4, 95}};
  // Front 1: F, B, A (most accurate first). Front 2: E and C, both at a speed taken, so they
  // wait; front 3: D, a new speed. Then the waiting ones in order.
  EXPECT_EQ(peel_fronts(p, 5), (std::vector<std::size_t>{5, 1, 0, 3, 4}));
  EXPECT_EQ(peel_fronts(p, 2), (std::vector<std::size_t>{5, 1}));
  EXPECT_EQ(peel_fronts(p, 10), (std::vector<std::size_t>{5, 1, 0, 3, 4, 2}));
  EXPECT_TRUE(peel_fronts({}, 3).empty());
}

TEST(Study, FinalistsLeaveOutDesignsThatFitNowhere) {
  std::vector<store::EvaluationRecord> r(3);
  r[0].accuracy = 99, r[0].latency_ms = kInfeasibleMs;
  r[1].accuracy = 80, r[1].fps = 100, r[1].latency_ms = 12;
  r[2].accuracy = 85, r[2].fps = 50, r[2].latency_ms = 25;
  EXPECT_EQ(pick_finalists(r, 3), (std::vector<std::size_t>{2, 1}));
}

TEST(Pareto, KneeMaximizesTheNormalizedSumOfAccuracyAndLogSpeed) {
  // Normalized accuracy 0, 10/11, 1; normalized -log latency 1, 1 - ln 2 / ln 10, 0.
  EXPECT_EQ(knee({{1, 80}, {2, 90}, {10, 91}}), 1u);
  // The middle one gains less accuracy than it loses speed; the ends tie, the first is kept.
  EXPECT_EQ(knee({{1, 95}, {2, 96}, {10, 99}}), 0u);
  EXPECT_EQ(knee({{10, 99}, {2, 96}, {1, 95}}), 0u);
  EXPECT_EQ(knee({{5, 70}}), 0u);
  EXPECT_EQ(knee({{1, 70}, {3, 70}}), 0u);  // flat accuracy: the fastest
  // Against the formula written out, on random fronts.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.1, 10), acc(50, 99);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Objectives> f(1 + trial % 6);
    for (auto& o : f) o = {u(rng), acc(rng)};
    double a_lo = 1e9, a_hi = -1e9, l_lo = 1e9, l_hi = -1e9;
    for (const auto& o : f) {
      a_lo = std::min(a_lo, o.accuracy), a_hi = std::max(a_hi, o.accuracy);
      l_lo = std::min(l_lo, std::log(o.latency_ms)), l_hi = std::max(l_hi, std::log(o.latency_ms));
    }
    std::size_t best = 0;
    double best_score = -1;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const double score = (a_hi > a_lo ? (f[i].accuracy - a_lo) / (a_hi - a_lo) : 1) +
                           (l_hi > l_lo ? (l_hi - std::log(f[i].latency_ms)) / (l_hi - l_lo) : 1);
      if (score > best_score + 1e-12) best_score = score, best = i;
    }
    EXPECT_EQ(knee(f), best) << "trial " << trial;
  }
}

TEST(Study, FourWorkersShareOneSqliteStudyAndTakeOverAKilledOnesCandidate) {
  const std::string path = fresh_store("workers");
  check_workers([&] { return std::make_unique<store::SqliteStudyStore>(path); }, nb201(), "hao", 40,
                4, std::filesystem::path(path).parent_path().string());
}

}  // namespace
}  // namespace hao::search
