// Image classification data sets read from their published files: MNIST-format IDX (plain or
// gzip; Fashion-MNIST as Debian's dataset-fashion-mnist installs it) and CIFAR-10's binary
// batches. No LibTorch here: the readers are plain C++ so that they build, test and fuzz
// without it; nn/ turns them into tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hao::data {

/// Images of one shape with a class label each. Pixels are bytes, image after image, each
/// channel-major (C x H x W).
struct ImageSet {
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t classes = 0;  ///< labels are in [0, classes); IDX: the largest label + 1
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;
  std::size_t size() const { return labels.size(); }
  std::int64_t image_bytes() const { return channels * height * width; }
};

/// A data set's training and test parts.
struct DataSet {
  std::string name;  ///< e.g. "fashion-mnist"
  ImageSet train, test;
};

/// Where Debian's dataset-fashion-mnist package installs the gzip IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Parses the bytes of an IDX images file (magic 0x00000803: count, rows, columns, then
/// bytes) and of an IDX labels file (0x00000801: count, then bytes). `where` names the files
/// in errors. Throws core::InputError for a wrong magic number, a size that does not match
/// the header, or counts that differ between the two.
ImageSet parse_idx(const std::string& image_bytes, const std::string& label_bytes,
                   const std::string& image_where, const std::string& label_where);

/// Parses CIFAR-10 binary batches (records of 1 label byte and 3 x 32 x 32 pixel bytes).
ImageSet parse_cifar10(const std::vector<std::string>& batches,
                       const std::vector<std::string>& where);

/// Reads a file whole, inflating it when it is gzip-compressed. Throws core::InputError when
/// it cannot be opened or is a damaged gzip stream.
std::string read_maybe_gzip(const std::string& path);

/// Loads a data set: "fashion-mnist" (the built-in default, from kFashionMnistDir),
/// "idx:DIR" (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
/// t10k-labels-idx1-ubyte, each optionally .gz) or "cifar10:DIR" (data_batch_1.bin ..
/// data_batch_5.bin and test_batch.bin). A missing file is an InputError that says which
/// file, and for the default which Debian package provides it. Without `with_train`, only the
/// test set is read (a seventh of Fashion-MNIST's bytes); `train` then holds no images, only the
/// test set's image shape and class count.
DataSet load_dataset(const std::string& spec, bool with_train = true);

/// A deterministic split of a training set into training and validation indices: a seeded
/// shuffle, then the first `validation` indices are held out. `subset` > 0 keeps only that
/// many training indices (after the validation split), for short runs.
struct Split {
  std::vector<std::size_t> train, validation;
};
Split split(std::size_t size, std::size_t validation, unsigned seed, std::size_t subset = 0);

}  // namespace hao::data
