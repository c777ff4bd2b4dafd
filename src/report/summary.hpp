// The lines and JSON blocks every report starts with: the network and the device.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "hw/device.hpp"
#include "ir/network.hpp"

namespace hao::report {

/// "network  NAME: L layers, M MACs, P parameters, input CxHxW\n"
std::string network_line(const ir::Network& net);
/// "device   NAME (part, boards) at F MHz, B GB/s, usable fraction U\n"
std::string device_line(const hw::Device& device);

nlohmann::ordered_json resources_json(const hw::Resources& r);
nlohmann::ordered_json network_json(const ir::Network& net);
nlohmann::ordered_json device_json(const hw::Device& device);

/// A whole count with thousands separators, and a share of a total ("-" when none).
std::string count(double v);
std::string percent(double used, double total);

}  // namespace hao::report
