// A slot's index by its name, for tests that set one slot of a genotype.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "search/domain.hpp"

namespace hao::search {

inline std::size_t slot_named(const Domain& d, const std::string& name) {
  for (std::size_t i = 0; i < d.slots().size(); ++i)
    if (d.slots()[i].name == name) return i;
  ADD_FAILURE() << "no slot " << name;
  return 0;
}

}  // namespace hao::search
