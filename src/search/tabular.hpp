// Tabular benchmarks: a search space whose every candidate has a recorded accuracy and
// latency (NAS-Bench-201 with HW-NAS-Bench latencies; the Accel-NASBench sample).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "search/domain.hpp"
#include "search/nn_degree.hpp"
#include "search/pareto.hpp"

namespace hao::search {

/// Where a tabular space's numbers come from. Latency rows join the accuracy rows on
/// arch_index (or result_id) when both files have it, row by row when they are one file.
struct TabularSource {
  std::string space;  ///< "nb201" or "anb"
  std::string accuracy_file, accuracy_column;
  std::string latency_file, latency_column;
};

/// The defaults under a data folder (shared/data): nb201 CIFAR-10 test accuracy with the
/// fpga column of HW-NAS-Bench; anb proxy top-1 with the measured ZCU102 latency.
TabularSource default_source(const std::string& space, const std::string& data_dir);

class TabularDomain : public Domain {
 public:
  /// Reads the tables. Rows whose latency is empty or NaN are skipped (counted); rows of one
  /// genotype are averaged (counted); a bad
  /// number, a missing column or an unparsable genotype throws InputError naming file, line
  /// and value.
  explicit TabularDomain(const TabularSource& source);

  const std::vector<Slot>& slots() const override { return slots_; }
  bool valid(const Genotype& g) const override { return index_.count(g) != 0; }
  Genotype random(Rng& rng) const override;
  Genotype snap(const Genotype& g, Rng& rng) const override;
  double latency_ms(const Genotype& g) const override { return rows_[row(g)].latency_ms; }
  std::optional<std::vector<Genotype>> enumerate() const override;
  std::vector<double> features(const Genotype& g) const override;
  std::string label(const Genotype& g) const override { return rows_[row(g)].arch; }
  /// nb201: NN-Degree counted as set_counting says (kWeights by default: it ranks best,
  /// docs/benchmarks.md); anb: MnasNet blocks.
  std::optional<Topology> topology(const Genotype& g) const override;
  void set_counting(Nb201Counting counting) { counting_ = counting; }

  /// The recorded accuracy: the "training" of a tabular benchmark.
  double accuracy(const Genotype& g) const { return rows_[row(g)].accuracy; }
  /// The genotype of an arch string; InputError naming `where` when it is not in the table.
  Genotype parse(const std::string& arch, const std::string& where) const;
  std::size_t size() const { return rows_.size(); }
  std::size_t skipped() const { return skipped_; }
  /// Rows whose genotype an earlier row already had (averaged into it).
  std::size_t merged() const { return merged_; }
  const TabularSource& source() const { return source_; }
  /// Every row's objectives, for the exact front and the normalization.
  std::vector<Objectives> all_objectives() const;

 private:
  struct Row {
    Genotype genotype;
    std::string arch;
    double accuracy = 0, latency_ms = 0;
    int repeats = 1;
  };
  std::size_t row(const Genotype& g) const;

  TabularSource source_;
  std::vector<Slot> slots_;
  std::vector<Row> rows_;
  std::map<Genotype, std::size_t> index_;
  std::size_t skipped_ = 0, merged_ = 0;
  Nb201Counting counting_ = Nb201Counting::kWeights;
};

}  // namespace hao::search
