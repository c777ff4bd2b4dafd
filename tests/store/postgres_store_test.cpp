// The PostgreSQL store against a real server: CTest runs this binary under pg_virtualenv
// (a throw-away cluster; PGHOST, PGPORT, PGUSER, PGPASSWORD set), label `postgres`.
#include "store/postgres_store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "search/workers_check.hpp"
#include "store/store_contract.hpp"

namespace hao::store {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// The server's URL for `database` (the password comes from PGPASSWORD).
std::string url(const std::string& database) {
  return "postgresql://" + env("PGUSER") + "@" + env("PGHOST") + ":" + env("PGPORT") + "/" +
         database;
}

/// Runs `sql` on `database` as the cluster's superuser; its first value.
std::string admin(const std::string& sql, const std::string& database = "postgres") {
  PGconn* c = PQconnectdb(url(database).c_str());
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      << sql << ": " << PQerrorMessage(c);
  const std::string first = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return first;
}

/// A new empty database for one test; its URL.
std::string fresh_database(const std::string& name) {
  admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  admin("CREATE DATABASE " + name);
  return url(name);
}

class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("PGHOST").empty())
      FAIL() << "no server: run this binary under pg_virtualenv (CTest does)";
  }
};

TEST_F(Postgres, StudiesEvaluationsAndNotesRoundTrip) {
  PostgresStudyStore db(fresh_database("hao_round_trip"));
  check_round_trip(db);
  PostgresStudyStore again(url("hao_round_trip"));  // a second worker sees the same
  EXPECT_EQ(again.evaluations("a").size(), 3u);
}

TEST_F(Postgres, ClaimsReserveDistinctIndicesAndNeverExceedTheBudget) {
  PostgresStudyStore db(fresh_database("hao_claims"));
  check_claims(db);
}

TEST_F(Postgres, AbandonedClaimsAreTakenOverWithTheirGenotype) {
  PostgresStudyStore db(fresh_database("hao_takeover"));
  check_takeover(db);
}

TEST_F(Postgres, FinalMeasurementsAreClaimedOnce) {
  PostgresStudyStore db(fresh_database("hao_finals"));
  check_final_claims(db);
}

TEST_F(Postgres, ADatabaseWithAnotherProgramsTablesIsRefusedUntouched) {
  const std::string u = fresh_database("hao_foreign");
  admin("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)", "hao_foreign");
  try {
    PostgresStudyStore db(u);
    FAIL() << "a foreign database accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another program's tables (customers)"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(admin("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                  "hao_foreign"),
            "1");
}

TEST_F(Postgres, WrongCredentialsAreInputErrorWithThePasswordHidden) {
  fresh_database("hao_credentials");
  const std::string bad = "postgresql://" + env("PGUSER") + ":not-the-password@" + env("PGHOST") +
                          ":" + env("PGPORT") + "/hao_credentials";
  try {
    PostgresStudyStore db(bad);
    FAIL() << "wrong password accepted";
  } catch (const core::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_EQ(what.find("not-the-password"), std::string::npos) << what;
  }
}

TEST_F(Postgres, ALostConnectionIsRetriedAndNothingIsLostOrCountedTwice) {
  PostgresStudyStore db(fresh_database("hao_lost"));
  db.open_study("s", "{}");
  db.add("s", contract_record(0));
  // The server drops hao's connection (a restart, a network cut): the next call reconnects.
  admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hao' "
      "AND datname = 'hao_lost'");
  EXPECT_TRUE(db.complete("s", contract_record(1)));
  admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hao' "
      "AND datname = 'hao_lost'");
  EXPECT_FALSE(db.complete("s", contract_record(1)));
  EXPECT_EQ(db.evaluations("s").size(), 2u);
}

TEST_F(Postgres, AServerThatStaysAwayEndsInStoreErrorAfterTheRetryTime) {
  const std::string u = fresh_database("hao_away");
  PostgresStudyStore db(u, /*retry_s=*/2);
  db.open_study("s", "{}");
  // The database is dropped with its connections: every reconnection fails.
  admin("DROP DATABASE hao_away WITH (FORCE)");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(db.evaluations("s"), StoreError);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 2.0);
  EXPECT_LT(waited, 15.0);
}

TEST_F(Postgres, FourWorkersRunOneStudyOfBudget200AndTakeOverAKilledOnesCandidate) {
  const std::string u = fresh_database("hao_workers");
  static const search::TabularDomain nb201(search::default_source("nb201", HAO_SHARED_DATA));
  search::check_workers([&] { return std::make_unique<PostgresStudyStore>(u); }, nb201, "hao", 200,
                        4, ::testing::TempDir());
}

}  // namespace
}  // namespace hao::store
