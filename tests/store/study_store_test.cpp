#include "store/study_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "store/postgres_store.hpp"
#include "store/store_contract.hpp"

namespace hao::store {
namespace {

namespace fs = std::filesystem;

std::string temp_prefix() { return "hao_store_" + std::to_string(getpid()) + "_"; }

std::string temp_path(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / (temp_prefix() + name);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
  return p.string();
}

// Removes this process's store files when the tests end (they used to pile up in /tmp).
class RemoveTempStores : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(fs::temp_directory_path(), ec))
      if (f.path().filename().string().rfind(temp_prefix(), 0) == 0) fs::remove_all(f.path(), ec);
  }
};
const auto* const remove_temp_stores = ::testing::AddGlobalTestEnvironment(new RemoveTempStores);

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

EvaluationRecord record(int index) { return contract_record(index); }

TEST(StudyStore, StudiesAndEvaluationsRoundTrip) {
  const std::string path = temp_path("roundtrip.db");
  {
    SqliteStudyStore db(path);
    EXPECT_FALSE(db.open_study("a", "{\"seed\":1}"));
    for (int i = 0; i < 3; ++i) db.add("a", record(i));
    EXPECT_THROW(db.add("a", record(5)), StoreError);  // not the next index
    db.put_note("a", "final/1", "{\"test_accuracy\": 91}");
  }
  SqliteStudyStore db(path);
  EXPECT_TRUE(db.open_study("a", "{\"seed\":1}"));
  const auto e = db.evaluations("a");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2].label, "g2");
  EXPECT_DOUBLE_EQ(e[2].accuracy, 52);
  EXPECT_EQ(e[1].extra, "{\"k\": 1}");
  EXPECT_EQ(db.note("a", "final/1"), "{\"test_accuracy\": 91}");
  EXPECT_EQ(db.note("a", "final/0"), "");
  EXPECT_EQ(db.studies(), std::vector<std::string>{"a"});
  EXPECT_THROW(db.settings("b"), core::InputError);
}

TEST(StudyStore, OtherSettingsAndForeignFilesAreRefusedUntouched) {
  const std::string path = temp_path("refuse.db");
  {
    SqliteStudyStore db(path);
    db.open_study("a", "{\"seed\":1}");
    db.add("a", record(0));
  }
  {
    SqliteStudyStore db(path);
    try {
      db.open_study("a", "{\"seed\":2}");
      FAIL();
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("exists with other settings"), std::string::npos);
    }
    EXPECT_EQ(db.settings("a"), "{\"seed\":1}");
    EXPECT_EQ(db.evaluations("a").size(), 1u);
  }
  const std::string text = temp_path("notes.txt");
  std::ofstream(text) << "my notes, not a database\n";
  EXPECT_THROW(SqliteStudyStore{text}, core::InputError);
  EXPECT_EQ(bytes(text), "my notes, not a database\n");
  EXPECT_FALSE(fs::exists(text + "-wal"));
}

/// Writes evaluations 0.. of `study` forever, `pause_ms` apart (for a child process).
[[noreturn]] void write_forever(const std::string& path, const std::string& study, int count,
                                int pause_ms) {
  try {
    SqliteStudyStore db(path);
    db.open_study(study, "{}");
    for (int i = 0; i < count; ++i) {
      db.add(study, record(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
  } catch (...) {
    _exit(1);
  }
  _exit(0);
}

TEST(StudyStore, TwoProcessesWriteOneFileWithoutCorruption) {
  const std::string path = temp_path("two.db");
  { SqliteStudyStore db(path); }
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) write_forever(path, "study" + std::to_string(c), 60, 0);
  }
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  SqliteStudyStore db(path);
  for (int c = 0; c < 2; ++c) {
    const auto e = db.evaluations("study" + std::to_string(c));
    ASSERT_EQ(e.size(), 60u);
    for (int i = 0; i < 60; ++i) EXPECT_EQ(e[static_cast<std::size_t>(i)].index, i);
  }
}

TEST(StudyStore, SigkillLosesNoFinishedEvaluation) {
  const std::string path = temp_path("kill.db");
  { SqliteStudyStore db(path); }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) write_forever(path, "s", 100000, 2);
  // Kill it mid-run, once some evaluations are in.
  std::size_t seen = 0;
  for (int wait = 0; wait < 2000 && seen < 20; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    SqliteStudyStore peek(path);
    if (peek.has_study("s")) seen = peek.evaluations("s").size();
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  SqliteStudyStore db(path);
  const auto e = db.evaluations("s");
  ASSERT_GE(e.size(), seen);
  for (std::size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].index, static_cast<int>(i));
    EXPECT_EQ(e[i].label, "g" + std::to_string(i));  // every row whole
  }
  db.add("s", record(static_cast<int>(e.size())));  // and the study goes on
  EXPECT_EQ(db.evaluations("s").size(), e.size() + 1);
}

TEST(StudyStore, ClaimsReserveDistinctIndicesAndNeverExceedTheBudget) {
  SqliteStudyStore db(temp_path("claims.db"));
  check_claims(db);
}

TEST(StudyStore, AbandonedClaimsAreTakenOverWithTheirGenotype) {
  SqliteStudyStore db(temp_path("takeover.db"));
  check_takeover(db);
}

TEST(StudyStore, FinalMeasurementsAreClaimedOnce) {
  SqliteStudyStore db(temp_path("finals.db"));
  check_final_claims(db);
}

TEST(StudyStore, ServerUrlsAreToldFromFilesAndPasswordsHidden) {
  EXPECT_TRUE(is_server_url("postgresql://u@h/db"));
  EXPECT_TRUE(is_server_url("postgres://h/db"));
  EXPECT_FALSE(is_server_url("hao-studies.db"));
  EXPECT_FALSE(is_server_url("./postgresql:/x.db"));
  EXPECT_EQ(PostgresStudyStore::hide_password("postgresql://me:secret@host:5432/db"),
            "postgresql://me:***@host:5432/db");
  EXPECT_EQ(PostgresStudyStore::hide_password("postgresql://host/db?user=me&password=s&x=1"),
            "postgresql://host/db?user=me&password=***&x=1");
  EXPECT_EQ(PostgresStudyStore::hide_password("postgresql://me@host/db"),
            "postgresql://me@host/db");
}

TEST(StudyStore, AnUnreachableServerIsInputErrorNamingIt) {
  try {
    PostgresStudyStore db("postgresql://me:secret@127.0.0.1:1/none?connect_timeout=2");
    FAIL() << "connected to nothing";
  } catch (const core::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("postgresql://me:***@127.0.0.1:1/none"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace hao::store
