#include "ir/sensitivity_file.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.hpp"

namespace hao::ir {

std::vector<std::vector<double>> read_omega(const nlohmann::json& j, const std::string& where,
                                            const Network& net,
                                            const std::vector<BitWidths>& choices,
                                            const std::vector<bool>& choosable, std::string& note) {
  HAO_CHECK(choosable.size() == net.layers.size(), "one choosable flag per layer");
  std::size_t weights_only = 0;
  std::set<std::string> negative;  // distinct terms: several choices can share one
  core::IssueList issues(where);
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array()) {
    issues.add("", "not a sensitivity file: expected an object with 'layers' (hao sensitivity)");
    issues.throw_if_any();
  }
  if (j.contains("network") && j["network"].is_string() &&
      j["network"].get<std::string>() != net.name)
    issues.add("network",
               "is for network '" + j["network"].get<std::string>() + "', not '" + net.name + "'");
  std::map<std::string, const nlohmann::json*> by_name;
  for (std::size_t k = 0; k < j["layers"].size(); ++k) {
    const auto& l = j["layers"][k];
    const std::string path = "layers[" + std::to_string(k) + "]";
    if (!l.is_object() || !l.contains("name") || !l["name"].is_string() || !l.contains("omega") ||
        !l["omega"].is_object()) {
      issues.add(path, "expected {name, omega: {bits: value}}");
      continue;
    }
    const std::string name = l["name"].get<std::string>();
    const int at = net.find(name);
    if (at < 0 || !net.layers[static_cast<std::size_t>(at)].has_weights())
      issues.add(path + ".name", "'" + name + "' is not a weighted layer of '" + net.name + "'");
    by_name[name] = &l;
  }
  issues.throw_if_any();

  // One term of the file: a number within kMaxOmega, negative ones counted as zero.
  auto term = [&](const nlohmann::json& table, const std::string& path, const std::string& key,
                  const std::string& missing, double& out) {
    if (!table.contains(key)) {
      issues.add(path, missing);
      return false;
    }
    const nlohmann::json& v = table[key];
    if (!v.is_number()) {
      issues.add(path + "." + key, "is " + v.dump() + ", not a number");
      return false;
    }
    const double x = v.get<double>();
    if (!(std::abs(x) <= kMaxOmega)) {
      issues.add(path + "." + key,
                 "is " + v.dump() +
                     ", beyond 1e6 (program 3 ranks every term against the largest; hao "
                     "sensitivity's stay below about 1)");
      return false;
    }
    // Hutchinson's estimate of a trace can come out below zero where the loss curves down
    // (an undertrained network, few probes); quantization error cannot help, so such a
    // term counts as zero.
    if (x < 0) negative.insert(path + "." + key);
    out = std::max(0.0, x);
    return true;
  };

  std::vector<std::vector<double>> omega(net.layers.size());
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    if (!choosable[l]) continue;
    const std::string& name = net.layers[l].name;
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      issues.add("layers", "has no entry for layer '" + name + "'");
      continue;
    }
    const nlohmann::json& entry = *it->second;
    const bool has_act = entry.contains("omega_act") && entry["omega_act"].is_object();
    for (const auto& c : choices) {
      const std::string key = std::to_string(c.weight_bits);
      double w = 0, a = 0;
      if (!term(entry["omega"], "layers '" + name + "'.omega", key,
                "has no Omega at " + key + " bits (rerun hao sensitivity --bits-choices with " +
                    key + ")",
                w))
        break;
      // The input activations' term at the choice's activation bits, where the file has it.
      if (has_act) {
        const std::string akey = std::to_string(c.act_bits);
        if (!term(entry["omega_act"], "layers '" + name + "'.omega_act", akey,
                  "has no number at " + akey + " bits", a))
          break;
      } else {
        ++weights_only;
      }
      omega[l].push_back(w + a);
    }
  }
  issues.throw_if_any();
  if (!negative.empty())
    note = std::to_string(negative.size()) +
           " Omega terms are negative (an estimate's noise: a Hessian trace's on an "
           "undertrained network or with few probes, a measured loss difference's within its "
           "run-to-run spread) and count as 0";
  if (weights_only > 0)
    note += std::string(note.empty() ? "" : "; ") +
            "the file prices weights only (no omega_act): activation bits are free to the program";
  return omega;
}

}  // namespace hao::ir
