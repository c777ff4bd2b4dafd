// hao quantize with LibTorch: the sensitivity measured from a checkpoint, and fine-tuning at
// the chosen bits (label `torch`).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/text.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;

// One thread each: CTest runs tests two at a time on two cores, and LibTorch's OpenMP threads
// spin when they outnumber the cores.
TEST(QuantizeTorch, MeasuresSensitivityAndFineTunesAtTheChosenBits) {
  const std::string ckpt = ::testing::TempDir() + "quantize_torch.pt";
  const std::string json = ::testing::TempDir() + "quantize_torch.json";
  HaoRun t = hao({"train", "--steps", "30", "--subset", "3840", "--validation", "1000", "--threads",
                  "1", "--out", ckpt});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  HaoRun q =
      hao({"quantize", "--checkpoint", ckpt, "--probes", "3", "--bits-choices", "2,4,8", "--fps",
           "90000", "--qat-epochs", "1", "--subset", "2560", "--threads", "1", "--json", json});
  ASSERT_EQ(q.code, kExitOk) << q.err;
  EXPECT_NE(q.err.find("measuring the sensitivity"), std::string::npos);
  EXPECT_NE(q.out.find("test at these bits"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  const double acc = j["accuracy"]["test"].get<double>();
  EXPECT_GT(acc, 0.2);  // twice chance after 30 float steps and a 20-step QAT epoch
  EXPECT_GE(j["design"]["fps"].get<double>(), 90000);
}

}  // namespace
}  // namespace hao::cli
