// What strategy tests tell a strategy instead of training: a made-up accuracy that grows with
// the network's bit operations, plus a per-genotype wobble so that networks of one latency
// differ.
#pragma once

#include <cmath>
#include <vector>

#include "search/strategy.hpp"

namespace hao::search {

inline double made_up_accuracy(const Domain& d, const Genotype& g) {
  double wobble = 0;
  for (std::size_t s = 0; s < g.size(); ++s) wobble += static_cast<double>((g[s] * (s + 3)) % 7);
  return 40 + 4 * std::log10(d.topology(g)->bit_ops) + 0.1 * wobble;
}

/// Asks until the strategy finishes or `budget` asks; tells each its made-up accuracy.
inline std::vector<Genotype> run_made_up(Strategy& s, const Domain& d, int budget) {
  std::vector<Genotype> asked;
  for (int i = 0; i < budget && !s.finished(); ++i) {
    const Genotype g = s.ask();
    asked.push_back(g);
    s.tell({g, made_up_accuracy(d, g), d.latency_ms(g), {}});
  }
  return asked;
}

}  // namespace hao::search
