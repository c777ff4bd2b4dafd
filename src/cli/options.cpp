#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include "core/text.hpp"

namespace hao::cli {

CLI::Validator positive_number() {
  return CLI::Validator(
      [](const std::string& text) {
        double v = 0;
        if (core::parse_double(text, v) && v > 0) return std::string();
        return "expected a number > 0, got '" + text + "'";
      },
      "POSITIVE");
}

hw::Device DeviceArgs::load() const { return hw::load_device(name, overrides); }

void add_device_options(CLI::App& cmd, DeviceArgs& device, bool overrides,
                        const std::string& help) {
  cmd.add_option("--device", device.name,
                 help.empty()
                     ? "FPGA: a built-in device (" + core::join(hw::builtin_device_names(), ", ") +
                           ") or a YAML device file"
                     : help)
      ->capture_default_str();
  if (!overrides) return;
  cmd.add_option("--clock-mhz", device.overrides.clock_mhz, "Override the device clock")
      ->check(positive_number());
  cmd.add_option("--offchip-gbps", device.overrides.offchip_gbps, "Override the off-chip bandwidth")
      ->check(positive_number());
  cmd.add_option("--usable-fraction", device.overrides.usable_fraction,
                 "Override the share of each resource a design may use")
      ->check(CLI::Range(0.01, 1.0));
}

void add_threads_option(CLI::App& cmd, int& threads, const std::string& use) {
  cmd.add_option("--threads", threads, "CPU threads for " + use + " (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
}

void add_seed_option(CLI::App& cmd, unsigned& seed, const std::string& what) {
  cmd.add_option("--seed", seed, "Seed of " + what)->capture_default_str();
}

void add_batchnorm_option(CLI::App& cmd, std::string& policy) {
  cmd.add_option("--batchnorm", policy,
                 "Batch norms for training: auto adds one after every convolution when the "
                 "model has none (PyTorch's eval-mode ONNX export folds them away, and a deep "
                 "network without normalization does not learn); always after every convolution "
                 "without one; never trains the model as it is. Deployed, they fold into the "
                 "weights")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

void add_json_option(CLI::App& cmd, std::string& path, const std::string& what) {
  cmd.add_option("--json", path, "Write " + what + " as JSON to this file ('-' = stdout)");
}

}  // namespace hao::cli
