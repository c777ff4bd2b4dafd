#include "cli/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>

#include "cli/builtin_example.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "data/images.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "ir/genotype.hpp"
#include "ir/model_io.hpp"
#include "search/network_domain.hpp"

namespace hao::cli {

ir::Network load_model(const std::string& model, std::ostream& err, const std::string& bits,
                       ir::WeightSet* weights, const ModelInput& input) {
  ir::Network net;
  if (model.empty())
    net = ir::parse_description(builtin_example_yaml(), "built-in example");
  else if (ir::is_genotype_model(model))
    net = ir::genotype_model(model, input.shape, input.classes);
  else if (auto member = search::space_member_network(model))
    net = std::move(*member);
  else
    net = ir::load_network(model, weights);
  if (!bits.empty()) {
    ir::apply_bits(net, bits);
    ir::infer_shapes(net, bits);
  }
  for (const auto& note : net.notes) err << "hao: note: " << note << "\n";
  return net;
}

ModelInput images_of(const data::DataSet& ds) {
  return {{ds.train.channels, ds.train.height, ds.train.width}, static_cast<int>(ds.train.classes)};
}

ModelInput model_input(const std::string& model, const std::string& data) {
  if (!ir::is_genotype_model(model)) return {};
  return images_of(data::load_dataset(data, false));
}

void write_output(const std::string& path, const std::string& text, std::ostream& out) {
  if (path == "-")
    out << text;
  else
    core::write_file(path, text);
}

}  // namespace hao::cli

namespace hao::cli {

std::string default_data_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("HAO_DATA"); env && *env) return env;
  std::vector<fs::path> candidates{"shared/data", "../shared/data"};
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      candidates.push_back(dir / "shared/data");
      candidates.push_back(dir.parent_path() / "shared/data");
    }
  for (const auto& c : candidates)
    if (fs::is_directory(c, ec)) return c.string();
  return "../shared/data";
}

std::pair<std::string, std::string> split_file_column(const std::string& text,
                                                      const std::string& flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw core::InputError(flag + " = '" + text + "', expected FILE:COLUMN");
  return {text.substr(0, colon), text.substr(colon + 1)};
}

}  // namespace hao::cli

namespace hao::cli {

std::string clock_text(double seconds) {
  const long t = std::lround(std::max(0.0, seconds));
  return std::to_string(t / 60) + ":" + (t % 60 < 10 ? "0" : "") + std::to_string(t % 60);
}

bool is_terminal(const std::ostream& stream) {
  return (&stream == &std::cerr && isatty(2)) || (&stream == &std::cout && isatty(1));
}

}  // namespace hao::cli

namespace hao::cli {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

StepProgress::StepProgress(std::ostream& err, std::string what)
    : err_(err), what_(std::move(what)), terminal_(is_terminal(err)), start_s_(now_s()) {}

void StepProgress::operator()(long step, long steps, double loss) {
  const double elapsed = now_s() - start_s_;
  const double eta =
      step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(steps - step) : 0;
  const std::string figures = std::to_string(step) + "/" + std::to_string(steps) + "  loss " +
                              core::fixed(loss, 4) + "  ETA " + clock_text(eta);
  if (terminal_) {
    constexpr long kWidth = 30;
    const long filled = kWidth * step / std::max<long>(1, steps);
    err_ << "\r\033[K" << what_ << " [" << std::string(static_cast<std::size_t>(filled), '=')
         << std::string(static_cast<std::size_t>(kWidth - filled), ' ') << "] " << figures
         << (step == steps ? "\n" : "") << std::flush;
    return;
  }
  const long tenth = 10 * step / std::max<long>(1, steps);
  if (tenth > last_tenth_) {
    last_tenth_ = tenth;
    err_ << what_ << ": " << figures << "\n";
  }
}

}  // namespace hao::cli
