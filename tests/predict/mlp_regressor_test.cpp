#include "predict/mlp_regressor.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"

namespace hao::predict {
namespace {

// 2 features -> 2 hidden (ReLU) -> 1.
MlpRegressor small() {
  MlpRegressor m;
  m.feature_names = {"a", "b"};
  m.feature_mean = {1.0, 0.0};
  m.feature_scale = {2.0, 1.0};
  m.layers.push_back({2, 2, {1.0, -1.0, 0.5, 2.0}, {0.0, -10.0}});
  m.layers.push_back({2, 1, {1.0, 3.0}, {0.25}});
  return m;
}

}  // namespace

TEST(MlpRegressor, ForwardPassByHand) {
  // x' = ((3 - 1) / 2, 4) = (1, 4); hidden = relu(1 - 4, 0.5 + 8 - 10) = (0, 0): log ms = 0.25.
  EXPECT_NEAR(small().predict_ms({3.0, 4.0}), std::exp(0.25), 1e-12);
  // x' = (0, -1); hidden = relu(1, -12) = (1, 0): log ms = 1.25.
  EXPECT_NEAR(small().predict_ms({1.0, -1.0}), std::exp(1.25), 1e-12);
  EXPECT_THROW(small().predict_ms({1.0}), core::InputError);
}

TEST(MlpRegressor, JsonRoundTrip) {
  const MlpRegressor m = MlpRegressor::from_json(small().to_json(), "m.json");
  EXPECT_EQ(m.feature_names, small().feature_names);
  EXPECT_DOUBLE_EQ(m.predict_ms({3.0, -2.0}), small().predict_ms({3.0, -2.0}));
}

TEST(MlpRegressor, MalformedModelsAreInputErrors) {
  const auto broken = [](auto edit) {
    nlohmann::json j = small().to_json();
    edit(j);
    return j;
  };
  EXPECT_THROW(MlpRegressor::from_json(nlohmann::json::array(), "m"), core::InputError);
  EXPECT_THROW(MlpRegressor::from_json(broken([](auto& j) { j["layers"][0]["in"] = 3; }), "m"),
               core::InputError);
  EXPECT_THROW(
      MlpRegressor::from_json(broken([](auto& j) { j["layers"][1]["weight"] = {1.0}; }), "m"),
      core::InputError);
  EXPECT_THROW(MlpRegressor::from_json(broken([](auto& j) { j["feature_scale"][0] = 0.0; }), "m"),
               core::InputError);
  EXPECT_THROW(
      MlpRegressor::from_json(broken([](auto& j) { j["layers"].erase(1); }), "m"),  // 2 outputs
      core::InputError);
  EXPECT_THROW(MlpRegressor::from_json(broken([](auto& j) { j["feature_mean"][1] = "x"; }), "m"),
               core::InputError);
}

}  // namespace hao::predict
