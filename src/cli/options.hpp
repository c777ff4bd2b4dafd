// The options several commands share, registered in one place so that their names, help,
// checks and defaults agree: --device and its overrides, --threads, --seed, --json.
#pragma once

#include <string>

#include "hw/device.hpp"

namespace CLI {
class App;
class Validator;
}  // namespace CLI

namespace hao::cli {

/// A check for options that must be a number above 0: "expected a number > 0, got '0'"
/// (CLI11's PositiveNumber names a range up to 1.8e308 written out in full).
CLI::Validator positive_number();

/// --device and, where a command takes them, --clock-mhz, --offchip-gbps, --usable-fraction.
struct DeviceArgs {
  std::string name = "zu3eg";  ///< a built-in device or a YAML file; "" = none given
  hw::DeviceOverrides overrides;
  /// hw::load_device with the overrides; InputError naming the device otherwise.
  hw::Device load() const;
};

/// Registers --device (built-in names listed in its help, or `help` when given) and, with
/// `overrides`, the three overrides.
void add_device_options(CLI::App& cmd, DeviceArgs& device, bool overrides = true,
                        const std::string& help = {});

/// --threads: CPU threads for `use`, 0 (the default) for all cores.
void add_threads_option(CLI::App& cmd, int& threads, const std::string& use);

/// --seed of `what`, its default shown.
void add_seed_option(CLI::App& cmd, unsigned& seed, const std::string& what);

/// --batchnorm: auto, always or never (nn::TrainingNorms), for commands that train.
void add_batchnorm_option(CLI::App& cmd, std::string& policy);

/// --json: write `what` as JSON to this file, '-' for stdout (write_output).
void add_json_option(CLI::App& cmd, std::string& path, const std::string& what);

}  // namespace hao::cli
