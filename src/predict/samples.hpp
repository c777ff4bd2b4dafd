// Measured latencies of search-space architectures, read from CSV files.
#pragma once

#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::predict {

/// The search spaces whose genotypes hao expands (ir/genotype.hpp).
enum class Space { kAnb, kNb201 };
Space parse_space(const std::string& name);  ///< "anb" or "nb201"; InputError otherwise
std::string space_name(Space space);
/// The CSV column that holds the genotype: arch_mnasnet_blocks or arch_str.
std::string arch_column(Space space);
/// Expands a genotype of `space` into a network.
ir::Network expand(Space space, const std::string& arch, const std::string& where);

struct Sample {
  std::string arch;
  ir::Network net;
  double measured_ms = 0;
  std::size_t line = 0;  ///< line in the measurements file (header = 1)
};

struct SampleSet {
  Space space = Space::kAnb;
  std::string column;
  std::string source;  ///< the measurements file
  std::vector<Sample> samples;
  std::size_t skipped_missing = 0;  ///< rows whose measurement is empty or NaN
};

/// Reads `column` of `measurements` with each row's genotype. The genotype comes from the
/// arch column of the same file or, when it has none, from `archs` joined on arch_index
/// (NAS-Bench-201's latency table has no arch strings). Rows with an empty or NaN measurement
/// are skipped and counted; a non-numeric or non-positive value, a missing column or an
/// unknown genotype throws InputError naming the file, line and value.
SampleSet load_samples(Space space, const std::string& measurements, const std::string& column,
                       const std::string& archs = "");

}  // namespace hao::predict
