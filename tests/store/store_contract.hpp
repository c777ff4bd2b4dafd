// The behaviour every study store shares, as checks that the SQLite store's tests and the
// PostgreSQL store's (tests/store/postgres_store_test.cpp) both run.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/study_store.hpp"

namespace hao::store {

inline EvaluationRecord contract_record(int index) {
  EvaluationRecord r;
  r.index = index;
  r.genotype = std::to_string(index) + ",1,2";
  r.label = "g" + std::to_string(index);
  r.accuracy = 50 + index;
  r.latency_ms = 1.5 * index;
  r.fps = 1000;
  r.extra = "{\"k\": " + std::to_string(index) + "}";
  return r;
}

/// A chooser that reserves "c<index>" and records the snapshot's pending indices.
inline Chooser choose_named(std::vector<int>* seen_pending = nullptr) {
  return [seen_pending](const StudySnapshot& s, int index) {
    if (seen_pending)
      for (const auto& p : s.pending) seen_pending->push_back(p.index);
    return std::make_pair(std::to_string(index), "c" + std::to_string(index));
  };
}

inline ClaimOptions as_worker(const std::string& worker, int budget) {
  ClaimOptions o;
  o.worker = worker;
  o.budget = budget;
  o.stale_after_s = 3600;
  return o;
}

/// Studies, evaluations and notes round-trip; other settings are refused untouched.
inline void check_round_trip(StudyStore& db) {
  EXPECT_FALSE(db.open_study("a", "{\"seed\":1}"));
  EXPECT_TRUE(db.open_study("a", "{\"seed\":1}"));
  for (int i = 0; i < 3; ++i) db.add("a", contract_record(i));
  EXPECT_THROW(db.add("a", contract_record(5)), StoreError);  // not the next index
  db.put_note("a", "final/1", "{}");
  db.put_note("a", "final/1", "{\"test_accuracy\": 91}");  // replaced
  const auto e = db.evaluations("a");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2].label, "g2");
  EXPECT_EQ(e[2].accuracy, 52);
  EXPECT_EQ(e[1].latency_ms, 1.5);
  EXPECT_EQ(e[1].extra, "{\"k\": 1}");
  EXPECT_EQ(db.note("a", "final/1"), "{\"test_accuracy\": 91}");
  EXPECT_EQ(db.note("a", "final/0"), "");
  EXPECT_THROW(db.open_study("a", "{\"seed\":2}"), core::InputError);
  EXPECT_EQ(db.settings("a"), "{\"seed\":1}");
  EXPECT_EQ(db.evaluations("a").size(), 3u);
  EXPECT_EQ(db.studies(), std::vector<std::string>{"a"});
  EXPECT_THROW(db.settings("b"), core::InputError);
}

/// What every store does with claims (SQLite's tests and PostgreSQL's run it).
inline void check_claims(StudyStore& db) {
  db.open_study("s", "{}");
  // Two workers of other live processes (this host, this pid: alive; distinct tokens).
  const std::string me = worker_id().substr(0, worker_id().rfind(':'));
  const std::string a = me + ":aaaa", b = me + ":bbbb";
  std::vector<int> seen;
  const Claim first = db.claim("s", as_worker(a, 3), choose_named());
  ASSERT_EQ(first.kind, Claim::kAsked);
  EXPECT_EQ(first.pending.index, 0);
  const Claim second = db.claim("s", as_worker(b, 3), choose_named(&seen));
  ASSERT_EQ(second.kind, Claim::kAsked);
  EXPECT_EQ(second.pending.index, 1);
  EXPECT_EQ(seen, std::vector<int>{0});  // the chooser sees the other worker's claim
  EvaluationRecord r1 = contract_record(1);
  EXPECT_TRUE(db.complete("s", r1));   // out of order: index 1 before 0
  EXPECT_FALSE(db.complete("s", r1));  // never counted twice
  EXPECT_EQ(db.claim("s", as_worker(b, 3), choose_named()).pending.index, 2);
  // Budget 3: evaluations 1, claims 0 and 2 (live): a third worker waits.
  const Claim full = db.claim("s", as_worker(me + ":cccc", 3), choose_named());
  EXPECT_EQ(full.kind, Claim::kWait);
  EXPECT_EQ(full.snapshot.pending.size(), 2u);
  EXPECT_TRUE(db.heartbeat("s", 0, a));
  EXPECT_FALSE(db.heartbeat("s", 0, b));  // not b's
  EXPECT_TRUE(db.complete("s", contract_record(0)));
  EXPECT_TRUE(db.complete("s", contract_record(2)));
  EXPECT_EQ(db.claim("s", as_worker(a, 3), choose_named()).kind, Claim::kDone);
  EXPECT_EQ(db.evaluations("s").size(), 3u);
  // A larger budget goes on at the next free index.
  EXPECT_EQ(db.claim("s", as_worker(a, 4), choose_named()).pending.index, 3);
}

inline void check_takeover(StudyStore& db) {
  db.open_study("s", "{}");
  // A worker on another machine that stops beating; a dead process of this host.
  ASSERT_EQ(db.claim("s", as_worker("elsewhere:1:x", 5), choose_named()).pending.index, 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const std::string dead = std::string(host) + ":" + std::to_string(child) + ":dead";
  ASSERT_EQ(db.claim("s", as_worker(dead, 5), choose_named()).pending.index, 1);

  ClaimOptions patient = as_worker(worker_id(), 5);
  const Claim c = db.claim("s", patient, choose_named());  // the dead process's, at once
  ASSERT_EQ(c.kind, Claim::kTakenOver);
  EXPECT_EQ(c.pending.index, 1);
  EXPECT_EQ(c.pending.label, "c1");
  EXPECT_EQ(c.taken_from, dead);
  EXPECT_TRUE(db.heartbeat("s", 1, worker_id()));
  EXPECT_EQ(db.claim("s", as_worker("other:2:y", 5), choose_named()).kind, Claim::kAsked);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ClaimOptions impatient = as_worker("other:3:z", 5);
  impatient.stale_after_s = 1;  // index 0 beat last over a second ago
  const Claim late = db.claim("s", impatient, choose_named());
  ASSERT_EQ(late.kind, Claim::kTakenOver);
  EXPECT_EQ(late.pending.index, 0);
  EXPECT_EQ(late.taken_from, "elsewhere:1:x");
  EXPECT_FALSE(db.heartbeat("s", 0, "elsewhere:1:x"));  // the old owner lost it
}

/// Final measurements are claimed once: a live worker's claim is respected, a measured one is
/// not claimed again, an abandoned one is taken over; their claims are not evaluations.
inline void check_final_claims(StudyStore& db) {
  db.open_study("f", "{}");
  ClaimOptions a = as_worker("elsewhere:1:a", 2), b = as_worker("elsewhere:2:b", 2);
  EXPECT_TRUE(db.claim_final("f", 7, a));
  EXPECT_TRUE(db.claim_final("f", 7, a));  // its own
  EXPECT_FALSE(db.claim_final("f", 7, b));
  EXPECT_TRUE(db.heartbeat("f", final_claim_index(7), "elsewhere:1:a"));
  // Final claims neither count towards the budget nor reach the chooser.
  std::vector<int> seen;
  EXPECT_EQ(db.claim("f", b, choose_named(&seen)).pending.index, 0);
  EXPECT_TRUE(seen.empty());
  db.complete_final("f", 7, "{\"test_accuracy\": 90}");
  EXPECT_EQ(db.note("f", "final/7"), "{\"test_accuracy\": 90}");
  EXPECT_FALSE(db.claim_final("f", 7, b));  // measured
  EXPECT_TRUE(db.claim_final("f", 8, a));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  b.stale_after_s = 1;
  EXPECT_TRUE(db.claim_final("f", 8, b));  // a stopped beating
  EXPECT_FALSE(db.heartbeat("f", final_claim_index(8), "elsewhere:1:a"));
}

}  // namespace hao::store
