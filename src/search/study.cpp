#include "search/study.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/error.hpp"
#include "core/text.hpp"
#include "search/hao_strategy.hpp"
#include "search/pareto.hpp"
#include "search/tabular.hpp"

namespace hao::search {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

nlohmann::json Evaluator::finalize(const store::EvaluationRecord&) {
  HAO_CHECK(false, "finalize called on an evaluator without a final measurement");
}

nlohmann::ordered_json TabularEvaluator::settings(int) const {
  const TabularSource& s = domain_.source();
  return {{"accuracy", s.accuracy_file + ":" + s.accuracy_column},
          {"latency", s.latency_file + ":" + s.latency_column}};
}

void TabularEvaluator::evaluate(const Candidate& c, store::EvaluationRecord& r) {
  r.accuracy = domain_.accuracy(c.genotype);
  r.latency_ms = domain_.latency_ms(c.genotype);
  r.fps = 1000.0 / r.latency_ms;
}

double TabularEvaluator::objective_ms(const store::EvaluationRecord& r) const {
  return r.latency_ms;
}

void StudyOptions::validate(const std::string& where) const {
  core::IssueList issues(where);
  const auto& names = strategy_names();
  if (std::find(names.begin(), names.end(), strategy) == names.end())
    issues.add("--strategy",
               "unknown strategy '" + strategy + "', expected one of " + core::join(names, ", "));
  if (budget < 1) issues.add("--budget", std::to_string(budget) + ", expected >= 1");
  if (finalists < 1) issues.add("--finalists", std::to_string(finalists) + ", expected >= 1");
  if (strategy_options.population < 2)
    issues.add("--population", std::to_string(strategy_options.population) + ", expected >= 2");
  issues.throw_if_any();
}

nlohmann::ordered_json study_settings(const StudySpace& space, const StudyOptions& options,
                                      const Evaluator& evaluator) {
  // What makes a study the same study: everything but the budget (a study may be extended).
  nlohmann::ordered_json s{
      {"space", space.name},      {"kind", space.kind},
      {"space_yaml", space.yaml}, {"strategy", options.strategy},
      {"seed", options.seed},     {"population", options.strategy_options.population}};
  const nlohmann::ordered_json own = evaluator.settings(options.finalists);
  for (const auto& [key, value] : own.items()) s[key] = value;
  if (options.strategy == "hao" && options.strategy_options.optimism != 0)
    s["optimism"] = options.strategy_options.optimism;
  return s;
}

StudyResult run_study(store::StudyStore& store, const Domain& domain, Evaluator& evaluator,
                      const StudySpace& space, const StudyOptions& options,
                      const StudyProgress& progress) {
  options.validate();
  const auto start = Clock::now();
  StudyResult result;
  const std::string& study = options.name;
  result.resumed = store.open_study(study, study_settings(space, options, evaluator).dump());
  result.records = store.evaluations(study);
  result.replayed = result.records.size();
  auto strategy = make_strategy(options.strategy, domain, options.seed, options.strategy_options);
  auto where = [&](const store::EvaluationRecord& r) {
    return store.path() + ": study '" + study + "' evaluation " + std::to_string(r.index);
  };
  for (const auto& r : result.records) {
    const Genotype g = parse_code(r.genotype, where(r));
    if (!domain.valid(g))
      throw core::InputError(where(r) + ": genotype '" + r.label + "' is not in the space");
    strategy->tell(observation_of(r, g, evaluator.objective_ms(r)));
  }
  if (progress.started) progress.started(result.resumed, result.replayed);

  for (int i = static_cast<int>(result.records.size()); i < options.budget; ++i) {
    const auto t0 = Clock::now();
    Candidate c;
    c.index = i;
    c.genotype = strategy->ask();
    c.ask_seconds = seconds_since(t0);
    c.ask_source = strategy->why();
    store::EvaluationRecord r;
    r.index = i;
    r.genotype = genotype_code(c.genotype);
    r.label = domain.label(c.genotype);
    r.seed = options.seed;
    evaluator.evaluate(c, r);
    r.wall_s = seconds_since(t0);
    store.add(study, r);
    strategy->tell(observation_of(r, c.genotype, evaluator.objective_ms(r)));
    result.records.push_back(r);
    if (progress.evaluated) {
      const double per =
          seconds_since(start) / static_cast<double>(result.records.size() - result.replayed);
      progress.evaluated(r, strategy->why(), per * (options.budget - i - 1));
    }
  }
  result.observations = strategy->history();

  if (options.predictor_quality && result.records.size() >= 10) {
    const nlohmann::json tau =
        predictor_kendall(domain, result.observations, static_cast<unsigned>(options.seed),
                          options.strategy_options.sensitivity_trend);
    store.put_note(study, "predictor_kendall", tau.dump());
  }

  if (evaluator.has_final()) {
    result.finalists = pick_finalists(result.records, static_cast<std::size_t>(options.finalists));
    std::size_t done = 0;
    for (std::size_t k : result.finalists) {
      ++done;
      const store::EvaluationRecord& r = result.records[k];
      const std::string key = "final/" + std::to_string(r.index);
      if (!store.note(study, key).empty()) continue;
      const nlohmann::json note = evaluator.finalize(r);
      store.put_note(study, key, note.dump());
      if (progress.finalized) progress.finalized(done, result.finalists.size(), r, note);
    }
  }
  result.seconds = seconds_since(start);
  return result;
}

std::string genotype_code(const Genotype& g) {
  std::string s;
  for (std::size_t i = 0; i < g.size(); ++i) s += (i ? "," : "") + std::to_string(g[i]);
  return s;
}

Genotype parse_code(const std::string& code, const std::string& where) {
  Genotype g;
  for (const auto& part : core::split(code, ',')) {
    double v = 0;
    if (!core::parse_double(part, v))
      throw core::InputError(where + ": genotype '" + code + "' is damaged");
    g.push_back(static_cast<int>(v));
  }
  return g;
}

double frame_interval_ms(const store::EvaluationRecord& r) {
  if (r.latency_ms >= kInfeasibleMs || r.fps <= 0) return kInfeasibleMs;
  return 1000.0 / r.fps;
}

Observation observation_of(const store::EvaluationRecord& r, const Genotype& g, double latency_ms) {
  Observation o{g, r.accuracy, latency_ms, {}};
  const nlohmann::json extra = nlohmann::json::parse(r.extra, nullptr, /*allow_exceptions=*/false);
  if (!extra.is_object() || !extra.contains("sensitivity") || !extra["sensitivity"].is_object())
    return o;
  for (const auto& [layer, per_bits] : extra["sensitivity"].items()) {
    if (!per_bits.is_object()) continue;
    for (const auto& [bits, omega] : per_bits.items())
      if (omega.is_number() && !bits.empty() && bits.size() <= 2 &&
          std::all_of(bits.begin(), bits.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
        o.omega[layer][std::stoi(bits)] = omega.get<double>();
  }
  return o;
}

std::vector<std::size_t> pick_finalists(const std::vector<store::EvaluationRecord>& records,
                                        std::size_t n) {
  std::vector<std::size_t> feasible;
  std::vector<Objectives> points;
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i].latency_ms < kInfeasibleMs) {
      feasible.push_back(i);
      points.push_back({frame_interval_ms(records[i]), records[i].accuracy});
    }
  std::vector<std::size_t> out;
  for (std::size_t k : peel_fronts(points, n)) out.push_back(feasible[k]);
  return out;
}

}  // namespace hao::search
