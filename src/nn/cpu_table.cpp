#include "nn/cpu_table.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "nn/train.hpp"

namespace hao::nn {
namespace {

double measure(const std::string& description, const ProfileOptions& options) {
  ir::Network net = ir::parse_description(description, "a network piece");
  ir::derive_elementwise_bits(net);
  IrNet model(net);
  ProfileOptions o = options;
  o.per_layer = false;
  return profile(model, o).median_ms;
}

}  // namespace

std::string host_cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const auto start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "unknown" : line.substr(start);
    }
  return "unknown";
}

CpuTable new_cpu_table(int threads) {
  use_threads(threads);
  return {host_cpu(), torch::get_num_threads(), {}};
}

CpuTable load_cpu_table(const std::string& path, int threads) {
  const nlohmann::json j = core::read_json(path);
  CpuTable t = new_cpu_table(threads);
  try {
    const std::string cpu = j.at("cpu").get<std::string>();
    const int stored = j.at("threads").get<int>();
    if (cpu != t.cpu || stored != t.threads)
      throw core::InputError(path + ": a CPU table measured on '" + cpu + "' with " +
                             std::to_string(stored) + " thread(s); this machine is '" + t.cpu +
                             "' with " + std::to_string(t.threads) +
                             " (measure a table of its own: another --table file)");
    for (const auto& [description, ms] : j.at("pieces").items()) {
      if (!ms.is_number() || ms.get<double>() <= 0)
        throw core::InputError(path + ": pieces: a latency '" + ms.dump() +
                               "', expected a positive number of ms");
      t.piece_ms[description] = ms.get<double>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(path + ": not a CPU table (cpu, threads, pieces): " + e.what());
  }
  return t;
}

void save_cpu_table(const CpuTable& t, const std::string& path) {
  nlohmann::ordered_json j{{"cpu", t.cpu}, {"threads", t.threads}, {"pieces", t.piece_ms}};
  core::write_file(path, j.dump(1) + "\n");
}

CpuTable open_cpu_table(const std::string& path, int threads) {
  return std::filesystem::exists(path) ? load_cpu_table(path, threads) : new_cpu_table(threads);
}

double cpu_table_ms(CpuTable& table, const search::Mbv2Domain& domain, const search::Genotype& g,
                    const ProfileOptions& options) {
  double sum = 0;
  for (const auto& [name, description] : domain.pieces(g))
    sum += piece_ms(table, description, options);
  return sum;
}

double piece_ms(CpuTable& table, const std::string& description, const ProfileOptions& options) {
  auto it = table.piece_ms.find(description);
  if (it == table.piece_ms.end())
    it = table.piece_ms.emplace(description, measure(description, options)).first;
  return it->second;
}

double CpuTarget::kept(const std::function<double()>& look_up) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t before = table_.piece_ms.size();
  const double ms = look_up();
  if (table_.piece_ms.size() > before) {
    measured_ += table_.piece_ms.size() - before;
    save_cpu_table(table_, path_);
  }
  return ms;
}

search::LatencyTarget CpuTarget::target() {
  search::LatencyTarget t;
  t.name = "cpu";
  t.network = [this](const search::Genotype& g) {
    search::Hardware h;
    h.feasible = true;
    h.latency_ms = kept([&] { return cpu_table_ms(table_, domain_, g, options_); });
    h.fps = 1000.0 / h.latency_ms;
    return h;
  };
  t.part_ms = [this](const std::string& description) {
    return kept([&] { return piece_ms(table_, description, options_); });
  };
  t.part_bits = 8;  // the table keys pieces at 8 bits: a CPU computes in float
  return t;
}

std::size_t CpuTarget::pieces() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_.piece_ms.size();
}

CpuTableCheck check_cpu_table(CpuTable& table, const search::Mbv2Domain& domain, int networks,
                              std::uint64_t seed, const ProfileOptions& options,
                              const std::function<void(std::size_t, std::size_t)>& progress) {
  CpuTableCheck c;
  const std::size_t before = table.piece_ms.size();
  double sum = 0;
  for (int i = 0; i < networks; ++i) {
    search::Rng rng = search::rng_for(seed, static_cast<std::uint64_t>(i));
    const search::Genotype g = domain.random(rng);
    CpuTableCheck::Row r{domain.label(g), cpu_table_ms(table, domain, g, options), 0};
    r.measured_ms = measure(domain.description(g), options);
    const double ape = 100 * std::abs(r.predicted_ms - r.measured_ms) / r.measured_ms;
    sum += ape;
    c.max_ape_pct = std::max(c.max_ape_pct, ape);
    c.rows.push_back(r);
    if (progress) progress(c.rows.size(), static_cast<std::size_t>(networks));
  }
  c.mape_pct = networks > 0 ? sum / networks : 0;
  c.pieces_measured = table.piece_ms.size() - before;
  return c;
}

}  // namespace hao::nn
