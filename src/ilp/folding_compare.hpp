// A FINN design beside what hao and FINN's own SetFolding make of the same network: the
// comparison a FINN user wants before trusting either.
#pragma once

#include "hw/folding_io.hpp"
#include "ilp/dataflow_mapper.hpp"

namespace hao::ilp {

struct FoldingComparison {
  MapResult given;        ///< the folding file's design
  MapResult optimal;      ///< hao's program, fastest within the given design's resources
  MapResult set_folding;  ///< FINN's SetFolding asked for the given design's frame rate
  /// What the program could spend on the layers: the given design's resources less those of
  /// the nodes outside the layers (input quantizer, FIFOs, LabelSelect), which every design
  /// keeps as the file has them, each rounded down.
  hw::Resources budget;
};

/// Evaluates `file` on `net`, then solves for the fastest folding whose layers use no more DSP,
/// LUT, BRAM and URAM than the file's (the file's extra nodes kept as they are), and folds the
/// network with FINN's SetFolding for the file's II (target_cycles_per_frame = II + 1: its rule
/// is strictly below the target). All three are evaluated on `device`, extras included.
FoldingComparison compare_with_folding(const ir::Network& net, const hw::Device& device,
                                       const hw::FoldingFile& file, const MapOptions& options);

}  // namespace hao::ilp
