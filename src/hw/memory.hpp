// On-chip memory packing: how many BRAM36, URAM or LUTs a memory of W bits x D words takes.
#pragma once

#include <cstdint>

namespace hao::hw {

/// a / b rounded up, for positive b: how many units of b it takes to hold a.
inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// Where nothing chooses the memory (line buffers; weights under FINN's ram_style auto),
/// Vivado puts memories up to this depth in LUTRAM (distributed RAM), deeper ones in block RAM.
inline constexpr std::int64_t kLutramMaxDepth = 64;

/// BRAM36 blocks for `width_bits` x `depth`: the best of the RAMB36 aspect ratios
/// 32Kx1, 16Kx2, 8Kx4, 4Kx9, 2Kx18, 1Kx36, 512x72 (Xilinx UG573, "Block RAM Summary").
std::int64_t bram36_blocks(std::int64_t width_bits, std::int64_t depth);
/// URAM288 blocks: fixed 4K x 72 (UG573, "UltraRAM").
std::int64_t uram_blocks(std::int64_t width_bits, std::int64_t depth);
/// LUTs used as distributed RAM: one LUT6 holds 64 x 1 (UG574, "Distributed RAM").
std::int64_t lutram_luts(std::int64_t width_bits, std::int64_t depth);

}  // namespace hao::hw
