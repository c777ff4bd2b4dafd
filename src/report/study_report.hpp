// The report folder of a stored study: the Pareto table, pareto.csv, pareto.json, the Pareto
// plot (pareto.svg) and index.html with the chosen design's per-layer table and FINN-style
// folding file.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "search/autoshrink_strategy.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/netadapt_strategy.hpp"
#include "search/network_domain.hpp"
#include "search/study.hpp"
#include "store/study_store.hpp"

namespace hao::report {

struct StudyReportOptions {
  std::string out_dir;
  std::string json_out;  ///< also write pareto.json's content here ('-' = stdout)
};

/// What the report chose (trained spaces): the frontier's knee.
struct ChosenDesign {
  int index = -1;                   ///< the evaluation; -1: none (a table, or nothing measured)
  std::string genotype;             ///< its code
  std::string checkpoint;           ///< its finalist's fine-tuned checkpoint; empty: none kept
  std::string dir;                  ///< the report's chosen/ folder
  std::string target = "dataflow";  ///< the study's: dataflow, engine or cpu (no design)
};

/// Prints the Pareto table and writes the folder. The frontier holds the designs measured on
/// the test set (trained spaces) or every evaluation (tabular). The chosen design is the
/// frontier's knee (search::knee over test accuracy and fps). InputError when the study has no
/// evaluations.
ChosenDesign write_study_report(const store::StudyStore& db, const std::string& study,
                                const StudyReportOptions& options, std::ostream& out);

/// The network domain a trained study searched (its stored space, device and program-1
/// settings), for rebuilding its designs.
std::unique_ptr<search::NetworkDomain> study_domain(const store::StudyStore& db,
                                                    const std::string& study);

/// AutoShrink's trajectory: per iteration the cell kept, its edges, accuracy, MACs, frame
/// interval and score (`cost` names the score's cost term: macs or latency), the best marked;
/// printed as a table and written to `csv`.
void write_shrink_trajectory(const search::AutoShrinkDomain& domain,
                             const search::ShrinkTrajectory& trajectory, const std::string& cost,
                             const std::string& csv, std::ostream& out);

/// NetAdapt's trajectory: per iteration the network kept, its latency target, frame interval
/// and fps, its accuracy and the samples judged; printed as a table and written to `csv`.
void write_adapt_trajectory(const search::Domain& domain, const search::AdaptTrajectory& trajectory,
                            const std::string& csv, std::ostream& out);

/// HURRICANE's operator selection and evolution: per layer position its kept operators (each
/// operator's MACs, latency alone and score in `dir`/hurricane_operators.csv), then per
/// generation its members, origins and best accuracy (`dir`/hurricane_generations.csv), and
/// the most accurate network within the limit.
void write_hurricane_report(const search::Domain& domain,
                            const std::vector<search::OperatorPool>& pools,
                            const search::HurricaneTrajectory& trajectory,
                            const std::vector<search::Observation>& observations,
                            const std::string& dir, std::ostream& out);

/// What the study's strategy reports besides the frontier, written into `dir` and printed:
/// autoshrink's trajectory, netadapt's iterations or hurricane's pools and generations, each
/// replayed from the study's `observations` with the study's options; nothing for the others.
void write_strategy_report(const search::Domain& domain, const search::StudyOptions& study,
                           const std::vector<search::Observation>& observations,
                           const std::string& dir, std::ostream& out);

}  // namespace hao::report
