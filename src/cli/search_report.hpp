// The report folder of a stored study: the Pareto table, pareto.csv, pareto.json, the Pareto
// plot (gnuplot: PNG and SVG) and index.html with the chosen design's per-layer table and
// FINN-style folding file.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ir/network.hpp"
#include "search/domain.hpp"
#include "search/strategy.hpp"
#include "store/study_store.hpp"

namespace hao::cli {

/// A genotype as the store keeps it ("3,0,2,...") and back; a damaged code throws InputError
/// naming `where`.
std::string genotype_code(const search::Genotype& g);
search::Genotype parse_code(const std::string& code, const std::string& where);

/// "stem w8a8, 9 layers w4a4, 6 layers w8a8, classifier w8a8": weighted layers by bits.
std::string bits_summary(const ir::Network& net);

/// What the strategies minimize and the frontier is over: the frame interval, 1000 / fps ms
/// (on a table, its latency up to rounding; Mbv2Domain::latency_ms says the same); kInfeasibleMs
/// for a design that fits nowhere.
double frame_interval_ms(const store::EvaluationRecord& r);

/// What a strategy is told of a stored evaluation of `g`: its accuracy, frame interval and
/// the per-layer sensitivity measured after training (extra's "sensitivity": layer name ->
/// bits -> Omega; absent for tables and older studies).
search::Observation observation_of(const store::EvaluationRecord& r, const search::Genotype& g);

/// The designs fine-tuned at the end: the evaluated Pareto fronts (validation accuracy up,
/// latency down) peeled one after another, most accurate first within a front, one design per
/// fps first (others only when no new speed is left), until `n`. Infeasible designs never
/// qualify.
std::vector<std::size_t> pick_finalists(const std::vector<store::EvaluationRecord>& records,
                                        std::size_t n);

struct ReportOptions {
  std::string out_dir;
  std::string json_out;  ///< also write pareto.json's content here ('-' = stdout)
};

/// Prints the Pareto table and writes the folder. The frontier holds the designs measured on
/// the test set (trained spaces) or every evaluation (tabular). The chosen design is the
/// frontier's knee: the largest sum of accuracy and log fps, each normalized over the frontier.
void write_search_report(const store::StudyStore& db, const std::string& study,
                         const ReportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
