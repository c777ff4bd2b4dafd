#include "search/search_setup.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/json_file.hpp"
#include "predict/calibration.hpp"
#include "search/autoshrink_strategy.hpp"
#include "search/engine_target.hpp"
#include "search/mbv2_domain.hpp"
#include "search/tabular.hpp"

namespace hao::search {

namespace {

namespace fs = std::filesystem;

// The option combinations that cannot apply to the space, each refused before anything runs.
void check_request(const SearchRequest& r, const SpaceSpec& spec, bool supernet) {
  const bool tabular = spec.kind == "tabular";
  if (!r.latency_file.empty() && !tabular)
    throw core::InputError("--latency applies to tabular spaces; " + spec.name + " is trained");
  if (tabular && r.evaluator == "supernet")
    throw core::InputError("--evaluator supernet applies to generative spaces; " + spec.name +
                           " is a table (its accuracies are looked up)");
  if (!tabular && spec.kind != "mbv2" && r.evaluator == "supernet")
    throw core::InputError("--evaluator supernet: " + spec.name + " is a " + spec.kind +
                           " space, and supernets are built for mbv2 spaces only; use "
                           "--evaluator scratch");
  if (r.study.warm_start && (!supernet || r.no_reuse))
    throw core::InputError(
        "--warm-start evaluates first what earlier studies judged on the "
        "same supernet: it needs --evaluator supernet on a generative space, "
        "without --no-reuse");
  if (!tabular && r.evaluation_delay_s > 0)
    throw core::InputError("--evaluation-delay applies to tabular spaces; " + spec.name +
                           " trains its candidates");
  if (!r.latency_model.empty() && r.target != "engine")
    throw core::InputError("--latency-model prices a pinned engine: it needs --target engine");
  if (tabular && r.target != "dataflow")
    throw core::InputError("--target " + r.target +
                           ": a tabular space's latencies are its table's");
}

// The domain of a trained space on its target; `study_device` is what the study's name
// records of the target (the device, "cpu", or "engine-" and the device).
std::unique_ptr<NetworkDomain> network_domain(const SearchRequest& r, const SpaceSpec& spec,
                                              const hw::Device& device, std::string& study_device,
                                              std::string& target_text) {
  ilp::MapOptions map;
  map.solve.time_limit_s = r.ilp_time_limit_s;
  auto network = make_network_domain(spec, device, map);
  study_device = network->device().name;
  target_text = ", device " + study_device;
  if (r.target == "cpu") {
    const auto* mbv2 = dynamic_cast<const Mbv2Domain*>(network.get());
    if (!mbv2)
      throw core::InputError("--target cpu: the host CPU's piece table is for mbv2 spaces; " +
                             r.space + " is a " + spec.kind + " space");
    if (!r.host_cpu)
      throw core::InputError("--target cpu measures with LibTorch: this hao was built without it");
    network->set_target(r.host_cpu(*mbv2));
    study_device = "cpu";
    target_text = ", target the host CPU";
  } else if (r.target == "engine") {
    EngineTargetOptions eo;
    eo.map.solve.time_limit_s = r.ilp_time_limit_s;
    if (!r.latency_model.empty()) {
      eo.model = std::make_shared<const predict::EngineModel>(
          predict::read_engine_model(core::read_json(r.latency_model), r.latency_model));
      eo.model_path = r.latency_model;
    }
    network->set_target(engine_target(*network, std::move(eo)));
    target_text = ", target program 2's engine on " + study_device +
                  (r.latency_model.empty() ? "" : " (latency: " + r.latency_model + ")");
    // Another study than the dataflow one on the device, and than another model's.
    study_device = "engine-" + study_device +
                   (r.latency_model.empty() ? "" : "-" + fs::path(r.latency_model).stem().string());
  }
  return network;
}

}  // namespace

SearchSetup prepare_search(const SearchRequest& r, const hw::Device& device) {
  SearchSetup s;
  s.yaml = space_yaml(r.space);
  s.spec = parse_space(s.yaml, r.space, r.data_dir);
  s.tabular = s.spec.kind == "tabular";
  if (s.tabular && !r.latency_file.empty()) {
    s.spec.table.latency_file = r.latency_file;
    s.spec.table.latency_column = r.latency_column;
  }
  s.supernet =
      !s.tabular && (r.evaluator.empty() ? s.spec.kind == "mbv2" : r.evaluator == "supernet");
  check_request(r, s.spec, s.supernet);

  StudyOptions& so = s.study;
  so = r.study;
  so.budget = r.budget != 0 ? r.budget
                            : (s.tabular    ? kTabularBudget
                               : s.supernet ? kSupernetBudget
                                            : kScratchBudget);  // a negative one: validate()
  // See StrategyOptions: on trained spaces fps spans a factor of ten and many networks share
  // the fastest II; candidates judged at their bits make the sensitivity a trend.
  so.strategy_options.log_latency = so.strategy_options.spread = !s.tabular;
  so.strategy_options.sensitivity_trend = !s.tabular && !s.supernet && r.qat_steps > 0;
  if (s.supernet) so.strategy_options.cheap_asks();  // a judgement takes about a second
  so.validate("hao search");

  if (s.tabular) {
    auto table = std::make_unique<TabularDomain>(s.spec.table);
    if (static_cast<std::size_t>(so.budget) > table->size())
      throw core::InputError("--budget " + std::to_string(so.budget) + " exceeds the space's " +
                             std::to_string(table->size()) + " architectures");
    if (so.name.empty()) so.name = s.spec.name + "-" + so.strategy + "-s" + std::to_string(so.seed);
    s.evaluator = std::make_unique<TabularEvaluator>(*table, r.evaluation_delay_s);
    s.domain = std::move(table);
    return s;
  }
  std::string study_device;
  auto network = network_domain(r, s.spec, device, study_device, s.target_text);
  // A study is one device's and one evaluator's: a search for another device (reusing the
  // kept supernet) or with the other evaluator is another study by default.
  if (so.name.empty())
    so.name = s.spec.name + "-" + so.strategy + (s.supernet ? "-supernet" : "") + "-" +
              study_device + "-s" + std::to_string(so.seed);
  // autoshrink refuses another kind of space here, and its budget is its whole trajectory.
  if (so.strategy == "autoshrink") {
    const int trajectory = shrink_budget(*network, so.strategy_options);
    if (r.budget == 0) so.budget = trajectory;
  }
  // Refuse a space without numeric choices (or operators), or too many --layers.
  if (so.strategy == "netadapt" || so.strategy == "hurricane")
    make_strategy(so.strategy, *network, so.seed, so.strategy_options);
  s.domain = std::move(network);
  return s;
}

}  // namespace hao::search
