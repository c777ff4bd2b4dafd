#include "hw/device.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::hw {
namespace {

// Resource totals from shared/data/fpga/devices.csv (Xilinx DS891, DS190, DS962; FINN
// platforms.py). Clocks are the usual FINN/Vitis targets for each family (200 MHz on
// UltraScale+ MPSoC, 100 MHz on Zynq-7000, 250 MHz on Alveo); bandwidths are the board
// DRAM peaks: Ultra96 LPDDR4 32-bit at 2133 MT/s (8.5 GB/s), ZCU102/ZCU104/ZCU111 PS DDR4
// 64-bit at 2400 MT/s (19.2 GB/s), Pynq-Z1 DDR3 16-bit at 1050 MT/s (4.2 GB/s), U250 four
// DDR4 64-bit channels at 2400 MT/s (77 GB/s). The usable fraction leaves room for routing;
// on the U250 it also excludes the static shell region.
// One row per part, as in shared/data/fpga/devices.csv; engine pinning is for device files.
struct BuiltinPart {
  const char* name;
  const char* part;
  const char* boards;
  std::int64_t lut, ff, bram36, uram, dsp;
  DspKind dsp_kind;
  double clock_mhz, offchip_gbps, usable_fraction;
  const char* source;
};
// clang-format off
constexpr BuiltinPart kBuiltins[] = {
  {"zu2eg",   "xczu2eg-sfvc784-1-e",   "",                    47232,   94464,  150,    0,   240, DspKind::kDsp48e2, 200,  8.5, 0.85, "Xilinx DS891"},
  {"zu3eg",   "xczu3eg-sbva484-1-e",   "Ultra96, Ultra96-V2", 70560,  141120,  216,    0,   360, DspKind::kDsp48e2, 200,  8.5, 0.85, "Xilinx DS891"},
  {"zu7ev",   "xczu7ev-ffvc1156-2-e",  "ZCU104",             230400,  460800,  312,   96,  1728, DspKind::kDsp48e2, 200, 19.2, 0.85, "Xilinx DS891; FINN platforms.py"},
  {"zu9eg",   "xczu9eg-ffvb1156-2-e",  "ZCU102",             274080,  548160,  912,    0,  2520, DspKind::kDsp48e2, 200, 19.2, 0.85, "Xilinx DS891"},
  {"zu28dr",  "xczu28dr-ffvg1517-2-e", "ZCU111, RFSoC2x2",   425280,  850560, 1080,   80,  4272, DspKind::kDsp48e2, 200, 19.2, 0.85, "FINN platforms.py"},
  {"xc7z020", "xc7z020clg400-1",       "Pynq-Z1, Pynq-Z2",    53200,  106400,  140,    0,   220, DspKind::kDsp48e1, 100,  4.2, 0.85, "Xilinx DS190; FINN platforms.py"},
  {"u250",    "xcu250-figd2104-2L-e",  "Alveo U250",        1728000, 3456000, 2688, 1280, 12288, DspKind::kDsp48e2, 250, 77.0, 0.75, "Xilinx DS962 (whole device, shell included)"},
};
// clang-format on

Device to_device(const BuiltinPart& b) {
  Device d;
  d.name = b.name;
  d.part = b.part;
  d.boards = b.boards;
  d.lut = b.lut, d.ff = b.ff, d.bram36 = b.bram36, d.uram = b.uram, d.dsp = b.dsp;
  d.dsp_kind = b.dsp_kind;
  d.clock_mhz = b.clock_mhz;
  d.offchip_gbps = b.offchip_gbps;
  d.usable_fraction = b.usable_fraction;
  d.source = b.source;
  return d;
}

DspKind parse_dsp_kind(const std::string& text, const std::string& where) {
  const std::string t = core::to_lower(text);
  if (t == "dsp48e1") return DspKind::kDsp48e1;
  if (t == "dsp48e2") return DspKind::kDsp48e2;
  if (t == "dsp58") return DspKind::kDsp58;
  throw core::InputError(where + ": dsp_kind = '" + text + "', expected dsp48e1, dsp48e2 or dsp58");
}

Device read_device_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(core::read_file(path));
  } catch (const YAML::Exception& e) {
    throw core::InputError(path + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  core::IssueList issues(path);
  if (!root.IsMap()) {
    issues.add("", "expected a map with name, lut, bram36 and dsp");
    issues.throw_if_any();
  }
  Device d;
  d.source = path;
  const std::vector<std::string> keys = {"name",     "part",      "boards",       "lut",
                                         "ff",       "bram36",    "uram",         "dsp",
                                         "dsp_kind", "clock_mhz", "offchip_gbps", "usable_fraction",
                                         "engine"};
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();  // empty unless a plain scalar
    bool known = false;
    for (const auto& k : keys) known = known || k == key;
    if (!known)
      issues.add(kv.first.IsScalar() ? key : "line " + std::to_string(kv.first.Mark().line + 1),
                 "unknown key, expected " + core::join_choices(keys));
  }
  auto get_count = [&](const char* key, std::int64_t& out, bool required) {
    const YAML::Node n = root[key];
    if (!n) {
      if (required) issues.add(key, "missing");
      return;
    }
    if (!n.IsScalar() || !core::parse_int(n.Scalar(), out) || out < 0)
      issues.add(key, "'" + (n.IsScalar() ? n.Scalar() : std::string("?")) +
                          "', expected a non-negative integer");
  };
  auto get_real = [&](const char* key, double& out, double lo, double hi) {
    const YAML::Node n = root[key];
    if (!n) return;
    if (!n.IsScalar() || !core::parse_double(n.Scalar(), out) || !(out > lo && out <= hi))
      issues.add(key, "'" + (n.IsScalar() ? n.Scalar() : std::string("?")) +
                          "', expected a number in (" + core::fixed(lo, 0) + ", " +
                          core::fixed(hi, 0) + "]");
  };
  if (root["name"] && root["name"].IsScalar())
    d.name = root["name"].Scalar();
  else
    issues.add("name", "missing");
  if (root["part"] && root["part"].IsScalar()) d.part = root["part"].Scalar();
  if (root["boards"] && root["boards"].IsScalar()) d.boards = root["boards"].Scalar();
  get_count("lut", d.lut, true);
  get_count("ff", d.ff, false);
  get_count("bram36", d.bram36, true);
  get_count("uram", d.uram, false);
  get_count("dsp", d.dsp, true);
  get_real("clock_mhz", d.clock_mhz, 0, 2000);
  get_real("offchip_gbps", d.offchip_gbps, 0, 10000);
  get_real("usable_fraction", d.usable_fraction, 0, 1);
  if (const YAML::Node e = root["engine"]) {
    std::int64_t* lanes[] = {&d.engine.pp, &d.engine.pi, &d.engine.po};
    const char* names[] = {"pp", "pi", "po"};
    bool ok = e.IsMap();
    for (int i = 0; ok && i < 3; ++i) {
      const YAML::Node v = e[names[i]];
      if (!v || !v.IsScalar() || !core::parse_int(v.Scalar(), *lanes[i]) || *lanes[i] < 1 ||
          *lanes[i] > 4096)
        ok = false;
    }
    if (ok)
      d.engine_pinned = true;
    else
      issues.add("engine", "expected {pp: P, pi: I, po: O} with each in 1..4096");
  }
  if (root["dsp_kind"]) {
    try {
      d.dsp_kind = parse_dsp_kind(root["dsp_kind"].Scalar(), path);
    } catch (const core::InputError& e) {
      issues.absorb(e);
    }
  }
  issues.throw_if_any();
  return d;
}

}  // namespace

Resources Device::usable() const {
  auto u = [&](std::int64_t total) {
    return std::floor(static_cast<double>(total) * usable_fraction);
  };
  return {u(dsp), u(lut), u(bram36), u(uram)};
}

std::vector<std::string> builtin_device_names() {
  std::vector<std::string> names;
  for (const auto& d : kBuiltins) names.push_back(d.name);
  return names;
}

Device load_device(const std::string& name_or_path, const DeviceOverrides& overrides) {
  Device device;
  bool found = false;
  const std::string key = core::to_lower(name_or_path);
  for (const auto& d : kBuiltins) {
    if (d.name == key || core::to_lower(d.part).rfind(key, 0) == 0) {
      device = to_device(d);
      found = true;
      break;
    }
  }
  if (!found) {
    if (!std::filesystem::exists(name_or_path))
      throw core::InputError("--device: unknown device '" + name_or_path + "', expected " +
                             core::join_choices(builtin_device_names()) + " or a YAML device file");
    device = read_device_file(name_or_path);
  }
  if (overrides.clock_mhz < 0 || overrides.offchip_gbps < 0 || overrides.usable_fraction < 0 ||
      overrides.usable_fraction > 1)
    throw core::InputError("device overrides must be positive (usable fraction at most 1)");
  if (overrides.clock_mhz > 0) device.clock_mhz = overrides.clock_mhz;
  if (overrides.offchip_gbps > 0) device.offchip_gbps = overrides.offchip_gbps;
  if (overrides.usable_fraction > 0) device.usable_fraction = overrides.usable_fraction;
  return device;
}

}  // namespace hao::hw
