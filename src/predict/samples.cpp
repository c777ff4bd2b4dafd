#include "predict/samples.hpp"

#include <cmath>
#include <map>

#include "core/csv.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/genotype.hpp"

namespace hao::predict {

Space parse_space(const std::string& name) {
  if (name == "anb") return Space::kAnb;
  if (name == "nb201") return Space::kNb201;
  throw core::InputError("--space: unknown space '" + name + "', expected anb or nb201");
}

std::string space_name(Space space) { return space == Space::kAnb ? "anb" : "nb201"; }

std::string arch_column(Space space) {
  return space == Space::kAnb ? "arch_mnasnet_blocks" : "arch_str";
}

ir::Network expand(Space space, const std::string& arch, const std::string& where) {
  return space == Space::kAnb ? ir::expand_anb(arch, where) : ir::expand_nb201(arch, where);
}

SampleSet load_samples(Space space, const std::string& measurements, const std::string& column,
                       const std::string& archs) {
  const core::CsvTable table = core::read_csv(measurements);
  SampleSet set;
  set.space = space;
  set.column = column;
  set.source = measurements;
  const std::size_t value_col = table.column(column);
  const std::string arch_name = arch_column(space);
  // Genotype per row: from this file, or joined on arch_index from `archs`.
  std::vector<std::string> genotype(table.rows.size());
  if (table.has_column(arch_name)) {
    const std::size_t c = table.column(arch_name);
    for (std::size_t r = 0; r < table.rows.size(); ++r) genotype[r] = table.rows[r][c];
  } else {
    if (archs.empty() || !table.has_column("arch_index"))
      throw core::InputError(measurements + ": no column '" + arch_name +
                             "'; give --archs with a CSV that has arch_index and " + arch_name +
                             " to join on arch_index");
    const core::CsvTable other = core::read_csv(archs);
    const std::size_t key = other.column("arch_index"), arch = other.column(arch_name);
    std::map<std::string, std::string> by_index;
    for (const auto& row : other.rows) by_index[row[key]] = row[arch];
    const std::size_t own = table.column("arch_index");
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
      auto it = by_index.find(table.rows[r][own]);
      if (it == by_index.end())
        throw core::InputError(measurements + ": line " + std::to_string(r + 2) + ": arch_index '" +
                               table.rows[r][own] + "' is not in " + archs);
      genotype[r] = it->second;
    }
  }
  core::IssueList issues(measurements);
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const std::string& text = table.rows[r][value_col];
    const std::string where = "line " + std::to_string(r + 2);
    double v = 0;
    if (text.empty() || core::to_lower(text) == "nan") {
      ++set.skipped_missing;
      continue;
    }
    if (!core::parse_double(text, v) || !(v > 0) || !std::isfinite(v)) {
      issues.add(where, column + " = '" + text + "', expected a positive number of milliseconds");
      continue;
    }
    try {
      set.samples.push_back(
          {genotype[r], expand(space, genotype[r], measurements + ": " + where), v, r + 2});
    } catch (const core::InputError& e) {
      issues.absorb(e);
    }
  }
  issues.throw_if_any();
  return set;
}

}  // namespace hao::predict
