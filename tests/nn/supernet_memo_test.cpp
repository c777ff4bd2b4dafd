// The supernet memo: what it keeps it gives back, across processes (reopened), and a file that
// is not a memo is refused by name and left as it was.
#include "nn/supernet_memo.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace hao::nn {
namespace {

namespace fs = std::filesystem;

std::string contents(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SupernetMemo, KeepsValuesByKindAndKeyAcrossReopening) {
  const std::string file = ::testing::TempDir() + "memo_test.db";
  fs::remove(file);
  {
    SupernetMemo memo(file);
    EXPECT_FALSE(memo.find("judgement", "k").has_value());
    memo.put("judgement", "k", {{"val_accuracy", 0.8125}});
    memo.put("finalist", "k", {{"test_accuracy", 88.5}});
    memo.put("judgement", "k", {{"val_accuracy", 0.75}});  // replaces
  }
  SupernetMemo reopened(file);
  ASSERT_TRUE(reopened.find("judgement", "k").has_value());
  EXPECT_DOUBLE_EQ(reopened.find("judgement", "k")->at("val_accuracy").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(reopened.find("finalist", "k")->at("test_accuracy").get<double>(), 88.5);
  EXPECT_FALSE(reopened.find("finalist", "other").has_value());
}

TEST(SupernetMemo, RefusesFilesThatAreNotMemosAndLeavesThemAlone) {
  const std::string text = ::testing::TempDir() + "memo_text.db";
  std::ofstream(text) << "a text file that happens to be called memo.db\n";
  try {
    SupernetMemo memo(text);
    FAIL() << "a text file was taken for a memo";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(text + ": not a hao supernet memo"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(contents(text), "a text file that happens to be called memo.db\n");

  // Another program's SQLite database.
  const std::string other = ::testing::TempDir() + "memo_other.db";
  fs::remove(other);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users(name TEXT); INSERT INTO users VALUES('ada');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const std::string before = contents(other);
  try {
    SupernetMemo memo(other);
    FAIL() << "another program's database was taken for a memo";
  } catch (const core::InputError& e) {
    EXPECT_NE(
        std::string(e.what()).find(other + ": an SQLite database but not a hao supernet memo"),
        std::string::npos)
        << e.what();
  }
  EXPECT_EQ(contents(other), before);
}

TEST(SupernetMemo, DigestFollowsTheFilesBytes) {
  const std::string a = ::testing::TempDir() + "digest_a.bin",
                    b = ::testing::TempDir() + "digest_b.bin";
  std::string bytes(200000, 'x');
  std::ofstream(a, std::ios::binary) << bytes;
  bytes[123456] = 'y';
  std::ofstream(b, std::ios::binary) << bytes;
  EXPECT_EQ(file_digest(a), file_digest(a));
  EXPECT_NE(file_digest(a), file_digest(b));
  EXPECT_EQ(file_digest(a).size(), 16u);
  EXPECT_THROW(file_digest(::testing::TempDir() + "no_such_file.bin"), core::InputError);
}

}  // namespace
}  // namespace hao::nn
