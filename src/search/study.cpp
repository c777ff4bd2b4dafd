#include "search/study.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

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
  if (delay_s_ > 0) std::this_thread::sleep_for(std::chrono::duration<double>(delay_s_));
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
  if (options.strategy == "flash") s["calibration"] = options.strategy_options.calibration;
  if (options.warm_start) s["warm_start"] = true;
  if (options.strategy == "autoshrink")  // they decide the trajectory a stored study replays
    s["shrink"] = {{"candidates", options.strategy_options.shrink_candidates},
                   {"cost", options.strategy_options.shrink_cost},
                   {"min_edges", options.strategy_options.shrink_min_edges}};
  if (options.strategy == "netadapt")  // its steps are planned over the budget: this one only
    s["netadapt"] = {{"layers", options.strategy_options.adapt_layers},
                     {"samples", options.strategy_options.adapt_samples},
                     {"budget", options.budget}};
  if (options.strategy == "hurricane")  // its generations are sized from the budget, likewise
    s["hurricane"] = {{"operators", options.strategy_options.hurricane_operators},
                      {"latency_limit_ms", options.strategy_options.latency_limit_ms},
                      {"budget", options.budget}};
  return s;
}

namespace {

/// Renews a claim every `period_s` on its own thread while an evaluation runs.
class Heartbeat {
 public:
  Heartbeat(store::StudyStore& store, std::string study, int index, double period_s)
      : thread_([this, &store, study = std::move(study), index, period_s] {
          std::unique_lock lock(mutex_);
          while (!stop_.wait_for(lock, std::chrono::duration<double>(period_s),
                                 [this] { return stopped_; })) {
            try {
              store.heartbeat(study, index, store::worker_id());
            } catch (const std::exception&) {
              // The store retries a lost connection itself; a failed renewal only lets
              // another worker take the candidate over, and complete() counts it once.
            }
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    stop_.notify_all();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopped_ = false;
  std::thread thread_;  // last: started once the members above exist
};

/// `extra` (a JSON object, or empty) with `key` set to `value`.
std::string with_extra(const std::string& extra, const std::string& key, const std::string& value) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(extra.empty() ? "{}" : extra, nullptr,
                                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return extra;
  j[key] = value;
  return j.dump();
}

}  // namespace

StudyResult run_study(store::StudyStore& store, const Domain& domain, Evaluator& evaluator,
                      const StudySpace& space, const StudyOptions& options,
                      const StudyProgress& progress) {
  options.validate();
  const auto start = Clock::now();
  StudyResult result;
  const std::string& study = options.name;
  // The strategy first: one the space cannot run (flash without an NN-Degree) writes nothing.
  auto strategy = make_strategy(options.strategy, domain, options.seed,
                                options.strategy_options.for_budget(options.budget));
  result.resumed = store.open_study(study, study_settings(space, options, evaluator).dump());
  auto where = [&](const store::EvaluationRecord& r) {
    return store.path() + ": study '" + study + "' evaluation " + std::to_string(r.index);
  };
  // Tells the strategy the stored evaluations it has not been told, in index order.
  std::set<int> told;
  auto tell_new = [&](const std::vector<store::EvaluationRecord>& stored, bool others) {
    for (const auto& r : stored) {
      if (told.count(r.index)) continue;
      const Genotype g = parse_code(r.genotype, where(r));
      if (!domain.valid(g))
        throw core::InputError(where(r) + ": genotype '" + r.label + "' is not in the space");
      strategy->tell(observation_of(r, g, evaluator.objective_ms(r)));
      told.insert(r.index);
      result.records.push_back(r);
      if (others && progress.landed) progress.landed(r);
    }
  };
  tell_new(store.evaluations(study), false);
  result.replayed = result.records.size();
  if (progress.started) progress.started(result.resumed, result.replayed);
  // Warm start: the list is the one the study began with, so that a resumed study evaluates
  // what the whole one would have (the evaluator may know more by now).
  std::deque<Genotype> warm;
  if (options.warm_start) {
    const std::string kept = store.note(study, "warm_start");
    const nlohmann::json codes =
        kept.empty() ? nlohmann::json(evaluator.known())
                     : nlohmann::json::parse(kept, nullptr, /*allow_exceptions=*/false);
    if (kept.empty()) store.put_note(study, "warm_start", codes.dump());
    if (!codes.is_array())
      throw core::InputError(store.path() + ": study '" + study +
                             "': note warm_start is not a list of genotypes");
    for (const auto& code : codes) {
      if (!code.is_string())
        throw core::InputError(store.path() + ": study '" + study + "': note warm_start holds " +
                               code.dump() + ", not a genotype");
      const Genotype g = parse_code(code.get<std::string>(), study + " warm start");
      if (domain.valid(g)) warm.push_back(g);
    }
  }

  store::ClaimOptions claim_options;
  claim_options.worker = store::worker_id();
  claim_options.budget = options.budget;
  claim_options.stale_after_s = options.stale_after_s;
  bool waiting = false;
  for (;;) {
    if (strategy->finished()) break;  // before the budget (autoshrink's trajectory is complete)
    Candidate c;
    const store::Claim claim =
        store.claim(study, claim_options, [&](const store::StudySnapshot& snapshot, int index) {
          tell_new(snapshot.evaluations, true);
          std::vector<Genotype> pending;
          for (const auto& p : snapshot.pending) pending.push_back(parse_code(p.genotype, study));
          c.index = index;
          std::set<std::string> taken;  // stored or being evaluated
          for (const auto& r : snapshot.evaluations) taken.insert(r.genotype);
          for (const auto& p : snapshot.pending) taken.insert(p.genotype);
          while (!warm.empty() && taken.count(genotype_code(warm.front()))) warm.pop_front();
          if (!warm.empty()) {
            c.genotype = warm.front();
            warm.pop_front();
            c.ask_source = "warm start: judged by an earlier study";
            return std::make_pair(genotype_code(c.genotype), domain.label(c.genotype));
          }
          strategy->set_pending(std::move(pending));
          const auto t0 = Clock::now();
          c.genotype = strategy->ask();
          c.ask_seconds = seconds_since(t0);
          c.ask_source = strategy->why();
          return std::make_pair(genotype_code(c.genotype), domain.label(c.genotype));
        });
    tell_new(claim.snapshot.evaluations, true);
    if (claim.kind == store::Claim::kDone) break;
    if (claim.kind == store::Claim::kWait) {
      if (!waiting && progress.waiting) progress.waiting(claim.snapshot.pending.size());
      waiting = true;
      std::this_thread::sleep_for(std::chrono::duration<double>(options.poll_s));
      continue;
    }
    waiting = false;
    const auto t0 = Clock::now();
    if (claim.kind == store::Claim::kTakenOver) {
      c.index = claim.pending.index;
      c.genotype = parse_code(claim.pending.genotype, study);
      if (!domain.valid(c.genotype))
        throw core::InputError(store.path() + ": study '" + study + "' pending evaluation " +
                               std::to_string(c.index) + ": genotype '" + claim.pending.label +
                               "' is not in the space");
      c.ask_source = "taken over from " + claim.taken_from;
      if (progress.taken_over && claim.taken_from != store::worker_id())
        progress.taken_over(c.index, claim.taken_from);
    }
    store::EvaluationRecord r;
    r.index = c.index;
    r.genotype = genotype_code(c.genotype);
    r.label = domain.label(c.genotype);
    r.seed = options.seed;
    {
      const Heartbeat beat(store, study, c.index, options.heartbeat_s);
      evaluator.evaluate(c, r);
    }
    r.wall_s = seconds_since(t0) + c.ask_seconds;
    r.extra = with_extra(r.extra, "worker", store::worker_id());
    if (claim.kind == store::Claim::kTakenOver)
      r.extra = with_extra(r.extra, "taken_over_from", claim.taken_from);
    bool stored = false;
    try {
      stored = store.complete(study, r);
    } catch (const store::StoreError& e) {
      // The store is gone for longer than its retries: say what was measured, so that it is
      // not lost with this process (another worker evaluates the candidate again).
      throw store::StoreError(std::string(e.what()) + "\nevaluation " + std::to_string(r.index) +
                              " (" + r.label + ") was measured but not stored: accuracy " +
                              std::to_string(r.accuracy) + ", fps " + std::to_string(r.fps) +
                              ", extra " + r.extra);
    }
    if (!stored) continue;  // another worker stored it first
    strategy->tell(observation_of(r, c.genotype, evaluator.objective_ms(r)));
    told.insert(r.index);
    result.records.push_back(r);
    ++result.evaluated;
    if (progress.evaluated) {
      const double per = seconds_since(start) / static_cast<double>(result.evaluated);
      const double left =
          static_cast<double>(options.budget) - static_cast<double>(result.records.size());
      progress.evaluated(r, c.ask_source, per * std::max(0.0, left));
    }
  }
  std::sort(result.records.begin(), result.records.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  result.observations = strategy->history();

  if (options.predictor_quality && result.records.size() >= 10) {
    const nlohmann::json tau =
        predictor_kendall(domain, result.observations, static_cast<unsigned>(options.seed),
                          options.strategy_options.sensitivity_trend);
    store.put_note(study, "predictor_kendall", tau.dump());
  }

  if (evaluator.has_final()) {
    result.finalists = pick_finalists(result.records, static_cast<std::size_t>(options.finalists));
    // Each final measurement is claimed like an evaluation, so that workers finishing together
    // share the finalists; a worker waits for the ones others measure (taking over any they
    // abandon), so that every worker's report is whole.
    std::vector<std::size_t> left(result.finalists.size());
    for (std::size_t i = 0; i < left.size(); ++i) left[i] = i;
    while (!left.empty()) {
      std::vector<std::size_t> others;
      bool measured = false;
      for (std::size_t i : left) {
        const store::EvaluationRecord& r = result.records[result.finalists[i]];
        if (!store.note(study, "final/" + std::to_string(r.index)).empty()) continue;
        if (!store.claim_final(study, r.index, claim_options)) {
          others.push_back(i);
          continue;
        }
        nlohmann::json note;
        {
          const Heartbeat beat(store, study, store::final_claim_index(r.index),
                               options.heartbeat_s);
          note = evaluator.finalize(r);
        }
        store.complete_final(study, r.index, note.dump());
        measured = true;
        if (progress.finalized) progress.finalized(i + 1, result.finalists.size(), r, note);
      }
      left = std::move(others);
      if (!left.empty() && !measured)
        std::this_thread::sleep_for(std::chrono::duration<double>(options.poll_s));
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
