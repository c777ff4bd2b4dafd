// hao's own network description, in YAML or JSON (the same schema; JSON is read as YAML).
//
//   name: tiny
//   input: {channels: 1, height: 28, width: 28, bits: 8}
//   defaults: {weight_bits: 8, act_bits: 8}
//   layers:
//     - {name: conv1, op: conv, out_channels: 16, kernel: 3, stride: 1, padding: 1}
//     - {name: relu1, op: relu}
//     - {name: dw1, op: conv, depthwise: true, kernel: 3, padding: 1}
//     - {name: add1, op: add, inputs: [relu1, dw1]}
//     - {name: pool, op: global_avgpool}
//     - {name: fc, op: fc, out_channels: 10}
//
// `inputs` defaults to the previous layer (the network input for the first layer); the
// name `input` refers to the network input. Activations are ops of their own (relu, relu6,
// clip, sigmoid, hard_sigmoid, hard_swish, silu, gelu, tanh, leaky_relu with
// negative_slope).
#pragma once

#include <string>

#include "ir/network.hpp"

namespace hao::ir {

/// Parses a description from `text`; `where` names it in messages. Shapes are inferred.
/// Throws core::InputError listing every problem (file, path, value, rule).
Network parse_description(const std::string& text, const std::string& where);
/// Reads a description file (.yaml, .yml or .json).
Network read_description(const std::string& path);
/// Serialises to YAML (explicit fields, every layer's inputs and bit-widths).
std::string to_yaml(const Network& net);
/// Serialises to JSON with the same schema.
std::string to_json(const Network& net);

}  // namespace hao::ir
