// Trained weights a model file carries (an ONNX export with export_params=True), by layer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hao::ir {

/// A kernel stored [a][b][taps] as [b][a][taps in reverse]: a ConvTranspose's kernel
/// ([in][out][kh][kw]) as the conv over its pixel padding computes it ([out][in], turned by 180
/// degrees), and that conv's kernel back as the ConvTranspose's (the map undoes itself with a
/// and b swapped).
inline std::vector<float> swapped_and_turned(const std::vector<float>& w, std::int64_t a,
                                             std::int64_t b, std::int64_t taps) {
  std::vector<float> t(w.size());
  for (std::int64_t i = 0; i < a; ++i)
    for (std::int64_t j = 0; j < b; ++j)
      for (std::int64_t k = 0; k < taps; ++k)
        t[static_cast<std::size_t>((j * a + i) * taps + (taps - 1 - k))] =
            w[static_cast<std::size_t>((i * b + j) * taps + k)];
  return t;
}

/// A batch norm that follows a layer in the file (a training-mode export keeps them):
/// y = scale (x - mean) / sqrt(var + eps) + shift, per output channel.
struct NormWeights {
  std::vector<float> scale, shift, mean, var;
  double eps = 1e-5;
};

/// One conv's or fc's parameters in PyTorch's layouts: conv out x in/groups x kh x kw, fc
/// out x in (the importer transposes ONNX's MatMul and Gemm without transB). Scalings the file
/// applies to the layer's output (Gemm's alpha and beta, a constant Mul) are folded in.
struct LayerWeights {
  std::vector<float> weight;
  std::vector<float> bias;          ///< one per output channel; empty: none
  std::optional<NormWeights> norm;  ///< the file's batch norm after this layer
};

/// Every conv's and fc's weights, keyed by layer name, or none. `notes` says what a user
/// should know: why the file's weights were not taken, or which of its nodes hao's layers
/// do not reproduce (so the loaded network computes something else than the file).
struct WeightSet {
  std::map<std::string, LayerWeights> layers;
  std::vector<std::string> notes;
  bool empty() const { return layers.empty(); }
};

}  // namespace hao::ir
