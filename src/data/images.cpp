#include "data/images.hpp"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::data {
namespace {

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<std::uint8_t>(bytes[at + k]);
  return v;
}

// Checks the header of an IDX file and returns its dimensions.
std::vector<std::uint32_t> idx_header(const std::string& bytes, std::uint32_t magic,
                                      std::size_t dims, const std::string& where) {
  const std::size_t header = 4 + 4 * dims;
  if (bytes.size() < header)
    throw core::InputError(where + ": " + std::to_string(bytes.size()) +
                           " bytes, too short for an IDX header of " + std::to_string(header));
  const std::uint32_t m = big_endian(bytes, 0);
  if (m != magic)
    throw core::InputError(where + ": magic number " + std::to_string(m) + ", expected " +
                           std::to_string(magic) + " (an IDX " + (dims == 1 ? "labels" : "images") +
                           " file of unsigned bytes)");
  std::vector<std::uint32_t> d;
  std::uint64_t payload = 1;
  for (std::size_t k = 0; k < dims; ++k) {
    d.push_back(big_endian(bytes, 4 + 4 * k));
    payload *= d.back();
    if (payload > (std::uint64_t{1} << 34))
      throw core::InputError(where + ": header dimensions too large");
  }
  if (bytes.size() != header + payload)
    throw core::InputError(where + ": the header announces " + std::to_string(payload) +
                           " bytes of data, the file has " + std::to_string(bytes.size() - header));
  return d;
}

void check_labels(const ImageSet& s, const std::string& where) {
  for (std::size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] >= s.classes)
      throw core::InputError(where + ": label " + std::to_string(i) + " is " +
                             std::to_string(s.labels[i]) + ", expected below " +
                             std::to_string(s.classes));
}

void append(ImageSet& to, const ImageSet& from) {
  to.pixels.insert(to.pixels.end(), from.pixels.begin(), from.pixels.end());
  to.labels.insert(to.labels.end(), from.labels.begin(), from.labels.end());
}

std::string find_file(const std::string& dir, const std::string& name, const std::string& hint) {
  for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
    if (std::filesystem::exists(candidate)) return candidate;
  throw core::InputError(dir + "/" + name + "[.gz]: no such file" + hint);
}

}  // namespace

ImageSet parse_idx(const std::string& image_bytes, const std::string& label_bytes,
                   const std::string& image_where, const std::string& label_where) {
  const auto d = idx_header(image_bytes, 0x00000803, 3, image_where);
  const auto l = idx_header(label_bytes, 0x00000801, 1, label_where);
  if (d[0] != l[0])
    throw core::InputError(image_where + " has " + std::to_string(d[0]) + " images but " +
                           label_where + " has " + std::to_string(l[0]) + " labels");
  if (d[1] == 0 || d[2] == 0) throw core::InputError(image_where + ": images of size 0");
  ImageSet s;
  s.channels = 1, s.height = d[1], s.width = d[2];
  s.pixels.assign(image_bytes.begin() + 16, image_bytes.end());
  s.labels.assign(label_bytes.begin() + 8, label_bytes.end());
  s.classes = s.labels.empty() ? 0 : *std::max_element(s.labels.begin(), s.labels.end()) + 1;
  return s;
}

ImageSet parse_cifar10(const std::vector<std::string>& batches,
                       const std::vector<std::string>& where) {
  constexpr std::size_t kRecord = 1 + 3 * 32 * 32;
  ImageSet s;
  s.channels = 3, s.height = 32, s.width = 32, s.classes = 10;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::string& bytes = batches[b];
    if (bytes.empty() || bytes.size() % kRecord != 0)
      throw core::InputError(where[b] + ": " + std::to_string(bytes.size()) +
                             " bytes, not a whole number of CIFAR-10 records of " +
                             std::to_string(kRecord));
    ImageSet part;
    for (std::size_t at = 0; at < bytes.size(); at += kRecord) {
      part.labels.push_back(static_cast<std::uint8_t>(bytes[at]));
      part.pixels.insert(part.pixels.end(), bytes.begin() + static_cast<long>(at) + 1,
                         bytes.begin() + static_cast<long>(at + kRecord));
    }
    part.classes = 10;
    check_labels(part, where[b]);
    append(s, part);
  }
  return s;
}

std::string read_maybe_gzip(const std::string& path) {
  if (!std::filesystem::exists(path)) throw core::InputError(path + ": cannot open file");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw core::InputError(path + ": cannot open file");
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(f.get(), buffer, sizeof buffer);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(f.get(), &code);
      throw core::InputError(path + ": damaged gzip data (" + message + ")");
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

DataSet load_dataset(const std::string& spec, bool with_train) {
  DataSet ds;
  auto load_idx = [&](const std::string& dir, const std::string& hint) {
    auto part = [&](const std::string& images, const std::string& labels) {
      const std::string ip = find_file(dir, images, hint), lp = find_file(dir, labels, hint);
      return parse_idx(read_maybe_gzip(ip), read_maybe_gzip(lp), ip, lp);
    };
    if (with_train) ds.train = part("train-images-idx3-ubyte", "train-labels-idx1-ubyte");
    ds.test = part("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  };
  if (spec == "fashion-mnist") {
    ds.name = "fashion-mnist";
    load_idx(kFashionMnistDir,
             " (Fashion-MNIST comes from Debian's dataset-fashion-mnist package: apt-get "
             "install dataset-fashion-mnist)");
  } else if (spec.rfind("idx:", 0) == 0) {
    ds.name = spec;
    load_idx(spec.substr(4), "");
  } else if (spec.rfind("cifar10:", 0) == 0) {
    ds.name = spec;
    const std::string dir = spec.substr(8);
    std::vector<std::string> train, train_where;
    for (int b = 1; b <= 5 && with_train; ++b) {
      train_where.push_back(find_file(dir, "data_batch_" + std::to_string(b) + ".bin", ""));
      train.push_back(read_maybe_gzip(train_where.back()));
    }
    if (with_train) ds.train = parse_cifar10(train, train_where);
    const std::string test = find_file(dir, "test_batch.bin", "");
    ds.test = parse_cifar10({read_maybe_gzip(test)}, {test});
  } else {
    throw core::InputError("--data '" + spec + "': expected fashion-mnist, idx:DIR or cifar10:DIR");
  }
  if (!with_train) {
    ds.train.channels = ds.test.channels, ds.train.height = ds.test.height;
    ds.train.width = ds.test.width, ds.train.classes = ds.test.classes;
    return ds;
  }
  if (ds.train.height != ds.test.height || ds.train.width != ds.test.width ||
      ds.train.channels != ds.test.channels)
    throw core::InputError(ds.name + ": training and test images differ in shape");
  return ds;
}

Split split(std::size_t size, std::size_t validation, unsigned seed, std::size_t subset) {
  if (validation >= size)
    throw core::InputError("validation split of " + std::to_string(validation) +
                           " images leaves nothing to train on (" + std::to_string(size) +
                           " in all)");
  std::vector<std::size_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  Split s;
  s.validation.assign(order.begin(), order.begin() + static_cast<long>(validation));
  s.train.assign(order.begin() + static_cast<long>(validation), order.end());
  if (subset > 0 && subset < s.train.size()) s.train.resize(subset);
  return s;
}

}  // namespace hao::data
