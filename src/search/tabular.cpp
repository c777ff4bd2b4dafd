#include "search/tabular.hpp"

#include <algorithm>
#include <cmath>

#include "core/csv.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/genotype.hpp"
#include "search/nn_degree.hpp"

namespace hao::search {
namespace {

const std::vector<std::string> kNb201Ops{"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                         "avg_pool_3x3"};

std::vector<Slot> nb201_slots() {
  std::vector<Slot> s;
  for (int to = 1; to <= 3; ++to)
    for (int from = 0; from < to; ++from)
      s.push_back({"node" + std::to_string(to) + "<-" + std::to_string(from), kNb201Ops});
  return s;
}

std::vector<Slot> anb_slots() {
  std::vector<Slot> s;
  for (int b = 0; b < 7; ++b) {
    const std::string p = "b" + std::to_string(b) + ".";
    s.push_back({p + "e", {"1", "4", "6"}});
    s.push_back({p + "k", {"3", "5"}});
    s.push_back({p + "l", {"1", "2", "3", "4"}});
    s.push_back({p + "se", {"0", "1"}});
  }
  return s;
}

int choice_index(const Slot& slot, const std::string& value) {
  auto it = std::find(slot.choices.begin(), slot.choices.end(), value);
  return it == slot.choices.end() ? -1 : static_cast<int>(it - slot.choices.begin());
}

/// "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|" -> six op indices; empty when malformed.
Genotype parse_nb201(const std::string& arch, const std::vector<Slot>& slots) {
  Genotype g;
  const auto nodes = core::split(arch, '+');
  if (nodes.size() != 3) return {};
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const auto edges = core::split(nodes[n], '|', false);
    if (edges.size() != n + 1) return {};
    for (std::size_t e = 0; e < edges.size(); ++e) {
      const auto parts = core::split(edges[e], '~');
      if (parts.size() != 2 || parts[1] != std::to_string(e)) return {};
      const int c = choice_index(slots[g.size()], parts[0]);
      if (c < 0) return {};
      g.push_back(c);
    }
  }
  return g;
}

/// "b0:e6,k3,l1,se0;...;b6:..." -> 28 choice indices; empty when malformed.
Genotype parse_anb(const std::string& arch, const std::vector<Slot>& slots) {
  Genotype g;
  const auto blocks = core::split(arch, ';');
  if (blocks.size() != 7) return {};
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const auto head = core::split(blocks[b], ':');
    if (head.size() != 2 || head[0] != "b" + std::to_string(b)) return {};
    const auto fields = core::split(head[1], ',');
    const char* keys[] = {"e", "k", "l", "se"};
    if (fields.size() != 4) return {};
    for (std::size_t f = 0; f < 4; ++f) {
      const std::string key = keys[f];
      if (fields[f].rfind(key, 0) != 0) return {};
      const int c = choice_index(slots[g.size()], fields[f].substr(key.size()));
      if (c < 0) return {};
      g.push_back(c);
    }
  }
  return g;
}

}  // namespace

TabularSource default_source(const std::string& space, const std::string& data_dir) {
  if (space == "nb201")
    return {space, data_dir + "/nb201/accuracy.csv", "cifar10_test_acc",
            data_dir + "/nb201/latency_ms.csv", "fpga"};
  if (space == "anb")
    return {space, data_dir + "/accel-nasbench/calibration.csv", "val_top1_proxy",
            data_dir + "/accel-nasbench/calibration.csv", "zcu102_latency_ms"};
  throw core::InputError("unknown tabular space '" + space + "', expected nb201 or anb");
}

TabularDomain::TabularDomain(const TabularSource& source) : source_(source) {
  const bool nb201 = source.space == "nb201";
  if (!nb201 && source.space != "anb")
    throw core::InputError("unknown tabular space '" + source.space + "', expected nb201 or anb");
  slots_ = nb201 ? nb201_slots() : anb_slots();
  const std::string arch_name = nb201 ? "arch_str" : "arch_mnasnet_blocks";
  const core::CsvTable acc = core::read_csv(source.accuracy_file);
  const core::CsvTable lat =
      source.latency_file == source.accuracy_file ? acc : core::read_csv(source.latency_file);
  const std::size_t arch_col = acc.column(arch_name), acc_col = acc.column(source.accuracy_column),
                    lat_col = lat.column(source.latency_column);
  // Latency row of each accuracy row: joined on a shared key, or the same row of one file.
  std::vector<std::size_t> lat_row(acc.rows.size());
  std::string key;
  for (const char* k : {"arch_index", "result_id"})
    if (acc.has_column(k) && lat.has_column(k)) {
      key = k;
      break;
    }
  if (source.latency_file != source.accuracy_file || !key.empty()) {
    if (key.empty())
      throw core::InputError(source.latency_file +
                             ": no arch_index or result_id column to join with " +
                             source.accuracy_file);
    std::map<std::string, std::size_t> by_key;
    const std::size_t kc = lat.column(key);
    for (std::size_t r = 0; r < lat.rows.size(); ++r) by_key.emplace(lat.rows[r][kc], r);
    const std::size_t ka = acc.column(key);
    for (std::size_t r = 0; r < acc.rows.size(); ++r) {
      auto it = by_key.find(acc.rows[r][ka]);
      lat_row[r] = it == by_key.end() ? lat.rows.size() : it->second;
    }
  } else {
    for (std::size_t r = 0; r < acc.rows.size(); ++r) lat_row[r] = r;
  }
  core::IssueList issues(source.accuracy_file);
  for (std::size_t r = 0; r < acc.rows.size(); ++r) {
    const std::string where = "line " + std::to_string(r + 2);
    const std::string& arch = acc.rows[r][arch_col];
    Genotype g = nb201 ? parse_nb201(arch, slots_) : parse_anb(arch, slots_);
    if (g.empty()) {
      issues.add(where, arch_name + " = '" + arch + "' is not a " + source.space + " genotype");
      continue;
    }
    double a = 0, l = 0;
    const std::string& at = acc.rows[r][acc_col];
    if (!core::parse_double(at, a) || !std::isfinite(a)) {
      issues.add(where, source.accuracy_column + " = '" + at + "', expected a number");
      continue;
    }
    if (lat_row[r] >= lat.rows.size()) {
      ++skipped_;
      continue;
    }
    const std::string& lt = lat.rows[lat_row[r]][lat_col];
    if (lt.empty() || core::to_lower(lt) == "nan") {
      ++skipped_;
      continue;
    }
    if (!core::parse_double(lt, l) || !(l > 0) || !std::isfinite(l)) {
      issues.add(source.latency_file + " line " + std::to_string(lat_row[r] + 2),
                 source.latency_column + " = '" + lt + "', expected a positive latency in ms");
      continue;
    }
    // A genotype measured more than once (Accel-NASBench trained some twice): the mean.
    if (auto it = index_.find(g); it != index_.end()) {
      Row& first = rows_[it->second];
      ++first.repeats;
      first.accuracy += (a - first.accuracy) / first.repeats;
      first.latency_ms += (l - first.latency_ms) / first.repeats;
      ++merged_;
      continue;
    }
    index_.emplace(g, rows_.size());
    rows_.push_back({std::move(g), arch, a, l, 1});
  }
  issues.throw_if_any();
  if (rows_.size() < 2)
    throw core::InputError(source.accuracy_file + ": " + std::to_string(rows_.size()) +
                           " rows with an accuracy and a latency; a benchmark needs at least 2");
}

std::size_t TabularDomain::row(const Genotype& g) const {
  auto it = index_.find(g);
  HAO_CHECK(it != index_.end(), "genotype not in the table");
  return it->second;
}

Genotype TabularDomain::random(Rng& rng) const {
  std::uniform_int_distribution<std::size_t> pick(0, rows_.size() - 1);
  return rows_[pick(rng)].genotype;
}

Genotype TabularDomain::snap(const Genotype& g, Rng& rng) const {
  if (valid(g)) return g;
  std::size_t best = g.size() + 1;
  std::vector<std::size_t> nearest;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    std::size_t d = 0;
    for (std::size_t i = 0; i < g.size(); ++i) d += rows_[r].genotype[i] != g[i];
    if (d < best) {
      best = d;
      nearest.clear();
    }
    if (d == best) nearest.push_back(r);
  }
  std::uniform_int_distribution<std::size_t> pick(0, nearest.size() - 1);
  return rows_[nearest[pick(rng)]].genotype;
}

std::optional<std::vector<Genotype>> TabularDomain::enumerate() const {
  std::vector<Genotype> all;
  for (const auto& r : rows_) all.push_back(r.genotype);
  return all;
}

std::vector<double> TabularDomain::features(const Genotype& g) const {
  std::vector<double> f = Domain::features(g);
  if (source_.space == "nb201") {
    // Structure a one-hot row cannot see, in NAS-predictor style. Edges are 1<-0, 2<-0,
    // 2<-1, 3<-0, 3<-1, 3<-2; an edge is live when it is not `none`, its source is reached
    // from the input and its target reaches the output (node 3) through live edges. A cut cell
    // outputs zeros whatever its ops (about 10% on CIFAR-10): the connectivity feature is
    // valued 2, so in a kernel's squared distance it weighs as much as two changed edges. The
    // counts of live skips, 1x1 and 3x3 convolutions and pools, and the most convolutions on
    // one input-output path (the cell's depth), are valued 0.5 per op.
    const std::array<bool, 6> live = nb201_live_edges(g);
    double count[5] = {0, 0, 0, 0, 0};
    int depth[4] = {0, 0, 0, 0};
    bool connected = false;
    for (std::size_t e = 0; e < 6; ++e) {
      if (!live[e]) continue;
      const int op = g[e];
      const std::size_t from = ir::kNb201From[e], to = ir::kNb201To[e];
      count[op] += 1;
      depth[to] = std::max(depth[to], depth[from] + (op == 2 || op == 3 ? 1 : 0));
      connected = connected || to == 3;
    }
    f.push_back(connected ? 2.0 : 0.0);
    for (int op = 1; op < 5; ++op) f.push_back(0.5 * count[op]);
    f.push_back(0.5 * depth[3]);
  }
  return f;
}

std::optional<Topology> TabularDomain::topology(const Genotype& g) const {
  if (source_.space == "nb201")
    return Topology{nb201_nn_degree(g, counting_), nb201_cell_parameters(g)};
  // anb: per block the slots e, k, l, se (anb_slots' order); their choices are the numbers.
  std::vector<MnasBlock> blocks;
  for (std::size_t b = 0; b < 7; ++b) {
    const auto value = [&](std::size_t f) {
      const std::size_t s = 4 * b + f;
      return std::stoi(slots_[s].choices.at(static_cast<std::size_t>(g.at(s))));
    };
    blocks.push_back({value(0), value(1), value(2), value(3) != 0});
  }
  return Topology{mnas_nn_degree(blocks), mnas_parameters(blocks)};
}

Genotype TabularDomain::parse(const std::string& arch, const std::string& where) const {
  for (const auto& r : rows_)
    if (r.arch == arch) return r.genotype;
  throw core::InputError(where + ": '" + arch + "' is not a row of " + source_.accuracy_file);
}

std::vector<Objectives> TabularDomain::all_objectives() const {
  std::vector<Objectives> out;
  for (const auto& r : rows_) out.push_back({r.latency_ms, r.accuracy});
  return out;
}

}  // namespace hao::search
