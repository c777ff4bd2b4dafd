// The finn-examples designs hao reads (../shared/data/finn-examples): each one's network of
// the same topology (tests/fixtures/make_finn_onnx.py), the bits its build quantizes to
// (tests/fixtures/finn_bits), its folding file, its board's device and its build's clock.
#pragma once

#include <string>

#include "hw/device.hpp"
#include "ir/bits.hpp"
#include "ir/onnx_import.hpp"

namespace hao::test {

struct FinnDesign {
  const char* name;     ///< also the bits file's name
  const char* onnx;     ///< fixture, without .onnx
  const char* folding;  ///< under ../shared/data/finn-examples/
  const char* device;
  double clock_mhz;

  std::string folding_path() const {
    return std::string(HAO_SHARED_DATA) + "/finn-examples/" + folding;
  }
  ir::Network network() const {
    ir::Network net = ir::read_onnx(std::string(HAO_FIXTURES) + "/" + onnx + ".onnx");
    ir::apply_bits(net, std::string(HAO_FIXTURES) + "/finn_bits/" + name + ".yaml");
    ir::infer_shapes(net, name);
    return net;
  }
  hw::Device device_at_clock() const {
    hw::Device d = hw::load_device(device);
    d.clock_mhz = clock_mhz;
    return d;
  }
};

inline const FinnDesign kFinnDesigns[] = {
    {"cnv-w1a1", "finn_cnv", "bnn-pynq/folding_config/cnv-w1a1_folding_config.json", "xc7z020",
     100},
    {"cnv-w1a2", "finn_cnv", "bnn-pynq/folding_config/cnv-w1a2_folding_config.json", "xc7z020",
     100},
    {"cnv-w2a2", "finn_cnv", "bnn-pynq/folding_config/cnv-w2a2_folding_config.json", "xc7z020",
     100},
    {"tfc-w1a1", "finn_tfc", "bnn-pynq/folding_config/tfc-w1a1_folding_config.json", "xc7z020",
     100},
    {"tfc-w1a2", "finn_tfc", "bnn-pynq/folding_config/tfc-w1a2_folding_config.json", "xc7z020",
     100},
    {"tfc-w2a2", "finn_tfc", "bnn-pynq/folding_config/tfc-w2a2_folding_config.json", "xc7z020",
     100},
    {"gtsrb-w1a1", "finn_gtsrb", "gtsrb/folding_config/gtsrb_folding_config.json", "xc7z020", 100},
    {"kws-w3a3", "finn_kws", "kws/folding_config/kws_folding_config.json", "xc7z020", 100},
    {"mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/ZCU102_folding_config.json", "zu9eg", 100},
    {"mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/ZCU104_folding_config.json", "zu7ev", 100},
    {"mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/U250_folding_config.json", "u250", 1000.0 / 3.0},
    {"resnet50-w1a2", "finn_resnet50", "resnet50/folding_config/U250_folding_config.json", "u250",
     250},
    {"vgg10-w4a4", "finn_vgg10", "vgg10-radioml/folding_config/ZCU104_folding_config.json", "zu7ev",
     250},
};

}  // namespace hao::test
