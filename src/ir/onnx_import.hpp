// ONNX import: what PyTorch exports for real CNNs, into hao's IR.
#pragma once

#include <string>

#include "ir/network.hpp"
#include "ir/weights.hpp"

namespace hao::ir {

/// Parses an ONNX model from memory. `where` names it in messages. Supported: Conv (any
/// group count), Gemm, MatMul, BatchNormalization (folded into the producer), Relu, Clip,
/// Sigmoid, HardSigmoid, HardSwish, Mul and Add (of two activations; with a constant they
/// fold away), Concat, MaxPool, AveragePool, GlobalAveragePool, ReduceMean over H and W,
/// Flatten, Reshape (to 2-D), Identity, Dropout, Cast, Constant. x times Sigmoid(x) (PyTorch's
/// export of SiLU) and x times HardSigmoid(x) become one SiLU or hard-swish activation when
/// nothing else reads the gate. Weights may be initializers
/// or graph inputs (export_params=False). A static batch size is ignored, with a note
/// (Network::notes). Any other op stops the import with an InputError
/// naming the node and the op. Bit-widths start at 8 (weights and activations).
///
/// With `weights`, also takes the file's weights (export_params=True): every conv's and fc's,
/// with the batch norm, constant bias or scale that follows it, in PyTorch's layouts (see
/// WeightSet). When any weighted layer has no data, none are taken (a note says why, unless the
/// file carries no weights at all).
Network import_onnx(const std::string& bytes, const std::string& where,
                    WeightSet* weights = nullptr);
/// Reads and imports an ONNX file.
Network read_onnx(const std::string& path, WeightSet* weights = nullptr);

}  // namespace hao::ir
