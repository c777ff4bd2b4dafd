// What several commands share: the MODEL argument and output files that may be stdout.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>

#include "data/images.hpp"
#include "ir/network.hpp"
#include "ir/weights.hpp"

namespace hao::cli {

/// The images a genotype model is built for (`hao train` passes its data set's).
struct ModelInput {
  ir::Shape shape{3, 32, 32};
  int classes = 10;
};

/// Loads MODEL (ONNX, description, a genotype "nb201:ARCH" built for `input`, or a search
/// space's network "SPACE:LABEL" (search::space_member_network); empty = the
/// built-in example) and applies --bits when given (wXaY or a per-layer file); the reader's
/// notes (Network::notes) go to `err` as "hao: note: ...". With `weights`, an ONNX file's
/// weights are taken too (their notes are the caller's to print: they matter only where the
/// weights are used). Throws core::InputError for bad input.
ir::Network load_model(const std::string& model, std::ostream& err, const std::string& bits = {},
                       ir::WeightSet* weights = nullptr, const ModelInput& input = {});

/// The images of `ds` (its shape and class count), as a genotype model is built for them.
ModelInput images_of(const data::DataSet& ds);
/// The images MODEL is built for when a command reads it with the data set `data` (--data):
/// for a genotype, that data set's (its test set read for the shape), as `hao train` built it;
/// for any other model the default, which load_model does not use.
ModelInput model_input(const std::string& model, const std::string& data);

/// Writes `text` to `path`, or to `out` when `path` is "-".
void write_output(const std::string& path, const std::string& text, std::ostream& out);

}  // namespace hao::cli

namespace hao::cli {

/// The reference-data folder (shared/data): $HAO_DATA when set, else the first of
/// ./shared/data, ../shared/data and those beside the executable's parent folders that
/// exists; "../shared/data" when none does (messages then name that path).
std::string default_data_dir();

/// Splits "FILE:COLUMN" at its last colon; InputError naming `flag` when either part is empty.
std::pair<std::string, std::string> split_file_column(const std::string& text,
                                                      const std::string& flag);

}  // namespace hao::cli

namespace hao::cli {

/// Seconds as "m:ss" for progress lines (negative counts as 0).
std::string clock_text(double seconds);

/// Whether `stream` is the process's stderr and that is a terminal (for progress lines that
/// rewrite themselves; logs and tests get none).
bool is_terminal(const std::ostream& stream);

}  // namespace hao::cli

namespace hao::cli {

/// Progress of a run counted in steps, on `err`: a bar rewritten in place on a terminal, a line
/// at each tenth of the run otherwise (logs, tests).
class StepProgress {
 public:
  StepProgress(std::ostream& err, std::string what);
  void operator()(long step, long steps, double loss);

 private:
  std::ostream& err_;
  std::string what_;
  bool terminal_;
  long last_tenth_ = 0;
  double start_s_;
};

}  // namespace hao::cli
