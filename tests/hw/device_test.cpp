#include "hw/device.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"

namespace hao::hw {

TEST(Device, BuiltinsCarryDataSheetNumbers) {
  const Device zu3eg = load_device("zu3eg");
  EXPECT_EQ(zu3eg.dsp, 360);
  EXPECT_EQ(zu3eg.bram36, 216);
  EXPECT_EQ(zu3eg.lut, 70560);
  EXPECT_EQ(load_device("ZU9EG").dsp, 2520);
  EXPECT_EQ(load_device("xczu7ev").uram, 96);
  EXPECT_EQ(load_device("xc7z020").dsp_kind, DspKind::kDsp48e1);
  EXPECT_EQ(builtin_device_names().size(), 7u);
}

TEST(Device, UsableAppliesTheFractionAndOverrides) {
  const Device d = load_device("zu3eg", {150, 0, 0.5});
  EXPECT_EQ(d.clock_mhz, 150);
  EXPECT_EQ(d.usable().dsp, 180);
  EXPECT_EQ(d.usable().bram36, 108);
}

TEST(Device, UnknownNameListsTheBuiltins) {
  try {
    load_device("zu99");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zu2eg, zu3eg"), std::string::npos) << e.what();
  }
}

TEST(Device, YamlFileIsValidatedFieldByField) {
  const std::string path = ::testing::TempDir() + "dev.yaml";
  std::ofstream(path) << "name: mine\nlut: 1000\nbram36: 10\ndsp: 20\nclock_mhz: 300\n";
  const Device d = load_device(path);
  EXPECT_EQ(d.name, "mine");
  EXPECT_EQ(d.clock_mhz, 300);
  std::ofstream(path) << "name: mine\nlut: -5\ndsp: many\ncolour: red\n";
  try {
    load_device(path);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.problems().size(), 4u);  // colour, lut, bram36 missing, dsp
  }
  // A key that is not a plain name is placed by its line.
  std::ofstream(path) << "name: mine\nlut: 1000\nbram36: 10\ndsp: 20\n[a, b]: 1\n";
  try {
    load_device(path);
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_NE(e.problems()[0].find("line 5: unknown key"), std::string::npos) << e.problems()[0];
  }
}

}  // namespace hao::hw
