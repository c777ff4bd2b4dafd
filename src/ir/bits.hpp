// Bit-width specifications: "w4a4" for every layer, or a per-layer file.
#pragma once

#include <string>

#include "ir/network.hpp"

namespace hao::ir {

struct BitWidths {
  int weight_bits = 8;
  int act_bits = 8;
};

/// Parses "wXaY" (X, Y in 1..16). Returns false when `text` is not of that form; throws
/// InputError naming `where` when it is but a width is out of range.
bool parse_bit_widths(const std::string& text, const std::string& where, BitWidths& out);

/// Applies a --bits value: "wXaY" sets every layer; anything else is read as a YAML or JSON
/// file mapping layer names to "wXaY" or to {weight_bits: X, act_bits: Y}, after which the
/// element-wise layers the file does not name follow the layers they feed
/// (derive_elementwise_bits). Unknown layer names and bad widths throw InputError naming the
/// file, the key and the value.
void apply_bits(Network& net, const std::string& spec);

/// The file form of apply_bits from its text; `where` names it in messages.
void apply_bits_text(Network& net, const std::string& text, const std::string& where);

/// An element-wise layer (activation, add, pooling, ...) carries data on its way to weighted
/// layers, which requantize it to their input precision: its act_bits become the widest
/// act_bits of the weighted layers it feeds through element-wise layers only (unchanged when it
/// feeds none). Layers with keep[i] set (when `keep` is non-empty) are left as they are.
void derive_elementwise_bits(Network& net, const std::vector<bool>& keep = {});

/// The weighted layers' bits in one line: "stem w8a8, 9 layers w4a4, 6 layers w8a8,
/// classifier w8a8" (the first and last by name, the others counted by width).
std::string bits_summary(const Network& net);

}  // namespace hao::ir
