#include "ir/sensitivity_file.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace hao::ir {

// A negative term (an estimate's noise) counts as zero, and the note counts the file's terms,
// not the choices that read them: w4a4 and w4a8 share the weight term at 4 bits.
TEST(SensitivityFile, NegativeTermsCountAsZeroAndAreCountedOnce) {
  Network net;
  net.name = "two";
  net.input = {4, 6, 6};
  net.layers.push_back(test::conv("a", kNetworkInput, 8, 3));
  net.layers.push_back(test::conv("b", 0, 8, 1));
  infer_shapes(net, "t");
  const auto j = nlohmann::json::parse(R"({"network": "two", "layers": [
    {"name": "a", "omega": {"4": -0.01}, "omega_act": {"4": 0.5, "8": 0.25}},
    {"name": "b", "omega": {"4": 0.03}, "omega_act": {"4": -0.2, "8": 0.125}}]})");
  std::string note;
  const auto omega = read_omega(j, "s.json", net, {{4, 4}, {4, 8}}, {true, true}, note);
  ASSERT_EQ(omega.size(), 2u);
  EXPECT_EQ(omega[0], (std::vector<double>{0.5, 0.25}));
  ASSERT_EQ(omega[1].size(), 2u);
  EXPECT_DOUBLE_EQ(omega[1][0], 0.03);
  EXPECT_DOUBLE_EQ(omega[1][1], 0.03 + 0.125);
  EXPECT_EQ(note.rfind("2 Omega terms are negative", 0), 0u) << note;
}

}  // namespace hao::ir
