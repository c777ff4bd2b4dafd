#include "core/error.hpp"

#include <gtest/gtest.h>

namespace hao::core {

TEST(IssueList, CollectsEveryProblemBeforeThrowing) {
  IssueList issues("net.yaml");
  issues.add("layers[4] 'conv3'", "stride = 0, expected >= 1");
  issues.add("input", "missing");
  try {
    issues.throw_if_any();
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_EQ(e.problems()[0], "net.yaml: layers[4] 'conv3': stride = 0, expected >= 1");
    EXPECT_EQ(e.problems()[1], "net.yaml: input: missing");
  }
}

TEST(IssueList, EmptyListDoesNotThrow) {
  IssueList issues("x");
  EXPECT_TRUE(issues.empty());
  EXPECT_NO_THROW(issues.throw_if_any());
}

TEST(Check, FailingCheckThrowsInternalError) {
  EXPECT_THROW(HAO_CHECK(1 + 1 == 3, "arithmetic"), InternalError);
  EXPECT_NO_THROW(HAO_CHECK(true, "fine"));
}

}  // namespace hao::core
