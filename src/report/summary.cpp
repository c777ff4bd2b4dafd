#include "report/summary.hpp"

#include "core/text.hpp"

namespace hao::report {

std::string network_line(const ir::Network& net) {
  return "network  " + net.name + ": " + std::to_string(net.layers.size()) + " layers, " +
         core::fixed(static_cast<double>(net.total_macs()) / 1e6, 1) + " M MACs, " +
         core::fixed(static_cast<double>(net.total_params_deployed()) / 1e6, 3) +
         " M parameters, " + "input " + ir::to_string(net.input) + "\n";
}

std::string device_line(const hw::Device& device) {
  std::string about = device.part;
  if (!device.boards.empty()) about += (about.empty() ? "" : ", ") + device.boards;
  return "device   " + device.name + (about.empty() ? "" : " (" + about + ")") + " at " +
         core::fixed(device.clock_mhz, 0) + " MHz, " + core::fixed(device.offchip_gbps, 1) +
         " GB/s, usable fraction " + core::fixed(device.usable_fraction, 2) + "\n";
}

nlohmann::ordered_json resources_json(const hw::Resources& x) {
  return {{"dsp", x.dsp}, {"lut", x.lut}, {"bram36", x.bram36}, {"uram", x.uram}};
}

nlohmann::ordered_json network_json(const ir::Network& net) {
  return {{"name", net.name},
          {"layers", net.layers.size()},
          {"macs", net.total_macs()},
          {"params_deployed", net.total_params_deployed()},
          {"params_trained", net.total_params_trained()},
          {"input", {net.input.c, net.input.h, net.input.w}}};
}

nlohmann::ordered_json device_json(const hw::Device& device) {
  return {{"name", device.name},
          {"part", device.part},
          {"clock_mhz", device.clock_mhz},
          {"offchip_gbps", device.offchip_gbps},
          {"usable_fraction", device.usable_fraction},
          {"total",
           resources_json({static_cast<double>(device.dsp), static_cast<double>(device.lut),
                           static_cast<double>(device.bram36), static_cast<double>(device.uram)})},
          {"usable", resources_json(device.usable())}};
}

std::string count(double v) { return core::with_commas(static_cast<std::int64_t>(v)); }

std::string percent(double used, double total) {
  if (total <= 0) return "-";
  return core::fixed(100.0 * used / total, 1) + "%";
}

}  // namespace hao::report
