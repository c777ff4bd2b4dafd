#include "core/csv.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace hao::core {

TEST(Csv, QuotedFieldsDoubledQuotesAndCrlf) {
  const CsvTable t =
      parse_csv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,,\"multi\nline\"\n\n", "t.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "x, y");
  EXPECT_EQ(t.rows[0][2], "say \"hi\"");
  EXPECT_EQ(t.rows[1][1], "");
  EXPECT_EQ(t.rows[1][2], "multi\nline");
  EXPECT_EQ(t.column("c"), 2u);
}

TEST(Csv, WritingThenReadingGivesTheSameFields) {
  const std::vector<std::string> fields = {"plain", "with,comma", "with \"quote\"", ""};
  const CsvTable t = parse_csv(csv_record({"a", "b", "c", "d"}) + csv_record(fields), "t.csv");
  EXPECT_EQ(t.rows[0], fields);
}

TEST(Csv, ErrorsNameFileAndLine) {
  try {
    parse_csv("a,b\n1,2\n3\n", "m.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "m.csv: line 3 has 1 fields, the header has 2");
  }
  EXPECT_THROW(parse_csv("a\n\"open\n", "m.csv"), InputError);
  EXPECT_THROW(parse_csv("", "m.csv"), InputError);
  try {
    parse_csv("a,b\n", "m.csv").column("z");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "m.csv: no column 'z'; columns are a, b");
  }
}

}  // namespace hao::core
