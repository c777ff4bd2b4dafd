#include "nn/export.hpp"

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "ir/qonnx_export.hpp"
#include "search/study.hpp"

namespace hao::nn {

namespace fs = std::filesystem;

ir::DeployedModel deployed_model(IrNet& model, const Normalization& norm) {
  torch::NoGradGuard no_grad;
  model->check_trainable_bits();
  const ir::Network& net = model->network();
  ir::DeployedModel d;
  d.mean = norm.mean;
  d.stddev = norm.stddev;
  d.producer_version = "0.1.0";
  d.layers.resize(net.layers.size());
  auto values = [](const torch::Tensor& t) {
    const torch::Tensor c = t.detach().contiguous().to(torch::kFloat32);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    ir::DeployedLayer& out = d.layers[i];
    if (const auto& bn = model->norm(i); bn && !l.has_weights()) {
      // An activation's batch norm as evaluation computes it: x scale + shift per channel.
      const torch::Tensor scale = bn->weight / (bn->running_var + bn->options.eps()).sqrt();
      out.weight = values(scale);
      out.bias = values(bn->bias - bn->running_mean * scale);
      continue;
    }
    if (!l.has_weights()) continue;
    const WeightedParams p = model->params(i);
    torch::Tensor w = p.weight, b = p.bias;
    if (l.op == ir::OpKind::kConv) std::tie(w, b) = folded_conv(l, p);
    out.weight = values(w);
    if (b.defined()) out.bias = values(b);
    out.weight_quant = weight_quantizer(w, l.weight_bits);
    const torch::Tensor r = p.range;
    out.input_quant = act_quantizer(r[0].item<double>(), r[1].item<double>(), l.act_bits);
  }
  return d;
}

std::string check_export_bits(IrNet& model, const std::string& path, const std::string& fine_tune) {
  model->check_trainable_bits();  // QAT's 2..8 bits (or float): no fine-tuning reaches others
  const ir::Network& net = model->network();
  const std::string& theirs = model->trained_bits();
  if (!theirs.empty()) {
    const std::string ours = bits_record(net);
    // Layer by layer, the bits only (a layer renamed in the model is still the same layer).
    const std::vector<std::string> a = core::split(theirs, ';'), b = core::split(ours, ';');
    auto bits_of = [](const std::string& entry) { return entry.substr(entry.rfind(':') + 1); };
    std::size_t k = 0;
    while (k < a.size() && k < b.size() && bits_of(a[k]) == bits_of(b[k])) ++k;
    if (k == a.size() && k == b.size()) return "";
    const std::string trained = k < a.size() ? a[k] : "(none)", asked = k < b.size() ? b[k] : "";
    throw core::InputError(
        path + ": trained at other bits than these (layer " + trained + ", asked " +
        asked.substr(asked.rfind(':') + 1) +
        "); export at its bits (--bits), or fine-tune it at these first: " + fine_tune);
  }
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    if (!l.has_weights() || l.act_bits >= 16) continue;
    const torch::Tensor r = model->range(i);
    if (r[0].item<double>() == 0 && r[1].item<double>() == 0)
      throw core::InputError(path +
                             ": holds float weights only (no quantization-aware training, so no "
                             "activation ranges, at layer '" +
                             l.name + "'); fine-tune it at the bits first: " + fine_tune);
  }
  return path +
         ": the checkpoint does not say at which bits it was trained (written before hao "
         "kept them); exported at " +
         bits_record(net);
}

namespace {

// FINN's name for the board of `device` (finn.util.basic's part maps), or "" for a part
// without one FINN knows.
std::string finn_board(const hw::Device& device) {
  const std::vector<std::string> known = {"Ultra96", "Pynq-Z1", "Pynq-Z2",  "ZCU102",
                                          "ZCU104",  "ZCU111",  "RFSoC2x2", "U250"};
  for (std::string board : core::split(device.boards, ',', false)) {
    const std::size_t start = board.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    board = board.substr(start);
    if (board.rfind("Alveo ", 0) == 0) board = board.substr(6);
    for (const auto& k : known)
      if (board == k) return board;
  }
  return "";
}

std::string build_py(const hw::Device& device, const std::string& board) {
  const bool alveo = board.rfind("U", 0) == 0;
  std::string s =
      "# FINN build of the design hao exported (hao export). Run inside FINN's docker\n"
      "# container (v0.10), in this folder:  python build.py\n"
      "import finn.builder.build_dataflow as build\n"
      "import finn.builder.build_dataflow_config as build_cfg\n\n"
      "cfg = build_cfg.DataflowBuildConfig(\n"
      "    output_dir=\"build\",\n"
      "    synth_clk_period_ns=" +
      core::fixed(1000.0 / device.clock_mhz, 3) + ",  # " + core::fixed(device.clock_mhz, 0) +
      " MHz, the clock hao's design assumes\n"
      "    fpga_part=\"" +
      device.part + "\",\n";
  if (!board.empty()) {
    s += "    board=\"" + board + "\",\n";
    s += std::string("    shell_flow_type=build_cfg.ShellFlowType.") +
         (alveo ? "VITIS_ALVEO" : "VIVADO_ZYNQ") + ",\n";
  }
  s += "    # hao's folding: PE, SIMD, resType, ram_style and mem_mode per node, as program 1 "
       "chose them\n"
       "    folding_config_file=\"folding_config.json\",\n"
       "    auto_fifo_depths=True,\n"
       "    # every step's output is checked against hao's own quantized inference\n"
       "    verify_input_npy=\"input.npy\",\n"
       "    verify_expected_output_npy=\"expected_output.npy\",\n"
       "    verify_steps=[\n"
       "        build_cfg.VerificationStepType.QONNX_TO_FINN_PYTHON,\n"
       "        build_cfg.VerificationStepType.TIDY_UP_PYTHON,\n"
       "        build_cfg.VerificationStepType.STREAMLINED_PYTHON,\n"
       "        build_cfg.VerificationStepType.FOLDED_HLS_CPPSIM,\n"
       "    ],\n"
       "    generate_outputs=[\n"
       "        build_cfg.DataflowOutputType.ESTIMATE_REPORTS,\n"
       "        build_cfg.DataflowOutputType.STITCHED_IP,\n"
       "        build_cfg.DataflowOutputType.RTLSIM_PERFORMANCE,\n";
  if (!board.empty())
    s += "        build_cfg.DataflowOutputType.BITFILE,\n"
         "        build_cfg.DataflowOutputType.PYNQ_DRIVER,\n"
         "        build_cfg.DataflowOutputType.DEPLOYMENT_PACKAGE,\n";
  s += "    ],\n"
       ")\n\n"
       "if __name__ == \"__main__\":\n"
       "    build.build_dataflow_cfg(\"model.qonnx.onnx\", cfg)\n";
  return s;
}

std::string readme(const ir::Network& net, const hw::Device& device, const ExportResult& r,
                   const ExportOptions& o) {
  const ilp::MapResult& m = r.design;
  std::string s =
      "# " + net.name + " for " + device.name + " (" + device.part +
      "), exported by hao\n\n"
      "From the checkpoint `" +
      o.checkpoint + "` at its bits; hao's design: " + core::fixed(m.eval.fps, 1) +
      " frames/s at " + core::fixed(device.clock_mhz, 0) + " MHz (II " +
      core::with_commas(m.eval.ii_cycles) + " cycles), DSP " + core::fixed(m.eval.total.dsp, 0) +
      ", LUT " + core::with_commas(std::llround(m.eval.total.lut)) + ", BRAM36 " +
      core::fixed(m.eval.total.bram36, 1) +
      " (hao's cost model of FINN's nodes; docs/architecture.md).\n\n"
      "- `model.qonnx.onnx`: the network in QONNX (opset " +
      std::to_string(ir::kQonnxExportOpset) + ", `Quant` nodes of `" + ir::kQonnxDomain +
      "`). Its input is raw pixels (0..255, FINN's UINT8) of shape 1 x " +
      std::to_string(net.input.c) + " x " + std::to_string(net.input.h) + " x " +
      std::to_string(net.input.w) +
      "; it normalizes them as hao does; its output is the logits.\n"
      "- `folding_config.json`: PE, SIMD and memories per FINN node.\n"
      "- `input.npy`, `expected_output.npy`: " +
      std::to_string(r.samples) +
      " test image(s) and hao's quantized logits for them (FINN's verification).\n"
      "- `build.py`: FINN's `build_dataflow` configuration.\n\n"
      "Build it with FINN (v0.10, in its docker container):\n\n"
      "```sh\npython build.py\n```\n\n";
  s += r.board.empty()
           ? "hao knows no FINN board for this part: the build makes the stitched IP, the "
             "estimates and an RTL simulation of its throughput.\n"
           : "The build targets FINN's `" + r.board +
                 "` board: bitfile, PYNQ driver and deployment package in `build/`.\n";
  return s;
}

}  // namespace

ExportResult export_design(const ir::Network& net, IrNet& model, const data::DataSet& ds,
                           const hw::Device& device, const ExportOptions& o) {
  check_fits(model->network(), ds);
  if (o.samples < 1 || o.samples > ds.test.size())
    throw core::InputError("--samples " + std::to_string(o.samples) + ": expected 1.." +
                           std::to_string(ds.test.size()) + " (the test set's images)");
  const fs::path dir(o.out_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw core::InputError(o.out_dir + ": exists and is not a folder");
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec) && !o.force)
    throw core::InputError(o.out_dir +
                           ": the folder exists and is not empty (--force writes into it)");

  model->eval();
  model->set_mode(IrNetImpl::Mode::kQuantized);
  // The normalization it was trained with (its checkpoint keeps it), else the data set's.
  const Normalization norm = !model->input_mean().empty()
                                 ? Normalization{model->input_mean(), model->input_stddev()}
                                 : normalization_of(ds.train);
  const std::string onnx = ir::write_qonnx(model->network(), deployed_model(model, norm));

  ExportResult r;
  r.design = ilp::map_dataflow(net, device, o.map);
  if (!r.design.feasible) return r;
  r.board = finn_board(device);

  // The samples: raw pixels, and hao's quantized logits for them.
  std::vector<torch::Tensor> parts;
  std::int64_t correct = 0;
  constexpr std::size_t kBatch = 100;
  for (std::size_t at = 0; at < o.samples; at += kBatch) {
    std::vector<std::size_t> part;
    for (std::size_t i = at; i < std::min(o.samples, at + kBatch); ++i) part.push_back(i);
    const auto [x, y] = batch_of(ds.test, part, norm);
    torch::NoGradGuard no_grad;
    parts.push_back(model->forward(x));
    correct += parts.back().argmax(1).eq(y).sum().item<std::int64_t>();
  }
  const torch::Tensor logits = torch::cat(parts).contiguous();
  r.samples = o.samples;
  r.sample_accuracy = static_cast<double>(correct) / static_cast<double>(o.samples);
  const std::int64_t bytes = ds.test.image_bytes();
  std::vector<float> pixels(o.samples * static_cast<std::size_t>(bytes));
  for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = ds.test.pixels[k];

  fs::create_directories(dir, ec);
  if (ec) throw core::InputError(o.out_dir + ": cannot create the folder: " + ec.message());
  auto write = [&](const std::string& name, const std::string& text) {
    core::write_file((dir / name).string(), text);
    r.files.push_back((dir / name).string());
  };
  write("model.qonnx.onnx", onnx);
  write("folding_config.json", hw::folding_json(net, r.design.configs, device, o.map.cost,
                                                r.design.node_names, r.design.eval.extras));
  const auto n = static_cast<std::int64_t>(o.samples);
  core::write_npy((dir / "input.npy").string(),
                  {n, ds.test.channels, ds.test.height, ds.test.width}, pixels);
  r.files.push_back((dir / "input.npy").string());
  core::write_npy(
      (dir / "expected_output.npy").string(), {n, logits.size(1)},
      std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel()));
  r.files.push_back((dir / "expected_output.npy").string());
  write("build.py", build_py(device, r.board));
  write("README.md", readme(net, device, r, o));
  return r;
}

ExportResult export_checkpoint(const ir::Network& net, TrainingNorms norms, const std::string& data,
                               const hw::Device& device, const ExportOptions& options,
                               const std::string& fine_tune, std::string& note) {
  IrNet model(with_training_norms(net, norms));
  load_checkpoint(model, options.checkpoint);
  note = check_export_bits(model, options.checkpoint, fine_tune);
  return export_design(net, model, data::load_dataset(data, model->input_mean().empty()), device,
                       options);
}

ExportResult export_study_design(const search::NetworkDomain& domain, const std::string& genotype,
                                 const std::string& name, const std::string& checkpoint,
                                 const std::string& out_dir) {
  ExportOptions o;
  o.out_dir = out_dir;
  o.force = true;
  o.map = domain.map_options();
  o.checkpoint = checkpoint;
  std::string note;  // none: finalists' checkpoints keep their bits
  return export_checkpoint(domain.network(search::parse_code(genotype, checkpoint), name),
                           TrainingNorms::kAuto, domain.data(), domain.device(), o,
                           "hao search's finalists are fine-tuned at their bits", note);
}

}  // namespace hao::nn
