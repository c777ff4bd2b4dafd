// The host CPU's piece table: pieces measured once and kept, stored with the CPU model and
// thread count, refused elsewhere; its check against whole networks.
#include "nn/cpu_table.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/device.hpp"
#include "search/space_spec.hpp"

namespace hao::nn {
namespace {

const search::Mbv2Domain& small_domain() {
  static const search::Mbv2Domain d(
      search::parse_space("name: small\nkind: mbv2\n"
                          "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
                          "stem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
                          "stages: [{channels: 8, stride: 1}, {channels: 16, stride: 2}]\n"
                          "head: {channels: 32}\n"
                          "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3, 5], "
                          "expansion: [1, 3], bits: [4, 8]}\n",
                          "small.yaml", HAO_SHARED_DATA)
          .mbv2,
      hw::load_device("zu3eg"));
  return d;
}

ProfileOptions quick() {
  ProfileOptions o;
  o.warmup = 1;
  o.repeats = 3;
  o.threads = 1;
  return o;
}

TEST(CpuTable, PiecesAreMeasuredOnceAndTheTableRoundTrips) {
  const search::Mbv2Domain& d = small_domain();
  CpuTable t = new_cpu_table(1);
  EXPECT_EQ(t.cpu, host_cpu());
  EXPECT_EQ(t.threads, 1);
  const search::Genotype g = d.largest();
  const double ms = cpu_table_ms(t, d, g, quick());
  EXPECT_GT(ms, 0);
  EXPECT_EQ(t.piece_ms.size(), d.pieces(g).size());  // stem, every block, head: all distinct
  const std::size_t size = t.piece_ms.size();
  EXPECT_EQ(cpu_table_ms(t, d, g, quick()), ms);  // from the table now: nothing measured again
  EXPECT_EQ(t.piece_ms.size(), size);
  // The same pieces at other bits: CPU latency is float, the table already has them.
  search::Genotype other_bits = g;
  other_bits.back() = 0;
  EXPECT_EQ(cpu_table_ms(t, d, other_bits, quick()), ms);

  const std::string path = ::testing::TempDir() + "cpu_table.json";
  save_cpu_table(t, path);
  const CpuTable back = load_cpu_table(path, 1);
  EXPECT_EQ(back.piece_ms, t.piece_ms);
  EXPECT_EQ(back.cpu, t.cpu);
}

TEST(CpuTable, ATableOfAnotherMachineOrThreadCountIsRefused) {
  const std::string path = ::testing::TempDir() + "cpu_table_other.json";
  CpuTable t = new_cpu_table(1);
  t.piece_ms["name: x"] = 0.5;
  t.cpu = "Another CPU 9000";
  save_cpu_table(t, path);
  try {
    load_cpu_table(path, 1);
    ADD_FAILURE() << "another CPU's table accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'Another CPU 9000'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(host_cpu()), std::string::npos) << e.what();
  }
  t.cpu = host_cpu();
  t.threads = 1;
  save_cpu_table(t, path);
  EXPECT_NO_THROW(load_cpu_table(path, 1));
  if (new_cpu_table(2).threads == 2) {
    EXPECT_THROW(load_cpu_table(path, 2), core::InputError);
  }
  core::write_file(path,
                   "{\"cpu\": \"" + host_cpu() + "\", \"threads\": 1, \"pieces\": {\"a\": -1}}");
  EXPECT_THROW(load_cpu_table(path, 1), core::InputError);
  core::write_file(path, "[1, 2]");
  EXPECT_THROW(load_cpu_table(path, 1), core::InputError);
}

TEST(CpuTable, CheckComparesTablePredictionsWithWholeNetworks) {
  const search::Mbv2Domain& d = small_domain();
  CpuTable t = new_cpu_table(1);
  std::size_t calls = 0;
  const CpuTableCheck c =
      check_cpu_table(t, d, 3, 5, quick(), [&](std::size_t, std::size_t) { ++calls; });
  ASSERT_EQ(c.rows.size(), 3u);
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(c.pieces_measured, t.piece_ms.size());
  double sum = 0;
  for (const auto& r : c.rows) {
    EXPECT_GT(r.predicted_ms, 0);
    EXPECT_GT(r.measured_ms, 0);
    sum += 100 * std::abs(r.predicted_ms - r.measured_ms) / r.measured_ms;
  }
  EXPECT_NEAR(c.mape_pct, sum / 3, 1e-9);
  EXPECT_GE(c.max_ape_pct, c.mape_pct);
}

}  // namespace
}  // namespace hao::nn
