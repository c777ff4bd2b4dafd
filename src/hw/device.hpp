// FPGA devices: resources, clock, off-chip bandwidth and the usable fraction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/engine.hpp"

namespace hao::hw {

/// DSP slice generation: decides how many low-precision products one slice computes.
enum class DspKind { kDsp48e1, kDsp48e2, kDsp58 };

/// Resource amounts of one kind (a device's, a layer's, a design's).
struct Resources {
  double dsp = 0, lut = 0, bram36 = 0, uram = 0;
  Resources& operator+=(const Resources& o) {
    dsp += o.dsp, lut += o.lut, bram36 += o.bram36, uram += o.uram;
    return *this;
  }
};

struct Device {
  std::string name;    ///< short name, e.g. "zu3eg"
  std::string part;    ///< e.g. "xczu3eg-sbva484-1-e"
  std::string boards;  ///< boards that carry it, for messages
  std::int64_t lut = 0, ff = 0, bram36 = 0, uram = 0, dsp = 0;
  DspKind dsp_kind = DspKind::kDsp48e2;
  double clock_mhz = 200;         ///< fabric clock of the accelerator
  double offchip_gbps = 4.0;      ///< off-chip bandwidth the accelerator sees, GB/s
  double usable_fraction = 0.85;  ///< share of each resource a design may use (routing, shell)
  std::string source;             ///< where the numbers come from
  bool engine_pinned = false;     ///< the device file fixes the engine shape (a given product)
  EngineShape engine;             ///< the pinned shape, when engine_pinned

  /// Resources a design may use: each total times usable_fraction, rounded down.
  Resources usable() const;
};

/// Names of the built-in devices (zu2eg, zu3eg, zu7ev, zu9eg, zu28dr, xc7z020, u250).
std::vector<std::string> builtin_device_names();

/// Overrides a user may set on any device.
struct DeviceOverrides {
  double clock_mhz = 0;  ///< 0 keeps the device's
  double offchip_gbps = 0;
  double usable_fraction = 0;
};

/// Resolves NAME (a built-in, case-insensitive) or a YAML file path into a device, then
/// applies overrides. A YAML device has keys name, lut, bram36, dsp and optionally part,
/// ff, uram, dsp_kind (dsp48e1|dsp48e2|dsp58), clock_mhz, offchip_gbps, usable_fraction, and
/// engine: {pp, pi, po} to pin the layer-sequential engine's shape (e.g. a DPU B4096).
/// Throws core::InputError for an unknown name (listing the built-ins) or a bad file.
Device load_device(const std::string& name_or_path, const DeviceOverrides& overrides = {});

}  // namespace hao::hw
