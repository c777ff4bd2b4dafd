// Reading a sensitivity file (hao sensitivity's JSON) for program 3: Omega per layer and
// bit-width choice, checked against the network it is for.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ir/bits.hpp"
#include "ir/network.hpp"

namespace hao::ir {

/// The largest |Omega| a file may give. Program 3 scales its objective by the largest term,
/// so one absurd term would hide every other from the solver's tolerances; hao sensitivity's
/// terms stay below about 1.
inline constexpr double kMaxOmega = 1e6;

/// Omega per layer (empty for layers not `choosable`) and per entry of `choices`: the weight
/// term at the choice's weight bits plus, where the file has `omega_act`, the input
/// activations' term at its activation bits. Negative terms (an estimate's noise) count as
/// zero, which `note` then says, as it says when the file prices weights only. Throws
/// InputError naming `where`, the path in the file and the value: not a sensitivity file, for
/// another network, a layer unknown or unweighted, a choosable layer or a bit-width missing,
/// a term that is not a number or beyond kMaxOmega.
std::vector<std::vector<double>> read_omega(const nlohmann::json& j, const std::string& where,
                                            const Network& net,
                                            const std::vector<BitWidths>& choices,
                                            const std::vector<bool>& choosable, std::string& note);

}  // namespace hao::ir
