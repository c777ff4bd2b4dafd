// libFuzzer target: a saved latency MLP (hao predict --model FILE, kind mlp) and the genotypes
// it encodes must load and predict or throw an InputError, never crash, hang or throw another
// exception. The input is tried as the model's JSON, as a genotype of each space and as an
// AutoShrink cell.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "ir/genotype.hpp"
#include "predict/arch_features.hpp"
#include "predict/mlp_regressor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    try {
      const auto m = hao::predict::MlpRegressor::from_json(j, "fuzz.json");
      (void)m.predict_ms(std::vector<double>(m.feature_mean.size(), 1.0));
    } catch (const hao::core::InputError&) {
    }
  }
  try {
    (void)hao::ir::expand_autoshrink(text, "fuzz");
  } catch (const hao::core::InputError&) {
  }
  for (auto space : {hao::predict::Space::kNb201, hao::predict::Space::kAnb}) {
    try {
      (void)hao::predict::arch_features(space, text, "fuzz");
    } catch (const hao::core::InputError&) {
    }
  }
  return 0;
}
