#include "core/text.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace hao::core {

TEST(Text, JoinChoicesReadsAsEnglish) {
  EXPECT_EQ(join_choices({"a"}), "a");
  EXPECT_EQ(join_choices({"a", "b", "c"}), "a, b or c");
}

TEST(Text, WithCommasGroupsThousands) {
  EXPECT_EQ(with_commas(3504872), "3,504,872");
  EXPECT_EQ(with_commas(-1000), "-1,000");
  EXPECT_EQ(with_commas(12), "12");
}

TEST(Text, NumberWritesAValueAsGiven) {
  EXPECT_EQ(number(0.0125), "0.0125");  // fixed(0.0125, 3) is 0.013
  EXPECT_EQ(number(0.5), "0.5");
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(-3), "-3");
  EXPECT_EQ(number(1e-7), "1e-07");
}

TEST(Text, ParseIntRejectsTrailingText) {
  std::int64_t v = 0;
  EXPECT_TRUE(parse_int("42", v));
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(parse_int("42x", v));
  EXPECT_FALSE(parse_int("", v));
  double d = 0;
  EXPECT_TRUE(parse_double("0.85", d));
  EXPECT_FALSE(parse_double("abc", d));
}

TEST(Text, SplitKeepsOrDropsEmptyParts) {
  EXPECT_EQ(split("a;;b;", ';'), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(split("|x|y||", '|', false), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(split("", ';'), (std::vector<std::string>{""}));
  EXPECT_EQ(without("\"a b\"", " \""), "ab");
}

TEST(Text, ReadFileNamesTheMissingPath) {
  try {
    read_file("/nonexistent/hao.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hao.yaml"), std::string::npos);
  }
}

}  // namespace hao::core
