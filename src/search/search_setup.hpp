#pragma once
// hao search before it runs: the space read and the options checked against it, the study's
// defaults (budget, name) and the domain on its latency target. Nothing here trains: the
// evaluator (scratch training or a supernet, LibTorch's) is the caller's, built for the study
// this names.

#include <functional>
#include <memory>
#include <string>

#include "hw/device.hpp"
#include "search/domain.hpp"
#include "search/network_domain.hpp"
#include "search/space_spec.hpp"
#include "search/study.hpp"

namespace hao::search {

class Mbv2Domain;

/// The default budgets: networks judged on a supernet, trained from scratch, looked up.
inline constexpr int kSupernetBudget = 150;
inline constexpr int kScratchBudget = 10;
inline constexpr int kTabularBudget = 50;

/// What a search is asked for: the options that decide its space, evaluator, target and study.
struct SearchRequest {
  std::string space = "fmnist-mbv2";  ///< a built-in space's name or a space YAML file
  std::string data_dir;               ///< reference data of tabular spaces
  /// Tabular spaces: latencies from this file's column instead of the space's own (both or none).
  std::string latency_file, latency_column;
  /// "scratch" (each candidate trained), "supernet" (judged with inherited weights) or empty:
  /// supernet on mbv2 spaces (the only kind supernets are built for), else scratch.
  std::string evaluator;
  std::string target = "dataflow";  ///< dataflow (program 1), engine (program 2) or cpu
  std::string latency_model;        ///< target engine: a calibrated pinned engine (hao calibrate)
  bool no_reuse = false;            ///< the supernet memo is not read
  long qat_steps = 0;               ///< scratch candidates' QAT batches (0: judged in float)
  double evaluation_delay_s = 0;    ///< tabular spaces: seconds each evaluation waits
  double ilp_time_limit_s = 20;
  /// Evaluations; 0: the default (kSupernetBudget, kScratchBudget, kTabularBudget; autoshrink:
  /// its trajectory's length). It replaces study.budget.
  int budget = 0;
  /// The study; an empty name is SPACE-STRATEGY[-supernet]-TARGET-sSEED. Its strategy options'
  /// log_latency, spread, sensitivity_trend and the cheap asks of a supernet are set here.
  StudyOptions study;
  /// Target cpu: the host CPU's latencies for an mbv2 domain (LibTorch's; nn::CpuTarget).
  /// Empty: target cpu is refused (a hao built without LibTorch).
  std::function<LatencyTarget(const Mbv2Domain&)> host_cpu;
};

/// A search ready to run (search::run_study), once the caller builds a trained space's evaluator.
struct SearchSetup {
  SpaceSpec spec;
  std::string yaml;       ///< the space as kept with the study
  bool tabular = false;   ///< a table's look-ups, no training
  bool supernet = false;  ///< judged on the space's supernet
  StudyOptions study;     ///< budget and name resolved, validated
  std::unique_ptr<Domain> domain;
  /// A table's look-ups (with the request's evaluation delay); null for a trained space, whose
  /// evaluator the caller builds for this study.
  std::unique_ptr<Evaluator> evaluator;
  /// Where latency comes from, for a progress line (", device zu3eg", ", target the host CPU").
  std::string target_text;
  /// The domain as a network domain (null for a table).
  NetworkDomain* network() const { return dynamic_cast<NetworkDomain*>(domain.get()); }
};

/// Reads the space (built-in or YAML), refuses options that do not apply to it (one
/// core::InputError naming the option and the value, before any training: e.g. --latency on a
/// trained space, --evaluator supernet on a table, --warm-start without a supernet or with
/// --no-reuse, a budget beyond a table's size, --target cpu on another kind than mbv2, too many
/// netadapt --layers), builds the domain on `device` and on the requested target, and names the
/// study (one study per space, strategy, evaluator, target and seed). The netadapt and hurricane
/// strategies are built once to check them (hurricane's operator selection prices operators on
/// the target).
SearchSetup prepare_search(const SearchRequest& request, const hw::Device& device);

}  // namespace hao::search
