// A small synthetic image set for LibTorch tests: learnable in a few dozen steps.
#pragma once

#include <cstdint>
#include <random>

#include "data/images.hpp"

namespace hao::nn::test {

// A small separable data set: each class lights up its own 4x4 patch, plus noise.
inline data::DataSet synthetic(std::size_t train, std::size_t test, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60), label(0, 9);
  auto make = [&](std::size_t n) {
    data::ImageSet s;
    s.channels = 1, s.height = 28, s.width = 28, s.classes = 10;
    for (std::size_t i = 0; i < n; ++i) {
      const int c = label(rng);
      s.labels.push_back(static_cast<std::uint8_t>(c));
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
          const bool lit = y / 7 == c / 4 && x / 7 == c % 4 && (y % 7) < 4 && (x % 7) < 4;
          s.pixels.push_back(static_cast<std::uint8_t>(noise(rng) + (lit ? 180 : 0)));
        }
    }
    return s;
  };
  data::DataSet ds;
  ds.name = "synthetic";
  ds.train = make(train);
  ds.test = make(test);
  return ds;
}

}  // namespace hao::nn::test
