// A small mbv2 space for strategy and target tests: three stages on 12x12 inputs, every
// dimension (depth, width, kernel, expansion, bits), quick for programs 1 and 2.
#pragma once

#include <string>

#include "search/space_spec.hpp"

namespace hao::search {

inline Mbv2Spec three_stage_space() {
  return parse_space(
             "name: three\nkind: mbv2\n"
             "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
             "stem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
             "stages: [{channels: 8, stride: 1}, {channels: 12, stride: 2}, "
             "{channels: 16, stride: 2}]\n"
             "head: {channels: 32}\n"
             "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3, 5], "
             "expansion: [1, 3, 6], bits: [4, 8]}\n",
             "three.yaml", HAO_SHARED_DATA)
      .mbv2;
}

}  // namespace hao::search
