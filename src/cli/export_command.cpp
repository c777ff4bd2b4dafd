#include "cli/export_command.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#if HAO_HAS_TORCH
#include "nn/export.hpp"
#endif

namespace hao::cli {

CLI::App* add_export_command(CLI::App& app, ExportArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "export",
      "A trained checkpoint at its bits as files FINN builds from: model.qonnx.onnx (QONNX: "
      "the weights with batch norm folded, QONNX Quant nodes on every quantized weight and "
      "conv/fc input, exactly hao's quantization-aware arithmetic), folding_config.json (hao's "
      "optimal folding on --device, as hao map finds it), input.npy and expected_output.npy "
      "(test images and hao's quantized logits, for FINN's verification), build.py (FINN's "
      "build_dataflow configuration) and README.md.");
  cmd->add_option("model", a.model,
                  "Network the checkpoint was trained for: ONNX, hao description, a search "
                  "space's network SPACE:LABEL or a genotype nb201:ARCH / autoshrink:CELL (built "
                  "for --data's images, as hao train built it) (default: built-in)");
  cmd->add_option("--checkpoint", a.checkpoint,
                  "Weights trained quantization-aware at the bits (hao train --qat-epochs, "
                  "hao quantize --qat-epochs, a search's finalist)")
      ->required();
  cmd->add_option("--bits", a.bits,
                  "wXaY or a per-layer bits file (default: the model's); must be the bits the "
                  "checkpoint was trained at");
  cmd->add_option("--out", a.out, "Folder to write (new or empty)")->required();
  cmd->add_flag("--force", a.force, "Write into a folder that is not empty (replacing files)");
  cmd->add_option("--samples", a.samples,
                  "Test images written to input.npy with hao's logits for them")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--data", a.data, "Data set the checkpoint was trained on, as for hao train")
      ->capture_default_str();
  add_device_options(*cmd, a.device);
  cmd->add_option("--target-fps", a.target_fps,
                  "Folding: the leanest design at this frame rate (default: the fastest that "
                  "fits)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--time-limit", a.time_limit_s, "Solver time limit, seconds")
      ->check(positive_number())
      ->capture_default_str();
  add_batchnorm_option(*cmd, a.batchnorm);
  add_json_option(*cmd, a.json, "what was written and the design");
  cmd->footer(
      "Exit codes: 0 written, 1 built without LibTorch, 2 bad input (a checkpoint of another "
      "network or trained at other bits, a folder that is not empty), 3 no folding fits the "
      "device (nothing written).");
  return cmd;
}

#if HAO_HAS_TORCH
int run_export(const ExportArgs& a, std::ostream& out, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  const ir::Network net = load_model(a.model, err, a.bits, nullptr, model_input(a.model, a.data));
  const std::string fine_tune =
      "hao train " + (a.model.empty() ? "" : a.model + " ") + "--init " + a.checkpoint +
      " --epochs 0" + (a.bits.empty() ? "" : " --bits " + a.bits) + " --qat-epochs 1 --out NEW.pt";
  const hw::Device device = a.device.load();
  nn::ExportOptions o;
  o.out_dir = a.out, o.force = a.force, o.samples = a.samples, o.checkpoint = a.checkpoint;
  o.map.target_fps = a.target_fps;
  o.map.solve.time_limit_s = a.time_limit_s;
  std::string note;
  const nn::ExportResult r =
      nn::export_checkpoint(net, nn::parse_training_norms(a.batchnorm, "--batchnorm"), a.data,
                            device, o, fine_tune, note);
  if (!note.empty()) err << "hao: note: " << note << "\n";
  if (!r.design.feasible) {
    err << "hao: no feasible configuration on " << device.name << ": " << r.design.reason
        << " (nothing written)\n";
    return kExitInfeasible;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << "exported " << net.name << " (" << a.checkpoint << ") for " << device.name << " ("
      << device.part << (r.board.empty() ? "" : ", FINN board " + r.board) << ") to " << a.out
      << ":\n";
  for (const auto& f : r.files) out << "  " << f << "\n";
  out << "design    " << core::fixed(r.design.eval.fps, 1) << " fps (II "
      << core::with_commas(r.design.eval.ii_cycles) << " cycles at "
      << core::fixed(device.clock_mhz, 0) << " MHz), DSP "
      << core::fixed(r.design.eval.total.dsp, 0) << ", LUT "
      << core::with_commas(std::llround(r.design.eval.total.lut)) << ", BRAM36 "
      << core::fixed(r.design.eval.total.bram36, 1) << "\n";
  out << "samples   " << r.samples << " test image(s), hao's quantized accuracy on them "
      << core::fixed(100 * r.sample_accuracy, 2) << "%\n";
  out << "then      cd " << a.out << " && python build.py   (in FINN's container)\n";
  out << core::fixed(seconds, 2) << " s\n";
  if (!a.json.empty()) {
    nlohmann::ordered_json j;
    j["network"] = net.name;
    j["checkpoint"] = a.checkpoint;
    j["device"] = device.name;
    j["part"] = device.part;
    j["board"] = r.board;
    j["files"] = r.files;
    j["fps"] = r.design.eval.fps;
    j["ii_cycles"] = r.design.eval.ii_cycles;
    j["resources"] = {{"dsp", r.design.eval.total.dsp},
                      {"lut", r.design.eval.total.lut},
                      {"bram36", r.design.eval.total.bram36},
                      {"uram", r.design.eval.total.uram}};
    j["samples"] = r.samples;
    j["sample_accuracy"] = r.sample_accuracy;
    j["seconds"] = seconds;
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}
#else
int run_export(const ExportArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
