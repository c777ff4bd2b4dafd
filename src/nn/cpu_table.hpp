// The host CPU as a search target: a network of a generative space runs its pieces (stem, each
// block, head) one after another, so its batch-1 latency is predicted as the sum of its pieces'
// latencies, each measured alone with LibTorch (as hao profile measures a network) once and kept
// in a table. The table belongs to one CPU model and thread count; it is stored with both and
// refused on another machine.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nn/profile.hpp"
#include "search/mbv2_domain.hpp"

namespace hao::nn {

/// "model name" of /proc/cpuinfo ("unknown" where there is none).
std::string host_cpu();

struct CpuTable {
  std::string cpu;                         ///< host_cpu() where it was measured
  int threads = 0;                         ///< LibTorch's intra-op threads it was measured with
  std::map<std::string, double> piece_ms;  ///< piece description -> median ms alone
};

/// A table for this machine at `threads` (0: all cores, as use_threads resolves it), empty.
CpuTable new_cpu_table(int threads);
/// Reads a table; InputError naming the file for a bad one, or for one measured on another CPU
/// model or thread count than this machine's at `threads` (naming both).
CpuTable load_cpu_table(const std::string& path, int threads);
void save_cpu_table(const CpuTable& table, const std::string& path);
/// load_cpu_table when `path` exists, else new_cpu_table.
CpuTable open_cpu_table(const std::string& path, int threads);

/// A piece's latency from the table (its description as search::Mbv2Domain::pieces gives
/// it), measured alone with `options` and added when the table lacks it.
double piece_ms(CpuTable& table, const std::string& description, const ProfileOptions& options);

/// g's latency from the table: the sum of its pieces' (search::Mbv2Domain::pieces, piece_ms).
double cpu_table_ms(CpuTable& table, const search::Mbv2Domain& domain, const search::Genotype& g,
                    const ProfileOptions& options);

/// The host CPU as a search target over a table (search::LatencyTarget for
/// NetworkDomain::set_target): networks priced from their pieces, a part alone from its own
/// entry, each measured with `options` when the table lacks it and the table then saved to
/// `path` (after each look-up that added pieces). One lock around every look-up: a piece is
/// measured while nothing else is.
class CpuTarget {
 public:
  CpuTarget(CpuTable table, std::string path, const search::Mbv2Domain& domain,
            ProfileOptions options)
      : table_(std::move(table)), path_(std::move(path)), domain_(domain), options_(options) {}
  search::LatencyTarget target();
  std::size_t pieces() const;
  std::size_t measured() const { return measured_; }  ///< pieces measured by this target

 private:
  /// `look_up` under the lock; the table saved when it added pieces.
  double kept(const std::function<double()>& look_up);

  CpuTable table_;
  std::string path_;
  const search::Mbv2Domain& domain_;
  ProfileOptions options_;
  mutable std::mutex mutex_;
  std::size_t measured_ = 0;
};

struct CpuTableCheck {
  struct Row {
    std::string label;
    double predicted_ms = 0, measured_ms = 0;
  };
  std::vector<Row> rows;
  double mape_pct = 0, max_ape_pct = 0;
  std::size_t pieces_measured = 0;  ///< pieces the check added to the table
};

/// The table against whole networks: `networks` random genotypes (rng_for(seed, i)), each
/// measured whole with `options` and predicted from the table (pieces measured as needed).
/// `progress(done, total)` after each.
CpuTableCheck check_cpu_table(CpuTable& table, const search::Mbv2Domain& domain, int networks,
                              std::uint64_t seed, const ProfileOptions& options,
                              const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace hao::nn
