#include "search/domain.hpp"

#include "core/error.hpp"

namespace hao::search {

Rng rng_for(std::uint64_t seed, std::uint64_t k) {
  // splitmix64 of both words, so nearby (seed, k) pairs give unrelated streams.
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return Rng(mix(mix(seed) ^ (k * 0xd1b54a32d192ed03ULL)));
}

std::vector<double> Domain::features(const Genotype& g) const {
  std::vector<double> f;
  const auto& s = slots();
  HAO_CHECK(g.size() == s.size(), "genotype width differs from the space's slots");
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t c = 0; c < s[i].choices.size(); ++c)
      f.push_back(static_cast<int>(c) == g[i] ? 1.0 : 0.0);
  return f;
}

std::vector<std::vector<std::size_t>> Domain::hierarchy() const {
  std::vector<std::size_t> all(slots().size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return {all};
}

OperatorCost Domain::operator_cost(const Genotype&, std::size_t, double) const {
  HAO_CHECK(false, "operator_cost on a domain without operator positions");
}

std::string Domain::label(const Genotype& g) const {
  const auto& s = slots();
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < g.size(); ++i) {
    if (i) out += ',';
    out += s[i].name + '=' + s[i].choices.at(static_cast<std::size_t>(g[i]));
  }
  return out;
}

}  // namespace hao::search
